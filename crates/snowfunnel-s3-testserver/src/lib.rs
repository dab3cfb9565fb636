//! A real S3-protocol server for snowfunnel's tests: s3s over s3s-fs, in the test's own
//! process, listening on 127.0.0.1, storing its buckets as directories of a temporary
//! directory. [`Faults`] makes it misbehave on demand, per kind of request ([`Op`]), key and
//! request count ([`When`]): error answers (500 `InternalError`, 503 `ServiceUnavailable`, 503
//! `SlowDown`), slow answers and bandwidth-limited bodies, connections reset before the answer
//! or mid-body, bodies cut short of their `Content-Length`, objects overwritten between
//! requests ([`Fault`]); and `Range` ignored, folder markers in listings, small listing pages.
//! It records the listing and GetObject requests it served. So retries and resumes are tested
//! against real HTTP over loopback, never a mocked client.
//!
//! Test support only: it panics on setup failures, which fail the test that started it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod faults;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hyper_util::rt::TokioIo;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::runtime::Runtime;

use crate::faults::{Connection, ConnectionReset, FaultyS3};
pub use crate::faults::{Cut, Fault, Faults, GetRecord, ListRecord, Op, When};

/// The access key id the server accepts.
pub const ACCESS_KEY: &str = "SNOWFUNNELTESTKEY";
/// The secret key the server accepts: distinctive, so that a leak in any message would be
/// found by a plain search.
pub const SECRET_KEY: &str = "sn0wfunnel/Secret+Key/x7Qp2Lr9Vt4Wm8Zk";
/// The bucket every server starts with.
pub const BUCKET: &str = "events";

/// A running server; dropping it stops it and removes its storage.
pub struct TestServer {
    // Dropped first: stops the server and every download before the directory goes.
    runtime: Runtime,
    endpoint: String,
    faults: Arc<Faults>,
    root: PathBuf,
    _temp: Option<TempDir>,
}

impl TestServer {
    /// Starts a server with one empty bucket, [`BUCKET`], on its own runtime (2 threads).
    #[must_use]
    pub fn start() -> TestServer {
        let temp = tempfile::tempdir().unwrap();
        std::fs::create_dir(temp.path().join(BUCKET)).unwrap();
        let mut server = TestServer::serve(temp.path(), 0);
        server._temp = Some(temp);
        server
    }

    /// Serves the buckets that are directories of `root` (left in place when the server
    /// stops) on 127.0.0.1:`port` (0: any free port).
    #[must_use]
    pub fn serve(root: &Path, port: u16) -> TestServer {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let faults = Arc::new(Faults::default());
        let store = FaultyS3 {
            inner: s3s_fs::FileSystem::new(root).unwrap(),
            root: root.to_owned(),
            faults: Arc::clone(&faults),
            etags: std::sync::Mutex::default(),
        };
        let mut builder = S3ServiceBuilder::new(store);
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();

        let listener = runtime.block_on(TcpListener::bind(("127.0.0.1", port))).unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let service = service.clone();
                tokio::spawn(async move {
                    // Each request carries its connection's reset switch, for the faults.
                    let reset = ConnectionReset::default();
                    let connection = Connection { stream, reset: reset.clone() };
                    let service = hyper::service::service_fn(move |mut request| {
                        request.extensions_mut().insert(reset.clone());
                        hyper::service::Service::call(&service, request)
                    });
                    // A connection cut by a fault ends in an error: nothing to do about it.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(connection), service)
                        .await;
                });
            }
        });
        TestServer { runtime, endpoint, faults, root: root.to_owned(), _temp: None }
    }

    /// The endpoint URL, `http://127.0.0.1:PORT` (path-style addressing only).
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The server's runtime, also handy to drive a client in the test.
    #[must_use]
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The faults to inject, and what the server recorded.
    #[must_use]
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Stores an object in [`BUCKET`] by writing its file, as s3s-fs keeps it.
    pub fn put(&self, key: &str, content: &[u8]) {
        self.put_in(BUCKET, key, content);
    }

    /// The content of the object `key` of [`BUCKET`], read from its file, or `None`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.root.join(BUCKET).join(key)).ok()
    }

    /// Stores an object in `bucket`, creating the bucket if needed.
    pub fn put_in(&self, bucket: &str, key: &str, content: &[u8]) {
        let path = self.root.join(bucket).join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}
