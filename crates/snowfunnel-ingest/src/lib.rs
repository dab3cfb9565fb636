//! The per-line core that the funnel engine, the validation report and the events extract share,
//! and the [`Job`] traits the executor (`snowfunnel-exec`) runs them by, with no IO.
//!
//! For every line an [`Ingester`] does what every job does: counts the line, splits and checks
//! its fields ([`snowfunnel_parse::EnrichedEvent::parse`]), runs the substring prefilter on
//! `contexts` and, for the many events without an experiment context, only checks the field's
//! shape. An event that may hold experiment contexts goes to the job's [`Recorder`], the one
//! thing each job writes itself. A bad row is counted by reason in the job state's one
//! [`Counters`] and returned, for the caller to log.
//!
//! A [`Job`] says what a partition of the input (a file, or the chunks of a file one thread
//! parsed) accumulates, how to make a thread's recorder, and how partitions merge.

mod counters;
mod ingester;
mod job;

pub use counters::Counters;
pub use ingester::Ingester;
pub use job::{Counted, Job, Recorder};
