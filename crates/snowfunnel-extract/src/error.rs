//! Errors of the extract: an invalid specification (a usage error) apart from a record that
//! does not decode (a bug or a damaged spool).

/// An [`crate::ExtractSpec`] that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// No experiment named.
    #[error("name at least one experiment")]
    NoExperiment,
    /// `start` is not before `end`.
    #[error("start must be before end")]
    EmptyWindow,
    /// An app_id mapped to two environments.
    #[error("app_id {0:?} is mapped to both production and staging")]
    AmbiguousAppId(String),
}

/// Bytes that are not a sequence of records as [`crate::ExtractRecorder`] writes them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("damaged extract record at byte {offset}: {problem}")]
pub struct DecodeError {
    /// Offset of the record in the buffer.
    pub offset: usize,
    /// What is wrong.
    pub problem: &'static str,
}
