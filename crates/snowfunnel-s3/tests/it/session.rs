//! The blocking session: every request a run makes (listing and reading inputs; reading,
//! writing, copying and deleting state files and reports) from a thread that is not async,
//! failing as an [`S3Error`] naming the object.

use std::io::Read;

use aws_config::BehaviorVersion;
use aws_sdk_s3::config::Credentials;
use snowfunnel_s3::{S3Error, S3Session, S3Url};

use crate::errors::WRONG_SECRET;
use crate::server::{ACCESS_KEY, BUCKET, SECRET_KEY, ServerExt, TestServer, pseudo_random};

fn session(server: &TestServer, secret_key: &str) -> S3Session {
    let credentials = Credentials::new(ACCESS_KEY, secret_key, None, None, "tests");
    let loader = aws_config::defaults(BehaviorVersion::latest()).credentials_provider(credentials);
    S3Session::connect_with_loader(server.options(), loader).unwrap()
}

fn read(session: &S3Session, bucket: &str, key: &str) -> Vec<u8> {
    let object = session.head(bucket, key).unwrap().unwrap();
    let mut content = Vec::new();
    session.open(&object).read_to_end(&mut content).unwrap();
    content
}

#[test]
fn a_session_writes_copies_reads_lists_and_deletes_objects() {
    let server = TestServer::start();
    let s3 = session(&server, SECRET_KEY);
    let state = pseudo_random(2 * 1024 * 1024 + 5, 7);

    s3.put(BUCKET, "runs/.tmp-1", state.clone()).unwrap();
    s3.copy(BUCKET, "runs/.tmp-1", "runs/state.snowfunnel").unwrap();
    assert!(read(&s3, BUCKET, "runs/state.snowfunnel") == state, "the copy holds what was put");
    assert_eq!(server.get("runs/state.snowfunnel").as_deref(), Some(state.as_slice()), "on the server");

    let url = S3Url::parse("s3://events/runs/").unwrap();
    let keys = |objects: Vec<snowfunnel_s3::S3Object>| objects.into_iter().map(|o| o.key).collect::<Vec<_>>();
    assert_eq!(keys(s3.list(&url).unwrap()), ["runs/.tmp-1", "runs/state.snowfunnel"]);
    assert_eq!(keys(s3.list_after(&url, Some("runs/.tmp-1")).unwrap()), ["runs/state.snowfunnel"]);

    s3.delete(BUCKET, "runs/.tmp-1").unwrap();
    assert_eq!(s3.head(BUCKET, "runs/.tmp-1").unwrap(), None, "deleted");
    s3.delete(BUCKET, "runs/.tmp-1").unwrap();
    assert_eq!(keys(s3.list(&url).unwrap()), ["runs/state.snowfunnel"]);
}

#[test]
fn a_session_fails_as_an_s3_error_naming_the_object() {
    let server = TestServer::start();
    let refused = session(&server, WRONG_SECRET);
    let err = refused.put(BUCKET, "runs/state.snowfunnel", b"x".to_vec()).unwrap_err();
    assert!(matches!(err, S3Error::AccessDenied { .. }), "{err:?}");
    assert!(err.to_string().starts_with("s3://events/runs/state.snowfunnel: access denied ("), "{err}");
    assert_eq!(server.get("runs/state.snowfunnel"), None, "nothing written");

    let s3 = session(&server, SECRET_KEY);
    let err = s3.copy(BUCKET, "runs/gone", "runs/state.snowfunnel").unwrap_err();
    assert!(err.to_string().starts_with("s3://events/runs/state.snowfunnel: "), "{err}");
}
