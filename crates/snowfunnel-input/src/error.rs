//! Errors of the input side, each naming the file or object.

use std::io;
use std::path::PathBuf;

use snowfunnel_s3::S3Error;

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
    #[error("{input}: cannot read")]
    Read {
        /// The file (or object).
        input: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A gzip file is truncated or corrupt.
    #[error("{input}: corrupt or truncated gzip data after {uncompressed_bytes} decompressed bytes")]
    Corrupt {
        /// The file or object.
        input: String,
        /// Bytes decompressed before the error.
        uncompressed_bytes: u64,
        /// The decoder's error.
        #[source]
        source: io::Error,
    },
    /// Listing or reading S3 failed (the message names the bucket or object and the cause).
    #[error(transparent)]
    S3(#[from] S3Error),
    /// An `--include`/`--exclude` glob does not parse.
    #[error("bad glob {glob:?}: {source}")]
    BadGlob {
        /// The glob as given.
        glob: String,
        /// Why it does not parse.
        #[source]
        source: globset::Error,
    },
}

impl InputError {
    /// Whether the file's content is damaged (as opposed to unreadable or missing).
    #[must_use]
    pub fn is_corrupt(&self) -> bool {
        matches!(self, InputError::Corrupt { .. })
    }
}
