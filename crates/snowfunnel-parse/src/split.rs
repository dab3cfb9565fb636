//! Finding field boundaries, 32 bytes at a time, recording only the fields the project reads.
//!
//! A line holds 130 tabs in about 1.6 KB. Walking every tab costs a branch misprediction per
//! block (the number of tabs varies), which made splitting the most expensive step after
//! inflate. Instead each block's tabs are counted with one popcount, and only the few blocks
//! that hold a boundary of an indexed field are walked. Other fields are still reachable, by a
//! short scan from the nearest indexed field (see [`FieldIndex::bounds`]).

use memchr::memchr_iter;
use wide::u8x32;

use crate::fields::{self, FIELD_COUNT};

const BLOCK: usize = 64;

/// Fields whose start offsets are recorded: the fields the project reads, and each one's
/// successor (whose start gives the end of the field before it). Sorted; field 0 first.
const INDEXED: [usize; 20] = [
    fields::APP_ID,
    fields::PLATFORM,
    fields::PLATFORM + 1,
    fields::COLLECTOR_TSTAMP,
    fields::COLLECTOR_TSTAMP + 1,
    fields::EVENT,
    fields::EVENT_ID,
    fields::EVENT_ID + 1,
    fields::PAGE_URLPATH,
    fields::PAGE_URLPATH + 1,
    fields::CONTEXTS,
    fields::SE_CATEGORY,
    fields::SE_ACTION,
    fields::SE_LABEL,
    fields::SE_PROPERTY,
    fields::SE_VALUE,
    fields::UNSTRUCT_EVENT,
    fields::UNSTRUCT_EVENT + 1,
    fields::DERIVED_TSTAMP,
    fields::DERIVED_TSTAMP + 1,
];

const NONE: u8 = u8::MAX;

/// `SLOT[field]`: where the start of `field` is kept, or [`NONE`].
const SLOT: [u8; FIELD_COUNT] = {
    let mut slot = [NONE; FIELD_COUNT];
    let mut i = 0;
    while i < INDEXED.len() {
        slot[INDEXED[i]] = i as u8;
        i += 1;
    }
    slot
};

/// The tab numbers (0-based) that start the indexed fields after field 0 (tab `t` starts field
/// `t + 1`, kept in slot `i + 1` for entry `i`), then a sentinel no line reaches.
const WANTED_TABS: [usize; INDEXED.len()] = {
    let mut tabs = [usize::MAX; INDEXED.len()];
    let mut i = 1;
    while i < INDEXED.len() {
        tabs[i - 1] = INDEXED[i] - 1;
        i += 1;
    }
    tabs
};

/// Start offsets of the indexed fields of one line.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FieldIndex {
    starts: [u32; INDEXED.len()],
}

impl FieldIndex {
    /// Indexes `line` and returns its number of fields (exact, whatever it is). Offsets fit
    /// `u32`: the caller rejects lines of 4 GiB or more.
    #[inline]
    pub(crate) fn index(&mut self, line: &[u8]) -> usize {
        let mut tabs = 0;
        let mut next = 0;
        let mut blocks = line.chunks_exact(BLOCK);
        let mut offset = 0;
        for block in &mut blocks {
            let mask = tab_mask(block);
            let count = mask.count_ones() as usize;
            if tabs + count > WANTED_TABS[next] {
                next = self.record(mask, offset, tabs, next);
            }
            tabs += count;
            offset += BLOCK;
        }
        let mask = memchr_iter(b'\t', blocks.remainder()).fold(0u64, |m, i| m | 1 << i);
        if mask != 0 {
            self.record(mask, offset, tabs, next);
        }
        tabs + mask.count_ones() as usize + 1
    }

    /// Records the wanted tabs among those of one block, from `WANTED_TABS[next]` on: `mask`
    /// has a bit per tab at `offset + bit`, the block's lowest tab being tab number
    /// `first_tab`. Returns the new `next`.
    #[inline]
    fn record(&mut self, mut mask: u64, offset: usize, first_tab: usize, mut next: usize) -> usize {
        let mut tab = first_tab;
        loop {
            let skip = WANTED_TABS[next].saturating_sub(tab);
            if skip >= mask.count_ones() as usize {
                return next;
            }
            for _ in 0..skip {
                mask &= mask - 1;
            }
            #[allow(clippy::cast_possible_truncation)] // see `index`
            let start = (offset + mask.trailing_zeros() as usize + 1) as u32;
            self.starts[next + 1] = start;
            mask &= mask - 1;
            tab = WANTED_TABS[next] + 1;
            next += 1;
        }
    }

    /// Start and end offsets of `field` (0-based, below [`FIELD_COUNT`]) in `line`, which was
    /// indexed and has exactly [`FIELD_COUNT`] fields.
    #[inline]
    pub(crate) fn bounds(&self, line: &[u8], field: usize) -> (usize, usize) {
        let start = match SLOT[field] {
            NONE => self.scan_start(line, field),
            slot => self.starts[slot as usize] as usize,
        };
        let end = match SLOT.get(field + 1) {
            Some(&slot) if slot != NONE => self.starts[slot as usize] as usize - 1,
            _ => memchr::memchr(b'\t', &line[start..]).map_or(line.len(), |i| start + i),
        };
        (start, end)
    }

    /// The start of a field that is not indexed: skip tabs from the nearest indexed field before.
    fn scan_start(&self, line: &[u8], field: usize) -> usize {
        let from = (0..field).rev().find(|&f| SLOT[f] != NONE).unwrap_or(0);
        let from_start = self.starts[SLOT[from] as usize] as usize;
        let skip = field - from;
        memchr_iter(b'\t', &line[from_start..]).nth(skip - 1).map_or(line.len(), |i| from_start + i + 1)
    }
}

/// Bit `i` set when `block[i]` is a tab (`block` holds [`BLOCK`] bytes).
#[inline]
fn tab_mask(block: &[u8]) -> u64 {
    let tab = u8x32::splat(b'\t');
    let half = |bytes: &[u8]| {
        let bytes: [u8; 32] = bytes.try_into().expect("blocks hold 64 bytes");
        u64::from(u8x32::new(bytes).simd_eq(tab).to_bitmask())
    };
    half(&block[..32]) | half(&block[32..]) << 32
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A line of exactly 131 fields whose field `i` is drawn from `parts`.
    fn line_strategy() -> impl Strategy<Value = Vec<Vec<u8>>> {
        proptest::collection::vec(
            proptest::collection::vec(
                prop_oneof![Just(b'x'), Just(b' '), any::<u8>().prop_filter("no tab", |b| *b != b'\t')],
                0..40,
            ),
            FIELD_COUNT,
        )
    }

    proptest! {
        #[test]
        fn bounds_equal_a_plain_split(fields in line_strategy()) {
            let line = fields.join(&b'\t');
            let mut index = FieldIndex::default();
            prop_assert_eq!(index.index(&line), FIELD_COUNT);
            for (i, want) in fields.iter().enumerate() {
                let (start, end) = index.bounds(&line, i);
                prop_assert_eq!(&line[start..end], &want[..], "field {}", i);
            }
        }

        #[test]
        fn counts_fields_of_any_line(line in proptest::collection::vec(prop_oneof![Just(b'\t'), Just(b'x'), any::<u8>()], 0..2000)) {
            let tabs = line.iter().filter(|&&b| b == b'\t').count();
            prop_assert_eq!(FieldIndex::default().index(&line), tabs + 1);
        }
    }
}
