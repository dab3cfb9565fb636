//! What `explain` counts per funnel while reading, beside the engine's state: the events each
//! per-event rule removed, how far each key's events got, and the events that passed every
//! per-event rule (for the rules decided on the whole state: duplicates, conflicts, steps).

use hashbrown::HashMap;
use hashbrown::hash_map::Entry;

use super::row::EVENT_ROWS;
use crate::dedup::EventAt;

/// An event that passed every per-event rule: its month and id (under the duplicate rule) and
/// its contexts of the funnel's experiment, `(key, variant)`, at `first..first + len` of
/// [`FunnelTally::contexts`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Survivor {
    pub(crate) at: EventAt,
    pub(crate) first: u32,
    pub(crate) len: u32,
}

/// One funnel's counts, mergeable across partitions that share a key dictionary.
#[derive(Clone, Debug, Default)]
pub(crate) struct FunnelTally {
    /// Variant names, by index.
    pub(crate) variants: Vec<Box<str>>,
    /// Events removed at each row of [`EVENT_ROWS`], all variants together.
    pub(crate) removed: [u64; EVENT_ROWS.len()],
    /// Per variant: the events with a context of it removed at each row.
    pub(crate) removed_by_variant: Vec<[u64; EVENT_ROWS.len()]>,
    /// Per `(key, variant)`: the furthest row of [`EVENT_ROWS`] its events reached (the index
    /// of the row that removed its last ones, or `EVENT_ROWS.len()` when one passed them all).
    pub(crate) key_fate: HashMap<(u32, u32), u8>,
    /// The events that passed every per-event row.
    pub(crate) survivors: Vec<Survivor>,
    /// Their contexts, `(key, variant)`, each once per event.
    pub(crate) contexts: Vec<(u32, u32)>,
}

impl FunnelTally {
    /// The index of `variant`, added when new.
    pub(crate) fn variant(&mut self, variant: &str) -> u32 {
        let at = self.variants.iter().position(|v| **v == *variant).unwrap_or_else(|| {
            self.variants.push(variant.into());
            self.removed_by_variant.push([0; EVENT_ROWS.len()]);
            self.variants.len() - 1
        });
        u32::try_from(at).expect("fewer variants than keys")
    }

    /// Counts an event removed at row `fate` of [`EVENT_ROWS`] (or passing them all, at
    /// `EVENT_ROWS.len()`), with its contexts of the funnel's experiment (each once) and, for
    /// the duplicate rule, its month and id.
    pub(crate) fn record(&mut self, fate: usize, contexts: &[(u32, u32)], at: EventAt) {
        for &context in contexts {
            let fate = u8::try_from(fate).expect("a handful of rows");
            self.key_fate.entry(context).and_modify(|f| *f = (*f).max(fate)).or_insert(fate);
        }
        if fate < EVENT_ROWS.len() {
            self.removed[fate] += 1;
            for (i, &(_, variant)) in contexts.iter().enumerate() {
                // Once per variant: an event of two keys of one variant is one event of it.
                if contexts[..i].iter().all(|&(_, v)| v != variant) {
                    self.removed_by_variant[variant as usize][fate] += 1;
                }
            }
            return;
        }
        let first = u32::try_from(self.contexts.len()).expect("fewer contexts than 2^32");
        self.contexts.extend_from_slice(contexts);
        let len = u32::try_from(contexts.len()).expect("a line's contexts");
        self.survivors.push(Survivor { at, first, len });
    }

    /// The contexts of `survivor`.
    pub(crate) fn contexts_of(&self, survivor: &Survivor) -> &[(u32, u32)] {
        &self.contexts[survivor.first as usize..(survivor.first + survivor.len) as usize]
    }

    /// Adds `other` (another partition of the same funnel, sharing its key ids).
    pub(crate) fn merge(&mut self, other: FunnelTally) {
        let remap: Vec<u32> = other.variants.iter().map(|v| self.variant(v)).collect();
        for (mine, theirs) in self.removed.iter_mut().zip(other.removed) {
            *mine += theirs;
        }
        for (v, theirs) in other.removed_by_variant.into_iter().enumerate() {
            for (mine, theirs) in self.removed_by_variant[remap[v] as usize].iter_mut().zip(theirs) {
                *mine += theirs;
            }
        }
        for ((key, variant), fate) in other.key_fate {
            match self.key_fate.entry((key, remap[variant as usize])) {
                Entry::Occupied(mut e) => *e.get_mut() = (*e.get()).max(fate),
                Entry::Vacant(e) => {
                    e.insert(fate);
                }
            }
        }
        let offset = u32::try_from(self.contexts.len()).expect("fewer contexts than 2^32");
        self.contexts.extend(other.contexts.into_iter().map(|(key, v)| (key, remap[v as usize])));
        self.survivors.extend(other.survivors.into_iter().map(|s| Survivor { first: s.first + offset, ..s }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_events_once_per_variant_and_merges_by_variant_name() {
        let mut one = FunnelTally::default();
        let (a, b) = (one.variant("control"), one.variant("candidate"));
        one.record(3, &[(1, a), (2, a), (3, b)], (0, 0, 1));
        one.record(EVENT_ROWS.len(), &[(1, a)], (0, 0, 2));
        assert_eq!(one.removed[3], 1);
        assert_eq!((one.removed_by_variant[a as usize][3], one.removed_by_variant[b as usize][3]), (1, 1));
        assert_eq!(one.key_fate[&(1, a)], 9);
        let mut other = FunnelTally::default();
        let b2 = other.variant("candidate");
        other.record(5, &[(3, b2)], (0, 0, 3));
        other.record(EVENT_ROWS.len(), &[(4, b2)], (0, 0, 4));
        one.merge(other);
        assert_eq!(one.variants.len(), 2);
        assert_eq!(one.key_fate[&(3, b)], 5);
        assert_eq!(one.removed_by_variant[b as usize][5], 1);
        let last = one.survivors[1];
        assert_eq!(one.contexts_of(&last), [(4, b)]);
    }
}
