//! Reading Snowplow enriched event dumps straight from S3 (and S3-compatible stores).
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
//! Requests get the SDK's standard retries (5xx, throttling, connection errors). [`S3Client::head`] and [`S3Client::put`] look up and write single
//! objects (state files). Every failure is an [`S3Error`], one line naming the bucket or
//! object and the cause, never a secret.

mod client;
mod error;
mod list;
mod object;
mod reader;
mod sdk_error;
mod url;

pub use client::{
    DEFAULT_CONCURRENCY, DEFAULT_MAX_ATTEMPTS, DEFAULT_REGION, S3Client, S3Options, connect,
    connect_with_loader,
};
pub use error::S3Error;
pub use list::S3Object;
pub use reader::{CHANNEL_CHUNKS, ObjectReader};
pub use url::S3Url;
