//! S3 (and S3-compatible stores), both ways: enriched event dumps read straight from it, state
//! files and reports written to it.
//!
//! [`S3Url::parse`] reads an `s3://bucket/prefix` argument. [`connect`] builds an
//! [`S3Client`] the AWS way ([`S3Options`]: endpoint, path-style addressing, region,
//! concurrency, retries): the default credential chain, `AWS_ENDPOINT_URL(_S3)`, and the
//! region from the options, the environment or the profile, else [`DEFAULT_REGION`]
//! (`us-east-1`). [`S3Client::list`] lists the [`S3Object`]s under a prefix, every page of
//! them, sorted by key ([`S3Client::list_after`]: only those after a key). [`S3Client::open`]
//! streams one object's body into an [`ObjectReader`], a blocking `std::io::Read` for worker
//! threads: the network side runs on a tokio runtime and hands chunks over a bounded channel,
//! so CPU work stays on the reading thread and memory stays bounded; every request asks for the
//! version listed (`If-Match` on its ETag), so an object replaced since is an error, and a body
//! that fails mid-stream is resumed from the byte it stopped at, never delivering a byte twice.
//! Requests get the SDK's standard retries (5xx, throttling, connection errors).
//! [`S3Client::head`], [`S3Client::put`], [`S3Client::copy`] and [`S3Client::delete`] look up,
//! write, copy and delete single objects (state files, reports). [`S3Session`] is the blocking
//! face of all this for callers that are not async: a client with the runtime it runs on, one
//! per run, through which inputs are read and state files and reports written. Every failure
//! is an [`S3Error`], one line naming the bucket or object and the cause, never a secret.

mod client;
mod error;
mod list;
mod object;
mod reader;
mod sdk_error;
mod session;
mod url;

pub use client::{
    DEFAULT_CONCURRENCY, DEFAULT_MAX_ATTEMPTS, DEFAULT_REGION, S3Client, S3Options, connect,
    connect_with_loader,
};
pub use error::S3Error;
pub use list::S3Object;
pub use reader::{CHANNEL_CHUNKS, ObjectReader};
pub use session::S3Session;
pub use url::S3Url;
