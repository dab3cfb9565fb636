//! The test harness: an S3 server (s3s over s3s-fs, behind [`FaultyS3`]) on 127.0.0.1, in
//! this process, storing its buckets as directories of a temporary directory.

use std::io::{self, Read};
use std::sync::Arc;

use aws_config::BehaviorVersion;
use aws_sdk_s3::config::Credentials;
use hyper_util::rt::TokioIo;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use snowfunnel_s3::{S3Client, S3Error, S3Object, S3Options, S3Url};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::runtime::Runtime;

use crate::faults::{Faults, FaultyS3};

pub(crate) const ACCESS_KEY: &str = "SNOWFUNNELTESTKEY";
/// Distinctive, so that a leak in any message would be found by a plain search.
pub(crate) const SECRET_KEY: &str = "sn0wfunnel/Secret+Key/x7Qp2Lr9Vt4Wm8Zk";
pub(crate) const BUCKET: &str = "events";

pub(crate) struct TestServer {
    // Dropped first: stops the server and every download before the directory goes.
    pub(crate) runtime: Runtime,
    pub(crate) endpoint: String,
    pub(crate) faults: Arc<Faults>,
    root: TempDir,
}

impl TestServer {
    /// Starts a server with one empty bucket, [`BUCKET`].
    pub(crate) fn start() -> TestServer {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join(BUCKET)).unwrap();
        let faults = Arc::new(Faults::default());
        let store = FaultyS3 {
            inner: s3s_fs::FileSystem::new(root.path()).unwrap(),
            root: root.path().to_owned(),
            faults: Arc::clone(&faults),
        };
        let mut builder = S3ServiceBuilder::new(store);
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();

        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        runtime.spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let service = service.clone();
                tokio::spawn(async move {
                    // A connection cut by a fault ends in an error: nothing to do about it.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        });
        TestServer { runtime, endpoint, faults, root }
    }

    /// Stores an object by writing its file, as s3s-fs keeps it.
    pub(crate) fn put(&self, key: &str, content: &[u8]) {
        let path = self.root.path().join(BUCKET).join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    /// Path-style requests to this server, signed for `us-east-1`, 3 attempts.
    pub(crate) fn options(&self) -> S3Options {
        S3Options {
            endpoint_url: Some(self.endpoint.clone()),
            force_path_style: true,
            region: Some("us-east-1".to_owned()),
            concurrency: 4,
            max_attempts: 3,
        }
    }

    pub(crate) fn client(&self) -> S3Client {
        self.connect(self.options(), ACCESS_KEY, SECRET_KEY).unwrap()
    }

    /// Connects with static credentials, through the same code path as the default chain.
    pub(crate) fn connect(
        &self,
        options: S3Options,
        access_key: &str,
        secret_key: &str,
    ) -> Result<S3Client, S3Error> {
        let credentials = Credentials::new(access_key, secret_key, None, None, "tests");
        let loader = aws_config::defaults(BehaviorVersion::latest()).credentials_provider(credentials);
        self.runtime.block_on(snowfunnel_s3::connect_with_loader(options, loader))
    }

    pub(crate) fn list(&self, client: &S3Client, url: &str) -> Result<Vec<S3Object>, S3Error> {
        self.runtime.block_on(client.list(&S3Url::parse(url).unwrap()))
    }

    /// The one object under `s3://events/{key}`.
    pub(crate) fn object(&self, client: &S3Client, key: &str) -> S3Object {
        let objects = self.list(client, &format!("s3://{BUCKET}/{key}")).unwrap();
        assert_eq!(objects.len(), 1, "{objects:?}");
        objects.into_iter().next().unwrap()
    }

    /// Reads an object through an [`ObjectReader`](snowfunnel_s3::ObjectReader) on this
    /// thread; on an error, also returns the bytes read before it.
    pub(crate) fn read(&self, client: &S3Client, object: &S3Object) -> Result<Vec<u8>, (Vec<u8>, io::Error)> {
        let mut reader = client.open(self.runtime.handle(), object);
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
