//! The validation as a job of the executor: the experiment contexts of every line recorded into
//! a [`ValidateState`].

use snowfunnel_ingest::{Job, Recorder};
use snowfunnel_parse::{ContextCounts, ContextParser, EnrichedEvent, RowError};

use crate::scope::Scope;
use crate::state::{Seen, ValidateState};

/// `snowfunnel validate`: the validation report of the experiments in scope.
///
/// A line is a bad row when it is not 131 fields, a timestamp does not parse, or `contexts`
/// holds an experiment context and is not valid JSON (or is not even shaped like a JSON
/// object): the checks of `snowfunnel run`, but `unstruct_event` is never read.
impl Job for Scope {
    type State = ValidateState;
    type Recorder<'a> = ValidateRecorder<'a>;

    fn state(&self) -> ValidateState {
        ValidateState::new(self)
    }

    fn recorder(&self) -> ValidateRecorder<'_> {
        ValidateRecorder::new(self)
    }

    fn merge(into: &mut ValidateState, other: ValidateState) {
        into.merge(other);
    }
}

/// Records the contexts of the experiments in scope into a [`ValidateState`]. Holds scratch
/// space, so one recorder per thread feeds any number of states without allocating per line.
pub struct ValidateRecorder<'s> {
    scope: &'s Scope,
    seen: Vec<Seen>,
    kind: Vec<u8>,
}

impl<'s> ValidateRecorder<'s> {
    /// A recorder of the experiments of `scope`.
    #[must_use]
    pub fn new(scope: &'s Scope) -> Self {
        ValidateRecorder { scope, seen: Vec::new(), kind: Vec::new() }
    }
}

impl Recorder<ValidateState> for ValidateRecorder<'_> {
    fn record(
        &mut self,
        parser: &mut ContextParser,
        state: &mut ValidateState,
        event: &EnrichedEvent<'_>,
    ) -> Result<ContextCounts, RowError> {
        let (scope, seen) = (self.scope, &mut self.seen);
        seen.clear();
        let counts = parser.parse_experiments(event.contexts(), |context| {
            if !scope.selects(context.experiment) {
                return;
            }
            let e = state.experiment(context.experiment);
            let variant = state.experiments[e].variant_index(context.variant);
            let key = state.keys.intern(context.key.as_bytes());
            seen.push((e, variant, key));
        })?;
        state.record(event, &self.seen, &mut self.kind);
        Ok(counts)
    }
}
