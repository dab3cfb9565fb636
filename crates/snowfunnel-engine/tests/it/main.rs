//! Integration tests of the funnel engine: hand-made scenarios, merging, and a property test
//! against a plain reference implementation on generated data.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod breakdowns;
mod explain;
mod lines;
mod reference;
mod scenarios;
mod state_files;
mod warehouse;
