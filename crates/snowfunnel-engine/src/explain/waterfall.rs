//! From the counts of one funnel to its waterfall: events and distinct keys remaining after
//! each row and removed by it, all variants together and per variant.

use hashbrown::{HashMap, HashSet};

use super::row::{EVENT_ROWS, Row};
use super::tally::FunnelTally;
use crate::dedup::Dedup;
use crate::definition::Funnel;
use crate::report::Reach;
use crate::rules::{Removed, Rules};
use crate::unify::Unifier;

/// One funnel's waterfall under one rule set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waterfall {
    /// Funnel name.
    pub funnel: String,
    /// Experiment name.
    pub experiment: String,
    /// The rules it was counted under.
    pub rules: Rules,
    /// The variants (the control first, then by name): those of any context of the experiment
    /// the rules read, even when every event of it was removed.
    pub variants: Vec<String>,
    /// Its rows, in the order they apply (only the rows of its rules).
    pub rows: Vec<WaterfallRow>,
}

/// One row: what remains after it and what it removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WaterfallRow {
    /// Which row.
    pub row: Row,
    /// All variants together (and, up to [`Row::Experiment`], events of no variant).
    pub all: Cell,
    /// Per variant of [`Waterfall::variants`]: `None` for the lines and bad rows, which belong
    /// to no variant.
    pub variants: Vec<Option<Cell>>,
}

/// Events and distinct keys after a row and removed by it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cell {
    /// Events remaining.
    pub events: u64,
    /// Events the row removed.
    pub events_removed: u64,
    /// Distinct keys of the experiment remaining (from [`Row::MigrationKeys`] on, subjects);
    /// `None` for the lines and bad rows, whose keys are not read.
    pub keys: Option<u64>,
    /// Keys the row removed (all of their events gone).
    pub keys_removed: Option<u64>,
}

/// What remains after a row: events, and keys if known.
#[derive(Clone, Copy)]
struct Left {
    events: u64,
    keys: Option<u64>,
}

/// Turns remaining counts into cells, each removed count the difference from the row before
/// (the first from `start`).
struct Column {
    previous: Left,
    cells: Vec<Option<Cell>>,
}

impl Column {
    fn new(start: Left) -> Self {
        Column { previous: start, cells: Vec::new() }
    }

    fn push(&mut self, left: Left) {
        let keys_removed = match (self.previous.keys, left.keys) {
            (Some(before), Some(after)) => Some(before.saturating_sub(after)),
            (None, Some(_)) => Some(0),
            _ => None,
        };
        self.cells.push(Some(Cell {
            events: left.events,
            events_removed: self.previous.events.saturating_sub(left.events),
            keys: left.keys,
            keys_removed,
        }));
        self.previous = left;
    }

    fn skip(&mut self) {
        self.cells.push(None);
    }
}

/// What the rules decided on the whole state say of one context of a surviving event: how far
/// it got (0: a duplicate, 1: a conflicting key, 2 + n: its subject reached n steps).
fn level(duplicate: bool, subject: u32, reach: &Reach) -> usize {
    if duplicate {
        0
    } else if reach.conflicting.contains(subject) {
        1
    } else {
        2 + reach.steps_reached.get(&subject).copied().unwrap_or(0)
    }
}

/// What one funnel's waterfall is built from.
pub(crate) struct Inputs<'a> {
    pub(crate) funnel: &'a Funnel,
    pub(crate) lines: u64,
    pub(crate) bad: Vec<(snowfunnel_parse::BadReason, u64)>,
    pub(crate) valid: u64,
    pub(crate) tally: &'a FunnelTally,
    pub(crate) dedup: &'a Dedup,
    pub(crate) subjects: &'a Unifier,
    pub(crate) reach: &'a Reach,
}

impl Inputs<'_> {
    /// Whether the surviving event at `at` is dropped by the duplicate rule.
    pub(crate) fn duplicate(&self, at: crate::dedup::EventAt) -> bool {
        self.funnel.rules.drops_duplicates() && self.dedup.events.get(&at).is_some_and(|e| e.count > 1)
    }

    /// How far each surviving event's contexts got: `(event, [(key, subject, variant, level)])`.
    pub(crate) fn levels(&self) -> Vec<Vec<(u32, u32, u32, usize)>> {
        self.tally
            .survivors
            .iter()
            .map(|s| {
                let duplicate = self.duplicate(s.at);
                self.tally
                    .contexts_of(s)
                    .iter()
                    .map(|&(key, variant)| {
                        let subject = self.subjects.subject(key);
                        (key, subject, variant, level(duplicate, subject, self.reach))
                    })
                    .collect()
            })
            .collect()
    }
}

/// Builds the waterfall of `inputs`.
pub(crate) fn waterfall(inputs: &Inputs<'_>) -> Waterfall {
    let Inputs { funnel, tally, .. } = inputs;
    let rules = funnel.rules;
    // Variants in report order: the control first, then by name.
    let mut order: Vec<usize> = (0..tally.variants.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&*tally.variants[a], &*tally.variants[b]);
        (a != funnel.control, a).cmp(&(b != funnel.control, b))
    });
    let levels = inputs.levels();

    let mut rows = Vec::new();
    // All variants together.
    let mut all = Column::new(Left { events: inputs.lines, keys: None });
    // Per variant (by tally index): events of it that reached the per-event rows.
    let mut by_variant: Vec<Column> = (0..tally.variants.len())
        .map(|v| {
            let removed: u64 = tally.removed_by_variant[v].iter().sum();
            let survived = levels.iter().filter(|cs| cs.iter().any(|c| c.2 as usize == v)).count() as u64;
            let keys = tally.key_fate.keys().filter(|(_, variant)| *variant as usize == v).count() as u64;
            Column::new(Left { events: removed + survived, keys: Some(keys) })
        })
        .collect();

    rows.push(Row::Lines);
    all.push(Left { events: inputs.lines, keys: None });
    by_variant.iter_mut().for_each(Column::skip);
    let mut events = inputs.lines;
    for &(reason, count) in &inputs.bad {
        events = events.saturating_sub(count);
        rows.push(Row::BadRow(reason));
        all.push(Left { events, keys: None });
        by_variant.iter_mut().for_each(Column::skip);
    }

    // The rows decided per event.
    let mut all_keys: HashMap<u32, u8> = HashMap::new();
    for (&(key, _), &fate) in &tally.key_fate {
        all_keys.entry(key).and_modify(|f| *f = (*f).max(fate)).or_insert(fate);
    }
    all.previous.keys = Some(all_keys.len() as u64);
    let mut events = inputs.valid;
    let mut by_variant_events: Vec<u64> = by_variant.iter().map(|c| c.previous.events).collect();
    for (i, row) in EVENT_ROWS.iter().enumerate() {
        events = events.saturating_sub(tally.removed[i]);
        for (v, left) in by_variant_events.iter_mut().enumerate() {
            *left = left.saturating_sub(tally.removed_by_variant[v][i]);
        }
        if !row.applies(rules) {
            continue;
        }
        rows.push(*row);
        let after = |fate: u8| usize::from(fate) > i;
        all.push(Left { events, keys: Some(all_keys.values().filter(|&&f| after(f)).count() as u64) });
        for (v, column) in by_variant.iter_mut().enumerate() {
            let keys = tally.key_fate.iter().filter(|((_, variant), f)| *variant as usize == v && after(**f));
            column.push(Left { events: by_variant_events[v], keys: Some(keys.count() as u64) });
        }
    }

    // The rows decided on the whole state, each keeping the contexts at or above a level;
    // keys from the migration row on are subjects.
    let mut later: Vec<(Row, usize, bool)> = Vec::new();
    if rules.drops_duplicates() {
        later.push((Row::Rule(Removed::Duplicate), 1, false));
    }
    if rules.unifies_migration_keys() {
        later.push((Row::MigrationKeys, 1, true));
    }
    if rules.excludes_conflicts() {
        later.push((Row::Rule(Removed::ConflictingKey), 2, true));
    }
    later.extend((0..funnel.steps.len()).map(|n| (Row::Step(n), 3 + n, true)));
    for (row, at_least, as_subjects) in later {
        rows.push(row);
        let mut all_events = 0;
        let mut all_keys = HashSet::new();
        let mut events = vec![0u64; tally.variants.len()];
        let mut keys: Vec<HashSet<u32>> = vec![HashSet::new(); tally.variants.len()];
        let mut counted = Vec::new();
        for contexts in &levels {
            counted.clear();
            for &(key, subject, variant, _) in contexts.iter().filter(|c| c.3 >= at_least) {
                let id = if as_subjects { subject } else { key };
                all_keys.insert(id);
                keys[variant as usize].insert(id);
                if !counted.contains(&variant) {
                    counted.push(variant);
                    events[variant as usize] += 1;
                }
            }
            all_events += u64::from(!counted.is_empty());
        }
        all.push(Left { events: all_events, keys: Some(all_keys.len() as u64) });
        for (v, column) in by_variant.iter_mut().enumerate() {
            column.push(Left { events: events[v], keys: Some(keys[v].len() as u64) });
        }
    }

    let mut variant_cells: Vec<std::vec::IntoIter<Option<Cell>>> =
        order.iter().map(|&v| std::mem::take(&mut by_variant[v].cells).into_iter()).collect();
    let rows = rows
        .into_iter()
        .zip(all.cells)
        .map(|(row, all)| WaterfallRow {
            row,
            all: all.expect("every row has all variants' cell"),
            variants: variant_cells.iter_mut().map(|c| c.next().flatten()).collect(),
        })
        .collect();
    Waterfall {
        funnel: funnel.name.clone(),
        experiment: funnel.experiment.clone(),
        rules,
        variants: order.iter().map(|&v| tally.variants[v].to_string()).collect(),
        rows,
    }
}
