//! `shared/fixtures/snowplow-more`, good files (not `negative_*`, not `legacy_*`): every line of
//! these 131-field files parses, odd timestamps included (years 0001, 1970 and 2619, 9-digit
//! fractions), and its event time matches the SDK output in `<stem>.expected.json` where the
//! file has one.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use snowfunnel_parse::{ContextCounts, ContextParser, EnrichedEvent};

use crate::common::{
    CONTEXTS, DERIVED_CONTEXTS, EVENT_ID, assert_no_failures, at, check_good_line, check_injected,
    context_keys, context_schemas, expected_context_keys, experiments, files_ending, fixture_subdir,
    json_event_time, micros_of, read_json, read_lines, split_fields, text, with_experiment,
};

const DOTNET: &str = "dotnet-analytics-sdk_EventTransformerTest.tsv";

/// Lines whose JSON fields are not strict JSON: the .NET SDK test writes them with single
/// quotes (`{'schema': '...', 'data': ...}`), which Newtonsoft accepts and strict parsers
/// (serde_json, simd-json, circe) reject. Line 2 has no JSON fields.
const NON_STRICT_CONTEXTS: &[(&str, usize)] = &[(DOTNET, 1), (DOTNET, 3)];

/// An SDK's parsed output for one line.
enum Output {
    /// Lossy JSON: contexts turned into `contexts_<vendor>_<name>_<model>` keys.
    Lossy(Value),
    /// Lossless JSON: `contexts` kept as the self-describing object.
    Lossless(Value),
}

struct GoodLine {
    file: String,
    line_no: usize,
    line: Vec<u8>,
    output: Option<Output>,
}

impl GoodLine {
    fn here(&self) -> String {
        at(&self.file, self.line_no)
    }

    fn non_strict(&self) -> bool {
        NON_STRICT_CONTEXTS.contains(&(self.file.as_str(), self.line_no))
    }
}

fn is_good(name: &str) -> bool {
    !name.starts_with("negative_") && !name.starts_with("legacy_")
}

/// Every line of every good file, with the SDK output for it where the expected file has one.
/// Fails on an expected case that names a line the file does not have, or names one twice.
fn good_lines() -> Vec<GoodLine> {
    let dir = fixture_subdir("snowplow-more");
    let mut all = Vec::new();
    for tsv in files_ending(&dir, ".tsv").into_iter().filter(|name| is_good(name)) {
        let lines = read_lines(&dir.join(&tsv));
        assert!(!lines.is_empty(), "{tsv} has no line");
        let expected_path = dir.join(format!("{}.expected.json", tsv.strip_suffix(".tsv").expect(".tsv")));
        let mut outputs: BTreeMap<usize, Output> = BTreeMap::new();
        if expected_path.is_file() {
            let expected = read_json(&expected_path);
            let cases = expected.get("cases").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
            let mut seen = BTreeSet::new();
            for case in cases {
                let line_no = case["line"].as_u64().expect("case line") as usize;
                assert!(
                    (1..=lines.len()).contains(&line_no),
                    "{tsv}: expected case for missing line {line_no}"
                );
                assert!(seen.insert(line_no), "{tsv}: two expected cases for line {line_no}");
                let fields = split_fields(&lines[line_no - 1]);
                for id_key in ["event_id", "expected_event_id"] {
                    if let Some(id) = case.get(id_key).and_then(Value::as_str) {
                        assert_eq!(id, text(fields[EVENT_ID]), "{}: case {id_key}", at(&tsv, line_no));
                    }
                }
                let output = match (&case.get("expected"), &case.get("expected_sdk_event_json")) {
                    (Some(v), None) if v.is_object() => Some(Output::Lossy((*v).clone())),
                    (None, Some(v)) if v.is_object() => Some(Output::Lossless((*v).clone())),
                    (Some(Value::Null) | None, Some(Value::Null) | None) => None,
                    _ => panic!("{}: unrecognised expected case {case}", at(&tsv, line_no)),
                };
                if let Some(output) = output {
                    outputs.insert(line_no, output);
                }
            }
            if let Some(events) = expected.pointer("/aggregate_expected/events") {
                assert_eq!(events.as_u64(), Some(lines.len() as u64), "{tsv}: aggregate event count");
            }
        }
        for (i, line) in lines.into_iter().enumerate() {
            all.push(GoodLine { file: tsv.clone(), line_no: i + 1, line, output: outputs.remove(&(i + 1)) });
        }
    }
    all
}

#[test]
fn more_good_lines_parse_with_expected_times() {
    let mut parser = ContextParser::new();
    let mut failures = Vec::new();
    let mut with_output = 0;
    for good in good_lines() {
        let here = good.here();
        let Some(time) = check_good_line(&here, &good.line, &mut parser, &mut failures) else { continue };
        if let Some(Output::Lossy(output) | Output::Lossless(output)) = &good.output {
            with_output += 1;
            match json_event_time(output) {
                Ok(want) if want == time => {}
                Ok(want) => {
                    failures.push(format!("{here}: time_micros {time}, expected output gives {want}"))
                }
                Err(e) => failures.push(format!("{here}: {e}")),
            }
        }
    }
    assert!(with_output > 0, "no expected output found at all");
    assert_no_failures("snowplow-more good lines", &failures);
}

fn compare_lossy(fields: &[&[u8]], output: &Value) -> Result<(), String> {
    let own = context_keys(fields[CONTEXTS])?;
    let derived = context_keys(fields[DERIVED_CONTEXTS])?;
    let all: BTreeSet<String> = own.union(&derived).cloned().collect();
    let want = expected_context_keys(output);
    if own.is_subset(&want) && all == want {
        Ok(())
    } else {
        Err(format!("contexts {own:?} + derived {derived:?}, expected output lists {want:?}"))
    }
}

fn compare_lossless(fields: &[&[u8]], output: &Value) -> Result<(), String> {
    let own = context_schemas(fields[CONTEXTS])?;
    let want = context_schemas(serde_json::to_string(&output["contexts"]).expect("JSON").as_bytes())?;
    if own == want { Ok(()) } else { Err(format!("contexts {own:?}, expected output has {want:?}")) }
}

/// The contexts schemas (read with serde_json) against the SDK outputs: lossy outputs list
/// them as `contexts_*` keys (together with derived_contexts), lossless ones keep the object.
#[test]
fn more_good_context_schemas_match_expected_output() {
    let mut failures = Vec::new();
    let mut compared = 0;
    for good in good_lines() {
        let Some(output) = &good.output else { continue };
        if good.non_strict() {
            // Cannot be read with serde_json; see `dotnet_non_strict_contexts_are_accepted_by_design`.
            continue;
        }
        compared += 1;
        let fields = split_fields(&good.line);
        let result = match output {
            Output::Lossy(output) => compare_lossy(&fields, output),
            Output::Lossless(output) => compare_lossless(&fields, output),
        };
        if let Err(e) = result {
            failures.push(format!("{}: {e}", good.here()));
        }
    }
    assert!(compared > 0);
    assert_no_failures("snowplow-more context schemas", &failures);
}

/// Deliberate: the parser fully parses `contexts` only when it contains `gitlab_experiment`;
/// otherwise it checks only that the field looks like a JSON object. The project touches only
/// what the funnels need, so these .NET lines (single-quoted, non-strict JSON without an
/// experiment context) are accepted, while a strict SDK would reject them.
#[test]
fn dotnet_non_strict_contexts_are_accepted_by_design() {
    let mut parser = ContextParser::new();
    let lines = good_lines();
    for &(file, line_no) in NON_STRICT_CONTEXTS {
        let good = lines
            .iter()
            .find(|g| g.file == file && g.line_no == line_no)
            .unwrap_or_else(|| panic!("{} not found", at(file, line_no)));
        let event = EnrichedEvent::parse(&good.line).expect("parses");
        assert!(event.contexts().starts_with(b"{"), "{}: contexts field is JSON-like", good.here());
        assert!(context_schemas(event.contexts()).is_err(), "{}: contexts is not strict JSON", good.here());
        let (found, counts) = experiments(&mut parser, event.contexts())
            .unwrap_or_else(|e| panic!("{}: shape-checked contexts rejected: {e}", good.here()));
        assert!(found.is_empty() && counts == ContextCounts::default(), "{}", good.here());
    }
    // The list is exact: every other good line has strict JSON (or empty) contexts.
    for good in lines.iter().filter(|g| !g.non_strict()) {
        let fields = split_fields(&good.line);
        assert!(context_schemas(fields[CONTEXTS]).is_ok(), "{}: contexts is not strict JSON", good.here());
    }
}

#[test]
fn more_good_lines_with_an_injected_experiment_context() {
    let mut parser = ContextParser::new();
    let mut failures = Vec::new();
    for good in good_lines().iter().filter(|g| !g.non_strict()) {
        let key = format!("k-{}", good.line_no);
        let result = with_experiment(&good.line, &key)
            .and_then(|derived| check_injected(&mut parser, &good.line, &derived, &key));
        if let Err(e) = result {
            failures.push(format!("{}: {e}", good.here()));
        }
    }
    assert_no_failures("snowplow-more good lines with an experiment context", &failures);
}

/// The postgres-loader test events carry extreme collector_tstamp values, in the years 2619,
/// 1970 and 0001: they are valid, since a timestamp is bad only when it does not parse.
/// derived_tstamp equals collector_tstamp on these lines.
#[test]
fn odd_years_in_real_lines_parse() {
    let want = [(2619, 8, 18), (1970, 1, 1), (1, 1, 1), (1, 12, 31), (1, 1, 1)];
    let dir = fixture_subdir("snowplow-more");
    let file = "postgres-loader_test-events.tsv";
    let lines = read_lines(&dir.join(file));
    assert_eq!(lines.len(), want.len(), "{file}");
    for (i, (line, ymd)) in lines.iter().zip(want).enumerate() {
        let event = EnrichedEvent::parse(line).unwrap_or_else(|e| panic!("{}: {e}", at(file, i + 1)));
        assert_eq!(event.time_micros(), micros_of(ymd, (0, 0, 0), ""), "{}", at(file, i + 1));
    }
}
