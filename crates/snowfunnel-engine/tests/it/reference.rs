//! The engine against a plain reference implementation (hash sets over the generator's
//! structured events, no parsing) on generated data, for many seeds, funnel shapes, filters and
//! partitionings. This is the test that says the funnel numbers are right.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use proptest::prelude::*;
use snowfunnel_engine::{
    Cohort, CohortBy, Funnel, FunnelRecorder, FunnelReport, Inference, Order, Plan, ReportOptions, State,
    Step, TimeToStep, VariantCounts,
};
use snowfunnel_gen::{Event, ExperimentSpec, GenConfig, Line, StepSpec, date_micros, generate};
use snowfunnel_ingest::Ingester;

/// A funnel step for a generator step, matching exactly the events the generator makes for it.
fn step_for(spec: &StepSpec, index: usize) -> Step {
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    Step {
        name: format!("step {}", index + 1),
        category: some(&spec.category),
        action: some(&spec.action),
        label: spec.label.clone(),
        event: Some(spec.event.clone()),
        page_urlpath: spec.page_urlpath.clone(),
        // A prefix, as users write them.
        schema: spec.unstruct_schema.as_ref().map(|s| s[..s.len() - 6].to_owned()),
        property: None,
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Shape {
    experiment: usize,
    reverse_steps: bool,
    drop_first_step: bool,
    production_only: bool,
    window_days: Option<(i64, i64)>,
    /// Sequential order, with a window in hours (or none).
    sequential: Option<Option<i64>>,
}

pub(crate) fn shape() -> impl Strategy<Value = Shape> {
    (
        0usize..3,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        proptest::option::of((0i64..10, 1i64..8)),
        proptest::option::of(proptest::option::of(1i64..72)),
    )
        .prop_map(
            |(experiment, reverse_steps, drop_first_step, production_only, window_days, sequential)| Shape {
                experiment,
                reverse_steps,
                drop_first_step,
                production_only,
                window_days,
                sequential,
            },
        )
}

/// Every step of the experiment's funnel, in order, with no filter.
pub(crate) fn plain_shape(experiment: usize) -> Shape {
    Shape {
        experiment,
        reverse_steps: false,
        drop_first_step: false,
        production_only: false,
        window_days: None,
        sequential: None,
    }
}

pub(crate) fn funnel(experiments: &[ExperimentSpec], shape: &Shape, index: usize) -> Funnel {
    let spec = &experiments[shape.experiment];
    let mut steps: Vec<Step> = spec.steps.iter().enumerate().map(|(i, s)| step_for(s, i)).collect();
    if shape.drop_first_step && steps.len() > 1 {
        steps.remove(0);
    }
    if shape.reverse_steps {
        steps.reverse();
    }
    let start = date_micros(2026, 3, 1);
    let day = 86_400_000_000;
    Funnel {
        name: format!("funnel_{index}"),
        experiment: spec.name.clone(),
        app_ids: shape.production_only.then(|| vec!["gitlab".to_owned()]),
        start: shape.window_days.map(|(from, _)| start + from * day),
        end: shape.window_days.map(|(from, len)| start + (from + len) * day),
        control: "control".into(),
        weights: None,
        order: if shape.sequential.is_some() { Order::Sequential } else { Order::Any },
        window: shape.sequential.flatten().map(|hours| hours * 3_600_000_000),
        steps,
        rules: snowfunnel_engine::Rules::Snowfunnel,
        mde: None,
        denominator: snowfunnel_engine::Denominator::Step1,
        inference: Inference::Fixed,
        source: "generated".into(),
    }
}

fn step_matches(step: &Step, e: &Event) -> bool {
    let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
    eq(&step.category, &e.se_category)
        && eq(&step.action, &e.se_action)
        && eq(&step.label, &e.se_label)
        && eq(&step.property, &e.se_property)
        && eq(&step.event, &e.event)
        && eq(&step.page_urlpath, &e.page_urlpath)
        && step
            .schema
            .as_deref()
            .is_none_or(|p| e.unstruct_schema.as_deref().is_some_and(|s| s.starts_with(p)))
}

/// The funnel computed the obvious way, with cohorts by day when asked.
fn reference(lines: &[Line], f: &Funnel, by_day: bool) -> FunnelReport {
    reference_of(lines, f, by_day, &|_| true)
}

/// [`reference`] counting only the keys that `keep` keeps (every variant still listed).
pub(crate) fn reference_of(
    lines: &[Line],
    f: &Funnel,
    by_day: bool,
    keep: &dyn Fn(&str) -> bool,
) -> FunnelReport {
    let mut variants_of: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    // Per step, each key's earliest event time.
    let mut first: Vec<HashMap<&str, i64>> = vec![HashMap::new(); f.steps.len()];
    for e in lines.iter().filter_map(Line::as_event) {
        let t = e.event_time_micros();
        if f.start.is_some_and(|s| t < s) || f.end.is_some_and(|end| t >= end) {
            continue;
        }
        if f.app_ids.as_ref().is_some_and(|ids| !ids.contains(&e.app_id)) {
            continue;
        }
        for c in &e.experiments {
            let Some(key) = c.key.as_deref().filter(|k| !k.is_empty()) else { continue };
            if c.experiment != f.experiment {
                continue;
            }
            variants_of.entry(key).or_default().insert(&c.variant);
            for (i, step) in f.steps.iter().enumerate() {
                if step_matches(step, e) {
                    let at = first[i].entry(key).or_insert(t);
                    *at = (*at).min(t);
                }
            }
        }
    }
    let conflicting = variants_of.values().filter(|v| v.len() > 1).count() as u64;
    let names: BTreeSet<&str> = variants_of.values().flatten().copied().collect();
    // Each variant's exposed keys: those seen with it alone.
    let mut exposed: BTreeMap<&str, u64> = BTreeMap::new();
    for variants in variants_of.values().filter(|v| v.len() == 1) {
        *exposed.entry(*variants.first().unwrap()).or_default() += 1;
    }
    // (cohort day or none, variant) → per step, the microseconds each key took to get there.
    let mut took: BTreeMap<(Option<i64>, &str), Vec<Vec<i64>>> = BTreeMap::new();
    for (key, variants) in &variants_of {
        if variants.len() > 1 || !keep(key) {
            continue;
        }
        let variant = *variants.first().unwrap();
        // The times at which the key reached each step, as far as it got.
        let mut reached: Vec<i64> = Vec::new();
        for step in &first {
            let Some(&t) = step.get(key) else { break };
            let next = match (reached.last(), f.order) {
                (None, _) => t,
                (Some(&at), Order::Any) => at.max(t),
                (Some(&at), Order::Sequential) => {
                    let too_late = f.window.is_some_and(|w| t > reached[0] + w);
                    if t < at || too_late {
                        break;
                    }
                    t
                }
            };
            reached.push(next);
        }
        let Some(&start) = reached.first() else { continue };
        let mut cohorts = vec![None];
        if by_day {
            cohorts.push(Some(start.div_euclid(86_400_000_000)));
        }
        for cohort in cohorts {
            let steps = took.entry((cohort, variant)).or_insert_with(|| vec![Vec::new(); f.steps.len()]);
            for (n, at) in reached.iter().enumerate() {
                steps[n].push(at - start);
            }
        }
    }
    let counts = |cohort: Option<i64>| -> Vec<VariantCounts> {
        let mut variants: Vec<VariantCounts> = names
            .iter()
            .map(|v| {
                let steps =
                    took.get(&(cohort, *v)).cloned().unwrap_or_else(|| vec![Vec::new(); f.steps.len()]);
                VariantCounts {
                    variant: (*v).to_owned(),
                    exposed: cohort.is_none().then(|| exposed.get(v).copied().unwrap_or(0)),
                    keys_per_step: steps.iter().map(|t| t.len() as u64).collect(),
                    time_to_step: steps
                        .into_iter()
                        .enumerate()
                        .map(|(n, t)| if n == 0 { None } else { quantiles(t) })
                        .collect(),
                }
            })
            .collect();
        variants.sort_by_key(|v| (v.variant != f.control, v.variant.clone()));
        variants
    };
    let days: BTreeSet<i64> = took.keys().filter_map(|(c, _)| *c).collect();
    FunnelReport {
        name: f.name.clone(),
        experiment: f.experiment.clone(),
        control: f.control.clone(),
        step_names: f.steps.iter().map(|s| s.name.clone()).collect(),
        variants: counts(None),
        cohorts: days
            .into_iter()
            .map(|day| Cohort {
                start: snowfunnel_parse::format_micros(day * 86_400_000_000)[..10].to_owned(),
                cumulative: false,
                variants: counts(Some(day)),
            })
            .collect(),
        breakdowns: Vec::new(),
        keys: variants_of.len() as u64,
        conflicting_keys: conflicting,
    }
}

/// Median (mean of the middle two for an even count) and nearest-rank 90th percentile, in seconds.
#[allow(clippy::cast_precision_loss)]
fn quantiles(mut micros: Vec<i64>) -> Option<TimeToStep> {
    if micros.is_empty() {
        return None;
    }
    micros.sort();
    let n = micros.len();
    let seconds = |m: i64| m as f64 / 1e6;
    let median =
        if n % 2 == 1 { seconds(micros[n / 2]) } else { (micros[n / 2 - 1] + micros[n / 2]) as f64 / 2e6 };
    // The smallest value with at least 90% of the values at or below it.
    let rank = (1..=n).find(|r| r * 10 >= n * 9).unwrap();
    Some(TimeToStep { median_s: median, p90_s: seconds(micros[rank - 1]) })
}

/// Runs the engine over `lines` cut into `parts` partitions, merged in reverse order.
fn engine(plan: &Plan, lines: &[Line], parts: usize, by_day: bool) -> snowfunnel_engine::RunReport {
    let chunk = lines.len().div_ceil(parts).max(1);
    let mut ingester = Ingester::new(FunnelRecorder::new(plan));
    let mut states: Vec<State> = lines
        .chunks(chunk)
        .map(|part| {
            let mut state = State::new(plan);
            for line in part {
                let _ = ingester.ingest(&mut state, line.to_tsv().as_bytes());
            }
            state
        })
        .collect();
    let mut merged = State::new(plan);
    while let Some(s) = states.pop() {
        merged.merge(s);
    }
    merged.report_with(
        plan,
        ReportOptions { cohorts: by_day.then_some(CohortBy::Day), ..ReportOptions::default() },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn engine_equals_reference(
        seed in any::<u64>(),
        events in 300usize..3000,
        shapes in proptest::collection::vec(shape(), 1..4),
        parts in 1usize..6,
        by_day in any::<bool>(),
    ) {
        let config = GenConfig { keys_per_experiment: events / 15 + 5, ..GenConfig::new(seed, events) };
        let lines = generate(&config);
        let funnels: Vec<Funnel> =
            shapes.iter().enumerate().map(|(i, s)| funnel(&config.experiments, s, i)).collect();
        let plan = Plan::new(funnels.clone());
        let report = engine(&plan, &lines, parts, by_day);

        for (got, f) in report.funnels.iter().zip(&funnels) {
            prop_assert_eq!(got, &reference(&lines, f, by_day));
        }
        let c = report.counters;
        let good: Vec<&Event> = lines.iter().filter_map(Line::as_event).collect();
        prop_assert_eq!(c.lines, lines.len() as u64);
        prop_assert_eq!(c.events, good.len() as u64);
        prop_assert_eq!(c.bad.total(), (lines.len() - good.len()) as u64);
        prop_assert_eq!(c.experiment_events, good.iter().filter(|e| !e.experiments.is_empty()).count() as u64);
        let without_key = good.iter().flat_map(|e| &e.experiments).filter(|c| c.key.as_deref().is_none_or(str::is_empty)).count();
        prop_assert_eq!(c.contexts_without_key, without_key as u64);
    }
}

#[test]
fn generated_data_exercises_every_rule() {
    // The property test is only as good as its data: check the generator produces the cases.
    let config = GenConfig::new(7, 20_000);
    let lines = generate(&config);
    let good: Vec<&Event> = lines.iter().filter_map(Line::as_event).collect();
    assert!(lines.len() > good.len(), "malformed lines");
    assert!(good.iter().any(|e| e.experiments.len() > 1), "two experiment contexts on one event");
    assert!(good.iter().flat_map(|e| &e.experiments).any(|c| c.key.is_none()), "contexts without key");
    assert!(good.iter().any(|e| e.app_id == "gitlab-staging"), "staging events");
    assert!(good.iter().any(|e| e.derived_micros.is_some_and(|d| d <= 0)), "the 1970 derived_tstamp bug");
    let ids: HashSet<&str> = good.iter().map(|e| e.event_id.as_str()).collect();
    assert!(ids.len() < good.len(), "duplicated events");
    let f = funnel(
        &config.experiments,
        &Shape {
            experiment: 0,
            reverse_steps: false,
            drop_first_step: false,
            production_only: false,
            window_days: None,
            sequential: None,
        },
        0,
    );
    let r = reference(&lines, &f, true);
    assert!(r.conflicting_keys > 0, "conflicting keys");
    assert!(r.variants.iter().all(|v| v.keys_per_step.windows(2).all(|w| w[0] >= w[1])));
    assert!(r.variants.iter().all(|v| v.keys_per_step.last() > Some(&0)), "keys reach the last step: {r:?}");
    let reversed = reference(
        &lines,
        &funnel(
            &config.experiments,
            &Shape {
                experiment: 0,
                reverse_steps: true,
                drop_first_step: false,
                production_only: false,
                window_days: None,
                sequential: None,
            },
            0,
        ),
        false,
    );
    assert!(reversed.variants[0].keys_per_step[0] > 0, "keys doing later steps without earlier ones");
}
