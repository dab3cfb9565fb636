//! Hand-made lines for what generated data does not show: an uneven split, a long gap, several
//! contexts of one experiment on one event, ids that differ only in case.

use snowfunnel_parse::{BadReason, FIELD_COUNT, fields};
use snowfunnel_validate::{MAX_LISTED_GAP_DAYS, Outage, Problem, Scope};

use crate::planted::validate;

/// A struct event at `time` whose contexts are (experiment, key, variant); an empty key is
/// left out of the context.
fn line(id: &str, time: &str, action: &str, contexts: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut f = vec![String::new(); FIELD_COUNT];
    f[fields::APP_ID] = "gitlab".into();
    f[fields::COLLECTOR_TSTAMP] = time.into();
    f[fields::EVENT] = "struct".into();
    f[fields::EVENT_ID] = id.into();
    f[fields::SE_CATEGORY] = "projects:show".into();
    f[fields::SE_ACTION] = action.into();
    let entries: Vec<String> = contexts
        .iter()
        .map(|(experiment, key, variant)| {
            let key = if key.is_empty() { String::new() } else { format!(r#","key":"{key}""#) };
            format!(
                r#"{{"schema":"iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-3","data":{{"experiment":"{experiment}","variant":"{variant}"{key}}}}}"#
            )
        })
        .collect();
    f[fields::CONTEXTS] = format!(
        r#"{{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{}]}}"#,
        entries.join(",")
    );
    f.join("\t").into_bytes()
}

#[test]
fn an_uneven_split_is_a_problem_an_even_one_is_not() {
    // 300 control keys, 200 candidate: chi-square 20, p = 7.74e-6 (scipy.stats.chisquare).
    let mut lines = Vec::new();
    for i in 0..500 {
        let variant = if i < 300 { "control" } else { "candidate" };
        lines.push(line(
            &format!("id{i}"),
            "2026-03-01 10:00:00",
            "view",
            &[("e", &format!("k{i}"), variant)],
        ));
    }
    let report = validate(&[&lines], &Scope::all());
    let e = &report.experiments[0];
    let srm = e.srm.as_ref().unwrap();
    assert!((srm.statistic - 20.0).abs() < 1e-9 && srm.p_value < 1e-5 && srm.p_value > 7e-6, "{srm:?}");
    let problems = report.problems();
    assert_eq!(
        problems,
        vec![Problem::UnevenSplit {
            experiment: "e".into(),
            variants: vec![("control".into(), 300), ("candidate".into(), 200)],
            chi_square: srm.statistic,
            p_value: srm.p_value,
        }]
    );
    // 265 against 235: chi-square 1.8, p = 0.18: no problem.
    let even: Vec<Vec<u8>> = lines[35..].to_vec();
    assert!(validate(&[&even], &Scope::all()).problems().is_empty());
}

#[test]
fn keys_with_several_variants_events_with_several_contexts_and_keyless_contexts() {
    let lines = vec![
        // One event, two contexts of `e` (two keys) and one of `f`: one event for each.
        line(
            "1",
            "2026-03-01 10:00:00",
            "view",
            &[("e", "a", "control"), ("e", "b", "candidate"), ("f", "a", "x")],
        ),
        line("2", "2026-03-01 11:00:00", "view", &[("e", "a", "candidate")]),
        line("3", "2026-03-01 12:00:00", "click", &[("e", "", "control")]),
        line("4", "2026-03-01 13:00:00.250", "click", &[("e", "c", "control")]),
    ];
    let report = validate(&[&lines], &Scope::all());
    let e = &report.experiments[0];
    assert_eq!((e.experiment.as_str(), e.events, e.contexts, e.keys, e.conflicting_keys), ("e", 3, 4, 3, 1));
    let split: Vec<(&str, u64, u64)> =
        e.variants.iter().map(|v| (v.variant.as_str(), v.keys, v.exclusive_keys)).collect();
    assert_eq!(split, [("control", 2, 1), ("candidate", 2, 1)]);
    let view = &e.event_kinds[0];
    assert_eq!(
        (view.action.as_str(), view.events, view.keys, view.keys_by_variant.clone()),
        ("view", 2, 2, vec![1, 2])
    );
    let click = &e.event_kinds[1];
    assert_eq!((click.action.as_str(), click.events, click.keys), ("click", 1, 1));
    assert_eq!(snowfunnel_parse::format_micros(click.first_seen), "2026-03-01T13:00:00.250Z");
    assert_eq!(report.experiments[1].events, 1);
    assert_eq!(report.counters.contexts_without_key, 1);
    assert_eq!(report.counters.experiment_events, 4);
    // Line 3 carries no context with a key: not an experiment event of `e`, not tracked.
    assert_eq!(report.duplicates.tracked_events, 3);
    let problems = report.problems();
    assert!(problems.contains(&Problem::ConflictingKeys { experiment: "e".into(), conflicting: 1, keys: 3 }));
    assert!(problems.contains(&Problem::ContextsWithoutKey { count: 1, contexts: 6 }));
}

#[test]
fn long_gaps_are_outages_but_not_listed_day_by_day() {
    let uuid = "0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b";
    let lines = vec![
        line(uuid, "2026-03-01 10:00:00", "view", &[("e", "a", "control")]),
        line("x", "2026-03-03 10:00:00", "view", &[("e", "a", "control")]),
        // The same UUID in upper case: the same event delivered twice.
        line(&uuid.to_uppercase(), "2026-06-01 10:00:00", "view", &[("e", "a", "control")]),
        b"not an event".to_vec(),
    ];
    let report = validate(&[&lines], &Scope::all());
    let e = &report.experiments[0];
    let day = |date: &str| {
        snowfunnel_parse::parse_date_or_timestamp(date.as_bytes()).unwrap() / snowfunnel_parse::MICROS_PER_DAY
    };
    assert_eq!(
        e.outages,
        vec![
            Outage { first_day: day("2026-03-02"), last_day: day("2026-03-02") },
            Outage { first_day: day("2026-03-04"), last_day: day("2026-05-31") },
        ]
    );
    assert!(e.outages[1].days() > MAX_LISTED_GAP_DAYS);
    let listed: Vec<(i64, bool)> = e.days.iter().map(|d| (d.day, d.outage)).collect();
    assert_eq!(
        listed,
        [
            (day("2026-03-01"), false),
            (day("2026-03-02"), true),
            (day("2026-03-03"), false),
            (day("2026-06-01"), false)
        ]
    );
    assert_eq!(report.duplicates.extra_copies(), 1);
    assert_eq!(report.counters.bad[BadReason::NotTsv], 1);
}
