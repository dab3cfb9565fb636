//! All or nothing: a run that fails (a write error, the bad-row check) or is killed (SIGKILL,
//! SIGTERM, SIGINT) leaves every earlier output as it was, removes its temporary files (or a
//! later run does), and an unwritable output fails before any input is read.
//!
//! Runs are caught mid-read deterministically: their input is a named pipe, which the test
//! opens for writing only once the run has opened it for reading, and fills only in part.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{Workspace, assert_exit, event, good_events, gzip, join_lines, stderr};

/// Every file under `dir` (recursively) with its content, by path relative to `dir`, leaving
/// out the input directory and named pipes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let kind = std::fs::symlink_metadata(&path).unwrap().file_type();
            if kind.is_dir() && path.file_name().unwrap() != "in" {
                stack.push(path);
            } else if kind.is_file() {
                files.push((path.strip_prefix(dir).unwrap().to_owned(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// The temporary files of snowfunnel anywhere under `dir`.
fn temporary_files(dir: &Path) -> Vec<PathBuf> {
    snapshot(dir)
        .into_iter()
        .map(|(path, _)| path)
        .filter(|path| path.file_name().unwrap().to_string_lossy().starts_with(".snowfunnel-"))
        .collect()
}

/// The outputs every run here writes besides `out/`: the state and the bad-row log.
const OUTPUTS: [&str; 4] = ["--state-out", "state/funnel.snowfunnel", "--bad-rows", "bad.csv"];

/// `snowfunnel run` over `inputs` with every output, failing past `max_bad_ratio` bad rows.
fn run_with_outputs(ws: &Workspace, max_bad_ratio: &str, inputs: &[&str]) -> Output {
    ws.run(&[&OUTPUTS[..], &["--max-bad-ratio", max_bad_ratio], inputs].concat())
}

/// A first run's outputs: reports in `out/`, the state, the bad-row log.
fn first_run(ws: &Workspace) {
    let mut lines = good_events(40);
    lines.push("not an enriched event".to_owned());
    ws.write_gz("in/day1.gz", &lines);
    let o = run_with_outputs(ws, "0.5", &["in/day1.gz"]);
    assert_exit(&o, 0);
    for file in [
        "out/_SUCCESS",
        "out/exp_funnel.csv",
        "out/exp_funnel.summary.csv",
        "state/funnel.snowfunnel",
        "bad.csv",
    ] {
        assert!(ws.path(file).exists(), "{file}");
    }
}

/// A second day of input: more keys, other counts, one more bad row.
fn second_day(ws: &Workspace) {
    let mut lines: Vec<String> =
        (0..400).map(|i| event("view", &format!("day2-key-{i:04}"), "candidate")).collect();
    lines.push("another bad line".to_owned());
    ws.write_gz("in/day2.gz", &lines);
}

/// Makes a named pipe at `rel`.
fn fifo(ws: &Workspace, rel: &str) -> PathBuf {
    let path = ws.path(rel);
    let status = Command::new("mkfifo").arg(&path).status().unwrap();
    assert!(status.success(), "mkfifo");
    path
}

/// Starts `snowfunnel <args>` in the workspace.
fn spawn(ws: &Workspace, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_snowfunnel"))
        .current_dir(ws.dir.path())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for `child` to open the pipe at `path` for reading (it is then reading its inputs),
/// and writes `data` into it, keeping it open so that the run waits for more. Fails if the
/// child exits first.
fn feed_in_part(child: &mut Child, path: &Path, data: &[u8]) -> std::fs::File {
    let started = Instant::now();
    loop {
        // Without a reader, a non-blocking open for writing fails (ENXIO): try again.
        match std::fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(path) {
            Ok(mut pipe) => {
                pipe.write_all(data).unwrap();
                return pipe;
            }
            Err(_) => {
                if let Some(status) = child.try_wait().unwrap() {
                    panic!("the run ended before reading its input: {status}");
                }
                assert!(started.elapsed() < Duration::from_secs(60), "the run never opened its input");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// Waits for `child` to end (a guard against a hang, not a measure of speed).
fn wait(mut child: Child) -> Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("the run did not stop");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill").args([&format!("-{name}"), &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

#[test]
fn a_write_error_leaves_every_earlier_output_as_it_was() {
    let ws = Workspace::new();
    first_run(&ws);
    second_day(&ws);
    let before = snapshot(ws.dir.path());
    // Files of more than 8 KiB cannot be written (EFBIG: the file-size limit, the signal it
    // raises ignored): the new state (400 more keys) is over it, the reports are not.
    let script = r#"trap "" XFSZ; ulimit -f 16; exec "$@""#;
    let o = Command::new("sh")
        .current_dir(ws.dir.path())
        .args([
            "-c",
            script,
            "sh",
            env!("CARGO_BIN_EXE_snowfunnel"),
            "run",
            "--funnel",
            "funnels",
            "--out",
            "out",
        ])
        .args(OUTPUTS)
        .args(["--max-bad-ratio", "0.5"])
        .args(["in/day1.gz", "in/day2.gz"])
        .output()
        .unwrap();
    assert_exit(&o, 1);
    let err = stderr(&o);
    assert!(err.contains("writing state file state/funnel.snowfunnel"), "{err}");
    assert!(err.contains("File too large"), "{err}");
    assert_eq!(snapshot(ws.dir.path()), before, "every earlier output as it was");
    assert!(temporary_files(ws.dir.path()).is_empty());

    // Without the limit the same run commits everything, the marker last.
    let o = run_with_outputs(&ws, "0.5", &["in/day1.gz", "in/day2.gz"]);
    assert_exit(&o, 0);
    let marker: serde_json::Value = serde_json::from_str(&ws.read("out/_SUCCESS")).unwrap();
    assert_eq!(marker["command"], "run");
    let outputs: Vec<&str> =
        marker["outputs"].as_array().unwrap().iter().map(|o| o.as_str().unwrap()).collect();
    assert_eq!(
        outputs,
        [
            "out/exp_funnel.csv",
            "out/exp_funnel.summary.csv",
            "out/exp_funnel.json",
            "out/_run.json",
            "out/exp_funnel.html",
            "out/_index.html",
            "bad.csv",
            "state/funnel.snowfunnel"
        ]
    );
    assert!(ws.read("bad.csv").contains("another bad line"));
}

#[test]
fn a_killed_run_leaves_every_earlier_output_as_it_was() {
    let ws = Workspace::new();
    first_run(&ws);
    second_day(&ws);
    let before = snapshot(ws.dir.path());
    let pipe = fifo(&ws, "in/live.gz");
    let args = ["run", "--funnel", "funnels", "--out", "out", "--state-out", "state/funnel.snowfunnel"];
    let mut child = spawn(
        &ws,
        &[&args[..], &["--bad-rows", "bad.csv", "in/day1.gz", "in/day2.gz", "in/live.gz"]].concat(),
    );
    let data = gzip(&join_lines(&good_events(500)));
    let writer = feed_in_part(&mut child, &pipe, &data[..data.len() / 2]);
    child.kill().unwrap();
    let o = wait(child);
    drop(writer);
    assert_eq!(o.status.code(), None, "killed by SIGKILL");
    assert_eq!(snapshot(ws.dir.path()), before, "every earlier output as it was");
}

#[test]
fn sigterm_and_sigint_stop_the_run_and_remove_its_temporary_files() {
    for (name, code) in [("TERM", 143), ("INT", 130)] {
        let ws = Workspace::new();
        ws.write_gz("in/day1.gz", &good_events(20));
        assert_exit(&ws.snowfunnel(&["events", "-e", "exp", "--out", "out/events.csv", "in/day1.gz"]), 0);
        assert!(ws.path("out/events.csv.success").exists());
        let before = snapshot(ws.dir.path());
        let pipe = fifo(&ws, "in/live.gz");
        // The extract's file is created (as a temporary file) before the inputs are read.
        let mut child =
            spawn(&ws, &["events", "-e", "exp", "--out", "out/events.csv", "in/day1.gz", "in/live.gz"]);
        let data = gzip(&join_lines(&good_events(500)));
        let writer = feed_in_part(&mut child, &pipe, &data[..data.len() / 2]);
        assert_eq!(temporary_files(&ws.path("out")).len(), 1, "the extract, being written");
        signal(&child, name);
        let o = wait(child);
        drop(writer);
        assert_exit(&o, code);
        let err = stderr(&o);
        assert!(err.contains(&format!("interrupted by SIG{name} before committing any output")), "{err}");
        assert!(err.contains("(1 temporary files removed)"), "{err}");
        assert_eq!(snapshot(ws.dir.path()), before, "SIG{name}: the earlier extract as it was, nothing left");
    }
}

#[test]
fn temporary_files_of_killed_runs_are_removed_by_the_next_run() {
    let ws = Workspace::new();
    ws.write_gz("in/day1.gz", &good_events(20));
    let pipe = fifo(&ws, "in/live.gz");
    let mut child =
        spawn(&ws, &["events", "-e", "exp", "--out", "out/events.csv", "in/day1.gz", "in/live.gz"]);
    let writer = feed_in_part(&mut child, &pipe, &gzip(b"")[..4]);
    child.kill().unwrap();
    wait(child);
    drop(writer);
    let left = temporary_files(&ws.path("out"));
    assert_eq!(left.len(), 1, "SIGKILL leaves the extract's temporary file");
    // Another version's name that says nothing of its process, recent: left alone.
    ws.write("out/.snowfunnel-Ab3dEf.tmp", b"x");

    let o = ws.snowfunnel(&["events", "-e", "exp", "--out", "out/events.csv", "in/day1.gz"]);
    assert_exit(&o, 0);
    let err = stderr(&o);
    assert!(err.contains("a temporary file left by an earlier run that was killed"), "{err}");
    assert_eq!(temporary_files(&ws.path("out")), [PathBuf::from(".snowfunnel-Ab3dEf.tmp")]);
}

#[test]
fn an_output_that_cannot_be_written_fails_before_any_input_is_read() {
    let ws = Workspace::new();
    // A pipe nobody writes to: a run that read its inputs would wait forever.
    fifo(&ws, "in/never.gz");
    ws.write("a-file", b"x");
    let long = "f".repeat(300);
    std::fs::create_dir_all(ws.path("funnels-long")).unwrap();
    ws.write("funnels-long/long.toml", format!("name = \"{long}\"\n{}", crate::harness::FUNNEL).as_bytes());
    let cases: [(&[&str], &str); 5] = [
        (&["run", "--funnel", "funnels", "--out", "a-file/out"], "a-file is not a directory"),
        (
            &["run", "--funnel", "funnels-long", "--out", "out"],
            "bytes long, over the 255 bytes file systems take",
        ),
        (&["run", "--funnel", "funnels", "--state-out", "a-file/s.snowfunnel"], "a-file is not a directory"),
        (&["validate", "--bad-rows", "a-file/bad.csv"], "a-file is not a directory"),
        (&["events", "-e", "exp", "--out", "a-file/x.csv"], "a-file is not a directory"),
    ];
    for (args, expected) in cases {
        let child = spawn(&ws, &[args, &["in/never.gz"]].concat());
        let o = wait(child);
        assert_exit(&o, 1);
        assert!(stderr(&o).contains(expected), "{args:?}: {}", stderr(&o));
        assert!(!ws.path("out").exists(), "{args:?}: nothing created");
    }
}

#[test]
fn a_failed_bad_row_check_commits_the_bad_row_log_alone() {
    let ws = Workspace::new();
    first_run(&ws);
    let before = snapshot(ws.dir.path());
    ws.write_gz("in/day2.gz", &["bad one".to_owned(), "bad two".to_owned()]);
    let o = run_with_outputs(&ws, "0.01", &["in/day1.gz", "in/day2.gz"]);
    assert_exit(&o, 3);
    let after = snapshot(ws.dir.path());
    let changed: Vec<&PathBuf> =
        after.iter().filter(|file| !before.contains(file)).map(|(path, _)| path).collect();
    assert_eq!(changed, [&PathBuf::from("bad.csv")], "only the bad-row log is new");
    assert!(ws.read("bad.csv").contains("bad two"));
}
