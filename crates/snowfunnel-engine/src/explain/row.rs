//! The rows of a waterfall: what each rule or step takes away, in the order they apply.

use snowfunnel_parse::BadReason;

use crate::definition::Funnel;
use crate::rules::{Removed, Rules};

/// One row of a waterfall: the lines read, then each reason, rule or step that removes events
/// or keys, in the order they apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Row {
    /// The lines read (the start).
    Lines,
    /// Bad rows of one reason.
    BadRow(BadReason),
    /// A rule of [`Rules::admit`] or of the whole state ([`Removed::Duplicate`],
    /// [`Removed::ConflictingKey`]).
    Rule(Removed),
    /// Events whose `app_id` is not one of the funnel's `app_ids`.
    AppIds,
    /// Events whose time (under the funnel's rules) is outside its `start..end`.
    TimeWindow,
    /// Events without an experiment context (of any experiment).
    ExperimentContext,
    /// Events without a context of the funnel's experiment with a key.
    Experiment,
    /// Keys counted as an older key of one subject (`migration_keys`): keys, not events, go.
    MigrationKeys,
    /// The keys that reached step n + 1 (0-based n); the others leave with their events.
    Step(usize),
}

/// The rows decided one event at a time, in the order they apply: an event is removed at the
/// first it fails.
pub(crate) const EVENT_ROWS: [Row; 9] = [
    Row::Rule(Removed::AppIdMissing),
    Row::AppIds,
    Row::Rule(Removed::DerivedTstampMissing),
    Row::TimeWindow,
    Row::Rule(Removed::Tracker),
    Row::Rule(Removed::Localhost),
    Row::Rule(Removed::NotStruct),
    Row::ExperimentContext,
    Row::Experiment,
];

impl Row {
    /// Its stable name in the CSV: `lines`, `bad_row:field_count`, `app_id_missing`,
    /// `app_ids`, `time_window`, `experiment_context`, `experiment`, `duplicate`,
    /// `migration_keys`, `conflicting_key`, `step:1`, ...
    #[must_use]
    pub fn id(&self) -> String {
        match self {
            Row::Lines => "lines".to_owned(),
            Row::BadRow(reason) => format!("bad_row:{}", reason.code()),
            Row::Rule(removed) => removed.as_str().to_owned(),
            Row::AppIds => "app_ids".to_owned(),
            Row::TimeWindow => "time_window".to_owned(),
            Row::ExperimentContext => "experiment_context".to_owned(),
            Row::Experiment => "experiment".to_owned(),
            Row::MigrationKeys => "migration_keys".to_owned(),
            Row::Step(n) => format!("step:{}", n + 1),
        }
    }

    /// What the row takes away, for people (the step rows: what they keep).
    #[must_use]
    pub fn describe(&self, funnel: &Funnel) -> String {
        match self {
            Row::Lines => "lines read".to_owned(),
            Row::BadRow(reason) => format!("bad: {}", reason.code()),
            Row::Rule(Removed::AppIdMissing) => "app_id empty".to_owned(),
            Row::Rule(Removed::DerivedTstampMissing) => "derived_tstamp empty".to_owned(),
            Row::Rule(Removed::Tracker) => "tracker not js or rb".to_owned(),
            Row::Rule(Removed::Localhost) => "js on a localhost page".to_owned(),
            Row::Rule(Removed::NotStruct) => "not a struct event".to_owned(),
            Row::Rule(Removed::Duplicate) => "duplicate event_id".to_owned(),
            Row::Rule(Removed::ConflictingKey) => "conflicting key".to_owned(),
            Row::AppIds => "not in app_ids".to_owned(),
            Row::TimeWindow => "outside start..end".to_owned(),
            Row::ExperimentContext => "no experiment context".to_owned(),
            Row::Experiment => "not its experiment/key".to_owned(),
            Row::MigrationKeys => "migration_keys".to_owned(),
            Row::Step(n) => format!("step {}: {}", n + 1, funnel.steps[*n].name),
        }
    }

    /// Its place in the order rows apply, the same under every rule set: waterfalls of two
    /// line up by it.
    #[must_use]
    pub fn rank(&self) -> usize {
        let events = 1 + BadReason::ALL.len();
        let later = events + EVENT_ROWS.len();
        match self {
            Row::Lines => 0,
            Row::BadRow(reason) => 1 + reason.index(),
            Row::Rule(Removed::Duplicate) => later,
            Row::MigrationKeys => later + 1,
            Row::Rule(Removed::ConflictingKey) => later + 2,
            Row::Step(n) => later + 3 + n,
            row => events + event_row(*row),
        }
    }

    /// Whether the row is one of `rules`' (the others remove nothing under them, and are
    /// left out of its waterfall).
    #[must_use]
    pub fn applies(&self, rules: Rules) -> bool {
        match self {
            Row::Rule(
                Removed::AppIdMissing
                | Removed::DerivedTstampMissing
                | Removed::Tracker
                | Removed::Localhost
                | Removed::NotStruct,
            ) => rules == Rules::Warehouse,
            Row::Rule(Removed::Duplicate) => rules.drops_duplicates(),
            Row::Rule(Removed::ConflictingKey) => rules.excludes_conflicts(),
            Row::MigrationKeys => rules.unifies_migration_keys(),
            _ => true,
        }
    }
}

/// The index in [`EVENT_ROWS`] of `row`.
pub(crate) fn event_row(row: Row) -> usize {
    EVENT_ROWS.iter().position(|r| *r == row).expect("a row decided per event")
}
