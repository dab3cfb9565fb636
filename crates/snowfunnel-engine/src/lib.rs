//! The funnel engine: funnel definitions in, per-variant funnel counts out, with no IO.
//!
//! Data flow: [`parse_funnel`] validates TOML definitions into [`Funnel`]s; [`Plan`] compiles
//! them for matching; an [`Ingester`] feeds enriched-event lines through the parser and records
//! each experiment context of a funnel's experiment into a [`State`]: context keys interned to
//! dense ids, roaring bitmaps of keys per variant and per step. States of different partitions
//! [`State::merge`] into the state of their union. [`State::report`] does the set algebra and
//! returns a [`RunReport`].

mod bitmap;
mod definition;
mod dict;
mod ingest;
mod plan;
mod report;
mod state;
mod unify;

pub use bitmap::BitmapBuilder;
pub use definition::{DefinitionError, Funnel, MAX_STEPS, Step, check_unique_names, parse_funnel};
pub use dict::KeyDict;
pub use ingest::Ingester;
pub use plan::Plan;
pub use report::{ExperimentSummary, FunnelReport, RunReport, VariantCounts};
pub use state::{Counters, State};
