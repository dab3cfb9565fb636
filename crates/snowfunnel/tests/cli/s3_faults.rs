//! `snowfunnel run` against an S3 server that misbehaves (the test server's injected faults,
//! over real HTTP on 127.0.0.1): every fault class the SDK retries or the reader resumes leaves
//! the CSVs and the state of a fault-free run; a fault that outlasts the retries, or an object
//! overwritten during the run, fails the run with one line naming the object, and no report.

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use snowfunnel_s3_testserver::{Fault, Op, TestServer, When};

use crate::harness::{Workspace, assert_exit, stderr, stdout};
use crate::s3::{assert_no_secrets, csvs, upload, walk, with_s3};

/// Objects under `enriched/`: generated events in 6 gzip files of about 280 KB.
const OBJECTS: usize = 6;

/// A fault rule of the test server: the kind of request, its key if only one, which requests.
type Rule = (Op, Option<String>, When, Fault);

/// A workspace with the project's funnels and the generated files under `in/`, and the
/// reports of a local run over them in `expected/`.
fn dataset() -> (Workspace, Vec<PathBuf>) {
    let ws = Workspace::new();
    ws.use_repo_funnels();
    let config = snowfunnel_gen::GenConfig::new(17, 5_000);
    snowfunnel_gen::write_dataset_streaming(&config, &ws.path("in"), OBJECTS, true).unwrap();
    let files = walk(&ws.path("in"));
    assert!(
        files.iter().all(|f| std::fs::metadata(f).unwrap().len() > 150_000),
        "objects worth cutting twice"
    );
    assert_exit(&ws.run(&["--out", "expected", "-q", "in"]), 0);
    (ws, files)
}

/// A server holding the dataset under `enriched/`.
fn server_with(ws: &Workspace) -> TestServer {
    let server = TestServer::start();
    assert_eq!(upload(&server, &ws.path("in"), "enriched/"), OBJECTS);
    server
}

/// `snowfunnel run` over `s3://events/enriched/` into `out`, with its state on S3.
fn run(ws: &Workspace, server: &TestServer, out: &str) -> Output {
    let state = format!("s3://events/states/{out}.snowfunnel");
    with_s3(
        ws,
        server,
        &["run", "--funnel", "funnels", "--out", out],
        &["--state", &state, "s3://events/enriched/"],
        true,
    )
}

#[test]
fn every_retried_or_resumed_fault_leaves_the_csvs_of_a_fault_free_run() {
    let (ws, files) = dataset();
    let expected = csvs(&ws.path("expected"));
    let keys: Vec<String> =
        files.iter().map(|f| format!("enriched/{}", f.file_name().unwrap().to_string_lossy())).collect();
    // An error answer to the first listing page, the first HEAD and PUT of the state, and every
    // third GetObject (each object fails once at most).
    let error = |fault: Fault| -> Vec<Rule> {
        vec![
            (Op::ListObjectsV2, None, When::First(1), fault.clone()),
            (Op::GetObject, None, When::Every(3), fault.clone()),
            (Op::HeadObject, None, When::First(1), fault.clone()),
            (Op::PutObject, None, When::First(1), fault),
        ]
    };
    // The first two requests of every other object, so that each is resumed twice.
    let body = |fault: Fault| -> Vec<Rule> {
        keys.iter()
            .step_by(2)
            .map(|key| (Op::GetObject, Some(key.clone()), When::First(2), fault.clone()))
            .collect()
    };
    let scenarios: Vec<(&str, Vec<Rule>)> = vec![
        ("internal-error", error(Fault::InternalError)),
        ("service-unavailable", error(Fault::ServiceUnavailable)),
        ("slow-down", error(Fault::SlowDown)),
        ("reset", error(Fault::Reset)),
        ("reset-mid-body", body(Fault::ResetMidBody { after: 50_000 })),
        ("truncated", body(Fault::Truncate { after: 70_000 })),
        (
            "slow",
            vec![
                (Op::ListObjectsV2, None, When::Always, Fault::Delay(Duration::from_millis(300))),
                (Op::HeadObject, None, When::Always, Fault::Delay(Duration::from_millis(300))),
                (Op::GetObject, None, When::Every(2), Fault::Delay(Duration::from_millis(300))),
                (Op::GetObject, None, When::Always, Fault::Throttle { bytes_per_second: 4_000_000 }),
            ],
        ),
    ];
    // At once: most of the time goes to the SDK's backoff.
    std::thread::scope(|scope| {
        for (name, rules) in &scenarios {
            let (ws, expected) = (&ws, &expected);
            scope.spawn(move || {
                let server = server_with(ws);
                for (op, key, when, fault) in rules {
                    server.faults().inject(*op, key.as_deref(), *when, fault.clone());
                }
                let o = run(ws, &server, name);
                assert_exit(&o, 0);
                assert_eq!(csvs(&ws.path(name)), *expected, "{name}");
                assert!(
                    stdout(&o).contains(&format!("files              {OBJECTS} (")),
                    "{name}: {}",
                    stdout(&o)
                );
                assert!(server.faults().injected() >= rules.len(), "{name}: the faults struck");
                assert!(server.get(&format!("states/{name}.snowfunnel")).is_some(), "{name}: state written");
            });
        }
    });
}

#[test]
fn a_fault_that_outlasts_the_retries_fails_the_run_naming_the_object() {
    let (ws, files) = dataset();
    let third = format!("enriched/{}", files[2].file_name().unwrap().to_string_lossy());
    let state = "s3://events/states/fail.snowfunnel";
    let scenarios: Vec<(&str, Op, Option<&str>, Fault, String)> = vec![
        (
            "get",
            Op::GetObject,
            Some(&third),
            Fault::InternalError,
            format!("s3://events/{third}: S3 request failed (InternalError: injected fault; 3 attempts)"),
        ),
        (
            "list",
            Op::ListObjectsV2,
            None,
            Fault::SlowDown,
            "s3://events/enriched/: S3 request failed (SlowDown: injected fault; 3 attempts)".to_owned(),
        ),
        (
            "body",
            Op::GetObject,
            Some(&third),
            Fault::ResetMidBody { after: 10_000 },
            // Usually "reading the body failed after 3 attempts"; on a loaded machine the reset
            // can reach the client before it read the answer's head, which the kernel then
            // drops: "cannot reach …; 3 attempts". Either way the object is named.
            format!("s3://events/{third}: "),
        ),
        (
            "head",
            Op::HeadObject,
            None,
            Fault::ServiceUnavailable,
            format!("{state}: S3 request failed (HTTP status 503; 3 attempts)"),
        ),
        (
            "put",
            Op::PutObject,
            None,
            Fault::SlowDown,
            // Staged beside it under a temporary key, which the error names after the state.
            "S3 request failed (SlowDown: injected fault; 3 attempts)".to_owned(),
        ),
    ];
    std::thread::scope(|scope| {
        for (name, op, key, fault, message) in &scenarios {
            let ws = &ws;
            scope.spawn(move || {
                let server = server_with(ws);
                server.faults().inject(*op, *key, When::Always, fault.clone());
                let o = with_s3(
                    ws,
                    &server,
                    &["run", "--funnel", "funnels", "--out", name],
                    &["--state", state, "s3://events/enriched/"],
                    true,
                );
                assert_exit(&o, 1);
                let err = stderr(&o);
                assert!(err.contains(message.as_str()), "{name}: {err}");
                assert!(err.contains("3 attempts"), "{name}: {err}");
                if *name == "put" {
                    assert!(err.contains("writing state file s3://events/states/fail.snowfunnel: "), "{err}");
                }
                assert_eq!(err.trim_end().lines().count(), 1, "{name}: {err}");
                assert_no_secrets(&o);
                let reports = std::fs::read_dir(ws.path(name)).map_or(0, Iterator::count);
                assert_eq!(reports, 0, "{name}: no report");
                assert!(server.get("states/fail.snowfunnel").is_none(), "{name}: no state");
            });
        }
    });
}

#[test]
fn an_object_overwritten_during_the_run_is_an_error_never_a_mix() {
    let (ws, files) = dataset();
    let third = format!("enriched/{}", files[2].file_name().unwrap().to_string_lossy());
    let other = std::fs::read(&files[0]).unwrap();
    // Between the listing and the first GetObject; between a body cut mid-stream and its resume.
    let scenarios: Vec<(&str, Vec<(When, Fault)>)> = vec![
        ("after-listing", vec![(When::Nth(1), Fault::Overwrite(other.clone()))]),
        (
            "mid-read",
            vec![
                (When::Nth(1), Fault::ResetMidBody { after: 20_000 }),
                (When::Nth(2), Fault::Overwrite(other)),
            ],
        ),
    ];
    for (name, rules) in scenarios {
        let server = server_with(&ws);
        for (when, fault) in rules {
            server.faults().inject(Op::GetObject, Some(&third), when, fault);
        }
        let o = run(&ws, &server, name);
        assert_exit(&o, 1);
        let err = stderr(&o);
        assert!(
            err.contains(&format!("s3://events/{third}: the object changed while it was being read (")),
            "{name}: {err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{name}: {err}");
        assert_eq!(std::fs::read_dir(ws.path(name)).map_or(0, Iterator::count), 0, "{name}: no report");
        assert!(server.get(&format!("states/{name}.snowfunnel")).is_none(), "{name}: no state");
    }
}
