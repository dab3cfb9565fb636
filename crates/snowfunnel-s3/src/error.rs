//! Errors of the S3 side, each one line naming the bucket, prefix or object and the cause.
//!
//! Causes are flattened into the message (the SDK error is not kept as a `#[source]`) for two
//! reasons: an [`S3Error`] travels inside the `std::io::Error` that an
//! [`ObjectReader`](crate::ObjectReader) returns, whose message must still say why; and the
//! SDK's errors carry raw HTTP responses in their `Debug` output, which we keep out of logs.
//! Causes are built only from error codes, server messages and transport errors: never from
//! credentials, request headers or signatures.

/// Something went wrong talking to S3.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum S3Error {
    /// An argument that is not an `s3://bucket/prefix` URL.
    #[error("invalid S3 URL {url:?}: {reason}")]
    InvalidUrl {
        /// The argument as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The default credential chain found no credentials.
    #[error(
        "no AWS credentials found ({cause}); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
         choose a profile with AWS_PROFILE, or run where a role provides them"
    )]
    NoCredentials {
        /// Why the chain found none.
        cause: String,
    },
    /// The bucket does not exist.
    #[error("s3://{bucket}: no such bucket")]
    NoSuchBucket {
        /// The bucket.
        bucket: String,
    },
    /// The object does not exist (any more).
    #[error("{target}: no such object")]
    NoSuchKey {
        /// The object, as `s3://bucket/key`.
        target: String,
    },
    /// The credentials were refused or lack a permission.
    #[error("{target}: access denied ({cause})")]
    AccessDenied {
        /// The bucket, prefix or object, as an `s3://` URL.
        target: String,
        /// The server's error code and message.
        cause: String,
    },
    /// The endpoint could not be reached: refused, unresolvable, timed out.
    #[error("{target}: cannot reach {endpoint} ({cause})")]
    Unreachable {
        /// The bucket, prefix or object, as an `s3://` URL.
        target: String,
        /// The endpoint URL when one was configured, otherwise "the S3 endpoint".
        endpoint: String,
        /// The transport error.
        cause: String,
    },
    /// Listing found nothing to read.
    #[error("no objects under {url}")]
    NoObjects {
        /// The `s3://bucket/prefix` URL listed.
        url: String,
    },
    /// The object was replaced while it was being read, so its bytes cannot be resumed.
    #[error("{target}: the object changed while it was being read ({cause})")]
    ObjectChanged {
        /// The object, as `s3://bucket/key`.
        target: String,
        /// What gave it away.
        cause: String,
    },
    /// An object's body kept failing mid-stream.
    #[error(
        "{target}: reading the body failed after {attempts} attempts, at byte {offset} of {size} ({cause})"
    )]
    BodyFailed {
        /// The object, as `s3://bucket/key`.
        target: String,
        /// GetObject requests made for it.
        attempts: u32,
        /// Bytes delivered before the last failure.
        offset: u64,
        /// The object's size.
        size: u64,
        /// The last failure.
        cause: String,
    },
    /// The download stopped without finishing or failing: the async runtime shut down.
    #[error("{target}: the download stopped before the end of the object (the async runtime shut down)")]
    Interrupted {
        /// The object, as `s3://bucket/key`.
        target: String,
    },
    /// Any other error the server answered with (after the SDK's retries).
    #[error("{target}: S3 request failed ({cause})")]
    Service {
        /// The bucket, prefix or object, as an `s3://` URL.
        target: String,
        /// The server's error code and message, or the HTTP status.
        cause: String,
    },
    /// The async runtime that S3 requests run on cannot start (see
    /// [`S3Session`](crate::S3Session)).
    #[error("cannot start the S3 runtime ({cause})")]
    Runtime {
        /// Why.
        cause: String,
    },
    /// The request could not be made at all (bad configuration, invalid endpoint URL, ...).
    #[error("{target}: cannot send the S3 request ({cause})")]
    Request {
        /// The bucket, prefix or object, as an `s3://` URL.
        target: String,
        /// Why.
        cause: String,
    },
}

impl S3Error {
    /// The `std::io::ErrorKind` that best matches, for errors surfaced through `std::io::Read`.
    #[must_use]
    pub fn io_kind(&self) -> std::io::ErrorKind {
        use std::io::ErrorKind;
        match self {
            S3Error::InvalidUrl { .. } => ErrorKind::InvalidInput,
            S3Error::NoSuchBucket { .. } | S3Error::NoSuchKey { .. } | S3Error::NoObjects { .. } => {
                ErrorKind::NotFound
            }
            S3Error::NoCredentials { .. } | S3Error::AccessDenied { .. } => ErrorKind::PermissionDenied,
            S3Error::Unreachable { .. } => ErrorKind::ConnectionRefused,
            S3Error::ObjectChanged { .. } | S3Error::BodyFailed { .. } | S3Error::Interrupted { .. } => {
                ErrorKind::UnexpectedEof
            }
            S3Error::Service { .. } | S3Error::Request { .. } | S3Error::Runtime { .. } => ErrorKind::Other,
        }
    }
}

impl From<S3Error> for std::io::Error {
    fn from(err: S3Error) -> Self {
        std::io::Error::new(err.io_kind(), err)
    }
}
