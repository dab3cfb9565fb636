//! The statistics of a funnel report, as the CSV and the table print them.

use snowfunnel_engine::VariantCounts;
use snowfunnel_stats::{CompareOptions, StatsError, StepStats, compare_funnel};

/// Per variant (in the order given) and step: the interval of its conversion and its comparison
/// with the `control` variant (see [`snowfunnel_stats::compare_funnel`]).
///
/// # Errors
/// [`StatsError`] for an `alpha` or confidence outside (0, 1); the engine's counts never give
/// the others.
pub fn funnel_stats(
    variants: &[VariantCounts],
    control: &str,
    options: CompareOptions,
) -> Result<Vec<Vec<StepStats>>, StatsError> {
    let counts: Vec<&[u64]> = variants.iter().map(|v| v.keys_per_step.as_slice()).collect();
    let control = variants.iter().position(|v| v.variant == control);
    compare_funnel(&counts, control, options)
}
