//! Sequential testing: always-valid p-values and confidence sequences, which stay valid however
//! often the results are looked at and whenever the experiment is stopped (a fixed-horizon
//! p-value read every day and acted on the first day it is below alpha is not: see the
//! simulation test `tests/it/sequential.rs`).
//!
//! The method is the asymptotic confidence sequence of Waudby-Smith, Arbour, Sinha, Kennedy and
//! Ramdas, "Time-uniform central limit theory and asymptotic confidence sequences" (Annals of
//! Statistics, 2024; arXiv:2103.06476), with the normal-mixture boundary of its equation (9),
//! as GrowthBook's sequential testing uses it. For an estimate `theta` with estimated variance
//! `V` from `N` observations, the `1 - alpha` confidence sequence is
//!
//! ```text
//! theta ± sqrt(V) * sqrt(2 (N rho² + 1) / (N rho²) * ln(sqrt(N rho² + 1) / alpha))
//! ```
//!
//! and the always-valid p-value, the smallest `alpha` at which it excludes `theta = 0`, is
//! `min(1, sqrt(N rho² + 1) * exp(-z² N rho² / (2 (N rho² + 1))))` with `z = theta / sqrt(V)`
//! (the same as the mixture sequential probability ratio test's of Johari, Koomen, Pekelis and
//! Walsh, "Always valid inference", Operations Research 2022, with a normal mixing distribution).
//! The mixing parameter `rho` sets the sample size at which the sequence is tightest: from the
//! tuning `t` (keys) and `alpha`, `rho² = (-2 ln alpha + ln(1 - 2 ln alpha)) / t` (the paper's
//! approximate optimum for a given `t`, as GrowthBook sets it).
//!
//! Here `theta` is the log of the ratio of two conversions with the delta-method variance, as the
//! fixed-horizon [`lift_interval`](crate::lift_interval), and `N` the step-1 keys of both
//! variants: [`sequential_lift_test`].

/// The normal-mixture boundary of a confidence sequence, tuned for one sample size and one
/// significance level.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConfidenceSequence {
    /// `rho²`, the variance of the mixing distribution per observation.
    rho_squared: f64,
}

impl ConfidenceSequence {
    /// The boundary tightest at `tuning` observations (keys of both variants together) for the
    /// significance level `alpha`: `rho² = (-2 ln alpha + ln(1 - 2 ln alpha)) / tuning`.
    ///
    /// `None` unless `tuning` is finite and above 0 and `0 < alpha < 1`.
    #[must_use]
    pub fn new(tuning: f64, alpha: f64) -> Option<Self> {
        if !(tuning.is_finite() && tuning > 0.0 && alpha > 0.0 && alpha < 1.0) {
            return None;
        }
        let minus_2_ln_alpha = -2.0 * alpha.ln();
        Some(Self { rho_squared: (minus_2_ln_alpha + minus_2_ln_alpha.ln_1p()) / tuning })
    }

    /// `rho²`, the variance of the normal mixing distribution per observation.
    #[must_use]
    pub fn rho_squared(self) -> f64 {
        self.rho_squared
    }

    /// The half-width of the `1 - alpha` confidence sequence after `n` observations, in
    /// standard errors of the estimate: `sqrt(2 (n rho² + 1) / (n rho²) * ln(sqrt(n rho² + 1) /
    /// alpha))`. Always above the fixed-horizon critical value at the same `alpha` (the price
    /// of looking any number of times). `None` unless `n > 0` and `0 < alpha < 1`.
    #[must_use]
    pub fn half_width(self, n: f64, alpha: f64) -> Option<f64> {
        if !(n > 0.0 && alpha > 0.0 && alpha < 1.0) {
            return None;
        }
        let k = n * self.rho_squared;
        Some((2.0 * (k + 1.0) / k * (0.5 * k.ln_1p() - alpha.ln())).sqrt())
    }

    /// The always-valid two-sided p-value of an estimate `z` standard errors away from 0 after
    /// `n` observations: `min(1, sqrt(n rho² + 1) exp(-z² n rho² / (2 (n rho² + 1))))`, the
    /// smallest `alpha` whose [`half_width`](Self::half_width) is at most `|z|`. 1 for `n` not
    /// above 0 or a NaN `z`.
    #[must_use]
    pub fn p_value(self, z: f64, n: f64) -> f64 {
        if n.is_nan() || n <= 0.0 || z.is_nan() {
            return 1.0;
        }
        let k = n * self.rho_squared;
        (0.5 * k.ln_1p() - z * z * k / (2.0 * (k + 1.0))).exp().min(1.0)
    }
}

/// A sequential comparison of two conversions: see [`sequential_lift_test`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SequentialLift {
    /// The always-valid two-sided p-value of "the conversions are equal".
    pub p_value: f64,
    /// The confidence sequence `(low, high)` of the relative lift; `None` when either
    /// variant converted no key (as [`lift_interval`](crate::lift_interval)).
    pub lift_cs: Option<(f64, f64)>,
}

/// Compares a variant's conversion `x / n` with its control's `control_x / control_n`
/// sequentially, on the log of their ratio `ln((x / n) / (control_x / control_n))` with the
/// delta-method variance `1/x - 1/n + 1/xc - 1/nc` (as [`lift_interval`](crate::lift_interval)),
/// after `n + control_n` observations:
///
/// - `lift_cs`: the confidence sequence of the relative lift at `confidence`,
///   `exp(log ratio ± half_width * sqrt(variance)) - 1`;
/// - `p_value`: the always-valid p-value of the same sequence, the smallest `alpha` at which it
///   excludes a lift of 0.
///
/// When either variant converted no key the log ratio is unbounded: the p-value is then that
/// of the counts with half a key added to every cell of the 2x2 table (the Haldane-Anscombe
/// correction, conservative here), and there is no sequence. Two variants that converted every
/// key have p-value 1 and the sequence `(0, 0)`.
///
/// `None` when either sample is empty or a count exceeds its sample, or unless
/// `0 < confidence < 1`.
#[must_use]
#[allow(clippy::cast_precision_loss)] // counts beyond 2^53 lose only digits the tests cannot show
pub fn sequential_lift_test(
    x: u64,
    n: u64,
    control_x: u64,
    control_n: u64,
    sequence: ConfidenceSequence,
    confidence: f64,
) -> Option<SequentialLift> {
    if n == 0 || control_n == 0 || x > n || control_x > control_n || !(confidence > 0.0 && confidence < 1.0) {
        return None;
    }
    let observations = n as f64 + control_n as f64;
    let corrected = x == 0 || control_x == 0;
    let half = if corrected { 0.5 } else { 0.0 };
    let (xf, nf, cxf, cnf) =
        (x as f64 + half, n as f64 + 2.0 * half, control_x as f64 + half, control_n as f64 + 2.0 * half);
    // 1/x - 1/n as (n - x) / (x n): exact counts, no cancellation when x is close to n.
    let variance =
        ((n - x) as f64 + half) / (xf * nf) + ((control_n - control_x) as f64 + half) / (cxf * cnf);
    let log_ratio = (xf / nf).ln() - (cxf / cnf).ln();
    if variance == 0.0 {
        // Both converted every key: equal, and nothing varies.
        return Some(SequentialLift { p_value: 1.0, lift_cs: Some((0.0, 0.0)) });
    }
    let se = variance.sqrt();
    let p_value = sequence.p_value(log_ratio / se, observations);
    let lift_cs = if corrected {
        None
    } else {
        let width = sequence.half_width(observations, 1.0 - confidence)? * se;
        Some(((log_ratio - width).exp_m1(), (log_ratio + width).exp_m1()))
    };
    Some(SequentialLift { p_value, lift_cs })
}
