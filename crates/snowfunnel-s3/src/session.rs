//! The one S3 session of a run, for callers that are not async: a connected [`S3Client`] with
//! the tokio runtime its requests run on. Inputs are listed and opened through it; state files
//! and reports are read, written, copied and deleted through it.

use std::fmt;

use aws_config::{BehaviorVersion, ConfigLoader};
use tokio::runtime::Runtime;

use crate::{ObjectReader, S3Client, S3Error, S3Object, S3Options, S3Url};

/// An S3 client and the runtime (2 threads) its requests and downloads run on: each method
/// blocks the calling thread until S3 has answered (after the SDK's retries).
pub struct S3Session {
    // Field order: the client goes before the runtime it was made on.
    client: S3Client,
    runtime: Runtime,
}

// By hand: the runtime has no `Debug` worth printing.
impl fmt::Debug for S3Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Session").field("client", &self.client).finish_non_exhaustive()
    }
}

impl S3Session {
    /// Starts the runtime and connects with the SDK's default configuration chain (see
    /// [`crate::connect`]).
    ///
    /// # Errors
    /// [`S3Error::NoCredentials`] when no credentials are found; [`S3Error::Runtime`] when the
    /// runtime cannot start.
    pub fn connect(options: S3Options) -> Result<S3Session, S3Error> {
        S3Session::connect_with_loader(options, aws_config::defaults(BehaviorVersion::latest()))
    }

    /// As [`S3Session::connect`], with the configuration of `loader` (see
    /// [`crate::connect_with_loader`]): for a caller or a test that sets what the environment
    /// would otherwise provide, such as a credentials provider.
    ///
    /// # Errors
    /// As [`S3Session::connect`].
    pub fn connect_with_loader(options: S3Options, loader: ConfigLoader) -> Result<S3Session, S3Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("s3-io")
            .enable_all()
            .build()
            .map_err(|err| S3Error::Runtime { cause: err.to_string() })?;
        let client = runtime.block_on(crate::connect_with_loader(options, loader))?;
        Ok(S3Session { client, runtime })
    }

    /// Every object under `url` (see [`S3Client::list`]).
    ///
    /// # Errors
    /// As [`S3Client::list`].
    pub fn list(&self, url: &S3Url) -> Result<Vec<S3Object>, S3Error> {
        self.runtime.block_on(self.client.list(url))
    }

    /// The objects under `url` after the key `start_after`, or every one (see
    /// [`S3Client::list_after`]).
    ///
    /// # Errors
    /// As [`S3Client::list_after`].
    pub fn list_after(&self, url: &S3Url, start_after: Option<&str>) -> Result<Vec<S3Object>, S3Error> {
        self.runtime.block_on(self.client.list_after(url, start_after))
    }

    /// The object at `bucket`/`key`, or `None` when there is none (see [`S3Client::head`]).
    ///
    /// # Errors
    /// As [`S3Client::head`].
    pub fn head(&self, bucket: &str, key: &str) -> Result<Option<S3Object>, S3Error> {
        self.runtime.block_on(self.client.head(bucket, key))
    }

    /// Starts downloading `object` in the background and returns a reader of its bytes,
    /// which resumes a body that fails mid-stream (see [`S3Client::open`]): for an input read
    /// line by line, or a whole object read without holding it (a state file decoded as it
    /// arrives).
    #[must_use]
    pub fn open(&self, object: &S3Object) -> ObjectReader {
        self.client.open(self.runtime.handle(), object)
    }

    /// Writes `body` to `bucket`/`key` in one PutObject (see [`S3Client::put`]).
    ///
    /// # Errors
    /// As [`S3Client::put`].
    pub fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), S3Error> {
        self.runtime.block_on(self.client.put(bucket, key, body))
    }

    /// Deletes `bucket`/`key` (see [`S3Client::delete`]).
    ///
    /// # Errors
    /// As [`S3Client::delete`].
    pub fn delete(&self, bucket: &str, key: &str) -> Result<(), S3Error> {
        self.runtime.block_on(self.client.delete(bucket, key))
    }

    /// Copies `bucket`/`from` to `bucket`/`to` (see [`S3Client::copy`]).
    ///
    /// # Errors
    /// As [`S3Client::copy`].
    pub fn copy(&self, bucket: &str, from: &str, to: &str) -> Result<(), S3Error> {
        self.runtime.block_on(self.client.copy(bucket, from, to))
    }
}
