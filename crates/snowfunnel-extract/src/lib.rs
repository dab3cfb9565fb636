//! The events extract: enriched-event lines in, one row per (event, experiment context) out,
//! with no IO.
//!
//! The flow: an [`ExtractSpec`] (experiments, event-time window, environment and app_id
//! filters) is checked into a [`Filter`]; [`Extract`] is the job the executor runs: an
//! [`ExtractRecorder`] per thread turns each line into at most one **record** appended to a
//! byte buffer (an event's fields once, then each of its contexts of the selected experiments),
//! and hands each chunk's records to its [`RecordSpool`]; the [`Extracted`] state counts lines,
//! events and bad rows (the per-line core's counters) and the events and rows [`Matched`].
//! Records are a compact binary encoding meant for spools (memory, then a temporary file), so
//! that any number of threads can extract while the output stays in input
//! order: [`Records`] reads them back and [`Record::rows`] yields [`ExtractRow`]s, the
//! [`COLUMNS`] of the extract, borrowed from the buffer. A [`Deduplicator`] applies the
//! [`DuplicatePolicy`] to records read back in output order, by the event id as 128 bits
//! ([`event_id_bits`]).

mod duplicates;
mod error;
mod extractor;
mod filter;
mod record;

pub use duplicates::{Deduplicator, DuplicatePolicy, DuplicateStats};
pub use error::{DecodeError, SpecError};
pub use extractor::{Extract, ExtractRecorder, Extracted, Matched, MemorySpool, RecordSpool};
pub use filter::{Environment, EnvironmentMap, EnvironmentSelection, ExtractSpec, Filter};
pub use record::{COLUMNS, ExtractRow, MIGRATION_KEY_SEPARATOR, Record, Records};
pub use snowfunnel_parse::event_id_bits;
