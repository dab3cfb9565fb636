//! The statistics of an experiment funnel, with no IO: how sure each variant's conversion is.
//!
//! [`wilson_interval`] gives the score interval of a conversion rate.

mod interval;

pub use interval::{normal_critical_value, wilson_interval};
