//! Streaming bodies: byte-identical, bounded, resumed after failures, never doubled.

use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use snowfunnel_s3::S3Error;

use crate::server::{ServerExt, TestServer, assert_no_secrets, pseudo_random};
use snowfunnel_s3_testserver::Cut;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn tsv_lines(count: usize) -> Vec<u8> {
    (0..count)
        .map(|i| format!("gitlab\tweb\t2026-03-01 00:00:{:02}.000\tevent-{i}\t{{\"i\":{i}}}\n", i % 60))
        .collect::<String>()
        .into_bytes()
}

#[test]
fn streams_gzip_and_plain_objects_byte_identical() {
    let server = TestServer::start();
    let lines = tsv_lines(20_000);
    // Two gzip members, as concatenated loader output may hold.
    let mut gz = gzip(&lines[..lines.len() / 2]);
    gz.extend(gzip(&lines[lines.len() / 2..]));
    let big = pseudo_random(5 * 1024 * 1024 + 123, 7);
    server.put("enriched/a.gz", &gz);
    server.put("enriched/b.tsv", &lines);
    server.put("enriched/c.bin", &big);
    server.put("enriched/d.bin", b"x");
    let client = server.client();

    let objects = server.list(&client, "s3://events/enriched/").unwrap();
    let expected: [&[u8]; 4] = [&gz, &lines, &big, b"x"];
    for (object, expected) in objects.iter().zip(expected) {
        assert_eq!(object.size, expected.len() as u64);
        let content = server.read(&client, object).unwrap();
        assert!(content == expected, "{object}: {} bytes differ", content.len());
    }

    // A reader is a plain `Read`: decode as it arrives, here in tiny reads.
    let mut decoded = Vec::new();
    let mut decoder = MultiGzDecoder::new(client.open(server.runtime().handle(), &objects[0]));
    let mut buf = [0; 7];
    loop {
        match decoder.read(&mut buf).unwrap() {
            0 => break,
            n => decoded.extend_from_slice(&buf[..n]),
        }
    }
    assert!(decoded == lines);
    assert!(server.faults().gets().iter().all(|get| get.range_start.is_none()));
}

#[test]
fn readers_on_many_threads_share_the_download_permits() {
    let server = TestServer::start();
    let contents: Vec<Vec<u8>> = (0..6).map(|i| pseudo_random(300_000 + i * 1000, i as u64)).collect();
    for (i, content) in contents.iter().enumerate() {
        server.put(&format!("p/{i}.bin"), content);
    }
    let client = server.connect(
        snowfunnel_s3::S3Options { concurrency: 2, ..server.options() },
        crate::server::ACCESS_KEY,
        crate::server::SECRET_KEY,
    );
    let client = client.unwrap();
    let objects = server.list(&client, "s3://events/p/").unwrap();
    std::thread::scope(|scope| {
        for (object, expected) in objects.iter().zip(&contents) {
            let server = &server;
            let client = &client;
            scope.spawn(move || assert!(server.read(client, object).unwrap() == *expected));
        }
    });
}

#[test]
fn memory_stays_bounded_while_the_reader_waits() {
    let server = TestServer::start();
    let size = 32 * 1024 * 1024;
    server.put("big.bin", &pseudo_random(1024 * 1024, 3).repeat(32));
    let client = server.client();
    let object = server.object(&client, "big.bin");

    let mut reader = client.open(server.runtime().handle(), &object);
    let mut first = [0; 1];
    reader.read_exact(&mut first).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    // What is in flight: a few chunks in the channel, the HTTP client's buffer, and the
    // loopback sockets' buffers (a few MiB); nowhere near the whole object.
    let served = server.faults().bytes_served();
    assert!(served < (size / 2) as u64, "{served} bytes served before they were read");
    drop(reader);
}

#[test]
fn a_body_cut_mid_stream_resumes_where_it_stopped() {
    let server = TestServer::start();
    let content = pseudo_random(3 * 1024 * 1024, 11);
    server.put("enriched/cut.gz", &content);
    let cut = 1_000_000;
    server.faults().cut("enriched/cut.gz", Cut { after: cut, times: Some(1), replace_with: None });
    let client = server.client();
    let object = server.object(&client, "enriched/cut.gz");

    let read = server.read(&client, &object).unwrap();
    assert_eq!(read.len(), content.len());
    assert!(read == content, "bytes differ after the resume");

    let gets = server.faults().gets();
    assert_eq!(gets.len(), 2, "{gets:?}");
    let listed = object.etag.as_deref().map(|etag| etag.trim_matches('"').to_owned());
    assert!(listed.is_some(), "listings give ETags");
    assert_eq!((gets[0].range_start, &gets[0].if_match), (None, &listed), "the version listed");
    let resumed_at = gets[1].range_start.expect("the second request asks for a range");
    assert!(resumed_at > 0 && resumed_at <= cut as u64, "resumed at {resumed_at}");
    assert_eq!(gets[1].if_match, gets[0].etag, "the resume checks the ETag");
}

#[test]
fn a_server_ignoring_the_range_does_not_double_bytes() {
    let server = TestServer::start();
    let content = pseudo_random(2 * 1024 * 1024, 12);
    server.put("cut.bin", &content);
    server.faults().cut("cut.bin", Cut { after: 700_001, times: Some(1), replace_with: None });
    server.faults().ignore_range();
    let client = server.client();
    let object = server.object(&client, "cut.bin");

    let read = server.read(&client, &object).unwrap();
    assert!(read == content, "bytes differ after the resume");
    assert_eq!(server.faults().gets().len(), 2);
}

#[test]
fn a_body_that_always_fails_is_a_clear_error_after_max_attempts() {
    let server = TestServer::start();
    let content = pseudo_random(1024 * 1024, 13);
    server.put("enriched/2026/03/01/broken.gz", &content);
    server
        .faults()
        .cut("enriched/2026/03/01/broken.gz", Cut { after: 100_000, times: None, replace_with: None });
    let client = server.client();
    let object = server.object(&client, "enriched/2026/03/01/broken.gz");

    let (read, err) = server.read(&client, &object).unwrap_err();
    assert!(content.starts_with(&read), "the bytes before the error are the object's");
    assert!(!read.is_empty());
    assert_eq!(server.faults().gets().len(), 3, "max_attempts requests");
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    let message = err.to_string();
    assert!(
        message.starts_with(
            "s3://events/enriched/2026/03/01/broken.gz: reading the body failed after 3 attempts"
        ),
        "{message}"
    );
    assert!(message.contains(&format!("of {} (", content.len())), "{message}");
    assert_no_secrets(&err, &message);
    // The io error carries the S3 error, and keeps returning it.
    let inner = err.into_inner().unwrap().downcast::<S3Error>().unwrap();
    assert!(matches!(*inner, S3Error::BodyFailed { attempts: 3, .. }), "{inner:?}");
}

#[test]
fn an_object_replaced_mid_read_is_an_error_not_a_mix() {
    let server = TestServer::start();
    let content = pseudo_random(1024 * 1024, 14);
    server.put("changing.gz", &content);
    let cut = Cut { after: 200_000, times: Some(1), replace_with: Some(pseudo_random(1024 * 1024, 15)) };
    server.faults().cut("changing.gz", cut);
    let client = server.client();
    let object = server.object(&client, "changing.gz");

    let (read, err) = server.read(&client, &object).unwrap_err();
    assert!(content.starts_with(&read), "only bytes of the original object");
    let message = err.to_string();
    assert!(
        message.starts_with("s3://events/changing.gz: the object changed while it was being read"),
        "{message}"
    );
    assert_eq!(server.faults().gets().len(), 2);
}

#[test]
fn dropping_a_reader_early_is_fine() {
    let server = TestServer::start();
    server.put("a.bin", &pseudo_random(4 * 1024 * 1024, 16));
    let client = server.client();
    let object = server.object(&client, "a.bin");
    for _ in 0..3 {
        let mut reader = client.open(server.runtime().handle(), &object);
        let mut buf = [0; 10];
        reader.read_exact(&mut buf).unwrap();
    }
    // The 4 permits came back: 4 more downloads run at once.
    let mut readers: Vec<_> = (0..4).map(|_| client.open(server.runtime().handle(), &object)).collect();
    let mut buf = [0; 10];
    for reader in &mut readers {
        reader.read_exact(&mut buf).unwrap();
    }
}
