//! The funnel engine: funnel definitions in, per-variant funnel counts out, with no IO.
//!
//! Data flow: [`parse_funnel`] validates TOML definitions into [`Funnel`]s; [`Plan`] compiles
//! them for matching; an [`Ingester`] feeds enriched-event lines through the parser and records
//! each experiment context of a funnel's experiment into a [`State`]: context keys interned to
//! dense ids, roaring bitmaps of keys per variant, each step's keys with the time of their first
//! event of it ([`FirstTimes`]), migration-key pairs. States of different partitions
//! [`State::merge`] into the state of their union (sets unite, first times take the minimum).
//! [`State::report`] walks each key through the steps (in any order, or sequentially within a
//! window), and returns a [`RunReport`]: keys per step, time to each step, cohorts.
//!
//! A [`StateFile`] is a state with the [`Manifest`] of the inputs it counted, written to and
//! read from bytes (any `Write` and `Read`), refused when read for other funnels (each
//! [`Funnel::fingerprint`] is in the file) and merged without counting an input twice.

mod bitmap;
mod chunked;
mod definition;
mod dict;
mod ingest;
mod plan;
mod report;
mod state;
mod state_file;
mod times;
mod unify;

pub use bitmap::BitmapBuilder;
pub use definition::{DefinitionError, Funnel, MAX_STEPS, Order, Step, check_unique_names, parse_funnel};
pub use dict::KeyDict;
pub use ingest::Ingester;
pub use plan::Plan;
pub use report::{
    Cohort, CohortBy, ExperimentSummary, FunnelReport, ReportOptions, RunReport, TimeToStep, VariantCounts,
};
pub use state::{Counters, State};
pub use state_file::{
    DuplicateInput, InputStatus, Manifest, ManifestEntry, MergeError, OLDEST_STATE_FORMAT_VERSION,
    ReadMergeError, STATE_FORMAT_VERSION, STATE_MAGIC, Shards, StateFile, StateFileError,
};
pub use times::FirstTimes;
