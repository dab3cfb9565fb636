//! First times: per key, the earliest time it did a funnel step. Merging keeps the minimum, so
//! partial states still merge exactly, in any order; the key sets of the steps are their keys.

use hashbrown::HashMap;
use roaring::RoaringBitmap;

/// The earliest event time (microseconds) per key id.
#[derive(Default, Clone, Debug, PartialEq, Eq)]
pub struct FirstTimes {
    first: HashMap<u32, i64>,
}

impl FirstTimes {
    /// Room for `keys` keys without growing, for reading a state back.
    pub(crate) fn with_capacity(keys: usize) -> Self {
        FirstTimes { first: HashMap::with_capacity(keys) }
    }

    /// Records that `id` did the step at `time`.
    #[inline]
    pub fn push(&mut self, id: u32, time: i64) {
        self.first.entry(id).and_modify(|t| *t = (*t).min(time)).or_insert(time);
    }

    /// The earliest time of `id`, if it did the step.
    #[must_use]
    #[inline]
    pub fn get(&self, id: u32) -> Option<i64> {
        self.first.get(&id).copied()
    }

    /// Keys that did the step.
    #[must_use]
    pub fn len(&self) -> usize {
        self.first.len()
    }

    /// Whether no key did the step.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.first.is_empty()
    }

    /// The keys that did the step.
    #[must_use]
    pub fn keys(&self) -> RoaringBitmap {
        self.first.keys().copied().collect()
    }

    /// Every `(key id, first time)`, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, i64)> + '_ {
        self.first.iter().map(|(&id, &t)| (id, t))
    }

    /// Adds every key of `other`, translated through `remap` (other's id → this side's id).
    pub fn union_remapped(&mut self, other: FirstTimes, remap: &[u32]) {
        self.first.reserve(other.first.len());
        for (id, time) in other.first {
            self.push(remap[id as usize], time);
        }
    }
}

impl FromIterator<(u32, i64)> for FirstTimes {
    fn from_iter<I: IntoIterator<Item = (u32, i64)>>(iter: I) -> Self {
        let mut times = FirstTimes::default();
        for (id, time) in iter {
            times.push(id, time);
        }
        times
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_earliest_time_and_merges_by_minimum() {
        let mut a: FirstTimes = [(1, 50), (1, 40), (2, 7), (1, 45)].into_iter().collect();
        assert_eq!((a.get(1), a.get(2), a.get(3)), (Some(40), Some(7), None));
        let b: FirstTimes = [(0, 30), (1, 1)].into_iter().collect();
        // b's 0 is a's 1, b's 1 is a new key 9.
        a.union_remapped(b, &[1, 9]);
        assert_eq!((a.get(1), a.get(2), a.get(9)), (Some(30), Some(7), Some(1)));
        assert_eq!(a.keys().iter().collect::<Vec<_>>(), vec![1, 2, 9]);
        assert_eq!(a.len(), 3);
    }
}
