//! First times: per key, the earliest time it did a funnel step. Merging keeps the minimum, so
//! partial states still merge exactly, in any order; the key sets of the steps are their keys.
//!
//! Kept compact, as a step can hold a time for most of tens of millions of keys: the times in
//! key id order (8 bytes each, in chunks), and a bit per key id with a rank directory to find a
//! key's place among them. New keys wait in a buffer, sorted and merged in when it fills (or
//! when the times are read): a merge streams the old chunks into new ones, freeing each as it
//! goes, so it needs little more than the times themselves.

use roaring::RoaringBitmap;

use snowfunnel_keys::Chunked;

/// Buffered new keys that start a merge, at least.
const MIN_PENDING: usize = 1 << 14;
/// ... or this fraction of the keys held (1/8): each merge rewrites them all.
const PENDING_SHIFT: u32 = 3;

/// A set of key ids with rank: a bit per id, and the number of ids before each group of
/// [`GROUP`] words.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct IdSet {
    words: Vec<u64>,
    ranks: Vec<u32>,
}

/// Words per rank entry: a rank is one lookup and at most 7 popcounts.
const GROUP: usize = 8;

impl IdSet {
    #[inline]
    fn contains(&self, id: u32) -> bool {
        self.words.get(id as usize / 64).is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    /// The number of ids below `id` (the ranks must be up to date).
    #[inline]
    fn rank(&self, id: u32) -> usize {
        let word = id as usize / 64;
        let group = word / GROUP;
        let mut rank = self.ranks[group] as usize;
        for w in &self.words[group * GROUP..word] {
            rank += w.count_ones() as usize;
        }
        rank + (self.words[word] & ((1 << (id % 64)) - 1)).count_ones() as usize
    }

    fn insert(&mut self, id: u32) {
        let word = id as usize / 64;
        if word >= self.words.len() {
            self.words.resize(word + 1, 0);
        }
        self.words[word] |= 1 << (id % 64);
    }

    fn rebuild_ranks(&mut self) {
        self.ranks.clear();
        let mut rank = 0u32;
        for group in self.words.chunks(GROUP) {
            self.ranks.push(rank);
            rank += group.iter().map(|w| w.count_ones()).sum::<u32>();
        }
    }

    /// The ids, descending.
    fn iter_rev(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().rev().flat_map(|(i, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = 63 - rest.leading_zeros();
                    rest &= !(1 << bit);
                    #[allow(clippy::cast_possible_truncation)] // ids are u32
                    let id = (i * 64) as u32 + bit;
                    id
                })
            })
        })
    }

    /// The ids, ascending.
    fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros();
                    rest &= rest - 1;
                    #[allow(clippy::cast_possible_truncation)] // ids are u32
                    let id = (i * 64) as u32 + bit;
                    id
                })
            })
        })
    }
}

/// The earliest event time (microseconds) per key id.
#[derive(Clone, Debug, Default)]
pub struct FirstTimes {
    ids: IdSet,
    /// The time of each id in `ids`, in id order.
    times: Chunked<i64>,
    /// Keys not in `ids` yet, in no order, maybe several times each.
    pending: Vec<(u32, i64)>,
    /// Whether keys were appended since the ranks were counted.
    stale: bool,
}

impl FirstTimes {
    /// Records that `id` did the step at `time`.
    #[inline]
    pub fn push(&mut self, id: u32, time: i64) {
        if self.stale {
            self.flush();
        }
        if self.ids.contains(id) {
            let slot = self.times.get_mut(self.ids.rank(id));
            *slot = (*slot).min(time);
            return;
        }
        self.pending.push((id, time));
        if self.pending.len() >= MIN_PENDING.max(self.times.len() >> PENDING_SHIFT) {
            self.flush();
        }
    }

    /// Appends a key above every key held, with its time: reading a state back, in id order.
    pub(crate) fn push_last(&mut self, id: u32, time: i64) {
        debug_assert!(self.pending.is_empty() && self.ids.iter().last().is_none_or(|last| last < id));
        self.ids.insert(id);
        self.times.push(time);
        self.stale = true;
    }

    /// Brings the buffered keys in; reading needs it first.
    pub fn flush(&mut self) {
        if self.stale {
            self.ids.rebuild_ranks();
            self.stale = false;
        }
        if self.pending.is_empty() {
            return;
        }
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_unstable();
        // The earliest time of each key comes first.
        pending.dedup_by_key(|&mut (id, _)| id);
        self.merge_in(pending.iter().copied(), pending.iter().rev().copied());
    }

    /// Merges keys given in ascending and in descending id order (the same keys, each once),
    /// in place: keys held get the earlier time; the times of new keys go in between, the old
    /// times moving up from the end, so the times take only the room of the new keys more.
    fn merge_in(
        &mut self,
        ascending: impl Iterator<Item = (u32, i64)>,
        descending: impl Iterator<Item = (u32, i64)>,
    ) {
        let mut new = 0;
        for (id, time) in ascending {
            if self.ids.contains(id) {
                let slot = self.times.get_mut(self.ids.rank(id));
                *slot = (*slot).min(time);
            } else {
                new += 1;
            }
        }
        if new == 0 {
            return;
        }
        let held = self.times.len();
        let universe = self.ids.words.len() * 64;
        for _ in 0..new {
            self.times.push(0);
        }
        // From the largest new key down: the held times above it move up by the number of new
        // keys left, then it takes its place. A key's rank among the held ones is unaffected by
        // the new keys already set, all above it.
        let (mut from, mut to) = (held, held + new);
        for (id, time) in descending {
            // Held before (new keys set so far are all above it).
            if self.ids.contains(id) {
                continue;
            }
            let rank = if (id as usize) < universe { self.ids.rank(id) } else { held };
            while from > rank {
                from -= 1;
                to -= 1;
                *self.times.get_mut(to) = self.times.get(from);
            }
            to -= 1;
            *self.times.get_mut(to) = time;
            self.ids.insert(id);
        }
        debug_assert_eq!(from, to, "every new key placed");
        self.ids.rebuild_ranks();
    }

    /// The earliest time of `id`, if it did the step.
    ///
    /// # Panics
    /// When keys are still buffered: [`FirstTimes::flush`] first.
    #[must_use]
    #[inline]
    pub fn get(&self, id: u32) -> Option<i64> {
        assert!(self.pending.is_empty() && !self.stale, "FirstTimes read before flush");
        self.ids.contains(id).then(|| self.times.get(self.ids.rank(id)))
    }

    /// Keys that did the step (buffered ones included after a flush only).
    #[must_use]
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether no key did the step.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.times.len() == 0 && self.pending.is_empty()
    }

    /// The keys that did the step (after a flush).
    #[must_use]
    pub fn keys(&self) -> RoaringBitmap {
        RoaringBitmap::from_sorted_iter(self.ids.iter()).expect("ascending")
    }

    /// Every `(key id, first time)`, in ascending key id order.
    ///
    /// # Panics
    /// When keys are still buffered: [`FirstTimes::flush`] first.
    pub fn iter(&self) -> impl Iterator<Item = (u32, i64)> + '_ {
        assert!(self.pending.is_empty() && !self.stale, "FirstTimes read before flush");
        self.ids.iter().zip(self.times.iter())
    }

    /// Adds every key of `other`, whose ids are this side's ids. A few keys wait in the buffer
    /// like pushed ones; many merge in at once, into the larger of the two.
    pub fn union(&mut self, mut other: FirstTimes) {
        other.flush();
        self.flush();
        if other.len() > self.len() {
            std::mem::swap(self, &mut other);
        }
        if other.len() < MIN_PENDING.max(self.len() >> PENDING_SHIFT) {
            for (id, time) in other.iter() {
                self.push(id, time);
            }
            return;
        }
        let FirstTimes { ids, times, .. } = other;
        self.merge_in(ids.iter().zip(times.iter()), ids.iter_rev().zip(times.iter_rev()));
    }

    /// Adds every key of `other`, translated through `remap` (other's id → this side's id).
    pub fn union_remapped(&mut self, mut other: FirstTimes, remap: &[u32]) {
        other.flush();
        for (id, time) in other.iter() {
            self.push(remap[id as usize], time);
        }
    }
}

impl PartialEq for FirstTimes {
    fn eq(&self, other: &Self) -> bool {
        let (mut a, mut b) = (self.clone(), other.clone());
        a.flush();
        b.flush();
        a.ids == b.ids && a.times == b.times
    }
}

impl Eq for FirstTimes {}

impl FromIterator<(u32, i64)> for FirstTimes {
    fn from_iter<I: IntoIterator<Item = (u32, i64)>>(iter: I) -> Self {
        let mut times = FirstTimes::default();
        for (id, time) in iter {
            times.push(id, time);
        }
        times.flush();
        times
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn keeps_the_earliest_time_and_merges_by_minimum() {
        let mut a: FirstTimes = [(1, 50), (1, 40), (2, 7), (1, 45)].into_iter().collect();
        assert_eq!((a.get(1), a.get(2), a.get(3)), (Some(40), Some(7), None));
        let b: FirstTimes = [(0, 30), (1, 1)].into_iter().collect();
        // b's 0 is a's 1, b's 1 is a new key 9.
        a.union_remapped(b, &[1, 9]);
        a.flush();
        assert_eq!((a.get(1), a.get(2), a.get(9)), (Some(30), Some(7), Some(1)));
        assert_eq!(a.keys().iter().collect::<Vec<_>>(), vec![1, 2, 9]);
        assert_eq!(a.len(), 3);
        let c: FirstTimes = [(2, 3), (500, 8)].into_iter().collect();
        a.union(c);
        a.flush();
        assert_eq!(a.iter().collect::<Vec<_>>(), [(1, 30), (2, 3), (9, 1), (500, 8)]);
    }

    #[test]
    fn many_keys_in_random_order_match_a_map() {
        let mut times = FirstTimes::default();
        let mut expected = BTreeMap::new();
        let mut x = 1u64;
        for _ in 0..100_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            #[allow(clippy::cast_possible_truncation)]
            let (id, time) = ((x >> 40) as u32 % 40_000, (x % 1_000_000) as i64 - 500_000);
            times.push(id, time);
            let t = expected.entry(id).or_insert(time);
            *t = (*t).min(time);
        }
        times.flush();
        assert_eq!(times.len(), expected.len());
        assert!(times.iter().eq(expected.iter().map(|(&id, &t)| (id, t))));
        for id in [0, 1, 7_777, 39_999, 40_000, 5_000_000] {
            assert_eq!(times.get(id), expected.get(&id).copied());
        }
        let mut half = FirstTimes::default();
        for (&id, &t) in expected.iter().filter(|(id, _)| *id % 2 == 0) {
            half.push_last(id, t - 1);
        }
        half.flush();
        times.union(half);
        times.flush();
        assert!(times.iter().all(|(id, t)| t == expected[&id] - i64::from(id % 2 == 0)));
        expected.iter_mut().filter(|(id, _)| *id % 2 == 0).for_each(|(_, t)| *t -= 1);
        // A large set of new keys among the held ones merges in place.
        let mut wide = FirstTimes::default();
        for id in (0..120_000).step_by(3) {
            wide.push(id, -1);
            let t = expected.entry(id).or_insert(-1);
            *t = (*t).min(-1);
        }
        times.union(wide);
        times.flush();
        assert!(times.iter().eq(expected.iter().map(|(&id, &t)| (id, t))));
        assert_eq!(times.get(119_997), Some(-1));
    }
}
