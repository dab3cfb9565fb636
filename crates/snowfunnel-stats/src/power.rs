//! Power of the comparisons: "no significant difference" means little unless the data could have
//! found one. For the test the p-values come from (the pooled two-proportion z-test, two-sided,
//! unadjusted), the smallest lift detectable with the keys seen, and the keys needed to detect a
//! planned one.
//!
//! Both use the normal approximation of Fleiss, Levin & Paik (*Statistical Methods for Rates and
//! Proportions*, 3rd ed., 2003, ch. 4; the sample size without continuity correction), as
//! `statsmodels.stats.proportion.samplesize_proportions_2indep_onetail` does. With `p1` the
//! control's conversion over `n1` keys, `p2` the variant's over `n2`, `Δ = p2 - p1`, the test
//! statistic's standard error under no difference `σ0 = sqrt(p̄ (1 - p̄) (1/n1 + 1/n2))` with
//! `p̄ = (n1 p1 + n2 p2) / (n1 + n2)`, and under the difference `σ1 = sqrt(p1 (1 - p1) / n1 + p2
//! (1 - p2) / n2)`, the test detects `Δ` with power `1 - β` when
//! `|Δ| = z(1 - α/2) σ0 + z(1 - β) σ1` (the far tail, below 1e-5 at 80% power, left out).

use crate::interval::normal_critical_value;

/// The power the minimum detectable effects and sample sizes are computed for.
pub const POWER: f64 = 0.8;

/// `z(1 - alpha/2)` and `z(POWER)`; `None` unless `0 < alpha < 1`.
fn critical_values(alpha: f64) -> Option<(f64, f64)> {
    Some((normal_critical_value(1.0 - alpha)?, normal_critical_value(2.0 * POWER - 1.0)?))
}

/// `|Δ| - z(1 - α/2) σ0 - z(power) σ1` for conversions `p1` over `n1` keys and `p2` over `n2`:
/// at or above 0 when the test detects the difference with the power.
fn margin(p1: f64, n1: f64, p2: f64, n2: f64, (z_alpha, z_power): (f64, f64)) -> f64 {
    let pooled = (n1 * p1 + n2 * p2) / (n1 + n2);
    let null = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    let alternative = (p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2).sqrt();
    (p2 - p1).abs() - z_alpha * null - z_power * alternative
}

/// The relative minimum detectable effect: the smallest relative increase `δ` of the control's
/// conversion `p1` (over `n1` keys) that the pooled z-test at level `alpha` (two-sided) detects
/// with [`POWER`] when the variant has `n2` keys: the smallest `δ` with `p2 = p1 (1 + δ)`
/// meeting the condition of the module docs.
///
/// `None` when `n1` or `n2` is 0, `p1` is 0 (no relative change of 0) or 1, `alpha` is outside
/// (0, 1), or when not even a conversion of 1 would be detected.
#[must_use]
#[allow(clippy::cast_precision_loss)] // key counts far below 2^53
pub fn minimum_detectable_effect(p1: f64, n1: u64, n2: u64, alpha: f64) -> Option<f64> {
    if n1 == 0 || n2 == 0 || !(p1 > 0.0 && p1 < 1.0) {
        return None;
    }
    let z = critical_values(alpha)?;
    let (n1, n2) = (n1 as f64, n2 as f64);
    let detected = |delta: f64| margin(p1, n1, p1 + delta, n2, z) >= 0.0;
    // The margin may dip again for tiny conversions and tiny samples: scan a geometric grid of
    // differences up to 1 - p1 for the first one detected, then bisect below it.
    let room = 1.0 - p1;
    let grid = (0..=240).rev().map(|k| room * (-f64::from(k) / 4.0).exp2());
    let mut below = 0.0;
    let mut above = None;
    for delta in grid {
        if detected(delta) {
            above = Some(delta);
            break;
        }
        below = delta;
    }
    let mut above = above?;
    for _ in 0..200 {
        let mid = below + (above - below) / 2.0;
        if mid <= below || mid >= above {
            break;
        }
        if detected(mid) { above = mid } else { below = mid }
    }
    Some(above / p1)
}

/// Keys needed per variant (both variants the same size) for the pooled z-test at level `alpha`
/// (two-sided) to detect, with [`POWER`], a relative change `effect` (`0.05`: +5%) of the
/// control's conversion `p1`: `n = (z(1 - α/2) sqrt(2 p̄ (1 - p̄)) + z(power) sqrt(p1 (1 - p1) +
/// p2 (1 - p2)))² / Δ²` with `p2 = p1 (1 + effect)`, `p̄ = (p1 + p2) / 2`, rounded up.
///
/// `None` when the change is 0 or not finite, when `p2` is outside [0, 1], and unless
/// `0 <= p1 <= 1` and `0 < alpha < 1`.
#[must_use]
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // rounded up, at least 1
pub fn keys_needed(p1: f64, effect: f64, alpha: f64) -> Option<u64> {
    let (z_alpha, z_power) = critical_values(alpha)?;
    let p2 = p1 * (1.0 + effect);
    let delta = p2 - p1;
    if !(0.0..=1.0).contains(&p1) || !(0.0..=1.0).contains(&p2) || !delta.is_finite() || delta == 0.0 {
        return None;
    }
    let pooled = (p1 + p2) / 2.0;
    let root = z_alpha * (2.0 * pooled * (1.0 - pooled)).sqrt()
        + z_power * (p1 * (1.0 - p1) + p2 * (1.0 - p2)).sqrt();
    // Saturates at u64::MAX for differences too small to ever detect.
    Some((root * root / (delta * delta)).ceil().max(1.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undefined_cases() {
        assert_eq!(minimum_detectable_effect(0.0, 100, 100, 0.05), None);
        assert_eq!(minimum_detectable_effect(1.0, 100, 100, 0.05), None);
        assert_eq!(minimum_detectable_effect(0.5, 0, 100, 0.05), None);
        assert_eq!(minimum_detectable_effect(0.5, 100, 100, 1.0), None);
        // Three keys cannot show any increase from 0.9.
        assert_eq!(minimum_detectable_effect(0.9, 3, 3, 0.05), None);
        assert_eq!(keys_needed(0.0, 0.05, 0.05), None);
        assert_eq!(keys_needed(0.2, 0.0, 0.05), None);
        assert_eq!(keys_needed(0.6, 1.0, 0.05), None);
        assert_eq!(keys_needed(0.2, f64::NAN, 0.05), None);
    }

    #[test]
    fn more_keys_detect_less() {
        let small = minimum_detectable_effect(0.12, 1_000, 1_000, 0.05).unwrap();
        let large = minimum_detectable_effect(0.12, 100_000, 100_000, 0.05).unwrap();
        // About ten times smaller for a hundred times the keys (a little more: the variance
        // grows with the conversion the effect adds).
        assert!(small > 0.3 && small < 0.5, "{small}");
        assert!(small / large > 10.0 && small / large < 11.0, "{small} {large}");
        // Keys needed for the MDE of n keys are about n.
        let needed = keys_needed(0.12, large, 0.05).unwrap();
        assert!(needed.abs_diff(100_000) < 200, "{needed}");
    }
}
