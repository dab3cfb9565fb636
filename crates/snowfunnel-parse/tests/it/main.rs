//! Conformance tests of the enriched-event parser against public Snowplow test data
//! (`shared/fixtures/snowplow` and `shared/fixtures/snowplow-more`, beside the repository), plus
//! property tests on generated lines.
//!
//! The expected values are computed here independently of the crate (own field split, own
//! timestamp and calendar code, serde_json for the JSON fields), so a shared bug cannot hide.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod conformance;
mod more_good;
mod negative;
mod properties;
