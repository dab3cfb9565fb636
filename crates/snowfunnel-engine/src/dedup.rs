//! The warehouse's duplicate rule, exact across partitions: every event whose `event_id` occurs
//! more than once in the month of its time is dropped, no copy kept.
//!
//! A copy may come in another file, shard or day than the first, so a funnel under the
//! warehouse's rules does not add its events to its sets as they come: it keeps, per (month,
//! event id), how many times the event was seen (1, or 2 for "more than once") and, while it was
//! seen once, what it would add to the funnel (its keys and variants, the steps it matched, its
//! time, whether it passed the funnel's filters). Partitions merge by adding the counts. The
//! report folds the events seen once into the usual sets ([`Dedup::fold`]), and the funnel
//! algebra runs on them as under snowfunnel's rules.

use hashbrown::HashMap;
use hashbrown::hash_map::Entry;

use crate::state::VariantSets;
use crate::times::FirstTimes;

/// An event's month (months since year 0) and its id's 128 bits, high half first.
pub(crate) type EventAt = (i32, u64, u64);

/// The month and id of an event at `time` with id bits `id`.
pub(crate) fn event_at(month: i32, id: u128) -> EventAt {
    #[allow(clippy::cast_possible_truncation)] // the two halves, on purpose
    (month, (id >> 64) as u64, id as u64)
}

/// What one event seen once adds to its funnel (its first context's key), or that it was seen
/// more than once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Seen {
    /// Event time under the warehouse's rules.
    pub(crate) time: i64,
    /// Bit n: the event matched step n + 1.
    pub(crate) steps: u64,
    /// The key of its first context of the experiment.
    pub(crate) key: u32,
    /// That context's variant, an index into [`Dedup::variants`].
    pub(crate) variant: u32,
    /// 1, or 2 for more than once (then nothing else counts).
    pub(crate) count: u8,
    /// Whether the event passed the funnel's filters (`app_ids`, `start`, `end`): copies outside
    /// them still make a duplicate, as in the warehouse, where the template filters last.
    pub(crate) accepted: bool,
}

/// One funnel's events under the duplicate rule.
#[derive(Clone, Debug, Default)]
pub(crate) struct Dedup {
    /// Variant names, by index.
    pub(crate) variants: Vec<Box<str>>,
    /// Every event of the funnel's experiment that passed the warehouse's event rules.
    pub(crate) events: HashMap<EventAt, Seen>,
    /// The further contexts `(key, variant)` of events seen once with several contexts of the
    /// experiment (rare).
    pub(crate) more: HashMap<EventAt, Vec<(u32, u32)>>,
}

impl Dedup {
    /// The index of `variant`, added when new.
    pub(crate) fn variant(&mut self, variant: &str) -> u32 {
        let at = self.variants.iter().position(|v| **v == *variant).unwrap_or_else(|| {
            self.variants.push(variant.into());
            self.variants.len() - 1
        });
        u32::try_from(at).expect("fewer variants than keys")
    }

    /// Records a context of an event: `first` for the event's first context of the experiment
    /// (a new copy of the event), otherwise another context of the same copy.
    pub(crate) fn record(&mut self, at: EventAt, first: bool, seen: Seen) {
        if !first {
            if self.events.get(&at).is_some_and(|e| e.count == 1) {
                self.more.entry(at).or_default().push((seen.key, seen.variant));
            }
            return;
        }
        match self.events.entry(at) {
            Entry::Occupied(mut e) => {
                if e.get().count == 1 {
                    e.get_mut().count = 2;
                    self.more.remove(&at);
                }
            }
            Entry::Vacant(e) => {
                e.insert(Seen { count: 1, ..seen });
            }
        }
    }

    /// Records `seen`, read from a state file or another partition, whose key ids `at_key`
    /// translates and whose variant is named `variant`, with its further contexts.
    pub(crate) fn absorb(
        &mut self,
        at: EventAt,
        seen: Seen,
        variant: &str,
        more: impl IntoIterator<Item = (u32, Box<str>)>,
    ) {
        match self.events.entry(at) {
            Entry::Occupied(mut e) => {
                if e.get().count == 1 {
                    e.get_mut().count = 2;
                    self.more.remove(&at);
                }
            }
            Entry::Vacant(_) if seen.count > 1 => {
                self.events
                    .insert(at, Seen { key: 0, variant: 0, steps: 0, time: 0, accepted: false, count: 2 });
            }
            Entry::Vacant(_) => {
                let variant = self.variant(variant);
                self.events.insert(at, Seen { variant, count: 1, ..seen });
                let more: Vec<(u32, u32)> =
                    more.into_iter().map(|(key, v)| (key, self.variant(&v))).collect();
                if !more.is_empty() {
                    self.more.insert(at, more);
                }
            }
        }
    }

    /// Merges `other` (another partition of the same funnel), its key ids translated by
    /// `at_key`: counts add.
    pub(crate) fn merge(&mut self, other: Dedup, at_key: impl Fn(u32) -> u32) {
        let Dedup { variants, events, mut more } = other;
        for (at, seen) in events {
            let further = more.remove(&at).unwrap_or_default();
            let further = further.into_iter().map(|(key, v)| (at_key(key), variants[v as usize].clone()));
            let name = if seen.count == 1 { &*variants[seen.variant as usize] } else { "" };
            self.absorb(at, Seen { key: at_key(seen.key), ..seen }, name, further);
        }
    }

    /// The variants' keys and each step's first times of the events seen once that passed the
    /// funnel's filters: what the funnel counts.
    pub(crate) fn fold(&self, steps: usize) -> (VariantSets, Vec<FirstTimes>) {
        let mut variants = VariantSets::default();
        let mut times = vec![FirstTimes::default(); steps];
        let names: Vec<&str> = self.variants.iter().map(|v| &**v).collect();
        for (at, seen) in &self.events {
            if seen.count != 1 || !seen.accepted {
                continue;
            }
            let more = self.more.get(at).map_or(&[][..], Vec::as_slice);
            for &(key, variant) in std::iter::once(&(seen.key, seen.variant)).chain(more) {
                variants.entry(names[variant as usize]).push(key);
                for (s, step) in times.iter_mut().enumerate() {
                    if seen.steps & (1 << s) != 0 {
                        step.push(key, seen.time);
                    }
                }
            }
        }
        (variants, times)
    }

    /// Events held (seen once or more).
    pub(crate) fn len(&self) -> usize {
        self.events.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(key: u32, variant: u32, steps: u64) -> Seen {
        Seen { time: 10, steps, key, variant, count: 1, accepted: true }
    }

    fn counted(dedup: &Dedup) -> Vec<(String, Vec<u32>)> {
        let (mut variants, _) = dedup.fold(2);
        let mut out: Vec<(String, Vec<u32>)> =
            variants.0.iter_mut().map(|(v, b)| (v.to_string(), b.finish().iter().collect())).collect();
        out.sort();
        out
    }

    #[test]
    fn every_copy_goes_in_one_partition_or_across_several() {
        let (a, b) = (event_at(1, 7), event_at(1, 8));
        let mut one = Dedup::default();
        let control = one.variant("control");
        one.record(a, true, seen(1, control, 1));
        one.record(b, true, seen(2, control, 1));
        one.record(b, false, seen(3, control, 1));
        assert_eq!(counted(&one), [("control".to_owned(), vec![1, 2, 3])]);
        // A second copy of b in the same partition takes back both its contexts.
        let mut twice = one.clone();
        twice.record(b, true, seen(2, control, 1));
        twice.record(b, false, seen(3, control, 1));
        assert_eq!(counted(&twice), [("control".to_owned(), vec![1])]);
        // ... and in another partition, whose variants are numbered otherwise.
        let mut other = Dedup::default();
        let candidate = other.variant("candidate");
        other.record(b, true, seen(9, candidate, 2));
        other.record(event_at(2, 8), true, seen(4, candidate, 2));
        let mut merged = one.clone();
        merged.merge(other.clone(), |k| k);
        assert_eq!(counted(&merged), [("candidate".to_owned(), vec![4]), ("control".to_owned(), vec![1])]);
        // A third copy stays a duplicate; merging is order-free.
        let mut reversed = other;
        reversed.merge(one, |k| k);
        assert_eq!(counted(&reversed), counted(&merged));
        reversed.record(b, true, seen(5, 0, 1));
        assert_eq!(counted(&reversed), counted(&merged));
    }

    #[test]
    fn events_outside_the_funnel_still_make_duplicates() {
        let a = event_at(1, 7);
        let mut dedup = Dedup::default();
        dedup.record(a, true, Seen { accepted: false, ..seen(1, 0, 1) });
        dedup.variant("control");
        assert!(counted(&dedup).is_empty());
        let mut other = Dedup::default();
        let control = other.variant("control");
        other.record(a, true, seen(1, control, 1));
        assert_eq!(counted(&other), [("control".to_owned(), vec![1])]);
        other.merge(dedup, |k| k);
        assert!(counted(&other).is_empty());
    }
}
