//! The extract against a plain reference implementation on generated data.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod reference;
