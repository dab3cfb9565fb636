//! Migration keys: an experiment context's `migration_keys` name older keys of the same
//! subject. Every key is unified with the keys it names, transitively (`a` names `b`, `b`
//! names `c`: one subject), and the subject is counted once, under its smallest key id.

use std::borrow::Cow;

use hashbrown::HashMap;
use roaring::RoaringBitmap;

use crate::breakdown::FirstValues;
use crate::times::FirstTimes;

/// The subjects of an experiment's keys: a union-find over the key ids that take part in a
/// migration, flattened so that each lookup is one hash probe.
#[derive(Clone, Debug, Default)]
pub(crate) struct Unifier {
    /// Each key id in a migration, to the smallest id of its subject.
    root: HashMap<u32, u32>,
    /// The ids in `root`.
    members: RoaringBitmap,
}

impl Unifier {
    /// Unifies each `(older, current)` pair.
    pub(crate) fn new(pairs: impl IntoIterator<Item = (u32, u32)>) -> Self {
        let mut parent: HashMap<u32, u32> = HashMap::new();
        fn find(parent: &mut HashMap<u32, u32>, id: u32) -> u32 {
            let mut root = id;
            while let Some(&p) = parent.get(&root).filter(|&&p| p != root) {
                root = p;
            }
            // Path compression: every id on the way now points at the root.
            let mut at = id;
            while at != root {
                let next = parent.insert(at, root).unwrap_or(root);
                at = next;
            }
            root
        }
        for (a, b) in pairs {
            parent.entry(a).or_insert(a);
            parent.entry(b).or_insert(b);
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            if ra != rb {
                // The smaller id is the root, so the result does not depend on the pair order.
                parent.insert(ra.max(rb), ra.min(rb));
            }
        }
        let ids: Vec<u32> = parent.keys().copied().collect();
        let root: HashMap<u32, u32> = ids.iter().map(|&id| (id, find(&mut parent, id))).collect();
        let members = ids.into_iter().collect();
        Unifier { root, members }
    }

    /// The subject `id` counts as: the smallest key id of its subject.
    pub(crate) fn subject(&self, id: u32) -> u32 {
        self.root.get(&id).copied().unwrap_or(id)
    }

    /// Every key id of `subject` (its smallest id), when it has more than one; else none.
    pub(crate) fn keys_of(&self, subject: u32) -> Vec<u32> {
        let mut keys: Vec<u32> =
            self.root.iter().filter(|(_, root)| **root == subject).map(|(id, _)| *id).collect();
        keys.sort_unstable();
        keys
    }

    /// Whether no key takes part in a migration.
    pub(crate) fn is_empty(&self) -> bool {
        self.root.is_empty()
    }

    /// `keys` with every key replaced by its subject's id (borrowed when nothing changes).
    pub(crate) fn apply<'k>(&self, keys: &'k RoaringBitmap) -> Cow<'k, RoaringBitmap> {
        if self.is_empty() || keys.is_disjoint(&self.members) {
            return Cow::Borrowed(keys);
        }
        let migrated = keys & &self.members;
        let mut out = keys - &migrated;
        out.extend(migrated.iter().map(|id| self.root[&id]));
        Cow::Owned(out)
    }
}

impl Unifier {
    /// `times` seen by subject: the time of a subject's smallest id is the earliest time of any
    /// of its keys (its other ids are never asked for: key sets name subjects by that id).
    pub(crate) fn apply_times<'t>(&self, times: &'t FirstTimes) -> SubjectTimes<'t> {
        let mut subjects: HashMap<u32, i64> = HashMap::new();
        for id in &self.members {
            if let Some(time) = times.get(id) {
                let earliest = subjects.entry(self.root[&id]).or_insert(time);
                *earliest = (*earliest).min(time);
            }
        }
        SubjectTimes { times, subjects }
    }
}

impl Unifier {
    /// `values` seen by subject: a subject's first step-1 `(time, value hash)` is the smallest
    /// of its keys'.
    pub(crate) fn apply_values<'v>(&self, values: &'v FirstValues) -> SubjectValues<'v> {
        let mut subjects: HashMap<u32, (i64, u64)> = HashMap::new();
        for id in &self.members {
            if let Some(first) = values.get(id) {
                let earliest = subjects.entry(self.root[&id]).or_insert(first);
                *earliest = (*earliest).min(first);
            }
        }
        SubjectValues { values, subjects }
    }
}

/// A breakdown's first values by subject (see [`Unifier::apply_values`]).
pub(crate) struct SubjectValues<'v> {
    values: &'v FirstValues,
    subjects: HashMap<u32, (i64, u64)>,
}

impl SubjectValues<'_> {
    /// The hash of the value of the first step-1 event of the subject (or key) `id`.
    #[inline]
    pub(crate) fn get(&self, id: u32) -> Option<u64> {
        self.subjects.get(&id).copied().or_else(|| self.values.get(id)).map(|(_, hash)| hash)
    }
}

/// A step's first times by subject (see [`Unifier::apply_times`]).
pub(crate) struct SubjectTimes<'t> {
    times: &'t FirstTimes,
    /// The earliest time of each subject of several keys that did the step, by its smallest id.
    subjects: HashMap<u32, i64>,
}

impl SubjectTimes<'_> {
    /// The earliest time of the subject (or key) `id`, if it did the step.
    #[inline]
    pub(crate) fn get(&self, id: u32) -> Option<i64> {
        match self.subjects.get(&id) {
            Some(&time) => Some(time),
            None => self.times.get(id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[u32]) -> RoaringBitmap {
        ids.iter().copied().collect()
    }

    #[test]
    fn chains_and_merges_unify_transitively_whatever_the_order() {
        // 5 -> 3 -> 9 and 7 -> 9: one subject {3, 5, 7, 9}; 1 -> 2 another.
        let pairs = [(5, 3), (3, 9), (7, 9), (1, 2)];
        let u = Unifier::new(pairs);
        let mut reversed = pairs;
        reversed.reverse();
        let r = Unifier::new(reversed);
        for unifier in [&u, &r] {
            assert_eq!(*unifier.apply(&set(&[5, 9, 4])), set(&[3, 4]));
            assert_eq!(*unifier.apply(&set(&[7])), set(&[3]));
            assert_eq!(*unifier.apply(&set(&[2, 3, 8])), set(&[1, 3, 8]));
        }
        assert!(Unifier::new([]).is_empty());
        assert_eq!(*Unifier::new([]).apply(&set(&[1, 2])), set(&[1, 2]));
    }

    #[test]
    fn subjects_take_the_earliest_time_of_their_keys() {
        let u = Unifier::new([(5, 3), (3, 9), (1, 2)]);
        let times: FirstTimes = [(5, 50), (9, 20), (3, 70), (2, 8), (4, 1)].into_iter().collect();
        let by_subject = u.apply_times(&times);
        assert_eq!(by_subject.get(3), Some(20));
        assert_eq!(by_subject.get(1), Some(8));
        assert_eq!(by_subject.get(4), Some(1));
        assert_eq!(by_subject.get(6), None);
    }

    #[test]
    fn a_key_naming_itself_changes_nothing() {
        let u = Unifier::new([(4, 4)]);
        assert_eq!(*u.apply(&set(&[4, 6])), set(&[4, 6]));
    }
}
