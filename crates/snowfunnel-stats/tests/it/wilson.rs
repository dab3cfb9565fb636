use snowfunnel_stats::{normal_critical_value, wilson_interval};

use crate::{REL, assert_close};

/// `statsmodels.stats.proportion.proportion_confint(count, nobs, alpha=1 - confidence,
/// method="wilson")` (statsmodels 0.15.0); each also agrees with a 60-digit mpmath evaluation of
/// the Wilson formula to about 2e-16.
const CASES: &[(u64, u64, f64, f64, f64)] = &[
    (0, 10, 0.95, 0.0, 0.2775327998628892),
    (1, 1, 0.95, 0.20654931437723745, 1.0),
    (0, 1, 0.95, 0.0, 0.7934506856227626),
    (37, 120, 0.95, 0.23272736988916298, 0.39582997723800684),
    (5000, 10000, 0.95, 0.49020206181540477, 0.5097979381845952),
    (1, 10_000_000, 0.95, 1.7652455711617434e-08, 5.664932019606462e-07),
    (9_999_999, 10_000_000, 0.95, 0.9999994335067982, 0.9999999823475444),
    (123_456, 3_000_000, 0.95, 0.04092780684434177, 0.04137736825128486),
    (3, 7, 0.99, 0.11637368051613817, 0.8102850959116124),
    (50, 200, 0.90, 0.2031997101593004, 0.30347387016808747),
    (400, 1000, 0.999, 0.35035697944727523, 0.45178533770612045),
    (2_147_483_647, 4_294_967_296, 0.95, 0.4999850464286709, 0.5000149531056678),
];

#[test]
fn matches_statsmodels() {
    for &(successes, trials, confidence, low, high) in CASES {
        let (l, h) = wilson_interval(successes, trials, confidence).unwrap();
        assert_close(l, low, REL);
        assert_close(h, high, REL);
    }
}

#[test]
fn all_successes_reach_exactly_one() {
    // statsmodels gives 0.9999999999999999 for the upper bound (mpmath: 1); the lower bound is
    // mpmath's 0.7224672001371109 (statsmodels: 0.7224672001371107).
    let (low, high) = wilson_interval(10, 10, 0.95).unwrap();
    assert_close(low, 0.7224672001371109, REL);
    assert_eq!(high, 1.0);
}

#[test]
fn critical_values_match_scipy() {
    // scipy.stats.norm.isf(0.025), .isf(0.005), .isf(0.05)
    assert_close(normal_critical_value(0.95).unwrap(), 1.9599639845400545, 1e-15);
    assert_close(normal_critical_value(0.99).unwrap(), 2.575829303548901, 1e-15);
    assert_close(normal_critical_value(0.90).unwrap(), 1.6448536269514729, 1e-15);
}

#[test]
fn undefined_cases_are_none() {
    assert_eq!(wilson_interval(0, 0, 0.95), None);
    assert_eq!(wilson_interval(5, 4, 0.95), None);
    for confidence in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
        assert_eq!(wilson_interval(1, 2, confidence), None, "confidence {confidence}");
    }
}

#[test]
fn zero_successes_start_at_exactly_zero() {
    for trials in [1, 2, 1000, u64::MAX] {
        let (low, high) = wilson_interval(0, trials, 0.95).unwrap();
        assert_eq!(low, 0.0);
        assert!(high > 0.0 && high < 1.0);
    }
}

#[test]
fn huge_counts_stay_finite() {
    let (low, high) = wilson_interval(u64::MAX / 3, u64::MAX, 0.95).unwrap();
    assert!(low.is_finite() && high.is_finite() && low <= 1.0 / 3.0 && 1.0 / 3.0 <= high);
}
