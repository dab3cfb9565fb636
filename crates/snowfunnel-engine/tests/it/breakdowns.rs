//! Breakdowns against a plain reference on generated data: each key's value is that of its
//! earliest step-1 event, read from the raw line by splitting it on tabs; the funnel of each
//! value is the reference funnel of its keys. Then merging (threads, shards, state files), the
//! errors of states without a breakdown, cumulative cohorts and the bound on values.

use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;
use snowfunnel_engine::{
    Breakdown, BreakdownField, CohortBy, Funnel, FunnelRecorder, MAX_BREAKDOWN_VALUES, MergeError,
    OTHER_VALUE, Plan, ReadMergeError, ReportOptions, RunReport, State, StateFile, StateFileError,
    VariantCounts, parse_funnel,
};
use snowfunnel_gen::{GenConfig, Line, generate};
use snowfunnel_ingest::Ingester;

use crate::lines::line;
use crate::reference::{funnel, plain_shape, reference_of, shape};
use crate::state_files::write_one;

/// The fields broken down by: two from the generator's profiles, one from its events.
const FIELDS: [(&str, usize); 3] = [("geo_country", 18), ("platform", 1), ("br_family", 79)];

fn fields() -> Vec<BreakdownField> {
    FIELDS.iter().map(|(name, _)| BreakdownField::parse(name).unwrap()).collect()
}

fn ingest(plan: &Plan, lines: &[Line]) -> State {
    let mut ingester = Ingester::new(FunnelRecorder::new(plan));
    let mut state = State::new(plan);
    for l in lines {
        let _ = ingester.ingest(&mut state, l.to_tsv().as_bytes());
    }
    state
}

fn report(state: &mut State, plan: &Plan, cumulative: bool) -> RunReport {
    state.report_with(plan, ReportOptions { cohorts: Some(CohortBy::Day), cumulative })
}

/// Per key of the funnel's experiment, the value of `field` (a position) on its earliest
/// step-1 event (the smallest value on a tie in time), and how many keys had a tie between
/// different values.
fn first_values(lines: &[Line], f: &Funnel, field: usize) -> (HashMap<String, String>, usize) {
    let step = &f.steps[0];
    let mut first: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    for e in lines.iter().filter_map(Line::as_event) {
        let t = e.event_time_micros();
        if f.start.is_some_and(|s| t < s) || f.end.is_some_and(|end| t >= end) {
            continue;
        }
        if f.app_ids.as_ref().is_some_and(|ids| !ids.contains(&e.app_id)) {
            continue;
        }
        let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        let matches = eq(&step.category, &e.se_category)
            && eq(&step.action, &e.se_action)
            && eq(&step.label, &e.se_label)
            && eq(&step.event, &e.event)
            && eq(&step.page_urlpath, &e.page_urlpath)
            && step
                .schema
                .as_deref()
                .is_none_or(|p| e.unstruct_schema.as_deref().is_some_and(|s| s.starts_with(p)));
        if !matches {
            continue;
        }
        let tsv = e.to_tsv();
        let value = tsv.split('\t').nth(field).unwrap().to_owned();
        for c in &e.experiments {
            let Some(key) = c.key.as_deref().filter(|k| !k.is_empty()) else { continue };
            if c.experiment == f.experiment {
                first.entry(key.to_owned()).or_default().push((t, value.clone()));
            }
        }
    }
    let mut ties = 0;
    let values = first
        .into_iter()
        .map(|(key, mut events)| {
            events.sort();
            if events.len() > 1 && events[0].0 == events[1].0 && events[0].1 != events[1].1 {
                ties += 1;
            }
            (key, events.swap_remove(0).1)
        })
        .collect();
    (values, ties)
}

/// The breakdown blocks of `field` computed from the reference: one per value of a key that
/// reached step 1, in byte order of the values, `(empty)` for the empty one.
fn reference_blocks(lines: &[Line], f: &Funnel, field: (&str, usize)) -> (Vec<Breakdown>, usize) {
    let (values, ties) = first_values(lines, f, field.1);
    let whole = reference_of(lines, f, false, &|_| true);
    let mut by_value: BTreeMap<&str, ()> = BTreeMap::new();
    for value in values.values() {
        by_value.insert(value, ());
    }
    let blocks = by_value
        .keys()
        .map(|value| {
            let of = reference_of(lines, f, false, &|key| values.get(key).is_some_and(|v| v == value));
            Breakdown {
                dimension: field.0.to_owned(),
                value: if value.is_empty() { "(empty)".to_owned() } else { (*value).to_owned() },
                // A block has no exposed keys (its keys are those of step 1); the reference
                // funnel restricted to the block's keys counts its own.
                variants: of.variants.into_iter().map(|v| VariantCounts { exposed: None, ..v }).collect(),
            }
        })
        // Values of keys that are all conflicting have no block.
        .filter(|b| b.variants.iter().any(|v| v.keys_per_step[0] > 0))
        .collect();
    assert_eq!(whole.variants.len(), whole.variants.len());
    (blocks, ties)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Each breakdown block equals the reference funnel of the keys of its value; the blocks of
    /// all values add up to the whole funnel; partitions merged in any order agree.
    #[test]
    fn breakdowns_equal_the_reference(
        seed in any::<u64>(),
        events in 300usize..2500,
        shapes in proptest::collection::vec(shape(), 1..3),
        parts in 1usize..5,
    ) {
        let config = GenConfig { keys_per_experiment: events / 15 + 5, ..GenConfig::new(seed, events) };
        let lines = generate(&config);
        let funnels: Vec<Funnel> =
            shapes.iter().enumerate().map(|(i, s)| funnel(&config.experiments, s, i)).collect();
        let plan = Plan::new(funnels.clone()).with_breakdowns(fields());
        let chunk = lines.len().div_ceil(parts).max(1);
        let mut merged = State::new(&plan);
        let mut states: Vec<State> = lines.chunks(chunk).map(|part| ingest(&plan, part)).collect();
        while let Some(s) = states.pop() {
            merged.merge(s);
        }
        let report = report(&mut merged, &plan, false);
        for (f, got) in funnels.iter().zip(&report.funnels) {
            for field in FIELDS {
                let (expected, ties) = reference_blocks(&lines, f, field);
                prop_assume!(ties == 0);
                let blocks: Vec<&Breakdown> = got.breakdowns.iter().filter(|b| b.dimension == field.0).collect();
                prop_assert_eq!(blocks.len(), expected.len(), "{} by {}", f.name, field.0);
                for (block, want) in blocks.iter().zip(&expected) {
                    prop_assert_eq!(*block, want);
                }
                // Every key at step 1 is in one block.
                for (v, whole) in got.variants.iter().enumerate() {
                    let sum: u64 = blocks.iter().map(|b| b.variants[v].keys_per_step[0]).sum();
                    prop_assert_eq!(sum, whole.keys_per_step[0]);
                }
            }
        }
        let mut whole = ingest(&plan, &lines);
        prop_assert_eq!(self::report(&mut whole, &plan, false), report);
    }

    /// Shards written to state files, read back and merged in any order report like one run,
    /// breakdowns and cumulative cohorts included.
    #[test]
    fn shards_with_breakdowns_merge_into_one_run(
        seed in any::<u64>(),
        events in 200usize..2000,
        shapes in proptest::collection::vec(shape(), 1..3),
        shard_of in proptest::collection::vec(0usize..3, 32),
        reverse in any::<bool>(),
    ) {
        let config = GenConfig { keys_per_experiment: events / 15 + 5, ..GenConfig::new(seed, events) };
        let lines = generate(&config);
        let funnels: Vec<Funnel> =
            shapes.iter().enumerate().map(|(i, s)| funnel(&config.experiments, s, i)).collect();
        let plan = Plan::new(funnels).with_breakdowns(fields());
        let mut shards: Vec<Vec<Line>> = vec![Vec::new(); 3];
        for (i, run) in lines.chunks(41).enumerate() {
            shards[shard_of[i % shard_of.len()]].extend_from_slice(run);
        }
        let mut files: Vec<Vec<u8>> = shards
            .iter()
            .enumerate()
            .map(|(i, lines)| write_one(&plan, ingest(&plan, lines), &format!("shard-{i}")))
            .collect();
        if reverse {
            files.reverse();
        }
        let mut merged = StateFile::new(&plan);
        for bytes in &files {
            merged = merged.read_merged(&plan, bytes.as_slice()).unwrap();
        }
        let mut whole = ingest(&plan, &lines);
        prop_assert_eq!(report(&mut merged.state, &plan, true), report(&mut whole, &plan, true));
        prop_assert_eq!(merged.state.canonical_sets(), whole.canonical_sets());
    }
}

#[test]
fn cumulative_cohorts_are_running_totals() {
    let config = GenConfig { keys_per_experiment: 150, ..GenConfig::new(7, 3000) };
    let lines = generate(&config);
    let s = plain_shape(0);
    let plan = Plan::new(vec![funnel(&config.experiments, &s, 0)]);
    let mut state = ingest(&plan, &lines);
    let daily = report(&mut state, &plan, false).funnels.remove(0);
    let cumulative = report(&mut state, &plan, true).funnels.remove(0);
    assert!(daily.cohorts.len() > 3, "several days");
    assert_eq!(daily.cohorts.len(), cumulative.cohorts.len());
    let mut running: Vec<Vec<u64>> = daily.variants.iter().map(|v| vec![0; v.keys_per_step.len()]).collect();
    for (day, total) in daily.cohorts.iter().zip(&cumulative.cohorts) {
        assert_eq!(day.start, total.start);
        assert!(total.cumulative && !day.cumulative);
        for ((sum, d), t) in running.iter_mut().zip(&day.variants).zip(&total.variants) {
            for (s, k) in sum.iter_mut().zip(&d.keys_per_step) {
                *s += k;
            }
            assert_eq!(&t.keys_per_step, sum);
        }
    }
    // The last period's running total is the whole funnel, times included (a cohort has no
    // exposed keys).
    let whole: Vec<VariantCounts> =
        cumulative.variants.iter().map(|v| VariantCounts { exposed: None, ..v.clone() }).collect();
    assert_eq!(cumulative.cohorts.last().unwrap().variants, whole);
}

const FUNNEL: &str = "experiment = \"exp\"\n[[steps]]\nname = \"one\"\naction = \"a1\"\n[[steps]]\nname = \"two\"\naction = \"a2\"\n";

fn small_plan(breakdowns: &[&str]) -> Plan {
    Plan::new(vec![parse_funnel("f.toml", "f", FUNNEL).unwrap()])
        .with_breakdowns(breakdowns.iter().map(|f| BreakdownField::parse(f).unwrap()).collect())
}

fn small_state(plan: &Plan) -> State {
    let mut ingester = Ingester::new(FunnelRecorder::new(plan));
    let mut state = State::new(plan);
    for (app, time, action, key) in [
        ("web", "2026-03-01 10:00:00", "a1", "k1"),
        // k1's first step-1 event is the one above: "early" does not count for it.
        ("early", "2026-03-01 11:00:00", "a1", "k1"),
        ("web", "2026-03-01 10:00:00", "a2", "k1"),
        ("", "2026-03-02 10:00:00", "a1", "k2"),
        // A tie in time: the value of the smaller hash, whatever the order.
        ("b", "2026-03-02 10:00:00", "a1", "k3"),
        ("a", "2026-03-02 10:00:00", "a1", "k3"),
    ] {
        ingester.ingest(&mut state, line(app, time, action, &[("exp", key, "control")]).as_bytes()).unwrap();
    }
    state
}

#[test]
fn a_key_takes_the_value_of_its_first_step1_event() {
    let plan = small_plan(&["app_id"]);
    let mut state = small_state(&plan);
    let report = state.report(&plan).funnels.remove(0);
    let blocks: Vec<(&str, &[u64])> =
        report.breakdowns.iter().map(|b| (b.value.as_str(), &b.variants[0].keys_per_step[..])).collect();
    // k3 has "a" or "b": the one whose SHA-256 is smaller, the same in both orders.
    let k3 = if blocks.iter().any(|(v, _)| *v == "a") { "a" } else { "b" };
    let mut expected: Vec<(&str, &[u64])> = vec![("(empty)", &[1, 0]), (k3, &[1, 0]), ("web", &[1, 1])];
    expected.sort_by_key(|(v, _)| if *v == "(empty)" { String::new() } else { (*v).to_owned() });
    assert_eq!(blocks, expected);
    // The reverse order of the tied events gives the same value.
    let mut ingester = Ingester::new(FunnelRecorder::new(&plan));
    let mut reversed = State::new(&plan);
    for app in ["a", "b"] {
        ingester
            .ingest(
                &mut reversed,
                line(app, "2026-03-02 10:00:00", "a1", &[("exp", "k3", "control")]).as_bytes(),
            )
            .unwrap();
    }
    let other = reversed.report(&plan).funnels.remove(0);
    assert_eq!(other.breakdowns[0].value, k3);
}

#[test]
fn a_state_without_the_field_asked_for_is_an_error() {
    let with_app = small_plan(&["app_id"]);
    let bytes = write_one(&with_app, small_state(&with_app), "a");
    // Asked for a field the state does not hold: an error naming it and the remedy.
    let e = StateFile::read(&small_plan(&["app_id", "geo_country"]), bytes.as_slice()).err().unwrap();
    assert!(matches!(&e, StateFileError::MissingBreakdown { field, .. } if field == "geo_country"), "{e:?}");
    assert_eq!(
        e.to_string(),
        "the state holds no breakdown by geo_country (its breakdowns: app_id): count its inputs again with \
         --breakdown geo_country (with --state: --rebuild)"
    );
    // Fewer fields: the others are dropped, the counts are the same.
    let plain = small_plan(&[]);
    let mut read = StateFile::read(&plain, bytes.as_slice()).unwrap();
    let mut direct = small_state(&plain);
    assert_eq!(read.state.report(&plain), direct.report(&plain));
    // Shards written with different fields do not merge.
    let without = write_one(&plain, small_state(&plain), "b");
    let merged = StateFile::new(&plain).read_merged(&plain, bytes.as_slice()).unwrap();
    match merged.read_merged(&plain, without.as_slice()) {
        Err(ReadMergeError::Merge(MergeError::DifferentBreakdowns { before, this })) => {
            assert_eq!((before, this), (vec!["app_id".to_owned()], Vec::new()));
        }
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn values_past_the_bound_count_under_other() {
    let plan = small_plan(&["app_id"]);
    let mut ingester = Ingester::new(FunnelRecorder::new(&plan));
    let mut state = State::new(&plan);
    let distinct = MAX_BREAKDOWN_VALUES + 200;
    for i in 0..distinct {
        let l =
            line(&format!("app{i:05}"), "2026-03-01 10:00:00", "a1", &[("exp", &format!("k{i}"), "control")]);
        ingester.ingest(&mut state, l.as_bytes()).unwrap();
    }
    // The last value has a second key: it is among the most frequent, so it is kept.
    let last = format!("app{:05}", distinct - 1);
    ingester
        .ingest(
            &mut state,
            line(&last, "2026-03-01 10:00:00", "a1", &[("exp", "extra", "control")]).as_bytes(),
        )
        .unwrap();
    let report = state.report(&plan).funnels.remove(0);
    assert_eq!(report.breakdowns.len(), MAX_BREAKDOWN_VALUES + 1);
    let other = report.breakdowns.last().unwrap();
    assert_eq!(other.value, OTHER_VALUE);
    assert_eq!(other.variants[0].keys_per_step[0], 200);
    let kept = report.breakdowns.iter().find(|b| b.value == last).unwrap();
    assert_eq!(kept.variants[0].keys_per_step[0], 2);
    // Ties at one key: the smallest values are shown.
    assert_eq!(report.breakdowns[0].value, "app00000");
    assert_eq!(
        report.breakdowns[MAX_BREAKDOWN_VALUES - 2].value,
        format!("app{:05}", MAX_BREAKDOWN_VALUES - 2)
    );
}

/// The breakdown section of the format, pinned by a golden file of its own.
#[test]
fn breakdowns_are_pinned_by_a_golden_file() {
    let plan = small_plan(&["app_id"]);
    let golden = crate::state_files::pinned(
        "tests/it/data/state-v5-breakdowns.snowfunnel",
        &write_one(&plan, small_state(&plan), "a"),
    );
    let mut read = StateFile::read(&plan, golden.as_slice()).unwrap();
    assert_eq!(read.state.report(&plan), small_state(&plan).report(&plan));
}
