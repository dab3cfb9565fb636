//! The manifest of a state: which input objects it counted, and which version of each, so that
//! merging states never counts an object twice and an incremental run reads only what is new.

use std::collections::BTreeMap;

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

/// The input objects of a state, each at most once, sorted by [`ManifestEntry::input`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    entries: BTreeMap<String, ManifestEntry>,
}

/// An input object found in two manifests (or twice in one): its events would count twice.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("input {input} would be counted twice")]
pub struct DuplicateInput {
    /// The input found twice.
    pub input: String,
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

    /// Adds every entry of `other`, for the merge of two states.
    ///
    /// # Errors
    /// [`DuplicateInput`] naming the first input (in input order) that both hold; `self` is
    /// then left unchanged.
    pub fn merge(&mut self, other: Manifest) -> Result<(), DuplicateInput> {
        self.check_disjoint(&other)?;
        self.entries.extend(other.entries);
        Ok(())
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
    }

    #[test]
    fn the_same_input_twice_is_an_error_naming_it() {
        let mut a = Manifest::from_entries([entry("x.gz", 1, "t1"), entry("y.gz", 1, "t1")]).unwrap();
        let b = Manifest::from_entries([entry("z.gz", 1, "t1"), entry("y.gz", 5, "t9")]).unwrap();
        let before = a.clone();
        let e = a.merge(b).unwrap_err();
        assert_eq!(e.input, "y.gz");
        assert_eq!(e.to_string(), "input y.gz would be counted twice");
        assert_eq!(a, before, "a failed merge changes nothing");
        assert_eq!(a.insert(entry("x.gz", 1, "t1")), Err(DuplicateInput { input: "x.gz".into() }));
        assert!(Manifest::from_entries([entry("x", 1, "a"), entry("x", 1, "a")]).is_err());
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
