//! Single objects: HeadObject tells a missing object from a present one, PutObject writes one
//! whole and replaces it whole.

use snowfunnel_s3::S3Error;

use crate::server::{BUCKET, ServerExt, TestServer, pseudo_random};

#[test]
fn head_finds_an_object_or_says_there_is_none() {
    let server = TestServer::start();
    server.put("states/a.snowfunnel", b"0123456789");
    let client = server.client();
    let rt = server.runtime();

    let found = rt.block_on(client.head(BUCKET, "states/a.snowfunnel")).unwrap().unwrap();
    assert_eq!((found.bucket.as_str(), found.key.as_str(), found.size), (BUCKET, "states/a.snowfunnel", 10));
    assert!(found.etag.is_some());
    let listed = server.object(&client, "states/a.snowfunnel");
    assert_eq!((&found.key, found.size), (&listed.key, listed.size), "as listing gives it");

    assert_eq!(rt.block_on(client.head(BUCKET, "states/b.snowfunnel")).unwrap(), None);
    let missing_bucket = rt.block_on(client.head("no-such-bucket", "a")).err();
    assert!(
        matches!(missing_bucket, None | Some(S3Error::NoSuchBucket { .. })),
        "a HEAD in a missing bucket finds nothing, or says why: {missing_bucket:?}"
    );
}

#[test]
fn put_writes_an_object_whole_and_replaces_it_whole() {
    let server = TestServer::start();
    let client = server.client();
    let rt = server.runtime();
    let first = pseudo_random(3 * 1024 * 1024 + 17, 1);
    rt.block_on(client.put(BUCKET, "runs/1/shard-0.snowfunnel", first.clone())).unwrap();
    let object = server.object(&client, "runs/1/shard-0.snowfunnel");
    assert_eq!(object.size, first.len() as u64);
    assert!(server.read(&client, &object).unwrap() == first);

    let second = b"shorter".to_vec();
    rt.block_on(client.put(BUCKET, "runs/1/shard-0.snowfunnel", second.clone())).unwrap();
    let object = rt.block_on(client.head(BUCKET, "runs/1/shard-0.snowfunnel")).unwrap().unwrap();
    assert_eq!(object.size, 7);
    assert_eq!(server.read(&client, &object).unwrap(), second);
}
