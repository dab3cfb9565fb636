//! Hostile strings from clients and funnel files: every CSV neutralises text cells that a
//! spreadsheet would run as formulas (and `--raw-csv` writes them as they are) without touching
//! a number, the terminal never gets a raw control character, and `keys_by_variant` splits
//! back whatever the variant names.

use std::collections::BTreeMap;
use std::process::{Command, Output};

use percent_encoding::percent_decode_str;
use serde_json::json;
use snowfunnel_parse::{FIELD_COUNT, fields};

use crate::harness::{Workspace, assert_exit, join_lines, stderr, stdout};

/// An experiment name a spreadsheet would run (OWASP's example), with a BEL for the terminal.
const EXPERIMENT: &str = "=cmd|' /C calc'!A0\u{7}";

/// The funnel file: its names are user input too.
const FUNNEL: &str = r#"
name = "-funnel"
experiment = "=cmd|' /C calc'!A0\u0007"
[[steps]]
name = "+Viewed"
action = "view"
[[steps]]
name = "@SUM(1)"
action = "click"
"#;

/// The variants: the control, then names starting with each formula trigger, terminal escapes
/// (ESC, BEL, C1), and the separators of `keys_by_variant`.
const VARIANTS: [&str; 7] =
    ["control", "+1", "-2\u{1b}[31m", "@SUM(1)\u{7}", "\tTab", "\r=CR\u{9b}", "a=b;c%"];

/// Labels and app_ids a spreadsheet would run.
const LABELS: [&str; 3] = ["=HYPERLINK(\"http://x\")", "-label", "@label"];

/// OWASP's formula triggers, and the mark itself.
fn needs_mark(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r', '\''])
}

/// One struct event of [`EXPERIMENT`].
fn line(action: &str, key: &str, variant: &str, i: usize) -> String {
    let mut f = vec![String::new(); FIELD_COUNT];
    f[fields::APP_ID] = if i.is_multiple_of(2) { "gitlab".into() } else { "+app".into() };
    f[fields::COLLECTOR_TSTAMP] = format!("2026-03-01 10:00:{:02}.000", i % 60);
    f[fields::EVENT] = "struct".into();
    f[fields::EVENT_ID] = format!("{action}-{key}-{i}");
    f[fields::SE_CATEGORY] = "-category".into();
    f[fields::SE_ACTION] = action.into();
    // One label for views, so that validate has one row for them with every key.
    f[fields::SE_LABEL] = if action == "view" { LABELS[0] } else { LABELS[1 + i % 2] }.into();
    f[fields::SE_VALUE] = "-2".into();
    let context = json!({
        "schema": "iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-0",
        "data": {"experiment": EXPERIMENT, "key": key, "variant": variant},
    });
    f[fields::CONTEXTS] = json!({
        "schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1",
        "data": [context],
    })
    .to_string();
    f.join("\t")
}

/// Ten keys per variant, all viewed; 8 control keys clicked and 2 of every other variant, so
/// the other variants' lifts are negative; one key seen with two variants (contamination, a
/// warning naming the experiment); one bad line that is a formula.
fn workspace() -> Workspace {
    let ws = Workspace::new();
    ws.write("funnels/exp_funnel.toml", FUNNEL.as_bytes());
    let mut lines = Vec::new();
    for (v, variant) in VARIANTS.iter().enumerate() {
        for k in 0..10 {
            let key = format!("k{v}-{k}");
            lines.push(line("view", &key, variant, lines.len()));
            if k < if v == 0 { 8 } else { 2 } {
                lines.push(line("click", &key, variant, lines.len()));
            }
        }
    }
    lines.push(line("view", "k0-9", VARIANTS[1], lines.len()));
    lines.push("=cmd|' /C calc'!A0".into());
    ws.write("in/a.tsv", &join_lines(&lines));
    ws
}

fn snowfunnel(ws: &Workspace, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_snowfunnel")).current_dir(ws.dir.path()).args(args).output().unwrap()
}

/// The header and rows of a CSV file.
fn read_csv(ws: &Workspace, rel: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let bytes = std::fs::read(ws.path(rel)).unwrap();
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let header = reader.headers().unwrap().iter().map(str::to_owned).collect();
    (header, reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect())
}

/// Checks that `neutral` is `raw` with exactly the cells of the `text` columns that need it
/// marked with a leading `'`, every other cell (numbers) byte for byte the same, and that every
/// text column had a marked cell. Returns the raw rows.
fn neutralised(ws: &Workspace, neutral: &str, raw: &str, text: &[&str]) -> Vec<Vec<String>> {
    let (header, neutral_rows) = read_csv(ws, neutral);
    let (raw_header, raw_rows) = read_csv(ws, raw);
    assert_eq!(header, raw_header);
    assert_eq!(neutral_rows.len(), raw_rows.len(), "{neutral}");
    let mut marked = vec![0; header.len()];
    for (n, r) in neutral_rows.iter().zip(&raw_rows) {
        for (c, name) in header.iter().enumerate() {
            if text.contains(&name.as_str()) && needs_mark(&r[c]) {
                assert_eq!(n[c], format!("'{}", r[c]), "{neutral}, {name}");
                marked[c] += 1;
            } else {
                assert_eq!(n[c], r[c], "{neutral}, {name}: not a text cell, or nothing to mark");
            }
        }
    }
    for name in text {
        let c = header.iter().position(|h| h == name).unwrap();
        assert!(marked[c] > 0, "{neutral}: nothing marked in {name}");
    }
    raw_rows
}

/// Neither stream holds a control character but line ends: names come out escaped.
fn no_control_characters(o: &Output) {
    for (stream, text) in [("stdout", stdout(o)), ("stderr", stderr(o))] {
        let bad: Vec<char> = text.chars().filter(|&c| c.is_control() && c != '\n').collect();
        assert!(bad.is_empty(), "{stream} holds {bad:?}:\n{text}");
    }
}

fn column<'a>(rows: &'a [Vec<String>], header: &[String], name: &str) -> Vec<&'a str> {
    let c = header.iter().position(|h| h == name).unwrap();
    rows.iter().map(|r| r[c].as_str()).collect()
}

#[test]
fn run_and_merge_neutralise_names_and_escape_the_terminal() {
    let ws = workspace();
    let common = ["--funnel", "funnels", "--max-bad-ratio", "1"];
    let o = snowfunnel(
        &ws,
        &[
            &["run"][..],
            &common,
            &["--out", "out", "--bad-rows", "bad.csv", "--state-out", "s.snowfunnel", "in"],
        ]
        .concat(),
    );
    assert_exit(&o, 0);
    no_control_characters(&o);
    let out = stdout(&o);
    for shown in ["+Viewed", "-2\\u{1b}[31m", "@SUM(1)\\u{7}", "\\tTab", "\\r=CR\\u{9b}", "a=b;c%"] {
        assert!(out.contains(shown), "{shown}: {out}");
    }
    assert!(out.contains("Funnel -funnel (experiment =cmd|' /C calc'!A0\\u{7}):"), "{out}");
    let err = stderr(&o);
    assert!(err.contains("warning: experiment =cmd|' /C calc'!A0\\u{7}: 1 of 70 keys"), "{err}");

    let o = snowfunnel(
        &ws,
        &[&["run"][..], &common, &["--out", "raw", "--bad-rows", "bad-raw.csv", "--raw-csv", "in"]].concat(),
    );
    assert_exit(&o, 0);
    let (header, _) = read_csv(&ws, "raw/-funnel.csv");
    let rows = neutralised(
        &ws,
        "out/-funnel.csv",
        "raw/-funnel.csv",
        &["experiment", "funnel", "variant", "step_name"],
    );
    assert!(column(&rows, &header, "experiment").iter().all(|&e| e == EXPERIMENT));
    let variants: Vec<&str> = column(&rows, &header, "variant").into_iter().step_by(2).collect();
    let mut expected = VARIANTS.to_vec();
    expected[1..].sort_unstable();
    assert_eq!(variants, expected, "the raw CSV holds the names as they are");
    let lifts = column(&rows, &header, "lift");
    assert!(lifts.iter().filter(|l| l.starts_with("-0.")).count() == 6, "{lifts:?}");
    neutralised(
        &ws,
        "out/-funnel.summary.csv",
        "raw/-funnel.summary.csv",
        &["experiment", "funnel", "variant"],
    );
    let bad = neutralised(&ws, "bad.csv", "bad-raw.csv", &["raw_line"]);
    assert_eq!(bad[0][4], "=cmd|' /C calc'!A0");

    // Merge writes the reports run writes, neutralised or raw.
    for (flags, dir, like) in [(&[][..], "merged", "out"), (&["--raw-csv"][..], "merged-raw", "raw")] {
        let o = snowfunnel(
            &ws,
            &[
                &["merge", "s.snowfunnel", "--funnel", "funnels", "--max-bad-ratio", "1", "--out", dir][..],
                flags,
            ]
            .concat(),
        );
        assert_exit(&o, 0);
        no_control_characters(&o);
        for file in ["-funnel.csv", "-funnel.summary.csv"] {
            assert_eq!(ws.read(&format!("{dir}/{file}")), ws.read(&format!("{like}/{file}")), "{dir}/{file}");
        }
    }
}

#[test]
fn validate_neutralises_and_keys_by_variant_splits_back() {
    let ws = workspace();
    let o = ws.validate(&["in", "--max-bad-ratio", "1", "--bad-rows", "bad.csv"]);
    assert_exit(&o, 0);
    no_control_characters(&o);
    let out = stdout(&o);
    assert!(out.contains("\n  =cmd|' /C calc'!A0\\u{7}\n"), "{out}");
    assert!(out.contains("-2\\u{1b}[31m 10 (14.49%)"), "{out}");
    let o = ws.validate(&[
        "in",
        "--max-bad-ratio",
        "1",
        "--bad-rows",
        "bad-raw.csv",
        "--out",
        "raw",
        "--raw-csv",
    ]);
    assert_exit(&o, 0);

    let events = neutralised(
        &ws,
        "out/validate_events.csv",
        "raw/validate_events.csv",
        &["experiment", "category", "label"],
    );
    neutralised(&ws, "out/validate_days.csv", "raw/validate_days.csv", &["experiment"]);
    neutralised(&ws, "out/validate_app_ids.csv", "raw/validate_app_ids.csv", &["experiment", "app_id"]);
    neutralised(&ws, "out/validate_summary.csv", "raw/validate_summary.csv", &["experiment", "item"]);
    neutralised(&ws, "bad.csv", "bad-raw.csv", &["raw_line"]);

    // keys_by_variant and share_by_variant split back into the variant names, whatever they
    // hold: on `;`, then on the first `=`, then percent-decoded.
    let (header, _) = read_csv(&ws, "raw/validate_events.csv");
    let split = |list: &str| -> BTreeMap<String, String> {
        list.split(';')
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap();
                (percent_decode_str(name).decode_utf8().unwrap().into_owned(), value.to_owned())
            })
            .collect()
    };
    let views = events.iter().find(|r| r[3] == "view").unwrap();
    let keys = split(&views[header.iter().position(|h| h == "keys_by_variant").unwrap()]);
    let expected: BTreeMap<String, String> =
        VARIANTS.iter().map(|v| ((*v).to_owned(), if *v == "+1" { "11" } else { "10" }.to_owned())).collect();
    assert_eq!(keys, expected);
    let shares = split(&views[header.iter().position(|h| h == "share_by_variant").unwrap()]);
    assert_eq!(shares.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>());
    assert_eq!(shares["+1"], "0.1549");
}

#[test]
fn the_events_extract_neutralises_every_string_column_but_not_se_value() {
    let ws = workspace();
    let extract = |args: &[&str]| {
        let o = snowfunnel(
            &ws,
            &[&["events", "-e", EXPERIMENT, "in", "--max-bad-ratio", "1"][..], args].concat(),
        );
        assert_exit(&o, 0);
        no_control_characters(&o);
        o
    };
    let o = extract(&["--out", "events.csv", "--bad-rows", "bad.csv"]);
    let err = stderr(&o);
    assert!(err.contains("rows written       91 to events.csv"), "{err}");
    extract(&["--out", "events-raw.csv", "--bad-rows", "bad-raw.csv", "--raw-csv"]);
    let rows = neutralised(
        &ws,
        "events.csv",
        "events-raw.csv",
        &["experiment", "variant", "app_id", "se_category", "se_label"],
    );
    let (header, neutral_rows) = read_csv(&ws, "events.csv");
    assert!(column(&neutral_rows, &header, "se_value").iter().all(|&v| v == "-2"), "a number stays a number");
    let variants: std::collections::BTreeSet<&str> = column(&rows, &header, "variant").into_iter().collect();
    assert_eq!(variants, VARIANTS.into_iter().collect(), "the raw CSV holds the names as they are");
    neutralised(&ws, "bad.csv", "bad-raw.csv", &["raw_line"]);
}

#[test]
fn error_messages_escape_what_they_quote() {
    let ws = workspace();
    let missing = ws.dir.path().join("in\u{1b}[2J");
    let o = ws.validate(&[missing.to_str().unwrap()]);
    assert_exit(&o, 1);
    no_control_characters(&o);
    assert!(stderr(&o).contains("in\\u{1b}[2J"), "{}", stderr(&o));
}
