//! What a successful run writes and prints.

use crate::harness::{Workspace, assert_exit, good_events, join_lines, stderr, stdout};

const EXPECTED_CSV: &str = "experiment,funnel,variant,step,step_name,keys,conversion_from_previous,conversion_from_first,\
ci_low,ci_high,lift,p_value,p_value_adjusted,significant,median_time_to_step_s,p90_time_to_step_s,lift_ci_low,lift_ci_high,\
mde_relative,keys_needed,chance_to_win,expected_loss\n\
exp,exp_funnel,control,1,Viewed,6,1.0000,1.0000,,,,,,,,,,,,,,\n\
exp,exp_funnel,control,2,Clicked,3,0.5000,0.5000,0.1876,0.8124,,,,,0,0,,,,,,\n\
exp,exp_funnel,candidate,1,Viewed,4,1.0000,1.0000,,,,,,,,,,,,,,\n\
exp,exp_funnel,candidate,2,Clicked,2,0.5000,0.5000,0.1500,0.8500,0.0000,1.0000,1.0000,false,0,0,-0.7178,2.5436,,,0.5000,0.1020\n";

#[test]
fn writes_the_csv_and_prints_tables_and_a_summary() {
    let ws = Workspace::new();
    let lines = good_events(10);
    ws.write_gz("in/a.gz", &lines[..7]);
    ws.write("in/b.tsv", &join_lines(&lines[7..]));
    let o = ws.run(&["in"]);
    assert_exit(&o, 0);
    assert_eq!(ws.read("out/exp_funnel.csv"), EXPECTED_CSV);
    let out = stdout(&o);
    assert!(out.contains("Funnel exp_funnel (experiment exp): 10 keys, 0 conflicting"), "{out}");
    assert!(out.contains("files              2 ("), "{out}");
    assert!(out.contains("lines              15"), "{out}");
    assert!(out.contains("exp: 15 contexts, 10 keys, 0 conflicting"), "{out}");
    assert_eq!(ws.out_files(), ALL_REPORTS);
    assert_eq!(
        ws.read("out/exp_funnel.summary.csv"),
        "experiment,funnel,variant,keys,expected_share,observed_share,srm_chi_square,srm_p_value,\
         contaminated_keys,contaminated_share\n\
         exp,exp_funnel,control,6,0.5000,0.6000,0.4000,0.5271,0,0.0000\n\
         exp,exp_funnel,candidate,4,0.5000,0.4000,0.4000,0.5271,0,0.0000\n"
    );
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
}

#[test]
fn a_split_off_the_planned_weights_is_a_loud_warning() {
    let ws = Workspace::new();
    // 100 candidate and 200 control keys.
    ws.write_gz("in/a.gz", &good_events(300));
    let o = ws.run(&["in"]);
    assert_exit(&o, 0);
    let err = stderr(&o);
    assert!(
        err.contains("snowfunnel: warning: sample ratio mismatch in funnel exp_funnel: step-1 keys control 200 (50.0% planned), candidate 100 (50.0% planned)"),
        "{err}"
    );
    // Planned 2:1, the same split is healthy.
    let funnel = crate::harness::FUNNEL
        .replace("experiment = \"exp\"", "experiment = \"exp\"\nweights = { control = 2, candidate = 1 }");
    ws.write("funnels/exp_funnel.toml", funnel.as_bytes());
    let o = ws.run(&["in"]);
    assert_exit(&o, 0);
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
    assert!(
        ws.read("out/exp_funnel.summary.csv")
            .contains("exp,exp_funnel,control,200,0.6667,0.6667,0.0000,1.0000,0,0.0000")
    );
}

#[test]
fn thread_count_and_file_split_do_not_change_results() {
    let ws = Workspace::new();
    let lines = good_events(300);
    for (i, chunk) in lines.chunks(37).enumerate() {
        ws.write_gz(&format!("in/part-{i:02}.gz"), chunk);
    }
    ws.write("whole.tsv", &join_lines(&lines));
    assert_exit(&ws.run(&["--threads", "1", "--out", "one", "in"]), 0);
    assert_exit(&ws.run(&["--threads", "4", "--out", "four", "in"]), 0);
    assert_exit(&ws.run(&["--threads", "2", "--out", "whole", "whole.tsv"]), 0);
    let one = ws.read("one/exp_funnel.csv");
    assert_eq!(one, ws.read("four/exp_funnel.csv"));
    assert_eq!(one, ws.read("whole/exp_funnel.csv"));
    assert!(one.contains("exp,exp_funnel,control,1,Viewed,200,"), "{one}");
}

#[test]
fn quiet_prints_nothing_and_a_closed_pipe_is_not_an_error() {
    let ws = Workspace::new();
    ws.write_gz("in/a.gz", &good_events(5));
    let o = ws.run(&["--quiet", "in"]);
    assert_exit(&o, 0);
    assert!(o.stdout.is_empty());
    assert_eq!(ws.out_files(), ALL_REPORTS);
}

#[test]
fn one_large_file_gives_the_same_results_and_bad_rows_on_any_thread_count() {
    // Several MiB in one file: with more threads than files, one thread inflates and others
    // parse its chunks; the outputs, bad-row log included, must not change.
    let ws = Workspace::new();
    let mut lines = good_events(3000);
    for i in (0..lines.len()).step_by(97) {
        lines[i] = format!("broken line {i}");
    }
    let big: Vec<String> = (0..4).flat_map(|_| lines.clone()).collect();
    ws.write_gz("in/big.gz", &big);
    let mut results = Vec::new();
    for threads in ["1", "2", "4"] {
        let out = format!("out{threads}");
        let bad = format!("bad{threads}.csv");
        let o = ws.run(&[
            "--threads",
            threads,
            "--out",
            &out,
            "--bad-rows",
            &bad,
            "--max-bad-ratio",
            "0.05",
            "in",
        ]);
        assert_exit(&o, 0);
        results.push((ws.read(&format!("{out}/exp_funnel.csv")), ws.read(&bad)));
    }
    assert!(join_lines(&big).len() > 4 * snowfunnel_input::CHUNK_BYTES, "spans several chunks");
    assert_eq!(
        results[0].1.lines().count(),
        1 + 4 * lines.iter().filter(|l| l.starts_with("broken")).count()
    );
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0], results[2]);
}

#[test]
fn cohorts_add_a_block_per_period_and_a_cohort_column() {
    let ws = Workspace::new();
    ws.write_gz("in/a.gz", &good_events(10));
    for (by, cohort) in [("day", "2026-03-01"), ("week", "2026-02-23")] {
        let out = format!("out-{by}");
        assert_exit(&ws.run(&["--by", by, "--out", &out, "in"]), 0);
        let csv = ws.read(&format!("{out}/exp_funnel.csv"));
        let mut rows = csv.lines();
        assert!(
            rows.next()
                .unwrap()
                .ends_with(",lift_ci_high,mde_relative,keys_needed,chance_to_win,expected_loss,cohort")
        );
        let rows: Vec<&str> = rows.collect();
        assert_eq!(rows.len(), 4, "{csv}");
        assert!(rows.iter().all(|r| r.ends_with(&format!(",{cohort}"))), "{csv}");
        // The only cohort holds every key: the same counts as without cohorts.
        let plain: Vec<String> = EXPECTED_CSV.lines().skip(1).map(|r| format!("{r},{cohort}")).collect();
        assert_eq!(rows, plain);
    }
    let bad = ws.run(&["--by", "month", "in"]);
    assert_exit(&bad, 2);
}

/// The files of a run of the test funnel with every report format (the default).
const ALL_REPORTS: [&str; 7] = [
    "_SUCCESS",
    "_index.html",
    "_run.json",
    "exp_funnel.csv",
    "exp_funnel.html",
    "exp_funnel.json",
    "exp_funnel.summary.csv",
];
