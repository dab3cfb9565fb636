//! Integration tests of the validation report: generated data with a planted outage,
//! duplicates and bad rows against a plain reference implementation, merging of any split, and
//! hand-made scenarios.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod planted;
mod reference;
mod scenarios;
