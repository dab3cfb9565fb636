//! The manifest of a state: which input objects it counted, and which version of each, so that
//! merging states never counts an object twice and an incremental run reads only what is new;
//! and, for the states of a sharded run, which of its shards they hold, so that a merge missing
//! one is caught.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// One input object a state counted.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// The local path or `s3://bucket/key` URL, as the run named it.
    pub input: String,
    /// Its size in bytes when it was read.
    pub size: u64,
    /// What identifies its content, as the caller gives it: the S3 ETag, or a file's mtime.
    pub version: String,
}

/// The input objects of a state, each at most once, sorted by [`ManifestEntry::input`], and
/// the shards of a sharded run it holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    entries: BTreeMap<String, ManifestEntry>,
    shards: Option<Shards>,
}

/// Which shards of a sharded run (of `count` shards) a state holds: one for the state of a
/// shard, more once merged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shards {
    count: u32,
    held: BTreeSet<u32>,
}

impl Shards {
    /// Shard `index` (below `count`) alone.
    #[must_use]
    pub fn one(index: u32, count: u32) -> Shards {
        debug_assert!(index < count, "shard {index} of {count}");
        Shards { count, held: BTreeSet::from([index]) }
    }

    /// The number of shards of the run.
    #[must_use]
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The shards held, in order.
    pub fn held(&self) -> impl ExactSizeIterator<Item = u32> + '_ {
        self.held.iter().copied()
    }

    /// The shards not held, in order.
    #[must_use]
    pub fn missing(&self) -> Vec<u32> {
        (0..self.count).filter(|i| !self.held.contains(i)).collect()
    }

    /// Whether every shard is held.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.held.len() == self.count as usize
    }

    /// Checks a shard set read from a file: a count of at least 1, indexes below it.
    pub(crate) fn from_parts(count: u32, held: Vec<u32>) -> Option<Shards> {
        let len = held.len();
        let held: BTreeSet<u32> = held.into_iter().collect();
        (count > 0 && held.len() == len && !held.is_empty() && held.iter().all(|&i| i < count))
            .then_some(Shards { count, held })
    }
}

/// An input object found in two manifests (or twice in one): its events would count twice.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("input {input} would be counted twice")]
pub struct DuplicateInput {
    /// The input found twice.
    pub input: String,
}

/// Why two manifests cannot merge.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// An input in both.
    #[error(transparent)]
    DuplicateInput(#[from] DuplicateInput),
    /// The same shard in both.
    #[error("shard {index} of {count} would be counted twice")]
    DuplicateShard {
        /// The shard index.
        index: u32,
        /// The number of shards.
        count: u32,
    },
    /// Shards of runs split differently.
    #[error("states of runs of {0} and of {1} shards cannot merge: their shards overlap")]
    ShardCounts(u32, u32),
    /// States written with different `--breakdown` fields.
    #[error(
        "states written with different --breakdown fields cannot merge: {} here, {} in the states before; \
         write every shard with the same --breakdown fields",
        list_fields(this),
        list_fields(before)
    )]
    DifferentBreakdowns {
        /// The fields of the states before, sorted.
        before: Vec<String>,
        /// The fields of this one, sorted.
        this: Vec<String>,
    },
}

/// Breakdown fields for a message: `a, b`, or `none`.
pub(crate) fn list_fields(fields: &[String]) -> String {
    if fields.is_empty() { "none".to_owned() } else { fields.join(", ") }
}

/// How an input compares with the manifest's record of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputStatus<'m> {
    /// Not in the manifest: not counted yet.
    New,
    /// In the manifest with the same size and version: already counted.
    Unchanged,
    /// In the manifest with another size or version: it changed after it was counted.
    Changed {
        /// What the manifest holds.
        counted: &'m ManifestEntry,
    },
}

impl Manifest {
    /// An empty manifest.
    #[must_use]
    pub fn new() -> Self {
        Manifest::default()
    }

    /// Adds `entry`.
    ///
    /// # Errors
    /// [`DuplicateInput`] when its input is already there (the manifest is left unchanged).
    pub fn insert(&mut self, entry: ManifestEntry) -> Result<(), DuplicateInput> {
        match self.entries.entry(entry.input.clone()) {
            std::collections::btree_map::Entry::Occupied(e) => Err(DuplicateInput { input: e.key().clone() }),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(entry);
                Ok(())
            }
        }
    }

    /// Adds every entry and shard of `other`, for the merge of two states.
    ///
    /// # Errors
    /// [`MergeError::DuplicateInput`] naming the first input (in input order) that both hold,
    /// [`MergeError::DuplicateShard`] for a shard that both hold, [`MergeError::ShardCounts`]
    /// for shards of runs of different shard counts; `self` is then left unchanged.
    pub fn merge(&mut self, other: Manifest) -> Result<(), MergeError> {
        self.check_disjoint(&other)?;
        let shards = match (self.shards.take(), other.shards) {
            (Some(mut mine), Some(theirs)) => {
                let conflict = if mine.count != theirs.count {
                    Some(MergeError::ShardCounts(mine.count, theirs.count))
                } else {
                    mine.held
                        .intersection(&theirs.held)
                        .next()
                        .map(|&index| MergeError::DuplicateShard { index, count: mine.count })
                };
                if let Some(conflict) = conflict {
                    self.shards = Some(mine);
                    return Err(conflict);
                }
                mine.held.extend(theirs.held);
                Some(mine)
            }
            (mine, theirs) => mine.or(theirs),
        };
        self.shards = shards;
        self.entries.extend(other.entries);
        Ok(())
    }

    /// The shards of a sharded run this manifest holds, if it holds any.
    #[must_use]
    pub fn shards(&self) -> Option<&Shards> {
        self.shards.as_ref()
    }

    /// Records that the inputs are those of shard `index` of `count`.
    pub fn set_shard(&mut self, index: u32, count: u32) {
        self.shards = Some(Shards::one(index, count));
    }

    pub(crate) fn set_shards(&mut self, shards: Option<Shards>) {
        self.shards = shards;
    }

    /// Whether `self` and `other` can merge: no input in both.
    ///
    /// # Errors
    /// [`DuplicateInput`] naming the first input (in input order) that both hold.
    pub fn check_disjoint(&self, other: &Manifest) -> Result<(), DuplicateInput> {
        let (small, large) = if self.len() <= other.len() {
            (&self.entries, &other.entries)
        } else {
            (&other.entries, &self.entries)
        };
        match small.keys().find(|input| large.contains_key(*input)) {
            Some(input) => Err(DuplicateInput { input: input.clone() }),
            None => Ok(()),
        }
    }

    /// The entry of `input`, if the manifest has it.
    #[must_use]
    pub fn get(&self, input: &str) -> Option<&ManifestEntry> {
        self.entries.get(input)
    }

    /// How the object `current` (its input, size and version now) compares with the manifest.
    #[must_use]
    pub fn status(&self, current: &ManifestEntry) -> InputStatus<'_> {
        match self.entries.get(&current.input) {
            None => InputStatus::New,
            Some(counted) if counted.size == current.size && counted.version == current.version => {
                InputStatus::Unchanged
            }
            Some(counted) => InputStatus::Changed { counted },
        }
    }

    /// The entries whose input starts with `prefix`, sorted by input.
    pub fn under<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a ManifestEntry> + 'a {
        use std::ops::Bound;
        self.entries
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(move |(input, _)| input.starts_with(prefix))
            .map(|(_, entry)| entry)
    }

    /// The entries, sorted by input.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &ManifestEntry> + '_ {
        self.entries.values()
    }

    /// Number of inputs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the manifest has no input.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A manifest of `entries`.
    ///
    /// # Errors
    /// [`DuplicateInput`] when an input comes twice.
    pub fn from_entries(entries: impl IntoIterator<Item = ManifestEntry>) -> Result<Self, DuplicateInput> {
        let mut manifest = Manifest::new();
        for entry in entries {
            manifest.insert(entry)?;
        }
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(input: &str, size: u64, version: &str) -> ManifestEntry {
        ManifestEntry { input: input.into(), size, version: version.into() }
    }

    #[test]
    fn merging_disjoint_manifests_unites_them_in_input_order() {
        let mut a = Manifest::from_entries([entry("s3://b/2", 2, "e2"), entry("s3://b/0", 0, "e0")]).unwrap();
        let b = Manifest::from_entries([entry("s3://b/1", 1, "e1")]).unwrap();
        a.merge(b).unwrap();
        let inputs: Vec<&str> = a.iter().map(|e| e.input.as_str()).collect();
        assert_eq!(inputs, ["s3://b/0", "s3://b/1", "s3://b/2"]);
        assert_eq!(a.get("s3://b/1"), Some(&entry("s3://b/1", 1, "e1")));
        assert_eq!(a.get("s3://b/3"), None);
        let under: Vec<&str> = a.under("s3://b/1").map(|e| e.input.as_str()).collect();
        assert_eq!(under, ["s3://b/1"]);
        assert_eq!(a.under("s3://b/").count(), 3);
        assert_eq!(a.under("s3://c/").count(), 0);
    }

    #[test]
    fn the_same_input_twice_is_an_error_naming_it() {
        let mut a = Manifest::from_entries([entry("x.gz", 1, "t1"), entry("y.gz", 1, "t1")]).unwrap();
        let b = Manifest::from_entries([entry("z.gz", 1, "t1"), entry("y.gz", 5, "t9")]).unwrap();
        let before = a.clone();
        let e = a.merge(b).unwrap_err();
        assert_eq!(e, MergeError::DuplicateInput(DuplicateInput { input: "y.gz".into() }));
        assert_eq!(e.to_string(), "input y.gz would be counted twice");
        assert_eq!(a, before, "a failed merge changes nothing");
        assert_eq!(a.insert(entry("x.gz", 1, "t1")), Err(DuplicateInput { input: "x.gz".into() }));
        assert!(Manifest::from_entries([entry("x", 1, "a"), entry("x", 1, "a")]).is_err());
    }

    #[test]
    fn shards_merge_into_the_shards_held_and_say_which_are_missing() {
        let shard = |index: u32, count: u32, input: &str| {
            let mut m = Manifest::from_entries([entry(input, 1, "e")]).unwrap();
            m.set_shard(index, count);
            m
        };
        let mut merged = shard(2, 4, "c");
        merged.merge(shard(0, 4, "a")).unwrap();
        merged.merge(Manifest::from_entries([entry("z", 1, "e")]).unwrap()).unwrap();
        let shards = merged.shards().unwrap();
        assert_eq!((shards.count(), shards.held().collect::<Vec<_>>()), (4, vec![0, 2]));
        assert_eq!(shards.missing(), vec![1, 3]);
        assert!(!shards.is_complete());

        let before = merged.clone();
        assert_eq!(merged.merge(shard(2, 4, "d")), Err(MergeError::DuplicateShard { index: 2, count: 4 }));
        assert_eq!(merged.merge(shard(1, 8, "e")), Err(MergeError::ShardCounts(4, 8)));
        assert_eq!(merged, before, "a failed merge changes nothing");
        merged.merge(shard(1, 4, "b")).unwrap();
        merged.merge(shard(3, 4, "d")).unwrap();
        assert!(merged.shards().unwrap().is_complete());
        assert_eq!(Manifest::new().shards(), None);
        assert_eq!(Shards::from_parts(4, vec![0, 0]), None, "a shard twice");
        assert_eq!(Shards::from_parts(4, vec![4]), None, "out of range");
        assert_eq!(Shards::from_parts(0, vec![]), None);
    }

    #[test]
    fn status_tells_new_unchanged_and_changed_inputs_apart() {
        let m = Manifest::from_entries([entry("a", 10, "etag-1")]).unwrap();
        assert_eq!(m.status(&entry("b", 10, "etag-1")), InputStatus::New);
        assert_eq!(m.status(&entry("a", 10, "etag-1")), InputStatus::Unchanged);
        let counted = m.get("a").unwrap();
        assert_eq!(m.status(&entry("a", 11, "etag-1")), InputStatus::Changed { counted });
        assert_eq!(m.status(&entry("a", 10, "etag-2")), InputStatus::Changed { counted });
    }
}
