//! The statistics of an experiment funnel, with no IO: how sure each variant's conversion is,
//! whether a candidate variant converts differently from the control, and whether the variants
//! got the traffic split they were planned to get.
//!
//! [`wilson_interval`] gives the score interval of a conversion rate; [`two_proportion_test`]
//! compares two rates with the pooled z-test, or [`fisher_exact_two_sided`] for small expected
//! counts; [`holm_bonferroni`] adjusts the p-values of every comparison of a funnel;
//! [`sample_ratio_mismatch`] tests the keys per variant against the planned weights. Bad
//! configuration is a [`StatsError`].

mod error;
mod fisher;
mod holm;
mod interval;
mod proportions;
mod srm;

pub use error::StatsError;
pub use fisher::fisher_exact_two_sided;
pub use holm::holm_bonferroni;
pub use interval::{normal_critical_value, wilson_interval};
pub use proportions::{MIN_EXPECTED_CELL, Method, TestResult, pooled_z_test, two_proportion_test};
pub use srm::{SrmResult, VariantShare, sample_ratio_mismatch};
