//! The plain counters every job keeps.

use snowfunnel_parse::{BadRows, ContextCounts};

/// Plain counters of the lines a job read; they add up when states merge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Lines read.
    pub lines: u64,
    /// Valid enriched events (lines minus bad rows).
    pub events: u64,
    /// Bad rows by reason.
    pub bad: BadRows,
    /// Events carrying at least one experiment context (any experiment).
    pub experiment_events: u64,
    /// Experiment context entries (any experiment).
    pub experiment_contexts: u64,
    /// Experiment context entries without a key: counted and ignored.
    pub contexts_without_key: u64,
    /// Experiment context entries with a key but no experiment or variant: counted and ignored.
    pub incomplete_contexts: u64,
}

impl Counters {
    /// Adds `other`'s counts: the counters of two partitions together. Counts saturate at
    /// `u64::MAX` rather than wrap, whatever a forged state file holds.
    pub fn add(&mut self, other: &Counters) {
        let Counters {
            lines,
            events,
            bad,
            experiment_events,
            experiment_contexts,
            contexts_without_key,
            incomplete_contexts,
        } = other;
        self.lines = self.lines.saturating_add(*lines);
        self.events = self.events.saturating_add(*events);
        self.bad.add(bad);
        self.experiment_events = self.experiment_events.saturating_add(*experiment_events);
        self.experiment_contexts = self.experiment_contexts.saturating_add(*experiment_contexts);
        self.contexts_without_key = self.contexts_without_key.saturating_add(*contexts_without_key);
        self.incomplete_contexts = self.incomplete_contexts.saturating_add(*incomplete_contexts);
    }

    /// Experiment context entries ignored: without a key, or without an experiment or variant.
    #[must_use]
    pub fn ignored_contexts(&self) -> u64 {
        self.contexts_without_key.saturating_add(self.incomplete_contexts)
    }

    /// Counts a valid event, with what the contexts parser saw in it.
    pub(crate) fn count_event(&mut self, seen: ContextCounts) {
        self.events += 1;
        self.experiment_events += u64::from(seen.experiment_contexts > 0);
        self.experiment_contexts += u64::from(seen.experiment_contexts);
        self.contexts_without_key += u64::from(seen.without_key);
        self.incomplete_contexts += u64::from(seen.incomplete);
    }
}

#[cfg(test)]
mod tests {
    use snowfunnel_parse::BadReason;

    use super::*;

    #[test]
    fn adds_every_field_and_saturates() {
        let mut bad = BadRows::default();
        bad.record(BadReason::FieldCount);
        let one = Counters {
            lines: 1,
            events: 2,
            bad,
            experiment_events: 3,
            experiment_contexts: 4,
            contexts_without_key: 5,
            incomplete_contexts: 6,
        };
        let mut sum = one;
        sum.add(&one);
        assert_eq!(
            (sum.lines, sum.events, sum.bad.total(), sum.experiment_events, sum.experiment_contexts),
            (2, 4, 2, 6, 8)
        );
        assert_eq!((sum.contexts_without_key, sum.incomplete_contexts, sum.ignored_contexts()), (10, 12, 22));
        let mut huge = Counters { lines: u64::MAX - 1, ..Counters::default() };
        huge.add(&one);
        assert_eq!(huge.lines, u64::MAX);
    }
}
