//! The mergeable engine state: interned keys, per-variant and per-step bitmaps, counters.
//!
//! A state is built per partition (a file, an object, half of one) and states merge into the
//! state of their union: bitmaps are sets, so the order of events and duplicated events do not
//! matter, and merging is exact.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use hashbrown::HashSet;
use snowfunnel_ingest::{Counted, Counters};
use snowfunnel_keys::{BitmapBuilder, KeyDict};
use snowfunnel_parse::{EnrichedEvent, ExperimentContext};

use crate::breakdown::{FirstValues, ValueNames, clip, value_hash};
use crate::dedup::{Dedup, EventAt, Seen};
use crate::plan::Plan;
use crate::rules::Removed;
use crate::seen::Names;
use crate::times::FirstTimes;

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

    /// Adds `other`'s sets, whose ids are this side's ids.
    fn union(&mut self, other: VariantSets) {
        for (variant, bitmap) in other.0 {
            if let Some((_, b)) = self.0.iter_mut().find(|(v, _)| *v == variant) {
                b.union(bitmap);
            } else {
                self.0.push((variant, bitmap));
            }
        }
    }

    /// The builder of `variant`, added empty when new.
    pub(crate) fn entry(&mut self, variant: &str) -> &mut BitmapBuilder {
        let at = match self.0.iter().position(|(v, _)| **v == *variant) {
            Some(at) => at,
            None => {
                self.0.push((variant.into(), BitmapBuilder::default()));
                self.0.len() - 1
            }
        };
        &mut self.0[at].1
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
    /// Per breakdown field of the plan: each step-1 key's first `(time, value hash)`.
    pub(crate) firsts: Vec<FirstValues>,
    /// Under the warehouse's rules, the funnel's events until the report: the sets above stay
    /// empty, and [`FunnelState::counted`] folds the events seen once into them.
    pub(crate) dedup: Dedup,
}

impl FunnelState {
    fn new(steps: usize, breakdowns: usize) -> Self {
        FunnelState {
            variants: VariantSets::default(),
            steps: vec![FirstTimes::default(); steps],
            firsts: vec![FirstValues::default(); breakdowns],
            dedup: Dedup::default(),
        }
    }

    /// What the funnel counts: its sets, or under the warehouse's rules the events held for
    /// the duplicate rule seen once, folded into sets (`None`: the sets as they are).
    pub(crate) fn counted(&self) -> Option<FunnelState> {
        if self.dedup.len() == 0 {
            return None;
        }
        let (variants, steps) = self.dedup.fold(self.steps.len());
        Some(FunnelState { variants, steps, firsts: self.firsts.clone(), dedup: Dedup::default() })
    }
}

/// What the rules that need more than one context say of an event, computed once per event for
/// the funnels under the warehouse's rules.
#[derive(Debug)]
pub(crate) struct EventRules {
    /// The event's time under the warehouse's rules and its month and id, or why the rules
    /// remove it.
    pub(crate) warehouse: Result<(i64, EventAt), Removed>,
    /// Per funnel of the plan: whether a context of this event was recorded for it already.
    pub(crate) recorded: Vec<bool>,
}

impl EventRules {
    pub(crate) fn new(funnels: usize) -> Self {
        EventRules { warehouse: Err(Removed::NotStruct), recorded: vec![false; funnels] }
    }
}

/// A key dictionary that the states of one run's partitions share: each key is held once
/// whatever the number of threads and files, and they merge without translating ids.
#[derive(Default)]
pub(crate) struct SharedKeys(Arc<Mutex<KeyDict>>);

impl SharedKeys {
    pub(crate) fn lock(&self) -> MutexGuard<'_, KeyDict> {
        // A thread that panicked holding it left it whole: keys are added in one step.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn same(&self, other: &SharedKeys) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    fn share(&self) -> SharedKeys {
        SharedKeys(Arc::clone(&self.0))
    }
}

/// The engine state of one partition, or of several merged.
#[derive(Default)]
pub struct State {
    pub(crate) keys: SharedKeys,
    pub(crate) counters: Counters,
    pub(crate) experiments: Vec<ExperimentState>,
    pub(crate) funnels: Vec<FunnelState>,
    /// Experiment names and step-field values seen, for the empty-match checks (not kept in
    /// state files).
    pub(crate) names: Names,
    /// Per breakdown field of the plan: its values by hash.
    pub(crate) values: Vec<ValueNames>,
    /// The breakdown fields of the state files read into this state (each file's whole list:
    /// shards written with different fields do not merge); `None` for a state counted by this
    /// run only.
    pub(crate) held: Option<Vec<String>>,
}

/// A copy with a key dictionary of its own.
impl Clone for State {
    fn clone(&self) -> Self {
        State {
            keys: SharedKeys(Arc::new(Mutex::new(self.keys.lock().clone()))),
            counters: self.counters,
            experiments: self.experiments.clone(),
            funnels: self.funnels.clone(),
            names: self.names.clone(),
            values: self.values.clone(),
            held: self.held.clone(),
        }
    }
}

impl State {
    /// An empty state for `plan`.
    #[must_use]
    pub fn new(plan: &Plan) -> Self {
        State {
            keys: SharedKeys::default(),
            counters: Counters::default(),
            experiments: vec![ExperimentState::default(); plan.experiments().len()],
            funnels: plan
                .compiled
                .iter()
                .map(|f| FunnelState::new(f.steps.len(), plan.breakdowns.len()))
                .collect(),
            names: Names::new(&plan.experiment_fields),
            values: vec![ValueNames::default(); plan.breakdowns.len()],
            held: None,
        }
    }

    /// An empty state for the same plan that shares this state's key dictionary: one per
    /// partition of a run (thread, file), so that each key is held once and the partitions
    /// merge without translating ids. The dictionary keeps the keys of a partition that is
    /// dropped (a corrupt file skipped), in no set: they count nowhere.
    #[must_use]
    pub fn partition(&self) -> Self {
        State {
            keys: self.keys.share(),
            counters: Counters::default(),
            experiments: vec![ExperimentState::default(); self.experiments.len()],
            funnels: self.funnels.iter().map(|f| FunnelState::new(f.steps.len(), f.firsts.len())).collect(),
            names: Names::empty_like(&self.names),
            values: vec![ValueNames::default(); self.values.len()],
            held: None,
        }
    }

    /// Marks the state as read back from a state file, which keeps no names: its suggestions
    /// can only come from inputs counted into it later.
    pub(crate) fn forget_names(&mut self) {
        self.names.complete = false;
    }

    /// Whether nothing was counted into it: no key, no line.
    pub(crate) fn is_empty(&self) -> bool {
        self.keys.lock().is_empty()
            && self.counters == Counters::default()
            && self.experiments.iter().all(|e| e.contexts == 0)
    }

    /// The counters so far.
    #[must_use]
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Distinct keys in the key dictionary: context and migration keys of the plan's
    /// experiments. The dictionary is shared by the partitions of a run, so this includes the
    /// keys of an input skipped as corrupt, which count nowhere else.
    #[must_use]
    pub fn distinct_keys(&self) -> usize {
        self.keys.lock().len()
    }

    /// Records one experiment context of a valid event; `rules` holds what the warehouse's
    /// rules say of the event when a funnel of the plan counts under them.
    pub(crate) fn record(
        &mut self,
        plan: &Plan,
        event: &EnrichedEvent<'_>,
        schema: Option<&str>,
        context: &ExperimentContext<'_>,
        rules: &mut EventRules,
    ) {
        let exact = context.exact_schema;
        let Some(e) = plan.experiment_id(context.experiment) else {
            if exact {
                self.names.experiments.add(context.experiment.as_bytes());
            }
            return;
        };
        let funnels = &plan.experiment_funnels[e];
        if !exact && !funnels.iter().any(|&f| plan.compiled[f].rules.accepts_schema(false)) {
            return;
        }
        let mut keys = self.keys.lock();
        let id = keys.intern(context.key.as_bytes());
        // What the experiment's summary counts follows snowfunnel's rules: exact schemas.
        if exact {
            for older in context.migration_keys.iter().filter(|k| !k.is_empty() && *k != context.key) {
                let older = keys.intern(older.as_bytes());
                self.experiments[e].migrations.insert((older, id));
            }
        }
        drop(keys);
        if exact {
            self.names.record_fields(e, event, schema);
            let experiment = &mut self.experiments[e];
            experiment.contexts += 1;
            experiment.variants.push(context.variant, id);
        }
        for &f in funnels {
            let compiled = &plan.compiled[f];
            if !compiled.rules.accepts_schema(exact) {
                continue;
            }
            let state = &mut self.funnels[f];
            if compiled.rules.drops_duplicates() {
                let Ok((time, at)) = rules.warehouse else { continue };
                let accepted = compiled.accepts(event, time);
                let steps = compiled
                    .steps
                    .iter()
                    .enumerate()
                    .filter(|(_, matcher)| accepted && matcher.matches(event, schema))
                    .fold(0u64, |mask, (s, _)| mask | 1 << s);
                let first = !std::mem::replace(&mut rules.recorded[f], true);
                let variant = state.dedup.variant(context.variant);
                let seen = Seen { time, steps, key: id, variant, count: 1, accepted };
                state.dedup.record(at, first, seen);
                continue;
            }
            let time = event.time_micros();
            if !compiled.accepts(event, time) {
                continue;
            }
            state.variants.push(context.variant, id);
            for (s, (step, matcher)) in state.steps.iter_mut().zip(&compiled.steps).enumerate() {
                if matcher.matches(event, schema) {
                    step.push(id, time);
                    // Only the fields asked for are read, and only on step-1 events.
                    if s == 0 {
                        for ((field, firsts), values) in
                            plan.breakdowns.iter().zip(&mut state.firsts).zip(&mut self.values)
                        {
                            let value = clip(event.field(field.index));
                            let hash = value_hash(value);
                            firsts.push(id, time, hash);
                            values.insert(hash, value);
                        }
                    }
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
        let State { keys, counters, experiments, funnels, names, values, held } = other;
        assert_eq!(self.values.len(), values.len(), "states of different plans");
        self.counters.add(&counters);
        self.names.merge(names);
        for (mine, theirs) in self.values.iter_mut().zip(values) {
            mine.union(theirs);
        }
        if self.held.is_none() {
            self.held = held;
        }
        if self.keys.same(&keys) {
            for (mine, theirs) in self.experiments.iter_mut().zip(experiments) {
                mine.contexts = mine.contexts.saturating_add(theirs.contexts);
                mine.variants.union(theirs.variants);
                mine.migrations.extend(theirs.migrations);
            }
            for (mine, theirs) in self.funnels.iter_mut().zip(funnels) {
                mine.variants.union(theirs.variants);
                for (a, b) in mine.steps.iter_mut().zip(theirs.steps) {
                    a.union(b);
                }
                for (a, b) in mine.firsts.iter_mut().zip(theirs.firsts) {
                    a.union(b);
                }
                mine.dedup.merge(theirs.dedup, |id| id);
            }
            return;
        }
        let remap = self.keys.lock().absorb(&keys.lock());
        // Their keys are all here now: free them before the sets grow.
        drop(keys);
        for (mine, theirs) in self.experiments.iter_mut().zip(experiments) {
            mine.contexts = mine.contexts.saturating_add(theirs.contexts);
            mine.variants.merge(theirs.variants, &remap);
            let at = |id: u32| remap[id as usize];
            mine.migrations.extend(theirs.migrations.into_iter().map(|(a, b)| (at(a), at(b))));
        }
        for (mine, theirs) in self.funnels.iter_mut().zip(funnels) {
            mine.variants.merge(theirs.variants, &remap);
            for (a, b) in mine.steps.iter_mut().zip(theirs.steps) {
                a.union_remapped(b, &remap);
            }
            for (a, b) in mine.firsts.iter_mut().zip(theirs.firsts) {
                a.union_remapped(b, &remap);
            }
            mine.dedup.merge(theirs.dedup, |id| remap[id as usize]);
        }
    }

    /// Every set of the state as sorted key strings, independent of key ids: two states with
    /// equal canonical forms give equal reports. For tests and debugging.
    #[must_use]
    pub fn canonical_sets(&mut self) -> Vec<(String, Vec<Vec<u8>>)> {
        let keys = self.keys.lock();
        let keys = &*keys;
        let sorted = |b: &mut BitmapBuilder| {
            let mut v: Vec<Vec<u8>> = b.finish().iter().map(|id| keys.key(id)).collect();
            v.sort();
            v
        };
        let mut out = Vec::new();
        for (e, exp) in self.experiments.iter_mut().enumerate() {
            for (variant, b) in &mut exp.variants.0 {
                out.push((format!("experiment {e} variant {variant}"), sorted(b)));
            }
            let mut pairs: Vec<Vec<u8>> = exp
                .migrations
                .iter()
                .map(|&(a, b)| [keys.key(a), b" -> ".to_vec(), keys.key(b)].concat())
                .collect();
            pairs.sort();
            out.push((format!("experiment {e} migrations"), pairs));
        }
        for (f, fun) in self.funnels.iter_mut().enumerate() {
            for (variant, b) in &mut fun.variants.0 {
                out.push((format!("funnel {f} variant {variant}"), sorted(b)));
            }
            for (s, times) in fun.steps.iter_mut().enumerate() {
                times.flush();
                let mut v: Vec<Vec<u8>> = times
                    .iter()
                    .map(|(id, t)| [keys.key(id), format!(" at {t}").into_bytes()].concat())
                    .collect();
                v.sort();
                out.push((format!("funnel {f} step {s}"), v));
            }
            let mut events: Vec<Vec<u8>> = fun
                .dedup
                .events
                .iter()
                .map(|(at, seen)| {
                    let mut line = format!("{at:?} seen {}", seen.count).into_bytes();
                    if seen.count == 1 {
                        let more = fun.dedup.more.get(at).map_or(&[][..], Vec::as_slice);
                        for &(key, variant) in std::iter::once(&(seen.key, seen.variant)).chain(more) {
                            line.extend_from_slice(b" ");
                            line.extend_from_slice(&keys.key(key));
                            line.extend_from_slice(
                                format!(" {}", fun.dedup.variants[variant as usize]).as_bytes(),
                            );
                        }
                        line.extend_from_slice(
                            format!(" at {} steps {:b} accepted {}", seen.time, seen.steps, seen.accepted)
                                .as_bytes(),
                        );
                    }
                    line
                })
                .collect();
            events.sort();
            out.push((format!("funnel {f} events"), events));
            for (b, firsts) in fun.firsts.iter().enumerate() {
                let mut v: Vec<Vec<u8>> = firsts
                    .0
                    .iter()
                    .map(|(&id, (t, hash))| {
                        [keys.key(id), format!(" at {t} value {hash:016x}").into_bytes()].concat()
                    })
                    .collect();
                v.sort();
                out.push((format!("funnel {f} breakdown {b}"), v));
            }
        }
        for (b, values) in self.values.iter().enumerate() {
            let v = values
                .0
                .iter()
                .map(|(hash, value)| [format!("{hash:016x} ").into_bytes(), value.to_vec()].concat())
                .collect();
            out.push((format!("breakdown {b} values"), v));
        }
        out.sort();
        out
    }
}

impl Counted for State {
    fn counters_mut(&mut self) -> &mut Counters {
        &mut self.counters
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_funnel;

    #[test]
    fn counts_of_forged_states_saturate_when_merged() {
        let funnel = "experiment = \"e\"\n[[steps]]\nname = \"a\"\naction = \"a\"\n";
        let plan = Plan::new(vec![parse_funnel("f.toml", "f", funnel).unwrap()]);
        let mut huge = State::new(&plan);
        huge.experiments[0].contexts = u64::MAX - 1;
        huge.counters.lines = u64::MAX;
        // Sharing the dictionary, and not.
        for mut other in [huge.partition(), State::new(&plan)] {
            other.experiments[0].contexts = 5;
            other.counters.lines = 5;
            let mut merged = huge.clone();
            merged.merge(other);
            assert_eq!(merged.experiments[0].contexts, u64::MAX);
            assert_eq!(merged.counters.lines, u64::MAX);
        }
    }
}
