//! Sample ratio mismatch: when the variants' key counts stray from the planned split, the
//! assignment or the tracking is broken and the funnel comparison cannot be trusted. A
//! chi-square goodness-of-fit test of the counts against the planned weights detects it.

use statrs::function::gamma::checked_gamma_ur;

use crate::error::StatsError;

/// The chi-square goodness-of-fit test of variant counts against planned weights.
#[derive(Clone, Debug, PartialEq)]
pub struct SrmResult {
    /// Pearson's chi-square statistic, `sum((observed - expected)² / expected)`.
    pub statistic: f64,
    /// Degrees of freedom: variants minus one.
    pub degrees_of_freedom: usize,
    /// P-value: the chance of a statistic at least this large if the split were as planned.
    pub p_value: f64,
    /// One per variant, in the order of the counts.
    pub shares: Vec<VariantShare>,
}

/// One variant's part of the split.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VariantShare {
    /// Planned share of the keys: its weight over the sum of the weights.
    pub expected_share: f64,
    /// Observed share of the keys.
    pub observed_share: f64,
    /// Planned number of keys: the expected share of the observed total.
    pub expected: f64,
}

/// Tests whether `observed` counts (keys per variant) fit the planned `weights`, as
/// `scipy.stats.chisquare(observed, f_exp=total * weights / sum(weights))` does.
///
/// `weights` are relative (50/50, 0.9/0.1 and 9/1 are the same split); `None` means an equal
/// split. `Ok(None)` when the test does not apply: fewer than two variants, or no keys at all.
///
/// # Errors
///
/// [`StatsError::WeightCountMismatch`] when there is not one weight per count, and
/// [`StatsError::InvalidWeight`] for a weight that is not finite and above 0.
#[allow(clippy::cast_precision_loss)] // counts beyond 2^53 keys are not a concern
pub fn sample_ratio_mismatch(
    observed: &[u64],
    weights: Option<&[f64]>,
) -> Result<Option<SrmResult>, StatsError> {
    let equal = vec![1.0; observed.len()];
    let weights = weights.unwrap_or(&equal);
    if weights.len() != observed.len() {
        return Err(StatsError::WeightCountMismatch { observed: observed.len(), weights: weights.len() });
    }
    if let Some((index, &weight)) = weights.iter().enumerate().find(|(_, w)| !(w.is_finite() && **w > 0.0)) {
        return Err(StatsError::InvalidWeight { index, weight });
    }
    let weight_sum: f64 = weights.iter().sum();
    let expected_shares: Vec<f64> = weights.iter().map(|&w| w / weight_sum).collect();
    // Weights so far apart (or so large) that a share underflows or the sum overflows.
    if let Some(index) = expected_shares.iter().position(|share| !share.is_normal()) {
        return Err(StatsError::InvalidWeight { index, weight: weights[index] });
    }
    let total = observed.iter().map(|&o| u128::from(o)).sum::<u128>() as f64;
    if observed.len() < 2 || total == 0.0 {
        return Ok(None);
    }

    let shares: Vec<VariantShare> = observed
        .iter()
        .zip(&expected_shares)
        .map(|(&o, &expected_share)| VariantShare {
            expected_share,
            observed_share: o as f64 / total,
            expected: total * expected_share,
        })
        .collect();
    let statistic: f64 = observed
        .iter()
        .zip(&shares)
        .map(|(&o, share)| (o as f64 - share.expected).powi(2) / share.expected)
        .sum();
    let degrees_of_freedom = observed.len() - 1;
    Ok(Some(SrmResult {
        statistic,
        degrees_of_freedom,
        p_value: chi_square_survival(statistic, degrees_of_freedom as f64),
        shares,
    }))
}

/// `P(X >= statistic)` for X chi-square with `degrees_of_freedom`: the regularized upper
/// incomplete gamma function `Q(df / 2, statistic / 2)`.
fn chi_square_survival(statistic: f64, degrees_of_freedom: f64) -> f64 {
    if statistic <= 0.0 {
        return 1.0;
    }
    // Fails only for an infinite statistic, whose p-value is 0.
    checked_gamma_ur(degrees_of_freedom / 2.0, statistic / 2.0).unwrap_or(0.0)
}
