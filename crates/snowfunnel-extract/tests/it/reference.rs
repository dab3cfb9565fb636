//! The extractor and the deduplicator against a plain reference built from the generator's
//! ground truth (structs, no parsing), for every duplicate policy and filter.

use std::collections::HashMap;

use snowfunnel_extract::{
    Deduplicator, DuplicatePolicy, Environment, EnvironmentMap, EnvironmentSelection, Extract, ExtractRow,
    ExtractSpec, Extracted, Filter, MemorySpool, Records,
};
use snowfunnel_gen::{Event, GenConfig, Line, date_micros, generate};
use snowfunnel_ingest::Job;
use snowfunnel_parse::format_micros;

/// A row as text, column by column.
type Row = Vec<String>;

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn row_of(r: &ExtractRow<'_>) -> Row {
    vec![
        text(r.event_id),
        text(r.experiment),
        text(r.variant),
        text(r.context_key),
        format_micros(r.event_time_micros),
        text(r.app_id),
        r.environment.name().to_owned(),
        text(r.event),
        text(r.se_category),
        text(r.se_action),
        text(r.se_label),
        text(r.se_property),
        text(r.se_value),
        text(r.page_urlpath),
        text(r.unstruct_schema),
        text(r.context_schema_version),
        text(r.migration_keys),
    ]
}

/// What the extract should be, from the events themselves.
fn reference(lines: &[Line], spec: &ExtractSpec, policy: DuplicatePolicy) -> Vec<Row> {
    let environment = |app_id: &str| {
        if spec.environments.production.iter().any(|a| a == app_id) {
            Environment::Production
        } else if spec.environments.staging.iter().any(|a| a == app_id) {
            Environment::Staging
        } else {
            Environment::Other
        }
    };
    let keeps = |e: &Event| {
        let t = e.event_time_micros();
        spec.start.is_none_or(|s| t >= s)
            && spec.end.is_none_or(|end| t < end)
            && (spec.app_ids.is_empty() || spec.app_ids.contains(&e.app_id))
            && match spec.environment {
                EnvironmentSelection::All => true,
                EnvironmentSelection::Only(only) => environment(&e.app_id) == only,
            }
    };
    let mut events: Vec<(&Event, Vec<Row>)> = Vec::new();
    for event in lines.iter().filter_map(Line::as_event).filter(|e| keeps(e)) {
        let rows: Vec<Row> = event
            .experiments
            .iter()
            .filter(|c| spec.experiments.contains(&c.experiment))
            .filter_map(|c| {
                let key = c.key.as_ref().filter(|k| !k.is_empty())?;
                Some(vec![
                    event.event_id.clone(),
                    c.experiment.clone(),
                    c.variant.clone(),
                    key.clone(),
                    format_micros(event.event_time_micros()),
                    event.app_id.clone(),
                    environment(&event.app_id).name().to_owned(),
                    event.event.clone(),
                    event.se_category.clone(),
                    event.se_action.clone(),
                    event.se_label.clone(),
                    event.se_property.clone(),
                    event.se_value.clone(),
                    event.page_urlpath.clone(),
                    event.unstruct_schema.clone().unwrap_or_default(),
                    c.schema_version.clone(),
                    c.migration_keys.join(";"),
                ])
            })
            .collect();
        if !rows.is_empty() {
            events.push((event, rows));
        }
    }
    let mut occurrences: HashMap<&str, usize> = HashMap::new();
    for (event, _) in &events {
        *occurrences.entry(&event.event_id).or_default() += 1;
    }
    let mut seen = std::collections::HashSet::new();
    events
        .into_iter()
        .filter(|(event, _)| match policy {
            DuplicatePolicy::All => true,
            DuplicatePolicy::First => seen.insert(event.event_id.clone()),
            DuplicatePolicy::Drop => occurrences[event.event_id.as_str()] == 1,
        })
        .flat_map(|(_, rows)| rows)
        .collect()
}

/// The extract as the crate makes it: lines cut into a few buffers (as threads would spool
/// them).
fn extract(tsv: &[String], spec: &ExtractSpec) -> (Vec<Vec<u8>>, Extracted<Vec<u8>>) {
    let filter = Filter::new(spec).unwrap();
    let job = Extract::<MemorySpool>::new(&filter);
    let (mut ingester, mut state) = (job.ingester(), job.state());
    for (chunk, part) in tsv.chunks(777).enumerate() {
        for line in part {
            let _ = ingester.ingest(&mut state, line.as_bytes());
        }
        ingester.end_chunk(&mut state, 0, chunk as u64 * 777 + 1).unwrap();
    }
    let buffers = state.segments.iter().map(|(_, _, segment)| segment.clone()).collect();
    (buffers, state)
}

/// The rows of the buffers, in order, with duplicates handled by `policy`.
fn rows(buffers: &[Vec<u8>], extracted: &Extracted<Vec<u8>>, policy: DuplicatePolicy) -> Vec<Row> {
    let mut dedup = Deduplicator::new(policy);
    if dedup.needs_first_pass() {
        for buffer in buffers {
            for record in Records::new(buffer) {
                dedup.observe(record.unwrap().hash);
            }
        }
    }
    let mut rows = Vec::new();
    for buffer in buffers {
        for record in Records::new(buffer) {
            let record = record.unwrap();
            if dedup.keep(record.hash, record.row_count()) {
                rows.extend(record.rows().map(|r| row_of(&r)));
            }
        }
    }
    let stats = dedup.stats();
    let kept_rows = rows.len() as u64;
    assert_eq!(extracted.matched.rows, kept_rows + stats.rows_dropped);
    rows
}

fn specs() -> Vec<(&'static str, ExtractSpec)> {
    let all = |names: &[&str]| ExtractSpec {
        experiments: names.iter().map(|&n| n.to_owned()).collect(),
        ..ExtractSpec::default()
    };
    let one = all(&["trial_onboarding/issues"]);
    let every = all(&["pipeline_editor_walkthrough", "trial_onboarding/issues", "security_scan_nudge"]);
    vec![
        ("every experiment", every.clone()),
        ("one experiment", one.clone()),
        (
            "time window",
            ExtractSpec {
                start: Some(date_micros(2026, 3, 3) + 3_600_000_123),
                end: Some(date_micros(2026, 3, 9)),
                ..all(&["pipeline_editor_walkthrough", "security_scan_nudge"])
            },
        ),
        (
            "production",
            ExtractSpec { environment: EnvironmentSelection::Only(Environment::Production), ..one.clone() },
        ),
        (
            "staging",
            ExtractSpec { environment: EnvironmentSelection::Only(Environment::Staging), ..every.clone() },
        ),
        (
            // The generator sends experiment events from gitlab and gitlab-staging only.
            "other, production unmapped",
            ExtractSpec {
                environment: EnvironmentSelection::Only(Environment::Other),
                environments: EnvironmentMap { production: vec![], staging: vec!["gitlab-staging".into()] },
                ..every.clone()
            },
        ),
        (
            "app_id and a remapped environment",
            ExtractSpec {
                app_ids: vec!["gitlab-staging".into(), "gitlab".into()],
                environment: EnvironmentSelection::Only(Environment::Production),
                environments: EnvironmentMap { production: vec!["gitlab-staging".into()], staging: vec![] },
                ..one.clone()
            },
        ),
        ("an experiment nobody runs", all(&["no_such_experiment"])),
    ]
}

fn config(seed: u64) -> GenConfig {
    GenConfig { duplicate_share: 0.05, staging_share: 0.1, ..GenConfig::new(seed, 6_000) }
}

#[test]
fn extract_equals_the_reference_for_every_policy_and_filter() {
    for seed in [1, 2] {
        let lines = generate(&config(seed));
        let tsv: Vec<String> = lines.iter().map(Line::to_tsv).collect();
        let malformed = lines.iter().filter(|l| l.as_event().is_none()).count() as u64;
        for (name, spec) in specs() {
            let (buffers, extracted) = extract(&tsv, &spec);
            assert_eq!(extracted.counters.bad.total(), malformed, "seed {seed}, {name}");
            assert_eq!(extracted.counters.lines, lines.len() as u64);
            for policy in [DuplicatePolicy::First, DuplicatePolicy::All, DuplicatePolicy::Drop] {
                let want = reference(&lines, &spec, policy);
                let got = rows(&buffers, &extracted, policy);
                assert_eq!(got.len(), want.len(), "seed {seed}, {name}, {policy:?}");
                assert_eq!(got, want, "seed {seed}, {name}, {policy:?}");
            }
        }
    }
}

#[test]
fn the_generated_data_exercises_every_policy_and_filter() {
    // Guards the test above against passing on data that holds nothing to tell policies apart.
    let lines = generate(&config(1));
    for (name, spec) in specs() {
        let first = reference(&lines, &spec, DuplicatePolicy::First).len();
        let all = reference(&lines, &spec, DuplicatePolicy::All).len();
        let drop = reference(&lines, &spec, DuplicatePolicy::Drop).len();
        if name == "an experiment nobody runs" {
            assert_eq!(all, 0);
        } else {
            assert!(drop < first && first < all, "{name}: drop {drop}, first {first}, all {all}");
        }
    }
    let every = &specs()[0].1;
    let rows = reference(&lines, every, DuplicatePolicy::All);
    assert!(rows.iter().any(|r| !r[16].is_empty()), "no migration keys");
    assert!(rows.iter().any(|r| !r[14].is_empty()), "no unstruct schema");
    assert!(rows.iter().any(|r| r[6] == "staging") && rows.iter().any(|r| r[6] == "production"));
}
