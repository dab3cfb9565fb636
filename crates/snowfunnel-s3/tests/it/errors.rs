//! Failures: one line naming the bucket or object and the cause, quickly, without secrets.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use snowfunnel_s3::{S3Error, S3Object, S3Options};

use crate::server::{ACCESS_KEY, SECRET_KEY, ServerExt, TestServer, assert_no_secrets};

pub(crate) const WRONG_SECRET: &str = "wr0ng/Secret+Key/q3Jd8Hs5Fa1Ke6Np";

fn check(err: &S3Error, expected_start: &str) {
    let message = err.to_string();
    assert!(message.starts_with(expected_start), "{message}");
    assert!(!message.contains('\n'), "{message}");
    assert_no_secrets(err, &message);
}

#[test]
fn missing_bucket() {
    let server = TestServer::start();
    let client = server.client();
    let err = server.list(&client, "s3://no-such-bucket/enriched/").unwrap_err();
    assert!(matches!(err, S3Error::NoSuchBucket { .. }), "{err:?}");
    check(&err, "s3://no-such-bucket: no such bucket");
}

#[test]
fn missing_object_when_reading() {
    let server = TestServer::start();
    server.put("here.gz", b"x");
    let client = server.client();
    let mut object = server.object(&client, "here.gz");
    object.key = "gone.gz".to_owned();
    let (_, err) = server.read(&client, &object).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.to_string(), "s3://events/gone.gz: no such object");
}

#[test]
fn wrong_credentials_are_access_denied() {
    let server = TestServer::start();
    server.put("enriched/a.gz", b"x");

    let wrong_secret = server.connect(server.options(), ACCESS_KEY, WRONG_SECRET).unwrap();
    let err = server.list(&wrong_secret, "s3://events/enriched/").unwrap_err();
    assert!(matches!(err, S3Error::AccessDenied { .. }), "{err:?}");
    check(&err, "s3://events/enriched/: access denied (SignatureDoesNotMatch");

    let wrong_key = server.connect(server.options(), "NOSUCHKEY", SECRET_KEY).unwrap();
    let err = server.list(&wrong_key, "s3://events/enriched/").unwrap_err();
    // S3 says InvalidAccessKeyId; s3s says NotSignedUp (with HTTP 403, which is enough).
    check(&err, "s3://events/enriched/: access denied (");

    // Reading with wrong credentials: the io error names the object.
    let object = S3Object {
        bucket: "events".to_owned(),
        key: "enriched/a.gz".to_owned(),
        size: 1,
        etag: None,
        last_modified: None,
    };
    let (_, err) = server.read(&wrong_secret, &object).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    let message = err.to_string();
    assert!(message.starts_with("s3://events/enriched/a.gz: access denied ("), "{message}");
    assert_no_secrets(&err, &message);
}

#[test]
fn unreachable_endpoint_fails_quickly() {
    let server = TestServer::start();
    // A port nobody listens on: bound, then closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let options = S3Options { endpoint_url: Some(endpoint.clone()), max_attempts: 2, ..server.options() };
    let client = server.connect(options, ACCESS_KEY, SECRET_KEY).unwrap();

    let started = Instant::now();
    let err = server.list(&client, "s3://events/enriched/").unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert!(matches!(err, S3Error::Unreachable { .. }), "{err:?}");
    check(&err, &format!("s3://events/enriched/: cannot reach {endpoint} ("));
    assert!(err.to_string().contains("onnection refused"), "{err}");

    let object = S3Object {
        bucket: "events".to_owned(),
        key: "a.gz".to_owned(),
        size: 1,
        etag: None,
        last_modified: None,
    };
    let (_, err) = server.read(&client, &object).unwrap_err();
    assert!(err.to_string().starts_with("s3://events/a.gz: cannot reach "), "{err}");
}

#[test]
fn no_error_shows_a_secret() {
    // Every error the other tests provoke passes `assert_no_secrets`; this one also covers
    // the Debug output of the client, which holds the credentials.
    let server = TestServer::start();
    let client = server.client();
    let debug = format!("{client:?}");
    assert!(!debug.contains(SECRET_KEY) && !debug.contains(ACCESS_KEY), "{debug}");
}

#[test]
fn an_invalid_endpoint_url_is_named() {
    let server = TestServer::start();
    let options = S3Options { endpoint_url: Some("localhost:9000".to_owned()), ..server.options() };
    let client = server.connect(options, ACCESS_KEY, SECRET_KEY).unwrap();
    let err = server.list(&client, "s3://events/enriched/").unwrap_err();
    check(&err, "s3://events/enriched/: cannot send the S3 request (");
    assert!(err.to_string().contains("`localhost:9000`"), "{err}");
}
