//! State files end to end: sharded runs merged into the reports of a single run (locally, and
//! with worker processes on the S3 test server), incremental runs equal to full ones, and every
//! state that must not be used refused with a clear error.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use proptest::prelude::*;
use snowfunnel_s3_testserver::{ACCESS_KEY, SECRET_KEY, TestServer};

use crate::harness::{Workspace, assert_exit, good_events, stderr, stdout};
use crate::s3::{csvs, isolated, upload, walk, with_s3};

/// Generated enriched events (the project's generator, fitting the project's funnels) in
/// `files` gzip files under `dir` of the workspace.
fn generate(ws: &Workspace, dir: &str, seed: u64, events: usize, files: usize) -> Vec<std::path::PathBuf> {
    let config = snowfunnel_gen::GenConfig::new(seed, events);
    snowfunnel_gen::write_dataset_streaming(&config, &ws.path(dir), files, true).unwrap();
    walk(&ws.path(dir))
}

fn args<'a>(fixed: &[&'a str], more: &'a [String]) -> Vec<&'a str> {
    fixed.iter().copied().chain(more.iter().map(String::as_str)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// For random data, file counts and shard counts: every shard run writes its state, and
    /// merging them (in any order) gives byte-identical CSVs to one run over everything.
    #[test]
    fn merged_shard_states_give_the_csvs_of_a_single_run(
        seed in 0u64..1_000,
        files in 1usize..10,
        shards in 1u32..6,
        by_day in any::<bool>(),
        reverse in any::<bool>(),
    ) {
        let ws = Workspace::new();
        ws.use_repo_funnels();
        generate(&ws, "in", seed, 3_000, files);
        let report: Vec<String> = if by_day { vec!["--by".into(), "day".into()] } else { Vec::new() };

        let single = ws.run(&args(&["--out", "single", "-q", "in"], &report));
        assert_exit(&single, 0);
        for index in 0..shards {
            let shard = format!("{index}/{shards}");
            let o = ws.run(&["-q", "--shard", &shard, "--state-out", "states/shard-{shard}.snowfunnel", "in"]);
            assert_exit(&o, 0);
            let state = ws.path(&format!("states/shard-{index}.snowfunnel"));
            prop_assert!(state.is_file(), "{}", state.display());
        }
        prop_assert!(!ws.path("out").exists(), "shards write no reports");
        let mut states: Vec<String> =
            (0..shards).map(|i| format!("states/shard-{i}.snowfunnel")).collect();
        if reverse {
            states.reverse();
        }
        let fixed: Vec<&str> = ["merge", "--funnel", "funnels", "--out", "merged", "-q"]
            .into_iter()
            .chain(states.iter().map(String::as_str))
            .collect();
        let merged = ws.snowfunnel(&args(&fixed, &report));
        assert_exit(&merged, 0);
        prop_assert_eq!(csvs(&ws.path("merged")), csvs(&ws.path("single")));
    }
}

#[test]
fn a_shard_with_no_inputs_writes_an_empty_state_that_merges() {
    let ws = Workspace::new();
    ws.write_gz("in/only.gz", &good_events(20));
    // One file, two shards: one of them finds nothing.
    for index in 0..2 {
        let o = ws.run(&["--shard", &format!("{index}/2"), "--state-out", "states/{shard}.snowfunnel", "in"]);
        assert_exit(&o, 0);
        assert!(stdout(&o).contains(&format!("Shard {index}/2")), "{}", stdout(&o));
    }
    let o = ws.snowfunnel(&["merge", "states", "--funnel", "funnels", "--out", "out"]);
    assert_exit(&o, 0);
    let single = ws.run(&["--out", "single", "in"]);
    assert_exit(&single, 0);
    assert_eq!(csvs(&ws.path("out")), csvs(&ws.path("single")));
    assert!(stdout(&o).contains("states merged      2"), "{}", stdout(&o));
}

#[test]
fn state_and_shard_arguments_are_checked_before_anything_is_read() {
    let ws = Workspace::new();
    ws.write_gz("in/a.gz", &good_events(4));
    std::fs::create_dir_all(ws.path("a-dir")).unwrap();
    let cases: [(&[&str], &str); 7] = [
        (&["--state-out", "s3://events", "in"], "expected s3://bucket/key naming a file"),
        (&["--state-out", "a-dir", "in"], "a-dir: is a directory"),
        (&["--shard", "2/2", "--state-out", "s", "in"], "shard index 2 is out of range"),
        (&["--shard", "1", "--state-out", "s", "in"], "expected INDEX/COUNT"),
        (&["--shard", "0/2", "in"], "--state-out"),
        (&["--shard-from-env", "--shard-count", "4", "--state-out", "s", "in"], "JOB_COMPLETION_INDEX"),
        (&["--state-out", "s-{shard}", "in"], "only replaced in sharded runs"),
    ];
    for (args, message) in cases {
        let o = Command::new(env!("CARGO_BIN_EXE_snowfunnel"))
            .current_dir(ws.dir.path())
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
            .args(["run", "--funnel", "funnels"])
            .args(args)
            .output()
            .unwrap();
        assert_exit(&o, 2);
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
    }
    let o = Command::new(env!("CARGO_BIN_EXE_snowfunnel"))
        .current_dir(ws.dir.path())
        .env("JOB_COMPLETION_INDEX", "7")
        .args([
            "run",
            "--funnel",
            "funnels",
            "--shard-from-env",
            "--shard-count",
            "4",
            "--state-out",
            "s",
            "in",
        ])
        .output()
        .unwrap();
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("JOB_COMPLETION_INDEX=7 with --shard-count 4"), "{}", stderr(&o));
    assert!(!ws.path("s").exists() && !ws.path("out").exists());
}

#[test]
fn an_incremental_run_reads_only_new_inputs_and_equals_a_full_run() {
    let ws = Workspace::new();
    ws.use_repo_funnels();
    let files = generate(&ws, "all", 11, 6_000, 6);
    std::fs::create_dir_all(ws.path("in")).unwrap();
    let copy = |file: &Path| {
        std::fs::copy(file, ws.path("in").join(file.file_name().unwrap())).unwrap();
    };
    let full = ws.run(&["--out", "full", "-q", "all"]);
    assert_exit(&full, 0);

    // Day 1: the first half of the files; no state yet, so it starts empty.
    files[..3].iter().for_each(|f| copy(f));
    let day1 = ws.run(&["--out", "day1", "--state", "daily.snowfunnel", "in"]);
    assert_exit(&day1, 0);
    assert!(stdout(&day1).contains("daily.snowfunnel (3 inputs counted)"), "{}", stdout(&day1));
    // Day 2: the rest arrive; only they are read.
    files[3..].iter().for_each(|f| copy(f));
    let day2 = ws.run(&["--out", "day2", "--state", "daily.snowfunnel", "in"]);
    assert_exit(&day2, 0);
    let summary = stdout(&day2);
    assert!(summary.contains("files              3 ("), "{summary}");
    assert!(summary.contains("counted before     3 (in the state"), "{summary}");
    assert!(summary.contains("(6 inputs counted)"), "{summary}");
    assert_eq!(csvs(&ws.path("day2")), csvs(&ws.path("full")), "day 1 + day 2 = a run over both");

    // A rerun over the same inputs reads nothing and leaves the state alone.
    let state = std::fs::read(ws.path("daily.snowfunnel")).unwrap();
    let modified = std::fs::metadata(ws.path("daily.snowfunnel")).unwrap().modified().unwrap();
    let rerun = ws.run(&["--out", "rerun", "--state", "daily.snowfunnel", "in"]);
    assert_exit(&rerun, 0);
    assert!(stdout(&rerun).contains("unchanged: no new input"), "{}", stdout(&rerun));
    assert!(stdout(&rerun).contains("files              0 ("), "{}", stdout(&rerun));
    assert_eq!(std::fs::read(ws.path("daily.snowfunnel")).unwrap(), state);
    assert_eq!(std::fs::metadata(ws.path("daily.snowfunnel")).unwrap().modified().unwrap(), modified);
    assert_eq!(csvs(&ws.path("rerun")), csvs(&ws.path("full")));

    // An input rewritten after it was counted: refused, nothing written, until --rebuild.
    let first = ws.path("in").join(files[0].file_name().unwrap());
    let mut content = std::fs::read(&first).unwrap();
    content.extend_from_slice(&std::fs::read(&files[1]).unwrap());
    std::fs::write(&first, content).unwrap();
    let changed = ws.run(&["--out", "changed", "--state", "daily.snowfunnel", "in"]);
    assert_exit(&changed, 1);
    let err = stderr(&changed);
    assert!(err.contains(&first.file_name().unwrap().to_string_lossy().into_owned()), "{err}");
    assert!(
        err.contains("changed since the state daily.snowfunnel counted it") && err.contains("--rebuild"),
        "{err}"
    );
    assert!(!ws.path("changed").exists());
    assert_eq!(std::fs::read(ws.path("daily.snowfunnel")).unwrap(), state);
    let rebuilt = ws.run(&["--out", "rebuilt", "--state", "daily.snowfunnel", "--rebuild", "in"]);
    assert_exit(&rebuilt, 0);
    let reference = ws.run(&["--out", "reference", "-q", "in"]);
    assert_exit(&reference, 0);
    assert_eq!(csvs(&ws.path("rebuilt")), csvs(&ws.path("reference")));
}

#[test]
fn states_that_must_not_be_used_are_refused_with_the_reason() {
    let ws = Workspace::new();
    ws.write_gz("in/a.gz", &good_events(30));
    std::fs::create_dir_all(ws.path("other")).unwrap();
    ws.write_gz("other/b.gz", &good_events(10));
    assert_exit(&ws.run(&["-q", "--state-out", "a.snowfunnel", "in"]), 0);
    assert_exit(&ws.run(&["-q", "--state-out", "b.snowfunnel", "other"]), 0);

    // The same input in two states would count twice.
    let o = ws.snowfunnel(&["merge", "a.snowfunnel", "a.snowfunnel", "--funnel", "funnels", "--out", "m"]);
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("in/a.gz would be counted twice"), "{}", stderr(&o));
    assert!(!ws.path("m").exists());

    // Other funnels: the state's fingerprints do not match.
    ws.write("funnels/exp_funnel.toml", crate::harness::FUNNEL.replace("click", "clicks").as_bytes());
    let o = ws.snowfunnel(&["merge", "a.snowfunnel", "b.snowfunnel", "--funnel", "funnels", "--out", "m"]);
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("state file a.snowfunnel"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("built for other funnels: \"exp_funnel\" defined differently"),
        "{}",
        stderr(&o)
    );
    let o = ws.run(&["--state", "a.snowfunnel", "in"]);
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("--rebuild counts every input again"), "{}", stderr(&o));
    ws.write("funnels/exp_funnel.toml", crate::harness::FUNNEL.as_bytes());

    // Cut short, corrupt, not a state at all, missing.
    let bytes = std::fs::read(ws.path("a.snowfunnel")).unwrap();
    ws.write("cut.snowfunnel", &bytes[..bytes.len() - 9]);
    let mut flipped = bytes.clone();
    flipped[40] ^= 0x10;
    ws.write("flipped.snowfunnel", &flipped);
    ws.write("text.snowfunnel", b"control,candidate\n");
    let cases = [
        ("cut.snowfunnel", "the state file is truncated"),
        ("flipped.snowfunnel", "the state file is corrupt: checksum"),
        ("text.snowfunnel", "not a snowfunnel state file"),
        ("none.snowfunnel", "state file none.snowfunnel: no such file"),
    ];
    for (file, message) in cases {
        let o = ws.snowfunnel(&["merge", file, "b.snowfunnel", "--funnel", "funnels", "--out", "m"]);
        assert_exit(&o, 1);
        assert!(stderr(&o).contains(message), "{file}: {}", stderr(&o));
        assert!(!ws.path("m").exists(), "{file}");
    }
    // And a good pair merges into the run over both.
    let o = ws.snowfunnel(&["merge", "b.snowfunnel", "a.snowfunnel", "--funnel", "funnels", "--out", "m"]);
    assert_exit(&o, 0);
    assert_exit(&ws.run(&["--out", "both", "-q", "in", "other"]), 0);
    assert_eq!(csvs(&ws.path("m")), csvs(&ws.path("both")));
}

/// `snowfunnel run` as a worker process of shard `index` of an Indexed Job: the index in
/// `JOB_COMPLETION_INDEX`, the data and the state on the S3 server.
fn spawn_worker(ws: &Workspace, server: &TestServer, index: u32, count: u32) -> Child {
    let mut command = isolated(ws);
    command
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("JOB_COMPLETION_INDEX", index.to_string())
        .args(["run", "--funnel", "funnels", "--s3-path-style", "--endpoint-url", server.endpoint()])
        .args(["--threads", "1", "--shard-from-env", "--shard-count", &count.to_string()])
        .args(["--state-out", "s3://events/runs/1/states/shard-{shard}.snowfunnel", "s3://events/enriched/"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command.spawn().unwrap()
}

#[test]
fn worker_processes_over_s3_shards_then_a_merge_equal_a_single_run() {
    let ws = Workspace::new();
    ws.use_repo_funnels();
    generate(&ws, "in", 5, 12_000, 12);
    let server = TestServer::start();
    assert_eq!(upload(&server, &ws.path("in"), "enriched/"), 12);
    let single = ws.run(&["--out", "single", "-q", "in"]);
    assert_exit(&single, 0);

    // Four workers at once, as the pods of an Indexed Job would run.
    let workers: Vec<Child> = (0..4).map(|i| spawn_worker(&ws, &server, i, 4)).collect();
    let mut read = 0;
    for worker in workers {
        let o: Output = worker.wait_with_output().unwrap();
        assert_exit(&o, 0);
        let summary = stdout(&o);
        let files = summary.lines().find(|l| l.trim_start().starts_with("files")).unwrap();
        read += files.split_whitespace().nth(1).unwrap().parse::<u32>().unwrap();
    }
    assert_eq!(read, 12, "every object read by exactly one worker");

    // The merge job: every state under the prefix, reports and the merged state back to S3.
    let o = with_s3(
        &ws,
        &server,
        &["merge", "--funnel", "funnels", "--out", "s3://events/runs/1/reports/"],
        &["--state-out", "s3://events/runs/1/merged.snowfunnel", "s3://events/runs/1/states/"],
        true,
    );
    assert_exit(&o, 0);
    assert!(stdout(&o).contains("states merged      4"), "{}", stdout(&o));
    for (name, csv) in csvs(&ws.path("single")) {
        let object = server.get(&format!("runs/1/reports/{name}")).unwrap_or_else(|| panic!("{name} on S3"));
        assert_eq!(String::from_utf8(object).unwrap(), csv, "{name}");
    }
    // On S3 too the completion marker comes last and names every output, the state last.
    let marker = server.get("runs/1/reports/_SUCCESS").expect("the completion marker on S3");
    let marker: serde_json::Value = serde_json::from_slice(&marker).unwrap();
    let outputs = marker["outputs"].as_array().unwrap();
    // Per funnel (3) its CSV, checks, JSON and page; the run summary, the index, the state.
    assert_eq!(outputs.len(), 15, "{marker}");
    assert_eq!(outputs[14], "s3://events/runs/1/merged.snowfunnel");

    // The merged state seeds a daily incremental run on S3: a new object arrives, only it is read.
    let extra = generate(&ws, "extra", 6, 2_000, 1);
    server.put("enriched/zz-new.gz", &std::fs::read(&extra[0]).unwrap());
    let state = server.get("runs/1/merged.snowfunnel").unwrap();
    server.put("daily/state.snowfunnel", &state);
    let o = with_s3(
        &ws,
        &server,
        &["run", "--funnel", "funnels", "--out", "daily"],
        &["--state", "s3://events/daily/state.snowfunnel", "s3://events/enriched/"],
        true,
    );
    assert_exit(&o, 0);
    assert!(stdout(&o).contains("files              1 ("), "{}", stdout(&o));
    // The objects have the loader's dated names: listing starts after the state's last days.
    assert!(
        stdout(&o).contains("listed             s3://events/enriched/ after enriched/2026-03-"),
        "{}",
        stdout(&o)
    );
    std::fs::copy(&extra[0], ws.path("in/zz-new.gz")).unwrap();
    assert_exit(&ws.run(&["--out", "all", "-q", "in"]), 0);
    assert_eq!(csvs(&ws.path("daily")), csvs(&ws.path("all")));
    assert_ne!(server.get("daily/state.snowfunnel").unwrap(), state, "the state on S3 was updated");
}

#[test]
fn the_bad_row_check_of_a_sharded_run_is_the_merge_s_as_for_a_single_run() {
    let ws = Workspace::new();
    let files = ["in/0.gz", "in/1.gz", "in/2.gz", "in/3.gz"];
    for (i, file) in files.iter().enumerate() {
        let mut lines = good_events(30);
        if i == 0 {
            lines.extend(["not\tan\tevent".to_owned(), "neither".to_owned()]);
        }
        ws.write_gz(file, &lines);
    }
    // 2 bad lines of 182: over 1%, but a shard holding the bad file alone is far over it.
    let single = ws.run(&["--out", "single", "in"]);
    assert_exit(&single, 3);
    for index in 0..4 {
        let o = ws.run(&[
            "-q",
            "--shard",
            &format!("{index}/4"),
            "--state-out",
            "states/{shard}.snowfunnel",
            "in",
        ]);
        assert_exit(&o, 0);
    }
    let merged = ws.snowfunnel(&["merge", "states", "--funnel", "funnels", "--out", "merged"]);
    assert_exit(&merged, 3);
    assert!(stderr(&merged).contains("over --max-bad-ratio 0.01"), "{}", stderr(&merged));
    assert!(!ws.path("merged").exists());
    let args = ["merge", "states", "--funnel", "funnels", "--out", "merged", "--max-bad-ratio", "0.02"];
    assert_exit(&ws.snowfunnel(&args), 0);
    assert_exit(&ws.run(&["--out", "single", "--max-bad-ratio", "0.02", "in"]), 0);
    assert_eq!(csvs(&ws.path("merged")), csvs(&ws.path("single")));
}

#[test]
fn a_merge_missing_a_shard_or_mixing_shard_counts_is_refused() {
    let ws = Workspace::new();
    for i in 0..6 {
        ws.write_gz(&format!("in/{i}.gz"), &good_events(10 + i));
    }
    for (count, dir) in [(4, "four"), (2, "two")] {
        for index in 0..count {
            let state = format!("{dir}/{{shard}}.snowfunnel");
            assert_exit(
                &ws.run(&["-q", "--shard", &format!("{index}/{count}"), "--state-out", &state, "in"]),
                0,
            );
        }
    }
    let merge = |states: &[&str], more: &[&str]| {
        let mut args = vec!["merge", "--funnel", "funnels", "--out", "m"];
        args.extend_from_slice(more);
        args.extend_from_slice(states);
        ws.snowfunnel(&args)
    };

    let o = merge(&["four/0.snowfunnel", "four/1.snowfunnel", "four/3.snowfunnel"], &[]);
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("the states hold shards 3 of 4 (missing: 2)"), "{}", stderr(&o));
    assert!(!ws.path("m").exists());
    let o =
        merge(&["four/0.snowfunnel", "four/1.snowfunnel", "four/3.snowfunnel"], &["--allow-missing-shards"]);
    assert_exit(&o, 0);
    assert!(
        stderr(&o).contains("warning: the reports cover shards 3 of 4 (missing: 2) only"),
        "{}",
        stderr(&o)
    );

    let o = merge(&["four/0.snowfunnel", "two/1.snowfunnel"], &["--allow-missing-shards"]);
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("states of runs of 4 and of 2 shards cannot merge"), "{}", stderr(&o));

    // The same shard twice is caught even when it holds no input: one file in four shards
    // leaves three of them empty.
    std::fs::create_dir_all(ws.path("one")).unwrap();
    ws.write_gz("one/only.gz", &good_events(5));
    let empty: Vec<u32> = (0..4)
        .filter(|index| {
            let shard = format!("{index}/4");
            let o = ws.run(&["--shard", &shard, "--state-out", "one-{shard}.snowfunnel", "one"]);
            assert_exit(&o, 0);
            stdout(&o).contains("files              0 (")
        })
        .collect();
    assert_eq!(empty.len(), 3);
    let state = format!("one-{}.snowfunnel", empty[0]);
    let o = merge(&[&state, &state], &["--allow-missing-shards"]);
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains(&format!("shard {} of 4 would be counted twice", empty[0])),
        "{}",
        stderr(&o)
    );

    // A shard's state does not seed an incremental run: it would stay a partial set of shards
    // for good.
    std::fs::copy(ws.path("four/0.snowfunnel"), ws.path("daily.snowfunnel")).unwrap();
    let o = ws.run(&["--out", "daily", "--state", "daily.snowfunnel", "in"]);
    assert_exit(&o, 1);
    let err = stderr(&o);
    assert!(
        err.contains("the states hold shards 1 of 4 (missing: 1, 2, 3): a shard's state cannot seed"),
        "{err}"
    );
    assert!(!err.contains("--allow-missing-shards"), "not a run flag: {err}");
    assert!(!ws.path("daily").exists());

    // A complete set, in any order, is what a single run gives.
    let o = merge(&["four/3.snowfunnel", "four/1.snowfunnel", "four/0.snowfunnel", "four/2.snowfunnel"], &[]);
    assert_exit(&o, 0);
    assert!(stdout(&o).contains("shards             all 4 of a sharded run"), "{}", stdout(&o));
    assert_exit(&ws.run(&["--out", "single", "-q", "in"]), 0);
    assert_eq!(csvs(&ws.path("m")), csvs(&ws.path("single")));
}

/// The funnel the engine's golden state files were written for.
const GOLDEN_FUNNEL: &str = "name = \"golden\"\nexperiment = \"exp\"\norder = \"sequential\"\n[[steps]]\nname = \"one\"\naction = \"a1\"\n[[steps]]\nname = \"two\"\naction = \"a2\"\n";

/// The engine's golden state file of `version`: the same state in each format version.
fn golden_state(version: u32) -> Vec<u8> {
    let path = format!("../snowfunnel-engine/tests/it/data/state-v{version}.snowfunnel");
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

#[test]
fn states_of_older_versions_are_read_and_saved_in_the_current_one() {
    let ws = Workspace::new();
    std::fs::remove_file(ws.path("funnels/exp_funnel.toml")).unwrap();
    ws.write("funnels/golden.toml", GOLDEN_FUNNEL.as_bytes());
    let current = golden_state(5);
    for version in 1..=5 {
        ws.write(&format!("v{version}.snowfunnel"), &golden_state(version));
        let (out, upgraded) = (format!("out-v{version}"), format!("up-v{version}.snowfunnel"));
        let o = ws.snowfunnel(&[
            "merge",
            "-q",
            "--funnel",
            "funnels",
            "--allow-missing-shards",
            "--max-bad-ratio",
            "1",
            "--out",
            &out,
            "--state-out",
            &upgraded,
            &format!("v{version}.snowfunnel"),
        ]);
        assert_exit(&o, 0);
        let saved = std::fs::read(ws.path(&upgraded)).unwrap();
        assert_eq!(saved[16..20], 5u32.to_le_bytes(), "saved in the current version");
        // The states of versions 2 to 4 (which have the shards of version 5) save as the golden
        // file of version 5, byte for byte.
        if version >= 2 {
            assert!(saved == current, "version {version} upgraded");
        }
    }
    // The reports of every version are the same.
    for version in 1..=4 {
        assert_eq!(ws.read(&format!("out-v{version}/golden.csv")), ws.read("out-v5/golden.csv"));
        assert_eq!(
            ws.read(&format!("out-v{version}/golden.summary.csv")),
            ws.read("out-v5/golden.summary.csv")
        );
    }
    // A daily report whose state is of version 1 (unsharded) goes on from it: only the new input
    // is read, and the state is saved in the current version.
    ws.write_gz("in/day2.gz", &[crate::harness::event("a1", "k9", "control")]);
    let o = ws.run(&["-q", "--max-bad-ratio", "1", "--out", "daily", "--state", "v1.snowfunnel", "in"]);
    assert_exit(&o, 0);
    let saved = std::fs::read(ws.path("v1.snowfunnel")).unwrap();
    assert_eq!(saved[16..20], 5u32.to_le_bytes());
    let csv = ws.read("daily/golden.csv");
    let control_step_1 = csv.lines().find(|l| l.contains(",golden,control,1,")).unwrap();
    assert_eq!(control_step_1.split(',').nth(5), Some("2"), "{csv}");
    let o = ws.run(&["--max-bad-ratio", "1", "--out", "rerun", "--state", "v1.snowfunnel", "in"]);
    assert_exit(&o, 0);
    assert!(stdout(&o).contains("unchanged: no new input"), "{}", stdout(&o));
    assert_eq!(ws.read("rerun/golden.csv"), csv);
}
