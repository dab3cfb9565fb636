//! Comparing two proportions: the pooled two-proportion z-test, or Fisher's exact test when the
//! normal approximation does not hold (an expected cell count below 5, the usual rule).

use crate::fisher::fisher_exact_two_sided;

/// Below this expected count in any cell of the 2x2 table, [`two_proportion_test`] uses Fisher's
/// exact test instead of the z-test.
pub const MIN_EXPECTED_CELL: u64 = 5;

/// The test that produced a p-value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// Two-sided two-proportion z-test with pooled variance ([`pooled_z_test`]).
    ZTest,
    /// Two-sided Fisher's exact test ([`fisher_exact_two_sided`]).
    FisherExact,
    /// The always-valid p-value of a confidence sequence on the log of the ratio of the
    /// conversions ([`sequential_lift_test`](crate::sequential_lift_test)), under
    /// `inference = "sequential"`.
    ConfidenceSequence,
}

impl Method {
    /// A short lowercase name for reports: `z_test`, `fisher_exact` or `confidence_sequence`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ZTest => "z_test",
            Self::FisherExact => "fisher_exact",
            Self::ConfidenceSequence => "confidence_sequence",
        }
    }
}

/// The outcome of a two-sided test of equal proportions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TestResult {
    /// Two-sided p-value, in [0, 1].
    pub p_value: f64,
    /// The test used.
    pub method: Method,
}

/// Tests `x1 / n1 == x2 / n2`, two-sided.
///
/// Uses Fisher's exact test when any expected cell count of the 2x2 table (rows: the two
/// samples; columns: successes, failures) is below [`MIN_EXPECTED_CELL`], the pooled z-test
/// otherwise. Zero successes in both samples, or all successes in both, give p = 1.
/// `None` when a sample is empty (`n1` or `n2` is 0) or `x1 > n1` or `x2 > n2`.
#[must_use]
pub fn two_proportion_test(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<TestResult> {
    if !valid(x1, n1, x2, n2) {
        return None;
    }
    let total = u128::from(n1) + u128::from(n2);
    let successes = u128::from(x1) + u128::from(x2);
    let failures = total - successes;
    // Expected count of a cell = row total * column total / total; compared exactly in integers.
    let smallest_product = u128::from(n1.min(n2)) * successes.min(failures);
    let result = if smallest_product < u128::from(MIN_EXPECTED_CELL) * total {
        TestResult { p_value: fisher_exact_two_sided(x1, n1 - x1, x2, n2 - x2), method: Method::FisherExact }
    } else {
        TestResult { p_value: pooled_z_test(x1, n1, x2, n2)?, method: Method::ZTest }
    };
    Some(result)
}

/// The two-sided p-value of the two-proportion z-test with pooled variance, as
/// `statsmodels.stats.proportion.proportions_ztest` computes it:
/// `z = (x1/n1 - x2/n2) / sqrt(p (1 - p) (1/n1 + 1/n2))` with `p = (x1 + x2) / (n1 + n2)`.
///
/// When the pooled variance is 0 (no successes at all, or only successes) the samples cannot
/// differ and the p-value is 1. `None` when `n1` or `n2` is 0, or `x1 > n1` or `x2 > n2`.
#[must_use]
#[allow(clippy::cast_precision_loss)] // u128 counts to f64: rounding only beyond 2^53
pub fn pooled_z_test(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<f64> {
    if !valid(x1, n1, x2, n2) {
        return None;
    }
    let (x1, n1, x2, n2) = (i128::from(x1), i128::from(n1), i128::from(x2), i128::from(n2));
    let total = n1 + n2;
    let successes = x1 + x2;
    if successes == 0 || successes == total {
        return Some(1.0);
    }
    // x1/n1 - x2/n2 as one exact integer over n1 n2: no cancellation when the rates are close.
    let diff = (x1 * n2 - x2 * n1) as f64 / (n1 as f64 * n2 as f64);
    let pooled = successes as f64 / total as f64;
    let pooled_failures = (total - successes) as f64 / total as f64;
    let variance = pooled * pooled_failures * (1.0 / n1 as f64 + 1.0 / n2 as f64);
    let z = diff / variance.sqrt();
    // 2 * P(Z > |z|) = erfc(|z| / sqrt 2), accurate far into the tail.
    Some(libm::erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0))
}

fn valid(x1: u64, n1: u64, x2: u64, n2: u64) -> bool {
    n1 > 0 && n2 > 0 && x1 <= n1 && x2 <= n2
}
