//! Building the S3 client the AWS way: default credential chain and region, standard
//! endpoint variables, the SDK's retries.

use std::fmt;
use std::sync::Arc;

use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, ConfigLoader};
use aws_sdk_s3::config::{ProvideCredentials, Region};
use tokio::sync::Semaphore;

use crate::S3Error;
use crate::sdk_error::{Target, chain};

/// The region used when neither the options, `AWS_REGION`/`AWS_DEFAULT_REGION`, the profile
/// nor the instance metadata name one. S3-compatible stores mostly ignore it.
pub const DEFAULT_REGION: &str = "us-east-1";

/// How the client is set up. [`Default`] gives the SDK's usual behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Options {
    /// An endpoint URL (`--endpoint-url`) for S3-compatible stores such as MinIO, Ceph or R2.
    /// It overrides `AWS_ENDPOINT_URL_S3` and `AWS_ENDPOINT_URL`, which apply when this is
    /// `None`.
    pub endpoint_url: Option<String>,
    /// Address buckets as `endpoint/bucket/key` rather than `bucket.endpoint/key`: most
    /// S3-compatible stores need it.
    pub force_path_style: bool,
    /// The region; `None` resolves it the SDK's way (environment, profile, instance
    /// metadata), then falls back to [`DEFAULT_REGION`].
    pub region: Option<String>,
    /// How many object bodies download at once (at least 1).
    pub concurrency: usize,
    /// Attempts per request, for the SDK's standard retries (throttling, 5xx, connection
    /// errors, with backoff), and the most GetObject requests made for one object body
    /// that fails mid-stream (at least 1).
    pub max_attempts: u32,
}

/// [`S3Options::concurrency`] by default.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// [`S3Options::max_attempts`] by default: the SDK's standard.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

impl Default for S3Options {
    fn default() -> Self {
        S3Options {
            endpoint_url: None,
            force_path_style: false,
            region: None,
            concurrency: DEFAULT_CONCURRENCY,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }
}

/// A connected S3 client: cheap to clone, shared by every listing and download of a run.
#[derive(Clone)]
pub struct S3Client {
    pub(crate) sdk: aws_sdk_s3::Client,
    /// One permit per body being downloaded.
    pub(crate) downloads: Arc<Semaphore>,
    pub(crate) max_attempts: u32,
    /// The configured endpoint URL, if any, for error messages.
    pub(crate) endpoint: Option<String>,
    region: String,
}

/// Builds a client with the SDK's default configuration chain (see [`connect_with_loader`]).
///
/// # Errors
///
/// [`S3Error::NoCredentials`] when the default credential chain finds no credentials.
pub async fn connect(options: S3Options) -> Result<S3Client, S3Error> {
    connect_with_loader(options, aws_config::defaults(BehaviorVersion::latest())).await
}

/// Builds a client from `loader` (usually `aws_config::defaults(BehaviorVersion::latest())`,
/// which [`connect`] uses), so that a caller or a test can set what the environment would
/// otherwise provide, such as a credentials provider.
///
/// Credentials come from the loader's chain (by default: environment variables, profile
/// files, SSO, web identity, ECS and EC2 instance roles). They are resolved once here, so that
/// missing credentials show up as [`S3Error::NoCredentials`] before any work starts. The
/// region is `options.region`, else the SDK's region chain, else [`DEFAULT_REGION`].
/// `AWS_ENDPOINT_URL_S3` and `AWS_ENDPOINT_URL` (and `endpoint_url` in the profile) are
/// read by the SDK itself; `options.endpoint_url` overrides them.
///
/// Bodies that stall are cut by the SDK's stalled-stream protection (on by default) and then
/// resumed like any other failed body.
///
/// # Errors
///
/// [`S3Error::NoCredentials`] when the chain finds no credentials.
pub async fn connect_with_loader(options: S3Options, loader: ConfigLoader) -> Result<S3Client, S3Error> {
    let max_attempts = options.max_attempts.max(1);
    let region = RegionProviderChain::first_try(options.region.clone().map(Region::new))
        .or_default_provider()
        .or_else(Region::from_static(DEFAULT_REGION));
    let sdk_config = loader
        .region(region)
        .retry_config(RetryConfig::standard().with_max_attempts(max_attempts))
        .load()
        .await;

    let Some(credentials) = sdk_config.credentials_provider() else {
        return Err(S3Error::NoCredentials { cause: "no credentials provider configured".to_owned() });
    };
    if let Err(err) = credentials.provide_credentials().await {
        return Err(S3Error::NoCredentials { cause: chain(&err) });
    }

    let mut s3_config =
        aws_sdk_s3::config::Builder::from(&sdk_config).force_path_style(options.force_path_style);
    if let Some(endpoint_url) = &options.endpoint_url {
        s3_config = s3_config.endpoint_url(endpoint_url);
    }
    let endpoint = options.endpoint_url.or_else(|| sdk_config.endpoint_url().map(str::to_owned));
    Ok(S3Client {
        sdk: aws_sdk_s3::Client::from_conf(s3_config.build()),
        downloads: Arc::new(Semaphore::new(options.concurrency.max(1))),
        max_attempts,
        endpoint,
        region: sdk_config.region().map_or_else(|| DEFAULT_REGION.to_owned(), ToString::to_string),
    })
}

impl S3Client {
    /// The region requests are signed for.
    #[must_use]
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The endpoint URL when one was configured (options, `AWS_ENDPOINT_URL` or the
    /// profile); `None` means AWS's own endpoints or `AWS_ENDPOINT_URL_S3`.
    #[must_use]
    pub fn endpoint_url(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    pub(crate) fn target<'a>(&'a self, url: String, bucket: &'a str) -> Target<'a> {
        Target { url, bucket, endpoint: self.endpoint.as_deref(), max_attempts: self.max_attempts }
    }
}

// By hand: the SDK client's own `Debug` prints its whole configuration.
impl fmt::Debug for S3Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Client")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}
