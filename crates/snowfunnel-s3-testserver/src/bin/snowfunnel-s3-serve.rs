//! Serves a directory of buckets over the S3 protocol on 127.0.0.1, for benchmarks and trying
//! things by hand: `snowfunnel-s3-serve ROOT [PORT]`, where each directory of ROOT is a bucket.
//! Credentials: the test server's fixed access key and secret (printed on start).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use snowfunnel_s3_testserver::{ACCESS_KEY, SECRET_KEY, TestServer};

fn main() {
    let mut args = std::env::args_os().skip(1);
    let Some(root) = args.next() else {
        eprintln!("usage: snowfunnel-s3-serve ROOT [PORT]");
        std::process::exit(2);
    };
    let port = args.next().map_or(0, |p| p.to_string_lossy().parse().expect("PORT is a number"));
    let server = TestServer::serve(std::path::Path::new(&root), port);
    println!("endpoint {}", server.endpoint());
    println!("AWS_ACCESS_KEY_ID={ACCESS_KEY} AWS_SECRET_ACCESS_KEY={SECRET_KEY}");
    // Serve until killed.
    loop {
        std::thread::park();
    }
}
