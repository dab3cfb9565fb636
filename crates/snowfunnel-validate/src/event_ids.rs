//! Duplicated events: the same `event_id` more than once, as at-least-once delivery makes them.
//!
//! Only the events that carry a context of a reported experiment are tracked, so memory
//! follows the experiment events, not the whole traffic (usually several times larger), and
//! duplicates elsewhere do not touch the experiments. Each id is kept as 128 bits in a hash
//! set: a UUID (the format requires `event_id` to be one) is parsed into its 128 bits, exactly,
//! so no two UUIDs are ever confused (upper and lower case spell the same UUID); any other id
//! is hashed to 128 bits (SipHash twice), where two distinct ids collide with a probability of
//! about `n² / 2^129` for `n` ids. That is 16 bytes per distinct id, about 18 to 37 bytes with
//! the table's control bytes and free slots, and up to half again while the table grows; the
//! exact bytes would cost 36 bytes plus a pointer and allocation per id. Ids seen more than once
//! go to a second, small set.

pub use snowfunnel_parse::event_id_bits;

use hashbrown::HashSet;

/// The event ids of one partition.
#[derive(Clone, Debug, Default)]
pub(crate) struct EventIds {
    /// Events tracked (those with a non-empty id).
    tracked: u64,
    seen: HashSet<u128>,
    /// Ids seen more than once.
    repeated: HashSet<u128>,
}

impl EventIds {
    pub(crate) fn observe(&mut self, event_id: &[u8]) {
        if event_id.is_empty() {
            return;
        }
        self.tracked += 1;
        let bits = event_id_bits(event_id);
        if !self.seen.insert(bits) {
            self.repeated.insert(bits);
        }
    }

    /// The ids of both partitions: an id seen in both is repeated.
    pub(crate) fn merge(&mut self, mut other: EventIds) {
        if other.seen.len() > self.seen.len() {
            std::mem::swap(self, &mut other);
        }
        self.tracked += other.tracked;
        self.repeated.extend(other.repeated);
        for bits in other.seen {
            if !self.seen.insert(bits) {
                self.repeated.insert(bits);
            }
        }
    }

    pub(crate) fn summary(&self) -> Duplicates {
        Duplicates {
            tracked_events: self.tracked,
            distinct_ids: self.seen.len() as u64,
            duplicated_ids: self.repeated.len() as u64,
        }
    }
}

/// Duplicated event ids among the events that carry a context of a reported experiment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Duplicates {
    /// Events tracked: those carrying a context (with a key) of a reported experiment and a
    /// non-empty `event_id`, every copy counted.
    pub tracked_events: u64,
    /// Distinct event ids among them.
    pub distinct_ids: u64,
    /// Event ids seen more than once.
    pub duplicated_ids: u64,
}

impl Duplicates {
    /// Extra copies: events whose id was seen before (tracked events minus distinct ids).
    #[must_use]
    pub fn extra_copies(&self) -> u64 {
        self.tracked_events - self.distinct_ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_finds_ids_repeated_across_partitions() {
        let (mut a, mut b) = (EventIds::default(), EventIds::default());
        for id in ["x", "y", "x", "x", ""] {
            a.observe(id.as_bytes());
        }
        for id in ["y", "z", "w"] {
            b.observe(id.as_bytes());
        }
        a.merge(b);
        let d = a.summary();
        assert_eq!(d, Duplicates { tracked_events: 7, distinct_ids: 4, duplicated_ids: 2 });
        assert_eq!(d.extra_copies(), 3);
    }
}
