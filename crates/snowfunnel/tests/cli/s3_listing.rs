//! Incremental runs over a prefix whose keys sort by date list only from their last counted
//! days on (ListObjectsV2 `start-after`), so that a daily run's listing does not grow with the
//! history, and still equal a run over everything, late objects within the margin included.

use std::path::PathBuf;
use std::process::Output;

use snowfunnel_s3_testserver::{ListRecord, TestServer};

use crate::harness::{Workspace, assert_exit, stdout};
use crate::s3::{csvs, walk, with_s3};

/// The S3 loader's name for an object of 2026-03-`day`.
fn key(day: u32, part: u32) -> String {
    format!("enriched/2026-03-{day:02}-{:02}0000-{day:04x}{part:04x}.gz", 8 + part)
}

/// The incremental run of the day, its state on S3.
fn daily(ws: &Workspace, server: &TestServer, out: &str, more: &[&str]) -> Output {
    let mut args = vec!["--state", "s3://events/state/daily.snowfunnel"];
    args.extend_from_slice(more);
    args.push("s3://events/enriched/");
    with_s3(ws, server, &["run", "--funnel", "funnels", "--out", out], &args, true)
}

/// The listing requests made since `before` of them.
/// The listings of inputs since the `before`th listing (not those of the temporary objects
/// beside the state, which each run looks for to clean up).
fn lists_since(server: &TestServer, before: usize) -> Vec<ListRecord> {
    let mut lists = server.faults().lists().split_off(before);
    lists.retain(|l| l.prefix.as_deref().is_none_or(|p| !p.contains(".snowfunnel-")));
    lists
}

/// Stores `file` on the server as `key`, and in `all/` for the reference run.
fn arrive(ws: &Workspace, server: &TestServer, file: &PathBuf, key: &str) {
    let content = std::fs::read(file).unwrap();
    server.put(key, &content);
    ws.write(&format!("all/{}", key.replace('/', "_")), &content);
}

#[test]
fn a_daily_run_lists_from_its_last_counted_days_and_equals_a_run_over_everything() {
    let ws = Workspace::new();
    ws.use_repo_funnels();
    let config = snowfunnel_gen::GenConfig::new(23, 7_000);
    snowfunnel_gen::write_dataset_streaming(&config, &ws.path("gen"), 14, true).unwrap();
    let mut files = walk(&ws.path("gen")).into_iter();
    std::fs::create_dir_all(ws.path("all")).unwrap();
    let server = TestServer::start();
    // Small pages, so that listing costs show in pages.
    server.faults().set_page_size(2);

    // Seven days of history, one object a day, counted by a first run (no state yet: everything
    // is listed).
    for day in 1..=7 {
        arrive(&ws, &server, &files.next().unwrap(), &key(day, 0));
    }
    let o = daily(&ws, &server, "day7", &[]);
    assert_exit(&o, 0);
    assert!(server.faults().lists().iter().all(|l| l.start_after.is_none()));

    // Day 8, and a late object of day 6: the newest counted day is the 7th, so listing starts
    // after the last object of the 4th and sees both.
    arrive(&ws, &server, &files.next().unwrap(), &key(8, 0));
    arrive(&ws, &server, &files.next().unwrap(), &key(6, 1));
    let before = server.faults().lists().len();
    let o = daily(&ws, &server, "day8", &[]);
    assert_exit(&o, 0);
    let summary = stdout(&o);
    assert!(summary.contains("files              2 ("), "{summary}");
    assert!(summary.contains("counted before     3 ("), "days 5 to 7 are listed again: {summary}");
    assert!(
        summary.contains(&format!("listed             s3://events/enriched/ after {}", key(4, 0))),
        "{summary}"
    );
    let lists = lists_since(&server, before);
    assert!(lists.iter().all(|l| l.start_after.as_deref() == Some(key(4, 0).as_str())), "{lists:?}");
    assert_eq!(lists.iter().map(|l| l.objects).sum::<usize>(), 5, "days 5 to 8: {lists:?}");
    assert_exit(&ws.run(&["--out", "reference", "-q", "all"]), 0);
    assert_eq!(csvs(&ws.path("day8")), csvs(&ws.path("reference")), "day 8");

    // Day after day, the listing stays the same size however long the history grows: the
    // three days up to the newest counted (one more on the 9th, for the late object of the 6th)
    // and the new day.
    for day in 9..=12 {
        arrive(&ws, &server, &files.next().unwrap(), &key(day, 0));
        let before = server.faults().lists().len();
        let out = format!("day{day}");
        assert_exit(&daily(&ws, &server, &out, &[]), 0);
        let lists = lists_since(&server, before);
        let expected = if day == 9 { 5 } else { 4 };
        assert_eq!(lists.iter().map(|l| l.objects).sum::<usize>(), expected, "day {day}: {lists:?}");
        assert_eq!(lists.len(), expected.div_ceil(2), "day {day}: pages of two");
    }
    assert_exit(&ws.run(&["--out", "reference", "-q", "all"]), 0);
    assert_eq!(csvs(&ws.path("day12")), csvs(&ws.path("reference")), "day 12");

    // An object arriving after the margin (dated the 2nd, listed on the 12th) is not listed:
    // the documented trade-off. --full-listing lists, finds and reads it.
    arrive(&ws, &server, &files.next().unwrap(), &key(2, 1));
    let o = daily(&ws, &server, "late", &[]);
    assert_exit(&o, 0);
    assert!(stdout(&o).contains("unchanged: no new input"), "{}", stdout(&o));
    let before = server.faults().lists().len();
    let o = daily(&ws, &server, "full", &["--full-listing"]);
    assert_exit(&o, 0);
    assert!(stdout(&o).contains("files              1 ("), "{}", stdout(&o));
    assert!(!stdout(&o).contains("listed  "), "{}", stdout(&o));
    let lists = lists_since(&server, before);
    assert!(lists.iter().all(|l| l.start_after.is_none()), "{lists:?}");
    assert_eq!(lists.iter().map(|l| l.objects).sum::<usize>(), 14);
    assert_exit(&ws.run(&["--out", "reference", "-q", "all"]), 0);
    assert_eq!(csvs(&ws.path("full")), csvs(&ws.path("reference")), "full listing");
}

#[test]
fn keys_that_do_not_sort_by_date_are_listed_in_full() {
    let ws = Workspace::new();
    ws.use_repo_funnels();
    let config = snowfunnel_gen::GenConfig::new(29, 4_000);
    snowfunnel_gen::write_dataset_streaming(&config, &ws.path("gen"), 5, true).unwrap();
    let server = TestServer::start();
    let files = walk(&ws.path("gen"));
    // Dated keys, and one that is not: byte order is not date order.
    for (day, file) in files[..4].iter().enumerate() {
        server.put(&key(day as u32 + 1, 0), &std::fs::read(file).unwrap());
    }
    server.put("enriched/backfill-part-0.gz", &std::fs::read(&files[4]).unwrap());
    assert_exit(&daily(&ws, &server, "first", &[]), 0);
    let before = server.faults().lists().len();
    let o = daily(&ws, &server, "second", &[]);
    assert_exit(&o, 0);
    assert!(!stdout(&o).contains("listed  "), "{}", stdout(&o));
    assert!(lists_since(&server, before).iter().all(|l| l.start_after.is_none()));
}
