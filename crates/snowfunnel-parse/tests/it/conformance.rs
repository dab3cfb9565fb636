//! `shared/fixtures/snowplow`: every line of every `*.tsv` parses, its contexts go through the
//! experiment parser, its event time matches the SDK's expected output, and the contexts schemas
//! match the `contexts_*` keys of that output. Then the same lines with a GitLab experiment
//! context injected.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use serde_json::Value;
use snowfunnel_parse::{ContextParser, EnrichedEvent};

use crate::common::{
    CONTEXTS, CONTEXTS_ENVELOPE, DERIVED_CONTEXTS, EVENT_ID, EXPERIMENT_SCHEMA, assert_no_failures, at,
    check_good_line, check_injected, context_keys, expected_context_keys, experiments, files_ending,
    fixture_subdir, json_event_time, read_json, read_lines, split_fields, text, with_experiment,
};

/// TSV files with no expected output upstream ("Tsv4 has no JSON counterpart upstream").
const WITHOUT_EXPECTED: &[&str] = &["snowbridge_SnowplowTsv4.tsv"];
/// The snowbridge release test: input lines and filtered subsets of them, whose Go SDK
/// `ToJson()` output is one JSONL file in another order (matched on event_id).
const RELEASE_TEST_PREFIX: &str = "snowbridge_release_test_";
const RELEASE_TEST_JSONL: &str = "snowbridge_release_test_spEnrichedToJson.expected.jsonl";
const RELEASE_TEST_INPUT: &str = "snowbridge_release_test_input.tsv";

/// Where a TSV file's expected SDK output comes from.
enum Expected {
    /// `<stem>.expected*.json` files, each for the file's only line.
    PerFile(Vec<(String, Value)>),
    /// The release test JSONL, by event_id.
    ByEventId,
    /// Listed in [`WITHOUT_EXPECTED`].
    Nothing,
}

fn expected_for(dir: &Path, tsv: &str, json_names: &[String]) -> Expected {
    if tsv.starts_with(RELEASE_TEST_PREFIX) {
        return Expected::ByEventId;
    }
    let stem = tsv.strip_suffix(".tsv").expect(".tsv");
    let prefix = format!("{stem}.expected");
    let files: Vec<(String, Value)> = json_names
        .iter()
        .filter(|name| name.starts_with(&prefix))
        .map(|name| (name.clone(), read_json(&dir.join(name))))
        .collect();
    match (files.is_empty(), WITHOUT_EXPECTED.contains(&tsv)) {
        (false, false) => Expected::PerFile(files),
        (true, true) => Expected::Nothing,
        (true, false) => panic!("{tsv} has no {prefix}*.json and is not listed in WITHOUT_EXPECTED"),
        (false, true) => panic!("{tsv} is listed in WITHOUT_EXPECTED but has expected output"),
    }
}

fn release_test_outputs(dir: &Path) -> HashMap<String, Value> {
    let mut by_id = HashMap::new();
    for (i, line) in read_lines(&dir.join(RELEASE_TEST_JSONL)).iter().enumerate() {
        let value: Value =
            serde_json::from_slice(line).unwrap_or_else(|e| panic!("{RELEASE_TEST_JSONL}:{}: {e}", i + 1));
        let id = value["event_id"].as_str().expect("event_id").to_owned();
        assert!(by_id.insert(id.clone(), value).is_none(), "duplicate event_id {id} in {RELEASE_TEST_JSONL}");
    }
    by_id
}

/// Compares one parsed line with one SDK output for it.
fn compare_with_sdk_output(fields: &[&[u8]], time: i64, expected: &Value) -> Result<(), String> {
    let expected_id = expected.get("event_id").and_then(Value::as_str);
    if expected_id != Some(text(fields[EVENT_ID])) {
        return Err(format!("expected output is for event_id {expected_id:?}"));
    }
    let want_time = json_event_time(expected)?;
    if time != want_time {
        return Err(format!("time_micros {time}, expected output gives {want_time}"));
    }
    // The SDKs put `contexts` and `derived_contexts` entries under the same `contexts_*` keys.
    let own = context_keys(fields[CONTEXTS]).map_err(|e| format!("contexts: {e}"))?;
    let derived = context_keys(fields[DERIVED_CONTEXTS]).map_err(|e| format!("derived_contexts: {e}"))?;
    let want = expected_context_keys(expected);
    if !own.is_subset(&want) {
        return Err(format!("contexts schemas {own:?} are not all in the expected output {want:?}"));
    }
    let all: BTreeSet<String> = own.union(&derived).cloned().collect();
    if all != want {
        return Err(format!("contexts + derived_contexts schemas {all:?}, expected output lists {want:?}"));
    }
    Ok(())
}

#[test]
fn snowplow_lines_parse_with_expected_time_and_context_schemas() {
    let dir = fixture_subdir("snowplow");
    let json_names = files_ending(&dir, ".json");
    let release_outputs = release_test_outputs(&dir);
    let mut release_ids_seen = BTreeSet::new();
    let mut parser = ContextParser::new();
    let mut failures = Vec::new();
    let mut lines_checked = 0;
    for tsv in files_ending(&dir, ".tsv") {
        let expected = expected_for(&dir, &tsv, &json_names);
        let lines = read_lines(&dir.join(&tsv));
        assert!(!lines.is_empty(), "{tsv} has no line");
        if let Expected::PerFile(_) = expected {
            assert_eq!(lines.len(), 1, "{tsv}: per-file expected output is for a one-line file");
        }
        for (i, line) in lines.iter().enumerate() {
            let here = at(&tsv, i + 1);
            lines_checked += 1;
            let fields = split_fields(line);
            let Some(time) = check_good_line(&here, line, &mut parser, &mut failures) else { continue };
            let outputs: Vec<(String, &Value)> = match &expected {
                Expected::PerFile(files) => files.iter().map(|(name, value)| (name.clone(), value)).collect(),
                Expected::ByEventId => {
                    let id = text(fields[EVENT_ID]);
                    if tsv == RELEASE_TEST_INPUT {
                        release_ids_seen.insert(id.to_owned());
                    }
                    let value = release_outputs
                        .get(id)
                        .unwrap_or_else(|| panic!("{here}: event_id {id} not in {RELEASE_TEST_JSONL}"));
                    vec![(RELEASE_TEST_JSONL.to_owned(), value)]
                }
                Expected::Nothing => Vec::new(),
            };
            for (name, output) in outputs {
                if let Err(e) = compare_with_sdk_output(&fields, time, output) {
                    failures.push(format!("{here} vs {name}: {e}"));
                }
            }
        }
    }
    assert!(lines_checked > 0);
    let missing: Vec<&String> = release_outputs.keys().filter(|id| !release_ids_seen.contains(*id)).collect();
    assert!(missing.is_empty(), "{RELEASE_TEST_JSONL} event_ids not in {RELEASE_TEST_INPUT}: {missing:?}");
    assert_no_failures("snowplow fixtures", &failures);
}

#[test]
fn snowplow_lines_with_an_injected_experiment_context() {
    let dir = fixture_subdir("snowplow");
    let mut parser = ContextParser::new();
    let mut failures = Vec::new();
    for tsv in files_ending(&dir, ".tsv") {
        for (i, line) in read_lines(&dir.join(&tsv)).iter().enumerate() {
            let key = format!("k-{}", i + 1);
            let result = with_experiment(line, &key)
                .and_then(|derived| check_injected(&mut parser, line, &derived, &key));
            if let Err(e) = result {
                failures.push(format!("{}: {e}", at(&tsv, i + 1)));
            }
        }
    }
    assert_no_failures("snowplow fixtures with an experiment context", &failures);
}

/// JSON puts no limit on the size of numbers (RFC 8259 section 6), Iglu schemas can declare
/// unbounded integers, and the SDKs read them (serde_json as f64, circe as big decimals). A
/// context entry with such a number must not make the parser drop the experiment context next
/// to it: the row is valid and the funnel needs only the experiment.
#[test]
fn integers_beyond_64_bits_in_another_context_keep_the_experiment() {
    let dir = fixture_subdir("snowplow");
    let line = read_lines(&dir.join("golang-sdk_fullEvent.tsv")).remove(0);
    let experiment = format!(
        r#"{{"schema":"{EXPERIMENT_SCHEMA}","data":{{"experiment":"e","key":"k-1","variant":"control"}}}}"#
    );
    let mut parser = ContextParser::new();
    let mut failures = Vec::new();
    for number in [
        "18446744073709551615",           // u64::MAX
        "-9223372036854775808",           // i64::MIN
        "18446744073709551616",           // u64::MAX + 1
        "-9223372036854775809",           // i64::MIN - 1
        "123456789012345678901234567890", // 30 digits
    ] {
        let contexts = format!(
            r#"{{"schema":"{CONTEXTS_ENVELOPE}","data":[{{"schema":"iglu:com.acme/big_numbers/jsonschema/1-0-0","data":{{"id":{number}}}}},{experiment}]}}"#
        );
        assert!(serde_json::from_str::<Value>(&contexts).is_ok(), "valid JSON: {contexts}");
        let mut fields = split_fields(&line);
        fields[CONTEXTS] = contexts.as_bytes();
        let derived = fields.join(&b'\t');
        let event = EnrichedEvent::parse(&derived).expect("parses");
        match experiments(&mut parser, event.contexts()) {
            Ok((found, _)) if found.len() == 1 && found[0].key == "k-1" => {}
            Ok(other) => failures.push(format!("number {number}: found {other:?}")),
            Err(e) => failures.push(format!("number {number}: contexts rejected: {e}")),
        }
    }
    assert_no_failures("contexts with big integers", &failures);
}
