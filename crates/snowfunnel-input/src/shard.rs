//! Sharding: splitting the inputs of one big run into `COUNT` disjoint parts, one per worker
//! process, by a stable hash of each input's name.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// One of `count` disjoint parts of the inputs: the shard `index` reads the inputs whose name
/// ([`InputFile`](crate::InputFile)'s display: the path as listed, or `s3://bucket/key`)
/// [`shard_of`] puts in it. Every input is in exactly one shard of a given count, whatever the
/// machine, the build or the other inputs listed with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

/// Why a shard is not one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// Not `INDEX/COUNT`.
    #[error("expected INDEX/COUNT with a 0-based index, like 0/8")]
    Syntax,
    /// No shards at all.
    #[error("the shard count must be at least 1")]
    ZeroCount,
    /// An index at or past the count.
    #[error("shard index {index} is out of range: indexes of {count} shards go from 0 to {}", count - 1)]
    OutOfRange {
        /// The index given.
        index: u32,
        /// The count given.
        count: u32,
    },
}

impl Shard {
    /// Shard `index` (0-based) of `count`.
    ///
    /// # Errors
    /// [`ShardError::ZeroCount`], [`ShardError::OutOfRange`].
    pub fn new(index: u32, count: u32) -> Result<Shard, ShardError> {
        match (index, count) {
            (_, 0) => Err(ShardError::ZeroCount),
            (index, count) if index >= count => Err(ShardError::OutOfRange { index, count }),
            (index, count) => Ok(Shard { index, count }),
        }
    }

    /// The 0-based index.
    #[must_use]
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The number of shards.
    #[must_use]
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Whether the input named `name` is in this shard.
    #[must_use]
    pub fn holds(&self, name: &str) -> bool {
        shard_of(name, self.count) == self.index
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    /// `INDEX/COUNT`, like `3/8`.
    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let (index, count) = s.split_once('/').ok_or(ShardError::Syntax)?;
        let number = |n: &str| n.trim().parse::<u32>().map_err(|_| ShardError::Syntax);
        Shard::new(number(index)?, number(count)?)
    }
}

impl fmt::Display for Shard {
    /// `INDEX/COUNT`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The shard (of `count`, at least 1) of the input named `name`: the first 8 bytes of the
/// SHA-256 of the name's UTF-8 bytes, as a little-endian integer, modulo `count`. Specified
/// this way so that it never changes between versions and platforms.
#[must_use]
pub fn shard_of(name: &str, count: u32) -> u32 {
    let digest = Sha256::digest(name.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let hash = u64::from_le_bytes(first);
    u32::try_from(hash % u64::from(count.max(1))).expect("below a u32 count")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn parses_index_of_count_and_says_what_is_wrong() {
        assert_eq!("3/8".parse(), Ok(Shard { index: 3, count: 8 }));
        assert_eq!("0/1".parse::<Shard>().unwrap().to_string(), "0/1");
        assert_eq!("8/8".parse::<Shard>(), Err(ShardError::OutOfRange { index: 8, count: 8 }));
        assert_eq!(
            ShardError::OutOfRange { index: 8, count: 8 }.to_string(),
            "shard index 8 is out of range: indexes of 8 shards go from 0 to 7"
        );
        assert_eq!("0/0".parse::<Shard>(), Err(ShardError::ZeroCount));
        for bad in ["", "3", "3/", "/8", "a/8", "-1/8", "1/8/2"] {
            assert_eq!(bad.parse::<Shard>(), Err(ShardError::Syntax), "{bad:?}");
        }
    }

    #[test]
    fn the_hash_is_pinned() {
        // Changing these moves inputs between shards: states of runs made before and after
        // would then overlap or miss inputs, which merge catches, but only then.
        let pinned: Vec<u32> = ["s3://events/enriched/2026-03-01-000000-part-0.gz", "a.gz", ""]
            .iter()
            .map(|n| shard_of(n, 1000))
            .collect();
        // From Python: int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little") % 1000
        assert_eq!(pinned, vec![826, 333, 227]);
    }

    proptest! {
        #[test]
        fn every_input_is_in_exactly_one_shard(name in ".{0,60}", count in 1u32..64) {
            let holding = (0..count).filter(|&i| Shard::new(i, count).unwrap().holds(&name)).count();
            prop_assert_eq!(holding, 1);
        }
    }

    #[test]
    fn shards_are_about_even() {
        let count = 8;
        let mut sizes = [0u32; 8];
        for i in 0..8000 {
            sizes[shard_of(&format!("s3://events/enriched/part-{i:05}.gz"), count) as usize] += 1;
        }
        // 1000 expected each; 5 standard deviations is about 150.
        assert!(sizes.iter().all(|&n| (850..=1150).contains(&n)), "{sizes:?}");
    }
}
