//! Why a run stopped.

use std::io;

use snowfunnel_input::InputError;

/// Why [`crate::execute`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// An input could not be read (or was corrupt, and corrupt inputs are not skipped).
    #[error(transparent)]
    Input(#[from] InputError),
    /// The job could not store what it made of a chunk (the events extract's spool).
    #[error("storing the output of a chunk")]
    Job(#[source] io::Error),
    /// A bad row could not be logged.
    #[error("logging bad rows")]
    BadRows(#[source] io::Error),
}
