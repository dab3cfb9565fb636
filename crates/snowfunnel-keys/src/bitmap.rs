//! Bitmaps built in bulk: ids are collected, sorted and added a batch at a time, which is much
//! cheaper than one roaring insert per event.

use roaring::RoaringBitmap;

const BATCH: usize = 1 << 14;

/// A roaring bitmap with a buffer of ids not yet added.
#[derive(Default, Clone, Debug)]
pub struct BitmapBuilder {
    bitmap: RoaringBitmap,
    pending: Vec<u32>,
}

impl BitmapBuilder {
    /// Adds `id` (duplicates are harmless).
    #[inline]
    pub fn push(&mut self, id: u32) {
        if self.pending.last() == Some(&id) {
            return;
        }
        self.pending.push(id);
        if self.pending.len() >= BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        self.pending.sort_unstable();
        self.pending.dedup();
        let batch =
            RoaringBitmap::from_sorted_iter(self.pending.drain(..)).expect("ids are sorted and deduplicated");
        self.bitmap |= batch;
    }

    /// A builder holding `bitmap`, as read back from a state file.
    pub fn from_bitmap(bitmap: RoaringBitmap) -> Self {
        BitmapBuilder { bitmap, pending: Vec::new() }
    }

    /// The bitmap, once [`BitmapBuilder::finish`] added the pending ids.
    pub fn finished(&self) -> &RoaringBitmap {
        assert!(self.pending.is_empty(), "a bitmap read before finish");
        &self.bitmap
    }

    /// The complete bitmap.
    pub fn finish(&mut self) -> &RoaringBitmap {
        self.flush();
        &self.bitmap
    }

    /// Adds every id of `other`, whose ids are this side's ids.
    pub fn union(&mut self, mut other: BitmapBuilder) {
        other.flush();
        self.flush();
        if self.bitmap.is_empty() {
            self.bitmap = other.bitmap;
        } else {
            self.bitmap |= other.bitmap;
        }
    }

    /// Adds every id of `other`, translated through `remap` (other's id → this side's id).
    pub fn union_remapped(&mut self, mut other: BitmapBuilder, remap: &[u32]) {
        for id in other.finish() {
            self.push(remap[id as usize]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_equal_single_inserts() {
        let ids: Vec<u32> = (0..100_000u32).map(|i| i.wrapping_mul(2_654_435_761) % 50_000).collect();
        let mut built = BitmapBuilder::default();
        ids.iter().for_each(|&i| built.push(i));
        let direct: RoaringBitmap = ids.iter().copied().collect();
        assert_eq!(built.finish(), &direct);
    }

    #[test]
    fn union_remapped_translates_ids() {
        let mut a = BitmapBuilder::default();
        a.push(0);
        let mut b = BitmapBuilder::default();
        b.push(0);
        b.push(2);
        a.union_remapped(b, &[5, 6, 7]);
        assert_eq!(a.finish().iter().collect::<Vec<_>>(), vec![0, 5, 7]);
    }
}
