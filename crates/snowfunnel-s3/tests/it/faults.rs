//! Server faults of every class, injected by the test server over real HTTP: error answers
//! (500, 503, SlowDown), resets, slow and throttled answers, bodies cut or reset mid-stream,
//! objects overwritten during a read. Retried or resumed, they change nothing; past the retry
//! budget, they are one clear error naming the object; a changed object is an error, never a mix.

use std::io::ErrorKind;
use std::time::Duration;

use snowfunnel_s3::S3Error;
use snowfunnel_s3_testserver::{Fault, Op, When};

use crate::server::{BUCKET, ServerExt, TestServer, assert_no_secrets, pseudo_random};

/// Three objects under `p/`, their contents in key order.
fn three_objects(server: &TestServer) -> Vec<Vec<u8>> {
    let contents: Vec<Vec<u8>> = (0..3).map(|i| pseudo_random(150_000 + i * 1_000, 40 + i as u64)).collect();
    for (i, content) in contents.iter().enumerate() {
        server.put(&format!("p/{i}.gz"), content);
    }
    contents
}

/// Lists `p/`, reads every object, looks one up and writes one, checking every answer.
fn list_read_head_put(server: &TestServer) {
    let contents = three_objects(server);
    let client = server.client();
    let objects = server.list(&client, "s3://events/p/").unwrap();
    assert_eq!(objects.len(), 3);
    for (object, content) in objects.iter().zip(&contents) {
        assert!(server.read(&client, object).unwrap() == *content, "{object}");
    }
    let rt = server.runtime();
    let head = rt.block_on(client.head(BUCKET, "p/1.gz")).unwrap().unwrap();
    assert_eq!(head.size, contents[1].len() as u64);
    rt.block_on(client.put(BUCKET, "states/s.snowfunnel", b"state".to_vec())).unwrap();
    assert_eq!(server.get("states/s.snowfunnel").unwrap(), b"state");
}

#[test]
fn error_answers_are_retried_for_every_request_kind() {
    let faults = [Fault::InternalError, Fault::ServiceUnavailable, Fault::SlowDown];
    std::thread::scope(|scope| {
        for fault in faults {
            scope.spawn(move || {
                let server = TestServer::start();
                let f = server.faults();
                f.inject(Op::ListObjectsV2, None, When::First(1), fault.clone());
                // Every other GetObject: two of the three bodies' first requests fail.
                f.inject(Op::GetObject, None, When::Every(2), fault.clone());
                f.inject(Op::HeadObject, None, When::First(2), fault.clone());
                f.inject(Op::PutObject, None, When::First(1), fault.clone());
                list_read_head_put(&server);
                assert_eq!(f.injected(), 1 + 2 + 2 + 1, "{fault:?}");
                assert_eq!(f.requests(Op::ListObjectsV2), 2, "{fault:?}");
                assert_eq!(f.requests(Op::GetObject), 5, "{fault:?}");
                assert_eq!(f.requests(Op::HeadObject), 3, "{fault:?}");
                assert_eq!(f.requests(Op::PutObject), 2, "{fault:?}");
            });
        }
    });
}

#[test]
fn error_answers_past_the_retry_budget_are_one_clear_line() {
    let cases = [
        (
            Op::ListObjectsV2,
            Fault::SlowDown,
            "s3://events/p/: S3 request failed (SlowDown: injected fault; 3 attempts)",
        ),
        (
            Op::GetObject,
            Fault::InternalError,
            "s3://events/p/0.gz: S3 request failed (InternalError: injected fault; 3 attempts)",
        ),
        // HEAD answers have no body: the status is all there is.
        (
            Op::HeadObject,
            Fault::ServiceUnavailable,
            "s3://events/p/0.gz: S3 request failed (HTTP status 503; 3 attempts)",
        ),
        (
            Op::PutObject,
            Fault::SlowDown,
            "s3://events/states/s.snowfunnel: S3 request failed (SlowDown: injected fault; 3 attempts)",
        ),
    ];
    std::thread::scope(|scope| {
        for (op, fault, expected) in cases {
            scope.spawn(move || {
                let server = TestServer::start();
                three_objects(&server);
                let client = server.client();
                let listed = server.list(&client, "s3://events/p/0.gz").unwrap();
                let before = server.faults().requests(op);
                server.faults().inject(op, None, When::Always, fault);
                let rt = server.runtime();
                let (message, debug) = match op {
                    Op::ListObjectsV2 => described(&server.list(&client, "s3://events/p/").unwrap_err()),
                    Op::GetObject => {
                        let (read, err) = failed_read(&server, &listed[0]);
                        assert!(read.is_empty());
                        described(&err)
                    }
                    Op::HeadObject => described(&rt.block_on(client.head(BUCKET, "p/0.gz")).unwrap_err()),
                    Op::PutObject => described(
                        &rt.block_on(client.put(BUCKET, "states/s.snowfunnel", b"x".to_vec())).unwrap_err(),
                    ),
                };
                assert_eq!(message, expected, "{op:?}");
                assert_eq!(server.faults().requests(op) - before, 3, "{op:?}: the SDK's 3 attempts");
                assert!(server.get("states/s.snowfunnel").is_none(), "nothing was written");
                assert_no_secrets(&debug, &message);
            });
        }
    });
}

/// Reads `object`, which must fail: the bytes read before the error, and the error.
fn failed_read(server: &TestServer, object: &snowfunnel_s3::S3Object) -> (Vec<u8>, std::io::Error) {
    match server.read(&server.client(), object) {
        Ok(content) => panic!("{object}: read {} bytes without an error", content.len()),
        Err(failed) => failed,
    }
}

/// An error's message and its `Debug` form.
fn described<E: std::fmt::Display + std::fmt::Debug>(err: &E) -> (String, String) {
    (err.to_string(), format!("{err:?}"))
}

#[test]
fn connections_reset_before_the_answer_are_retried() {
    let server = TestServer::start();
    let f = server.faults();
    for op in [Op::ListObjectsV2, Op::GetObject, Op::HeadObject, Op::PutObject] {
        f.inject(op, None, When::First(1), Fault::Reset);
    }
    list_read_head_put(&server);
    assert_eq!(f.injected(), 4);
    assert_eq!(f.requests(Op::GetObject), 4, "one reset, three bodies");
}

#[test]
fn connections_reset_every_time_are_a_clear_error() {
    let server = TestServer::start();
    three_objects(&server);
    let client = server.client();
    let listed = server.list(&client, "s3://events/p/0.gz").unwrap();
    server.faults().inject(Op::GetObject, None, When::Always, Fault::Reset);
    let (read, err) = failed_read(&server, &listed[0]);
    assert!(read.is_empty());
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("s3://events/p/0.gz: cannot reach {} (", server.endpoint())),
        "{message}"
    );
    assert!(message.ends_with("; 3 attempts)"), "{message}");
    assert_eq!(server.faults().requests(Op::GetObject), 3);
}

#[test]
fn bodies_reset_or_cut_mid_stream_resume_byte_identical() {
    for fault in [Fault::ResetMidBody { after: 300_000 }, Fault::Truncate { after: 300_000 }] {
        let server = TestServer::start();
        let content = pseudo_random(1024 * 1024, 21);
        server.put("enriched/a.gz", &content);
        server.faults().inject(Op::GetObject, None, When::First(2), fault.clone());
        let client = server.client();
        let object = server.object(&client, "enriched/a.gz");

        let read = server.read(&client, &object).unwrap();
        assert!(read == content, "{fault:?}: bytes differ after the resumes");
        let gets = server.faults().gets();
        assert_eq!(gets.len(), 3, "{fault:?}: two failures, two resumes: {gets:?}");
        let etag = object.etag.as_deref().unwrap().trim_matches('"');
        assert!(gets.iter().all(|get| get.if_match.as_deref() == Some(etag)), "{gets:?}");
        // Each resume starts where the bytes received so far end, at most where the server cut.
        let starts: Vec<u64> = gets.iter().map(|get| get.range_start.unwrap_or(0)).collect();
        assert!(starts[0] == 0 && starts[1] <= starts[2] && starts[2] <= 600_000, "{fault:?}: {starts:?}");
    }
}

#[test]
fn a_body_reset_on_every_request_fails_after_max_attempts() {
    let server = TestServer::start();
    let content = pseudo_random(600_000, 22);
    server.put("enriched/2026/03/01/reset.gz", &content);
    server.faults().inject(Op::GetObject, None, When::Always, Fault::ResetMidBody { after: 100_000 });
    let client = server.client();
    let object = server.object(&client, "enriched/2026/03/01/reset.gz");

    let (read, err) = failed_read(&server, &object);
    assert!(content.starts_with(&read), "the bytes before the error are the object's");
    // Three GetObject requests of the reader's own, and the SDK's retries of those reset before
    // the answer's headers got through.
    assert!(server.faults().requests(Op::GetObject) >= 3);
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    let message = err.to_string();
    assert!(
        message.starts_with(
            "s3://events/enriched/2026/03/01/reset.gz: reading the body failed after 3 attempts"
        ),
        "{message}"
    );
}

#[test]
fn slow_answers_and_throttled_bodies_give_the_same_bytes() {
    let server = TestServer::start();
    let contents = three_objects(&server);
    let f = server.faults();
    f.inject(Op::ListObjectsV2, None, When::Always, Fault::Delay(Duration::from_millis(200)));
    f.inject(Op::GetObject, None, When::Always, Fault::Delay(Duration::from_millis(100)));
    // 3 x 150 KB at 1 MB/s: under half a second.
    f.inject(Op::GetObject, None, When::Always, Fault::Throttle { bytes_per_second: 1_000_000 });
    let client = server.client();
    let objects = server.list(&client, "s3://events/p/").unwrap();
    for (object, content) in objects.iter().zip(&contents) {
        assert!(server.read(&client, object).unwrap() == *content, "{object}");
    }
    assert_eq!(f.requests(Op::GetObject), 3, "slow is not failed: nothing retried");
    assert_eq!(f.injected(), 1 + 3 * 2);
}

#[test]
fn an_object_overwritten_after_the_listing_is_an_error_not_the_new_version() {
    for ignore_if_match in [false, true] {
        let server = TestServer::start();
        let content = pseudo_random(200_000, 23);
        server.put("enriched/a.gz", &content);
        let client = server.client();
        let object = server.object(&client, "enriched/a.gz");
        // Same size, other bytes: only the ETag tells.
        server.faults().inject(
            Op::GetObject,
            None,
            When::First(1),
            Fault::Overwrite(pseudo_random(200_000, 24)),
        );
        if ignore_if_match {
            server.faults().ignore_if_match();
        }

        let (read, err) = failed_read(&server, &object);
        assert!(read.is_empty(), "not one byte of the new version");
        let message = err.to_string();
        assert!(
            message.starts_with("s3://events/enriched/a.gz: the object changed while it was being read ("),
            "{message}"
        );
        assert!(message.ends_with("since it was listed)"), "{message}");
        let inner = err.into_inner().unwrap().downcast::<S3Error>().unwrap();
        assert!(matches!(*inner, S3Error::ObjectChanged { .. }), "{inner:?}");
        assert_eq!(server.faults().requests(Op::GetObject), 1, "not retried");
    }
}

#[test]
fn an_object_overwritten_between_a_cut_and_the_resume_is_an_error_not_a_mix() {
    let server = TestServer::start();
    let content = pseudo_random(800_000, 25);
    server.put("enriched/a.gz", &content);
    let client = server.client();
    let object = server.object(&client, "enriched/a.gz");
    let f = server.faults();
    f.inject(Op::GetObject, None, When::Nth(1), Fault::ResetMidBody { after: 200_000 });
    f.inject(Op::GetObject, None, When::Nth(2), Fault::Overwrite(pseudo_random(800_000, 26)));

    let (read, err) = failed_read(&server, &object);
    assert!(content.starts_with(&read), "only bytes of the version listed");
    let message = err.to_string();
    assert!(
        message.starts_with("s3://events/enriched/a.gz: the object changed while it was being read ("),
        "{message}"
    );
    assert!(message.contains("PreconditionFailed"), "{message}");
    assert_eq!(f.requests(Op::GetObject), 2);
}
