//! `snowfunnel validate` through the binary: generated data with a planted outage, planted
//! duplicates and bad rows; the same report whatever the threads and the files.

use std::collections::HashMap;

use snowfunnel_gen::{GenConfig, Line, date_micros, generate, write_dataset};
use snowfunnel_parse::MICROS_PER_DAY;

use crate::harness::{Workspace, assert_exit, join_lines, stderr, stdout};

const CSV_FILES: [&str; 4] =
    ["validate_app_ids.csv", "validate_days.csv", "validate_events.csv", "validate_summary.csv"];

/// A week of generated lines without its fourth day (2026-03-04), and 5 experiment events
/// delivered again in a file of their own.
fn planted() -> (Vec<Line>, Vec<Line>) {
    let config = GenConfig { seed: 3, events: 8_000, span_days: 7, ..GenConfig::default() };
    let outage_day = date_micros(2026, 3, 4) / MICROS_PER_DAY;
    let lines: Vec<Line> = generate(&config)
        .into_iter()
        .filter(|l| {
            l.as_event().is_none_or(|e| e.event_time_micros().div_euclid(MICROS_PER_DAY) != outage_day)
        })
        .collect();
    let again: Vec<Line> = lines
        .iter()
        .filter(|l| l.as_event().is_some_and(|e| e.experiments.iter().any(|c| c.key.is_some())))
        .step_by(300)
        .take(5)
        .cloned()
        .collect();
    (lines, again)
}

/// Extra copies and bad rows the ground truth holds.
fn truth(lines: &[&Line]) -> (u64, u64) {
    let mut ids: HashMap<&str, u64> = HashMap::new();
    let mut bad = 0;
    for line in lines {
        match line.as_event() {
            Some(e) if e.experiments.iter().any(|c| c.key.is_some()) => {
                *ids.entry(&e.event_id).or_default() += 1
            }
            Some(_) => {}
            None => bad += 1,
        }
    }
    (ids.values().map(|n| n - 1).sum(), bad)
}

fn write(ws: &Workspace, dir: &str, lines: &[Line], files: usize, again: &[Line]) {
    let path = ws.path(dir);
    std::fs::create_dir_all(&path).unwrap();
    write_dataset(lines, &path, files, true).unwrap();
    let again: Vec<String> = again.iter().map(Line::to_tsv).collect();
    ws.write(&format!("{dir}/zz-redelivered.tsv"), &join_lines(&again));
}

#[test]
fn reports_the_planted_outage_duplicates_and_bad_rows() {
    let ws = Workspace::new();
    let (lines, again) = planted();
    write(&ws, "in", &lines, 3, &again);
    let o = ws.validate(&["in", "--threads", "2"]);
    assert_exit(&o, 0);
    assert_eq!(ws.out_files()[0], "_SUCCESS");
    assert_eq!(ws.out_files()[1], "validate.html");
    assert_eq!(ws.out_files()[2..], CSV_FILES);
    let page = ws.read("out/validate.html");
    assert!(page.contains("possible outage, no events on 2026-03-04"), "the page names the outage");
    assert_eq!(page.matches("<svg").count(), 3, "a chart per experiment");

    let days = ws.read("out/validate_days.csv");
    let outages: Vec<&str> = days.lines().filter(|l| l.ends_with(",true")).collect();
    assert_eq!(
        outages,
        [
            "pipeline_editor_walkthrough,2026-03-04,0,0,true",
            "security_scan_nudge,2026-03-04,0,0,true",
            "trial_onboarding/issues,2026-03-04,0,0,true",
        ],
        "{days}"
    );
    let all: Vec<&Line> = lines.iter().chain(&again).collect();
    let (copies, bad) = truth(&all);
    let (generated, _) = truth(&lines.iter().collect::<Vec<_>>());
    assert_eq!(copies, generated + 5);
    assert!(bad > 0 && generated > 0);

    let out = stdout(&o);
    for experiment in ["pipeline_editor_walkthrough", "security_scan_nudge", "trial_onboarding/issues"] {
        assert!(
            out.contains(&format!("experiment {experiment}: possible outage, no events on 2026-03-04\n")),
            "{out}"
        );
    }
    assert!(out.contains(&format!("  - duplicated event ids: {copies} extra copies of ")), "{out}");
    assert!(out.contains(&format!("  - bad rows: {bad} of ")), "{out}");
    assert!(out.contains("  - experiment contexts without a key: "), "{out}");
    assert!(out.contains("wrote              4 CSV files and validate.html in out"), "{out}");
    let summary = ws.read("out/validate_summary.csv");
    assert!(summary.starts_with("check,experiment,item,count,share,p_value,problem\n"), "{summary}");
    assert!(summary.contains(&format!("\nlines,,,{},,,false\n", all.len())), "{summary}");
    assert!(summary.contains(&format!("\nduplicate_events,,,{copies},")), "{summary}");
    assert!(summary.contains("\noutage_days,security_scan_nudge,2026-03-04,1,,,true\n"), "{summary}");
    let events = ws.read("out/validate_events.csv");
    assert!(events.starts_with(
        "experiment,event,category,action,label,events,keys,first_seen,last_seen,keys_by_variant,share_by_variant\n"
    ));
    assert!(events.contains(",struct,trials:create,click_button,start_trial,"), "{events}");
    assert!(events.contains(",control=") && events.contains(";candidate_b="), "{events}");
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
}

#[test]
fn the_report_does_not_depend_on_threads_or_files() {
    let ws = Workspace::new();
    let (lines, again) = planted();
    write(&ws, "one", &lines, 1, &again);
    write(&ws, "four", &lines, 4, &again);
    let reports: Vec<Vec<String>> = [("one", "1"), ("one", "4"), ("four", "1"), ("four", "2"), ("four", "8")]
        .iter()
        .map(|(dir, threads)| {
            let out = format!("out-{dir}-{threads}");
            assert_exit(&ws.validate(&[dir, "--threads", threads, "--out", &out, "--quiet"]), 0);
            CSV_FILES.iter().map(|f| ws.read(&format!("{out}/{f}"))).collect()
        })
        .collect();
    assert!(reports[0][1].contains(",true\n"));
    for other in &reports[1..] {
        assert_eq!(other, &reports[0]);
    }
}

#[test]
fn named_experiments_only_and_one_never_seen() {
    let ws = Workspace::new();
    let (lines, again) = planted();
    write(&ws, "in", &lines, 2, &again);
    let o = ws.validate(&["in", "-e", "security_scan_nudge", "--experiment", "no_such_experiment"]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    assert!(out.contains("  - experiment no_such_experiment: no events\n"), "{out}");
    assert!(!out.contains("pipeline_editor_walkthrough"), "{out}");
    let days = ws.read("out/validate_days.csv");
    assert!(days.lines().skip(1).all(|l| l.starts_with("security_scan_nudge,")), "{days}");
    assert!(
        ws.read("out/validate_summary.csv").contains("\nexperiment_events,no_such_experiment,,0,,,true\n")
    );
}

#[test]
fn too_many_bad_rows_fail_as_in_run() {
    let ws = Workspace::new();
    let (lines, again) = planted();
    write(&ws, "in", &lines, 2, &again);
    let o = ws.validate(&["in", "--max-bad-ratio", "0", "--bad-rows", "bad.csv"]);
    assert_exit(&o, 3);
    assert!(stderr(&o).contains("over --max-bad-ratio 0"), "{}", stderr(&o));
    assert!(ws.out_files().is_empty(), "{:?}", ws.out_files());
    let (_, bad) = truth(&lines.iter().collect::<Vec<_>>());
    assert_eq!(ws.read("bad.csv").lines().count() as u64, bad + 1);
    assert!(stdout(&o).is_empty());
}

#[test]
fn format_picks_the_csv_files_or_the_page() {
    let ws = Workspace::new();
    let (lines, again) = planted();
    write(&ws, "in", &lines, 2, &again);
    let o = ws.validate(&["in", "--format", "html"]);
    assert_exit(&o, 0);
    assert_eq!(ws.out_files(), ["_SUCCESS", "validate.html"]);
    assert!(stdout(&o).contains("wrote              validate.html in out"), "{}", stdout(&o));
    let page = ws.read("out/validate.html");
    assert!(page.contains("Events per day and variant"), "a chart of each experiment's variants");

    std::fs::remove_dir_all(ws.path("out")).unwrap();
    let o = ws.validate(&["in", "--format", "csv"]);
    assert_exit(&o, 0);
    assert_eq!(ws.out_files()[0], "_SUCCESS");
    assert_eq!(ws.out_files()[1..], CSV_FILES);

    let o = ws.validate(&["in", "--format", "json"]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("json"), "{}", stderr(&o));
}
