//! End-to-end tests of the `snowfunnel` binary: real files in a temp dir, the real process.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bad_input;
mod breakdowns;
mod browser;
mod empty;
mod events;
mod explain;
mod exposure;
mod golden;
mod harness;
mod hostile;
mod limits;
mod outputs;
mod reliability;
mod reports_html;
mod s3;
mod s3_faults;
mod s3_listing;
mod sequential;
mod state;
mod validate;
