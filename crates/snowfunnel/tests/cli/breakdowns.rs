//! `--breakdown` and `--cumulative` end to end: the CSV blocks against a reference computed here
//! from the raw events in plain maps, shards and merge and incremental runs equal to one run,
//! and the errors of states without the field asked for.

use std::collections::{BTreeMap, HashMap};

use crate::harness::{Workspace, assert_exit, csv_rows, stderr, stdout};

/// One event: `(time, action, key, variant, country, platform)`.
type Raw = (String, &'static str, String, &'static str, &'static str, &'static str);

/// Events written in the test: 400 keys, each viewing 1 to 3 times at pseudo-random times
/// from different countries and platforms (so that which event is first matters), some
/// clicking; a few keys seen with both variants.
fn events() -> Vec<Raw> {
    let countries = ["DE", "US", "FR", "", "=1+1"];
    let platforms = ["web", "mob"];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: u64| {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (x >> 33) % n
    };
    let mut out = Vec::new();
    for k in 0..400 {
        let key = format!("key{k}");
        let variant = if k % 2 == 0 { "control" } else { "candidate" };
        for _ in 0..=next(3) {
            // The seconds differ between a key's events: no tie in time.
            let time = format!(
                "2026-03-{:02} {:02}:{:02}:{:02}.000",
                1 + next(6),
                next(24),
                next(60),
                out.len() % 60
            );
            out.push((
                time,
                "view",
                key.clone(),
                variant,
                countries[next(5) as usize],
                platforms[next(2) as usize],
            ));
        }
        if next(3) == 0 {
            out.push(("2026-03-08 12:00:00.000".into(), "click", key.clone(), variant, "US", "web"));
        }
        if k % 97 == 0 {
            out.push(("2026-03-02 00:00:00.000".into(), "view", key.clone(), "other", "DE", "web"));
        }
    }
    out
}

fn tsv(e: &Raw) -> String {
    let (time, action, key, variant, country, platform) = e;
    let mut f = vec![String::new(); snowfunnel_parse::FIELD_COUNT];
    f[0] = "gitlab".into();
    f[1] = (*platform).into();
    f[3] = time.clone();
    f[5] = "struct".into();
    f[6] = format!("{action}-{key}-{time}");
    f[18] = (*country).into();
    f[54] = (*action).into();
    f[52] = format!(
        r#"{{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{{"schema":"iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-0","data":{{"experiment":"exp","key":"{key}","variant":"{variant}"}}}}]}}"#
    );
    f.join("\t")
}

/// The reference: `(value, variant) → (keys at step 1, keys at step 2)` for the country, by the
/// obvious method: per key its variants, its view events and whether it clicked; its country
/// is that of its earliest view (every tie in this data has the same country or is resolved by
/// the smallest, checked below).
fn reference(events: &[Raw]) -> BTreeMap<(String, String), (u64, u64)> {
    let mut variants: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut views: HashMap<&str, Vec<(&str, &str)>> = HashMap::new();
    let mut clicked: HashMap<&str, bool> = HashMap::new();
    for (time, action, key, variant, country, _) in events {
        let v = variants.entry(key).or_default();
        if !v.contains(variant) {
            v.push(variant);
        }
        if *action == "view" {
            views.entry(key).or_default().push((time, country));
        } else {
            clicked.insert(key, true);
        }
    }
    let mut counts: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for (key, mut seen) in views {
        let v = &variants[key];
        if v.len() > 1 {
            continue;
        }
        seen.sort();
        if seen.len() > 1 && seen[0].0 == seen[1].0 {
            assert_eq!(seen[0].1, seen[1].1, "a tie between countries: the test data should avoid it");
        }
        let country = if seen[0].1.is_empty() { "(empty)" } else { seen[0].1 };
        let entry = counts.entry((country.to_owned(), v[0].to_owned())).or_default();
        entry.0 += 1;
        entry.1 += u64::from(clicked.contains_key(key));
    }
    counts
}

fn workspace() -> (Workspace, Vec<Raw>) {
    let ws = Workspace::new();
    let events = events();
    // Three files, so that shards and incremental runs have something to split.
    for (i, part) in events.chunks(events.len().div_ceil(3)).enumerate() {
        let lines: Vec<String> = part.iter().map(tsv).collect();
        ws.write_gz(&format!("in/part-{i}.gz"), &lines);
    }
    (ws, events)
}

#[test]
fn breakdown_blocks_equal_the_reference() {
    let (ws, events) = workspace();
    let o = ws.run(&["--breakdown", "geo_country", "--breakdown", "platform", "--raw-csv", "in"]);
    assert_exit(&o, 0);
    assert!(
        stdout(&o).contains("breakdowns         geo_country (5 values), platform (2 values)"),
        "{}",
        stdout(&o)
    );
    let csv = ws.read("out/exp_funnel.csv");
    assert!(csv.lines().next().unwrap().ends_with(",chance_to_win,expected_loss,dimension,value"));
    let rows = csv_rows(&csv);
    // The whole funnel first, both new cells empty; then geo_country's values in byte order,
    // then platform's.
    let blocks: Vec<(String, String)> = rows
        .iter()
        .filter(|r| r["step"] == "1" && r["variant"] == "control")
        .map(|r| (r["dimension"].clone(), r["value"].clone()))
        .collect();
    let pairs =
        |d: &str, values: &[&str]| values.iter().map(|v| (d.to_owned(), (*v).to_owned())).collect::<Vec<_>>();
    let mut expected = vec![(String::new(), String::new())];
    expected.extend(pairs("geo_country", &["(empty)", "=1+1", "DE", "FR", "US"]));
    expected.extend(pairs("platform", &["mob", "web"]));
    assert_eq!(blocks, expected);
    let mut got: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for r in rows.iter().filter(|r| r["dimension"] == "geo_country") {
        let entry = got.entry((r["value"].clone(), r["variant"].clone())).or_default();
        let keys: u64 = r["keys"].parse().unwrap();
        if r["step"] == "1" { entry.0 = keys } else { entry.1 = keys }
    }
    got.retain(|_, counts| *counts != (0, 0));
    assert_eq!(got, reference(&events));
    // The sum of the blocks is the whole funnel.
    for step in ["1", "2"] {
        let whole: u64 = rows
            .iter()
            .filter(|r| r["dimension"].is_empty() && r["step"] == step)
            .map(|r| r["keys"].parse::<u64>().unwrap())
            .sum();
        for field in ["geo_country", "platform"] {
            let sum: u64 = rows
                .iter()
                .filter(|r| r["dimension"] == field && r["step"] == step)
                .map(|r| r["keys"].parse::<u64>().unwrap())
                .sum();
            assert_eq!(sum, whole, "{field} at step {step}");
        }
    }
    // The JSON has the same blocks.
    let json: serde_json::Value = serde_json::from_str(&ws.read("out/exp_funnel.json")).unwrap();
    let breakdowns = json["breakdowns"].as_array().unwrap();
    assert_eq!(breakdowns.len(), 7);
    assert_eq!(
        (breakdowns[1]["dimension"].as_str(), breakdowns[1]["value"].as_str()),
        (Some("geo_country"), Some("=1+1"))
    );
    // Without --raw-csv, the value from the data is neutralised like every name.
    let o = ws.run(&["--breakdown", "geo_country", "--out", "neutral", "-q", "in"]);
    assert_exit(&o, 0);
    assert!(ws.read("neutral/exp_funnel.csv").contains(",geo_country,'=1+1\n"));
}

#[test]
fn shards_merge_and_incremental_runs_equal_one_run() {
    let (ws, _) = workspace();
    let breakdown = ["--breakdown", "geo_country", "--breakdown", "platform", "--by", "day", "--cumulative"];
    let single = ws.run(&[&breakdown[..], &["--out", "single", "-q", "--format", "csv", "in"]].concat());
    assert_exit(&single, 0);
    for index in 0..2 {
        let shard = format!("{index}/2");
        let o = ws.run(
            &[&breakdown[..4], &["-q", "--shard", &shard, "--state-out", "states/{shard}.snowfunnel", "in"]]
                .concat(),
        );
        assert_exit(&o, 0);
    }
    let merged = ws.snowfunnel(
        &[
            &["merge", "states", "--funnel", "funnels", "--out", "merged", "-q", "--format", "csv"][..],
            &breakdown,
        ]
        .concat(),
    );
    assert_exit(&merged, 0);
    assert_eq!(ws.read("merged/exp_funnel.csv"), ws.read("single/exp_funnel.csv"));

    // Incremental: the first file, then the rest.
    std::fs::create_dir_all(ws.path("later")).unwrap();
    for i in 1..3 {
        std::fs::rename(ws.path(&format!("in/part-{i}.gz")), ws.path(&format!("later/part-{i}.gz"))).unwrap();
    }
    let state = ["--state", "daily.snowfunnel", "-q", "--format", "csv", "--out", "inc"];
    assert_exit(&ws.run(&[&breakdown[..], &state, &["in"]].concat()), 0);
    for i in 1..3 {
        std::fs::rename(ws.path(&format!("later/part-{i}.gz")), ws.path(&format!("in/part-{i}.gz"))).unwrap();
    }
    assert_exit(&ws.run(&[&breakdown[..], &state, &["in"]].concat()), 0);
    assert_eq!(ws.read("inc/exp_funnel.csv"), ws.read("single/exp_funnel.csv"));

    // A field the state was not written with: an error naming the state file and the field.
    let o = ws.run(&["--breakdown", "dvce_type", "--state", "daily.snowfunnel", "-q", "--out", "x", "in"]);
    assert_exit(&o, 1);
    let e = stderr(&o);
    assert!(e.contains("state file daily.snowfunnel") && e.contains("no breakdown by dvce_type"), "{e}");
    assert!(e.contains("--breakdown dvce_type") && e.contains("--rebuild"), "{e}");
    let o =
        ws.snowfunnel(&["merge", "states", "--funnel", "funnels", "--out", "m", "--breakdown", "dvce_type"]);
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("states/0.snowfunnel") && stderr(&o).contains("dvce_type"), "{}", stderr(&o));
    // Shards written with different fields are refused.
    let o = ws.run(&["-q", "--shard", "0/2", "--state-out", "other/{shard}.snowfunnel", "in"]);
    assert_exit(&o, 0);
    let o = ws.snowfunnel(&[
        "merge",
        "other/0.snowfunnel",
        "states/1.snowfunnel",
        "--funnel",
        "funnels",
        "--out",
        "m",
    ]);
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("different --breakdown fields"), "{}", stderr(&o));
}

#[test]
fn cumulative_cohorts_are_running_sums_of_the_days() {
    let (ws, _) = workspace();
    assert_exit(&ws.run(&["--by", "day", "--out", "daily", "-q", "--format", "csv", "in"]), 0);
    assert_exit(
        &ws.run(&["--by", "day", "--cumulative", "--out", "total", "-q", "--format", "csv", "in"]),
        0,
    );
    let daily = csv_rows(&ws.read("daily/exp_funnel.csv"));
    let total = csv_rows(&ws.read("total/exp_funnel.csv"));
    assert_eq!(daily.len(), total.len());
    let mut running: HashMap<(String, String), u64> = HashMap::new();
    for (d, t) in daily.iter().zip(&total) {
        assert_eq!((&d["cohort"], &d["variant"], &d["step"]), (&t["cohort"], &t["variant"], &t["step"]));
        let sum = running.entry((d["variant"].clone(), d["step"].clone())).or_default();
        *sum += d["keys"].parse::<u64>().unwrap();
        assert_eq!(t["keys"].parse::<u64>().unwrap(), *sum, "{t:?}");
    }
    // Without --by: a usage error.
    let o = ws.run(&["--cumulative", "in"]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("--by"), "{}", stderr(&o));
}

#[test]
fn an_unknown_field_is_a_usage_error_naming_it() {
    let (ws, _) = workspace();
    let o = ws.run(&["--breakdown", "geo_contry", "in"]);
    assert_exit(&o, 2);
    let e = stderr(&o);
    assert!(e.contains("geo_contry") && e.contains("did you mean geo_country"), "{e}");
    assert!(!ws.path("out").exists());
}

#[test]
fn a_breakdown_of_a_warehouse_funnel_is_a_usage_error_naming_it() {
    let (ws, _) = workspace();
    let funnel = std::fs::read_to_string(ws.path("funnels/exp_funnel.toml")).unwrap();
    ws.write("funnels/exp_funnel.toml", format!("rules = \"warehouse\"\n{funnel}").as_bytes());
    let o = ws.run(&["--breakdown", "geo_country", "in"]);
    assert_exit(&o, 2);
    let e = stderr(&o);
    assert!(e.contains("exp_funnel.toml") && e.contains("--breakdown does not support"), "{e}");
    assert!(!ws.path("out").exists());
    // The same funnel without --breakdown runs.
    assert_exit(&ws.run(&["-q", "in"]), 0);
}
