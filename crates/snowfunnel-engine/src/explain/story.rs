//! A key's story: its experiment events in time order, and where it left each funnel.

use super::row::{EVENT_ROWS, Row};
use super::waterfall::Inputs;
use crate::dedup::EventAt;
use crate::rules::{Removed, Rules};

/// One event with a context of the asked key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoryEvent {
    /// Event time under snowfunnel's rules (microseconds since the epoch).
    pub time: i64,
    /// `collector_tstamp`, as written.
    pub collector_tstamp: String,
    /// `derived_tstamp`, as written.
    pub derived_tstamp: String,
    /// `event_id`.
    pub event_id: String,
    /// `app_id`.
    pub app_id: String,
    /// `v_tracker`.
    pub tracker: String,
    /// `event`.
    pub event: String,
    /// `se_category`.
    pub category: String,
    /// `se_action`.
    pub action: String,
    /// `se_label`.
    pub label: String,
    /// The context's experiment.
    pub experiment: String,
    /// The context's variant.
    pub variant: String,
    /// Whether the context's schema matched exactly (not only in another letter case).
    pub exact_schema: bool,
    /// Per funnel of the plan: what its rules did with the event.
    pub funnels: Vec<EventFate>,
}

/// What one funnel's rules did with one event of the asked key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventFate {
    /// Whether the funnel reads the key's context on this event (its experiment, a schema its
    /// rules accept).
    pub counted: bool,
    /// The row that removed the event (`None`: it counts).
    pub removed: Option<Row>,
    /// Bit n: the event matched step n + 1 (whatever removed it).
    pub steps: u64,
    pub(crate) at: EventAt,
}

/// Where the asked key left one funnel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyFate {
    /// Funnel name.
    pub funnel: String,
    /// The rules it was counted under.
    pub rules: Rules,
    /// Whether the funnel's rules read a context of the key at all (its experiment, a schema
    /// they accept); when not, it left at [`Row::Experiment`] and is in no count of the
    /// waterfall.
    pub in_funnel: bool,
    /// The variants the key counts in (or was last seen with, when it left before).
    pub variants: Vec<String>,
    /// The row the key left at (its last events removed, or not reaching a step); `None`
    /// when it reached the last step.
    pub left_at: Option<Row>,
    /// The steps it reached.
    pub steps_reached: usize,
    /// Under `migration_keys`: every key of the subject it counts as (itself included), in
    /// byte order; empty when it counts alone.
    pub subject: Vec<String>,
}

/// The asked key's events (time order, then event id) and its fate in each funnel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyStory {
    /// The key.
    pub key: String,
    /// Its events with a context of any experiment.
    pub events: Vec<StoryEvent>,
    /// Per funnel of the plan, in definition order.
    pub funnels: Vec<KeyFate>,
}

/// Where key id `key` (`None`: not a key of the plan's experiments) left the funnel of
/// `inputs`, by the same counts as its waterfall; `key_of` names a key id.
pub(crate) fn key_fate(inputs: &Inputs<'_>, key: Option<u32>, key_of: impl Fn(u32) -> String) -> KeyFate {
    let funnel = inputs.funnel;
    let tally = inputs.tally;
    let fate = |left_at, variants: Vec<String>, steps_reached, subject| KeyFate {
        funnel: funnel.name.clone(),
        rules: funnel.rules,
        in_funnel: !variants.is_empty(),
        variants,
        left_at,
        steps_reached,
        subject,
    };
    let Some(key) = key else { return fate(Some(Row::Experiment), Vec::new(), 0, Vec::new()) };
    let mut variants: Vec<(u8, u32)> =
        tally.key_fate.iter().filter(|((k, _), _)| *k == key).map(|(&(_, v), &f)| (f, v)).collect();
    let Some(furthest) = variants.iter().map(|(f, _)| *f).max() else {
        return fate(Some(Row::Experiment), Vec::new(), 0, Vec::new());
    };
    variants.retain(|(f, _)| *f == furthest);
    let mut names: Vec<String> =
        variants.iter().map(|(_, v)| tally.variants[*v as usize].to_string()).collect();
    names.sort();
    if usize::from(furthest) < EVENT_ROWS.len() {
        return fate(Some(EVENT_ROWS[usize::from(furthest)]), names, 0, Vec::new());
    }
    let subject = inputs.subjects.subject(key);
    let mut keys: Vec<String> = inputs.subjects.keys_of(subject).into_iter().map(&key_of).collect();
    keys.sort();
    // The subject's furthest level over every surviving event of its keys.
    let level = inputs.levels().iter().flatten().filter(|c| c.1 == subject).map(|c| c.3).max().unwrap_or(0);
    let steps = funnel.steps.len();
    match level {
        0 => fate(Some(Row::Rule(Removed::Duplicate)), names, 0, keys),
        1 => fate(Some(Row::Rule(Removed::ConflictingKey)), names, 0, keys),
        n if n - 2 < steps => fate(Some(Row::Step(n - 2)), names, n - 2, keys),
        _ => fate(None, names, steps, keys),
    }
}
