//! The experiment data validation report, with no IO: is each experiment reporting, which
//! events, since when, with what split between its variants, any outages, and how clean the
//! data around it is (duplicated event ids, bad rows, contexts without keys).
//!
//! Data flow: a [`Scope`] says which experiments to report (all, or those named), and is the
//! job the executor runs: its ingester (the per-line core of `snowfunnel-ingest`, one per
//! thread) feeds enriched-event lines through a [`ValidateRecorder`] into a [`ValidateState`]:
//! context keys interned to dense ids ([`KeyDict`]), roaring bitmaps of keys per experiment and
//! variant, per event kind (event, category, action, label), per day and per `app_id`, plain
//! counters, and the 128-bit ids of the experiment events seen
//! for duplicate detection. States of different partitions (files, objects, chunks)
//! [`ValidateState::merge`] exactly into the state of their union, whatever the split.
//! [`ValidateState::report`] does the set algebra and returns a [`ValidationReport`], whose
//! [`ValidationReport::problems`] lists every [`Problem`] found.
//!
//! [`KeyDict`]: snowfunnel_keys::KeyDict

mod event_ids;
mod job;
mod problems;
mod report;
mod scope;
mod state;

pub use event_ids::{Duplicates, event_id_bits};
pub use job::ValidateRecorder;
pub use problems::Problem;
pub use report::{
    AppIdReport, DayReport, EventKindReport, ExperimentReport, MAX_LISTED_GAP_DAYS, Outage, ValidationReport,
    VariantSplit,
};
pub use scope::Scope;
pub use snowfunnel_ingest::Counters;
pub use state::ValidateState;
