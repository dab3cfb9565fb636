//! Listing: pagination, what is skipped, order.

use crate::server::{BUCKET, ServerExt, TestServer};

#[test]
fn lists_every_page_sorted_by_key() {
    let server = TestServer::start();
    // More than the 1000 keys of one page, written out of order, some outside the prefix.
    let count = 2345;
    for i in (0..count).rev() {
        server.put(&format!("enriched/2026/03/{:02}/part-{i:05}.gz", i % 31), b"x");
    }
    server.put("enriched/2026/04/01/other.gz", b"x");
    server.put("bad/2026/03/01/bad.json", b"x");
    let client = server.client();

    let objects = server.list(&client, &format!("s3://{BUCKET}/enriched/2026/03/")).unwrap();
    assert_eq!(objects.len(), count);
    assert!(server.faults().list_calls() >= 3, "{} calls", server.faults().list_calls());
    let keys: Vec<&str> = objects.iter().map(|o| o.key.as_str()).collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(keys, sorted);
    assert!(keys.iter().all(|key| key.starts_with("enriched/2026/03/")));

    let first = &objects[0];
    assert_eq!(first.bucket, BUCKET);
    assert_eq!(first.key, "enriched/2026/03/00/part-00000.gz");
    assert_eq!(first.size, 1);
    assert!(first.last_modified.is_some());
    assert_eq!(first.to_string(), "s3://events/enriched/2026/03/00/part-00000.gz");

    // The whole bucket, and a prefix that is not a folder.
    assert_eq!(server.list(&client, "s3://events").unwrap().len(), count + 2);
    assert_eq!(server.list(&client, "s3://events/enriched/2026/0").unwrap().len(), count + 1);
}

#[test]
fn skips_zero_byte_objects_and_folder_markers() {
    let server = TestServer::start();
    server.put("enriched/a.gz", b"events");
    server.put("enriched/empty.gz", b"");
    server.put("enriched/2026/03/01/b.tsv", b"events");
    server.put("enriched/2026/03/01/_SUCCESS", b"");
    server.faults().add_folder_marker("enriched/");
    server.faults().add_folder_marker("enriched/2026/03/01/");
    let client = server.client();

    let objects = server.list(&client, "s3://events/enriched/").unwrap();
    let keys: Vec<&str> = objects.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(keys, ["enriched/2026/03/01/b.tsv", "enriched/a.gz"]);
}

#[test]
fn a_prefix_with_nothing_to_read_is_an_error() {
    let server = TestServer::start();
    server.put("enriched/2026/03/01/a.gz", b"events");
    server.put("enriched/2026/04/01/empty.gz", b"");
    server.faults().add_folder_marker("enriched/2026/04/01/");
    let client = server.client();

    for url in ["s3://events/enriched/2026/05/", "s3://events/enriched/2026/04/"] {
        let err = server.list(&client, url).unwrap_err();
        assert_eq!(err.to_string(), format!("no objects under {url}"));
    }
}

#[test]
fn start_after_lists_only_the_keys_after_it() {
    let server = TestServer::start();
    for day in 1..=9 {
        for part in 0..3 {
            server.put(&format!("enriched/2026/03/0{day}/part-{part}.gz"), b"x");
        }
    }
    server.faults().set_page_size(4);
    let client = server.client();
    let url = snowfunnel_s3::S3Url::parse("s3://events/enriched/").unwrap();
    let after = "enriched/2026/03/07/part-2.gz";

    let objects = server.runtime().block_on(client.list_after(&url, Some(after))).unwrap();
    let keys: Vec<&str> = objects.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(keys.len(), 6);
    assert_eq!(keys[0], "enriched/2026/03/08/part-0.gz");
    let lists = server.faults().lists();
    assert_eq!(lists.len(), 2, "6 keys in pages of 4: {lists:?}");
    assert!(
        lists
            .iter()
            .all(|l| l.start_after.as_deref() == Some(after) && l.prefix.as_deref() == Some("enriched/"))
    );
    assert_eq!(lists.iter().map(|l| l.objects).sum::<usize>(), 6, "the keys before were never listed");
    assert!(objects.iter().all(|o| o.etag.is_some()), "listings give ETags");

    // Nothing after the start: no error, nothing to read.
    let none =
        server.runtime().block_on(client.list_after(&url, Some("enriched/2026/03/09/part-2.gz"))).unwrap();
    assert!(none.is_empty());
    // And without one, every page.
    assert_eq!(server.list(&client, "s3://events/enriched/").unwrap().len(), 27);
}
