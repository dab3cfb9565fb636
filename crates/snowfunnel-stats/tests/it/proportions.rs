use snowfunnel_stats::{Method, pooled_z_test, two_proportion_test};

use crate::{REL, assert_close};

/// `statsmodels.stats.proportion.proportions_ztest([x1, x2], [n1, n2])[1]` (statsmodels 0.15.0).
const Z_CASES: &[(u64, u64, u64, u64, f64)] = &[
    (45, 100, 30, 100, 0.02845973691631055),
    (500, 1000, 520, 1000, 0.37099767373660797),
    (1200, 10000, 1000, 10000, 6.188458781738781e-06),
    (1_234_567, 5_000_000, 1_240_000, 5_000_000, 6.854084298163483e-05),
    (10, 20, 8, 40, 0.01682740948275684),
    (100, 100, 95, 100, 0.023540058261177887),
    (6000, 10000, 4000, 10000, 5.395865611608516e-176),
    (30, 50, 300, 1000, 8.218445287688592e-06),
    (50, 100, 50, 100, 1.0),
    (2_000_000, 4_000_000, 2_003_000, 4_000_000, 0.033894803350977276),
    (7, 1_000_000, 25, 1_000_000, 0.0014625880286027412),
];

/// Where statsmodels loses digits: it subtracts the two rates in floating point, and the
/// p-value amplifies the error by about z². The expected values are a 50-digit mpmath evaluation
/// of the same formula; statsmodels' in the comments.
const Z_EXACT: &[(u64, u64, u64, u64, f64)] = &[
    // statsmodels: 6.854084298163483e-05
    (1_234_567, 5_000_000, 1_240_000, 5_000_000, 6.854084298162781e-05),
    // statsmodels: 0.033894803350977276
    (2_000_000, 4_000_000, 2_003_000, 4_000_000, 0.03389480335098409),
    // statsmodels: 5.395865611608516e-176
    (6000, 10000, 4000, 10000, 5.395865611607901e-176),
    // statsmodels: 4.742600353157056e-65
    (12_100_000, 40_100_000, 12_000_000, 40_000_000, 4.742600353185178e-65),
];

#[test]
fn z_test_matches_statsmodels() {
    for &(x1, n1, x2, n2, p) in Z_CASES {
        // 1e-12 rather than REL for the cases of Z_EXACT, where statsmodels is the less exact.
        assert_close(pooled_z_test(x1, n1, x2, n2).unwrap(), p, 1e-12);
        // Swapping the samples changes only the sign of z.
        assert_close(pooled_z_test(x2, n2, x1, n1).unwrap(), p, 1e-12);
    }
}

#[test]
fn z_test_is_exact_where_statsmodels_is_not() {
    for &(x1, n1, x2, n2, p) in Z_EXACT {
        // z itself carries a few ulps of rounding, which the p-value multiplies by about z².
        assert_close(pooled_z_test(x1, n1, x2, n2).unwrap(), p, 1e-13);
    }
}

#[test]
fn z_test_without_variance_is_one() {
    // statsmodels gives NaN (0 / 0): both samples all failures or all successes cannot differ.
    assert_eq!(pooled_z_test(0, 10, 0, 20), Some(1.0));
    assert_eq!(pooled_z_test(10, 10, 20, 20), Some(1.0));
}

#[test]
fn picks_the_z_test_when_every_expected_cell_reaches_5() {
    // Expected cells of [[45, 55], [30, 70]]: 37.5, 62.5 per row.
    let result = two_proportion_test(45, 100, 30, 100).unwrap();
    assert_eq!(result.method, Method::ZTest);
    assert_close(result.p_value, 0.02845973691631055, REL);
    // [[5, 5], [5, 5]]: every expected cell exactly 5, so still the z-test (p = 1).
    assert_eq!(
        two_proportion_test(5, 10, 5, 10).unwrap(),
        snowfunnel_stats::TestResult { p_value: 1.0, method: Method::ZTest }
    );
}

#[test]
fn picks_fisher_when_an_expected_cell_is_below_5() {
    // [[100, 0], [95, 5]]: the failures column holds 5 of 200, so 2.5 expected per row.
    // scipy.stats.fisher_exact([[100, 0], [95, 5]]).pvalue
    let result = two_proportion_test(100, 100, 95, 100).unwrap();
    assert_eq!(result.method, Method::FisherExact);
    assert_close(result.p_value, 0.059383210468586585, REL);
    // [[8, 2], [1, 5]]: scipy.stats.fisher_exact(...).pvalue
    let result = two_proportion_test(8, 10, 1, 6).unwrap();
    assert_eq!(result.method, Method::FisherExact);
    assert_close(result.p_value, 0.034965034965034975, REL);
    // A small arm beside a large one, at the boundary: 10 * 1_000_005 / 2_000_010 is exactly 5,
    // 10 * 1_000_004 / 2_000_010 is just below.
    assert_eq!(two_proportion_test(5, 10, 1_000_000, 2_000_000).unwrap().method, Method::ZTest);
    assert_eq!(two_proportion_test(4, 10, 1_000_000, 2_000_000).unwrap().method, Method::FisherExact);
}

#[test]
fn no_conversions_or_all_conversions_give_one() {
    for (x1, n1, x2, n2) in [(0, 100, 0, 250), (100, 100, 250, 250), (0, 5_000_000, 0, 5_000_000)] {
        assert_eq!(two_proportion_test(x1, n1, x2, n2).unwrap().p_value, 1.0);
    }
}

#[test]
fn empty_or_impossible_samples_are_none() {
    assert_eq!(two_proportion_test(0, 0, 5, 10), None);
    assert_eq!(two_proportion_test(5, 10, 0, 0), None);
    assert_eq!(two_proportion_test(11, 10, 5, 10), None);
    assert_eq!(pooled_z_test(0, 0, 0, 0), None);
    assert_eq!(pooled_z_test(1, 10, 11, 10), None);
}

#[test]
fn huge_counts_stay_finite() {
    let result = two_proportion_test(u64::MAX / 2, u64::MAX, u64::MAX / 3, u64::MAX).unwrap();
    assert_eq!(result.method, Method::ZTest);
    assert_eq!(result.p_value, 0.0);
    let p = pooled_z_test(u64::MAX / 2, u64::MAX, u64::MAX / 2, u64::MAX).unwrap();
    assert_eq!(p, 1.0);
}
