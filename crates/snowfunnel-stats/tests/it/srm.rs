use snowfunnel_stats::{StatsError, sample_ratio_mismatch};

use crate::{REL, assert_close};

/// `scipy.stats.chisquare(observed, f_exp=sum(observed) * w / sum(w))` (scipy 1.17.1;
/// `f_exp=None` for an equal split): (observed, weights, statistic, p-value).
#[allow(clippy::type_complexity)]
const CASES: &[(&[u64], Option<&[f64]>, f64, f64)] = &[
    (&[5000, 5000], None, 0.0, 1.0),
    (&[5100, 4900], None, 4.0, 0.04550026389635857),
    (&[50_123, 49_877], None, 0.60516, 0.43661599744396395),
    (&[1_000_000, 1_010_000], None, 49.75124378109453, 1.745275146853843e-12),
    (&[333, 333, 334], None, 0.002, 0.999000499833375),
    (&[9000, 1100], Some(&[90.0, 10.0]), 8.910891089108912, 0.002834749080259389),
    (&[250, 260, 490], Some(&[1.0, 1.0, 2.0]), 0.6000000000000001, 0.7408182206817179),
    (&[100, 130], Some(&[0.5, 0.5]), 3.9130434782608696, 0.04791275500844781),
    (&[0, 10], None, 10.0, 0.001565402258002549),
    (&[1, 2, 3, 4, 5], None, 3.333333333333333, 0.5036682742334986),
    (&[49_700, 50_300], Some(&[50.0, 50.0]), 3.6, 0.05777957112359715),
    // The p-value underflows in scipy too.
    (&[7_000_000, 3_100_000], Some(&[70.0, 30.0]), 2310.2310231023102, 0.0),
];

#[test]
fn matches_scipy() {
    for &(observed, weights, statistic, p_value) in CASES {
        let result = sample_ratio_mismatch(observed, weights).unwrap().unwrap();
        assert_close(result.statistic, statistic, REL);
        assert_close(result.p_value, p_value, REL);
        assert_eq!(result.degrees_of_freedom, observed.len() - 1);
    }
}

#[test]
fn shares_follow_the_weights() {
    // Weights that do not sum to 100 (or to 1) are relative.
    let result = sample_ratio_mismatch(&[9000, 1100], Some(&[9.0, 1.0])).unwrap().unwrap();
    assert_close(result.statistic, 8.910891089108912, REL);
    let shares: Vec<_> =
        result.shares.iter().map(|s| (s.expected_share, s.observed_share, s.expected)).collect();
    assert_close(shares[0].0, 0.9, REL);
    assert_close(shares[1].0, 0.1, REL);
    assert_close(shares[0].1, 9000.0 / 10100.0, REL);
    assert_close(shares[1].1, 1100.0 / 10100.0, REL);
    assert_close(shares[0].2, 9090.0, REL);
    assert_close(shares[1].2, 1010.0, REL);
}

#[test]
fn not_applicable_is_none() {
    assert_eq!(sample_ratio_mismatch(&[1234], None), Ok(None));
    assert_eq!(sample_ratio_mismatch(&[], None), Ok(None));
    assert_eq!(sample_ratio_mismatch(&[0, 0], Some(&[50.0, 50.0])), Ok(None));
}

#[test]
fn bad_weights_are_errors() {
    assert_eq!(
        sample_ratio_mismatch(&[1, 2], Some(&[1.0])),
        Err(StatsError::WeightCountMismatch { observed: 2, weights: 1 })
    );
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let error = sample_ratio_mismatch(&[1, 2], Some(&[1.0, bad])).unwrap_err();
        assert!(matches!(error, StatsError::InvalidWeight { index: 1, .. }), "{bad}: {error}");
    }
    // A single variant with a bad weight is still a configuration error.
    assert!(sample_ratio_mismatch(&[5], Some(&[0.0])).is_err());
}

#[test]
fn huge_counts_stay_finite() {
    let result = sample_ratio_mismatch(&[u64::MAX, u64::MAX], None).unwrap().unwrap();
    assert_eq!(result.statistic, 0.0);
    assert_eq!(result.p_value, 1.0);
    let result = sample_ratio_mismatch(&[u64::MAX, 1], None).unwrap().unwrap();
    assert!(result.statistic.is_finite());
    assert_eq!(result.p_value, 0.0);
}
