//! Feeding lines into a [`ValidateState`]: parse, find the experiment contexts, record.

use snowfunnel_parse::{ContextParser, EnrichedEvent, RowError, check_shape};

use crate::scope::Scope;
use crate::state::{Seen, ValidateState};

/// Turns lines into validation state. Holds the parser's reusable buffers and scratch space,
/// so one validator per thread feeds any number of states (one per partition) without
/// allocating per line.
pub struct Validator<'s> {
    scope: &'s Scope,
    parser: ContextParser,
    seen: Vec<Seen>,
    kind: Vec<u8>,
}

impl<'s> Validator<'s> {
    /// A validator reporting the experiments of `scope`.
    #[must_use]
    pub fn new(scope: &'s Scope) -> Self {
        Validator { scope, parser: ContextParser::new(), seen: Vec::new(), kind: Vec::new() }
    }

    /// Ingests one line (without its `\n`) into `state` (built for the same scope).
    ///
    /// A line is a bad row when it is not 131 fields, a timestamp does not parse, or `contexts`
    /// holds an experiment context and is not valid JSON (or is not even shaped like a JSON
    /// object): the checks of `snowfunnel run`, but `unstruct_event` is never read.
    ///
    /// # Errors
    /// The [`RowError`] of a bad row, already counted in the state's counters.
    pub fn ingest(&mut self, state: &mut ValidateState, line: &[u8]) -> Result<(), RowError> {
        state.counters.lines += 1;
        let result = self.ingest_event(state, line);
        if let Err(e) = &result {
            state.counters.bad.record(e.reason());
        }
        result
    }

    /// Counts a line that was never parsed (the reader skipped it: longer than its limit) as
    /// a line and a bad row of `error`'s reason.
    pub fn reject(&self, state: &mut ValidateState, error: &RowError) {
        state.counters.lines += 1;
        state.counters.bad.record(error.reason());
    }

    fn ingest_event(&mut self, state: &mut ValidateState, line: &[u8]) -> Result<(), RowError> {
        let event = EnrichedEvent::parse(line)?;
        let contexts = event.contexts();
        if !self.parser.may_have_experiments(contexts) {
            check_shape(contexts)?;
            state.counters.events += 1;
            return Ok(());
        }
        let (scope, seen) = (self.scope, &mut self.seen);
        seen.clear();
        let counts = self.parser.parse_experiments(contexts, |context| {
            if !scope.selects(context.experiment) {
                return;
            }
            let e = state.experiment(context.experiment);
            let variant = state.experiments[e].variant_index(context.variant);
            let key = state.keys.intern(context.key.as_bytes());
            seen.push((e, variant, key));
        })?;
        let counters = &mut state.counters;
        counters.events += 1;
        counters.experiment_events += u64::from(counts.experiment_contexts > 0);
        counters.experiment_contexts += u64::from(counts.experiment_contexts);
        counters.contexts_without_key += u64::from(counts.without_key);
        counters.incomplete_contexts += u64::from(counts.incomplete);
        state.record(&event, &self.seen, &mut self.kind);
        Ok(())
    }
}
