//! Feeding lines into a job's state: the steps every job takes, written once.

use std::io;

use snowfunnel_parse::{ContextParser, EnrichedEvent, RowError, check_shape};

use crate::{Counted, Recorder};

/// Turns lines into a job's state. Holds the contexts parser's reusable buffers and the job's
/// recorder, so one ingester per thread feeds any number of states (one per partition) without
/// allocating per line.
pub struct Ingester<R> {
    parser: ContextParser,
    recorder: R,
}

impl<R> Ingester<R> {
    /// An ingester around `recorder`.
    #[must_use]
    pub fn new(recorder: R) -> Self {
        Ingester { parser: ContextParser::new(), recorder }
    }

    /// Ingests one line (without its `\n`) into `state`: counts it, splits its fields and
    /// parses its timestamps; when `contexts` cannot hold an experiment context (most events),
    /// only checks that the field is shaped like a JSON object; otherwise hands the event to
    /// the recorder.
    ///
    /// # Errors
    /// The [`RowError`] of a bad row. The row is already counted in the state's counters; the
    /// caller decides what else to do with it (log it, stop).
    pub fn ingest<S: Counted>(&mut self, state: &mut S, line: &[u8]) -> Result<(), RowError>
    where
        R: Recorder<S>,
    {
        state.counters_mut().lines += 1;
        let result = self.ingest_event(state, line);
        if let Err(e) = &result {
            state.counters_mut().bad.record(e.reason());
        }
        result
    }

    fn ingest_event<S: Counted>(&mut self, state: &mut S, line: &[u8]) -> Result<(), RowError>
    where
        R: Recorder<S>,
    {
        let event = EnrichedEvent::parse(line)?;
        self.parser.set_schema_match(self.recorder.schema_match());
        let seen = if self.parser.may_have_experiments(event.contexts()) {
            self.recorder.record(&mut self.parser, state, &event)?
        } else {
            // No JSON work, but garbage in the field is still a bad row.
            check_shape(event.contexts())?;
            self.recorder.pass(state, &event);
            Default::default()
        };
        state.counters_mut().count_event(seen);
        Ok(())
    }

    /// Counts a line that was never parsed (the reader skipped it: longer than its limit) as
    /// a line and a bad row of `error`'s reason.
    pub fn reject<S: Counted>(&self, state: &mut S, error: &RowError) {
        let counters = state.counters_mut();
        counters.lines += 1;
        counters.bad.record(error.reason());
    }

    /// Ends a chunk: see [`Recorder::end_chunk`].
    ///
    /// # Errors
    /// The recorder's.
    pub fn end_chunk<S>(&mut self, state: &mut S, file: usize, first_line: u64) -> io::Result<()>
    where
        R: Recorder<S>,
    {
        self.recorder.end_chunk(state, file, first_line)
    }
}
