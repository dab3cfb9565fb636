//! What a job is to the executor: a state per partition, a recorder per thread, a merge.

use std::io;

use snowfunnel_parse::{ContextCounts, ContextParser, EnrichedEvent, RowError, SchemaMatch};

use crate::{Counters, Ingester};

/// What a run accumulates per partition (a file, or the chunks of a file one thread parsed)
/// and how partitions merge. Merging must be exact and order-free, so that results do not
/// depend on the thread count.
pub trait Job: Sync {
    /// The state of one partition, or of several merged.
    type State: Send + Counted;
    /// What the job does with an event that may hold experiment contexts; one per thread,
    /// holding its reusable buffers.
    type Recorder<'a>: Recorder<Self::State>
    where
        Self: 'a;

    /// An empty state.
    fn state(&self) -> Self::State;

    /// A thread's recorder.
    fn recorder(&self) -> Self::Recorder<'_>;

    /// Merges `other` into `into`.
    fn merge(into: &mut Self::State, other: Self::State);

    /// A thread's ingester: the per-line core around [`Job::recorder`].
    fn ingester(&self) -> Ingester<Self::Recorder<'_>> {
        Ingester::new(self.recorder())
    }
}

/// A state that holds the [`Counters`] of the lines it was fed.
pub trait Counted {
    /// The counters, to count.
    fn counters_mut(&mut self) -> &mut Counters;
}

/// The part of ingesting a line that is a job's own.
pub trait Recorder<S> {
    /// How the experiment schema is matched in the events handed to [`Recorder::record`]: the
    /// prefilter and the parser follow it. [`SchemaMatch::Exact`] unless the job needs more.
    fn schema_match(&self) -> SchemaMatch {
        SchemaMatch::Exact
    }

    /// Records `event`, whose `contexts` passed the prefilter, into `state`, parsing its
    /// experiment contexts with `parser`; returns what the parser counted, for the state's
    /// [`Counters`] (the [`Ingester`] adds them once the event is recorded).
    ///
    /// # Errors
    /// The [`RowError`] that makes the line a bad row; the ingester counts it.
    fn record(
        &mut self,
        parser: &mut ContextParser,
        state: &mut S,
        event: &EnrichedEvent<'_>,
    ) -> Result<ContextCounts, RowError>;

    /// Called for each valid event that the prefilter found without experiment contexts (it
    /// never reaches [`Recorder::record`]), for a job that accounts for every event. Nothing
    /// by default.
    #[inline]
    fn pass(&mut self, state: &mut S, event: &EnrichedEvent<'_>) {
        let _ = (state, event);
    }

    /// Called once the lines of a chunk are in `state`, with the chunk's place in the input:
    /// the index of its file and its first line number. A job that keeps what it made outside
    /// the state until the end (the events extract spools its records) stores it here, under
    /// that place, so that it can be put back in input order whatever the thread count.
    ///
    /// # Errors
    /// When it cannot be stored (a spool that cannot be written); the run stops with it.
    fn end_chunk(&mut self, state: &mut S, file: usize, first_line: u64) -> io::Result<()> {
        let _ = (state, file, first_line);
        Ok(())
    }
}
