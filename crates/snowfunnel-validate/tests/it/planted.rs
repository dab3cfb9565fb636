//! Generated data with a planted outage, planted duplicates and planted bad rows: the report
//! must find exactly them, agree with the reference on every figure, and not depend on how the
//! lines are split into partitions.

use std::collections::{BTreeMap, BTreeSet};

use snowfunnel_gen::{GenConfig, Line, MalformedKind, generate};
use snowfunnel_ingest::Job;
use snowfunnel_parse::{BadReason, MICROS_PER_DAY};
use snowfunnel_validate::{Outage, Problem, Scope, ValidationReport};

use crate::reference::{Expected, Kind, expected};

/// Validates `partitions`, each into its own state, merged in the order given.
pub(crate) fn validate(partitions: &[&[Vec<u8>]], scope: &Scope) -> ValidationReport {
    let mut validator = scope.ingester();
    let mut merged = scope.state();
    for lines in partitions {
        let mut state = scope.state();
        for line in *lines {
            let _ = validator.ingest(&mut state, line);
        }
        merged.merge(state);
    }
    merged.report()
}

/// The planted dataset: 10 days of generated lines without the fifth day, 7 experiment
/// events delivered once more at the end, two more bad rows. Returns the lines and the day.
fn planted() -> (Vec<Line>, i64) {
    let config = GenConfig { seed: 11, events: 16_000, span_days: 10, ..GenConfig::default() };
    let outage_day = config.start_micros.div_euclid(MICROS_PER_DAY) + 4;
    let mut lines: Vec<Line> = generate(&config)
        .into_iter()
        .filter(|l| {
            l.as_event().is_none_or(|e| e.event_time_micros().div_euclid(MICROS_PER_DAY) != outage_day)
        })
        .collect();
    let again: Vec<Line> = lines
        .iter()
        .filter(|l| l.as_event().is_some_and(|e| e.experiments.iter().any(|c| c.key.is_some())))
        .step_by(500)
        .take(7)
        .cloned()
        .collect();
    assert_eq!(again.len(), 7);
    lines.extend(again);
    lines.push(Line::Malformed { text: "garbage".into(), kind: MalformedKind::Empty });
    let event = lines.iter().find_map(Line::as_event).expect("an event");
    let broken = event.to_tsv().replacen('\t', "\tx\t", 1);
    lines.push(Line::Malformed { text: broken, kind: MalformedKind::FieldCount });
    (lines, outage_day)
}

fn bytes(lines: &[Line]) -> Vec<Vec<u8>> {
    lines.iter().map(|l| l.to_tsv().into_bytes()).collect()
}

fn assert_agrees(report: &ValidationReport, x: &Expected) {
    let c = &report.counters;
    assert_eq!(c.lines, x.lines);
    let bad: BTreeMap<BadReason, u64> = c.bad.by_reason().collect();
    assert_eq!(bad, x.bad);
    assert_eq!(c.experiment_events, x.experiment_events);
    assert_eq!(c.contexts_without_key, x.contexts_without_key);
    assert_eq!(report.duplicates, x.duplicates);
    let names: Vec<&String> = report.experiments.iter().map(|e| &e.experiment).collect();
    assert_eq!(names, x.experiments.keys().collect::<Vec<_>>());
    for e in &report.experiments {
        let xe = &x.experiments[&e.experiment];
        let name = &e.experiment;
        assert_eq!(e.events, xe.events, "{name}");
        assert_eq!(e.contexts, xe.contexts, "{name}");
        assert_eq!(e.keys, xe.keys().len() as u64, "{name}");
        assert_eq!(e.conflicting_keys, xe.conflicting().len() as u64, "{name}");
        let conflicting = xe.conflicting();
        let variants: BTreeMap<&str, (u64, u64)> =
            e.variants.iter().map(|v| (v.variant.as_str(), (v.keys, v.exclusive_keys))).collect();
        let x_variants: BTreeMap<&str, (u64, u64)> = xe
            .keys_by_variant
            .iter()
            .map(|(v, keys)| {
                (
                    v.as_str(),
                    (keys.len() as u64, keys.iter().filter(|k| !conflicting.contains(k)).count() as u64),
                )
            })
            .collect();
        assert_eq!(variants, x_variants, "{name}");
        if let Some(first) = e.variants.first() {
            assert_eq!(first.variant, "control", "{name}");
        }

        let kinds: BTreeMap<Kind, (u64, u64, i64, i64, Vec<u64>)> = e
            .event_kinds
            .iter()
            .map(|k| {
                (
                    (k.event.clone(), k.category.clone(), k.action.clone(), k.label.clone()),
                    (k.events, k.keys, k.first_seen, k.last_seen, k.keys_by_variant.clone()),
                )
            })
            .collect();
        let x_kinds: BTreeMap<Kind, (u64, u64, i64, i64, Vec<u64>)> = xe
            .kinds
            .iter()
            .map(|(kind, k)| {
                let keys: BTreeSet<&String> = k.keys_by_variant.values().flatten().collect();
                let by_variant = e
                    .variants
                    .iter()
                    .map(|v| k.keys_by_variant.get(&v.variant).map_or(0, |s| s.len() as u64))
                    .collect();
                (kind.clone(), (k.events, keys.len() as u64, k.first, k.last, by_variant))
            })
            .collect();
        assert_eq!(kinds, x_kinds, "{name}");
        assert!(e.event_kinds.windows(2).all(|w| w[0].events >= w[1].events), "{name}: most events first");
        assert_eq!(e.first_seen, x_kinds.values().map(|k| k.2).min(), "{name}");
        assert_eq!(e.last_seen, x_kinds.values().map(|k| k.3).max(), "{name}");

        let days: BTreeMap<i64, (u64, u64)> =
            e.days.iter().filter(|d| !d.outage).map(|d| (d.day, (d.events, d.keys))).collect();
        let x_days: BTreeMap<i64, (u64, u64)> =
            xe.days.iter().map(|(&day, (events, keys))| (day, (*events, keys.len() as u64))).collect();
        assert_eq!(days, x_days, "{name}");
        let day_variants: BTreeMap<(i64, String), u64> = e
            .days
            .iter()
            .flat_map(|d| {
                e.variants
                    .iter()
                    .zip(&d.events_by_variant)
                    .map(move |(v, &n)| ((d.day, v.variant.clone()), n))
            })
            .filter(|&(_, n)| n > 0)
            .collect();
        assert_eq!(day_variants, xe.day_variant_events, "{name}: events per day and variant");
        assert!(e.days.windows(2).all(|w| w[1].day == w[0].day + 1), "{name}: every day listed, in order");
        assert!(e.days.iter().all(|d| d.outage == (d.events == 0)), "{name}");
        assert_eq!(e.outages, xe.outages(), "{name}");

        let apps: BTreeMap<&str, (u64, u64)> =
            e.app_ids.iter().map(|a| (a.app_id.as_str(), (a.events, a.keys))).collect();
        let x_apps: BTreeMap<&str, (u64, u64)> =
            xe.app_ids.iter().map(|(a, (events, keys))| (a.as_str(), (*events, keys.len() as u64))).collect();
        assert_eq!(apps, x_apps, "{name}");
    }
}

#[test]
fn finds_the_planted_outage_duplicates_and_bad_rows() {
    let (lines, outage_day) = planted();
    let x = expected(&lines, |_| true);
    let report = validate(&[&bytes(&lines)], &Scope::all());
    assert_agrees(&report, &x);

    // The outage: exactly the dropped day, in every experiment.
    assert_eq!(report.experiments.len(), 3);
    for e in &report.experiments {
        assert_eq!(
            e.outages,
            vec![Outage { first_day: outage_day, last_day: outage_day }],
            "{}",
            e.experiment
        );
        let zero: Vec<i64> = e.days.iter().filter(|d| d.outage).map(|d| d.day).collect();
        assert_eq!(zero, vec![outage_day]);
    }
    // The duplicates: the generator's (its ground truth) and the 7 planted.
    let generated = expected(&lines[..lines.len() - 9], |_| true).duplicates.extra_copies();
    assert!(generated > 20, "{generated}");
    assert_eq!(report.duplicates.extra_copies(), generated + 7);
    // The bad rows: the generator's 0.2% and the 2 planted.
    let bad = report.counters.bad.total();
    assert_eq!(bad, x.bad.values().sum::<u64>());
    assert_eq!(report.counters.bad[BadReason::NotTsv], x.bad[&BadReason::NotTsv]);
    assert!(x.bad[&BadReason::NotTsv] >= 1 && x.bad[&BadReason::FieldCount] >= 1);

    let problems = report.problems();
    let outages = problems.iter().filter(|p| matches!(p, Problem::Outages { .. })).count();
    assert_eq!(outages, 3, "{problems:#?}");
    assert!(problems.contains(&Problem::BadRows {
        bad,
        lines: lines.len() as u64,
        by_reason: x.bad.iter().map(|(&r, &n)| (r, n)).collect(),
    }));
    assert!(problems.contains(&Problem::DuplicateEvents {
        copies: generated + 7,
        ids: x.duplicates.duplicated_ids,
        events: x.duplicates.tracked_events,
    }));
    assert!(
        problems.iter().any(
            |p| matches!(p, Problem::ContextsWithoutKey { count, .. } if *count == x.contexts_without_key)
        )
    );
    // The generator spreads keys evenly: no uneven split, but it plants conflicting keys.
    assert!(!problems.iter().any(|p| matches!(p, Problem::UnevenSplit { .. })), "{problems:#?}");
    assert_eq!(problems.iter().filter(|p| matches!(p, Problem::ConflictingKeys { .. })).count(), 3);
}

#[test]
fn without_the_plants_there_is_no_outage() {
    let config = GenConfig { seed: 11, events: 16_000, span_days: 10, ..GenConfig::default() };
    let lines = generate(&config);
    let report = validate(&[&bytes(&lines)], &Scope::all());
    assert_agrees(&report, &expected(&lines, |_| true));
    assert!(report.experiments.iter().all(|e| e.outages.is_empty() && e.days.iter().all(|d| !d.outage)));
}

#[test]
fn any_split_into_partitions_gives_the_same_report() {
    let (lines, _) = planted();
    let lines = bytes(&lines);
    let whole = validate(&[&lines], &Scope::all());
    let (a, rest) = lines.split_at(7_777);
    let (b, c) = rest.split_at(5_001);
    assert_eq!(validate(&[a, b, c], &Scope::all()), whole);
    assert_eq!(validate(&[c, a, b], &Scope::all()), whole);
    let chunks: Vec<&[Vec<u8>]> = lines.chunks(997).rev().collect();
    assert_eq!(validate(&chunks, &Scope::all()), whole);
}

#[test]
fn named_experiments_only_and_those_never_seen() {
    let (lines, outage_day) = planted();
    let scope = Scope::only(&["security_scan_nudge".into(), "no_such_experiment".into()]);
    let report = validate(&[&bytes(&lines)], &scope);
    let x = expected(&lines, |e| e == "security_scan_nudge");
    let names: Vec<&str> = report.experiments.iter().map(|e| e.experiment.as_str()).collect();
    assert_eq!(names, ["no_such_experiment", "security_scan_nudge"]);
    assert_eq!(report.experiments[0].events, 0);
    assert!(report.experiments[0].days.is_empty() && report.experiments[0].first_seen.is_none());
    assert_eq!(report.experiments[1].outages, vec![Outage { first_day: outage_day, last_day: outage_day }]);
    assert_eq!(report.duplicates, x.duplicates);
    let mut x = x;
    x.experiments.insert("no_such_experiment".into(), Default::default());
    assert_agrees(&report, &x);
    assert!(report.problems().contains(&Problem::NoEvents { experiment: "no_such_experiment".into() }));
}
