//! From the state's bitmaps to the validation report: distinct keys, the split between
//! variants and its chi-square test, keys seen with several variants, days and outages.

use roaring::RoaringBitmap;
use snowfunnel_keys::BitmapBuilder;
use snowfunnel_stats::{SrmResult, sample_ratio_mismatch};

use crate::event_ids::Duplicates;
use crate::state::{ExperimentState, ValidateState};
use snowfunnel_ingest::Counters;

/// Zero-event days of a gap up to this long are listed one by one in the days of an
/// experiment; longer gaps (a pause, or a few events with far-off clocks) are reported as an
/// [`Outage`] only, so a stray date in 2619 does not make a report of 200,000 empty days.
pub const MAX_LISTED_GAP_DAYS: i64 = 31;

/// Everything a validation reports.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidationReport {
    /// Counters over all lines.
    pub counters: Counters,
    /// Duplicated event ids among the reported experiments' events.
    pub duplicates: Duplicates,
    /// The reported experiments, by name.
    pub experiments: Vec<ExperimentReport>,
}

/// One experiment.
#[derive(Clone, Debug, PartialEq)]
pub struct ExperimentReport {
    /// Experiment name.
    pub experiment: String,
    /// Events carrying at least one of its contexts with a key (duplicates included).
    pub events: u64,
    /// Its contexts with a key.
    pub contexts: u64,
    /// Distinct context keys.
    pub keys: u64,
    /// Keys seen with more than one variant.
    pub conflicting_keys: u64,
    /// Earliest event time, microseconds since the epoch; `None` without events.
    pub first_seen: Option<i64>,
    /// Latest event time.
    pub last_seen: Option<i64>,
    /// Every variant seen, `control` first, then by name.
    pub variants: Vec<VariantSplit>,
    /// The chi-square test of the variants' exclusive keys against an equal split; `None`
    /// with fewer than two variants or no exclusive key.
    pub srm: Option<SrmResult>,
    /// Per event kind, most events first (then by event, category, action, label).
    pub event_kinds: Vec<EventKindReport>,
    /// Every day with events, and the zero-event days of gaps up to [`MAX_LISTED_GAP_DAYS`],
    /// in order.
    pub days: Vec<DayReport>,
    /// Runs of zero-event days between the first and the last day seen.
    pub outages: Vec<Outage>,
    /// Per `app_id`, most events first (then by name).
    pub app_ids: Vec<AppIdReport>,
}

/// One variant's keys.
#[derive(Clone, Debug, PartialEq)]
pub struct VariantSplit {
    /// Variant name.
    pub variant: String,
    /// Keys seen with it.
    pub keys: u64,
    /// Keys seen with it and no other variant: what the split is measured on.
    pub exclusive_keys: u64,
    /// Its share of all variants' exclusive keys; `None` when there are none.
    pub share: Option<f64>,
}

/// One (event, category, action, label) of an experiment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventKindReport {
    /// The `event` field (`struct`, `page_view`, `unstruct`, ...).
    pub event: String,
    /// `se_category`.
    pub category: String,
    /// `se_action`.
    pub action: String,
    /// `se_label`.
    pub label: String,
    /// Events (duplicates included).
    pub events: u64,
    /// Distinct keys.
    pub keys: u64,
    /// Earliest event time, microseconds since the epoch.
    pub first_seen: i64,
    /// Latest event time.
    pub last_seen: i64,
    /// Distinct keys per variant, in the order of [`ExperimentReport::variants`].
    pub keys_by_variant: Vec<u64>,
}

/// One day of an experiment (UTC, by event time).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayReport {
    /// Days since 1970-01-01.
    pub day: i64,
    /// Events.
    pub events: u64,
    /// Distinct keys.
    pub keys: u64,
    /// Events per variant, in the order of [`ExperimentReport::variants`]: an event counts once
    /// in each variant its contexts of the experiment name.
    pub events_by_variant: Vec<u64>,
    /// A zero-event day between the first and the last day seen: a possible outage.
    pub outage: bool,
}

/// A run of zero-event days, both ends included (days since 1970-01-01).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outage {
    /// First day without events.
    pub first_day: i64,
    /// Last day without events.
    pub last_day: i64,
}

impl Outage {
    /// Its length in days.
    #[must_use]
    pub fn days(&self) -> i64 {
        self.last_day - self.first_day + 1
    }
}

/// One `app_id` of an experiment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppIdReport {
    /// The `app_id` (lossily decoded).
    pub app_id: String,
    /// Events.
    pub events: u64,
    /// Distinct keys.
    pub keys: u64,
}

impl ValidateState {
    /// The report of everything ingested so far.
    #[must_use]
    pub fn report(&mut self) -> ValidationReport {
        let mut experiments: Vec<ExperimentReport> =
            self.experiments.iter_mut().map(experiment_report).collect();
        experiments.sort_by(|a, b| a.experiment.cmp(&b.experiment));
        ValidationReport { counters: self.counters, duplicates: self.event_ids.summary(), experiments }
    }
}

fn experiment_report(state: &mut ExperimentState) -> ExperimentReport {
    // Control first, then by name: `order[i]` is the state's index of the i-th variant.
    let mut order: Vec<usize> = (0..state.variants.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&state.variants[a], &state.variants[b]);
        (&**a != "control", a).cmp(&(&**b != "control", b))
    });
    state.keys_by_variant.resize_with(state.variants.len(), BitmapBuilder::default);
    let bitmaps: Vec<&RoaringBitmap> = state.keys_by_variant.iter_mut().map(|b| b.finish()).collect();
    let (all, conflicting) = union_and_overlap(&bitmaps);
    let exclusive: Vec<u64> = order.iter().map(|&v| bitmaps[v].difference_len(&conflicting)).collect();
    let total_exclusive: u64 = exclusive.iter().sum();
    #[allow(clippy::cast_precision_loss)]
    let variants: Vec<VariantSplit> = order
        .iter()
        .zip(&exclusive)
        .map(|(&v, &exclusive_keys)| VariantSplit {
            variant: state.variants[v].to_string(),
            keys: bitmaps[v].len(),
            exclusive_keys,
            share: (total_exclusive > 0).then(|| exclusive_keys as f64 / total_exclusive as f64),
        })
        .collect();
    // Equal weights never fail.
    let srm = sample_ratio_mismatch(&exclusive, None).unwrap_or(None);

    let mut event_kinds: Vec<EventKindReport> = state
        .kinds
        .iter_mut()
        .map(|(kind, k)| {
            k.keys_by_variant.resize_with(state.variants.len(), BitmapBuilder::default);
            let bitmaps: Vec<&RoaringBitmap> = k.keys_by_variant.iter_mut().map(|b| b.finish()).collect();
            let mut parts = kind.split(|&b| b == b'\t').map(|p| String::from_utf8_lossy(p).into_owned());
            let mut part = || parts.next().unwrap_or_default();
            EventKindReport {
                event: part(),
                category: part(),
                action: part(),
                label: part(),
                events: k.events,
                keys: union_and_overlap(&bitmaps).0.len(),
                first_seen: k.first,
                last_seen: k.last,
                keys_by_variant: order.iter().map(|&v| bitmaps[v].len()).collect(),
            }
        })
        .collect();
    event_kinds.sort_by(|a, b| {
        b.events.cmp(&a.events).then_with(|| {
            (&a.event, &a.category, &a.action, &a.label).cmp(&(&b.event, &b.category, &b.action, &b.label))
        })
    });

    let mut seen_days: Vec<DayReport> = state
        .days
        .iter_mut()
        .map(|(&day, t)| DayReport {
            day,
            events: t.all.events,
            keys: t.all.keys.finish().len(),
            events_by_variant: order
                .iter()
                .map(|&v| t.events_by_variant.get(v).copied().unwrap_or(0))
                .collect(),
            outage: false,
        })
        .collect();
    seen_days.sort_unstable_by_key(|d| d.day);
    let mut days = Vec::with_capacity(seen_days.len());
    let mut outages = Vec::new();
    let mut previous: Option<i64> = None;
    for seen in seen_days {
        if let Some(previous) = previous
            && seen.day > previous + 1
        {
            let outage = Outage { first_day: previous + 1, last_day: seen.day - 1 };
            if outage.days() <= MAX_LISTED_GAP_DAYS {
                days.extend((outage.first_day..=outage.last_day).map(|day| DayReport {
                    day,
                    events: 0,
                    keys: 0,
                    events_by_variant: vec![0; order.len()],
                    outage: true,
                }));
            }
            outages.push(outage);
        }
        previous = Some(seen.day);
        days.push(seen);
    }

    let mut app_ids: Vec<AppIdReport> = state
        .app_ids
        .iter_mut()
        .map(|(app_id, t)| AppIdReport {
            app_id: String::from_utf8_lossy(app_id).into_owned(),
            events: t.events,
            keys: t.keys.finish().len(),
        })
        .collect();
    app_ids.sort_by(|a, b| b.events.cmp(&a.events).then_with(|| a.app_id.cmp(&b.app_id)));

    ExperimentReport {
        experiment: state.name.to_string(),
        events: state.events,
        contexts: state.contexts,
        keys: all.len(),
        conflicting_keys: conflicting.len(),
        first_seen: event_kinds.iter().map(|k| k.first_seen).min(),
        last_seen: event_kinds.iter().map(|k| k.last_seen).max(),
        variants,
        srm,
        event_kinds,
        days,
        outages,
        app_ids,
    }
}

/// The union of `sets`, and the elements in more than one of them.
fn union_and_overlap(sets: &[&RoaringBitmap]) -> (RoaringBitmap, RoaringBitmap) {
    let mut once = RoaringBitmap::new();
    let mut twice = RoaringBitmap::new();
    for &set in sets {
        twice |= &once & set;
        once |= set;
    }
    (once, twice)
}
