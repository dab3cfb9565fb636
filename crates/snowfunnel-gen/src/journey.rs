//! Experiment traffic. A journey is one key walking its experiment's funnel: an optional backend
//! `assignment`, step 1, then each next step with the step's `continue_rate`. Real traffic is
//! messier, so journeys also start at a later step, repeat a step, stop after the assignment, and
//! (for conflicting keys) show up once more under another variant. Journeys are planned as small
//! [`Planned`] records and turned into [`Event`]s only when their time comes.

use crate::config::ExperimentSpec;
use crate::keys::KeySpace;
use crate::model::{Event, ExperimentContext};
use crate::noise::blank_event;
use crate::profiles;
use crate::rng::Rand;

const SECOND: i64 = 1_000_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;

/// What a planned experiment event does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Action {
    /// The backend's `assignment` event.
    Assignment,
    /// A funnel step (index into the experiment's steps).
    Step(u8),
}

/// One experiment event, planned but not yet materialized. Ordered by time, then plan order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Planned {
    pub(crate) micros: i64,
    pub(crate) seq: u64,
    pub(crate) experiment: u16,
    pub(crate) key: u32,
    pub(crate) variant: u8,
    pub(crate) action: Action,
    pub(crate) staging: bool,
}

/// One journey being planned: its key and its events as (time, action, variant index).
struct Draft {
    experiment: usize,
    key: u32,
    staging: bool,
    events: Vec<(i64, Action, usize)>,
}

/// Plans journeys and materializes their events.
pub(crate) struct Journeys {
    pub(crate) experiments: Vec<ExperimentSpec>,
    pub(crate) keys: KeySpace,
    pub(crate) staging_share: f64,
    seq: u64,
}

impl Journeys {
    pub(crate) fn new(experiments: Vec<ExperimentSpec>, keys: KeySpace, staging_share: f64) -> Self {
        Journeys { experiments, keys, staging_share, seq: 0 }
    }

    /// Plans one journey starting at `start`, keeping only its events before `end` and at most
    /// the `budget` earliest ones. Appends them to `out` and returns how many there were.
    pub(crate) fn plan(
        &mut self,
        rand: &mut Rand,
        start: i64,
        end: i64,
        budget: usize,
        out: &mut Vec<Planned>,
    ) -> usize {
        let experiment = rand.index(self.experiments.len());
        let spec = &self.experiments[experiment];
        let key = rand.below(u64::from(self.keys.per_experiment())) as u32;
        let variant = self.keys.variant(experiment, key, spec.variants.len());
        let staging = rand.chance(self.staging_share);
        let mut journey = Draft { experiment, key, staging, events: Vec::new() };

        let mut t = start;
        if rand.chance(0.4) {
            journey.events.push((t, Action::Assignment, variant));
            t += rand.range(SECOND, MINUTE);
            if rand.chance(0.1) {
                return self.keep(journey, end, budget, out);
            }
        }
        let steps = spec.steps.len();
        let first = if steps > 1 && rand.chance(0.06) { 1 + rand.index(steps - 1) } else { 0 };
        for step in first..steps {
            journey.events.push((t, Action::Step(step as u8), variant));
            if rand.chance(0.08) {
                journey.events.push((t + rand.range(SECOND, 10 * MINUTE), Action::Step(step as u8), variant));
            }
            if step + 1 == steps || !rand.chance(spec.steps[step].continue_rate) {
                break;
            }
            t += step_gap(rand);
        }
        if let Some(other) = self.keys.conflicting_variant(experiment, key, spec.variants.len()) {
            journey.events.push((t + rand.range(MINUTE, 2 * HOUR), Action::Step(first as u8), other));
        }
        self.keep(journey, end, budget, out)
    }

    fn keep(&mut self, mut journey: Draft, end: i64, budget: usize, out: &mut Vec<Planned>) -> usize {
        journey.events.retain(|&(micros, ..)| micros < end);
        journey.events.sort_by_key(|&(micros, ..)| micros);
        journey.events.truncate(budget);
        for &(micros, action, variant) in &journey.events {
            out.push(Planned {
                micros,
                seq: self.seq,
                experiment: journey.experiment as u16,
                key: journey.key,
                variant: variant as u8,
                action,
                staging: journey.staging,
            });
            self.seq += 1;
        }
        journey.events.len()
    }

    /// A planned event of a random key and step at `micros` (used to make malformed lines look
    /// like real experiment events).
    pub(crate) fn random_planned(&self, rand: &mut Rand, micros: i64) -> Planned {
        let experiment = rand.index(self.experiments.len());
        let spec = &self.experiments[experiment];
        let key = rand.below(u64::from(self.keys.per_experiment())) as u32;
        Planned {
            micros,
            seq: 0,
            experiment: experiment as u16,
            key,
            variant: self.keys.variant(experiment, key, spec.variants.len()) as u8,
            action: Action::Step(rand.index(spec.steps.len()) as u8),
            staging: false,
        }
    }

    /// The event a planned record stands for.
    pub(crate) fn materialize(&self, rand: &mut Rand, planned: &Planned) -> Event {
        let index = usize::from(planned.experiment);
        let spec = &self.experiments[index];
        let app = if planned.staging { "gitlab-staging" } else { "gitlab" };
        let mut event = match planned.action {
            Action::Assignment => {
                let mut event = blank_event(rand, app, "srv", "struct", planned.micros);
                event.se_category.clone_from(&spec.name);
                event.se_action = "assignment".into();
                event
            }
            Action::Step(step) => {
                let step = &spec.steps[usize::from(step)];
                let platform = if step.is_backend(&spec.name) { "srv" } else { "web" };
                let mut event = blank_event(rand, app, platform, &step.event, planned.micros);
                event.se_category.clone_from(&step.category);
                event.se_action.clone_from(&step.action);
                event.se_label = step.label.clone().unwrap_or_default();
                event.unstruct_schema.clone_from(&step.unstruct_schema);
                if platform == "web" {
                    event.page_urlpath = match &step.page_urlpath {
                        Some(path) => path.clone(),
                        None => {
                            let template = profiles::page_for_category(rand, &step.category).path;
                            profiles::fill_path(rand, template)
                        }
                    };
                }
                event
            }
        };
        let web = event.platform == "web";
        event.experiments.push(self.context(rand, index, planned.key, usize::from(planned.variant), web));
        // Page views carry every experiment running on the page.
        if event.event == "page_view" && self.experiments.len() > 1 && rand.chance(0.35) {
            let other = (index + 1 + rand.index(self.experiments.len() - 1)) % self.experiments.len();
            let key = rand.below(u64::from(self.keys.per_experiment())) as u32;
            let variant = self.keys.variant(other, key, self.experiments[other].variants.len());
            let context = self.context(rand, other, key, variant, web);
            let position = rand.index(2);
            event.experiments.insert(position, context);
        }
        event
    }

    fn context(
        &self,
        rand: &mut Rand,
        experiment: usize,
        key: u32,
        variant: usize,
        web: bool,
    ) -> ExperimentContext {
        let spec = &self.experiments[experiment];
        let schema_version = ["1-0-3", "1-0-0", "0-3-0"][rand.weighted(&[6, 3, 1])];
        ExperimentContext {
            schema_version: schema_version.into(),
            experiment: spec.name.clone(),
            key: (!(web && rand.chance(0.03))).then(|| self.keys.text(experiment, key)),
            variant: spec.variants[variant].clone(),
            migration_keys: if rand.chance(0.7) {
                self.keys.migration_keys(experiment, key)
            } else {
                Vec::new()
            },
        }
    }
}

/// Time between two funnel steps: mostly minutes, sometimes hours or days.
fn step_gap(rand: &mut Rand) -> i64 {
    match rand.weighted(&[50, 30, 15, 5]) {
        0 => rand.range(2 * SECOND, 2 * MINUTE),
        1 => rand.range(2 * MINUTE, 30 * MINUTE),
        2 => rand.range(30 * MINUTE, 6 * HOUR),
        _ => rand.range(6 * HOUR, 72 * HOUR),
    }
}
