//! Key interning: context key strings to dense `u32` ids, the universe of the bitmaps.
//!
//! Keys live back to back in one byte arena; the hash table holds only ids. That keeps a
//! 64-character key at about 80 bytes instead of a boxed string's 100 or more.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

/// An append-only dictionary of keys; ids are dense, in order of first sight.
#[derive(Default, Clone)]
pub struct KeyDict {
    table: HashTable<u32>,
    /// End offset in `bytes` of each key; key `i` starts where key `i - 1` ends.
    ends: Vec<usize>,
    bytes: Vec<u8>,
    hasher: DefaultHashBuilder,
}

impl KeyDict {
    /// The id of `key`, adding it if new.
    ///
    /// # Panics
    /// Past `u32::MAX` distinct keys.
    pub fn intern(&mut self, key: &[u8]) -> u32 {
        let hash = self.hasher.hash_one(key);
        let Self { table, ends, bytes, hasher } = self;
        let lookup = |id: &u32| slice(ends, bytes, *id);
        if let Some(&id) = table.find(hash, |id| lookup(id) == key) {
            return id;
        }
        let id = u32::try_from(ends.len()).expect("more than 4 billion distinct context keys");
        bytes.extend_from_slice(key);
        ends.push(bytes.len());
        table.insert_unique(hash, id, |id| hasher.hash_one(slice(ends, bytes, *id)));
        id
    }

    /// The key of `id`.
    ///
    /// # Panics
    /// When `id` was not handed out by this dictionary.
    #[must_use]
    pub fn get(&self, id: u32) -> &[u8] {
        slice(&self.ends, &self.bytes, id)
    }

    /// Number of distinct keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether no key was interned.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

fn slice<'a>(ends: &[usize], bytes: &'a [u8], id: u32) -> &'a [u8] {
    let id = id as usize;
    let start = if id == 0 { 0 } else { ends[id - 1] };
    &bytes[start..ends[id]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_dense_and_stable() {
        let mut dict = KeyDict::default();
        let keys: Vec<String> = (0..10_000).map(|i| format!("{i:064x}")).collect();
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(dict.intern(k.as_bytes()) as usize, i);
        }
        for (i, k) in keys.iter().enumerate().rev() {
            assert_eq!(dict.intern(k.as_bytes()) as usize, i);
            assert_eq!(dict.get(i as u32), k.as_bytes());
        }
        assert_eq!(dict.len(), keys.len());
        assert_eq!(dict.intern(b""), 10_000);
        assert_eq!(dict.get(10_000), b"");
    }
}
