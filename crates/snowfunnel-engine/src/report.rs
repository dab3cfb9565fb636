//! From the state to per-variant counts per step, time to convert, and cohorts.
//!
//! A key counts for variant v when it was seen with v (and no other variant: a key seen with
//! several is *conflicting* and left out). It reaches step 1 at its first step-1 event, and
//! step n after reaching step n-1 when it did step n at all ([`Order::Any`]: the sets
//! intersect, the time is the latest of its first events at steps 1..n), or
//! ([`Order::Sequential`]) when its first step-n event is at or after the time it reached step
//! n-1 and, with a window, at most the window after its first step-1 event (the time is that
//! event's). Time to step n is the time it reached step n minus its first step-1 event.

use hashbrown::HashMap;
use roaring::RoaringBitmap;
use snowfunnel_parse::{MICROS_PER_DAY, format_day};

use crate::breakdown::{MAX_BREAKDOWN_VALUES, OTHER_VALUE, ValueNames, label};
use crate::definition::{Funnel, Order};
use crate::plan::Plan;
use crate::rules::Rules;
use crate::seen::{DayKeys, FunnelSeen, day_of};
use crate::state::{FunnelState, State, VariantSets};
use crate::times::FirstTimes;
use crate::unify::{SubjectTimes, SubjectValues, Unifier};
use snowfunnel_ingest::Counters;

/// One funnel's result.
#[derive(Clone, Debug, PartialEq)]
pub struct FunnelReport {
    /// Funnel name.
    pub name: String,
    /// Experiment name.
    pub experiment: String,
    /// The baseline variant's name (first in `variants` when it was seen).
    pub control: String,
    /// Step names, in order.
    pub step_names: Vec<String>,
    /// One entry per variant seen: the control first, then by name.
    pub variants: Vec<VariantCounts>,
    /// With [`ReportOptions::cohorts`]: the funnel per cohort, in date order.
    pub cohorts: Vec<Cohort>,
    /// With breakdown fields in the plan ([`Plan::with_breakdowns`](crate::Plan::with_breakdowns)): the funnel per field (in
    /// the plan's order) and value (in byte order of the values, [`OTHER_VALUE`] last).
    pub breakdowns: Vec<Breakdown>,
    /// Distinct keys among the funnel's events (conflicting ones included).
    pub keys: u64,
    /// Keys seen with more than one variant among the funnel's events; excluded from counts.
    pub conflicting_keys: u64,
}

impl FunnelReport {
    /// The keys that did step 1, all variants together (conflicting keys excluded).
    #[must_use]
    pub fn step1_keys(&self) -> u64 {
        self.variants.iter().map(|v| v.keys_per_step.first().copied().unwrap_or(0)).sum()
    }
}

/// The funnel of the keys whose first step-1 event fell in one day or week.
#[derive(Clone, Debug, PartialEq)]
pub struct Cohort {
    /// The first day of the cohort, `YYYY-MM-DD` (UTC; weeks start on Monday).
    pub start: String,
    /// With [`ReportOptions::cumulative`]: the cohort holds the keys of its period and of
    /// every period before it (a running total).
    pub cumulative: bool,
    /// The variants, as in [`FunnelReport::variants`] (all of them, even without keys here).
    pub variants: Vec<VariantCounts>,
}

/// The funnel of the keys whose first step-1 event had one value of a breakdown field.
#[derive(Clone, Debug, PartialEq)]
pub struct Breakdown {
    /// The field's name (`geo_country`).
    pub dimension: String,
    /// The value ([`EMPTY_VALUE`](crate::EMPTY_VALUE) for the empty one, [`OTHER_VALUE`] for the keys of the values
    /// not shown), invalid UTF-8 replaced.
    pub value: String,
    /// The variants, as in [`FunnelReport::variants`] (all of them, even without keys here).
    pub variants: Vec<VariantCounts>,
}

/// How to split funnels into cohorts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CohortBy {
    /// By UTC day of the key's first step-1 event.
    Day,
    /// By the week (Monday to Sunday, UTC) of the key's first step-1 event.
    Week,
}

/// What a report includes beyond the funnels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReportOptions {
    /// Split each funnel into cohorts.
    pub cohorts: Option<CohortBy>,
    /// With `cohorts`: each cohort holds the keys of its period and of every period before it
    /// (running totals), not those of its period only.
    pub cumulative: bool,
}

/// The funnel of one variant.
#[derive(Clone, Debug, PartialEq)]
pub struct VariantCounts {
    /// Variant name.
    pub variant: String,
    /// Exposed keys: the variant's keys with any event of the experiment that passes the
    /// funnel's filters (window, `app_ids`), whatever step they did, conflicting keys left out;
    /// the denominator under [`Denominator::Exposed`](crate::Denominator::Exposed). `None` in
    /// a [`Cohort`]: a key without a step-1 event has no cohort.
    pub exposed: Option<u64>,
    /// Keys that reached step n, for each step n.
    pub keys_per_step: Vec<u64>,
    /// Per step, over the keys that reached it: how long they took from their first step-1
    /// event; `None` when no key reached the step (and at step 1, where it is 0).
    pub time_to_step: Vec<Option<TimeToStep>>,
}

/// How long keys took to reach a step, in seconds (exact, from microsecond event times).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeToStep {
    /// The median (the mean of the two middle values when their number is even).
    pub median_s: f64,
    /// The 90th percentile, nearest rank: the smallest value at or above 90% of them.
    pub p90_s: f64,
}

impl VariantCounts {
    /// `keys(n) / keys(n-1)`; 1 at step 1; `None` when the denominator is 0.
    #[must_use]
    pub fn conversion_from_previous(&self, step: usize) -> Option<f64> {
        let previous = if step == 0 { self.keys_per_step[0] } else { self.keys_per_step[step - 1] };
        ratio(self.keys_per_step[step], previous)
    }

    /// `keys(n) / keys(1)`; `None` when no key did step 1.
    #[must_use]
    pub fn conversion_from_first(&self, step: usize) -> Option<f64> {
        ratio(self.keys_per_step[step], self.keys_per_step[0])
    }
}

#[allow(clippy::cast_precision_loss)] // counts far below 2^52
fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// Totals per experiment, over all its events (no funnel filter).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExperimentSummary {
    /// Experiment name.
    pub experiment: String,
    /// Experiment contexts with a key.
    pub contexts: u64,
    /// Distinct keys.
    pub keys: u64,
    /// Keys seen with more than one variant.
    pub conflicting_keys: u64,
    /// Distinct keys per variant (conflicting keys included), control first then by name.
    pub variants: Vec<(String, u64)>,
}

/// Everything a run reports.
#[derive(Clone, Debug, PartialEq)]
pub struct RunReport {
    /// Counters over all lines.
    pub counters: Counters,
    /// One per funnel, in definition order.
    pub funnels: Vec<FunnelReport>,
    /// One per experiment of the funnels.
    pub experiments: Vec<ExperimentSummary>,
}

impl State {
    /// Computes the report. Takes `&mut self` only to finish pending bitmap batches.
    #[must_use]
    pub fn report(&mut self, plan: &Plan) -> RunReport {
        self.report_with(plan, ReportOptions::default())
    }

    /// [`State::report`], with cohorts when `options` asks for them.
    #[must_use]
    pub fn report_with(&mut self, plan: &Plan, options: ReportOptions) -> RunReport {
        let unifiers = self.unifiers();
        let funnels = each_funnel(plan, &unifiers, &mut self.funnels, |def, _, state, unifier| {
            let (variants, union, conflicting) =
                split_variants(&mut state.variants, &def.control, unifier, def.rules);
            state.steps.iter_mut().for_each(FirstTimes::flush);
            let steps: Vec<SubjectTimes<'_>> = state.steps.iter().map(|t| unifier.apply_times(t)).collect();
            let walk = Walk { steps: &steps, order: def.order, window: def.window };
            let (variants_counts, cohorts) = tally(&walk, def, &variants, &conflicting, options);
            let breakdowns = plan
                .breakdowns
                .iter()
                .zip(&state.firsts)
                .zip(&self.values)
                .flat_map(|((field, firsts), names)| {
                    let firsts = unifier.apply_values(firsts);
                    breakdown(&walk, def, &variants, &conflicting, field.name(), &firsts, names)
                })
                .collect();
            let variants = variants_counts;
            FunnelReport {
                name: def.name.clone(),
                experiment: def.experiment.clone(),
                control: def.control.clone(),
                step_names: def.steps.iter().map(|s| s.name.clone()).collect(),
                variants,
                cohorts,
                breakdowns,
                keys: union.len(),
                conflicting_keys: conflicting.len(),
            }
        });
        let experiments = plan
            .experiments()
            .iter()
            .zip(self.experiments.iter_mut().zip(&unifiers))
            .map(|(name, (state, unifier))| {
                // The control of the experiment's first funnel orders the variants.
                let control =
                    plan.funnels().iter().find(|f| f.experiment == *name).map_or("control", |f| &f.control);
                let (variants, union, conflicting) =
                    split_variants(&mut state.variants, control, unifier, Rules::Snowfunnel);
                ExperimentSummary {
                    experiment: name.clone(),
                    contexts: state.contexts,
                    keys: union.len(),
                    conflicting_keys: conflicting.len(),
                    variants: variants.into_iter().map(|(v, keys)| (v, keys.len())).collect(),
                }
            })
            .collect();
        RunReport { counters: self.counters, funnels, experiments }
    }
}

impl State {
    /// What the checks for empty matches and outages need of each funnel of `plan` (in
    /// definition order), beyond its report: the names seen (see [`FunnelSeen`]), the keys that
    /// did each step on its own, and the variants' keys by the day of their first step-1 event.
    /// Takes `&mut self` only to finish pending bitmap batches.
    #[must_use]
    pub fn seen(&mut self, plan: &Plan) -> Vec<FunnelSeen> {
        let experiments = self.names.experiments_seen(
            plan.experiments().iter().zip(&self.experiments).map(|(name, e)| (name.as_str(), e.contexts)),
        );
        let unifiers = self.unifiers();
        each_funnel(plan, &unifiers, &mut self.funnels, |def, experiment, state, unifier| {
            state.steps.iter_mut().for_each(FirstTimes::flush);
            let step_keys = state.steps.iter().map(|t| t.len() as u64).collect();
            let (variants, _, conflicting) =
                split_variants(&mut state.variants, &def.control, unifier, def.rules);
            let first = unifier.apply_times(&state.steps[0]);
            let mut by_day: HashMap<i64, Vec<u64>> = HashMap::new();
            for (v, (_, keys)) in variants.iter().enumerate() {
                for key in keys - &conflicting {
                    if let Some(time) = first.get(key) {
                        by_day.entry(day_of(time)).or_insert_with(|| vec![0; variants.len()])[v] += 1;
                    }
                }
            }
            let mut days: Vec<DayKeys> =
                by_day.into_iter().map(|(day, keys)| DayKeys { day, keys }).collect();
            days.sort_unstable_by_key(|d| d.day);
            FunnelSeen {
                names_complete: self.names.complete,
                experiments: experiments.clone(),
                fields: self.names.fields_seen(experiment),
                step_keys,
                days,
            }
        })
    }

    /// How far each key of each funnel of `plan` (in definition order) got, for `explain`:
    /// the same variants, conflicts and walk as [`State::report_with`]. Takes `&mut self` only
    /// to finish pending bitmap batches.
    pub(crate) fn reach(&mut self, plan: &Plan) -> Vec<Reach> {
        let unifiers = self.unifiers();
        each_funnel(plan, &unifiers, &mut self.funnels, |def, _, state, unifier| {
            let (variants, _, conflicting) =
                split_variants(&mut state.variants, &def.control, unifier, def.rules);
            state.steps.iter_mut().for_each(FirstTimes::flush);
            let steps: Vec<SubjectTimes<'_>> = state.steps.iter().map(|t| unifier.apply_times(t)).collect();
            let walk = Walk { steps: &steps, order: def.order, window: def.window };
            let mut reached = Vec::with_capacity(steps.len());
            let mut steps_reached = HashMap::new();
            for (_, keys) in &variants {
                for key in keys - &conflicting {
                    walk.walk(key, &mut reached);
                    if !reached.is_empty() {
                        steps_reached.insert(key, reached.len());
                    }
                }
            }
            Reach { conflicting, steps_reached }
        })
    }

    /// Per funnel of `plan` (in definition order): the subject each key counts as, under the
    /// funnel's rules.
    pub(crate) fn subjects(&self, plan: &Plan) -> Vec<Unifier> {
        let unifiers = self.unifiers();
        plan.funnels()
            .iter()
            .map(|def| {
                let e = plan.experiment_id(&def.experiment).expect("funnel experiments are in the plan");
                if def.rules.unifies_migration_keys() { unifiers[e].clone() } else { Unifier::default() }
            })
            .collect()
    }

    /// Per experiment of the plan (in its order): the unifier of its keys by their
    /// `migration_keys`.
    fn unifiers(&self) -> Vec<Unifier> {
        self.experiments.iter().map(|e| Unifier::new(e.migrations.iter().copied())).collect()
    }
}

/// Calls `each` with every funnel of `plan` (in definition order), the index of its
/// experiment, its state (a warehouse funnel's per-event entries folded in) and the unifier its
/// rules count keys with (`unifiers`' of its experiment, or none: keys as they come).
fn each_funnel<T>(
    plan: &Plan,
    unifiers: &[Unifier],
    funnels: &mut [FunnelState],
    mut each: impl FnMut(&Funnel, usize, &mut FunnelState, &Unifier) -> T,
) -> Vec<T> {
    let as_they_come = Unifier::new(std::iter::empty());
    plan.funnels()
        .iter()
        .zip(funnels)
        .map(|(def, state)| {
            let experiment = plan.experiment_id(&def.experiment).expect("funnel experiments are in the plan");
            let unifier =
                if def.rules.unifies_migration_keys() { &unifiers[experiment] } else { &as_they_come };
            let mut folded = state.counted();
            each(def, experiment, folded.as_mut().unwrap_or(state), unifier)
        })
        .collect()
}

/// How far the keys of one funnel got (see [`State::reach`]).
pub(crate) struct Reach {
    /// The subjects its rules leave out as conflicting (seen with several variants).
    pub(crate) conflicting: RoaringBitmap,
    /// Each subject that did step 1 (conflicting ones left out): the number of steps it reached.
    pub(crate) steps_reached: HashMap<u32, usize>,
}

/// How keys move through a funnel's steps.
struct Walk<'a> {
    steps: &'a [SubjectTimes<'a>],
    order: Order,
    window: Option<i64>,
}

impl Walk<'_> {
    /// The times at which `key` reached steps 1, 2, ... as far as it got (nothing when it never
    /// did step 1), into `reached`.
    fn walk(&self, key: u32, reached: &mut Vec<i64>) {
        reached.clear();
        let Some(first) = self.steps[0].get(key) else { return };
        reached.push(first);
        let mut at = first;
        for step in &self.steps[1..] {
            let Some(time) = step.get(key) else { break };
            match self.order {
                Order::Any => at = at.max(time),
                Order::Sequential => {
                    if time < at || self.window.is_some_and(|w| time - first > w) {
                        break;
                    }
                    at = time;
                }
            }
            reached.push(at);
        }
    }
}

/// What the keys of a variant (of a cohort) reached: keys per step and their times to each
/// step.
#[derive(Clone, Default)]
struct StepsReached {
    keys_per_step: Vec<u64>,
    /// Per step: microseconds from the first step-1 event, one per key that reached it.
    times: Vec<Vec<i64>>,
}

impl StepsReached {
    fn new(steps: usize) -> Self {
        StepsReached { keys_per_step: vec![0; steps], times: vec![Vec::new(); steps] }
    }

    fn add(&mut self, reached: &[i64]) {
        for (step, at) in reached.iter().enumerate() {
            self.keys_per_step[step] += 1;
            self.times[step].push(at - reached[0]);
        }
    }

    /// Adds the keys of `other`.
    fn absorb(&mut self, other: &StepsReached) {
        for (step, (keys, times)) in other.keys_per_step.iter().zip(&other.times).enumerate() {
            self.keys_per_step[step] += keys;
            self.times[step].extend_from_slice(times);
        }
    }

    fn finish(self, variant: &str, exposed: Option<u64>) -> VariantCounts {
        VariantCounts {
            variant: variant.to_owned(),
            exposed,
            keys_per_step: self.keys_per_step,
            time_to_step: self
                .times
                .into_iter()
                .enumerate()
                .map(|(step, t)| (step > 0).then(|| time_to_step(t)).flatten())
                .collect(),
        }
    }
}

/// The variants' funnels and, when asked, the cohorts' (labelled by their first day).
fn tally(
    walk: &Walk<'_>,
    def: &Funnel,
    variants: &[(String, RoaringBitmap)],
    conflicting: &RoaringBitmap,
    options: ReportOptions,
) -> (Vec<VariantCounts>, Vec<Cohort>) {
    let cohorts = options.cohorts;
    let steps = def.steps.len();
    let mut reached = Vec::with_capacity(steps);
    let mut whole = Vec::with_capacity(variants.len());
    // Cohort start (days since the epoch) → per variant tallies.
    let mut by_cohort: HashMap<i64, Vec<StepsReached>> = HashMap::new();
    for (v, (variant, keys)) in variants.iter().enumerate() {
        let mut tally = StepsReached::new(steps);
        for key in keys - conflicting {
            walk.walk(key, &mut reached);
            if reached.is_empty() {
                continue;
            }
            tally.add(&reached);
            if let Some(by) = cohorts {
                let cohort = by_cohort
                    .entry(cohort_start(by, reached[0]))
                    .or_insert_with(|| variants.iter().map(|_| StepsReached::new(steps)).collect());
                cohort[v].add(&reached);
            }
        }
        whole.push(tally.finish(variant, Some(keys.len() - keys.intersection_len(conflicting))));
    }
    let mut starts: Vec<i64> = by_cohort.keys().copied().collect();
    starts.sort_unstable();
    // Running totals: each cohort adds its keys to those of the cohorts before it.
    let mut running: Vec<StepsReached> = variants.iter().map(|_| StepsReached::new(steps)).collect();
    let cohorts = starts
        .into_iter()
        .map(|day| {
            let mut tallies = by_cohort.remove(&day).expect("listed above");
            if options.cumulative {
                for (total, tally) in running.iter_mut().zip(&tallies) {
                    total.absorb(tally);
                }
                tallies.clone_from(&running);
            }
            Cohort {
                start: format_day(day),
                cumulative: options.cumulative,
                variants: tallies
                    .into_iter()
                    .zip(variants)
                    .map(|(t, (name, _))| t.finish(name, None))
                    .collect(),
            }
        })
        .collect();
    (whole, cohorts)
}

/// The blocks of one breakdown field: per value kept, the variants' funnels of the keys whose
/// first step-1 event had it (see [`Breakdown`]).
fn breakdown(
    walk: &Walk<'_>,
    def: &Funnel,
    variants: &[(String, RoaringBitmap)],
    conflicting: &RoaringBitmap,
    dimension: &str,
    firsts: &SubjectValues<'_>,
    names: &ValueNames,
) -> Vec<Breakdown> {
    let steps = def.steps.len();
    let mut reached = Vec::with_capacity(steps);
    // Value hash → per variant tallies.
    let mut by_value: HashMap<u64, Vec<StepsReached>> = HashMap::new();
    for (v, (_, keys)) in variants.iter().enumerate() {
        for key in keys - conflicting {
            walk.walk(key, &mut reached);
            if reached.is_empty() {
                continue;
            }
            // Every key at step 1 has a value (a state without them is refused when read).
            let hash = firsts.get(key).unwrap_or(u64::MAX);
            by_value
                .entry(hash)
                .or_insert_with(|| variants.iter().map(|_| StepsReached::new(steps)).collect())[v]
                .add(&reached);
        }
    }
    // The values shown: those kept with the most step-1 keys (then by value), at most
    // MAX_BREAKDOWN_VALUES; the others' keys go to OTHER_VALUE.
    let step1 = |tallies: &[StepsReached]| tallies.iter().map(|t| t.keys_per_step[0]).sum::<u64>();
    let mut named: Vec<(&[u8], u64)> =
        by_value.keys().filter_map(|&hash| names.get(hash).map(|value| (value, hash))).collect();
    named.sort_unstable_by(|a, b| step1(&by_value[&b.1]).cmp(&step1(&by_value[&a.1])).then(a.0.cmp(b.0)));
    named.truncate(MAX_BREAKDOWN_VALUES);
    named.sort_unstable();
    let mut blocks = Vec::with_capacity(named.len() + 1);
    for (value, hash) in named {
        let tallies = by_value.remove(&hash).expect("listed above");
        blocks.push(Breakdown {
            dimension: dimension.to_owned(),
            value: label(value),
            variants: tallies.into_iter().zip(variants).map(|(t, (name, _))| t.finish(name, None)).collect(),
        });
    }
    if !by_value.is_empty() {
        let mut other: Vec<StepsReached> = variants.iter().map(|_| StepsReached::new(steps)).collect();
        for tallies in by_value.values() {
            for (total, tally) in other.iter_mut().zip(tallies) {
                total.absorb(tally);
            }
        }
        blocks.push(Breakdown {
            dimension: dimension.to_owned(),
            value: OTHER_VALUE.to_owned(),
            variants: other.into_iter().zip(variants).map(|(t, (name, _))| t.finish(name, None)).collect(),
        });
    }
    blocks
}

/// The first day (days since the epoch) of the cohort of a key first at step 1 at `first`.
fn cohort_start(by: CohortBy, first: i64) -> i64 {
    let day = first.div_euclid(MICROS_PER_DAY);
    match by {
        CohortBy::Day => day,
        // 1970-01-01 was a Thursday: 3 days after a Monday.
        CohortBy::Week => day - (day + 3).rem_euclid(7),
    }
}

/// The median and 90th percentile of `micros`, in seconds; `None` when empty.
#[allow(clippy::cast_precision_loss)]
fn time_to_step(mut micros: Vec<i64>) -> Option<TimeToStep> {
    if micros.is_empty() {
        return None;
    }
    micros.sort_unstable();
    let n = micros.len();
    // Sums of two times stay exact in i64; one division rounds once, to the nearest double.
    let median = if n % 2 == 1 {
        micros[n / 2] as f64 / 1e6
    } else {
        (micros[n / 2 - 1] + micros[n / 2]) as f64 / 2e6
    };
    let p90 = micros[(n * 9).div_ceil(10) - 1] as f64 / 1e6;
    Some(TimeToStep { median_s: median, p90_s: p90 })
}

/// The variants' key sets in report order (control first, then by name), their union, and
/// the keys in more than one of them that `rules` leave out (none under the warehouse's); keys
/// of one subject count as one (see [`Unifier`]).
fn split_variants(
    sets: &mut VariantSets,
    control: &str,
    unifier: &Unifier,
    rules: Rules,
) -> (Vec<(String, RoaringBitmap)>, RoaringBitmap, RoaringBitmap) {
    let mut variants: Vec<(String, RoaringBitmap)> =
        sets.0.iter_mut().map(|(v, b)| (v.to_string(), unifier.apply(b.finish()).into_owned())).collect();
    variants.sort_by(|(a, _), (b, _)| (a != control, a).cmp(&(b != control, b)));
    let mut union = RoaringBitmap::new();
    let mut conflicting = RoaringBitmap::new();
    for (_, keys) in &variants {
        if rules.excludes_conflicts() {
            conflicting |= &union & keys;
        }
        union |= keys;
    }
    (variants, union, conflicting)
}
