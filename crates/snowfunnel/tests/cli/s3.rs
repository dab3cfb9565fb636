//! `snowfunnel run` over `s3://` inputs, against a real S3-protocol server on 127.0.0.1
//! (s3s over s3s-fs, in this test process): the binary finds it through `--endpoint-url` and
//! the standard AWS environment variables, with every other AWS setting of the machine
//! cleared away.

use std::path::Path;
use std::process::{Command, Output};

use snowfunnel_s3_testserver::{ACCESS_KEY, BUCKET, Cut, SECRET_KEY, TestServer};

use crate::harness::{Workspace, assert_exit, event, good_events, gzip, join_lines, stderr, stdout};

/// Runs `snowfunnel run --funnel funnels --out <out> <args>` in `ws` with an environment of
/// only what is given: the server's credentials unless `credentials` is false.
fn run_s3(ws: &Workspace, server: &TestServer, out: &str, args: &[&str], credentials: bool) -> Output {
    with_s3(ws, server, &["run", "--funnel", "funnels", "--out", out], args, credentials)
}

/// The binary in `ws` with an environment of its own: no profile files, no instance metadata,
/// nothing of this machine's AWS settings, so nothing outside this machine is asked.
pub(crate) fn isolated(ws: &Workspace) -> Command {
    let home = ws.path("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_snowfunnel"));
    command
        .current_dir(ws.dir.path())
        .env_clear()
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", home.join("missing"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("missing"))
        .env("AWS_EC2_METADATA_DISABLED", "true");
    command
}

/// Runs `snowfunnel <command> <args>` in `ws`, reaching the server as `run_s3` does.
pub(crate) fn with_s3(
    ws: &Workspace,
    server: &TestServer,
    command_args: &[&str],
    args: &[&str],
    credentials: bool,
) -> Output {
    let mut command = isolated(ws);
    command
        .env("AWS_REGION", "us-east-1")
        .args(command_args)
        .arg("--s3-path-style")
        .args(["--endpoint-url", server.endpoint()]);
    if credentials {
        command.env("AWS_ACCESS_KEY_ID", ACCESS_KEY).env("AWS_SECRET_ACCESS_KEY", SECRET_KEY);
    }
    command.args(args).output().unwrap()
}

/// Runs locally over `args` into `out`.
fn run_local(ws: &Workspace, out: &str, args: &[&str]) -> Output {
    let mut all = vec!["--out", out];
    all.extend_from_slice(args);
    ws.run(&all)
}

/// The CSV files of a directory, by name (not the completion marker, which names its run).
pub(crate) fn csvs(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "csv"))
        .map(|path| {
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&path).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// Stores every file under `dir` on the server, as `prefix` + its path relative to `dir`.
pub(crate) fn upload(server: &TestServer, dir: &Path, prefix: &str) -> usize {
    let mut n = 0;
    for entry in walk(dir) {
        let rel = entry.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
        server.put(&format!("{prefix}{rel}"), &std::fs::read(&entry).unwrap());
        n += 1;
    }
    n
}

pub(crate) fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out.sort();
    out
}

pub(crate) fn assert_no_secrets(o: &Output) {
    for text in [stdout(o), stderr(o)] {
        assert!(!text.contains(SECRET_KEY) && !text.contains(ACCESS_KEY), "a secret leaked: {text}");
    }
}

#[test]
fn an_s3_run_gives_the_csvs_of_a_local_run_of_the_same_files() {
    let ws = Workspace::new();
    ws.use_repo_funnels();
    // Realistic lines from the project's generator: 9 files, every third one left plain.
    let config = snowfunnel_gen::GenConfig::new(7, 8_000);
    snowfunnel_gen::write_dataset_streaming(&config, &ws.path("in"), 9, true).unwrap();
    for (i, file) in walk(&ws.path("in")).into_iter().enumerate() {
        if i % 3 == 0 {
            let plain = snowfunnel_gen_plain(&file);
            std::fs::remove_file(&file).unwrap();
            std::fs::write(file.with_extension("tsv"), plain).unwrap();
        }
    }
    let server = TestServer::start();
    assert_eq!(upload(&server, &ws.path("in"), "enriched/2026/03/"), 9);

    let local = run_local(&ws, "out-local", &["in"]);
    assert_exit(&local, 0);
    let expected = csvs(&ws.path("out-local"));
    assert_eq!(expected.len(), 6, "a funnel CSV and its checks per funnel");
    for (name, csv) in expected.iter().filter(|(name, _)| !name.ends_with(".summary.csv")) {
        let keys: Vec<u64> =
            csv.lines().skip(1).map(|l| l.split(',').nth(5).unwrap().parse().unwrap()).collect();
        assert!(keys.len() >= 4 && keys.iter().all(|&k| k > 0), "{name} counts something:\n{csv}");
    }
    // A file per worker, and readers apart from parsers (more threads than files).
    for threads in ["2", "16"] {
        let out = format!("out-s3-{threads}");
        let s3 = run_s3(&ws, &server, &out, &["--threads", threads, "s3://events/enriched/"], true);
        assert_exit(&s3, 0);
        assert_eq!(csvs(&ws.path(&out)), expected, "{threads} threads");
        let summary = stdout(&s3);
        assert!(summary.contains("files              9 ("), "{summary}");
    }
}

/// The plain text of a gzip file.
fn snowfunnel_gen_plain(file: &Path) -> Vec<u8> {
    use std::io::Read;
    let mut plain = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(file).unwrap()).read_to_end(&mut plain).unwrap();
    plain
}

#[test]
fn more_than_a_thousand_objects_are_all_read() {
    let ws = Workspace::new();
    let server = TestServer::start();
    let lines = good_events(1_050);
    // One key per object (its view, and its click when it has one), gzip and plain alternating.
    let mut objects = 0;
    let mut rest = lines.as_slice();
    while !rest.is_empty() {
        let take = if rest.len() > 1 && rest[1].contains("\tclick\t") { 2 } else { 1 };
        let (object, tail) = rest.split_at(take);
        let data = join_lines(object);
        let (name, body) = if objects % 2 == 0 {
            (format!("{objects:05}.gz"), gzip(&data))
        } else {
            (format!("{objects:05}.tsv"), data)
        };
        server.put(&format!("many/{name}"), &body);
        ws.write(&format!("in/{name}"), &body);
        objects += 1;
        rest = tail;
    }
    assert_eq!(objects, 1_050);

    let s3 = run_s3(&ws, &server, "out-s3", &["s3://events/many/"], true);
    assert_exit(&s3, 0);
    let local = run_local(&ws, "out-local", &["in"]);
    assert_exit(&local, 0);
    assert_eq!(csvs(&ws.path("out-s3")), csvs(&ws.path("out-local")));
    assert!(stdout(&s3).contains("files              1,050 ("), "{}", stdout(&s3));
    assert!(server.faults().list_calls() >= 2, "a listing of 1,050 objects takes more than one page");
}

#[test]
fn include_and_exclude_select_objects_by_key() {
    let ws = Workspace::new();
    let server = TestServer::start();
    server.put("sel/a/1.gz", &gzip(&join_lines(&[event("view", "k1", "control")])));
    server.put("sel/a/2.tsv", &join_lines(&[event("view", "k2", "control")]));
    server.put("sel/b/3.gz", &gzip(&join_lines(&[event("view", "k3", "control")])));
    server.put("sel/a/skip-4.gz", &gzip(&join_lines(&[event("view", "k4", "control")])));

    let o = run_s3(
        &ws,
        &server,
        "out",
        &["--include", "*.gz", "--exclude", "**/skip-*", "s3://events/sel/"],
        true,
    );
    assert_exit(&o, 0);
    let csv = ws.read("out/exp_funnel.csv");
    // k1 and k3 only.
    assert!(csv.contains("exp,exp_funnel,control,1,Viewed,2,"), "{csv}");
    assert!(stdout(&o).contains("not selected       2 by --include/--exclude"), "{}", stdout(&o));

    let none = run_s3(&ws, &server, "out-none", &["--include", "*.parquet", "s3://events/sel/"], true);
    assert_exit(&none, 1);
    assert!(
        stderr(&none).contains("no inputs left to read in s3://events/sel/: 4 not selected"),
        "{}",
        stderr(&none)
    );
    let bad = run_s3(&ws, &server, "out-bad", &["--include", "a/[", "s3://events/sel/"], true);
    assert_exit(&bad, 2);
    assert!(stderr(&bad).contains("bad glob \"a/[\""), "{}", stderr(&bad));
}

#[test]
fn objects_dated_outside_the_window_are_pruned_unless_asked_not_to() {
    let ws = Workspace::new();
    ws.write(
        "funnels/exp_funnel.toml",
        crate::harness::FUNNEL
            .replace(
                "experiment = \"exp\"",
                "experiment = \"exp\"\nstart = \"2026-03-01\"\nend = \"2026-03-02\"",
            )
            .as_bytes(),
    );
    let server = TestServer::start();
    // Every object holds an in-window view of its own key, so each one read shows in the count.
    let keys = [
        ("dated/2026/02/27/a.gz", false),
        ("dated/2026/02/28/b.gz", true),
        ("dated/date=2026-03-01/c.gz", true),
        ("dated/2026-03-02-013000-d1e2f3.gz", true),
        ("dated/2026/03/03/e.gz", false),
        ("dated/2026/04/f.gz", false),
        ("dated/undated-g.gz", true),
    ];
    for (i, (key, _)) in keys.iter().enumerate() {
        server.put(key, &gzip(&join_lines(&[event("view", &format!("k{i}"), "control")])));
    }
    let kept = keys.iter().filter(|(_, kept)| *kept).count();

    let pruned = run_s3(&ws, &server, "out", &["s3://events/dated/"], true);
    assert_exit(&pruned, 0);
    assert!(ws.read("out/exp_funnel.csv").contains(&format!("exp,exp_funnel,control,1,Viewed,{kept},")));
    assert!(stdout(&pruned).contains("pruned by date     3 "), "{}", stdout(&pruned));
    let gets: Vec<String> = server.faults().gets().into_iter().map(|g| g.key).collect();
    assert_eq!(gets.len(), kept, "pruned objects are never downloaded: {gets:?}");

    let all = run_s3(&ws, &server, "out-all", &["--no-prune", "s3://events/dated/"], true);
    assert_exit(&all, 0);
    assert!(
        ws.read("out-all/exp_funnel.csv")
            .contains(&format!("exp,exp_funnel,control,1,Viewed,{},", keys.len()))
    );
    assert!(!stdout(&all).contains("pruned"), "{}", stdout(&all));
}

#[test]
fn a_body_cut_mid_stream_is_resumed_and_counted_once() {
    let ws = Workspace::new();
    let server = TestServer::start();
    let lines = good_events(3_000);
    let body = join_lines(&lines);
    assert!(body.len() > 40_000);
    server.put("cut/big.tsv", &body);
    ws.write("in/big.tsv", &body);
    server.faults().cut("cut/big.tsv", Cut { after: 20_000, times: Some(2), replace_with: None });

    let s3 = run_s3(&ws, &server, "out-s3", &["s3://events/cut/"], true);
    assert_exit(&s3, 0);
    let local = run_local(&ws, "out-local", &["in"]);
    assert_exit(&local, 0);
    assert_eq!(csvs(&ws.path("out-s3")), csvs(&ws.path("out-local")));
    // Each request after a cut asks for the rest, from where the bytes received so far end (from
    // the start when the cut came before the client got any byte; the server cuts after 20,000).
    let ranges: Vec<u64> = server.faults().gets().iter().map(|g| g.range_start.unwrap_or(0)).collect();
    assert_eq!(ranges.len(), 3, "two cuts, two resumes: {ranges:?}");
    assert!(ranges[0] == 0 && ranges[1] <= ranges[2] && ranges[2] <= 40_000, "{ranges:?}");
}

#[test]
fn s3_failures_are_one_clear_line_and_no_report() {
    let ws = Workspace::new();
    let server = TestServer::start();
    server.put("ok/a.gz", &gzip(&join_lines(&good_events(10))));
    let cases: [(&[&str], bool, &str); 4] = [
        (&["s3://no-such-bucket/x/"], true, "s3://no-such-bucket: no such bucket"),
        (&["s3://events/empty/"], true, "no objects under s3://events/empty/"),
        (&["s3://events/ok/"], false, "no credentials"),
        (&["in", "s3://events/ok/", "s3://no-such-bucket/"], true, "s3://no-such-bucket: no such bucket"),
    ];
    ws.write_gz("in/local.gz", &good_events(3));
    for (args, credentials, expected) in cases {
        let o = run_s3(&ws, &server, "out", args, credentials);
        assert_exit(&o, 1);
        let err = stderr(&o);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(!ws.path("out").exists(), "{args:?}: no report");
        assert_no_secrets(&o);
    }

    // A wrong secret: access denied, and neither the key nor the wrong secret shows.
    let o = isolated(&ws)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", "wrong/Secret+Key/for/this/test/only")
        .env("AWS_ENDPOINT_URL", server.endpoint())
        .args(["run", "--funnel", "funnels", "--s3-path-style", &format!("s3://{BUCKET}/ok/")])
        .output()
        .unwrap();
    assert_exit(&o, 1);
    let err = stderr(&o);
    assert!(err.contains(&format!("s3://{BUCKET}/ok/: access denied")), "{err}");
    assert!(!err.contains("wrong/Secret"), "{err}");
    assert_no_secrets(&o);
    assert!(!ws.path("out").exists());
}

#[test]
fn validate_reads_s3_as_run_does() {
    let ws = Workspace::new();
    let config = snowfunnel_gen::GenConfig::new(5, 3_000);
    snowfunnel_gen::write_dataset_streaming(&config, &ws.path("in"), 3, true).unwrap();
    let server = TestServer::start();
    assert_eq!(upload(&server, &ws.path("in"), "enriched/"), 3);
    assert_exit(&ws.validate(&["--out", "out-local", "in"]), 0);
    let expected = csvs(&ws.path("out-local"));
    assert_eq!(expected.len(), 4);
    let o = with_s3(
        &ws,
        &server,
        &["validate", "--out", "out-s3"],
        &["--include", "*.gz", "s3://events/enriched/"],
        true,
    );
    assert_exit(&o, 0);
    assert_eq!(csvs(&ws.path("out-s3")), expected);
    assert!(stdout(&o).contains("files              3 ("), "{}", stdout(&o));
}
