//! One enriched event line split into fields, borrowing the line.

use crate::error::excerpt;
use crate::fields::{self, FIELD_COUNT};
use crate::split::FieldIndex;
use crate::{MICROS_PER_DAY, RowError, parse_timestamp};

/// Which event time an event has: the rule that picks between `derived_tstamp` and
/// `collector_tstamp`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TimeRule {
    /// snowfunnel's: `derived_tstamp`, or `collector_tstamp` when `derived_tstamp` is empty or
    /// not after 1970-01-01 00:00:00.
    #[default]
    Fallback,
    /// GitLab's warehouse models': `derived_tstamp`, or `collector_tstamp` when its year is not
    /// after 1970; an event without `derived_tstamp` has no time (the models drop it).
    Warehouse,
}

impl TimeRule {
    /// The earliest `derived_tstamp` kept as it is: anything before it is replaced by
    /// `collector_tstamp`.
    fn earliest_derived(self) -> i64 {
        match self {
            TimeRule::Fallback => 1,
            // 1971-01-01 00:00:00.
            TimeRule::Warehouse => 365 * MICROS_PER_DAY,
        }
    }
}

/// A valid enriched event: exactly 131 fields and parsable timestamps. Field accessors return
/// the raw bytes of the line (the format has no quoting or escaping), so nothing is copied.
#[derive(Clone, Copy, Debug)]
pub struct EnrichedEvent<'a> {
    line: &'a [u8],
    index: FieldIndex,
    collector: i64,
    derived: Option<i64>,
}

impl<'a> EnrichedEvent<'a> {
    /// Splits a line (without its `\n`) into its 131 fields and parses `collector_tstamp`
    /// (required) and `derived_tstamp` (optional).
    ///
    /// # Errors
    /// A [`RowError`] when the field count is wrong or a timestamp does not parse.
    pub fn parse(line: &'a [u8]) -> Result<Self, RowError> {
        if u32::try_from(line.len()).is_err() {
            return Err(RowError::TooLong(line.len()));
        }
        let mut index = FieldIndex::default();
        match index.index(line) {
            FIELD_COUNT => {}
            1 => return Err(RowError::NotTsv),
            found => return Err(RowError::FieldCount { found }),
        }
        let mut event = EnrichedEvent { line, index, collector: 0, derived: None };
        (event.collector, event.derived) = event.parse_timestamps()?;
        Ok(event)
    }

    /// `collector_tstamp` (required) and `derived_tstamp` (`None` when empty).
    fn parse_timestamps(&self) -> Result<(i64, Option<i64>), RowError> {
        let collector = self.field(fields::COLLECTOR_TSTAMP);
        let collector = parse_timestamp(collector).map_err(|problem| RowError::Timestamp {
            field: "collector_tstamp",
            value: excerpt(collector),
            problem,
        })?;
        let derived = self.field(fields::DERIVED_TSTAMP);
        if derived.is_empty() {
            return Ok((collector, None));
        }
        let derived = parse_timestamp(derived).map_err(|problem| RowError::Timestamp {
            field: "derived_tstamp",
            value: excerpt(derived),
            problem,
        })?;
        Ok((collector, Some(derived)))
    }

    /// The event time under `rule`, in microseconds since the epoch; `None` when the rule
    /// gives the event no time ([`TimeRule::Warehouse`] without `derived_tstamp`).
    #[inline]
    #[must_use]
    pub fn time_under(&self, rule: TimeRule) -> Option<i64> {
        match self.derived {
            None if rule == TimeRule::Warehouse => None,
            Some(derived) if derived >= rule.earliest_derived() => Some(derived),
            _ => Some(self.collector),
        }
    }

    /// The raw bytes of field `index` (0-based). The fields in [`crate::fields`] are found
    /// directly; others by a short scan.
    ///
    /// # Panics
    /// When `index >= FIELD_COUNT`.
    #[inline]
    #[must_use]
    pub fn field(&self, index: usize) -> &'a [u8] {
        let (start, end) = self.index.bounds(self.line, index);
        &self.line[start..end]
    }

    /// The whole line.
    #[must_use]
    pub fn line(&self) -> &'a [u8] {
        self.line
    }

    /// Event time in microseconds since the epoch: `derived_tstamp`, or `collector_tstamp` when
    /// `derived_tstamp` is empty or not after 1970-01-01 00:00:00 (a tracker bug), as GitLab's
    /// warehouse models do ([`TimeRule::Fallback`]).
    #[inline]
    #[must_use]
    pub fn time_micros(&self) -> i64 {
        self.time_under(TimeRule::Fallback).unwrap_or(self.collector)
    }

    /// `app_id`.
    #[must_use]
    pub fn app_id(&self) -> &'a [u8] {
        self.field(fields::APP_ID)
    }

    /// `event_id`.
    #[must_use]
    pub fn event_id(&self) -> &'a [u8] {
        self.field(fields::EVENT_ID)
    }

    /// `contexts` JSON (may be empty).
    #[must_use]
    pub fn contexts(&self) -> &'a [u8] {
        self.field(fields::CONTEXTS)
    }

    /// `unstruct_event` JSON (may be empty).
    #[must_use]
    pub fn unstruct_event(&self) -> &'a [u8] {
        self.field(fields::UNSTRUCT_EVENT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BadReason;

    fn line_with(overrides: &[(usize, &str)]) -> String {
        let mut fields = vec![String::new(); FIELD_COUNT];
        fields[fields::COLLECTOR_TSTAMP] = "2026-03-01 10:00:00.000".into();
        for (i, v) in overrides {
            fields[*i] = (*v).to_string();
        }
        fields.join("\t")
    }

    #[test]
    fn splits_131_fields_keeping_trailing_empty_ones() {
        let line = line_with(&[(0, "gitlab"), (fields::SE_ACTION, "view")]);
        let event = EnrichedEvent::parse(line.as_bytes()).unwrap();
        assert_eq!(event.app_id(), b"gitlab");
        assert_eq!(event.field(fields::SE_ACTION), b"view");
        assert_eq!(event.field(FIELD_COUNT - 1), b"");
        assert_eq!(event.contexts(), b"");
    }

    #[test]
    fn wrong_field_counts_are_bad_rows() {
        let line = line_with(&[]);
        let short = &line[..line.rfind('\t').unwrap()];
        let long = format!("{line}\t");
        assert_eq!(EnrichedEvent::parse(short.as_bytes()).unwrap_err(), RowError::FieldCount { found: 130 });
        assert_eq!(EnrichedEvent::parse(long.as_bytes()).unwrap_err(), RowError::FieldCount { found: 132 });
        assert_eq!(EnrichedEvent::parse(b"").unwrap_err(), RowError::NotTsv);
        assert_eq!(EnrichedEvent::parse(b"just text").unwrap_err().reason(), BadReason::NotTsv);
    }

    #[test]
    fn event_time_prefers_derived_after_1970() {
        let collector = parse_timestamp(b"2026-03-01 10:00:00.000").unwrap();
        let derived = parse_timestamp(b"2026-03-01 09:59:58.500").unwrap();
        let with = line_with(&[(fields::DERIVED_TSTAMP, "2026-03-01 09:59:58.500")]);
        assert_eq!(EnrichedEvent::parse(with.as_bytes()).unwrap().time_micros(), derived);
        let empty = line_with(&[]);
        assert_eq!(EnrichedEvent::parse(empty.as_bytes()).unwrap().time_micros(), collector);
        let bug = line_with(&[(fields::DERIVED_TSTAMP, "1970-01-01 00:00:00.000")]);
        assert_eq!(EnrichedEvent::parse(bug.as_bytes()).unwrap().time_micros(), collector);
    }

    #[test]
    fn the_warehouse_time_needs_derived_and_replaces_1970() {
        let collector = parse_timestamp(b"2026-03-01 10:00:00.000").unwrap();
        let time = |derived: &str| {
            let line = line_with(&[(fields::DERIVED_TSTAMP, derived)]);
            let event = EnrichedEvent::parse(line.as_bytes()).unwrap();
            (event.time_under(TimeRule::Fallback), event.time_under(TimeRule::Warehouse))
        };
        assert_eq!(time(""), (Some(collector), None));
        let late_1970 = parse_timestamp(b"1970-12-31 23:59:59.999").unwrap();
        assert_eq!(time("1970-12-31 23:59:59.999"), (Some(late_1970), Some(collector)));
        let early = parse_timestamp(b"1971-01-01 00:00:00").unwrap();
        assert_eq!(time("1971-01-01 00:00:00"), (Some(early), Some(early)));
        assert_eq!(time("1969-07-20 20:17:40"), (Some(collector), Some(collector)));
        let derived = parse_timestamp(b"2026-03-01 09:59:58.500").unwrap();
        assert_eq!(time("2026-03-01 09:59:58.500"), (Some(derived), Some(derived)));
    }

    #[test]
    fn bad_timestamps_are_bad_rows() {
        let empty = line_with(&[(fields::COLLECTOR_TSTAMP, "")]);
        assert_eq!(EnrichedEvent::parse(empty.as_bytes()).unwrap_err().reason(), BadReason::CollectorTstamp);
        let bad = line_with(&[(fields::DERIVED_TSTAMP, "2026-13-45 99:00:00")]);
        let err = EnrichedEvent::parse(bad.as_bytes()).unwrap_err();
        assert_eq!(err.reason(), BadReason::DerivedTstamp);
        assert!(err.to_string().contains("derived_tstamp \"2026-13-45 99:00:00\""), "{err}");
    }
}
