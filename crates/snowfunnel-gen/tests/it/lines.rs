//! The shape of each line: field count, no stray newlines, JSON that says what the struct says.

use std::sync::OnceLock;

use serde_json::Value;
use snowfunnel_gen::{
    AVERAGE_LINE_BYTES, EXPERIMENT_SCHEMA_PREFIX, Event, ExperimentContext, FIELD_COUNT, GenConfig, Line,
    MalformedKind, format_timestamp, generate,
};

const CONTEXTS: usize = 52;
const UNSTRUCT_EVENT: usize = 58;
const DERIVED_CONTEXTS: usize = 122;

/// One 10k-line run shared by the tests of this module.
fn sample() -> &'static [Line] {
    static SAMPLE: OnceLock<Vec<Line>> = OnceLock::new();
    SAMPLE.get_or_init(|| generate(&GenConfig::new(11, 10_000)))
}

fn events(lines: &[Line]) -> impl Iterator<Item = &Event> {
    lines.iter().filter_map(Line::as_event)
}

#[test]
fn events_have_131_fields_and_no_newline() {
    for event in events(sample()) {
        let line = event.to_tsv();
        assert_eq!(line.split('\t').count(), FIELD_COUNT, "{line}");
        assert!(!line.contains('\n') && !line.contains('\r'), "{line}");
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields[0], event.app_id);
        assert_eq!(fields[1], event.platform);
        assert_eq!(fields[3], format_timestamp(event.collector_micros));
        assert_eq!(fields[5], event.event);
        assert_eq!(fields[6], event.event_id);
        assert_eq!(fields[35], event.page_urlpath);
        assert_eq!(
            &fields[53..58],
            &[
                event.se_category.as_str(),
                &event.se_action,
                &event.se_label,
                &event.se_property,
                &event.se_value
            ]
        );
        let derived = event.derived_micros.map(format_timestamp).unwrap_or_default();
        assert_eq!(fields[124], derived);
        for index in [CONTEXTS, UNSTRUCT_EVENT, DERIVED_CONTEXTS] {
            if !fields[index].is_empty() {
                serde_json::from_str::<Value>(fields[index]).unwrap_or_else(|e| panic!("field {index}: {e}"));
            }
        }
    }
}

#[test]
fn malformed_lines_are_broken_as_labelled() {
    let lines = &generate(&GenConfig { malformed_share: 0.1, ..GenConfig::new(12, 3_000) });
    let mut kinds = std::collections::BTreeSet::new();
    for line in lines {
        let Line::Malformed { text, kind } = line else { continue };
        kinds.insert(*kind);
        assert!(!text.contains('\n'));
        let fields: Vec<&str> = text.split('\t').collect();
        match kind {
            MalformedKind::FieldCount => assert_ne!(fields.len(), FIELD_COUNT),
            MalformedKind::Empty => assert!(text.is_empty()),
            MalformedKind::BadContextsJson => {
                assert_eq!(fields.len(), FIELD_COUNT);
                assert!(fields[CONTEXTS].contains("gitlab_experiment"));
                assert!(serde_json::from_str::<Value>(fields[CONTEXTS]).is_err());
            }
            MalformedKind::BadCollectorTimestamp => {
                assert_eq!(fields.len(), FIELD_COUNT);
                assert!(fields[3].is_empty() || !fields[3].starts_with("20"), "{}", fields[3]);
            }
            MalformedKind::BadDerivedTimestamp => {
                assert_eq!(fields.len(), FIELD_COUNT);
                assert!(["2026-13-45 99:00:00", "29th May 2013 18:04:12"].contains(&fields[124]));
            }
        }
    }
    assert_eq!(kinds.len(), 5, "all kinds appear in 300 malformed lines: {kinds:?}");
}

/// The `gitlab_experiment` entries of a contexts field, read back with serde_json.
fn experiment_entries(contexts: &str) -> Vec<ExperimentContext> {
    let value: Value = serde_json::from_str(contexts).unwrap();
    assert_eq!(value["schema"], "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1");
    let text = |v: &Value| v.as_str().map(str::to_string);
    value["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|entry| {
            let version = entry["schema"].as_str().unwrap().strip_prefix(EXPERIMENT_SCHEMA_PREFIX)?;
            let data = &entry["data"];
            let migration_keys = data["migration_keys"]
                .as_array()
                .map_or(Vec::new(), |keys| keys.iter().map(|k| k.as_str().unwrap().to_string()).collect());
            Some(ExperimentContext {
                schema_version: version.to_string(),
                experiment: text(&data["experiment"]).unwrap(),
                key: text(&data["key"]),
                variant: text(&data["variant"]).unwrap(),
                migration_keys,
            })
        })
        .collect()
}

#[test]
fn experiment_contexts_match_the_struct() {
    let lines = sample();
    let mut checked = 0;
    for event in events(lines) {
        let line = event.to_tsv();
        let contexts = line.split('\t').nth(CONTEXTS).unwrap();
        assert_eq!(experiment_entries(contexts), event.experiments, "{contexts}");
        checked += usize::from(!event.experiments.is_empty());
    }
    assert!(checked > 2_000, "{checked}");
}

#[test]
fn json_layout_varies() {
    let lines = sample();
    let contexts: Vec<String> = events(lines)
        .filter(|e| !e.experiments.is_empty())
        .map(|e| e.to_tsv().split('\t').nth(CONTEXTS).unwrap().to_string())
        .collect();
    assert!(contexts.iter().any(|c| c.contains(r"iglu:com.gitlab\/gitlab_experiment\/jsonschema\/")));
    assert!(contexts.iter().any(|c| c.contains(r#""data": ["#)));
    assert!(contexts.iter().any(|c| c.contains(r#""key": null"#) || c.contains(r#""key":null"#)));
    assert!(contexts.iter().any(|c| c.contains(r#"{"data":{"#)));
    for version in ["0-3-0", "1-0-0", "1-0-3"] {
        assert!(contexts.iter().any(|c| c.contains(&format!("gitlab_experiment/jsonschema/{version}"))));
    }
}

#[test]
fn lines_have_realistic_length() {
    let lines = sample();
    let lengths: Vec<usize> = events(lines).map(|e| e.to_tsv().len() + 1).collect();
    let average = lengths.iter().sum::<usize>() / lengths.len();
    assert!((1_200..=1_800).contains(&average), "average {average}");
    let all = lines.iter().map(|l| l.to_tsv().len() as u64 + 1).sum::<u64>() / lines.len() as u64;
    let drift = all.abs_diff(AVERAGE_LINE_BYTES) as f64 / AVERAGE_LINE_BYTES as f64;
    assert!(drift < 0.05, "AVERAGE_LINE_BYTES should be about {all}");
}

#[test]
fn bare_lines_carry_the_same_events_and_only_what_a_funnel_reads() {
    let config = GenConfig { experiment_share: 1.0, other_key_share: 0.2, ..GenConfig::new(4, 3_000) };
    let full = generate(&config);
    let bare = generate(&GenConfig { bare_lines: true, ..config });
    assert_eq!(full.len(), bare.len());
    let (mut full_bytes, mut bare_bytes, mut other_shapes) = (0, 0, 0);
    for (full, bare) in full.iter().zip(&bare) {
        let (Some(full), Some(bare)) = (full.as_event(), bare.as_event()) else { continue };
        assert!(bare.bare && !full.bare);
        assert_eq!(*bare, Event { bare: true, ..full.clone() }, "the same event, written bare");
        let line = bare.to_tsv();
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), FIELD_COUNT, "{line}");
        assert_eq!(fields[3], format_timestamp(bare.collector_micros));
        assert_eq!(fields[35], bare.page_urlpath);
        let contexts: Value = serde_json::from_str(fields[CONTEXTS]).unwrap();
        let entries = contexts["data"].as_array().unwrap();
        assert_eq!(entries.len(), bare.experiments.len(), "experiment entries only: {line}");
        for (entry, context) in entries.iter().zip(&bare.experiments) {
            assert!(entry["schema"].as_str().unwrap().starts_with(EXPERIMENT_SCHEMA_PREFIX));
            let key = context.key.as_deref();
            assert_eq!(entry["data"]["key"].as_str(), key);
            other_shapes += usize::from(key.is_some_and(|k| !k.bytes().all(|b| b.is_ascii_hexdigit())));
        }
        assert_eq!(fields[UNSTRUCT_EVENT].is_empty(), bare.unstruct_schema.is_none());
        assert!(fields[DERIVED_CONTEXTS].is_empty() && fields[77].is_empty(), "no filler: {line}");
        full_bytes += full.to_tsv().len();
        bare_bytes += line.len();
    }
    assert!(bare_bytes * 2 < full_bytes, "bare {bare_bytes} bytes, full {full_bytes}");
    assert!(other_shapes > 0, "some keys in other shapes");
}
