//! Key interning: context key strings to dense `u32` ids, the universe of the bitmaps.
//!
//! Keys are mostly 64 (or 32) hex characters, so each is kept as a *record*: a tag byte saying
//! its shape, then its hex digits packed two to a byte (a 64-character key in 33 bytes), or
//! its bytes as they are when it is not hex. Records lie back to back in fixed-size chunks of
//! one arena, in id order; each id keeps a `u32` offset from the start of its block of ids; the
//! hash tables hold only ids, split by hash into shards that grow one at a time. A key costs
//! its record plus about 12 bytes (43 for a 64-character key), against 80 or more as a boxed
//! string or as bytes with a `Vec<usize>` of ends, and no structure ever doubles all at once.
//!
//! Record tags (the state file stores keys as these records too, see
//! `snowfunnel_engine::StateFile`, through [`KeyRecord`]):
//!
//! | tag | key |
//! |---|---|
//! | `0x40 + n`, n in 1..=63 | 2n lowercase hex digits (`0-9a-f`), packed: n bytes, high nibble first |
//! | `0x80 + n`, n in 1..=63 | 2n hex digits with at least one of `A-F` and none of `a-f`, packed |
//! | `n`, n in 0..=62 | any other key of n bytes, as they are |
//! | `0x3f` | any other key of 63 bytes or more: its length (varint), then its bytes |
//!
//! Every key has exactly one record (its *canonical* form), so records compare as keys do.

use std::hash::{BuildHasher, Hasher};

use hashbrown::{DefaultHashBuilder, HashTable};

use crate::chunked::Chunked;

const HEX_LOWER: u8 = 0x40;
const HEX_UPPER: u8 = 0x80;
const RAW_LONG: u8 = 0x3f;
/// In memory only: a key longer than [`MAX_INLINE`], kept in [`KeyDict::big`] (index: `u32` LE).
const OUT_OF_LINE: u8 = 0xc0;
const MAX_HEX_BYTES: usize = 63;
/// Longest key kept in the arena; longer ones are kept out of line, so that a block of ids
/// always fits in `u32` offsets.
const MAX_INLINE: usize = 4096;
/// Bytes per arena chunk: a record never spans two.
const ARENA_CHUNK: usize = 1 << 20;
/// Ids per block: each block has a `u64` base, each id a `u32` offset from it.
const BLOCK_BITS: u32 = 12;
/// Hash table shards: one grows at a time, so a rehash holds two copies of one shard only.
const SHARDS: usize = 32;

/// The shape of a key: how its record stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    HexLower,
    HexUpper,
    Raw,
}

fn shape(key: &[u8]) -> Shape {
    if key.is_empty() || key.len() % 2 == 1 || key.len() > 2 * MAX_HEX_BYTES {
        return Shape::Raw;
    }
    let (mut lower, mut upper) = (false, false);
    for &b in key {
        match b {
            b'0'..=b'9' => {}
            b'a'..=b'f' => lower = true,
            b'A'..=b'F' => upper = true,
            _ => return Shape::Raw,
        }
    }
    match (lower, upper) {
        (_, false) => Shape::HexLower,
        (false, true) => Shape::HexUpper,
        (true, true) => Shape::Raw,
    }
}

fn nibble(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

/// A key's record (tag and payload), canonical: what [`KeyDict::intern_record`] takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyRecord<'a> {
    tag: u8,
    /// Packed digits or raw bytes (for [`RAW_LONG`], without the length).
    payload: &'a [u8],
}

impl<'a> KeyRecord<'a> {
    /// Packs `key` into `buf` and returns its record.
    pub fn pack(key: &'a [u8], buf: &'a mut Vec<u8>) -> KeyRecord<'a> {
        buf.clear();
        let tag = match shape(key) {
            Shape::Raw => {
                return KeyRecord {
                    tag: if key.len() < RAW_LONG as usize { key.len() as u8 } else { RAW_LONG },
                    payload: key,
                };
            }
            Shape::HexLower => HEX_LOWER,
            Shape::HexUpper => HEX_UPPER,
        };
        buf.extend(key.chunks_exact(2).map(|pair| (nibble(pair[0]) << 4) | nibble(pair[1])));
        #[allow(clippy::cast_possible_truncation)] // at most MAX_HEX_BYTES
        KeyRecord { tag: tag | buf.len() as u8, payload: buf }
    }

    /// The record of `tag` and `payload` read from a state file, when it is the canonical
    /// record of a key; `None` otherwise.
    pub fn checked(tag: u8, payload: &'a [u8]) -> Option<KeyRecord<'a>> {
        let n = usize::from(tag & 0x3f);
        let ok = match tag & 0xc0 {
            HEX_LOWER => n > 0 && payload.len() == n,
            // Digits only would be lowercase.
            HEX_UPPER => {
                n > 0 && payload.len() == n && payload.iter().any(|&b| b >> 4 >= 10 || b & 0xf >= 10)
            }
            0 if tag == RAW_LONG => payload.len() >= RAW_LONG as usize && shape(payload) == Shape::Raw,
            0 => payload.len() == n && shape(payload) == Shape::Raw,
            _ => false,
        };
        ok.then_some(KeyRecord { tag, payload })
    }

    /// The payload length a record of `tag` has, when the tag alone says it (not for
    /// [`RAW_LONG`], whose length follows it).
    pub fn payload_len(tag: u8) -> Option<usize> {
        (tag != RAW_LONG).then_some(usize::from(tag & 0x3f))
    }

    /// The tag byte.
    pub fn tag(&self) -> u8 {
        self.tag
    }

    /// The payload: packed digits, or the key's bytes.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// Appends the key to `out`.
    pub fn unpack_into(&self, out: &mut Vec<u8>) {
        const LOWER: &[u8; 16] = b"0123456789abcdef";
        const UPPER: &[u8; 16] = b"0123456789ABCDEF";
        let digits = match self.tag & 0xc0 {
            HEX_LOWER => LOWER,
            HEX_UPPER => UPPER,
            _ => {
                out.extend_from_slice(self.payload);
                return;
            }
        };
        for &b in self.payload {
            out.push(digits[usize::from(b >> 4)]);
            out.push(digits[usize::from(b & 0xf)]);
        }
    }

    fn hash(&self, hasher: &DefaultHashBuilder) -> u64 {
        let mut h = hasher.build_hasher();
        h.write_u8(self.tag);
        h.write(self.payload);
        h.finish()
    }
}

/// Which shard holds a hash: bits 40 to 49 pick one of 1024 slices of the hash space (not the
/// top bits: the tables use those for their control bytes), and [`SHARD_OF`] the shard.
fn shard(hash: u64) -> usize {
    usize::from(SHARD_OF[((hash >> 40) & 1023) as usize])
}

/// The shard of each slice of the hash space. Shards hold unequal shares, from 1 to about 2
/// (shard `i` in proportion to `SHARDS + i`): a table grows by doubling, so equal shards would
/// all be just past a doubling (half empty) at once; spread over a doubling, their fill
/// averages out whatever the number of keys.
const SHARD_OF: [u8; 1024] = {
    let total = (SHARDS * SHARDS + SHARDS * (SHARDS - 1) / 2) as u64;
    let mut table = [0u8; 1024];
    let (mut shard, mut end) = (0usize, SHARDS as u64);
    let mut slice = 0;
    while slice < 1024 {
        // The middle of the slice, in units of `total / 1024`.
        let at = (2 * slice as u64 + 1) * total;
        while at >= 2 * 1024 * end && shard + 1 < SHARDS {
            shard += 1;
            end += (SHARDS + shard) as u64;
        }
        table[slice] = shard as u8;
        slice += 1;
    }
    table
};

/// The records, by id.
#[derive(Clone, Default)]
struct Records {
    /// Per id, its record's offset from the start of its block.
    offsets: Chunked<u32>,
    /// Per block of `1 << BLOCK_BITS` ids, the arena position of its first record.
    bases: Vec<u64>,
    /// Chunks of [`ARENA_CHUNK`] bytes; position `p` is byte `p % ARENA_CHUNK` of chunk
    /// `p / ARENA_CHUNK`.
    arena: Vec<Vec<u8>>,
    /// Keys longer than [`MAX_INLINE`].
    big: Vec<Box<[u8]>>,
}

impl Records {
    fn len(&self) -> usize {
        self.offsets.len()
    }

    fn get(&self, id: u32) -> KeyRecord<'_> {
        let id = id as usize;
        let position = self.bases[id >> BLOCK_BITS] + u64::from(self.offsets.get(id));
        #[allow(clippy::cast_possible_truncation)] // positions within memory
        let (chunk, at) =
            ((position / ARENA_CHUNK as u64) as usize, (position % ARENA_CHUNK as u64) as usize);
        let bytes = &self.arena[chunk][at..];
        let tag = bytes[0];
        match tag {
            OUT_OF_LINE => {
                let index = u32::from_le_bytes(bytes[1..5].try_into().expect("4 bytes"));
                KeyRecord { tag: RAW_LONG, payload: &self.big[index as usize] }
            }
            RAW_LONG => {
                let len = u16::from_le_bytes(bytes[1..3].try_into().expect("2 bytes"));
                KeyRecord { tag, payload: &bytes[3..3 + usize::from(len)] }
            }
            _ => KeyRecord { tag, payload: &bytes[1..=usize::from(tag & 0x3f)] },
        }
    }

    /// Appends `record` as the next id's.
    fn push(&mut self, record: KeyRecord<'_>) {
        // In the arena: the tag, a u16 length for long keys, the payload; or an index.
        let inline = record.payload.len() <= MAX_INLINE;
        let size = match (record.tag, inline) {
            (_, false) => 5,
            (RAW_LONG, true) => 3 + record.payload.len(),
            _ => 1 + record.payload.len(),
        };
        if self.arena.last().is_none_or(|chunk| chunk.capacity() - chunk.len() < size) {
            self.arena.push(Vec::with_capacity(ARENA_CHUNK));
        }
        let chunk = self.arena.len() - 1;
        let last = &mut self.arena[chunk];
        let position = (chunk * ARENA_CHUNK + last.len()) as u64;
        if inline {
            last.push(record.tag);
            if record.tag == RAW_LONG {
                #[allow(clippy::cast_possible_truncation)] // at most MAX_INLINE
                last.extend_from_slice(&(record.payload.len() as u16).to_le_bytes());
            }
            last.extend_from_slice(record.payload);
        } else {
            let index = u32::try_from(self.big.len()).expect("fewer big keys than keys");
            last.push(OUT_OF_LINE);
            last.extend_from_slice(&index.to_le_bytes());
            self.big.push(record.payload.into());
        }
        let id = self.offsets.len();
        if id.is_multiple_of(1 << BLOCK_BITS) {
            self.bases.push(position);
        }
        let base = self.bases[id >> BLOCK_BITS];
        // A block's records take at most (1 << BLOCK_BITS) * (MAX_INLINE + 3) bytes, plus the
        // unused end of each chunk: far below 4 GiB.
        self.offsets.push(u32::try_from(position - base).expect("a block of keys within 4 GiB"));
    }
}

/// An append-only dictionary of keys; ids are dense, in order of first sight.
#[derive(Clone)]
pub struct KeyDict {
    tables: Vec<HashTable<u32>>,
    records: Records,
    hasher: DefaultHashBuilder,
    /// Where a key is packed before it is looked up.
    scratch: Vec<u8>,
}

impl Default for KeyDict {
    fn default() -> Self {
        KeyDict {
            tables: (0..SHARDS).map(|_| HashTable::new()).collect(),
            records: Records::default(),
            hasher: DefaultHashBuilder::default(),
            scratch: Vec::new(),
        }
    }
}

impl KeyDict {
    /// The id of `key`, adding it if new.
    ///
    /// # Panics
    /// Past `u32::MAX` distinct keys.
    pub fn intern(&mut self, key: &[u8]) -> u32 {
        let mut scratch = std::mem::take(&mut self.scratch);
        let id = self.intern_record(KeyRecord::pack(key, &mut scratch));
        self.scratch = scratch;
        id
    }

    /// The id of the key whose canonical record is `record`, adding it if new.
    ///
    /// # Panics
    /// Past `u32::MAX` distinct keys.
    pub fn intern_record(&mut self, record: KeyRecord<'_>) -> u32 {
        let hash = record.hash(&self.hasher);
        let Self { tables, records, hasher, .. } = self;
        let table = &mut tables[shard(hash)];
        if let Some(&id) = table.find(hash, |&id| records.get(id) == record) {
            return id;
        }
        let id = u32::try_from(records.len()).expect("more than 4 billion distinct context keys");
        records.push(record);
        table.insert_unique(hash, id, |&id| records.get(id).hash(hasher));
        id
    }

    /// The id of `key`, when it was interned.
    #[must_use]
    pub fn find(&self, key: &[u8]) -> Option<u32> {
        let mut scratch = Vec::new();
        let record = KeyRecord::pack(key, &mut scratch);
        let hash = record.hash(&self.hasher);
        self.tables[shard(hash)].find(hash, |&id| self.records.get(id) == record).copied()
    }

    /// The record of `id`.
    pub fn record(&self, id: u32) -> KeyRecord<'_> {
        self.records.get(id)
    }

    /// Appends the key of `id` to `out`.
    ///
    /// # Panics
    /// When `id` was not handed out by this dictionary.
    pub fn key_into(&self, id: u32, out: &mut Vec<u8>) {
        self.records.get(id).unpack_into(out);
    }

    /// The key of `id`.
    ///
    /// # Panics
    /// When `id` was not handed out by this dictionary.
    #[must_use]
    pub fn key(&self, id: u32) -> Vec<u8> {
        let mut out = Vec::new();
        self.key_into(id, &mut out);
        out
    }

    /// Interns every key of `other`; returns, per id of `other`, its id here: what the ids of
    /// a state built with `other` become when it merges into one built with `self`.
    pub fn absorb(&mut self, other: &KeyDict) -> Vec<u32> {
        #[allow(clippy::cast_possible_truncation)] // ids are u32 by construction
        (0..other.len()).map(|id| self.intern_record(other.record(id as u32))).collect()
    }

    /// Number of distinct keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no key was interned.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.records.len() == 0
    }
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
            assert_eq!(dict.key(i as u32), k.as_bytes());
        }
        assert_eq!(dict.len(), keys.len());
        assert_eq!(dict.intern(b""), 10_000);
        assert_eq!(dict.key(10_000), b"");
    }

    /// Keys of every shape, and pairs that must stay apart.
    fn odd_keys() -> Vec<Vec<u8>> {
        let mut keys: Vec<Vec<u8>> = [
            "",
            "a",
            "ab",
            "AB",
            "Ab",
            "aB",
            "0",
            "00",
            "000",
            "0000",
            "12",
            "abc",
            "ABC",
            "0f",
            "0F",
            "f0",
            "F0",
            "zz",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08",
            "9f86d081884c7d659a2feaa0c55ad015",
            "123e4567-e89b-12d3-a456-426614174000",
            "123456789012",
            "user:42",
            "ü",
            "\0",
            "a\tb",
        ]
        .iter()
        .map(|k| k.as_bytes().to_vec())
        .collect();
        for len in
            [61, 62, 63, 64, 125, 126, 127, 128, 300, MAX_INLINE - 1, MAX_INLINE, MAX_INLINE + 1, 70_000]
        {
            keys.push(vec![b'a'; len]);
            keys.push(vec![b'A'; len]);
            keys.push(vec![b'x'; len]);
            keys.push((0..len).map(|i| b"0123456789abcdef"[i % 16]).collect());
        }
        keys.push(vec![0xff; 5]);
        keys
    }

    #[test]
    fn every_shape_reads_back_as_written() {
        let keys = odd_keys();
        let mut dict = KeyDict::default();
        let ids: Vec<u32> = keys.iter().map(|k| dict.intern(k)).collect();
        let mut distinct = keys.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(dict.len(), distinct.len());
        for (key, &id) in keys.iter().zip(&ids) {
            assert_eq!(&dict.key(id), key);
            assert_eq!(dict.intern(key), id);
            assert_eq!(dict.find(key), Some(id));
            let record = dict.record(id);
            assert_eq!(KeyRecord::checked(record.tag(), record.payload()), Some(record), "{key:?}");
        }
        assert_eq!(dict.find(b"never seen"), None);
        // Digits only are lowercase hex; a key is packed only when it has an even length.
        let mut buf = Vec::new();
        assert_eq!(KeyRecord::pack(b"0123", &mut buf).tag(), HEX_LOWER | 2);
        assert_eq!(KeyRecord::pack(b"0A", &mut buf).tag(), HEX_UPPER | 1);
        assert_eq!(KeyRecord::pack(b"0aA0", &mut buf).tag(), 4);
        assert_eq!(KeyRecord::pack(b"abc", &mut buf).tag(), 3);
    }

    #[test]
    fn records_that_are_not_canonical_are_refused() {
        // Lowercase hex stored raw, digits-only stored as uppercase, lengths that disagree.
        assert_eq!(KeyRecord::checked(2, b"ab"), None);
        assert_eq!(KeyRecord::checked(HEX_UPPER | 1, &[0x12]), None);
        assert_eq!(KeyRecord::checked(HEX_LOWER, &[]), None);
        assert_eq!(KeyRecord::checked(HEX_LOWER | 2, &[1]), None);
        assert_eq!(KeyRecord::checked(RAW_LONG, b"short"), None);
        assert_eq!(KeyRecord::checked(RAW_LONG, &[b'a'; 64]), None);
        assert_eq!(KeyRecord::checked(OUT_OF_LINE, &[0; 4]), None);
        assert_eq!(KeyRecord::checked(0xff, &[]), None);
        assert!(KeyRecord::checked(RAW_LONG, &[b'a'; 127]).is_some());
        assert!(KeyRecord::checked(HEX_UPPER | 1, &[0x1a]).is_some());
    }

    #[test]
    fn absorbing_maps_ids_across_dictionaries() {
        let keys = odd_keys();
        let mut a = KeyDict::default();
        for k in &keys[..10] {
            a.intern(k);
        }
        let mut b = KeyDict::default();
        for k in keys.iter().rev() {
            b.intern(k);
        }
        let remap = a.absorb(&b);
        for (id, &mapped) in remap.iter().enumerate() {
            assert_eq!(a.key(mapped), b.key(id as u32));
        }
        assert_eq!(a.len(), b.len());
    }

    #[test]
    fn shards_hold_unequal_shares() {
        let mut share = [0usize; SHARDS];
        SHARD_OF.iter().for_each(|&s| share[usize::from(s)] += 1);
        assert!(share.windows(2).all(|w| w[0] <= w[1] + 1), "{share:?}");
        assert!((20..=24).contains(&share[0]) && (42..=46).contains(&share[SHARDS - 1]), "{share:?}");
    }

    #[test]
    fn many_keys_cross_blocks_and_chunks() {
        let mut dict = KeyDict::default();
        let n = 100_000u32;
        for i in 0..n {
            let key =
                if i % 7 == 0 { format!("k{i}") } else { format!("{:064x}", u64::from(i) * 0x9e37_79b9) };
            assert_eq!(dict.intern(key.as_bytes()), i);
        }
        for i in (0..n).step_by(997) {
            let key =
                if i % 7 == 0 { format!("k{i}") } else { format!("{:064x}", u64::from(i) * 0x9e37_79b9) };
            assert_eq!(dict.key(i), key.as_bytes());
            assert_eq!(dict.find(key.as_bytes()), Some(i));
        }
    }
}
