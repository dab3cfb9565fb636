//! `snowfunnel events` end to end: the extract equals a reference built from the generator's
//! ground truth whatever the thread count, Parquet equals CSV, bad input is counted.

use std::collections::{HashMap, HashSet};
use std::process::{Command, Output};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampMillisecondType};
use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use snowfunnel_gen::{Event, GenConfig, Line, date_micros, generate, write_dataset};
use snowfunnel_parse::format_micros;

use crate::harness::{Workspace, assert_exit, event, good_events, grouped, gzip, join_lines, stderr, stdout};

const HEADER: &str = "event_id,experiment,variant,context_key,event_time,app_id,environment,event,se_category,\
se_action,se_label,se_property,se_value,page_urlpath,unstruct_schema,context_schema_version,migration_keys";

fn events(ws: &Workspace, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_snowfunnel"))
        .current_dir(ws.dir.path())
        .arg("events")
        .args(args)
        .output()
        .unwrap()
}

type Row = Vec<String>;

fn csv_rows(text: &[u8]) -> Vec<Row> {
    let mut reader = csv::Reader::from_reader(text);
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header.join(","), HEADER);
    reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect()
}

/// Filters of the reference.
struct Want<'a> {
    experiments: &'a [&'a str],
    start: Option<i64>,
    end: Option<i64>,
    production_only: bool,
    policy: &'a str,
}

fn reference(lines: &[Line], want: &Want<'_>) -> Vec<Row> {
    let env = |app: &str| match app {
        "gitlab" => "production",
        "gitlab-staging" => "staging",
        _ => "other",
    };
    let keeps = |e: &Event| {
        let t = e.event_time_micros();
        want.start.is_none_or(|s| t >= s)
            && want.end.is_none_or(|end| t < end)
            && (!want.production_only || e.app_id == "gitlab")
    };
    let mut matched: Vec<(&str, Vec<Row>)> = Vec::new();
    for e in lines.iter().filter_map(Line::as_event).filter(|e| keeps(e)) {
        let rows: Vec<Row> = e
            .experiments
            .iter()
            .filter(|c| want.experiments.contains(&c.experiment.as_str()))
            .filter_map(|c| {
                let key = c.key.clone().filter(|k| !k.is_empty())?;
                Some(vec![
                    e.event_id.clone(),
                    c.experiment.clone(),
                    c.variant.clone(),
                    key,
                    format_micros(e.event_time_micros()),
                    e.app_id.clone(),
                    env(&e.app_id).to_owned(),
                    e.event.clone(),
                    e.se_category.clone(),
                    e.se_action.clone(),
                    e.se_label.clone(),
                    e.se_property.clone(),
                    e.se_value.clone(),
                    e.page_urlpath.clone(),
                    e.unstruct_schema.clone().unwrap_or_default(),
                    c.schema_version.clone(),
                    c.migration_keys.join(";"),
                ])
            })
            .collect();
        if !rows.is_empty() {
            matched.push((&e.event_id, rows));
        }
    }
    let mut count: HashMap<&str, usize> = HashMap::new();
    for (id, _) in &matched {
        *count.entry(id).or_default() += 1;
    }
    let mut seen = HashSet::new();
    matched
        .into_iter()
        .filter(|(id, _)| match want.policy {
            "all" => true,
            "first" => seen.insert(*id),
            _ => count[id] == 1,
        })
        .flat_map(|(_, rows)| rows)
        .collect()
}

fn dataset(ws: &Workspace) -> Vec<Line> {
    let lines = generate(&GenConfig { duplicate_share: 0.05, ..GenConfig::new(11, 5_000) });
    write_dataset(&lines, &ws.path("in"), 3, true).unwrap();
    lines
}

#[test]
fn the_extract_equals_the_reference_for_each_policy_filter_and_thread_count() {
    let ws = Workspace::new();
    let lines = dataset(&ws);
    let every = ["pipeline_editor_walkthrough", "trial_onboarding/issues", "security_scan_nudge"];
    let cases = [
        (
            Want { experiments: &every, start: None, end: None, production_only: false, policy: "first" },
            vec![],
        ),
        (Want { experiments: &every, start: None, end: None, production_only: false, policy: "all" }, vec![]),
        (
            Want { experiments: &every, start: None, end: None, production_only: false, policy: "drop" },
            vec![],
        ),
        (
            Want {
                experiments: &every[1..],
                start: Some(date_micros(2026, 3, 4)),
                end: Some(date_micros(2026, 3, 10) + 12 * 3_600_000_000),
                production_only: true,
                policy: "drop",
            },
            // The generated files span days each: pruning by their names would drop events.
            vec![
                "--start",
                "2026-03-04",
                "--end",
                "2026-03-10 12:00:00",
                "--environment",
                "production",
                "--no-prune",
            ],
        ),
    ];
    for (want, flags) in &cases {
        let expected = reference(&lines, want);
        assert!(expected.len() > 100, "{}", expected.len());
        for threads in ["1", "2", "5"] {
            let mut args: Vec<&str> = vec!["in", "--threads", threads, "--duplicates", want.policy];
            for e in want.experiments {
                args.extend(["--experiment", e]);
            }
            args.extend(flags.iter().copied());
            let o = events(&ws, &args);
            assert_exit(&o, 0);
            let got = csv_rows(&o.stdout);
            assert_eq!(got.len(), expected.len(), "{args:?}");
            assert_eq!(got, expected, "{args:?}");
            let summary = stderr(&o);
            assert!(
                summary.contains(&format!("rows written       {}", grouped(expected.len()))),
                "{summary}"
            );
        }
    }
}

/// The Parquet file's rows as the CSV writes them (se_value as its number).
fn parquet_rows(path: &std::path::Path) -> Vec<Row> {
    let file = std::fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap();
    let mut rows = Vec::new();
    for batch in reader {
        let batch: RecordBatch = batch.unwrap();
        for r in 0..batch.num_rows() {
            let row = (0..batch.num_columns())
                .map(|c| {
                    let column = batch.column(c);
                    match c {
                        4 => {
                            let ms = column.as_primitive::<TimestampMillisecondType>().value(r);
                            format_micros(ms * 1000)
                        }
                        12 if column.is_null(r) => String::new(),
                        12 => column.as_primitive::<Float64Type>().value(r).to_string(),
                        _ => column.as_string::<i32>().value(r).to_owned(),
                    }
                })
                .collect();
            rows.push(row);
        }
    }
    rows
}

#[test]
fn parquet_equals_the_csv() {
    let ws = Workspace::new();
    dataset(&ws);
    let mut extra = vec![event("view", "kq", "control"), event("click", "kq", "candidate")];
    extra[0] = extra[0].replace("\tview\t\t\t", "\tview\tlabel, \"quoted\"\t\t2.5");
    ws.write_gz("in/zz-extra.gz", &extra);
    let experiments =
        ["--experiment", "pipeline_editor_walkthrough", "--experiment", "exp", "-e", "security_scan_nudge"];
    let o = events(&ws, &[&["in", "--out", "x.parquet"][..], &experiments].concat());
    assert_exit(&o, 0);
    let o = events(&ws, &[&["in", "--out", "x.csv"][..], &experiments].concat());
    assert_exit(&o, 0);
    let mut csv = csv_rows(ws.read("x.csv").as_bytes());
    for row in &mut csv {
        if !row[12].is_empty() {
            row[12] = row[12].parse::<f64>().unwrap().to_string();
        }
    }
    let parquet = parquet_rows(&ws.path("x.parquet"));
    assert!(csv.len() > 100);
    assert!(csv.iter().any(|r| r[10] == "label, \"quoted\"" && r[12] == "2.5"), "the extra line");
    assert_eq!(parquet, csv);
    // `--format` wins over the extension.
    assert_exit(
        &events(&ws, &[&["in", "--out", "y.csv", "--format", "parquet"][..], &experiments].concat()),
        0,
    );
    assert_eq!(parquet_rows(&ws.path("y.csv")), parquet);
}

#[test]
fn bad_rows_count_log_and_fail_the_ratio_as_in_run() {
    let ws = Workspace::new();
    let mut lines = good_events(30);
    lines.insert(3, "only\ttwo".into());
    lines.insert(7, event("view", "kv", "control").replace("\tview\t\t\t", "\tview\t\t\tten"));
    ws.write("in/a.tsv", &join_lines(&lines));
    let o = events(&ws, &["in", "-e", "exp", "--bad-rows", "bad.csv", "--out", "x.csv"]);
    assert_exit(&o, 3);
    assert!(
        stderr(&o).contains("2 of 47 lines are bad rows (4.26%), over --max-bad-ratio 0.01 (field_count 1, invalid_se_value 1); no output written"),
        "{}",
        stderr(&o)
    );
    assert!(!ws.path("x.csv").exists());
    let bad = ws.read("bad.csv");
    assert!(bad.contains("in/a.tsv,4,field_count,"), "{bad}");
    assert!(
        bad.contains("in/a.tsv,8,invalid_se_value,\"invalid se_value \"\"ten\"\": not a number\""),
        "{bad}"
    );

    let o = events(&ws, &["in", "-e", "exp", "--max-bad-ratio", "0.1"]);
    assert_exit(&o, 0);
    assert_eq!(csv_rows(&o.stdout).len(), 45);
    assert!(stderr(&o).contains("bad lines          2 (4.26% of lines): field_count 1, invalid_se_value 1"));
    assert!(!stdout(&o).contains("summary"));
}

#[test]
fn corrupt_inputs_fail_unless_skipped() {
    let ws = Workspace::new();
    ws.write_gz("in/good.gz", &good_events(10));
    let full = gzip(&join_lines(&good_events(3000)));
    ws.write("in/truncated.gz", &full[..full.len() / 2]);
    let o = events(&ws, &["in", "-e", "exp", "--out", "x.csv"]);
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("in/truncated.gz: corrupt or truncated gzip data"), "{}", stderr(&o));
    assert!(!ws.path("x.csv").exists());
    let o = events(&ws, &["in", "-e", "exp", "--out", "x.csv", "--skip-corrupt-files"]);
    assert_exit(&o, 0);
    assert_eq!(csv_rows(ws.read("x.csv").as_bytes()).len(), 15);
}

#[test]
fn usage_errors_exit_2() {
    let ws = Workspace::new();
    ws.write_gz("in/a.gz", &good_events(3));
    for args in [
        &["in", "--out", "-", "--format", "parquet", "-e", "exp"][..],
        &["in", "--start", "2026-03-02", "--end", "2026-03-01", "-e", "exp"],
        &["in", "--start", "yesterday", "-e", "exp"],
        &["in"],
        &["in", "-e", "exp", "--production-app-id", "x", "--staging-app-id", "x"],
    ] {
        let o = events(&ws, args);
        assert_exit(&o, 2);
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}
