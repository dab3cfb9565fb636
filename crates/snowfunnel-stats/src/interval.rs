//! Intervals: the Wilson score interval of a proportion (unlike the normal (Wald) interval it
//! stays inside [0, 1] and keeps its coverage at 0 or all successes and for small samples), and
//! the interval of the relative lift of one proportion over another.

use statrs::function::erf::erfc_inv;

/// The two-sided normal critical value for a confidence level: `z` with `P(|Z| <= z) = confidence`
/// (1.959964 for 0.95). `None` unless `0 < confidence < 1`.
#[must_use]
pub fn normal_critical_value(confidence: f64) -> Option<f64> {
    (confidence > 0.0 && confidence < 1.0).then(|| std::f64::consts::SQRT_2 * erfc_inv(1.0 - confidence))
}

/// The Wilson score interval `(low, high)` of `successes / trials` at a confidence level
/// (0.95 for 95%).
///
/// `None` when `trials` is 0, when `successes > trials`, or unless `0 < confidence < 1`. The
/// bounds are exactly 0 when `successes` is 0 and exactly 1 when `successes == trials`, and
/// always `low <= successes / trials <= high`.
#[must_use]
#[allow(clippy::cast_precision_loss)] // counts beyond 2^53 lose only digits the interval cannot show
pub fn wilson_interval(successes: u64, trials: u64, confidence: f64) -> Option<(f64, f64)> {
    if trials == 0 || successes > trials {
        return None;
    }
    let z = normal_critical_value(confidence)?;
    let (x, n, z2) = (successes as f64, trials as f64, z * z);
    // The textbook form, (x + z²/2 ± B) / (n + z²), loses digits to cancellation in the lower
    // bound when x is small. Multiplying by the conjugate gives low = x² / (n (A + B)), which
    // has none: both bounds are then ratios of sums of positive terms.
    let a = x + z2 / 2.0;
    let b = z * (x * ((trials - successes) as f64) / n + z2 / 4.0).sqrt();
    let low = if successes == 0 { 0.0 } else { x * x / (n * (a + b)) };
    let high = if successes == trials { 1.0 } else { ((a + b) / (n + z2)).min(1.0) };
    Some((low, high))
}

/// The interval `(low, high)` of the relative lift `(x / n) / (xc / nc) - 1` of a variant over
/// its control, at a confidence level: the delta method on the log of the ratio of the two
/// proportions (Katz's log interval, as `statsmodels`' `confint_proportions_2indep` with
/// `compare="ratio", method="log"`):
/// `exp(ln(p / pc) ± z sqrt(1/x - 1/n + 1/xc - 1/nc)) - 1`.
///
/// The interval is not symmetric around the lift (a ratio is bounded below by 0, so the lift
/// by -1) and holds it. `None` when either sample is empty or has no success (the log ratio is
/// then unbounded), when a count exceeds its sample, or unless `0 < confidence < 1`.
#[must_use]
#[allow(clippy::cast_precision_loss)] // counts beyond 2^53 lose only digits the interval cannot show
pub fn lift_interval(x: u64, n: u64, control_x: u64, control_n: u64, confidence: f64) -> Option<(f64, f64)> {
    if x == 0 || control_x == 0 || x > n || control_x > control_n {
        return None;
    }
    let z = normal_critical_value(confidence)?;
    let (xf, nf, cxf, cnf) = (x as f64, n as f64, control_x as f64, control_n as f64);
    // 1/x - 1/n as (n - x) / (x n): exact counts, no cancellation when x is close to n.
    let variance = (n - x) as f64 / (xf * nf) + (control_n - control_x) as f64 / (cxf * cnf);
    let log_ratio = (xf / nf).ln() - (cxf / cnf).ln();
    let half = z * variance.sqrt();
    Some(((log_ratio - half).exp_m1(), (log_ratio + half).exp_m1()))
}
