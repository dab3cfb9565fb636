//! `shared/fixtures/snowplow-more`, `negative_*` and `legacy_*` files, driven by their
//! `.expected.json` / `.meta.json`: every case is classified, none is skipped silently.
//!
//! * A line whose field count is not 131 is rejected as `NotTsv` (1 field) or `FieldCount`.
//! * A 131-field line must be listed in [`CLASSIFIED`]: rejected when its problem is in a field
//!   the parser reads, accepted when the SDK complains only about fields the parser never reads.
//!   A new negative case that the table does not list fails the test.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use snowfunnel_parse::{BadReason, ContextParser, EnrichedEvent, RowError};

use crate::common::{
    COLLECTOR_TSTAMP, FIELDS, UNSTRUCT_EVENT, accept, assert_no_failures, at, files_ending, fixture_subdir,
    read_json, read_lines, split_fields,
};

const DOTNET: &str = "negative_dotnet-analytics-sdk_EventTransformerTest.tsv";
const JS: &str = "negative_js-analytics-sdk_index-spec.tsv";
const RDB_SPECS: &str = "negative_rdb-loader_transformer-batch-specs.tsv";
const SCALA: &str = "negative_scala-analytics-sdk_EventSpec.tsv";

/// Fields the parser reads (the others are never looked at).
const READ_FIELDS: &[&str] = &["collector_tstamp", "derived_tstamp", "contexts", "unstruct_event"];

/// What the project does with a 131-field negative line.
#[derive(Debug)]
enum Outcome {
    /// Rejected with `reason`; the SDK's expected error names `sdk_field` too.
    Rejected { reason: BadReason, sdk_field: &'static str },
    /// Rejected with `reason` for a required field that the SDK which wrote the test does not
    /// check (it names only `sdk_fields`, which the parser never reads).
    RejectedForAnotherField { reason: BadReason, sdk_fields: &'static [&'static str] },
    /// Accepted by design: the SDK names only `sdk_fields`, which the parser never reads. The
    /// project validates only the fields a funnel needs; a strict all-fields mode is not
    /// implemented.
    AcceptedByDesign { sdk_fields: &'static [&'static str] },
}

/// Every negative case with 131 fields, by file and 1-based line.
const CLASSIFIED: &[(&str, usize, Outcome)] = &[
    // .NET TestMalformedField / TestMultipleMalformedField: every field is empty except
    // tr_tax_base (and dvce_ismobile). The .NET SDK does not require collector_tstamp (its
    // `semantics` says so; the Scala SDK does), so its error names only the fields it cannot
    // parse; the parser rejects the line for its empty collector_tstamp.
    (
        DOTNET,
        2,
        Outcome::RejectedForAnotherField { reason: BadReason::CollectorTstamp, sdk_fields: &["tr_tax_base"] },
    ),
    (
        DOTNET,
        3,
        Outcome::RejectedForAnotherField {
            reason: BadReason::CollectorTstamp,
            sdk_fields: &["dvce_ismobile", "tr_tax_base"],
        },
    ),
    // JS "should fail on one field" / "should fail on multiple fields": a full, valid event except
    // tr_tax_base (and dvce_ismobile), which no funnel reads: accepted by design.
    (JS, 1, Outcome::AcceptedByDesign { sdk_fields: &["tr_tax_base"] }),
    (JS, 2, Outcome::AcceptedByDesign { sdk_fields: &["dvce_ismobile", "tr_tax_base"] }),
    // rdb-loader InvalidEnrichedEventsSpec: collector_tstamp "29th May 2013 18:04:12".
    (RDB_SPECS, 1, Outcome::Rejected { reason: BadReason::CollectorTstamp, sdk_field: "collector_tstamp" }),
    // rdb-loader InvalidJsonsSpec: contexts "&&&" (and unstruct_event "|%|").
    (RDB_SPECS, 2, Outcome::Rejected { reason: BadReason::Contexts, sdk_field: "contexts" }),
    // Scala EventSpec "fail (and combine errors) if values are invalid": empty collector_tstamp.
    (SCALA, 1, Outcome::Rejected { reason: BadReason::CollectorTstamp, sdk_field: "collector_tstamp" }),
];

/// The SDK's expected error of a case, as text (whichever form the file uses).
fn sdk_error_text(case: &Value) -> String {
    let parts: Vec<String> = ["expected_error", "expected_error_prefix", "expected_errors"]
        .iter()
        .filter_map(|key| case.get(*key))
        .map(Value::to_string)
        .collect();
    assert!(!parts.is_empty(), "case without an expected error: {case}");
    parts.join(" ")
}

/// The cases of an expected/meta file, checked to cover every line of `lines` exactly once.
fn cases_covering(json_path: &Path, tsv: &str, lines: usize) -> Vec<Value> {
    let json = read_json(json_path);
    let cases =
        json["cases"].as_array().unwrap_or_else(|| panic!("{}: no cases", json_path.display())).clone();
    let numbers: Vec<usize> = cases.iter().map(|c| c["line"].as_u64().expect("case line") as usize).collect();
    let unique: BTreeSet<usize> = numbers.iter().copied().collect();
    let all: BTreeSet<usize> = (1..=lines).collect();
    assert!(
        numbers.len() == unique.len() && unique == all,
        "{tsv}: cases must cover lines 1..={lines} once each, got {numbers:?}"
    );
    cases
}

/// The reason for a line whose field count is not 131.
fn field_count_error(fields: usize) -> RowError {
    if fields == 1 { RowError::NotTsv } else { RowError::FieldCount { found: fields } }
}

#[test]
fn legacy_lines_are_rejected_for_their_field_count() {
    let dir = fixture_subdir("snowplow-more");
    let mut checked = 0;
    for tsv in files_ending(&dir, ".tsv").into_iter().filter(|n| n.starts_with("legacy_")) {
        let meta = dir.join(tsv.replace(".tsv", ".meta.json"));
        assert!(meta.is_file(), "{tsv} has no {}", meta.display());
        let lines = read_lines(&dir.join(&tsv));
        for case in cases_covering(&meta, &tsv, lines.len()) {
            let line_no = case["line"].as_u64().expect("line") as usize;
            let here = at(&tsv, line_no);
            let fields = case["fields"].as_u64().expect("fields") as usize;
            let line = &lines[line_no - 1];
            assert_eq!(split_fields(line).len(), fields, "{here}: field count in the meta file");
            assert_ne!(fields, FIELDS, "{here}: legacy lines are shorter layouts");
            assert_eq!(EnrichedEvent::parse(line).err(), Some(field_count_error(fields)), "{here}");
            assert_eq!(
                EnrichedEvent::parse(line).err().map(|e| e.reason()),
                Some(BadReason::FieldCount),
                "{here}"
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no legacy line found");
}

#[test]
fn negative_lines_are_classified_and_handled() {
    let dir = fixture_subdir("snowplow-more");
    let mut parser = ContextParser::new();
    let mut failures = Vec::new();
    let mut used = BTreeSet::new();
    let mut checked = 0;
    for tsv in files_ending(&dir, ".tsv").into_iter().filter(|n| n.starts_with("negative_")) {
        let expected = dir.join(tsv.replace(".tsv", ".expected.json"));
        assert!(expected.is_file(), "{tsv} has no {}", expected.display());
        let lines = read_lines(&dir.join(&tsv));
        for case in cases_covering(&expected, &tsv, lines.len()) {
            checked += 1;
            let line_no = case["line"].as_u64().expect("line") as usize;
            let here = at(&tsv, line_no);
            let line = &lines[line_no - 1];
            let fields =
                case["fields"].as_u64().unwrap_or_else(|| panic!("{here}: case without fields")) as usize;
            assert_eq!(split_fields(line).len(), fields, "{here}: field count in the expected file");
            let sdk_error = sdk_error_text(&case);

            if fields != FIELDS {
                let want = field_count_error(fields);
                let got = EnrichedEvent::parse(line).err();
                if got.as_ref() != Some(&want) {
                    failures.push(format!("{here}: got {got:?}, want {want:?} (SDK: {sdk_error})"));
                }
                if let Some(err) = got {
                    let reason = err.reason();
                    let want_reason = if fields == 1 { BadReason::NotTsv } else { BadReason::FieldCount };
                    if reason != want_reason {
                        failures.push(format!("{here}: reason {reason}, want {want_reason}"));
                    }
                }
                continue;
            }

            let Some(index) = CLASSIFIED.iter().position(|(f, l, _)| *f == tsv && *l == line_no) else {
                failures.push(format!(
                    "{here}: 131-field negative case not classified in CLASSIFIED (SDK: {sdk_error})"
                ));
                continue;
            };
            used.insert(index);
            let outcome = &CLASSIFIED[index].2;
            let result = accept(&mut parser, line).map_err(|e| e.reason());
            match outcome {
                Outcome::Rejected { reason, sdk_field } => {
                    if !sdk_error.contains(sdk_field) {
                        failures.push(format!("{here}: SDK error does not name {sdk_field}: {sdk_error}"));
                    }
                    if result != Err(*reason) {
                        failures.push(format!("{here}: got {result:?}, want Err({reason:?})"));
                    }
                }
                Outcome::RejectedForAnotherField { reason, sdk_fields } => {
                    check_names_only_unread(&here, &sdk_error, sdk_fields, &mut failures);
                    if result != Err(*reason) {
                        failures.push(format!("{here}: got {result:?}, want Err({reason:?})"));
                    }
                }
                Outcome::AcceptedByDesign { sdk_fields } => {
                    check_names_only_unread(&here, &sdk_error, sdk_fields, &mut failures);
                    if let Err(reason) = result {
                        failures.push(format!("{here}: rejected as {reason}, but it is accepted by design"));
                    }
                }
            }

            // The parse step alone: a bad collector_tstamp fails it; contexts are checked after it.
            let parsed = EnrichedEvent::parse(line);
            let fields_of_line = split_fields(line);
            match outcome {
                Outcome::Rejected { reason: BadReason::CollectorTstamp, .. }
                | Outcome::RejectedForAnotherField { reason: BadReason::CollectorTstamp, .. } => {
                    if parsed.as_ref().map_err(RowError::reason).err() != Some(BadReason::CollectorTstamp) {
                        failures.push(format!(
                            "{here}: collector_tstamp {:?} not rejected by EnrichedEvent::parse",
                            String::from_utf8_lossy(fields_of_line[COLLECTOR_TSTAMP])
                        ));
                    }
                }
                _ => {
                    if let Err(e) = &parsed {
                        failures.push(format!("{here}: EnrichedEvent::parse: {e}"));
                    }
                }
            }
            // An unstruct_event the SDK rejects is rejected too when a funnel step reads it.
            if let Ok(event) = parsed
                && sdk_error.contains("unstruct_event")
            {
                let got = parser.unstruct_schema(event.unstruct_event()).map_err(|e| e.reason()).err();
                if got != Some(BadReason::UnstructEvent) {
                    failures.push(format!(
                        "{here}: unstruct_event {:?} not rejected: {got:?}",
                        String::from_utf8_lossy(fields_of_line[UNSTRUCT_EVENT])
                    ));
                }
            }
        }
    }
    assert!(checked > 0, "no negative case found");
    for (index, (file, line_no, outcome)) in CLASSIFIED.iter().enumerate() {
        if !used.contains(&index) {
            failures.push(format!(
                "{}: listed in CLASSIFIED ({outcome:?}) but no such 131-field case",
                at(file, *line_no)
            ));
        }
    }
    assert_no_failures("negative fixtures", &failures);
}

/// The SDK's error names each of `sdk_fields` and none of the fields the parser reads.
fn check_names_only_unread(here: &str, sdk_error: &str, sdk_fields: &[&str], failures: &mut Vec<String>) {
    for field in sdk_fields {
        if !sdk_error.contains(field) {
            failures.push(format!("{here}: SDK error does not name {field}: {sdk_error}"));
        }
    }
    for field in READ_FIELDS {
        if sdk_error.contains(field) {
            failures.push(format!("{here}: SDK error names {field}, which the parser reads: {sdk_error}"));
        }
    }
}

/// Every JSON description in the directory belongs to a TSV file, so no case is orphaned.
#[test]
fn every_expected_file_has_its_tsv() {
    let dir = fixture_subdir("snowplow-more");
    let tsvs: BTreeSet<String> = files_ending(&dir, ".tsv").into_iter().collect();
    for name in files_ending(&dir, ".json") {
        let stem = name.split('.').next().expect("stem");
        assert!(tsvs.contains(&format!("{stem}.tsv")), "{name} has no {stem}.tsv");
    }
}
