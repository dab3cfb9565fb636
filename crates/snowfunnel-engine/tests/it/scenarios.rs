//! Hand-made scenarios with known answers.

use snowfunnel_engine::{FunnelRecorder, Plan, RunReport, State, parse_funnel};
use snowfunnel_ingest::Ingester;

use crate::lines::{line, migrated_line};

const FUNNEL: &str = r#"
experiment = "exp"
app_ids = ["gitlab"]
start = "2026-03-01"
end = "2026-03-02"
[[steps]]
name = "one"
action = "a1"
[[steps]]
name = "two"
action = "a2"
[[steps]]
name = "three"
action = "a3"
"#;

fn plan() -> Plan {
    Plan::new(vec![parse_funnel("f.toml", "f", FUNNEL).unwrap()])
}

fn run(plan: &Plan, lines: &[String]) -> (RunReport, State) {
    let mut ingester = Ingester::new(FunnelRecorder::new(plan));
    let mut state = State::new(plan);
    for l in lines {
        let _ = ingester.ingest(&mut state, l.as_bytes());
    }
    (state.report(plan), state)
}

const T: &str = "2026-03-01 10:00:00.000";

fn counts(report: &RunReport) -> Vec<(String, Vec<u64>)> {
    report.funnels[0].variants.iter().map(|v| (v.variant.clone(), v.keys_per_step.clone())).collect()
}

#[test]
fn a_key_counts_at_step_n_only_after_every_earlier_step() {
    let plan = plan();
    let lines = vec![
        line("gitlab", T, "a1", &[("exp", "k1", "control")]),
        line("gitlab", T, "a2", &[("exp", "k1", "control")]),
        line("gitlab", T, "a3", &[("exp", "k1", "control")]),
        // k2 skips step 2: counts at step 1 only.
        line("gitlab", T, "a1", &[("exp", "k2", "control")]),
        line("gitlab", T, "a3", &[("exp", "k2", "control")]),
        // k3 never did step 1.
        line("gitlab", T, "a2", &[("exp", "k3", "candidate")]),
        line("gitlab", T, "a1", &[("exp", "k4", "candidate")]),
        line("gitlab", T, "a2", &[("exp", "k4", "candidate")]),
    ];
    let (report, _) = run(&plan, &lines);
    assert_eq!(counts(&report), vec![("control".into(), vec![2, 1, 1]), ("candidate".into(), vec![1, 1, 0])]);
    assert_eq!(report.funnels[0].keys, 4);
    assert_eq!(report.counters.lines, 8);
    assert_eq!(report.counters.experiment_events, 8);
}

#[test]
fn conflicting_keys_are_excluded_everywhere() {
    let plan = plan();
    let lines = vec![
        line("gitlab", T, "a1", &[("exp", "k1", "control")]),
        line("gitlab", T, "a2", &[("exp", "k1", "candidate")]),
        line("gitlab", T, "a1", &[("exp", "k2", "candidate")]),
        // A conflict outside the funnel's filters does not count for the funnel...
        line("gitlab-staging", T, "a1", &[("exp", "k2", "control")]),
    ];
    let (report, _) = run(&plan, &lines);
    assert_eq!(counts(&report), vec![("control".into(), vec![0, 0, 0]), ("candidate".into(), vec![1, 0, 0])]);
    assert_eq!(report.funnels[0].conflicting_keys, 1);
    // ...but does in the experiment summary, which has no filters.
    assert_eq!(report.experiments[0].conflicting_keys, 2);
    assert_eq!(report.experiments[0].keys, 2);
}

#[test]
fn filters_duplicates_other_experiments_and_two_contexts() {
    let plan = plan();
    let step1 = line("gitlab", T, "a1", &[("exp", "k1", "control"), ("other", "k9", "candidate")]);
    let lines = vec![
        step1.clone(),
        step1.clone(),
        line("gitlab", "2026-03-02 00:00:00.000", "a2", &[("exp", "k1", "control")]), // end is exclusive
        line("gitlab", "2026-02-28 23:59:59.999", "a1", &[("exp", "k5", "control")]),
        line("gitlab", T, "a1", &[("other", "k6", "control")]),
        line("gitlab", T, "a1", &[]),
    ];
    let (report, _) = run(&plan, &lines);
    assert_eq!(counts(&report), vec![("control".into(), vec![1, 0, 0])]);
    assert_eq!(report.counters.events, 6);
    assert_eq!(report.counters.experiment_events, 5);
    assert_eq!(report.counters.experiment_contexts, 7);
    assert_eq!(report.experiments[0].contexts, 4);
}

#[test]
fn bad_rows_are_counted_by_reason() {
    let plan = plan();
    let good = line("gitlab", T, "a1", &[("exp", "k1", "control")]);
    let lines = vec![
        good.clone(),
        good[..good.rfind('\t').unwrap()].to_owned(),
        good.replace(T, "29th May 2013"),
        good.replace(r#""variant":"control"}}]}"#, r#""variant":"control"}"#),
        String::new(),
    ];
    let (report, _) = run(&plan, &lines);
    let c = report.counters;
    assert_eq!((c.lines, c.events, c.bad.total()), (5, 1, 4));
    assert_eq!(c.bad.counts(), [1, 1, 1, 0, 1, 0, 0, 0]);
}

#[test]
fn halves_merge_into_the_whole() {
    let plan = plan();
    let lines: Vec<String> = (0..200)
        .map(|i| {
            let action = ["a1", "a2", "a3"][i % 3];
            let variant = if i % 7 == 0 { "candidate" } else { "control" };
            line("gitlab", T, action, &[("exp", &format!("k{}", i % 37), variant)])
        })
        .collect();
    let (whole, mut whole_state) = run(&plan, &lines);
    for cut in [0, 1, 77, 199, 200] {
        let (_, mut a) = run(&plan, &lines[..cut]);
        let (_, b) = run(&plan, &lines[cut..]);
        a.merge(b);
        assert_eq!(a.report(&plan), whole, "cut at {cut}");
        assert_eq!(a.canonical_sets(), whole_state.canonical_sets(), "cut at {cut}");
    }
}

#[test]
fn the_time_window_spans_every_funnel_or_is_none() {
    let day = 86_400_000_000;
    let first = parse_funnel("f.toml", "f", FUNNEL).unwrap();
    let later =
        parse_funnel("g.toml", "g", &FUNNEL.replace("03-01", "03-05").replace("03-02", "03-09")).unwrap();
    let open = parse_funnel("h.toml", "h", &FUNNEL.replace("end = \"2026-03-02\"\n", "")).unwrap();
    let start = first.start.unwrap();
    assert_eq!(Plan::new(vec![first.clone()]).time_window(), Some((start, start + day)));
    assert_eq!(Plan::new(vec![later, first.clone()]).time_window(), Some((start, start + 8 * day)));
    assert_eq!(Plan::new(vec![first, open]).time_window(), None);
}

#[test]
fn migration_keys_unify_a_subject_transitively() {
    let plan = plan();
    let lines = vec![
        // One subject under three keys: a (step 1), then b naming a (step 2), then c naming b
        // (step 3): it counts once, through every step.
        line("gitlab", T, "a1", &[("exp", "a", "control")]),
        migrated_line("gitlab", T, "a2", &[("exp", "b", "control", &["a"])]),
        migrated_line("gitlab", T, "a3", &[("exp", "c", "control", &["b", ""])]),
        // d did step 1 under an older key x that no event carries: still one subject.
        migrated_line("gitlab", T, "a1", &[("exp", "d", "candidate", &["x"])]),
        // e moved from control to candidate: one subject in two variants, so conflicting.
        line("gitlab", T, "a1", &[("exp", "e-old", "control")]),
        migrated_line("gitlab", T, "a2", &[("exp", "e", "candidate", &["e-old"])]),
    ];
    let (report, _) = run(&plan, &lines);
    assert_eq!(counts(&report), vec![("control".into(), vec![1, 1, 1]), ("candidate".into(), vec![1, 0, 0])]);
    assert_eq!((report.funnels[0].keys, report.funnels[0].conflicting_keys), (3, 1));
    assert_eq!((report.experiments[0].keys, report.experiments[0].conflicting_keys), (3, 1));

    // The same in any partitioning: the pairs merge like the sets do.
    for cut in 1..lines.len() {
        let (_, mut first) = run(&plan, &lines[..cut]);
        let (_, second) = run(&plan, &lines[cut..]);
        let (_, mut whole) = run(&plan, &lines);
        first.merge(second);
        assert_eq!(first.canonical_sets(), whole.canonical_sets(), "cut at {cut}");
        assert_eq!(counts(&first.report(&plan)), counts(&report), "cut at {cut}");
    }
}

/// A sequential funnel a1 → a2 → a3 with a one-hour window; step 2 also matches `both`.
fn sequential_plan() -> Plan {
    let text = FUNNEL
        .replace("end = \"2026-03-02\"", "end = \"2026-03-02\"\norder = \"sequential\"\nwindow = \"1h\"")
        .replace("name = \"two\"\naction = \"a2\"", "name = \"two\"\ncategory = \"cat\"");
    Plan::new(vec![parse_funnel("f.toml", "f", &text).unwrap()])
}

fn at(minute: u32) -> String {
    format!("2026-03-01 10:{minute:02}:00.000")
}

#[test]
fn sequential_funnels_follow_the_documented_rules() {
    // Step 2 matches any event of category "cat" (every event here), so one a1 event is both
    // step 1 and step 2.
    let plan = sequential_plan();
    let ev = |minute: u32, action: &str, key: &str| {
        line("gitlab", &at(minute), action, &[("exp", key, "control")])
    };
    let lines = vec![
        // tie: step 3 at the same time as step 2: counts (at or after).
        ev(0, "a1", "tie"),
        ev(5, "a3", "tie"),
        // repeated steps: its first step-2 event (the a3 at minute 0, category "cat") is before
        // it reached step 1; the later ones do not rescue it.
        ev(0, "a3", "repeat"),
        ev(1, "a1", "repeat"),
        ev(2, "a3", "repeat"),
        // out of the one-hour window: step 3 61 minutes after step 1.
        ev(0, "a1", "late"),
        line("gitlab", "2026-03-01 11:01:00.000", "a3", &[("exp", "late", "control")]),
        // inside its window, not done yet: counts where it got.
        ev(30, "a1", "open"),
    ];
    let (report, _) = run(&plan, &lines);
    // Step 1: tie, repeat, late, open. Step 2 (every event is "cat"): tie, late and open at
    // their a1 itself (one event, two steps, a tie); not repeat. Step 3: tie (a3 at minute 5);
    // not late (61 minutes > 1h), not open (no a3 yet).
    assert_eq!(counts(&report), vec![("control".into(), vec![4, 3, 1])]);
    let times = &report.funnels[0].variants[0].time_to_step;
    assert_eq!(times[1].map(|t| (t.median_s, t.p90_s)), Some((0.0, 0.0)));
    assert_eq!(times[2].map(|t| t.median_s), Some(300.0));

    // The same events in any order: set intersection counts repeat and late at step 3.
    let any = Plan::new(vec![
        parse_funnel(
            "f.toml",
            "f",
            &FUNNEL.replace("name = \"two\"\naction = \"a2\"", "name = \"two\"\ncategory = \"cat\""),
        )
        .unwrap(),
    ]);
    let (report, _) = run(&any, &lines);
    assert_eq!(counts(&report), vec![("control".into(), vec![4, 4, 3])]);
}
