//! Feeding lines into a [`State`]: parse, find experiment contexts, match steps, record.

use snowfunnel_parse::{ContextParser, EnrichedEvent, RowError, check_shape};

use crate::plan::Plan;
use crate::state::State;

/// Turns lines into engine state. Holds the parser's reusable buffers, so one ingester per
/// thread feeds any number of states (one per partition) without allocating per line.
pub struct Ingester<'p> {
    plan: &'p Plan,
    parser: ContextParser,
    schema: String,
}

impl<'p> Ingester<'p> {
    /// An ingester for `plan`.
    #[must_use]
    pub fn new(plan: &'p Plan) -> Self {
        Ingester { plan, parser: ContextParser::new(), schema: String::new() }
    }

    /// Ingests one line (without its `\n`) into `state` (built for the same plan).
    ///
    /// # Errors
    /// The [`RowError`] of a bad row. The row is already counted in the state's counters;
    /// the caller decides what else to do with it (log it, stop).
    pub fn ingest(&mut self, state: &mut State, line: &[u8]) -> Result<(), RowError> {
        state.counters_mut().lines += 1;
        let result = self.ingest_event(state, line);
        if let Err(e) = &result {
            state.counters_mut().bad.record(e.reason());
        }
        result
    }

    /// Counts a line that was never parsed (the reader skipped it: longer than its limit) as
    /// a line and a bad row of `error`'s reason.
    pub fn reject(&self, state: &mut State, error: &RowError) {
        let counters = state.counters_mut();
        counters.lines += 1;
        counters.bad.record(error.reason());
    }

    fn ingest_event(&mut self, state: &mut State, line: &[u8]) -> Result<(), RowError> {
        let event = EnrichedEvent::parse(line)?;
        let contexts = event.contexts();
        if !self.parser.may_have_experiments(contexts) {
            // Most events: no JSON work, but garbage in the field is still a bad row.
            check_shape(contexts)?;
            state.counters_mut().events += 1;
            return Ok(());
        }
        let schema = if self.plan.needs_schema {
            self.schema.clear();
            let found = self.parser.unstruct_schema(event.unstruct_event())?;
            found.map(|s| self.schema.push_str(s)).is_some()
        } else {
            false
        };
        let schema = schema.then_some(self.schema.as_str());
        let plan = self.plan;
        let counts = self
            .parser
            .parse_experiments(contexts, |context| state.record(plan, &event, schema, &context))?;
        let counters = state.counters_mut();
        counters.events += 1;
        counters.experiment_events += u64::from(counts.experiment_contexts > 0);
        counters.experiment_contexts += u64::from(counts.experiment_contexts);
        counters.contexts_without_key += u64::from(counts.without_key);
        counters.incomplete_contexts += u64::from(counts.incomplete);
        Ok(())
    }
}
