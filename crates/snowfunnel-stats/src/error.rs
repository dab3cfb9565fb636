//! Inputs the statistics cannot be computed from: bugs or bad configuration in the caller, never a
//! property of the data (zero counts and the like give `None` values instead).

use thiserror::Error;

/// Why a funnel comparison or a sample ratio mismatch test could not be computed.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum StatsError {
    /// Every variant of a funnel must have one count per step.
    #[error("variant {variant} has {found} steps, variant 0 has {expected}")]
    StepCountMismatch {
        /// Index of the offending variant.
        variant: usize,
        /// Steps of variant 0.
        expected: usize,
        /// Steps of the offending variant.
        found: usize,
    },
    /// A funnel step cannot hold more keys than step 1: each step's keys did step 1 too.
    #[error("variant {variant} has {keys} keys at step {step} but only {first} at step 1")]
    KeysAboveFirstStep {
        /// Index of the offending variant.
        variant: usize,
        /// Step number, from 1.
        step: usize,
        /// Keys at that step.
        keys: u64,
        /// Keys at step 1.
        first: u64,
    },
    /// The control index does not name a variant.
    #[error("control index {control} is out of range for {variants} variants")]
    ControlOutOfRange {
        /// The control index given.
        control: usize,
        /// Number of variants.
        variants: usize,
    },
    /// A significance level or confidence level must lie strictly between 0 and 1.
    #[error("{name} must be strictly between 0 and 1, got {value}")]
    LevelOutOfRange {
        /// `alpha` or `confidence`.
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// The tuning of a sequential test (keys at which its confidence sequence is tightest) must
    /// be finite and above 0.
    #[error("sequential tuning must be a positive number of keys, got {value}")]
    TuningOutOfRange {
        /// The value given.
        value: f64,
    },
    /// One weight per observed count is needed.
    #[error("{observed} observed counts but {weights} weights")]
    WeightCountMismatch {
        /// Number of observed counts.
        observed: usize,
        /// Number of weights.
        weights: usize,
    },
    /// Weights must be finite and positive (a variant with weight 0 would have no expected traffic).
    #[error("weight {index} is {weight}: weights must be finite and above 0")]
    InvalidWeight {
        /// Index of the offending weight.
        index: usize,
        /// The weight given.
        weight: f64,
    },
}
