//! Feeding lines into a [`State`]: parse, find experiment contexts, match steps, record.

use snowfunnel_parse::{ContextParser, EnrichedEvent, RowError};

use crate::plan::Plan;
use crate::state::State;

/// Turns lines into engine state. Holds the parser's reusable buffers, so one ingester per
/// thread processes any number of partitions without allocating per line.
pub struct Ingester<'p> {
    plan: &'p Plan,
    parser: ContextParser,
    schema: String,
    state: State,
}

impl<'p> Ingester<'p> {
    /// An ingester with an empty state.
    #[must_use]
    pub fn new(plan: &'p Plan) -> Self {
        Ingester { plan, parser: ContextParser::new(), schema: String::new(), state: State::new(plan) }
    }

    /// Ingests one line (without its `\n`).
    ///
    /// # Errors
    /// The [`RowError`] of a bad row. The row is already counted in the state's counters;
    /// the caller decides what else to do with it (log it, stop).
    pub fn ingest(&mut self, line: &[u8]) -> Result<(), RowError> {
        self.state.counters_mut().lines += 1;
        let result = self.ingest_event(line);
        if let Err(e) = &result {
            self.state.counters_mut().bad[e.reason().index()] += 1;
        }
        result
    }

    fn ingest_event(&mut self, line: &[u8]) -> Result<(), RowError> {
        let event = EnrichedEvent::parse(line)?;
        let contexts = event.contexts();
        if !self.parser.may_have_experiments(contexts) {
            // Still checks the field's shape, so garbage is a bad row.
            self.parser.experiments(contexts, |_| {})?;
            self.state.counters_mut().events += 1;
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
        let Ingester { plan, parser, state, .. } = self;
        let counts = parser.experiments(contexts, |context| state.record(plan, &event, schema, &context))?;
        let counters = state.counters_mut();
        counters.events += 1;
        counters.experiment_events += u64::from(counts.experiment_contexts > 0);
        counters.experiment_contexts += u64::from(counts.experiment_contexts);
        counters.contexts_without_key += u64::from(counts.without_key);
        counters.incomplete_contexts += u64::from(counts.incomplete);
        Ok(())
    }

    /// The state so far.
    #[must_use]
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Takes the state built so far, leaving an empty one: call at each partition boundary.
    pub fn take_state(&mut self) -> State {
        std::mem::replace(&mut self.state, State::new(self.plan))
    }
}
