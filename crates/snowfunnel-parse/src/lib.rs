//! Parser for Snowplow enriched events, one TSV line at a time, with no IO.
//!
//! The flow for one line is:
//! 1. [`EnrichedEvent::parse`] checks the line has exactly [`FIELD_COUNT`] tab-separated fields
//!    (trailing empty fields kept), parses the timestamps, and exposes the other fields as borrowed
//!    byte slices of the line. Nothing is copied.
//! 2. [`ContextParser::experiments`] finds the GitLab experiment contexts in the `contexts` field.
//!    A substring prefilter skips the JSON work for the many events without an experiment context;
//!    the others are parsed with simd-json into a reused tape.
//!
//! Errors are [`RowError`]s: one bad line is a bad row with a [`BadReason`], never a panic.

mod contexts;
mod error;
mod event;
mod event_id;
pub mod fields;
mod split;
mod timestamp;

pub use contexts::{
    ContextCounts, ContextParser, EXPERIMENT_SCHEMA_PREFIX, ExperimentContext, MigrationKeys, SchemaMatch,
    check_shape,
};
pub use error::{BadReason, BadRows, RowError, excerpt};
pub use event::{EnrichedEvent, TimeRule};
pub use event_id::event_id_bits;
pub use fields::FIELD_COUNT;
pub use timestamp::{
    MICROS_PER_DAY, TimestampError, civil_from_days, days_from_civil, format_day, format_micros,
    parse_date_or_timestamp, parse_timestamp,
};
