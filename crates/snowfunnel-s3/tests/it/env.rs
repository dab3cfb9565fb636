//! The standard environment: `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_S3`, region and
//! credentials from the default chains. Environment variables are global to a process, so
//! each case runs this test binary again as a child process with an environment of its own
//! (cleared, so the developer's own AWS settings play no part); the child runs [`child`].

use std::process::Command;

use snowfunnel_s3::{S3Error, S3Options, S3Url};

use crate::server::{ACCESS_KEY, BUCKET, SECRET_KEY, TestServer};

const SCENARIO: &str = "SNOWFUNNEL_S3_TEST_SCENARIO";
/// The endpoint a child passes as `endpoint_url`, when its scenario uses one.
const OPTION_ENDPOINT: &str = "SNOWFUNNEL_S3_TEST_ENDPOINT";

/// Runs [`child`] in a new process with `vars` as its whole environment (plus the basics).
fn run_child(scenario: &str, vars: &[(&str, &str)]) {
    let scratch = tempfile::tempdir().unwrap();
    let missing = scratch.path().join("missing");
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", "env::child", "--nocapture", "--test-threads", "1"])
        .env_clear()
        .env(SCENARIO, scenario)
        // No profile files, no instance metadata: nothing outside this machine is asked.
        .env("AWS_CONFIG_FILE", &missing)
        .env("AWS_SHARED_CREDENTIALS_FILE", &missing)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("HOME", scratch.path());
    for (name, value) in vars {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "scenario {scenario} failed:\n{stdout}\n{stderr}"
    );
}

fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

#[test]
fn standard_environment_variables_are_honoured() {
    let server = TestServer::start();
    server.put("enriched/a.gz", b"events");
    let creds = [("AWS_ACCESS_KEY_ID", ACCESS_KEY), ("AWS_SECRET_ACCESS_KEY", SECRET_KEY)];
    let closed = closed_port();

    run_child("endpoint", &[creds[0], creds[1], ("AWS_ENDPOINT_URL", server.endpoint())]);
    run_child(
        "endpoint",
        &[
            creds[0],
            creds[1],
            ("AWS_ENDPOINT_URL_S3", server.endpoint()),
            ("AWS_ENDPOINT_URL", &closed),
            ("AWS_REGION", "eu-west-1"),
        ],
    );
    run_child(
        "option_overrides",
        &[
            creds[0],
            creds[1],
            ("AWS_ENDPOINT_URL_S3", &closed),
            ("AWS_ENDPOINT_URL", &closed),
            (OPTION_ENDPOINT, server.endpoint()),
        ],
    );
    run_child("no_credentials", &[("AWS_ENDPOINT_URL", server.endpoint())]);
}

/// One scenario, when run by [`standard_environment_variables_are_honoured`]; otherwise
/// nothing.
#[test]
fn child() {
    let Ok(scenario) = std::env::var(SCENARIO) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let options = S3Options {
        endpoint_url: std::env::var(OPTION_ENDPOINT).ok(),
        force_path_style: true,
        max_attempts: 1,
        ..S3Options::default()
    };
    let connected = runtime.block_on(snowfunnel_s3::connect(options));
    if scenario == "no_credentials" {
        let err = connected.unwrap_err();
        assert!(matches!(err, S3Error::NoCredentials { .. }), "{err:?}");
        assert!(err.to_string().starts_with("no AWS credentials found ("), "{err}");
        assert!(!err.to_string().contains('\n'), "{err}");
        return;
    }
    let client = connected.unwrap();
    let expected_region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".to_owned());
    assert_eq!(client.region(), expected_region);
    let url = S3Url::parse(&format!("s3://{BUCKET}/enriched/")).unwrap();
    let objects = runtime.block_on(client.list(&url)).unwrap();
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0].key, "enriched/a.gz");
}
