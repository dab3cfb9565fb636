//! Why a line is not a usable enriched event.

use std::fmt;

/// The class of a bad row, as counted in run summaries. The names follow the Snowplow SDKs'
/// failure types where one exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BadReason {
    /// The line holds no tab at all (an empty line included).
    NotTsv,
    /// The line holds some other number of fields than 131, or is longer than 4 GiB.
    FieldCount,
    /// `collector_tstamp` is empty or does not parse.
    CollectorTstamp,
    /// `derived_tstamp` is not empty and does not parse.
    DerivedTstamp,
    /// `contexts` is not valid self-describing contexts JSON.
    Contexts,
    /// `unstruct_event` is not valid self-describing event JSON (checked only when a funnel
    /// step matches on the event schema).
    UnstructEvent,
    /// `se_value` is not empty and not a number (checked only by the events extract, which
    /// writes it as a number).
    SeValue,
    /// The line is longer than the reader's limit (`--max-line-bytes`): it was skipped
    /// without being read into memory, so it is never parsed. Last, so that the counts of
    /// older state files (which did not have it) are a prefix of these.
    LineTooLong,
}

impl BadReason {
    /// Every reason, in report order.
    pub const ALL: [BadReason; 8] = [
        BadReason::NotTsv,
        BadReason::FieldCount,
        BadReason::CollectorTstamp,
        BadReason::DerivedTstamp,
        BadReason::Contexts,
        BadReason::UnstructEvent,
        BadReason::SeValue,
        BadReason::LineTooLong,
    ];

    /// A stable, machine-readable name for reports.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            BadReason::NotTsv => "not_tsv",
            BadReason::FieldCount => "field_count",
            BadReason::CollectorTstamp => "invalid_collector_tstamp",
            BadReason::DerivedTstamp => "invalid_derived_tstamp",
            BadReason::Contexts => "invalid_contexts",
            BadReason::UnstructEvent => "invalid_unstruct_event",
            BadReason::SeValue => "invalid_se_value",
            BadReason::LineTooLong => "line_too_long",
        }
    }

    /// Position of this reason in [`BadReason::ALL`], for counter arrays.
    #[must_use]
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Bad rows counted by reason; counts of partitions add up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BadRows([u64; BadReason::ALL.len()]);

impl BadRows {
    /// Counts one bad row of `reason`.
    pub fn record(&mut self, reason: BadReason) {
        self.0[reason.index()] += 1;
    }

    /// All bad rows.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// Bad rows per reason, in report order, reasons with none left out.
    pub fn by_reason(&self) -> impl Iterator<Item = (BadReason, u64)> + '_ {
        BadReason::ALL.into_iter().map(|r| (r, self.0[r.index()])).filter(|&(_, n)| n > 0)
    }

    /// Adds `other`'s counts (saturating at `u64::MAX`, whatever a forged state file holds).
    pub fn add(&mut self, other: &BadRows) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a = a.saturating_add(b);
        }
    }

    /// The counts in [`BadReason::ALL`] order.
    #[must_use]
    pub fn counts(&self) -> [u64; BadReason::ALL.len()] {
        self.0
    }

    /// Counts in [`BadReason::ALL`] order.
    #[must_use]
    pub fn from_counts(counts: [u64; BadReason::ALL.len()]) -> BadRows {
        BadRows(counts)
    }
}

impl std::ops::Index<BadReason> for BadRows {
    type Output = u64;

    fn index(&self, reason: BadReason) -> &u64 {
        &self.0[reason.index()]
    }
}

impl fmt::Display for BadReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A line that cannot be used, with what a user needs to find and fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    /// The line holds no tab.
    #[error("not a TSV line (no tab)")]
    NotTsv,
    /// Wrong number of fields.
    #[error("expected 131 tab-separated fields, found {found}")]
    FieldCount {
        /// Fields found on the line.
        found: usize,
    },
    /// A line too long to index (4 GiB or more).
    #[error("line of {0} bytes is too long")]
    TooLong(usize),
    /// A timestamp field that is required or non-empty and does not parse.
    #[error("invalid {field} {value:?}: {problem}")]
    Timestamp {
        /// Which field (`collector_tstamp` or `derived_tstamp`).
        field: &'static str,
        /// The start of the raw value, lossily decoded.
        value: String,
        /// What is wrong with it.
        problem: crate::TimestampError,
    },
    /// Invalid contexts JSON.
    #[error("invalid contexts JSON: {0}")]
    Contexts(String),
    /// Invalid unstruct_event JSON.
    #[error("invalid unstruct_event JSON: {0}")]
    UnstructEvent(String),
    /// A `se_value` that is not a number.
    #[error("invalid se_value {0:?}: not a number")]
    SeValue(String),
    /// A line longer than the reader's limit, skipped unread but for its start.
    #[error("line of {bytes} bytes, longer than --max-line-bytes {limit} (only its first {kept} bytes kept)")]
    LineTooLong {
        /// The line's length, without its `\n`.
        bytes: u64,
        /// The limit it exceeds.
        limit: u64,
        /// The bytes of its start that were kept.
        kept: u64,
    },
}

impl RowError {
    /// The counted class of this error.
    #[must_use]
    pub fn reason(&self) -> BadReason {
        match self {
            RowError::NotTsv => BadReason::NotTsv,
            RowError::FieldCount { .. } | RowError::TooLong(_) => BadReason::FieldCount,
            RowError::Timestamp { field, .. } if *field == "collector_tstamp" => BadReason::CollectorTstamp,
            RowError::Timestamp { .. } => BadReason::DerivedTstamp,
            RowError::Contexts(_) => BadReason::Contexts,
            RowError::UnstructEvent(_) => BadReason::UnstructEvent,
            RowError::SeValue(_) => BadReason::SeValue,
            RowError::LineTooLong { .. } => BadReason::LineTooLong,
        }
    }
}

/// A short, printable excerpt of a raw value for error messages.
#[must_use]
pub fn excerpt(raw: &[u8]) -> String {
    const MAX: usize = 64;
    let cut = &raw[..raw.len().min(MAX)];
    let mut s = String::from_utf8_lossy(cut).into_owned();
    if raw.len() > MAX {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_rows_count_by_reason_and_add_up() {
        let mut a = BadRows::default();
        a.record(BadReason::FieldCount);
        a.record(BadReason::FieldCount);
        a.record(BadReason::SeValue);
        let mut b = BadRows::default();
        b.record(BadReason::NotTsv);
        b.record(BadReason::SeValue);
        a.add(&b);
        assert_eq!(a.total(), 5);
        assert_eq!((a[BadReason::FieldCount], a[BadReason::SeValue], a[BadReason::Contexts]), (2, 2, 0));
        let by_reason: Vec<(BadReason, u64)> = a.by_reason().collect();
        assert_eq!(
            by_reason,
            [(BadReason::NotTsv, 1), (BadReason::FieldCount, 2), (BadReason::SeValue, 2)],
            "report order, reasons with none left out"
        );
        assert_eq!(BadRows::from_counts(a.counts()), a);
    }
}
