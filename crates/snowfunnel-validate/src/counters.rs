//! Plain counters of a validation run; they add up when states merge.

use snowfunnel_parse::BadReason;

/// What was read, line by line and context by context.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Lines read.
    pub lines: u64,
    /// Valid enriched events (lines minus bad rows).
    pub events: u64,
    /// Bad rows, indexed by [`BadReason::index`].
    pub bad: [u64; BadReason::ALL.len()],
    /// Events carrying at least one experiment context (any experiment, with a key or not).
    pub experiment_events: u64,
    /// Experiment context entries (any experiment).
    pub experiment_contexts: u64,
    /// Experiment context entries without a key: counted, then ignored.
    pub contexts_without_key: u64,
    /// Experiment context entries with a key but no experiment or variant: counted, then ignored.
    pub incomplete_contexts: u64,
}

impl Counters {
    /// All bad rows.
    #[must_use]
    pub fn bad_rows(&self) -> u64 {
        self.bad.iter().sum()
    }

    /// Bad rows per reason, in report order, reasons with none left out.
    pub fn bad_by_reason(&self) -> impl Iterator<Item = (BadReason, u64)> + '_ {
        BadReason::ALL.into_iter().map(|r| (r, self.bad[r.index()])).filter(|&(_, n)| n > 0)
    }

    pub(crate) fn add(&mut self, other: &Counters) {
        self.lines += other.lines;
        self.events += other.events;
        for (a, b) in self.bad.iter_mut().zip(other.bad) {
            *a += b;
        }
        self.experiment_events += other.experiment_events;
        self.experiment_contexts += other.experiment_contexts;
        self.contexts_without_key += other.contexts_without_key;
        self.incomplete_contexts += other.incomplete_contexts;
    }
}
