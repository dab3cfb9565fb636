//! Every kind of bad input: a clear message, the documented exit code, no half-written output.

use crate::harness::{Workspace, assert_exit, event, good_events, gzip, join_lines, stderr, stdout};

#[test]
fn bad_rows_are_counted_logged_and_within_the_ratio_tolerated() {
    let ws = Workspace::new();
    let mut lines = good_events(200);
    lines.insert(5, "only\ttwo".into());
    lines.insert(9, event("view", "kx", "control").replace("2026-03-01 10:00:00.000", "29th May 2013"));
    ws.write("in/a.tsv", &join_lines(&lines));
    let o = ws.run(&["--bad-rows", "bad.csv", "in"]);
    assert_exit(&o, 0);
    assert!(
        stdout(&o)
            .contains("bad lines          2 (0.66% of lines): field_count 1, invalid_collector_tstamp 1"),
        "{}",
        stdout(&o)
    );
    let bad = ws.read("bad.csv");
    let rows: Vec<&str> = bad.lines().collect();
    assert_eq!(rows[0], "file,line,reason,detail,raw_line");
    assert!(
        rows[1]
            .starts_with("in/a.tsv,6,field_count,\"expected 131 tab-separated fields, found 2\",only\ttwo"),
        "{bad}"
    );
    assert!(rows[2].starts_with("in/a.tsv,10,invalid_collector_tstamp,"), "{bad}");
    assert_eq!(rows.len(), 3);
}

#[test]
fn too_many_bad_rows_fail_without_a_report() {
    let ws = Workspace::new();
    let mut lines = good_events(20);
    lines.extend((0..5).map(|i| format!("garbage {i}")));
    ws.write("in/a.tsv", &join_lines(&lines));
    let o = ws.run(&["--bad-rows", "bad.csv", "in"]);
    assert_exit(&o, 3);
    let err = stderr(&o);
    assert!(
        err.contains("5 of 35 lines are bad rows (14.29%), over --max-bad-ratio 0.01 (not_tsv 5)"),
        "{err}"
    );
    assert!(ws.out_files().is_empty(), "{:?}", ws.out_files());
    assert_eq!(ws.read("bad.csv").lines().count(), 6);
    assert_exit(&ws.run(&["--max-bad-ratio", "0.2", "in"]), 0);
}

#[test]
fn corrupt_gzip_fails_naming_the_file_unless_skipped() {
    let ws = Workspace::new();
    ws.write_gz("in/good.gz", &good_events(50));
    let full = gzip(&join_lines(&good_events(3000)));
    ws.write("in/truncated.gz", &full[..full.len() / 2]);
    std::fs::create_dir_all(ws.path("out")).unwrap();
    ws.write("out/exp_funnel.csv", b"previous report");
    let o = ws.run(&["in"]);
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("in/truncated.gz: corrupt or truncated gzip data"), "{}", stderr(&o));
    assert_eq!(ws.read("out/exp_funnel.csv"), "previous report");

    let o = ws.run(&["--skip-corrupt-files", "in"]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    assert!(out.contains("skipped (corrupt)  in/truncated.gz: corrupt or truncated gzip data"), "{out}");
    assert!(out.contains("files              1 ("), "{out}");
    // Nothing of the skipped file was counted, not even the lines before the damage.
    assert!(out.contains(&format!("lines              {}", good_events(50).len())), "{out}");
}

#[test]
fn missing_inputs_and_empty_directories_are_errors() {
    let ws = Workspace::new();
    let o = ws.run(&["no/such/path"]);
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("no/such/path: no such file or directory"), "{}", stderr(&o));
    let o = ws.run(&["in"]);
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("no input files found in in"), "{}", stderr(&o));
}

#[cfg(unix)]
#[test]
fn unreadable_inputs_are_errors() {
    use std::os::unix::fs::PermissionsExt;
    let ws = Workspace::new();
    let p = ws.write_gz("in/locked.gz", &good_events(3));
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&p).is_ok() {
        return; // running as root: permissions do not apply
    }
    let o = ws.run(&["in"]);
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("in/locked.gz: cannot read"), "{}", stderr(&o));
}

#[test]
fn bad_funnel_definitions_are_usage_errors_naming_file_and_line() {
    let ws = Workspace::new();
    ws.write_gz("in/a.gz", &good_events(3));
    ws.write("funnels/typo.toml", b"experiment = \"exp\"\n[[steps]]\nname = \"a\"\nacton = \"view\"\n");
    let o = ws.run(&["in"]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("funnels/typo.toml:4: unknown field `acton`"), "{}", stderr(&o));

    ws.write(
        "funnels/typo.toml",
        b"name = \"exp_funnel\"\nexperiment = \"exp\"\n[[steps]]\nname = \"a\"\naction = \"view\"\n",
    );
    let o = ws.run(&["in"]);
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains(
            "funnels/typo.toml: funnel name \"exp_funnel\" is already used by funnels/exp_funnel.toml"
        ),
        "{}",
        stderr(&o)
    );
    assert!(ws.out_files().is_empty());
}

#[test]
fn usage_errors_exit_2() {
    let ws = Workspace::new();
    let o = ws.run(&[]);
    assert_exit(&o, 2);
    let o = ws.run(&["--max-bad-ratio", "2", "in"]);
    assert_exit(&o, 2);
}

#[test]
fn a_lone_gzip_member_of_plain_data_is_fine() {
    // Multi-member gzip: two members in one file read as their concatenation.
    let ws = Workspace::new();
    let lines = good_events(10);
    let mut data = gzip(&join_lines(&lines[..4]));
    data.extend(gzip(&join_lines(&lines[4..])));
    ws.write("in/multi.gz", &data);
    let o = ws.run(&["in"]);
    assert_exit(&o, 0);
    assert!(stdout(&o).contains(&format!("lines              {}", lines.len())), "{}", stdout(&o));
}

#[test]
fn corrupt_files_are_skipped_or_fatal_when_files_are_split_across_threads() {
    // Fewer files than threads: readers and parsers run apart.
    let ws = Workspace::new();
    ws.write_gz("in/good.gz", &good_events(50));
    let full = gzip(&join_lines(&good_events(30_000)));
    ws.write("in/truncated.gz", &full[..full.len() / 2]);
    let o = ws.run(&["--threads", "6", "in"]);
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("in/truncated.gz: corrupt or truncated gzip data"), "{}", stderr(&o));
    assert!(ws.out_files().is_empty());
    let o = ws.run(&["--threads", "6", "--skip-corrupt-files", "in"]);
    assert_exit(&o, 0);
    assert!(stdout(&o).contains(&format!("lines              {}", good_events(50).len())), "{}", stdout(&o));
}
