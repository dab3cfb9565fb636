//! The funnel engine as a job of the executor: every line's experiment contexts recorded into a
//! [`State`], partitions sharing one key dictionary.

use snowfunnel_ingest::{Job, Recorder};
use snowfunnel_parse::{
    ContextCounts, ContextParser, EnrichedEvent, ExperimentContext, RowError, SchemaMatch, event_id_bits,
};

use crate::dedup::event_at;
use crate::plan::Plan;
use crate::rules::{Rules, month_of};
use crate::state::{EventRules, State};

/// `snowfunnel run`: the funnels of a plan. Every partition's state shares one key dictionary
/// (that of `keys`): memory holds each key once whatever the number of threads and files, and
/// partitions merge without translating key ids.
pub struct Funnels<'p> {
    plan: &'p Plan,
    /// An empty state whose dictionary the partitions share.
    keys: State,
}

impl<'p> Funnels<'p> {
    /// The job of `plan`, its partitions sharing the key dictionary of `keys` (the state an
    /// incremental run adds to, so that the two merge without translating ids), or a new one.
    #[must_use]
    pub fn new(plan: &'p Plan, keys: Option<&State>) -> Self {
        Funnels { plan, keys: keys.map_or_else(|| State::new(plan), State::partition) }
    }
}

impl Job for Funnels<'_> {
    type State = State;
    type Recorder<'a>
        = FunnelRecorder<'a>
    where
        Self: 'a;

    fn state(&self) -> State {
        self.keys.partition()
    }

    fn recorder(&self) -> FunnelRecorder<'_> {
        FunnelRecorder::new(self.plan)
    }

    fn merge(into: &mut State, other: State) {
        into.merge(other);
    }
}

/// Records the experiment contexts of an event into a [`State`] of its plan: the schema of its
/// self-describing event when a step needs it, then each context of a funnel's experiment.
pub struct FunnelRecorder<'p> {
    plan: &'p Plan,
    schema: String,
    /// Whether `schema` holds the schema of the event being recorded.
    has_schema: bool,
    rules: EventRules,
}

impl<'p> FunnelRecorder<'p> {
    /// A recorder for `plan`.
    #[must_use]
    pub fn new(plan: &'p Plan) -> Self {
        FunnelRecorder {
            plan,
            schema: String::new(),
            has_schema: false,
            rules: EventRules::new(plan.funnels().len()),
        }
    }
}

impl FunnelRecorder<'_> {
    /// The unstruct schema of the event [`FunnelRecorder::record_each`] last recorded, when a
    /// step needs it and the event had one.
    pub(crate) fn schema(&self) -> Option<&str> {
        self.has_schema.then_some(self.schema.as_str())
    }

    /// Records `event` into `state` as [`Recorder::record`] does, and hands each experiment
    /// context to `visit` once recorded.
    pub(crate) fn record_each(
        &mut self,
        parser: &mut ContextParser,
        state: &mut State,
        event: &EnrichedEvent<'_>,
        mut visit: impl FnMut(&ExperimentContext<'_>),
    ) -> Result<ContextCounts, RowError> {
        self.has_schema = false;
        if self.plan.needs_schema {
            self.schema.clear();
            let found = parser.unstruct_schema(event.unstruct_event())?;
            self.has_schema = found.map(|s| self.schema.push_str(s)).is_some();
        }
        let schema = self.has_schema.then_some(self.schema.as_str());
        let plan = self.plan;
        let rules = &mut self.rules;
        if plan.warehouse {
            rules.recorded.fill(false);
            rules.warehouse = Rules::Warehouse
                .admit(event)
                .map(|time| (time, event_at(month_of(time), event_id_bits(event.event_id()))));
        }
        parser.parse_experiments(event.contexts(), |context| {
            state.record(plan, event, schema, &context, rules);
            visit(&context);
        })
    }
}

impl Recorder<State> for FunnelRecorder<'_> {
    fn schema_match(&self) -> SchemaMatch {
        self.plan.schema_match()
    }

    fn record(
        &mut self,
        parser: &mut ContextParser,
        state: &mut State,
        event: &EnrichedEvent<'_>,
    ) -> Result<ContextCounts, RowError> {
        self.record_each(parser, state, event, |_| ())
    }
}
