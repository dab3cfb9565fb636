//! The test harness: the shared in-process S3 server (`snowfunnel-s3-testserver`) and the
//! client-side conveniences these tests use with it.

use std::io::{self, Read};

use aws_config::BehaviorVersion;
use aws_sdk_s3::config::Credentials;
use snowfunnel_s3::{S3Client, S3Error, S3Object, S3Options, S3Url};
pub(crate) use snowfunnel_s3_testserver::{ACCESS_KEY, BUCKET, SECRET_KEY, TestServer};

/// Client-side conveniences on the test server.
pub(crate) trait ServerExt {
    fn options(&self) -> S3Options;
    fn client(&self) -> S3Client;
    fn connect(&self, options: S3Options, access_key: &str, secret_key: &str) -> Result<S3Client, S3Error>;
    fn list(&self, client: &S3Client, url: &str) -> Result<Vec<S3Object>, S3Error>;
    fn object(&self, client: &S3Client, key: &str) -> S3Object;
    fn read(&self, client: &S3Client, object: &S3Object) -> Result<Vec<u8>, (Vec<u8>, io::Error)>;
}

impl ServerExt for TestServer {
    /// Path-style requests to this server, signed for `us-east-1`, 3 attempts.
    fn options(&self) -> S3Options {
        S3Options {
            endpoint_url: Some(self.endpoint().to_owned()),
            force_path_style: true,
            region: Some("us-east-1".to_owned()),
            concurrency: 4,
            max_attempts: 3,
        }
    }

    fn client(&self) -> S3Client {
        self.connect(self.options(), ACCESS_KEY, SECRET_KEY).unwrap()
    }

    /// Connects with static credentials, through the same code path as the default chain.
    fn connect(&self, options: S3Options, access_key: &str, secret_key: &str) -> Result<S3Client, S3Error> {
        let credentials = Credentials::new(access_key, secret_key, None, None, "tests");
        let loader = aws_config::defaults(BehaviorVersion::latest()).credentials_provider(credentials);
        self.runtime().block_on(snowfunnel_s3::connect_with_loader(options, loader))
    }

    fn list(&self, client: &S3Client, url: &str) -> Result<Vec<S3Object>, S3Error> {
        self.runtime().block_on(client.list(&S3Url::parse(url).unwrap()))
    }

    /// The one object under `s3://events/{key}`.
    fn object(&self, client: &S3Client, key: &str) -> S3Object {
        let objects = self.list(client, &format!("s3://{BUCKET}/{key}")).unwrap();
        assert_eq!(objects.len(), 1, "{objects:?}");
        objects.into_iter().next().unwrap()
    }

    /// Reads an object through an [`ObjectReader`](snowfunnel_s3::ObjectReader) on this
    /// thread; on an error, also returns the bytes read before it.
    fn read(&self, client: &S3Client, object: &S3Object) -> Result<Vec<u8>, (Vec<u8>, io::Error)> {
        let mut reader = client.open(self.runtime().handle(), object);
        let mut content = Vec::new();
        let mut buf = vec![0; 64 * 1024];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => return Ok(content),
                Ok(n) => content.extend_from_slice(&buf[..n]),
                Err(err) => return Err((content, err)),
            }
        }
    }
}

/// `len` bytes that do not repeat at any short period, so that a misplaced chunk shows.
pub(crate) fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[3]
        })
        .collect()
}

/// Fails when the test credentials (key id included) show in an error, either way it is printed.
pub(crate) fn assert_no_secrets(err: &dyn std::fmt::Debug, display: &str) {
    let debug = format!("{err:?}");
    for secret in [ACCESS_KEY, SECRET_KEY, crate::errors::WRONG_SECRET] {
        assert!(!display.contains(secret), "secret in {display}");
        assert!(!debug.contains(secret), "secret in {debug}");
    }
}
