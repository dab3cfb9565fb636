//! A plain reference: the generator's ground truth (structs, not lines) folded with hash sets.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use snowfunnel_gen::{Line, MalformedKind};
use snowfunnel_parse::{BadReason, MICROS_PER_DAY};
use snowfunnel_validate::{Duplicates, Outage};

/// (event, category, action, label)
pub(crate) type Kind = (String, String, String, String);

#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ExpectedKind {
    pub(crate) events: u64,
    pub(crate) first: i64,
    pub(crate) last: i64,
    pub(crate) keys_by_variant: BTreeMap<String, BTreeSet<String>>,
}

#[derive(Debug, Default)]
pub(crate) struct ExpectedExperiment {
    pub(crate) events: u64,
    pub(crate) contexts: u64,
    pub(crate) keys_by_variant: BTreeMap<String, BTreeSet<String>>,
    pub(crate) kinds: BTreeMap<Kind, ExpectedKind>,
    /// day -> (events, keys)
    pub(crate) days: BTreeMap<i64, (u64, BTreeSet<String>)>,
    /// (day, variant) -> events: an event once per variant its contexts of the experiment name
    pub(crate) day_variant_events: BTreeMap<(i64, String), u64>,
    pub(crate) app_ids: BTreeMap<String, (u64, BTreeSet<String>)>,
}

impl ExpectedExperiment {
    pub(crate) fn keys(&self) -> BTreeSet<&String> {
        self.keys_by_variant.values().flatten().collect()
    }

    pub(crate) fn conflicting(&self) -> BTreeSet<&String> {
        let mut count: HashMap<&String, usize> = HashMap::new();
        for keys in self.keys_by_variant.values() {
            for k in keys {
                *count.entry(k).or_default() += 1;
            }
        }
        count.into_iter().filter(|&(_, n)| n > 1).map(|(k, _)| k).collect()
    }

    pub(crate) fn outages(&self) -> Vec<Outage> {
        let days: Vec<i64> = self.days.keys().copied().collect();
        days.windows(2)
            .filter(|w| w[1] > w[0] + 1)
            .map(|w| Outage { first_day: w[0] + 1, last_day: w[1] - 1 })
            .collect()
    }
}

#[derive(Debug, Default)]
pub(crate) struct Expected {
    pub(crate) lines: u64,
    pub(crate) bad: BTreeMap<BadReason, u64>,
    pub(crate) experiment_events: u64,
    pub(crate) contexts_without_key: u64,
    pub(crate) duplicates: Duplicates,
    pub(crate) experiments: BTreeMap<String, ExpectedExperiment>,
}

pub(crate) fn reason(kind: MalformedKind) -> BadReason {
    match kind {
        MalformedKind::FieldCount => BadReason::FieldCount,
        MalformedKind::BadContextsJson => BadReason::Contexts,
        MalformedKind::BadCollectorTimestamp => BadReason::CollectorTstamp,
        MalformedKind::BadDerivedTimestamp => BadReason::DerivedTstamp,
        MalformedKind::Empty => BadReason::NotTsv,
    }
}

/// What a validation of `lines` must report for the experiments `selects` keeps.
pub(crate) fn expected(lines: &[Line], selects: impl Fn(&str) -> bool) -> Expected {
    let mut x = Expected::default();
    let mut ids: HashMap<&str, u64> = HashMap::new();
    for line in lines {
        x.lines += 1;
        let event = match line {
            Line::Malformed { kind, .. } => {
                *x.bad.entry(reason(*kind)).or_default() += 1;
                continue;
            }
            Line::Event(event) => event,
        };
        x.experiment_events += u64::from(!event.experiments.is_empty());
        let time = event.event_time_micros();
        let day = time.div_euclid(MICROS_PER_DAY);
        let kind =
            (event.event.clone(), event.se_category.clone(), event.se_action.clone(), event.se_label.clone());
        let mut counted: HashSet<&str> = HashSet::new();
        let mut counted_variants: HashSet<(&str, &str)> = HashSet::new();
        for context in &event.experiments {
            let Some(key) = context.key.as_ref().filter(|k| !k.is_empty()) else {
                x.contexts_without_key += 1;
                continue;
            };
            if !selects(&context.experiment) {
                continue;
            }
            let first = counted.insert(&context.experiment);
            let e = x.experiments.entry(context.experiment.clone()).or_default();
            e.contexts += 1;
            e.keys_by_variant.entry(context.variant.clone()).or_default().insert(key.clone());
            let k = e.kinds.entry(kind.clone()).or_insert_with(|| ExpectedKind {
                first: i64::MAX,
                last: i64::MIN,
                ..ExpectedKind::default()
            });
            k.keys_by_variant.entry(context.variant.clone()).or_default().insert(key.clone());
            if counted_variants.insert((&context.experiment, &context.variant)) {
                *e.day_variant_events.entry((day, context.variant.clone())).or_default() += 1;
            }
            let d = e.days.entry(day).or_default();
            d.1.insert(key.clone());
            let a = e.app_ids.entry(event.app_id.clone()).or_default();
            a.1.insert(key.clone());
            if first {
                e.events += 1;
                k.events += 1;
                k.first = k.first.min(time);
                k.last = k.last.max(time);
                d.0 += 1;
                a.0 += 1;
            }
        }
        if !counted.is_empty() {
            *ids.entry(&event.event_id).or_default() += 1;
        }
    }
    x.duplicates = Duplicates {
        tracked_events: ids.values().sum(),
        distinct_ids: ids.len() as u64,
        duplicated_ids: ids.values().filter(|&&n| n > 1).count() as u64,
    };
    x
}
