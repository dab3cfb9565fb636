//! Duplicated events (the same `event_id` more than once, as at-least-once delivery makes
//! them) and what the extract does with them.
//!
//! Event ids are tracked as 128 bits ([`snowfunnel_parse::event_id_bits`]: a UUID exactly, any
//! other id hashed) in a hash set: 16 bytes per distinct event id of the extracted events,
//! about 20 to 40 bytes with the table's free slots, and up to half again while it grows. Two
//! distinct non-UUID ids share a hash with probability about `n² / 2^129` for `n` ids: below
//! 10^-20 for a billion. The policy `all` tracks nothing.

use hashbrown::HashSet;

/// What to do with an event whose `event_id` was already seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DuplicatePolicy {
    /// Keep the first occurrence in output order (input order, then line order).
    #[default]
    First,
    /// Keep every copy.
    All,
    /// Drop every event whose id occurs more than once, as GitLab's warehouse model does.
    Drop,
}

impl DuplicatePolicy {
    /// The name on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            DuplicatePolicy::First => "first",
            DuplicatePolicy::All => "all",
            DuplicatePolicy::Drop => "drop",
        }
    }
}

/// What a [`Deduplicator`] dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DuplicateStats {
    /// Events (records) dropped.
    pub events_dropped: u64,
    /// Rows of those events.
    pub rows_dropped: u64,
    /// Distinct event ids tracked.
    pub distinct_ids: u64,
}

/// Applies a [`DuplicatePolicy`] to records read in output order.
///
/// For [`DuplicatePolicy::Drop`] the records are read twice: first every hash goes to
/// [`Deduplicator::observe`], then [`Deduplicator::keep`] decides; the other policies need only
/// the second pass.
#[derive(Debug, Default)]
pub struct Deduplicator {
    policy: DuplicatePolicy,
    seen: HashSet<u128>,
    repeated: HashSet<u128>,
    stats: DuplicateStats,
}

impl Deduplicator {
    /// A deduplicator with nothing seen.
    #[must_use]
    pub fn new(policy: DuplicatePolicy) -> Self {
        Deduplicator { policy, ..Deduplicator::default() }
    }

    /// Whether the records must go through [`Deduplicator::observe`] before
    /// [`Deduplicator::keep`].
    #[must_use]
    pub fn needs_first_pass(&self) -> bool {
        self.policy == DuplicatePolicy::Drop
    }

    /// First pass of [`DuplicatePolicy::Drop`]: notes one occurrence of an event id.
    pub fn observe(&mut self, hash: u128) {
        if !self.seen.insert(hash) {
            self.repeated.insert(hash);
        }
    }

    /// Whether to write the event of this hash, holding `rows` rows; counts what it drops.
    pub fn keep(&mut self, hash: u128, rows: u32) -> bool {
        let keep = match self.policy {
            DuplicatePolicy::All => true,
            DuplicatePolicy::First => self.seen.insert(hash),
            DuplicatePolicy::Drop => !self.repeated.contains(&hash),
        };
        if !keep {
            self.stats.events_dropped += 1;
            self.stats.rows_dropped += u64::from(rows);
        }
        keep
    }

    /// What was dropped so far.
    #[must_use]
    pub fn stats(&self) -> DuplicateStats {
        DuplicateStats { distinct_ids: self.seen.len() as u64, ..self.stats }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event_id_bits;

    fn kept(policy: DuplicatePolicy, ids: &[&str]) -> (Vec<usize>, DuplicateStats) {
        let mut d = Deduplicator::new(policy);
        let hashes: Vec<u128> = ids.iter().map(|id| event_id_bits(id.as_bytes())).collect();
        if d.needs_first_pass() {
            hashes.iter().for_each(|&h| d.observe(h));
        }
        let kept = hashes.iter().enumerate().filter(|&(_, &h)| d.keep(h, 2)).map(|(i, _)| i).collect();
        (kept, d.stats())
    }

    #[test]
    fn each_policy_keeps_what_it_says() {
        let ids = ["a", "b", "a", "c", "a", "b"];
        assert_eq!(kept(DuplicatePolicy::All, &ids).0, vec![0, 1, 2, 3, 4, 5]);
        let (first, stats) = kept(DuplicatePolicy::First, &ids);
        assert_eq!(first, vec![0, 1, 3]);
        assert_eq!(stats, DuplicateStats { events_dropped: 3, rows_dropped: 6, distinct_ids: 3 });
        let (drop, stats) = kept(DuplicatePolicy::Drop, &ids);
        assert_eq!(drop, vec![3]);
        assert_eq!(stats.events_dropped, 5);
    }
}
