//! A connected S3 client with the tokio runtime its requests run on, for callers that are not
//! async: listing prefixes, opening bodies for worker threads, reading and writing whole
//! objects (state files).

use std::fmt;
use std::io::Read;

use snowfunnel_s3::{ObjectReader, S3Client, S3Object, S3Options, S3Url};
use tokio::runtime::Runtime;

use crate::InputError;

/// An S3 client and the runtime (2 threads) its requests and downloads run on.
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
    /// Starts the runtime and connects (see [`snowfunnel_s3::connect`]).
    ///
    /// # Errors
    /// [`InputError::S3`] when no credentials are found; [`InputError::Read`] when the runtime
    /// cannot start.
    pub fn connect(options: S3Options) -> Result<S3Session, InputError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("s3-io")
            .enable_all()
            .build()
            .map_err(|source| InputError::Read { input: "the S3 runtime".to_owned(), source })?;
        let client = runtime.block_on(snowfunnel_s3::connect(options))?;
        Ok(S3Session { client, runtime })
    }

    /// Every object under `url` (see [`S3Client::list`]).
    ///
    /// # Errors
    /// [`InputError::S3`].
    pub fn list(&self, url: &S3Url) -> Result<Vec<S3Object>, InputError> {
        Ok(self.runtime.block_on(self.client.list(url))?)
    }

    /// The objects under `url` after the key `start_after`, or every one (see
    /// [`S3Client::list_after`]).
    ///
    /// # Errors
    /// [`InputError::S3`].
    pub fn list_after(&self, url: &S3Url, start_after: Option<&str>) -> Result<Vec<S3Object>, InputError> {
        Ok(self.runtime.block_on(self.client.list_after(url, start_after))?)
    }

    /// The object at `bucket`/`key`, or `None` when there is none (see [`S3Client::head`]).
    ///
    /// # Errors
    /// [`InputError::S3`].
    pub fn head(&self, bucket: &str, key: &str) -> Result<Option<S3Object>, InputError> {
        Ok(self.runtime.block_on(self.client.head(bucket, key))?)
    }

    /// Starts downloading `object`; see [`S3Client::open`].
    pub(crate) fn open(&self, object: &S3Object) -> ObjectReader {
        self.client.open(self.runtime.handle(), object)
    }

    /// Reads the whole of `object`, resuming a body that fails mid-stream.
    ///
    /// # Errors
    /// [`InputError::Read`] naming the object, with the S3 error as its source.
    pub fn read_all(&self, object: &S3Object) -> Result<Vec<u8>, InputError> {
        let mut content = Vec::with_capacity(usize::try_from(object.size).unwrap_or(0));
        self.open(object)
            .read_to_end(&mut content)
            .map_err(|source| InputError::Read { input: object.to_string(), source })?;
        Ok(content)
    }

    /// The body of `object` as it downloads, resuming a body that fails mid-stream: for
    /// reading a whole object without holding it (a state file decoded as it arrives).
    pub fn reader(&self, object: &S3Object) -> impl Read + use<> {
        self.open(object)
    }

    /// Writes `body` to `bucket`/`key` in one PutObject (see [`S3Client::put`]).
    ///
    /// # Errors
    /// [`InputError::S3`].
    pub fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), InputError> {
        Ok(self.runtime.block_on(self.client.put(bucket, key, body))?)
    }

    /// Deletes `bucket`/`key` (see [`S3Client::delete`]).
    ///
    /// # Errors
    /// [`InputError::S3`].
    pub fn delete(&self, bucket: &str, key: &str) -> Result<(), InputError> {
        Ok(self.runtime.block_on(self.client.delete(bucket, key))?)
    }

    /// Copies `bucket`/`from` to `bucket`/`to` (see [`S3Client::copy`]).
    ///
    /// # Errors
    /// [`InputError::S3`].
    pub fn copy(&self, bucket: &str, from: &str, to: &str) -> Result<(), InputError> {
        Ok(self.runtime.block_on(self.client.copy(bucket, from, to))?)
    }
}
