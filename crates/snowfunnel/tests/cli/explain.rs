//! `snowfunnel explain`: on hand-made events that exercise every rule (trackers, a localhost
//! page, a page view, empty app_id and derived_tstamp, duplicates across files, a copy across
//! a month boundary, a 1970 derived time, a schema in capitals, a key with two variants, a
//! migration key, other experiments and events without contexts), the waterfall's last rows
//! are `run`'s counts under each rule set, each rule removes what it should, and a key's story
//! says where it left.

use std::collections::HashMap;

use snowfunnel_parse::fields;

use crate::harness::{FUNNEL, Workspace, assert_exit, csv_rows, gzip, join_lines, stderr, stdout};

const SCHEMA: &str = "iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-0";

/// The harness's funnel over February and March.
fn steps() -> String {
    format!("start = \"2026-02-01\"\nend = \"2026-04-01\"\n{FUNNEL}")
}

/// One enriched event, with the fields the rules read.
#[derive(Clone)]
struct Ev {
    app_id: &'static str,
    tracker: &'static str,
    page_url: &'static str,
    event: &'static str,
    id: String,
    collector: &'static str,
    derived: &'static str,
    action: &'static str,
    /// `(schema, experiment, key, variant, migration keys)`; none: no contexts at all.
    contexts: Vec<(String, &'static str, String, &'static str, &'static str)>,
}

impl Ev {
    fn new(action: &'static str, key: &str, variant: &'static str, time: &'static str) -> Ev {
        Ev {
            app_id: "gitlab",
            tracker: "js-3.24.0",
            page_url: "https://gitlab.com/p",
            event: "struct",
            id: format!("{action}-{key}"),
            collector: time,
            derived: time,
            action,
            contexts: vec![(SCHEMA.to_owned(), "exp", key.to_owned(), variant, "")],
        }
    }

    fn tsv(&self) -> String {
        let mut f = vec![String::new(); snowfunnel_parse::FIELD_COUNT];
        f[fields::APP_ID] = self.app_id.into();
        f[fields::COLLECTOR_TSTAMP] = self.collector.into();
        f[fields::EVENT] = self.event.into();
        f[fields::EVENT_ID] = self.id.clone();
        f[fields::V_TRACKER] = self.tracker.into();
        f[fields::PAGE_URL] = self.page_url.into();
        f[fields::DERIVED_TSTAMP] = self.derived.into();
        f[fields::SE_CATEGORY] = "cat".into();
        f[fields::SE_ACTION] = self.action.into();
        let entries: Vec<String> = self
            .contexts
            .iter()
            .map(|(schema, experiment, key, variant, older)| {
                let older = if older.is_empty() { String::new() } else { format!(r#""{older}""#) };
                format!(
                    r#"{{"schema":"{schema}","data":{{"experiment":"{experiment}","key":"{key}","variant":"{variant}","migration_keys":[{older}]}}}}"#
                )
            })
            .collect();
        f[fields::CONTEXTS] = format!(
            r#"{{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{}]}}"#,
            entries.join(",")
        );
        f.join("\t")
    }
}

const VIEW: &str = "2026-02-27 10:00:00";
const CLICK: &str = "2026-03-02 10:00:00";

/// Two files of events: keys c0-c5 (control) and d0-d5 (candidate) view, then click, each
/// changed by one rule; m0 is c0's newer key; `=HYPERLINK("x")` is a variant of one key.
fn files() -> [Vec<String>; 2] {
    let mut one = Vec::new();
    let mut two = Vec::new();
    let mut both = |key: &str, variant: &'static str, view: fn(&mut Ev), click: fn(&mut Ev)| {
        let mut v = Ev::new("view", key, variant, VIEW);
        view(&mut v);
        let mut c = Ev::new("click", key, variant, CLICK);
        click(&mut c);
        one.push(v);
        one.push(c);
    };
    let none: fn(&mut Ev) = |_| {};
    // c0 only views: its newer key m0 clicks (one subject for snowfunnel).
    both("c0", "control", none, |e| e.action = "other");
    both("c1", "control", none, |e| e.tracker = "py-0.15.0");
    both("c2", "control", none, |e| e.page_url = "http://localhost:3000/p");
    both("c3", "control", none, |e| e.derived = "");
    both("c4", "control", |e| e.event = "page_view", none);
    both("c5", "control", none, |e| e.app_id = "");
    both("d0", "candidate", none, none);
    both("d1", "candidate", none, none);
    // d2's view: two copies with one id, either side of a month boundary.
    both(
        "d2",
        "candidate",
        |e| (e.collector, e.derived) = ("2026-02-28 23:59:59", "2026-02-28 23:59:59"),
        none,
    );
    both("d3", "candidate", |e| e.derived = "1970-01-01 00:00:05", none);
    both(
        "d4",
        "candidate",
        |e| e.contexts[0].0 = SCHEMA.to_uppercase(),
        |e| e.contexts[0].0 = SCHEMA.to_uppercase(),
    );
    both("d5", "candidate", none, none);
    both("h0", "=HYPERLINK(\"x\")", none, none);
    let mut events: Vec<Ev> = one;
    // d1's click, again in the second file: a duplicate.
    let mut copy = events.iter().find(|e| e.id == "click-d1").unwrap().clone();
    copy.collector = "2026-03-02 10:00:07";
    two.push(copy);
    let mut copy = events.iter().find(|e| e.id == "view-d2").unwrap().clone();
    (copy.collector, copy.derived) = ("2026-03-01 00:00:01", "2026-03-01 00:00:01");
    two.push(copy);
    // d5 is also seen with the control.
    two.push(Ev::new("other", "d5", "control", CLICK));
    let mut m0 = Ev::new("click", "m0", "control", CLICK);
    m0.contexts[0].4 = "c0";
    two.push(m0);
    // Other experiments and events without contexts.
    let mut other = Ev::new("view", "x0", "control", VIEW);
    other.contexts[0].1 = "other";
    two.push(other);
    let mut bare = Ev::new("view", "", "control", VIEW);
    bare.contexts.clear();
    bare.event = "page_view";
    two.extend([bare.clone(), bare]);
    let mut lines = [Vec::new(), Vec::new()];
    lines[0] = events.drain(..).map(|e| e.tsv()).collect();
    lines[1] = two.iter().map(Ev::tsv).collect();
    lines[1].push("not\ta\tgood line".to_owned());
    lines
}

fn workspace() -> Workspace {
    let ws = Workspace::new();
    std::fs::remove_file(ws.path("funnels/exp_funnel.toml")).unwrap();
    ws.write("funnels/ours.toml", steps().as_bytes());
    ws.write("funnels/warehouse.toml", format!("rules = \"warehouse\"\n{}", steps()).as_bytes());
    let [one, two] = files();
    ws.write("in/one.tsv.gz", &gzip(&join_lines(&one)));
    ws.write("in/two.tsv.gz", &gzip(&join_lines(&two)));
    ws
}

/// `(rules, scope, variant, row)` → (events, events_removed, keys, keys_removed).
type Waterfall = HashMap<(String, String, String, String), [String; 4]>;

fn waterfall(csv: &str) -> Waterfall {
    csv_rows(csv)
        .into_iter()
        .map(|r| {
            let key = (r["rules"].clone(), r["scope"].clone(), r["variant"].clone(), r["row"].clone());
            (
                key,
                [
                    r["events"].clone(),
                    r["events_removed"].clone(),
                    r["keys"].clone(),
                    r["keys_removed"].clone(),
                ],
            )
        })
        .collect()
}

/// `snowfunnel explain` of `funnels/ours.toml` under both rule sets over `in`, with `options`.
fn explain_both(ws: &Workspace, options: &[&str]) -> std::process::Output {
    let mut args = vec![
        "explain",
        "--funnel",
        "funnels/ours.toml",
        "--rules",
        "snowfunnel,warehouse",
        "--max-bad-ratio",
        "0.5",
    ];
    args.extend_from_slice(options);
    args.push("in");
    ws.snowfunnel(&args)
}

#[test]
fn the_last_rows_are_the_funnel_counts_under_each_rule_set() {
    let ws = workspace();
    assert_exit(&ws.run(&["in", "--max-bad-ratio", "0.5", "--format", "csv"]), 0);
    let out = explain_both(&ws, &["--out", "explained"]);
    assert_exit(&out, 0);
    let explained = ws.read("explained/ours.explain.csv");
    let header = explained.lines().next().unwrap();
    assert_eq!(
        header,
        "funnel,experiment,rules,scope,variant,row,description,events,events_removed,keys,keys_removed"
    );
    let w = waterfall(&explained);
    for (rules, funnel) in [("snowfunnel", "ours"), ("warehouse", "warehouse")] {
        let counts = csv_rows(&ws.read(&format!("out/{funnel}.csv")));
        assert!(!counts.is_empty());
        for row in counts {
            // The explain CSV neutralises names as the funnel CSV does.
            let key = (
                rules.to_owned(),
                "variant".to_owned(),
                row["variant"].clone(),
                format!("step:{}", row["step"]),
            );
            assert_eq!(w[&key][2], row["keys"], "{key:?}");
        }
    }
    // Each rule removed what it should (all variants).
    let removed = |rules: &str, row: &str| {
        let cells = &w[&(rules.to_owned(), "all".to_owned(), String::new(), row.to_owned())];
        (cells[1].parse::<u64>().unwrap(), cells[3].parse::<u64>().unwrap_or(0))
    };
    assert_eq!(removed("snowfunnel", "bad_row:field_count"), (1, 0));
    for row in ["app_id_missing", "tracker", "localhost", "derived_tstamp_missing", "not_struct"] {
        // One event each; the key keeps its other event.
        assert_eq!(removed("warehouse", row).0, 1 + u64::from(row == "not_struct") * 2, "{row}");
        assert_eq!(removed("warehouse", row).1, 0, "{row}");
    }
    // The two copies of d1's click (the d2 copies are in different months).
    assert_eq!(removed("warehouse", "duplicate"), (2, 0));
    // d3's 1970 view leaves the window under ours; d4's schema is not ours; d5 conflicts.
    assert_eq!(removed("snowfunnel", "time_window"), (1, 0));
    assert_eq!(removed("snowfunnel", "conflicting_key"), (3, 1));
    // c0 and m0 are one subject.
    assert_eq!(removed("snowfunnel", "migration_keys"), (0, 1));
    assert!(!w.keys().any(|(rules, _, _, row)| rules == "warehouse" && row == "conflicting_key"));
    assert!(!w.keys().any(|(rules, _, _, row)| rules == "snowfunnel" && row == "duplicate"));

    // The tables: both rule sets, the diverging rows named.
    let text = stdout(&out);
    assert!(text.contains("under snowfunnel and warehouse rules"), "{text}");
    assert!(
        text.contains(
            "≠ duplicate event_id: not a snowfunnel rule; warehouse removes 2 events and 0 keys, 13 keys left"
        ),
        "{text}"
    );
    assert!(text.contains("1 explain CSV file in explained"), "{text}");
    // explain writes its CSV only.
    let written: Vec<_> =
        std::fs::read_dir(ws.path("explained")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(written, ["ours.explain.csv"]);

    // Without --rules, each funnel under its own: the same waterfalls.
    assert_exit(
        &ws.snowfunnel(&["explain", "--funnel", "funnels", "--max-bad-ratio", "0.5", "--quiet", "in"]),
        0,
    );
    let own = waterfall(&ws.read("out/warehouse.explain.csv"));
    for (key, cells) in own {
        assert_eq!(w[&key], cells, "{key:?}");
    }
}

#[test]
fn a_key_story_says_where_it_left_each_funnel() {
    let ws = workspace();
    let story = |key: &str| {
        let out = explain_both(&ws, &["--key", key]);
        assert_exit(&out, 0);
        stdout(&out)
    };
    let c1 = story("c1");
    assert!(c1.contains("Key c1: 2 events with an experiment context, in time order"), "{c1}");
    assert!(c1.contains("ours (snowfunnel): step 2; ours (warehouse): removed: tracker"), "{c1}");
    assert!(
        c1.contains("ours (snowfunnel): seen with control; reached every step (2 of 2): counted to the end"),
        "{c1}"
    );
    assert!(
        c1.contains("ours (warehouse): seen with control; reached step 1 of 2; left at step 2: Clicked"),
        "{c1}"
    );
    let d1 = story("d1");
    assert!(d1.contains("Key d1: 3 events"), "{d1}");
    assert!(d1.contains("ours (warehouse): removed: duplicate"), "{d1}");
    let d4 = story("d4");
    assert!(d4.contains("(schema in other letter case)"), "{d4}");
    assert!(d4.contains("ours (snowfunnel): no event of experiment exp with this key"), "{d4}");
    assert!(d4.contains("ours (warehouse): seen with candidate; reached every step"), "{d4}");
    let d5 = story("d5");
    assert!(
        d5.contains(
            "ours (snowfunnel): seen with candidate and control; left at conflicting_key (conflicting key)"
        ),
        "{d5}"
    );
    let m0 = story("m0");
    assert!(m0.contains("counted as one subject with keys c0, m0 (migration_keys)"), "{m0}");
    let nobody = story("nobody");
    assert!(nobody.contains("Key nobody: no event with an experiment context has this key."), "{nobody}");
    // The story writes nothing.
    assert!(!ws.path("out").exists());
}

#[test]
fn bad_arguments_are_usage_errors() {
    let ws = workspace();
    let out = ws.snowfunnel(&["explain", "--funnel", "funnels", "--rules", "dbt", "in"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("dbt"), "{}", stderr(&out));
    // A step the warehouse never counts is counted at 0, with a warning naming it.
    ws.write(
        "funnels/pages.toml",
        b"experiment = \"exp\"\nname = \"pages\"\n[[steps]]\nname = \"Page\"\nevent = \"page_view\"\n",
    );
    let out = ws.snowfunnel(&[
        "explain",
        "--funnel",
        "funnels/pages.toml",
        "--rules",
        "warehouse",
        "--max-bad-ratio",
        "0.5",
        "--quiet",
        "in",
    ]);
    assert_exit(&out, 0);
    assert!(stderr(&out).contains("step 1 (\"Page\") names another event type"), "{}", stderr(&out));
    assert!(ws.read("out/pages.explain.csv").contains("warehouse,all,,step:1,step 1: Page,0,"));
}
