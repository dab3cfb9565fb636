//! The statistics of an experiment funnel, with no IO: how sure each variant's conversion is,
//! whether a candidate variant converts differently from the control, and whether the variants
//! got the traffic split they were planned to get.
//!
//! Data flow: the engine counts keys per variant and step; [`compare_funnel`] turns those
//! counts into one [`StepStats`] per variant and step: the [`wilson_interval`] of the conversion
//! from step 1, and against the control the lift with its [`lift_interval`], the p-value of [`two_proportion_test`]
//! (the pooled z-test, or [`fisher_exact_two_sided`] for small expected counts), and the
//! [`holm_bonferroni`] adjusted p-value over the whole funnel. Under [`Inference::Sequential`]
//! the p-value and the lift's interval are instead the always-valid p-value and confidence
//! sequence of [`sequential_lift_test`], valid however often the results are looked at. The
//! power of the test ([`minimum_detectable_effect`], [`keys_needed`]) and the Bayesian summary
//! ([`chance_to_win`], [`expected_loss`]). [`sample_ratio_mismatch`] tests
//! the step-1 keys per variant against the planned weights.
//!
//! [`FunnelResult::compute`] does all of it once per funnel, from the engine's
//! [`FunnelReport`](snowfunnel_engine::FunnelReport): [`funnel_stats`] of the whole funnel and
//! of each cohort, and [`funnel_checks`] (the split against the plan, with the
//! [`SRM_ALERT`] threshold, contamination, the [`empty_matches`] with the closest names seen, and
//! [`outages`]). The report crate only formats the result.
//!
//! Undefined values (a variant without keys, a funnel without control) are `None`, never NaN;
//! inputs that are bugs or bad configuration are [`StatsError`]s.

mod bayes;
mod checks;
mod empty;
mod error;
mod fisher;
mod funnel;
mod holm;
mod interval;
mod power;
mod proportions;
mod result;
mod sequential;
mod srm;

pub use bayes::{chance_to_win, expected_loss};
pub use checks::{CONTAMINATION_ALERT, Check, FunnelChecks, SRM_ALERT, SplitShare, funnel_checks};
pub use empty::{
    EmptyMatch, FieldMiss, MAX_SUGGESTIONS, OUTAGE_MIN_EXPECTED, Outage, SUGGESTION_SIMILARITY, closest,
    empty_matches, outages,
};
pub use error::StatsError;
pub use fisher::fisher_exact_two_sided;
pub use funnel::{CompareOptions, Comparison, StepStats, compare_funnel};
pub use holm::holm_bonferroni;
pub use interval::{lift_interval, normal_critical_value, wilson_interval};
pub use power::{POWER, keys_needed, minimum_detectable_effect};
pub use proportions::{MIN_EXPECTED_CELL, Method, TestResult, pooled_z_test, two_proportion_test};
pub use result::{FunnelResult, funnel_stats};
pub use sequential::{ConfidenceSequence, SequentialLift, sequential_lift_test};
pub use snowfunnel_engine::Inference;
pub use srm::{SrmResult, VariantShare, sample_ratio_mismatch};
