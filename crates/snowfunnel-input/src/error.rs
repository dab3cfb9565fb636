//! Errors of the input side, each naming the file.

use std::io;
use std::path::PathBuf;

/// An input that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A path given on the command line does not exist.
    #[error("{}: no such file or directory", path.display())]
    NotFound {
        /// The path as given.
        path: PathBuf,
    },
    /// A file or directory cannot be opened or read.
    #[error("{}: cannot read", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A gzip file is truncated or corrupt.
    #[error("{}: corrupt or truncated gzip data after {uncompressed_bytes} decompressed bytes", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Bytes decompressed before the error.
        uncompressed_bytes: u64,
        /// The decoder's error.
        #[source]
        source: io::Error,
    },
    /// A line longer than [`crate::MAX_LINE_BYTES`]: not an enriched-event file.
    #[error("{}:{line}: line longer than {max} bytes; is this an enriched event file?", path.display(), max = crate::MAX_LINE_BYTES)]
    LineTooLong {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
    },
}

impl InputError {
    /// Whether the file's content is damaged (as opposed to unreadable or missing).
    #[must_use]
    pub fn is_corrupt(&self) -> bool {
        matches!(self, InputError::Corrupt { .. })
    }
}
