//! Integration tests of the generator: one test binary, a module per concern.

// Helpers outside `#[test]` functions unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod dataset;
mod determinism;
mod lines;
mod traffic;
