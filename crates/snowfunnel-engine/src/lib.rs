//! The funnel engine: funnel definitions in, per-variant funnel counts out, with no IO.
//!
//! Data flow: [`parse_funnel`] validates TOML definitions into [`Funnel`]s; [`Plan`] compiles
//! them for matching; [`Funnels`] is the job the executor runs: an ingester (the per-line core of
//! `snowfunnel-ingest`) feeds enriched-event lines through the parser and a [`FunnelRecorder`]
//! records each experiment context of a funnel's experiment into a [`State`]: context keys
//! interned to dense ids (`snowfunnel-keys`), roaring bitmaps of keys per variant, each step's keys with the time of their first
//! event of it ([`FirstTimes`]), migration-key pairs. States of different partitions
//! [`State::merge`] into the state of their union (sets unite, first times take the minimum).
//! [`State::report`] walks each key through the steps (in any order, or sequentially within a
//! window), and returns a [`RunReport`]: keys per step, time to each step, cohorts.
//!
//! A [`StateFile`] is a state with the [`Manifest`] of the inputs it counted, written to and
//! read from bytes (any `Write` and `Read`), refused when read for other funnels (each
//! [`Funnel::fingerprint`] is in the file) and merged without counting an input twice.

mod breakdown;
mod dedup;
mod definition;
mod explain;
mod job;
mod plan;
mod report;
mod rules;
mod seen;
mod state;
mod state_file;
mod times;
mod unify;

pub use breakdown::{
    BreakdownField, EMPTY_VALUE, MAX_BREAKDOWN_VALUE_BYTES, MAX_BREAKDOWN_VALUES, MAX_KEPT_BREAKDOWN_VALUES,
    OTHER_VALUE, UnknownField,
};
pub use definition::{
    DEFAULT_SEQUENTIAL_TUNING, DefinitionError, Denominator, Funnel, Inference, MAX_STEPS, Order, Step,
    check_unique_names, parse_funnel,
};
pub use explain::{
    Cell, EventFate, Explain, ExplainRecorder, ExplainState, Explained, KeyFate, KeyStory, Row, StoryEvent,
    Waterfall, WaterfallRow,
};
pub use job::{FunnelRecorder, Funnels};
pub use plan::Plan;
pub use report::{
    Breakdown, Cohort, CohortBy, ExperimentSummary, FunnelReport, ReportOptions, RunReport, TimeToStep,
    VariantCounts,
};
pub use rules::{Removed, Rules};
pub use seen::{DayKeys, FunnelSeen, MAX_SEEN_VALUE_BYTES, MAX_SEEN_VALUES, SeenValues, StepField};
pub use state::State;
pub use state_file::{
    DuplicateInput, InputStatus, Manifest, ManifestEntry, MergeError, OLDEST_STATE_FORMAT_VERSION,
    ReadMergeError, STATE_FORMAT_VERSION, STATE_MAGIC, Shards, StateFile, StateFileError,
};
pub use times::FirstTimes;
