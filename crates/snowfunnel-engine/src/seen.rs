//! What a run saw besides the funnels' counts, for the checks that say why a funnel came out
//! empty: every experiment name in the contexts read (the plan's and the others), and per
//! experiment of the plan the values of the event fields its steps match on. Bounded: at most
//! [`MAX_SEEN_VALUES`] distinct values of up to [`MAX_SEEN_VALUE_BYTES`] bytes per list, so
//! memory stays small whatever the input. State files do not keep these names: a state read back
//! has none, and the suggestions of a run that continues one come from its own inputs only.

use hashbrown::HashMap;
use snowfunnel_parse::{EnrichedEvent, MICROS_PER_DAY, fields};

use crate::definition::Step;

/// Most distinct values kept per list (experiment names; each field of each experiment).
pub const MAX_SEEN_VALUES: usize = 1000;
/// Longest value kept, in bytes; longer values are counted as left out.
pub const MAX_SEEN_VALUE_BYTES: usize = 256;

/// An event field a funnel step matches on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StepField {
    /// The `event` field (`struct`, `page_view`, `unstruct`, ...).
    Event,
    /// `se_category`.
    Category,
    /// `se_action`.
    Action,
    /// `se_label`.
    Label,
    /// `se_property`.
    Property,
    /// `page_urlpath`.
    PageUrlpath,
    /// The schema of the self-describing event in `unstruct_event`.
    Schema,
}

impl StepField {
    /// Every field, in the order funnel files document them.
    pub const ALL: [StepField; 7] = [
        StepField::Event,
        StepField::Category,
        StepField::Action,
        StepField::Label,
        StepField::Property,
        StepField::PageUrlpath,
        StepField::Schema,
    ];

    /// Its key in a funnel file's step (`category`, `page_urlpath`, ...).
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            StepField::Event => "event",
            StepField::Category => "category",
            StepField::Action => "action",
            StepField::Label => "label",
            StepField::Property => "property",
            StepField::PageUrlpath => "page_urlpath",
            StepField::Schema => "schema",
        }
    }

    /// The value `step` asks of this field, if it names it.
    #[must_use]
    pub fn of(self, step: &Step) -> Option<&str> {
        match self {
            StepField::Event => step.event.as_deref(),
            StepField::Category => step.category.as_deref(),
            StepField::Action => step.action.as_deref(),
            StepField::Label => step.label.as_deref(),
            StepField::Property => step.property.as_deref(),
            StepField::PageUrlpath => step.page_urlpath.as_deref(),
            StepField::Schema => step.schema.as_deref(),
        }
    }

    /// Its value in `event` (whose self-describing event's schema is `schema`).
    #[inline]
    fn value<'a>(self, event: &EnrichedEvent<'a>, schema: Option<&'a str>) -> &'a [u8] {
        let index = match self {
            StepField::Event => fields::EVENT,
            StepField::Category => fields::SE_CATEGORY,
            StepField::Action => fields::SE_ACTION,
            StepField::Label => fields::SE_LABEL,
            StepField::Property => fields::SE_PROPERTY,
            StepField::PageUrlpath => fields::PAGE_URLPATH,
            StepField::Schema => return schema.map_or(&[], str::as_bytes),
        };
        event.field(index)
    }
}

/// Distinct values with how often each was seen, bounded to [`MAX_SEEN_VALUES`].
#[derive(Clone, Debug, Default)]
pub(crate) struct ValueCounts {
    counts: HashMap<Box<[u8]>, u64>,
    /// Sightings of values not kept (over the bounds).
    left_out: u64,
}

impl ValueCounts {
    #[inline]
    pub(crate) fn add(&mut self, value: &[u8]) {
        if value.is_empty() {
            return;
        }
        if let Some(count) = self.counts.get_mut(value) {
            *count = count.saturating_add(1);
        } else if self.counts.len() < MAX_SEEN_VALUES && value.len() <= MAX_SEEN_VALUE_BYTES {
            self.counts.insert(value.into(), 1);
        } else {
            self.left_out = self.left_out.saturating_add(1);
        }
    }

    /// Adds `other`'s values; over the bound, the most frequent are kept (ties by value), so
    /// the result does not depend on the order of merges.
    fn merge(&mut self, other: ValueCounts) {
        self.left_out = self.left_out.saturating_add(other.left_out);
        for (value, count) in other.counts {
            let mine = self.counts.entry(value).or_insert(0);
            *mine = mine.saturating_add(count);
        }
        if self.counts.len() > MAX_SEEN_VALUES {
            let mut all: Vec<(Box<[u8]>, u64)> = self.counts.drain().collect();
            all.sort_by(|(a, x), (b, y)| y.cmp(x).then_with(|| a.cmp(b)));
            for (_, count) in all.drain(MAX_SEEN_VALUES..) {
                self.left_out = self.left_out.saturating_add(count);
            }
            self.counts.extend(all);
        }
    }

    fn seen(&self) -> SeenValues {
        let mut values: Vec<(String, u64)> =
            self.counts.iter().map(|(v, c)| (String::from_utf8_lossy(v).into_owned(), *c)).collect();
        values.sort_by(|(a, x), (b, y)| y.cmp(x).then_with(|| a.cmp(b)));
        SeenValues { values, left_out: self.left_out }
    }
}

/// Distinct values seen, with how often, most frequent first (then by value).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeenValues {
    /// The values kept (invalid UTF-8 replaced by U+FFFD), with their sightings.
    pub values: Vec<(String, u64)>,
    /// Sightings of values not kept: beyond [`MAX_SEEN_VALUES`] distinct values, or longer than
    /// [`MAX_SEEN_VALUE_BYTES`].
    pub left_out: u64,
}

impl SeenValues {
    /// Whether a value kept of `field` matches a step's `value` for it as steps match: the
    /// `schema` field by prefix (a step names a schema's prefix), every other field exactly.
    #[must_use]
    pub fn matches(&self, field: StepField, value: &str) -> bool {
        match field {
            StepField::Schema => self.values.iter().any(|(v, _)| v.starts_with(value)),
            _ => self.values.iter().any(|(v, _)| v == value),
        }
    }
}

/// The names a state saw: see the module documentation.
#[derive(Clone, Debug)]
pub(crate) struct Names {
    /// Whether these are the names of everything the state counted: true for a state built
    /// from inputs, false once a state read back from a file (which keeps none) is in it.
    pub(crate) complete: bool,
    /// Experiments outside the plan, by contexts (the plan's are counted in its state).
    pub(crate) experiments: ValueCounts,
    /// Per experiment of the plan: the fields its funnels' steps name, with their values among
    /// its events (no funnel filter).
    pub(crate) fields: Vec<Vec<(StepField, ValueCounts)>>,
}

/// No names, no fields: the names of a state that counted nothing.
impl Default for Names {
    fn default() -> Self {
        Names::new(&[])
    }
}

impl Names {
    /// No names yet, for the fields `fields` per experiment of a plan.
    pub(crate) fn new(fields: &[Vec<StepField>]) -> Self {
        Names {
            complete: true,
            experiments: ValueCounts::default(),
            fields: fields
                .iter()
                .map(|f| f.iter().map(|&field| (field, ValueCounts::default())).collect())
                .collect(),
        }
    }

    /// Records the step-field values of `event`, carrying a context of the plan's experiment
    /// `experiment`.
    #[inline]
    pub(crate) fn record_fields(
        &mut self,
        experiment: usize,
        event: &EnrichedEvent<'_>,
        schema: Option<&str>,
    ) {
        for (field, counts) in &mut self.fields[experiment] {
            counts.add(field.value(event, schema));
        }
    }

    /// No names yet, for the same fields as `like`.
    pub(crate) fn empty_like(like: &Names) -> Self {
        Names {
            complete: true,
            experiments: ValueCounts::default(),
            fields: like
                .fields
                .iter()
                .map(|f| f.iter().map(|(field, _)| (*field, ValueCounts::default())).collect())
                .collect(),
        }
    }

    pub(crate) fn merge(&mut self, other: Names) {
        self.complete &= other.complete;
        self.experiments.merge(other.experiments);
        for (mine, theirs) in self.fields.iter_mut().zip(other.fields) {
            for ((_, a), (_, b)) in mine.iter_mut().zip(theirs) {
                a.merge(b);
            }
        }
    }

    /// Every experiment name seen: those outside the plan, and the plan's with their contexts.
    pub(crate) fn experiments_seen<'a>(&self, plan: impl Iterator<Item = (&'a str, u64)>) -> SeenValues {
        let mut all = self.experiments.clone();
        for (name, contexts) in plan.filter(|(_, c)| *c > 0) {
            all.counts.insert(name.as_bytes().into(), contexts);
        }
        all.seen()
    }

    pub(crate) fn fields_seen(&self, experiment: usize) -> Vec<(StepField, SeenValues)> {
        self.fields[experiment].iter().map(|(field, counts)| (*field, counts.seen())).collect()
    }
}

/// What a run saw of one funnel besides its counts: what the checks for empty matches and
/// outages need ([`crate::State::seen`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FunnelSeen {
    /// Whether the names below are those of every input counted: false when the state was (or
    /// holds one) read back from a state file, which keeps no names.
    pub names_complete: bool,
    /// Every experiment name seen in the contexts read (the funnel's own included, when seen),
    /// with its contexts; empty when no names were kept.
    pub experiments: SeenValues,
    /// Per field that the steps of the funnel's experiment name: its values among the
    /// experiment's events (no funnel filter), with their events.
    pub fields: Vec<(StepField, SeenValues)>,
    /// Per step: the keys that did it (any variant, conflicting keys included) among the events
    /// that pass the funnel's filters. Empty when not known.
    pub step_keys: Vec<u64>,
    /// Per UTC day of a first step-1 event (in order, days without one left out): the keys of
    /// each variant (in the order of the funnel's report: control first, then by name) whose
    /// first step-1 event fell on it; conflicting keys excluded, as in the funnel.
    pub days: Vec<DayKeys>,
}

/// The keys of each variant whose first step-1 event fell on one day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayKeys {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    /// Per variant, in the order of the funnel's report.
    pub keys: Vec<u64>,
}

/// The day (since the epoch) of `micros`.
pub(crate) fn day_of(micros: i64) -> i64 {
    micros.div_euclid(MICROS_PER_DAY)
}

#[cfg(test)]
mod tests {
    use snowfunnel_ingest::Ingester;

    use super::*;
    use crate::{FunnelRecorder, Plan, State, StateFile, parse_funnel};

    /// A line of `experiment` (key, variant) at noon of March `day`, 2026, with `action`.
    fn line(experiment: &str, key: &str, variant: &str, action: &str, day: u32) -> Vec<u8> {
        let mut fields = vec![String::new(); snowfunnel_parse::FIELD_COUNT];
        fields[fields::COLLECTOR_TSTAMP] = format!("2026-03-{day:02} 12:00:00");
        fields[fields::EVENT] = "struct".into();
        fields[fields::SE_ACTION] = action.into();
        fields[fields::CONTEXTS] = format!(
            r#"{{"data":[{{"schema":"iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-0","data":{{"experiment":"{experiment}","key":"{key}","variant":"{variant}"}}}}]}}"#
        );
        fields.join("\t").into_bytes()
    }

    #[test]
    fn a_state_sees_every_experiment_its_step_values_and_first_days_but_a_state_file_keeps_no_names() {
        let funnel = "experiment = \"exp\"\n[[steps]]\nname = \"a\"\naction = \"view\"\n\
                      [[steps]]\nname = \"b\"\naction = \"clik\"\n";
        let plan = Plan::new(vec![parse_funnel("f.toml", "f", funnel).unwrap()]);
        let mut state = State::new(&plan);
        let mut part = state.partition();
        let mut ingester = Ingester::new(FunnelRecorder::new(&plan));
        for (experiment, key, variant, action, day) in [
            ("exp", "k1", "control", "view", 1),
            ("exp", "k1", "control", "click", 1),
            ("exp", "k2", "candidate", "view", 2),
            ("exp", "k3", "control", "view", 2),
            ("other", "k9", "control", "view", 1),
            ("other", "k8", "control", "view", 1),
        ] {
            ingester.ingest(&mut part, &line(experiment, key, variant, action, day)).unwrap();
        }
        state.merge(part);
        let seen = state.seen(&plan);
        let values = |v: &[(&str, u64)]| SeenValues {
            values: v.iter().map(|(v, c)| ((*v).to_owned(), *c)).collect(),
            left_out: 0,
        };
        let expected = FunnelSeen {
            names_complete: true,
            experiments: values(&[("exp", 4), ("other", 2)]),
            fields: vec![(StepField::Action, values(&[("view", 3), ("click", 1)]))],
            step_keys: vec![3, 0],
            // Control first: k1 on day 1; k3 and candidate's k2 on day 2.
            days: vec![DayKeys { day: 20_513, keys: vec![1, 0] }, DayKeys { day: 20_514, keys: vec![1, 1] }],
        };
        assert_eq!(seen, std::slice::from_ref(&expected));

        let mut bytes = Vec::new();
        StateFile { state, manifest: crate::Manifest::new() }.write(&plan, &mut bytes).unwrap();
        let mut back = StateFile::read(&plan, &bytes[..]).unwrap();
        let seen = back.state.seen(&plan);
        // The counts stay, the names are gone (but the plan's own experiment, from its counts).
        assert_eq!(
            seen,
            [FunnelSeen {
                names_complete: false,
                experiments: values(&[("exp", 4)]),
                fields: vec![(StepField::Action, values(&[]))],
                ..expected
            }]
        );
    }

    #[test]
    fn values_are_bounded_and_merge_keeps_the_most_frequent_in_any_order() {
        let mut a = ValueCounts::default();
        for i in 0..MAX_SEEN_VALUES + 10 {
            a.add(format!("v{i}").as_bytes());
        }
        a.add(b"v0");
        a.add(b"");
        a.add(&[b'x'; MAX_SEEN_VALUE_BYTES + 1]);
        assert_eq!(a.counts.len(), MAX_SEEN_VALUES);
        assert_eq!(a.left_out, 11);
        let mut b = ValueCounts::default();
        for _ in 0..3 {
            b.add(b"popular");
        }
        let (mut ab, mut ba) = (a.clone(), b.clone());
        ab.merge(b);
        ba.merge(a);
        let (ab, ba) = (ab.seen(), ba.seen());
        assert_eq!(ab, ba);
        assert_eq!(ab.values.len(), MAX_SEEN_VALUES);
        assert_eq!(ab.values[0], ("popular".to_owned(), 3));
        assert_eq!(ab.values[1], ("v0".to_owned(), 2));
        // One value of count 1 made room for "popular".
        assert_eq!(ab.left_out, 12);
        assert!(ab.matches(StepField::Action, "popular") && !ab.matches(StepField::Action, "nope"));
        assert!(ab.matches(StepField::Schema, "pop") && !ab.matches(StepField::Action, "pop"));
    }
}
