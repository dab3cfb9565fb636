//! The mergeable validation state of one partition (a file, an object, a chunk), or of several.
//!
//! Keys are interned once per state; every set of keys is a bitmap of ids. Merging interns the
//! other state's keys into this one's dictionary and ORs its bitmaps through the id remapping,
//! experiments and variants are matched by name, counts add, first and last times take the
//! minimum and maximum: the merge of any split of the input equals the state of the whole.

use hashbrown::HashMap;
use snowfunnel_ingest::{Counted, Counters};
use snowfunnel_keys::{BitmapBuilder, KeyDict};
use snowfunnel_parse::{EnrichedEvent, fields};

use crate::event_ids::EventIds;
use crate::scope::Scope;
use snowfunnel_parse::MICROS_PER_DAY;

/// One experiment context of an event, interned: (experiment index, variant index, key id).
pub(crate) type Seen = (usize, u32, u32);

/// Events and keys of one group (a day, an `app_id`).
#[derive(Clone, Debug, Default)]
pub(crate) struct EventsAndKeys {
    pub(crate) events: u64,
    pub(crate) keys: BitmapBuilder,
}

impl EventsAndKeys {
    fn merge(&mut self, other: EventsAndKeys, remap: &[u32]) {
        self.events += other.events;
        self.keys.union_remapped(other.keys, remap);
    }
}

/// One day of an experiment: its events and keys, and its events per variant (indexed as the
/// experiment's variants; an event counts once in each variant its contexts name).
#[derive(Clone, Debug, Default)]
pub(crate) struct DayState {
    pub(crate) all: EventsAndKeys,
    pub(crate) events_by_variant: Vec<u64>,
}

impl DayState {
    fn count(&mut self, variant: u32) {
        *slot(&mut self.events_by_variant, variant) += 1;
    }

    /// Merges `other`, whose variant `v` is this experiment's `variants[v]`.
    fn merge(&mut self, other: DayState, remap: &[u32], variants: &[u32]) {
        self.all.merge(other.all, remap);
        for (v, events) in other.events_by_variant.into_iter().enumerate() {
            let mine = slot(&mut self.events_by_variant, variants[v]);
            *mine = mine.saturating_add(events);
        }
    }
}

/// One event kind of an experiment: events, first and last event time, keys per variant.
#[derive(Clone, Debug)]
pub(crate) struct KindState {
    pub(crate) events: u64,
    pub(crate) first: i64,
    pub(crate) last: i64,
    /// Indexed by the experiment's variant index; shorter when later variants never did it.
    pub(crate) keys_by_variant: Vec<BitmapBuilder>,
}

impl Default for KindState {
    fn default() -> Self {
        KindState { events: 0, first: i64::MAX, last: i64::MIN, keys_by_variant: Vec::new() }
    }
}

/// The builder of `bitmaps[index]`, growing the vector as needed.
/// The entry of variant `index` in `per_variant`, grown with defaults to hold it.
fn slot<T: Default>(per_variant: &mut Vec<T>, index: u32) -> &mut T {
    let index = index as usize;
    if per_variant.len() <= index {
        per_variant.resize_with(index + 1, T::default);
    }
    &mut per_variant[index]
}

/// Everything about one experiment.
#[derive(Clone, Debug)]
pub(crate) struct ExperimentState {
    pub(crate) name: Box<str>,
    /// Variant names in order of first sight; indexes are local to this state.
    pub(crate) variants: Vec<Box<str>>,
    /// Contexts with a key.
    pub(crate) contexts: u64,
    /// Events carrying at least one of its contexts with a key.
    pub(crate) events: u64,
    pub(crate) keys_by_variant: Vec<BitmapBuilder>,
    /// By `event\tse_category\tse_action\tse_label` (fields never hold a tab).
    pub(crate) kinds: HashMap<Box<[u8]>, KindState>,
    /// By day since the epoch (UTC, event time).
    pub(crate) days: HashMap<i64, DayState>,
    pub(crate) app_ids: HashMap<Box<[u8]>, EventsAndKeys>,
}

impl ExperimentState {
    fn new(name: &str) -> Self {
        ExperimentState {
            name: name.into(),
            variants: Vec::new(),
            contexts: 0,
            events: 0,
            keys_by_variant: Vec::new(),
            kinds: HashMap::new(),
            days: HashMap::new(),
            app_ids: HashMap::new(),
        }
    }

    pub(crate) fn variant_index(&mut self, variant: &str) -> u32 {
        let index = self.variants.iter().position(|v| **v == *variant).unwrap_or_else(|| {
            self.variants.push(variant.into());
            self.variants.len() - 1
        });
        u32::try_from(index).expect("fewer than 4 billion variants")
    }

    fn merge(&mut self, other: ExperimentState, remap: &[u32]) {
        let variants: Vec<u32> = other.variants.iter().map(|v| self.variant_index(v)).collect();
        self.contexts += other.contexts;
        self.events += other.events;
        for (v, keys) in other.keys_by_variant.into_iter().enumerate() {
            slot(&mut self.keys_by_variant, variants[v]).union_remapped(keys, remap);
        }
        for (kind, theirs) in other.kinds {
            let mine = self.kinds.entry(kind).or_default();
            mine.events += theirs.events;
            mine.first = mine.first.min(theirs.first);
            mine.last = mine.last.max(theirs.last);
            for (v, keys) in theirs.keys_by_variant.into_iter().enumerate() {
                slot(&mut mine.keys_by_variant, variants[v]).union_remapped(keys, remap);
            }
        }
        for (day, tally) in other.days {
            self.days.entry(day).or_default().merge(tally, remap, &variants);
        }
        for (app_id, tally) in other.app_ids {
            self.app_ids.entry(app_id).or_default().merge(tally, remap);
        }
    }
}

/// The validation state of one partition, or of several merged.
#[derive(Clone, Default)]
pub struct ValidateState {
    pub(crate) keys: KeyDict,
    pub(crate) counters: Counters,
    pub(crate) experiments: Vec<ExperimentState>,
    pub(crate) experiment_index: HashMap<Box<str>, usize>,
    pub(crate) event_ids: EventIds,
}

impl ValidateState {
    /// An empty state; the experiments `scope` names are there from the start, so that they
    /// are reported even when no event carries them.
    #[must_use]
    pub fn new(scope: &Scope) -> Self {
        let mut state = ValidateState::default();
        for name in scope.named().unwrap_or_default() {
            state.experiment(name);
        }
        state
    }

    /// The counters so far.
    #[must_use]
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Distinct context keys seen (all reported experiments together).
    #[must_use]
    pub fn distinct_keys(&self) -> usize {
        self.keys.len()
    }

    /// The index of experiment `name`, added if new.
    pub(crate) fn experiment(&mut self, name: &str) -> usize {
        if let Some(&index) = self.experiment_index.get(name) {
            return index;
        }
        self.experiments.push(ExperimentState::new(name));
        self.experiment_index.insert(name.into(), self.experiments.len() - 1);
        self.experiments.len() - 1
    }

    /// Records a valid event whose reported experiment contexts are `seen`; `kind` is scratch.
    pub(crate) fn record(&mut self, event: &EnrichedEvent<'_>, seen: &[Seen], kind: &mut Vec<u8>) {
        if seen.is_empty() {
            return;
        }
        self.event_ids.observe(event.event_id());
        let time = event.time_micros();
        let day = time.div_euclid(MICROS_PER_DAY);
        let app_id = event.app_id();
        kind.clear();
        for (i, field) in
            [fields::EVENT, fields::SE_CATEGORY, fields::SE_ACTION, fields::SE_LABEL].into_iter().enumerate()
        {
            if i > 0 {
                kind.push(b'\t');
            }
            kind.extend_from_slice(event.field(field));
        }
        for (i, &(e, variant, key)) in seen.iter().enumerate() {
            // An event counts once per experiment, however many of its contexts it carries.
            let first_of_experiment = !seen[..i].iter().any(|s| s.0 == e);
            let first_of_variant = !seen[..i].iter().any(|s| s.0 == e && s.1 == variant);
            let experiment = &mut self.experiments[e];
            experiment.contexts += 1;
            slot(&mut experiment.keys_by_variant, variant).push(key);
            let k = match experiment.kinds.get_mut(kind.as_slice()) {
                Some(k) => k,
                None => experiment.kinds.entry(kind.as_slice().into()).or_default(),
            };
            slot(&mut k.keys_by_variant, variant).push(key);
            let d = experiment.days.entry(day).or_default();
            d.all.keys.push(key);
            if first_of_variant {
                d.count(variant);
            }
            let a = match experiment.app_ids.get_mut(app_id) {
                Some(a) => a,
                None => experiment.app_ids.entry(app_id.into()).or_default(),
            };
            a.keys.push(key);
            if first_of_experiment {
                experiment.events += 1;
                a.events += 1;
                experiment.days.get_mut(&day).expect("inserted above").all.events += 1;
                let k = experiment.kinds.get_mut(kind.as_slice()).expect("inserted above");
                k.events += 1;
                k.first = k.first.min(time);
                k.last = k.last.max(time);
            }
        }
    }

    /// Merges `other` into `self`: afterwards `self` is the state of both partitions' inputs
    /// together. Both must have been built for the same [`Scope`].
    pub fn merge(&mut self, other: ValidateState) {
        self.counters.add(&other.counters);
        self.event_ids.merge(other.event_ids);
        let remap = self.keys.absorb(&other.keys);
        for experiment in other.experiments {
            let index = self.experiment(&experiment.name);
            self.experiments[index].merge(experiment, &remap);
        }
    }
}

impl Counted for ValidateState {
    fn counters_mut(&mut self) -> &mut Counters {
        &mut self.counters
    }
}
