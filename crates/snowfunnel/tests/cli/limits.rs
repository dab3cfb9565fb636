//! Limits on hostile input: over-long lines are bad rows (not a failed run), the bad-row log
//! stays within its cap, and Snowplow-format bad rows are valid against Snowplow's schema.

use std::path::Path;

use serde_json::Value;

use crate::harness::{Workspace, assert_exit, event, good_events, grouped, gzip, join_lines, stderr, stdout};

const MIB: usize = 1 << 20;

/// `n` good events with, at lines 101, 202, 303 and 404 (1-based): a line of exactly 1 MiB
/// (the default limit: not too long, but not an event either), one of 1 MiB and a byte, one of
/// 3 MiB (longer than any chunk buffer), and an event padded past the limit.
fn lines_with_long_ones(n: usize) -> Vec<String> {
    let mut lines = good_events(n);
    let padded = event("view", "padded", "control").replacen('\t', &format!("\t{}", " ".repeat(2 * MIB)), 1);
    lines.insert(100, "a".repeat(MIB));
    lines.insert(201, "b".repeat(MIB + 1));
    lines.insert(302, "c".repeat(3 * MIB));
    lines.insert(403, padded);
    lines
}

fn line_of(lines: &str, prefix: &str) -> String {
    lines
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} in\n{lines}"))
        .to_owned()
}

#[test]
fn over_long_lines_are_bad_rows_and_the_run_goes_on_with_every_thread_count() {
    let ws = Workspace::new();
    let lines = lines_with_long_ones(20_000);
    // The same events without the long lines: what the funnel must count.
    let short: Vec<String> = lines.iter().filter(|l| l.len() < MIB).cloned().collect();
    std::fs::create_dir_all(ws.path("short")).unwrap();
    ws.write("short/a.tsv", &join_lines(&short));
    assert_exit(&ws.run(&["--out", "short_out", "short"]), 0);
    let want = ws.read("short_out/exp_funnel.csv");

    ws.write_gz("in/a.gz", &lines);
    // The second file for the runs with two: a copy, so every count doubles.
    std::fs::create_dir_all(ws.path("two")).unwrap();
    ws.write("two/a.tsv", &join_lines(&lines));
    ws.write_gz("two/b.gz", &lines);
    let mut logs = Vec::new();
    // One file, one thread; one file split across threads (read apart from parsing); two files,
    // one per thread; two files, fewer than the threads.
    for (input, threads, copies) in [("in", "1", 1), ("in", "3", 1), ("two", "2", 2), ("two", "4", 2)] {
        let out = format!("out_{input}_{threads}");
        let bad = format!("bad_{input}_{threads}.csv");
        let o = ws.run(&["--threads", threads, "--bad-rows", &bad, "--out", &out, input]);
        assert_exit(&o, 0);
        let text = stdout(&o);
        let line_count = copies * lines.len();
        assert!(text.contains(&format!("lines              {}\n", grouped(line_count))), "{text}");
        assert!(
            text.contains(&format!(
                "bad lines          {} (0.01% of lines): not_tsv {}, line_too_long {}\n",
                4 * copies,
                copies,
                3 * copies
            )),
            "{text}"
        );
        if copies == 1 {
            // Every line after the long ones counted as it would be without them.
            assert_eq!(ws.read(&format!("{out}/exp_funnel.csv")), want);
        }
        let log = ws.read(&bad);
        assert_eq!(log.lines().count(), 1 + 4 * copies, "header and the rows");
        logs.push(log);
    }
    assert_eq!(logs[0], logs[1], "the log does not depend on the thread count");
    assert_eq!(logs[2], logs[3]);

    let log = &logs[0];
    assert!(line_of(log, "in/a.gz,101,not_tsv,").ends_with(&"a".repeat(MIB)));
    assert_eq!(
        line_of(log, "in/a.gz,202,"),
        format!(
            "in/a.gz,202,line_too_long,\"line of {} bytes, longer than --max-line-bytes {MIB} \
             (only its first 4096 bytes kept)\",{}",
            MIB + 1,
            "b".repeat(4096)
        )
    );
    assert!(line_of(log, "in/a.gz,303,line_too_long,\"line of 3145728 bytes,").ends_with(&"c".repeat(4096)));
    assert!(line_of(log, "in/a.gz,404,line_too_long,\"line of 2097").contains(",gitlab\t "));
}

#[test]
fn the_limit_is_an_option_and_a_line_at_the_end_without_newline_counts_too() {
    let ws = Workspace::new();
    let mut data = join_lines(&good_events(30));
    data.extend_from_slice("x".repeat(5000).as_bytes());
    ws.write("in/a.tsv", &data);
    let o = ws.run(&["--max-line-bytes", "4KiB", "--max-bad-ratio", "0.1", "--bad-rows", "bad.csv", "in"]);
    assert_exit(&o, 0);
    assert!(stdout(&o).contains("bad lines          1 (2.17% of lines): line_too_long 1"), "{}", stdout(&o));
    assert!(
        ws.read("bad.csv")
            .contains("in/a.tsv,46,line_too_long,\"line of 5000 bytes, longer than --max-line-bytes 4096 ")
    );
    // Over the ratio, a long line fails the bad-row check like any bad row.
    let o = ws.run(&["--max-line-bytes", "4KiB", "in"]);
    assert_exit(&o, 3);
    assert!(stderr(&o).contains("(line_too_long 1)"), "{}", stderr(&o));
    for bad in ["0", "2GiB", "ten"] {
        assert_exit(&ws.run(&["--max-line-bytes", bad, "in"]), 2);
    }
}

#[test]
fn validate_and_events_skip_long_lines_too() {
    let ws = Workspace::new();
    let mut lines = good_events(100);
    lines.insert(10, format!("{}\t{}", event("view", "long", "control"), "z".repeat(3 * MIB)));
    ws.write_gz("in/a.gz", &lines);
    let o = ws.validate(&["--max-bad-ratio", "0.1", "in"]);
    assert_exit(&o, 0);
    assert!(ws.read("out/validate_summary.csv").contains("bad_rows,,line_too_long,1,"));
    let o = ws.snowfunnel(&["events", "-e", "exp", "--max-bad-ratio", "0.1", "--out", "x.csv", "in"]);
    assert_exit(&o, 0);
    assert!(stderr(&o).contains("bad lines          1 (0.66% of lines): line_too_long 1"), "{}", stderr(&o));
    assert!(!ws.read("x.csv").contains("view-long"));
}

/// Rows of the CSV log, without the header.
fn rows(log: &str) -> Vec<&str> {
    log.lines().skip(1).collect()
}

#[test]
fn a_bomb_of_bad_lines_keeps_the_first_rows_within_the_cap_whatever_the_threads() {
    let ws = Workspace::new();
    // Two files of 200,000 short bad lines (4.4 MB each: several chunks), and good events.
    let bomb =
        |name: &str| -> Vec<String> { (0..200_000).map(|i| format!("bad line {name} {i:08}")).collect() };
    let mut a = bomb("a");
    a.extend(good_events(10));
    ws.write("in/a.tsv", &join_lines(&a));
    ws.write("in/b.gz", &gzip(&join_lines(&bomb("b"))));
    let cap = 100_000;
    let mut logs = Vec::new();
    for threads in ["1", "2", "3", "5"] {
        let bad = format!("bad_{threads}.csv");
        let o = ws.run(&[
            "--threads",
            threads,
            "--max-bad-ratio",
            "1",
            "--bad-rows",
            &bad,
            "--max-bad-rows-bytes",
            "100kB",
            "in",
        ]);
        assert_exit(&o, 0);
        let log = ws.read(&bad);
        let written = rows(&log);
        let bytes: usize = written.iter().map(|r| r.len() + 1).sum();
        assert!(bytes <= cap && bytes > cap - 100, "{bytes} bytes of rows");
        // The first rows in input order: lines 1, 2, 3... of the first file.
        for (i, row) in written.iter().enumerate() {
            assert!(row.starts_with(&format!("in/a.tsv,{},not_tsv,", i + 1)), "{row}");
        }
        let dropped = 400_000 - written.len();
        let text = stdout(&o);
        assert!(text.contains(&format!("bad rows file      {} rows (", grouped(written.len()))), "{text}");
        assert!(text.contains(&format!(") in {bad}; {} more (", grouped(dropped))), "{text}");
        assert!(text.contains(") left out over --max-bad-rows-bytes 100,000\n"), "{text}");
        assert!(
            stderr(&o).contains(&format!(
                "warning: {bad} holds the first {} bad rows ({bytes} bytes): {dropped} more (",
                written.len()
            )),
            "{}",
            stderr(&o)
        );
        logs.push(log);
    }
    assert!(logs.iter().all(|l| *l == logs[0]), "the log depends on the thread count");

    // A cap of 0 keeps the header only; a large one keeps everything.
    assert_exit(
        &ws.run(&["--max-bad-ratio", "1", "--bad-rows", "none.csv", "--max-bad-rows-bytes", "0", "in"]),
        0,
    );
    assert_eq!(ws.read("none.csv"), "file,line,reason,detail,raw_line\n");
    let o = ws.run(&["--max-bad-ratio", "1", "--bad-rows", "all.csv", "--max-bad-rows-bytes", "1GiB", "in"]);
    assert_exit(&o, 0);
    assert_eq!(rows(&ws.read("all.csv")).len(), 400_000);
    assert!(!stderr(&o).contains("holds the first"), "{}", stderr(&o));
}

#[test]
fn the_cap_also_holds_when_the_bad_row_check_fails() {
    let ws = Workspace::new();
    ws.write("in/a.tsv", &join_lines(&(0..5000).map(|i| format!("garbage {i}")).collect::<Vec<_>>()));
    let o = ws.run(&["--bad-rows", "bad.csv", "--max-bad-rows-bytes", "1KiB", "in"]);
    assert_exit(&o, 3);
    assert!(stderr(&o).contains("warning: bad.csv holds the first "), "{}", stderr(&o));
    let log = ws.read("bad.csv");
    assert!(log.len() <= 1024 + "file,line,reason,detail,raw_line\n".len());
    assert!(rows(&log)[0].starts_with("in/a.tsv,1,not_tsv,"), "{log}");
}

/// Snowplow's `loader_parsing_error` 2-0-0 schema, compiled as the JSON Schema draft 4 that
/// Iglu schemas are (their `$schema` names Iglu's meta-schema, which is draft 4 with a `self`
/// block, so it is left out).
fn loader_parsing_error_schema() -> (boon::Schemas, boon::SchemaIndex) {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/schemas/loader_parsing_error-2-0-0.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{}: {e} (the shared schemas are cloned beside the repository)", path.display())
    });
    let mut schema: Value = serde_json::from_str(&text).unwrap();
    schema.as_object_mut().unwrap().remove("$schema");
    let mut compiler = boon::Compiler::new();
    compiler.set_default_draft(boon::Draft::V4);
    compiler.add_resource("file:///loader_parsing_error-2-0-0.json", schema).unwrap();
    let mut schemas = boon::Schemas::new();
    let index = compiler.compile("file:///loader_parsing_error-2-0-0.json", &mut schemas).unwrap();
    (schemas, index)
}

/// An event of experiment `exp` with field `index` set to `value`.
fn with_field(key: &str, index: usize, value: &str) -> String {
    let mut fields: Vec<String> = event("view", key, "control").split('\t').map(str::to_owned).collect();
    fields[index] = value.to_owned();
    fields.join("\t")
}

#[test]
fn snowplow_bad_rows_of_every_reason_are_valid_loader_parsing_errors() {
    let ws = Workspace::new();
    let mut lines = good_events(10);
    let bad = [
        "not tsv".to_owned(),
        "only\ttwo".to_owned(),
        "\t".repeat(2000),
        with_field("c", 3, "29th May 2013"),
        with_field("d", 124, "yesterday"),
        event("view", "j", "control").replace(r#""variant":"control"}}]}"#, r#""variant":"control"}"#),
        with_field("u", 58, "{not json"),
        with_field("s", 57, "ten"),
        format!("{}\u{e9}\u{ff}", "l".repeat(70_000)),
    ];
    lines.extend(bad.iter().cloned());
    let mut data = join_lines(&lines);
    data.extend_from_slice(b"raw \xff byte\n");
    ws.write("in/a.tsv", &data);
    let o = ws.snowfunnel(&[
        "events",
        "-e",
        "exp",
        "--max-bad-ratio",
        "1",
        "--max-line-bytes",
        "64KiB",
        "--bad-rows",
        "bad.json",
        "--bad-rows-format",
        "snowplow",
        "--out",
        "x.csv",
        "in",
    ]);
    assert_exit(&o, 0);
    let reasons = "not_tsv 2, field_count 2, invalid_collector_tstamp 1, invalid_derived_tstamp 1, invalid_contexts 1, \
                   invalid_unstruct_event 1, invalid_se_value 1, line_too_long 1";
    assert!(stderr(&o).contains(reasons), "{}", stderr(&o));

    let (schemas, schema) = loader_parsing_error_schema();
    let log = ws.read("bad.json");
    let rows: Vec<Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 10);
    let mut failures = Vec::new();
    for row in &rows {
        assert_eq!(
            row["schema"],
            "iglu:com.snowplowanalytics.snowplow.badrows/loader_parsing_error/jsonschema/2-0-0"
        );
        assert_eq!(row.as_object().unwrap().len(), 2, "{row}");
        let data = &row["data"];
        if let Err(e) = schemas.validate(data, schema) {
            panic!("{data}\nis not a valid loader_parsing_error: {e}");
        }
        assert_eq!(data["processor"]["artifact"], "snowfunnel");
        assert_eq!(data["processor"]["version"], env!("CARGO_PKG_VERSION"));
        let failure = &data["failure"];
        let error = &failure["errors"][0];
        failures.push(match failure["type"].as_str().unwrap() {
            "RowDecodingError" => format!(
                "{} {}",
                error["type"].as_str().unwrap(),
                error["key"].as_str().map_or_else(
                    || error["message"].as_str().unwrap().to_owned(),
                    |k| format!("{k}={}", error["value"])
                ),
            ),
            "FieldNumberMismatch" => format!("FieldNumberMismatch {}", failure["fieldCount"]),
            other => other.to_owned(),
        });
    }
    assert_eq!(
        failures,
        [
            "NotTSV".to_owned(),
            "FieldNumberMismatch 2".to_owned(),
            "UnhandledRowDecodingError expected 131 tab-separated fields, found 2001".to_owned(),
            "InvalidValue collector_tstamp=\"29th May 2013\"".to_owned(),
            "InvalidValue derived_tstamp=\"yesterday\"".to_owned(),
            format!("InvalidValue contexts={}", Value::from(bad[5].split('\t').nth(52).unwrap())),
            "InvalidValue unstruct_event=\"{not json\"".to_owned(),
            "InvalidValue se_value=\"ten\"".to_owned(),
            "UnhandledRowDecodingError line of 70004 bytes, longer than --max-line-bytes 65536 (only its first 4096 bytes kept)".to_owned(),
            "NotTSV".to_owned(),
        ]
    );
    // The payload is the line (invalid UTF-8 replaced), or the start of one too long.
    assert_eq!(rows[1]["data"]["payload"], "only\ttwo");
    assert_eq!(rows[8]["data"]["payload"], "l".repeat(4096));
    assert_eq!(rows[9]["data"]["payload"], "raw \u{fffd} byte");

    // The schema check is real: a row Snowplow would refuse fails it.
    let mut wrong = rows[1]["data"].clone();
    wrong["failure"]["fieldCount"] = Value::from(2000);
    assert!(schemas.validate(&wrong, schema).is_err());
    let mut wrong = rows[0]["data"].clone();
    wrong["file"] = Value::from("in/a.tsv");
    assert!(schemas.validate(&wrong, schema).is_err());
}
