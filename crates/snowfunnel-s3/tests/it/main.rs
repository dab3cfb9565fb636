#![allow(clippy::unwrap_used, clippy::expect_used)]
//! snowfunnel-s3 against a real S3-protocol server: s3s over s3s-fs on 127.0.0.1, started by
//! each test in this process (see `server`), with faults injected by a wrapper (`faults`).

mod env;
mod errors;
mod faults;
mod list;
mod object;
mod read;
mod server;
mod session;
