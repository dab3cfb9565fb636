use snowfunnel_stats::{CompareOptions, compare_funnel, lift_interval};

use crate::assert_close;

/// `statsmodels.stats.proportion.confint_proportions_2indep(x, n, xc, nc, method="log",
/// compare="ratio", alpha=1 - confidence)` minus 1 (statsmodels 0.15.0):
/// (x, n, xc, nc, confidence, low, high).
const CASES: &[(u64, u64, u64, u64, f64, f64, f64)] = &[
    (145, 1000, 120, 1000, 0.95, -0.03554825902023717, 0.5138854360521923),
    (300, 1000, 120, 1000, 0.95, 1.061819045916958, 2.031303844232568),
    (3, 10, 1, 10, 0.9, -0.47924110369186634, 16.28246999485667),
    (50, 50, 40, 50, 0.95, 0.08823070270067479, 0.4358168687230801),
    (120, 1000, 145, 1000, 0.99, -0.38462108165483766, 0.11297106453891614),
    (12345, 1_000_000, 12000, 1_000_000, 0.95, 0.0033779020946076432, 0.05476367407602267),
];

#[test]
fn matches_statsmodels() {
    // statsmodels subtracts 1 from the ratio, which costs digits near a lift of 0; this side
    // uses expm1.
    for &(x, n, xc, nc, confidence, low, high) in CASES {
        let (l, h) = lift_interval(x, n, xc, nc, confidence).unwrap();
        assert_close(l, low, 1e-9);
        assert_close(h, high, 1e-9);
    }
}

#[test]
fn undefined_without_successes_degenerate_without_variance() {
    assert_eq!(lift_interval(0, 10, 5, 10, 0.95), None);
    assert_eq!(lift_interval(5, 10, 0, 10, 0.95), None);
    assert_eq!(lift_interval(11, 10, 5, 10, 0.95), None);
    assert_eq!(lift_interval(5, 10, 5, 10, 1.0), None);
    assert_eq!(lift_interval(7, 7, 7, 7, 0.95), Some((0.0, 0.0)));
}

#[test]
fn the_funnel_carries_it_at_its_confidence_around_the_lift() {
    let rows = compare_funnel(&[[1000, 120], [1000, 145]], Some(0), CompareOptions::default()).unwrap();
    let c = rows[1][1].comparison.unwrap();
    let (low, high) = c.lift_ci.unwrap();
    assert_close(low, CASES[0].5, 1e-9);
    assert!(low < c.lift.unwrap() && c.lift.unwrap() < high);
    let narrower = CompareOptions { confidence: 0.9, ..CompareOptions::default() };
    let rows = compare_funnel(&[[1000, 120], [1000, 145]], Some(0), narrower).unwrap();
    let (l90, h90) = rows[1][1].comparison.unwrap().lift_ci.unwrap();
    assert!(low < l90 && h90 < high);
    // No control conversion: no lift, no interval.
    let rows = compare_funnel(&[[1000, 0], [1000, 145]], Some(0), CompareOptions::default()).unwrap();
    assert_eq!(rows[1][1].comparison.unwrap().lift_ci, None);
}
