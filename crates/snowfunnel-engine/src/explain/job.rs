//! `explain` as a job of the executor: the engine's own recorder fills the engine's state, and
//! each event's fate under every funnel's rules is counted beside it.

use snowfunnel_ingest::{Counted, Counters, Job, Recorder};
use snowfunnel_parse::{
    ContextCounts, ContextParser, EnrichedEvent, ExperimentContext, RowError, SchemaMatch, event_id_bits,
    fields,
};

use super::row::{EVENT_ROWS, Row, event_row};
use super::story::{EventFate, StoryEvent};
use super::tally::FunnelTally;
use crate::dedup::{EventAt, event_at};
use crate::job::FunnelRecorder;
use crate::plan::{CompiledFunnel, Plan};
use crate::rules::{Removed, Rules, month_of};
use crate::state::State;

/// `snowfunnel explain`: the funnels of a plan counted as `run` counts them, with what each
/// rule and step took away; with a key asked, that key's events too.
pub struct Explain<'p> {
    plan: &'p Plan,
    /// An empty state whose dictionary the partitions share.
    keys: State,
    key: Option<Box<[u8]>>,
}

impl<'p> Explain<'p> {
    /// The job of `plan`; with `key`, the events of that context key are kept for its story.
    #[must_use]
    pub fn new(plan: &'p Plan, key: Option<&[u8]>) -> Self {
        Explain { plan, keys: State::new(plan), key: key.map(Box::from) }
    }
}

/// What `explain` holds of a partition: the engine's state and, per funnel of the plan, what
/// its rules removed.
pub struct ExplainState {
    pub(crate) engine: State,
    pub(crate) funnels: Vec<FunnelTally>,
    /// The asked key's events (any experiment), in no order.
    pub(crate) story: Vec<StoryEvent>,
}

impl ExplainState {
    /// Adds `other`, a partition of the same job.
    fn merge(&mut self, other: ExplainState) {
        self.engine.merge(other.engine);
        for (mine, theirs) in self.funnels.iter_mut().zip(other.funnels) {
            mine.merge(theirs);
        }
        self.story.extend(other.story);
    }

    /// The counters so far.
    #[must_use]
    pub fn counters(&self) -> &Counters {
        self.engine.counters()
    }
}

impl Counted for ExplainState {
    fn counters_mut(&mut self) -> &mut Counters {
        self.engine.counters_mut()
    }
}

impl Job for Explain<'_> {
    type State = ExplainState;
    type Recorder<'a>
        = ExplainRecorder<'a>
    where
        Self: 'a;

    fn state(&self) -> ExplainState {
        ExplainState {
            engine: self.keys.partition(),
            funnels: vec![FunnelTally::default(); self.plan.funnels().len()],
            story: Vec::new(),
        }
    }

    fn recorder(&self) -> ExplainRecorder<'_> {
        let experiments = self
            .plan
            .funnels()
            .iter()
            .map(|f| self.plan.experiment_id(&f.experiment).expect("funnel experiments are in the plan"))
            .collect();
        ExplainRecorder {
            inner: FunnelRecorder::new(self.plan),
            plan: self.plan,
            experiments,
            key: self.key.as_deref(),
            text: String::new(),
            seen: Vec::new(),
            keys: Vec::new(),
            mine: Vec::new(),
        }
    }

    fn merge(into: &mut ExplainState, other: ExplainState) {
        into.merge(other);
    }
}

/// An experiment context of the event being recorded, its strings at ranges of
/// [`ExplainRecorder::text`].
struct Seen {
    experiment: std::ops::Range<usize>,
    key: std::ops::Range<usize>,
    variant: std::ops::Range<usize>,
    /// The experiment's index in the plan, if one of its funnels'.
    plan_experiment: Option<usize>,
    exact: bool,
}

/// Records events into an [`ExplainState`]: the engine's recorder, then each funnel's rules.
pub struct ExplainRecorder<'p> {
    inner: FunnelRecorder<'p>,
    plan: &'p Plan,
    /// Per funnel: the index of its experiment in the plan.
    experiments: Vec<usize>,
    key: Option<&'p [u8]>,
    /// The strings of `seen`.
    text: String,
    seen: Vec<Seen>,
    /// The key id of each of `seen` (of the plan's experiments; 0 for others).
    keys: Vec<u32>,
    /// One funnel's contexts of the event, `(key, variant)`.
    mine: Vec<(u32, u32)>,
}

impl Recorder<ExplainState> for ExplainRecorder<'_> {
    fn schema_match(&self) -> SchemaMatch {
        self.plan.schema_match()
    }

    fn record(
        &mut self,
        parser: &mut ContextParser,
        state: &mut ExplainState,
        event: &EnrichedEvent<'_>,
    ) -> Result<ContextCounts, RowError> {
        self.text.clear();
        self.seen.clear();
        let (text, seen, plan) = (&mut self.text, &mut self.seen, self.plan);
        let counts =
            self.inner.record_each(parser, &mut state.engine, event, |c: &ExperimentContext<'_>| {
                let mut push = |s: &str| {
                    let start = text.len();
                    text.push_str(s);
                    start..text.len()
                };
                seen.push(Seen {
                    experiment: push(c.experiment),
                    key: push(c.key),
                    variant: push(c.variant),
                    plan_experiment: plan.experiment_id(c.experiment),
                    exact: c.exact_schema,
                });
            })?;
        let exact_context = counts.experiment_contexts > 0;
        let any_context = exact_context || self.seen.iter().any(|s| !s.exact);
        self.count(state, event, exact_context, any_context);
        Ok(counts)
    }

    fn pass(&mut self, state: &mut ExplainState, event: &EnrichedEvent<'_>) {
        self.seen.clear();
        self.count(state, event, false, false);
    }
}

impl ExplainRecorder<'_> {
    /// Counts the event (whose contexts are in `seen`) in every funnel's tally, and keeps it
    /// for the story when it has the asked key.
    fn count(&mut self, state: &mut ExplainState, event: &EnrichedEvent<'_>, exact_context: bool, any: bool) {
        self.keys.clear();
        if self.seen.iter().any(|s| s.plan_experiment.is_some()) {
            let mut dict = state.engine.keys.lock();
            let text = &self.text;
            self.keys.extend(
                self.seen
                    .iter()
                    .map(|s| s.plan_experiment.map_or(0, |_| dict.intern(text[s.key.clone()].as_bytes()))),
            );
        } else {
            self.keys.resize(self.seen.len(), 0);
        }
        let story =
            self.key.is_some_and(|key| self.seen.iter().any(|s| self.text[s.key.clone()].as_bytes() == key));
        let mut fates = Vec::new();
        for (f, compiled) in self.plan.compiled.iter().enumerate() {
            let tally = &mut state.funnels[f];
            self.mine.clear();
            let mut asked = false;
            for (s, &key) in self.seen.iter().zip(&self.keys) {
                if s.plan_experiment == Some(self.experiments[f]) && compiled.rules.accepts_schema(s.exact) {
                    let context = (key, tally.variant(&self.text[s.variant.clone()]));
                    if !self.mine.contains(&context) {
                        self.mine.push(context);
                    }
                    asked |= self.key.is_some_and(|k| self.text[s.key.clone()].as_bytes() == k);
                }
            }
            let context = if compiled.rules == Rules::Warehouse { any } else { exact_context };
            let (fate, at) = fate(compiled, event, context, !self.mine.is_empty());
            tally.record(fate.map_or(EVENT_ROWS.len(), event_row), &self.mine, at);
            if story {
                let steps = compiled
                    .steps
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| m.matches(event, self.inner.schema()))
                    .fold(0u64, |mask, (s, _)| mask | 1 << s);
                fates.push(EventFate { counted: asked, removed: fate, steps, at });
            }
        }
        if story {
            self.keep_story(state, event, fates);
        }
    }

    /// Keeps the event for the asked key's story, once per context with the key.
    fn keep_story(&self, state: &mut ExplainState, event: &EnrichedEvent<'_>, funnels: Vec<EventFate>) {
        let text = |f: usize| String::from_utf8_lossy(event.field(f)).into_owned();
        for s in &self.seen {
            if self.key.is_some_and(|k| self.text[s.key.clone()].as_bytes() == k) {
                state.story.push(StoryEvent {
                    time: event.time_micros(),
                    collector_tstamp: text(fields::COLLECTOR_TSTAMP),
                    derived_tstamp: text(fields::DERIVED_TSTAMP),
                    event_id: text(fields::EVENT_ID),
                    app_id: text(fields::APP_ID),
                    tracker: text(fields::V_TRACKER),
                    event: text(fields::EVENT),
                    category: text(fields::SE_CATEGORY),
                    action: text(fields::SE_ACTION),
                    label: text(fields::SE_LABEL),
                    experiment: self.text[s.experiment.clone()].to_owned(),
                    variant: self.text[s.variant.clone()].to_owned(),
                    exact_schema: s.exact,
                    funnels: funnels.clone(),
                });
            }
        }
    }
}

/// The first per-event row that removes `event` from `funnel` (`None`: it passes them all),
/// given whether it carries an experiment context as the funnel's rules read schemas, and a
/// context of the funnel's experiment with a key; with its month and id for the duplicate rule.
/// The warehouse's rules are [`Rules::admit`]'s answers: `app_id` and `derived_tstamp` first,
/// the funnel's `app_ids` and window after each, then the tracker, page and event type.
fn fate(
    funnel: &CompiledFunnel,
    event: &EnrichedEvent<'_>,
    context: bool,
    mine: bool,
) -> (Option<Row>, EventAt) {
    let rules = funnel.rules;
    let admitted = rules.admit(event);
    let at = match admitted {
        Ok(time) if rules.drops_duplicates() => event_at(month_of(time), event_id_bits(event.event_id())),
        _ => (0, 0, 0),
    };
    let fate = match admitted {
        Err(Removed::AppIdMissing) => Some(Row::Rule(Removed::AppIdMissing)),
        _ if !funnel.admits_app_id(event) => Some(Row::AppIds),
        Err(Removed::DerivedTstampMissing) => Some(Row::Rule(Removed::DerivedTstampMissing)),
        // Past the two rules above, every event has a time under the funnel's rules.
        _ if !event.time_under(rules.time_rule()).is_some_and(|t| funnel.in_window(t)) => {
            Some(Row::TimeWindow)
        }
        Err(removed) => Some(Row::Rule(removed)),
        Ok(_) if !context => Some(Row::ExperimentContext),
        Ok(_) if !mine => Some(Row::Experiment),
        Ok(_) => None,
    };
    (fate, at)
}
