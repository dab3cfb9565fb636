//! Holm-Bonferroni adjustment: a funnel compares every candidate variant at every step, and
//! each extra comparison is another chance of a false positive. Holm controls the family-wise
//! error rate like Bonferroni but rejects at least as often.

/// Holm-Bonferroni adjusted p-values, in the order of `p_values`.
///
/// With the `m` p-values sorted ascending, the i-th smallest (from 0) is multiplied by `m - i`,
/// a running maximum keeps the adjusted values in the order of the raw ones, and results are
/// capped at 1, as `statsmodels.stats.multitest.multipletests(method="holm")` does. Tied
/// p-values get the same adjusted value. A NaN is left out of the family (it does not count
/// in `m`) and comes back as NaN. An empty slice gives an empty vector.
#[must_use]
pub fn holm_bonferroni(p_values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..p_values.len()).filter(|&i| !p_values[i].is_nan()).collect();
    order.sort_by(|&i, &j| p_values[i].total_cmp(&p_values[j]));
    let family = order.len();
    let mut adjusted = vec![f64::NAN; p_values.len()];
    let mut running_max = 0.0_f64;
    for (rank, &index) in order.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)] // a family never nears 2^53 tests
        let scaled = ((family - rank) as f64 * p_values[index]).min(1.0);
        running_max = running_max.max(scaled);
        adjusted[index] = running_max;
    }
    adjusted
}
