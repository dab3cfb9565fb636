//! `rules = "warehouse"`: each rule moves the counts it should and no others, shards, merges
//! and incremental runs equal one run (duplicates split across files included), a state of one
//! rule set is refused under the other, and the funnel equals a plain reference that applies
//! the warehouse's rules literally to the raw events.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::state_files::write_one;
use proptest::prelude::*;
use snowfunnel_engine::{
    FunnelRecorder, Funnels, Plan, RunReport, State, StateFile, StateFileError, parse_funnel,
};
use snowfunnel_ingest::{Ingester, Job};
use snowfunnel_parse::{FIELD_COUNT, fields, parse_timestamp};

/// One enriched event, with the fields the rules read.
#[derive(Clone, Debug)]
pub(crate) struct Ev {
    pub(crate) app_id: String,
    pub(crate) tracker: String,
    pub(crate) page_url: String,
    pub(crate) event: String,
    pub(crate) event_id: String,
    pub(crate) collector: String,
    pub(crate) derived: String,
    pub(crate) action: String,
    /// `(schema, key, variant, migration keys)`, all of experiment `exp`.
    pub(crate) contexts: Vec<(String, String, String, Vec<String>)>,
    /// The experiment of every context.
    pub(crate) experiment: String,
}

pub(crate) const SCHEMA: &str = "iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-0";

impl Ev {
    /// A struct event from the JS tracker that every rule keeps.
    pub(crate) fn new(id: &str, time: &str, action: &str, key: &str, variant: &str) -> Ev {
        Ev {
            app_id: "gitlab".into(),
            tracker: "js-3.24.0".into(),
            page_url: "https://gitlab.com/p".into(),
            event: "struct".into(),
            event_id: id.into(),
            collector: time.into(),
            derived: time.into(),
            action: action.into(),
            contexts: vec![(SCHEMA.into(), key.into(), variant.into(), Vec::new())],
            experiment: "exp".into(),
        }
    }

    pub(crate) fn tsv(&self) -> String {
        let mut f = vec![String::new(); FIELD_COUNT];
        f[fields::APP_ID] = self.app_id.clone();
        f[fields::V_TRACKER] = self.tracker.clone();
        f[fields::PAGE_URL] = self.page_url.clone();
        f[fields::EVENT] = self.event.clone();
        f[fields::EVENT_ID] = self.event_id.clone();
        f[fields::COLLECTOR_TSTAMP] = self.collector.clone();
        f[fields::DERIVED_TSTAMP] = self.derived.clone();
        f[fields::SE_CATEGORY] = "cat".into();
        f[fields::SE_ACTION] = self.action.clone();
        let entries: Vec<String> = self
            .contexts
            .iter()
            .map(|(schema, key, variant, older)| {
                let older: Vec<String> = older.iter().map(|k| format!("\"{k}\"")).collect();
                format!(
                    r#"{{"schema":"{schema}","data":{{"experiment":"{}","key":"{key}","variant":"{variant}","migration_keys":[{}]}}}}"#,
                    self.experiment,
                    older.join(",")
                )
            })
            .collect();
        f[fields::CONTEXTS] = format!(
            r#"{{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{}]}}"#,
            entries.join(",")
        );
        f.join("\t")
    }
}

pub(crate) const STEPS: &str =
    "[[steps]]\nname = \"viewed\"\naction = \"view\"\n[[steps]]\nname = \"clicked\"\naction = \"click\"\n";

/// The funnel under `rules`, over `window` (TOML lines, may be empty).
fn plan(rules: &str, window: &str) -> Plan {
    let text = format!("experiment = \"exp\"\nrules = \"{rules}\"\n{window}\n{STEPS}");
    Plan::new(vec![parse_funnel("f.toml", "f", &text).unwrap()])
}

fn ingest(plan: &Plan, events: &[Ev]) -> State {
    let mut ingester = Ingester::new(FunnelRecorder::new(plan));
    let mut state = State::new(plan);
    for e in events {
        ingester.ingest(&mut state, e.tsv().as_bytes()).unwrap();
    }
    state
}

/// Keys per step of each variant, and exposed keys.
type Counts = BTreeMap<String, (Vec<u64>, Option<u64>)>;

fn counts(report: &RunReport) -> Counts {
    report.funnels[0]
        .variants
        .iter()
        .map(|v| (v.variant.clone(), (v.keys_per_step.clone(), v.exposed)))
        .collect()
}

fn counted(plan: &Plan, events: &[Ev]) -> Counts {
    counts(&ingest(plan, events).report(plan))
}

/// Six control keys and four candidate keys that all view; the first four of each click.
fn base() -> Vec<Ev> {
    let mut events = Vec::new();
    for k in 0..10 {
        let variant = if k < 6 { "control" } else { "candidate" };
        let key = format!("k{k}");
        events.push(Ev::new(&format!("view-{k}"), "2026-03-10 10:00:00", "view", &key, variant));
        if k < 4 || (6..10).contains(&k) {
            events.push(Ev::new(&format!("click-{k}"), "2026-03-10 11:00:00", "click", &key, variant));
        }
    }
    events
}

/// `counts` with `delta` added to a variant's step counts and exposed keys.
fn moved(mut counts: Counts, variant: &str, steps: &[i64], exposed: i64) -> Counts {
    let (keys, exp) = counts.get_mut(variant).unwrap();
    for (k, d) in keys.iter_mut().zip(steps) {
        *k = k.checked_add_signed(*d).unwrap();
    }
    *exp = exp.map(|e| e.checked_add_signed(exposed).unwrap());
    counts
}

/// A change to one event.
type Change = Box<dyn Fn(&mut Ev)>;

#[test]
fn each_rule_moves_only_its_counts() {
    let window = "start = \"2026-03-01\"\nend = \"2026-04-01\"";
    let (ours, warehouse) = (plan("snowfunnel", window), plan("warehouse", window));
    let base = base();
    let ours_base = counted(&ours, &base);
    let warehouse_base = counted(&warehouse, &base);
    assert_eq!(ours_base, warehouse_base, "the same counts when no rule differs");
    assert_eq!(ours_base["control"], (vec![6, 4], Some(6)));
    assert_eq!(ours_base["candidate"], (vec![4, 4], Some(4)));
    // The click of k1 (control), changed one way at a time: (what changes, snowfunnel's delta,
    // the warehouse's delta) on control's [step 1, step 2].
    let click = base.iter().position(|e| e.event_id == "click-1").unwrap();
    let cases: Vec<(&str, Change, [i64; 2], [i64; 2])> = vec![
        ("empty app_id", Box::new(|e| e.app_id.clear()), [0, 0], [0, -1]),
        ("empty derived_tstamp", Box::new(|e| e.derived.clear()), [0, 0], [0, -1]),
        ("python tracker", Box::new(|e| e.tracker = "py-0.15.0".into()), [0, 0], [0, -1]),
        ("java tracker", Box::new(|e| e.tracker = "java-1.0.0".into()), [0, 0], [0, -1]),
        ("ruby tracker", Box::new(|e| e.tracker = "rb-0.8.0".into()), [0, 0], [0, 0]),
        ("js on localhost", Box::new(|e| e.page_url = "http://localhost:3000/p".into()), [0, 0], [0, -1]),
        (
            "rb on localhost",
            Box::new(|e| {
                e.tracker = "rb-0.8.0".into();
                e.page_url = "http://localhost:3000/p".into();
            }),
            [0, 0],
            [0, 0],
        ),
        ("not a struct event", Box::new(|e| e.event = "page_view".into()), [0, 0], [0, -1]),
        // snowfunnel takes the 1970 time and leaves the window; the warehouse replaces it.
        ("derived in 1970", Box::new(|e| e.derived = "1970-06-01 00:00:00".into()), [0, -1], [0, 0]),
        ("schema in capitals", Box::new(|e| e.contexts[0].0 = SCHEMA.to_uppercase()), [0, -1], [0, 0]),
    ];
    for (what, change, ours_delta, warehouse_delta) in cases {
        let mut events = base.clone();
        change(&mut events[click]);
        assert_eq!(counted(&ours, &events), moved(ours_base.clone(), "control", &ours_delta, 0), "{what}");
        assert_eq!(
            counted(&warehouse, &events),
            moved(warehouse_base.clone(), "control", &warehouse_delta, 0),
            "{what}"
        );
    }
}

#[test]
fn duplicates_go_whole_within_a_month_and_stay_across_months() {
    let (ours, warehouse) = (plan("snowfunnel", ""), plan("warehouse", ""));
    let base = base();
    let ours_base = counted(&ours, &base);
    // A copy of k1's click the same month, even at another time: both go under the warehouse.
    let mut events = base.clone();
    let mut copy = events.iter().find(|e| e.event_id == "click-1").unwrap().clone();
    copy.derived = "2026-03-31 23:59:59.999".into();
    events.push(copy.clone());
    assert_eq!(counted(&ours, &events), ours_base);
    assert_eq!(counted(&warehouse, &events), moved(ours_base.clone(), "control", &[0, -1], 0));
    // A copy in the next month is another partition: both stay.
    let mut events = base.clone();
    copy.derived = "2026-04-01 00:00:00".into();
    events.push(copy);
    assert_eq!(counted(&warehouse, &events), ours_base);
    // A duplicated view of k5 (control, no click) takes the key out of the variant altogether.
    let mut events = base.clone();
    let view = events.iter().find(|e| e.event_id == "view-5").unwrap().clone();
    events.push(view);
    assert_eq!(counted(&warehouse, &events), moved(ours_base.clone(), "control", &[-1, 0], -1));
    // An event carrying two keys goes with both.
    let mut events = base.clone();
    let mut two = Ev::new("two", "2026-03-11 10:00:00", "view", "n1", "control");
    two.contexts.push((SCHEMA.into(), "n2".into(), "control".into(), Vec::new()));
    events.push(two.clone());
    assert_eq!(counted(&warehouse, &events), moved(ours_base.clone(), "control", &[2, 0], 2));
    events.push(two);
    assert_eq!(counted(&warehouse, &events), ours_base);
}

#[test]
fn conflicting_keys_count_in_each_variant_and_migration_keys_are_not_unified() {
    let (ours, warehouse) = (plan("snowfunnel", ""), plan("warehouse", ""));
    let mut events = base();
    let ours_base = counted(&ours, &events);
    // k2 (control, clicked) is also seen with candidate once.
    events.push(Ev::new("k2-again", "2026-03-12 10:00:00", "other", "k2", "candidate"));
    let ours_moved = moved(moved(ours_base.clone(), "control", &[-1, -1], -1), "candidate", &[0, 0], 0);
    assert_eq!(counted(&ours, &events), ours_moved);
    assert_eq!(ours.funnels().len(), 1);
    let mut state = ingest(&warehouse, &events);
    let report = state.report(&warehouse);
    assert_eq!(counts(&report), moved(ours_base.clone(), "candidate", &[1, 1], 1));
    assert_eq!(report.funnels[0].conflicting_keys, 0);
    // k5 (control, no click) clicks under a new key that names k5 as its older key: one subject
    // for snowfunnel, two keys for the warehouse.
    let mut events = base();
    let mut click = Ev::new("k5-new", "2026-03-12 10:00:00", "click", "k5new", "control");
    click.contexts[0].3.push("k5".into());
    events.push(click);
    assert_eq!(counted(&ours, &events), moved(ours_base.clone(), "control", &[0, 1], 0));
    assert_eq!(counted(&warehouse, &events), moved(ours_base, "control", &[0, 0], 1));
}

/// A small deterministic generator (xorshift).
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Events of 40 keys around the end of February, with every kind of event the rules tell
/// apart: empty app_ids and derived times, trackers, localhost pages, page views, 1970 times,
/// schemas in capitals, keys with two variants, and copies of events (some an hour later, some
/// across the month boundary).
pub(crate) fn generated(seed: u64) -> Vec<Ev> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut events = Vec::new();
    let minute0 = parse_timestamp(b"2026-02-27 00:00:00").unwrap() / 60_000_000;
    for n in 0..240u64 {
        let k = rng.below(40);
        let variant =
            if (k + u64::from(rng.below(12) == 0)).is_multiple_of(2) { "control" } else { "candidate" };
        let action = ["view", "view", "click", "other"][rng.below(4) as usize];
        let minute = minute0 + i64::try_from(rng.below(4 * 24 * 60)).unwrap();
        let time =
            |m: i64| snowfunnel_parse::format_micros(m * 60_000_000).replace('T', " ").replace('Z', "");
        let mut e = Ev::new(&format!("id-{n}"), &time(minute), action, &format!("k{k}"), variant);
        match rng.below(20) {
            0 => e.app_id.clear(),
            1 => e.derived.clear(),
            2 => e.tracker = "py-0.15.0".into(),
            3 => e.tracker = "java-1.0.0".into(),
            4 => e.tracker = "rb-0.8.0".into(),
            5 => e.page_url = "http://localhost:3000/p".into(),
            6 => e.event = "page_view".into(),
            7 => e.derived = "1970-01-01 00:00:05".into(),
            8 => e.contexts[0].0 = SCHEMA.to_uppercase(),
            9 => e.tracker.clear(),
            _ => {}
        }
        if rng.below(8) == 0 {
            let other = format!("k{}", rng.below(40));
            e.contexts.push((SCHEMA.into(), other, variant.into(), Vec::new()));
        }
        events.push(e.clone());
        match rng.below(6) {
            0 => events.push(e.clone()),
            1 => {
                // Sent again an hour later: the same month, or the next one.
                e.collector = time(minute + 60);
                if !e.derived.starts_with("1970") && !e.derived.is_empty() {
                    e.derived = time(minute + 60);
                }
                events.push(e);
            }
            _ => {}
        }
    }
    events
}

/// The warehouse's funnel computed literally from the raw events: the base model's filters, the
/// time, duplicates by month, structured events, the contexts in any case, the funnel's window,
/// then per variant the keys that did steps 1..n (any order; no conflict exclusion).
fn reference(events: &[Ev], start: i64) -> Counts {
    let micros = |t: &str| parse_timestamp(t.as_bytes()).unwrap();
    let base: Vec<(&Ev, i64)> = events
        .iter()
        .filter(|e| !e.app_id.is_empty() && !e.derived.is_empty())
        .filter(|e| e.tracker.starts_with("js") || e.tracker.starts_with("rb"))
        .filter(|e| !(e.tracker.starts_with("js") && e.page_url.starts_with("http://localhost:")))
        .map(|e| {
            let derived = micros(&e.derived);
            (e, if derived < micros("1971-01-01 00:00:00") { micros(&e.collector) } else { derived })
        })
        .collect();
    let month = |t: i64| snowfunnel_parse::format_micros(t)[..7].to_owned();
    let mut occurrences: HashMap<(String, &str), usize> = HashMap::new();
    for (e, t) in &base {
        *occurrences.entry((month(*t), e.event_id.as_str())).or_default() += 1;
    }
    let mut variants: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut steps: [BTreeSet<String>; 2] = Default::default();
    for (e, t) in &base {
        if occurrences[&(month(*t), e.event_id.as_str())] > 1 || e.event != "struct" || *t < start {
            continue;
        }
        for (schema, key, variant, _) in &e.contexts {
            if !schema.to_lowercase().starts_with("iglu:com.gitlab/gitlab_experiment/jsonschema/") {
                continue;
            }
            variants.entry(variant.clone()).or_default().insert(key.clone());
            for (s, action) in ["view", "click"].iter().enumerate() {
                if e.action == *action {
                    steps[s].insert(key.clone());
                }
            }
        }
    }
    variants
        .into_iter()
        .map(|(variant, keys)| {
            let one = keys.iter().filter(|k| steps[0].contains(*k)).count() as u64;
            let two = keys.iter().filter(|k| steps[0].contains(*k) && steps[1].contains(*k)).count() as u64;
            (variant, (vec![one, two], Some(keys.len() as u64)))
        })
        .collect()
}

/// A window that starts mid-month: some copies fall on both sides of it.
pub(crate) const MID_MONTH: &str = "start = \"2026-02-28 12:00:00\"";

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_funnel_equals_the_warehouse_computed_literally(seed in any::<u64>()) {
        let events = generated(seed);
        let plan = plan("warehouse", MID_MONTH);
        let start = parse_timestamp(b"2026-02-28 12:00:00").unwrap();
        let counted = counted(&plan, &events);
        let expected = reference(&events, start);
        // The engine lists every variant seen, the reference those with a key in the window.
        let listed: Counts = counted.into_iter().filter(|(_, (_, exposed))| *exposed != Some(0)).collect();
        prop_assert_eq!(listed, expected);
    }

    #[test]
    fn shards_merges_and_incremental_runs_equal_one_run(seed in any::<u64>(), files in 2usize..6) {
        let events = generated(seed);
        let plan = plan("warehouse", MID_MONTH);
        let mut whole = ingest(&plan, &events);
        let expected = whole.report(&plan);
        // Files by a hash of the event's position: copies of an event land in different files.
        let mut parts: Vec<Vec<Ev>> = vec![Vec::new(); files];
        let mut rng = Rng(seed | 1);
        for e in &events {
            parts[rng.below(files as u64) as usize].push(e.clone());
        }
        // Partitions merged in memory, each with its own key dictionary.
        let mut merged = State::new(&plan);
        for part in &parts {
            merged.merge(ingest(&plan, part));
        }
        prop_assert_eq!(merged.report(&plan), expected.clone());
        // Shards written to state files, read back and merged one into another.
        let mut from_files = StateFile::new(&plan);
        for (i, part) in parts.iter().enumerate() {
            let bytes = write_one(&plan, ingest(&plan, part), &format!("file-{i}"));
            from_files = from_files.read_merged(&plan, bytes.as_slice()).unwrap();
        }
        prop_assert_eq!(from_files.state.report(&plan), expected.clone());
        // Incremental: each day's file read into the state of the days before, as --state does.
        let mut state = StateFile::new(&plan);
        for (i, part) in parts.iter().enumerate() {
            let job = Funnels::new(&plan, Some(&state.state));
            let mut ingester = job.ingester();
            let mut today = job.state();
            for e in part {
                ingester.ingest(&mut today, e.tsv().as_bytes()).unwrap();
            }
            state.state.merge(today);
            let bytes = write_one(&plan, state.state, &format!("day-{i}"));
            state = StateFile::read(&plan, bytes.as_slice()).unwrap();
        }
        prop_assert_eq!(state.state.report(&plan), expected);
    }
}

#[test]
fn a_state_counted_under_one_rule_set_is_refused_under_the_other() {
    let events = generated(3);
    for (written, read) in [("warehouse", "snowfunnel"), ("snowfunnel", "warehouse")] {
        let (written, read) = (plan(written, ""), plan(read, ""));
        let bytes = write_one(&written, ingest(&written, &events), "a");
        match StateFile::read(&read, bytes.as_slice()) {
            Err(e @ StateFileError::DifferentFunnels { .. }) => {
                assert_eq!(e.to_string(), "the state was built for other funnels: \"f\" defined differently");
            }
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("read under the other rules"),
        }
        assert!(StateFile::read(&written, bytes.as_slice()).is_ok());
    }
}

#[test]
fn breakdowns_are_refused_for_warehouse_funnels() {
    let field = snowfunnel_engine::BreakdownField::parse("geo_country").unwrap();
    let warehouse = plan("warehouse", "").with_breakdowns(vec![field.clone()]);
    let e = warehouse.check_rules().unwrap_err();
    assert!(e.to_string().contains("--breakdown does not support"), "{e}");
    assert!(plan("snowfunnel", "").with_breakdowns(vec![field]).check_rules().is_ok());
    assert!(plan("warehouse", "").check_rules().is_ok());
}

/// The section of the events held for the duplicate rule, pinned by a golden file of its own.
#[test]
fn events_held_for_the_duplicate_rule_are_pinned_by_a_golden_file() {
    let plan = plan("warehouse", MID_MONTH);
    let mut events = base();
    // A copy of k0's click, and an event with a key of each variant.
    events.push(events[1].clone());
    let mut two = Ev::new("two", "2026-03-11 10:00:00", "view", "n1", "control");
    two.contexts.push((SCHEMA.into(), "n2".into(), "candidate".into(), Vec::new()));
    events.push(two);
    let mut state = ingest(&plan, &events);
    let expected = state.report(&plan);
    let golden = crate::state_files::pinned(
        "tests/it/data/state-v5-warehouse.snowfunnel",
        &write_one(&plan, state, "a"),
    );
    let mut read = StateFile::read(&plan, golden.as_slice()).unwrap();
    assert_eq!(read.state.report(&plan), expected);
    assert_eq!(counts(&expected)["control"], (vec![7, 3], Some(7)));
    assert_eq!(counts(&expected)["candidate"], (vec![5, 4], Some(5)));
}
