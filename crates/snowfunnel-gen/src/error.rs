//! The crate's one error type: a configuration that [`crate::GenConfig::validate`] rejects.
//! Writing datasets reports plain `std::io::Error`s.

/// Why a [`crate::GenConfig`] is not acceptable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A share is outside `0..=1` (or not a number).
    #[error("{name} must be between 0 and 1, got {value}")]
    Share {
        /// Field name.
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// Malformed and duplicate lines together exceed all lines.
    #[error("malformed_share + duplicate_share must not exceed 1")]
    TooManyBadLines,
    /// The time range is empty or absurdly long.
    #[error("span_days must be between 1 and 36500, got {0}")]
    Span(u32),
    /// The time range starts outside the years 1 to 9000.
    #[error("start_micros {0} is outside the years 1 to 9000")]
    Start(i64),
    /// Two experiments share a name.
    #[error("experiment {0:?} is defined twice")]
    DuplicateExperiment(String),
    /// An experiment cannot be generated.
    #[error("experiment {name:?}: {reason}")]
    Experiment {
        /// Experiment name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
}
