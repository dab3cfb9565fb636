//! Funnel results for the writers' tests, computed as the binary computes them.

use snowfunnel_engine::{ExperimentSummary, FunnelReport, VariantCounts, parse_funnel};
use snowfunnel_stats::{CompareOptions, FunnelResult};

/// A variant without times to its steps.
pub(crate) fn counts(variant: &str, keys_per_step: Vec<u64>) -> VariantCounts {
    let time_to_step = vec![None; keys_per_step.len()];
    VariantCounts { variant: variant.into(), exposed: None, keys_per_step, time_to_step }
}

/// The result of `report` with the default options, an equal split planned, and its own keys as
/// the experiment's.
pub(crate) fn computed(report: FunnelReport) -> FunnelResult {
    let (keys, conflicting) = (report.keys, report.conflicting_keys);
    computed_with(report, "", keys, conflicting)
}

/// The result of `report` with the default options, the funnel file line `weights` (or none),
/// and an experiment of `keys` keys of which `conflicting` were seen with several variants.
pub(crate) fn computed_with(
    report: FunnelReport,
    weights: &str,
    keys: u64,
    conflicting: u64,
) -> FunnelResult {
    let text = format!("experiment = \"e\"\n{weights}\n[[steps]]\nname = \"one\"\naction = \"a\"\n");
    let funnel = parse_funnel("f.toml", "f", &text).unwrap();
    let experiment = ExperimentSummary {
        experiment: report.experiment.clone(),
        contexts: keys,
        keys,
        conflicting_keys: conflicting,
        variants: Vec::new(),
    };
    FunnelResult::compute(report, &funnel, &experiment, CompareOptions::default()).unwrap()
}
