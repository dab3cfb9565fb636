//! The rule sets a funnel counts under (`rules` in a funnel file): snowfunnel's own, or the
//! rules of GitLab's warehouse models, so that a funnel can reproduce the warehouse's counts on
//! purpose. Each rule is decided here, once: the engine records and reports by these answers,
//! and `snowfunnel explain` counts what each [`Removed`] reason took away by the same ones.
//!
//! Under [`Rules::Warehouse`], an event reaches a funnel when it passes, in this order:
//! `app_id` not empty ([`Removed::AppIdMissing`]); `derived_tstamp` set
//! ([`Removed::DerivedTstampMissing`]; a year not after 1970 is replaced by `collector_tstamp`,
//! see [`TimeRule::Warehouse`]); `v_tracker` starting with `js` or `rb` ([`Removed::Tracker`]);
//! not a `js` event on a `http://localhost:` page ([`Removed::Localhost`]); a structured event
//! ([`Removed::NotStruct`]). The experiment-contexts model admits `js` and `rb` trackers, the
//! events model `js`, `rb`, `py` and `java` without `js` localhost pages; the funnel template
//! joins the structured events to the contexts by `event_id`, so an event counts only when both
//! models keep it: the tracker and localhost rules together. Then every event whose `event_id`
//! occurs more than once in the month of its time is dropped ([`Removed::Duplicate`], decided
//! by the state, which sees every copy), the experiment schema matches in any letter case, a key
//! seen with several variants counts in each (no [`Removed::ConflictingKey`]), and keys are
//! taken as they come (no `migration_keys` unification).

use serde::Deserialize;
use snowfunnel_parse::{EnrichedEvent, SchemaMatch, TimeRule, civil_from_days, fields};

/// The rule set of a funnel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rules {
    /// snowfunnel's rules (see the README's Rules section).
    #[default]
    Snowfunnel,
    /// The rules of GitLab's warehouse models (see the module docs).
    Warehouse,
}

/// Why an event (or a key) does not count in a funnel under a rule set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Removed {
    /// `app_id` is empty (null in the warehouse).
    AppIdMissing,
    /// `derived_tstamp` is empty: the warehouse has no time for the event.
    DerivedTstampMissing,
    /// `v_tracker` starts with neither `js` nor `rb`.
    Tracker,
    /// A `js` event whose `page_url` starts with `http://localhost:`.
    Localhost,
    /// Not a structured event (`event` is not `struct`).
    NotStruct,
    /// Its `event_id` occurs more than once in the month of its time: every copy goes.
    Duplicate,
    /// The key was seen with several variants of the experiment (snowfunnel's rule only).
    ConflictingKey,
}

impl Removed {
    /// Every reason, in the order the rules apply.
    pub const ALL: [Removed; 7] = [
        Removed::AppIdMissing,
        Removed::DerivedTstampMissing,
        Removed::Tracker,
        Removed::Localhost,
        Removed::NotStruct,
        Removed::Duplicate,
        Removed::ConflictingKey,
    ];

    /// Its name in reports: `app_id_missing`, `derived_tstamp_missing`, ...
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Removed::AppIdMissing => "app_id_missing",
            Removed::DerivedTstampMissing => "derived_tstamp_missing",
            Removed::Tracker => "tracker",
            Removed::Localhost => "localhost",
            Removed::NotStruct => "not_struct",
            Removed::Duplicate => "duplicate",
            Removed::ConflictingKey => "conflicting_key",
        }
    }
}

/// The trackers the warehouse's experiment contexts come from.
const TRACKERS: [&[u8]; 2] = [b"js", b"rb"];
/// The pages of a developer's machine, whose `js` events the warehouse's events model drops.
const LOCALHOST: &[u8] = b"http://localhost:";

impl Rules {
    /// Its name in funnel files and reports: `snowfunnel` or `warehouse`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Rules::Snowfunnel => "snowfunnel",
            Rules::Warehouse => "warehouse",
        }
    }

    /// The event time the rules use.
    #[must_use]
    pub fn time_rule(self) -> TimeRule {
        match self {
            Rules::Snowfunnel => TimeRule::Fallback,
            Rules::Warehouse => TimeRule::Warehouse,
        }
    }

    /// How the experiment schema is matched.
    #[must_use]
    pub fn schema_match(self) -> SchemaMatch {
        match self {
            Rules::Snowfunnel => SchemaMatch::Exact,
            Rules::Warehouse => SchemaMatch::IgnoreCase,
        }
    }

    /// Whether a context whose schema matches only in another letter case counts.
    #[must_use]
    pub fn accepts_schema(self, exact_schema: bool) -> bool {
        exact_schema || self == Rules::Warehouse
    }

    /// Whether keys seen with several variants are left out ([`Removed::ConflictingKey`]).
    #[must_use]
    pub fn excludes_conflicts(self) -> bool {
        self == Rules::Snowfunnel
    }

    /// Whether the keys of one subject (`migration_keys`) count as one.
    #[must_use]
    pub fn unifies_migration_keys(self) -> bool {
        self == Rules::Snowfunnel
    }

    /// Whether every copy of a duplicated event is dropped ([`Removed::Duplicate`]).
    #[must_use]
    pub fn drops_duplicates(self) -> bool {
        self == Rules::Warehouse
    }

    /// The event's time under these rules, or the first rule that removes the event (the rules
    /// about one event alone: not [`Removed::Duplicate`] nor [`Removed::ConflictingKey`]).
    ///
    /// # Errors
    /// The [`Removed`] reason of the first rule the event fails.
    pub fn admit(self, event: &EnrichedEvent<'_>) -> Result<i64, Removed> {
        if self == Rules::Snowfunnel {
            return Ok(event.time_micros());
        }
        if event.app_id().is_empty() {
            return Err(Removed::AppIdMissing);
        }
        let time = event.time_under(self.time_rule()).ok_or(Removed::DerivedTstampMissing)?;
        let tracker = event.field(fields::V_TRACKER);
        if !TRACKERS.iter().any(|t| tracker.starts_with(t)) {
            return Err(Removed::Tracker);
        }
        if tracker.starts_with(b"js") && event.field(fields::PAGE_URL).starts_with(LOCALHOST) {
            return Err(Removed::Localhost);
        }
        if event.field(fields::EVENT) != b"struct" {
            return Err(Removed::NotStruct);
        }
        Ok(time)
    }
}

/// The month of an event time (microseconds): months since year 0, for the duplicate rule's
/// partitions.
#[must_use]
pub(crate) fn month_of(time: i64) -> i32 {
    let (year, month, _) = civil_from_days(time.div_euclid(snowfunnel_parse::MICROS_PER_DAY));
    // Event times come from 4-digit years: months fit an i32.
    i32::try_from(year * 12 + month - 1).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use snowfunnel_parse::FIELD_COUNT;

    fn event_line(overrides: &[(usize, &str)]) -> String {
        let mut f = vec![String::new(); FIELD_COUNT];
        f[fields::APP_ID] = "gitlab".into();
        f[fields::COLLECTOR_TSTAMP] = "2026-03-01 10:00:00".into();
        f[fields::DERIVED_TSTAMP] = "2026-03-01 09:59:59".into();
        f[fields::V_TRACKER] = "js-3.24.0".into();
        f[fields::EVENT] = "struct".into();
        for (i, v) in overrides {
            f[*i] = (*v).to_owned();
        }
        f.join("\t")
    }

    fn admit(overrides: &[(usize, &str)]) -> (Result<i64, Removed>, Result<i64, Removed>) {
        let line = event_line(overrides);
        let event = EnrichedEvent::parse(line.as_bytes()).unwrap();
        (Rules::Snowfunnel.admit(&event), Rules::Warehouse.admit(&event))
    }

    #[test]
    fn each_warehouse_rule_removes_what_it_says_and_snowfunnel_keeps_it() {
        let time = snowfunnel_parse::parse_timestamp(b"2026-03-01 09:59:59").unwrap();
        assert_eq!(admit(&[]), (Ok(time), Ok(time)));
        for (overrides, removed) in [
            (&[(fields::APP_ID, "")][..], Removed::AppIdMissing),
            (&[(fields::DERIVED_TSTAMP, "")], Removed::DerivedTstampMissing),
            (&[(fields::V_TRACKER, "py-1.0.0")], Removed::Tracker),
            (&[(fields::V_TRACKER, "java-1.0")], Removed::Tracker),
            (&[(fields::V_TRACKER, "")], Removed::Tracker),
            (&[(fields::PAGE_URL, "http://localhost:3000/x")], Removed::Localhost),
            (&[(fields::EVENT, "page_view")], Removed::NotStruct),
        ] {
            let (ours, warehouse) = admit(overrides);
            assert!(ours.is_ok(), "{overrides:?}");
            assert_eq!(warehouse, Err(removed), "{overrides:?}");
        }
        // Localhost pages of other trackers, and other hosts, stay.
        let rb = [(fields::V_TRACKER, "rb-0.8.0"), (fields::PAGE_URL, "http://localhost:3000/x")];
        assert_eq!(admit(&rb).1, Ok(time));
        assert_eq!(admit(&[(fields::PAGE_URL, "https://localhost:3000/x")]).1, Ok(time));
        // The first rule failed is the one named.
        assert_eq!(
            admit(&[(fields::APP_ID, ""), (fields::EVENT, "page_view")]).1,
            Err(Removed::AppIdMissing)
        );
    }

    #[test]
    fn months_are_calendar_months() {
        let at = |t: &[u8]| month_of(snowfunnel_parse::parse_timestamp(t).unwrap());
        assert_eq!(at(b"2026-02-28 23:59:59.999999"), at(b"2026-02-01 00:00:00"));
        assert_eq!(at(b"2026-03-01 00:00:00") - at(b"2026-02-28 23:59:59.999999"), 1);
        assert_eq!(at(b"2027-01-01 00:00:00") - at(b"2026-12-31 23:59:59"), 1);
        assert_eq!(at(b"1970-01-01 00:00:00") - at(b"1969-12-31 23:59:59"), 1);
    }
}
