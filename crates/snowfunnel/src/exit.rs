//! Exit codes (documented in the README) and the error type that carries them.

/// The run failed: unreadable, missing or corrupt input, or an output that cannot be written.
pub(crate) const FAILURE: u8 = 1;
/// Bad usage: invalid arguments or funnel definitions.
pub(crate) const USAGE: u8 = 2;
/// The data failed a check: too many bad rows.
pub(crate) const BAD_DATA: u8 = 3;
/// A check selected by `--fail-on` (or `--strict`) found a problem; every output was written.
pub(crate) const CHECK_FAILED: u8 = 4;

/// An error with the exit code it maps to.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure { code: FAILURE, error: error.into() }
    }
}

/// Attaches an exit code to an error.
pub(crate) trait ExitCodeExt<T> {
    fn exit_code(self, code: u8) -> Result<T, Failure>;
}

impl<T, E: Into<anyhow::Error>> ExitCodeExt<T> for Result<T, E> {
    fn exit_code(self, code: u8) -> Result<T, Failure> {
        self.map_err(|e| Failure { code, error: e.into() })
    }
}
