//! The mergeable engine state: interned keys, per-variant and per-step bitmaps, counters.
//!
//! A state is built per partition (a file, an object, half of one) and states merge into the
//! state of their union: bitmaps are sets, so the order of events and duplicated events do not
//! matter, and merging is exact.

use hashbrown::HashSet;
use snowfunnel_parse::{BadRows, EnrichedEvent, ExperimentContext};

use crate::bitmap::BitmapBuilder;
use crate::dict::KeyDict;
use crate::plan::Plan;
use crate::times::FirstTimes;

/// Plain counters of a run; they add up when states merge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Lines read.
    pub lines: u64,
    /// Valid enriched events (lines minus bad rows).
    pub events: u64,
    /// Bad rows by reason.
    pub bad: BadRows,
    /// Events carrying at least one experiment context (any experiment).
    pub experiment_events: u64,
    /// Experiment context entries (any experiment).
    pub experiment_contexts: u64,
    /// Experiment context entries without a key: counted and ignored.
    pub contexts_without_key: u64,
    /// Experiment context entries with a key but no experiment or variant: counted and ignored.
    pub incomplete_contexts: u64,
}

impl Counters {
    /// Adds `other`'s counts: the counters of two partitions together.
    pub fn add(&mut self, other: &Counters) {
        self.lines += other.lines;
        self.events += other.events;
        self.bad.add(&other.bad);
        self.experiment_events += other.experiment_events;
        self.experiment_contexts += other.experiment_contexts;
        self.contexts_without_key += other.contexts_without_key;
        self.incomplete_contexts += other.incomplete_contexts;
    }
}

/// Keys per variant name. Experiments have a handful of variants, so a vector beats a map.
#[derive(Clone, Debug, Default)]
pub(crate) struct VariantSets(pub(crate) Vec<(Box<str>, BitmapBuilder)>);

impl VariantSets {
    fn push(&mut self, variant: &str, id: u32) {
        if let Some((_, b)) = self.0.iter_mut().find(|(v, _)| **v == *variant) {
            b.push(id);
        } else {
            let mut b = BitmapBuilder::default();
            b.push(id);
            self.0.push((variant.into(), b));
        }
    }

    fn merge(&mut self, other: VariantSets, remap: &[u32]) {
        for (variant, bitmap) in other.0 {
            if let Some((_, b)) = self.0.iter_mut().find(|(v, _)| *v == variant) {
                b.union_remapped(bitmap, remap);
            } else {
                let mut b = BitmapBuilder::default();
                b.union_remapped(bitmap, remap);
                self.0.push((variant, b));
            }
        }
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct ExperimentState {
    /// Experiment contexts with a key, over all events (no funnel filter).
    pub(crate) contexts: u64,
    pub(crate) variants: VariantSets,
    /// `(older key, current key)` pairs from the contexts' `migration_keys`.
    pub(crate) migrations: HashSet<(u32, u32)>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct FunnelState {
    /// Keys per variant among the events that pass the funnel's filters.
    pub(crate) variants: VariantSets,
    /// Keys that did each step (any variant), with the time of their first event of the step.
    pub(crate) steps: Vec<FirstTimes>,
}

/// The engine state of one partition, or of several merged.
#[derive(Clone, Default)]
pub struct State {
    pub(crate) keys: KeyDict,
    pub(crate) counters: Counters,
    pub(crate) experiments: Vec<ExperimentState>,
    pub(crate) funnels: Vec<FunnelState>,
}

impl State {
    /// An empty state for `plan`.
    #[must_use]
    pub fn new(plan: &Plan) -> Self {
        State {
            keys: KeyDict::default(),
            counters: Counters::default(),
            experiments: vec![ExperimentState::default(); plan.experiments().len()],
            funnels: plan
                .compiled
                .iter()
                .map(|f| FunnelState {
                    variants: VariantSets::default(),
                    steps: vec![FirstTimes::default(); f.steps.len()],
                })
                .collect(),
        }
    }

    /// The counters so far.
    #[must_use]
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    pub(crate) fn counters_mut(&mut self) -> &mut Counters {
        &mut self.counters
    }

    /// Distinct context keys seen for the plan's experiments.
    #[must_use]
    pub fn distinct_keys(&self) -> usize {
        self.keys.len()
    }

    /// Records one experiment context of a valid event.
    pub(crate) fn record(
        &mut self,
        plan: &Plan,
        event: &EnrichedEvent<'_>,
        schema: Option<&str>,
        context: &ExperimentContext<'_>,
    ) {
        let Some(e) = plan.experiment_id(context.experiment) else {
            return;
        };
        let id = self.keys.intern(context.key.as_bytes());
        for older in context.migration_keys.iter().filter(|k| !k.is_empty() && *k != context.key) {
            let older = self.keys.intern(older.as_bytes());
            self.experiments[e].migrations.insert((older, id));
        }
        let experiment = &mut self.experiments[e];
        experiment.contexts += 1;
        experiment.variants.push(context.variant, id);
        for &f in &plan.experiment_funnels[e] {
            let compiled = &plan.compiled[f];
            if !compiled.accepts(event) {
                continue;
            }
            let state = &mut self.funnels[f];
            state.variants.push(context.variant, id);
            for (step, matcher) in state.steps.iter_mut().zip(&compiled.steps) {
                if matcher.matches(event, schema) {
                    step.push(id, event.time_micros());
                }
            }
        }
    }

    /// Merges `other` (built for the same plan) into `self`: afterwards `self` is the state
    /// of both partitions' inputs together.
    ///
    /// # Panics
    /// When the states were built for different plans.
    pub fn merge(&mut self, other: State) {
        assert_eq!(self.funnels.len(), other.funnels.len(), "states of different plans");
        assert_eq!(self.experiments.len(), other.experiments.len(), "states of different plans");
        self.counters.add(&other.counters);
        let remap: Vec<u32> = (0..other.keys.len())
            .map(|id| {
                #[allow(clippy::cast_possible_truncation)] // ids are u32 by construction
                self.keys.intern(other.keys.get(id as u32))
            })
            .collect();
        for (mine, theirs) in self.experiments.iter_mut().zip(other.experiments) {
            mine.contexts += theirs.contexts;
            mine.variants.merge(theirs.variants, &remap);
            let at = |id: u32| remap[id as usize];
            mine.migrations.extend(theirs.migrations.into_iter().map(|(a, b)| (at(a), at(b))));
        }
        for (mine, theirs) in self.funnels.iter_mut().zip(other.funnels) {
            mine.variants.merge(theirs.variants, &remap);
            for (a, b) in mine.steps.iter_mut().zip(theirs.steps) {
                a.union_remapped(b, &remap);
            }
        }
    }

    /// Every set of the state as sorted key strings, independent of key ids: two states with
    /// equal canonical forms give equal reports. For tests and debugging.
    #[must_use]
    pub fn canonical_sets(&mut self) -> Vec<(String, Vec<Vec<u8>>)> {
        let keys = &self.keys;
        let sorted = |b: &mut BitmapBuilder| {
            let mut v: Vec<Vec<u8>> = b.finish().iter().map(|id| keys.get(id).to_vec()).collect();
            v.sort();
            v
        };
        let mut out = Vec::new();
        for (e, exp) in self.experiments.iter_mut().enumerate() {
            for (variant, b) in &mut exp.variants.0 {
                out.push((format!("experiment {e} variant {variant}"), sorted(b)));
            }
            let mut pairs: Vec<Vec<u8>> =
                exp.migrations.iter().map(|&(a, b)| [keys.get(a), b" -> ", keys.get(b)].concat()).collect();
            pairs.sort();
            out.push((format!("experiment {e} migrations"), pairs));
        }
        for (f, fun) in self.funnels.iter_mut().enumerate() {
            for (variant, b) in &mut fun.variants.0 {
                out.push((format!("funnel {f} variant {variant}"), sorted(b)));
            }
            for (s, times) in fun.steps.iter().enumerate() {
                let mut v: Vec<Vec<u8>> = times
                    .iter()
                    .map(|(id, t)| [keys.get(id), format!(" at {t}").as_bytes()].concat())
                    .collect();
                v.sort();
                out.push((format!("funnel {f} step {s}"), v));
            }
        }
        out.sort();
        out
    }
}
