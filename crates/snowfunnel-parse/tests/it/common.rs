//! Helpers shared by the tests: fixture lookup, line splitting, and reference implementations
//! (timestamps, calendar, context schema names) written independently of the crate under test.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use snowfunnel_parse::{ContextCounts, ContextParser, EnrichedEvent, RowError};

/// Fields in a canonical enriched-event line.
pub(crate) const FIELDS: usize = 131;
/// 0-based indexes of the fields the tests look at.
pub(crate) const COLLECTOR_TSTAMP: usize = 3;
pub(crate) const EVENT_ID: usize = 6;
pub(crate) const CONTEXTS: usize = 52;
pub(crate) const UNSTRUCT_EVENT: usize = 58;
pub(crate) const DERIVED_CONTEXTS: usize = 122;
pub(crate) const DERIVED_TSTAMP: usize = 124;

/// The envelope schema of the `contexts` field.
pub(crate) const CONTEXTS_ENVELOPE: &str = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0";
/// The GitLab experiment context schema the injection tests append.
pub(crate) const EXPERIMENT_SCHEMA: &str = "iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-0";

/// `shared/fixtures`, which is cloned beside the repository. Fails (never skips) when missing.
pub(crate) fn fixtures_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    assert!(
        dir.is_dir(),
        "fixture directory not found at {} (expected `shared/` to be cloned beside the repository, \
         i.e. <repo>/../shared/fixtures)",
        dir.display()
    );
    dir
}

/// One fixture subdirectory (`snowplow` or `snowplow-more`). Fails when missing.
pub(crate) fn fixture_subdir(name: &str) -> PathBuf {
    let dir = fixtures_dir().join(name);
    assert!(dir.is_dir(), "fixture directory not found at {}", dir.display());
    dir
}

/// File names in `dir` ending in `suffix`, sorted. Fails when there are none.
pub(crate) fn files_ending(dir: &Path, suffix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").file_name().into_string().expect("UTF-8 file name"))
        .filter(|name| name.ends_with(suffix))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no *{suffix} file in {}", dir.display());
    names
}

/// The lines of a file: split on `\n`; the last line may lack its `\n`, and the empty string
/// after a final `\n` is not a line.
pub(crate) fn read_lines(path: &Path) -> Vec<Vec<u8>> {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut lines: Vec<Vec<u8>> = data.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    if lines.last().is_some_and(Vec::is_empty) {
        lines.pop();
    }
    lines
}

/// A JSON file.
pub(crate) fn read_json(path: &Path) -> Value {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_slice(&data).unwrap_or_else(|e| panic!("invalid JSON in {}: {e}", path.display()))
}

/// The tab-separated fields of a line (reference split: no limit, trailing empty fields kept).
pub(crate) fn split_fields(line: &[u8]) -> Vec<&[u8]> {
    line.split(|&b| b == b'\t').collect()
}

/// A field as text (fixtures are UTF-8).
pub(crate) fn text(field: &[u8]) -> &str {
    std::str::from_utf8(field).expect("UTF-8 field")
}

/// A `file:line` location for messages (1-based line).
pub(crate) fn at(file: &str, line_no: usize) -> String {
    format!("{file}:{line_no}")
}

/// Fails with every collected problem at once.
#[track_caller]
pub(crate) fn assert_no_failures(what: &str, failures: &[String]) {
    assert!(failures.is_empty(), "{what}: {} failure(s):\n{}", failures.len(), failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Reference timestamps and calendar.

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_year(year: i64) -> i64 {
    if is_leap(year) { 366 } else { 365 }
}

pub(crate) fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => panic!("month {month}"),
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date, by counting (deliberately not the closed
/// form the crate uses).
pub(crate) fn days_since_epoch(year: i64, month: i64, day: i64) -> i64 {
    let mut days = 0;
    if year >= 1970 {
        days += (1970..year).map(days_in_year).sum::<i64>();
    } else {
        days -= (year..1970).map(days_in_year).sum::<i64>();
    }
    days += (1..month).map(|m| days_in_month(year, m)).sum::<i64>();
    days + day - 1
}

/// Microseconds since the epoch of calendar components and a fraction given as its digits
/// (truncated to microseconds).
pub(crate) fn micros_of(ymd: (i64, i64, i64), hms: (i64, i64, i64), fraction: &str) -> i64 {
    let (year, month, day) = ymd;
    let (hour, minute, second) = hms;
    let seconds = days_since_epoch(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    let mut micros = 0;
    for i in 0..6 {
        let digit = fraction.as_bytes().get(i).map_or(0, |b| i64::from(b - b'0'));
        micros = micros * 10 + digit;
    }
    seconds * 1_000_000 + micros
}

fn number(s: &str, width: usize) -> Option<i64> {
    (s.len() == width && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().expect("digits"))
}

/// Reference timestamp parser: `YYYY-MM-DD hh:mm:ss[.f]` (enriched TSV) or
/// `YYYY-MM-DDThh:mm:ss[.f]Z` (SDK JSON output), 1 to 9 fraction digits, truncated to
/// microseconds. `None` when it does not parse or is out of range.
pub(crate) fn reference_micros(s: &str) -> Option<i64> {
    let s = s.strip_suffix('Z').unwrap_or(s);
    let (date, time) = s.split_once([' ', 'T'])?;
    let mut date_parts = date.split('-');
    let year = number(date_parts.next()?, 4)?;
    let month = number(date_parts.next()?, 2)?;
    let day = number(date_parts.next()?, 2)?;
    if date_parts.next().is_some() {
        return None;
    }
    let (hms, fraction) = match time.split_once('.') {
        Some((hms, fraction)) => (hms, fraction),
        None => (time, ""),
    };
    if time.contains('.') && (fraction.is_empty() || fraction.len() > 9) {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut time_parts = hms.split(':');
    let hour = number(time_parts.next()?, 2)?;
    let minute = number(time_parts.next()?, 2)?;
    let second = number(time_parts.next()?, 2)?;
    if time_parts.next().is_some() {
        return None;
    }
    let in_range = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    in_range.then(|| micros_of((year, month, day), (hour, minute, second), fraction))
}

/// Event time as the project defines it: `derived_tstamp` when present and after
/// 1970-01-01 00:00:00, otherwise `collector_tstamp`.
pub(crate) fn event_time(collector: i64, derived: Option<i64>) -> i64 {
    derived.filter(|&d| d > 0).unwrap_or(collector)
}

/// Event time from the raw TSV timestamp fields, with the reference parser.
pub(crate) fn tsv_event_time(fields: &[&[u8]]) -> Option<i64> {
    let collector = reference_micros(text(fields[COLLECTOR_TSTAMP]))?;
    let derived = fields[DERIVED_TSTAMP];
    let derived = if derived.is_empty() { None } else { Some(reference_micros(text(derived))?) };
    Some(event_time(collector, derived))
}

/// Event time from an SDK's parsed output (`collector_tstamp` required, `derived_tstamp`
/// optional or null), ISO 8601 strings.
pub(crate) fn json_event_time(expected: &Value) -> Result<i64, String> {
    let iso = |key: &str| -> Result<Option<i64>, String> {
        match expected.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => {
                reference_micros(s).map(Some).ok_or_else(|| format!("unparsable expected {key} {s:?}"))
            }
            Some(other) => Err(format!("expected {key} is not a string: {other}")),
        }
    };
    let collector = iso("collector_tstamp")?.ok_or("expected output has no collector_tstamp")?;
    Ok(event_time(collector, iso("derived_tstamp")?))
}

// ---------------------------------------------------------------------------------------------
// Context schemas.

/// The key an Analytics SDK gives a context schema in its JSON output
/// (`contexts_<vendor>_<name>_<model>`): vendor dots become `_`, an `_` goes before every
/// upper-case letter of the name not at its start or after `_`, all lower-cased (the Go SDK's
/// `fixSchema`; the Python, Scala, .NET and JS SDKs give the same keys on these fixtures).
pub(crate) fn context_key(schema: &str) -> String {
    let parts: Vec<&str> = schema
        .strip_prefix("iglu:")
        .unwrap_or_else(|| panic!("not an Iglu URI: {schema}"))
        .split('/')
        .collect();
    let [vendor, name, _format, version] = parts[..] else { panic!("not an Iglu URI: {schema}") };
    let model = version.split('-').next().expect("model");
    let mut snake = String::new();
    let mut prev = None;
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 && prev != Some('_') {
            snake.push('_');
        }
        snake.push(c);
        prev = Some(c);
    }
    format!("contexts_{}_{snake}_{model}", vendor.replace('.', "_")).to_lowercase()
}

/// The entry schemas of a contexts JSON field, parsed with serde_json (empty field: none).
pub(crate) fn context_schemas(field: &[u8]) -> Result<Vec<String>, String> {
    if field.is_empty() {
        return Ok(Vec::new());
    }
    let value: Value = serde_json::from_slice(field).map_err(|e| format!("not strict JSON: {e}"))?;
    let entries = value.get("data").and_then(Value::as_array).ok_or("no data array")?;
    entries
        .iter()
        .map(|entry| {
            entry
                .get("schema")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| "entry without schema".into())
        })
        .collect()
}

/// The SDK output keys of a contexts JSON field.
pub(crate) fn context_keys(field: &[u8]) -> Result<BTreeSet<String>, String> {
    Ok(context_schemas(field)?.iter().map(|s| context_key(s)).collect())
}

/// The `contexts_*` keys of an SDK's lossy JSON output.
pub(crate) fn expected_context_keys(expected: &Value) -> BTreeSet<String> {
    expected
        .as_object()
        .expect("expected output is an object")
        .keys()
        .filter(|k| k.starts_with("contexts_"))
        .cloned()
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Running the parser.

/// One experiment context as handed over by the parser, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) experiment: String,
    pub(crate) key: String,
    pub(crate) variant: String,
    pub(crate) schema_version: String,
    pub(crate) migration_keys: Vec<String>,
}

/// Runs [`ContextParser::experiments`] and collects what it hands over.
pub(crate) fn experiments(
    parser: &mut ContextParser,
    contexts: &[u8],
) -> Result<(Vec<Found>, ContextCounts), RowError> {
    let mut found = Vec::new();
    let counts = parser.experiments(contexts, |c| {
        found.push(Found {
            experiment: c.experiment.to_owned(),
            key: c.key.to_owned(),
            variant: c.variant.to_owned(),
            schema_version: c.schema_version.to_owned(),
            migration_keys: c.migration_keys.iter().map(str::to_owned).collect(),
        });
    })?;
    Ok((found, counts))
}

/// What a funnel run does with a line: split and timestamps, then the experiment contexts.
/// Returns the event time.
pub(crate) fn accept(parser: &mut ContextParser, line: &[u8]) -> Result<i64, RowError> {
    let event = EnrichedEvent::parse(line)?;
    experiments(parser, event.contexts())?;
    Ok(event.time_micros())
}

/// The line with a GitLab experiment context appended to the `data` array of its contexts
/// (a new contexts envelope when the field is empty), re-serialized with serde_json.
pub(crate) fn with_experiment(line: &[u8], key: &str) -> Result<Vec<u8>, String> {
    let mut fields = split_fields(line);
    let contexts = fields[CONTEXTS];
    let mut value: Value = if contexts.is_empty() {
        json!({"schema": CONTEXTS_ENVELOPE, "data": []})
    } else {
        serde_json::from_slice(contexts).map_err(|e| format!("contexts not strict JSON: {e}"))?
    };
    value.get_mut("data").and_then(Value::as_array_mut).ok_or("contexts without a data array")?.push(json!({
        "schema": EXPERIMENT_SCHEMA,
        "data": {"experiment": "e", "key": key, "variant": "control"},
    }));
    let new_contexts = serde_json::to_vec(&value).expect("serializable");
    assert!(!new_contexts.contains(&b'\t') && !new_contexts.contains(&b'\n'), "serde_json escapes tabs");
    fields[CONTEXTS] = &new_contexts;
    Ok(fields.join(&b'\t'))
}

/// Checks that a line built by [`with_experiment`] parses like the original except for its
/// contexts, and that the parser finds exactly the injected experiment context.
pub(crate) fn check_injected(
    parser: &mut ContextParser,
    original: &[u8],
    derived: &[u8],
    key: &str,
) -> Result<(), String> {
    let before = EnrichedEvent::parse(original).map_err(|e| format!("original line: {e}"))?;
    let after = EnrichedEvent::parse(derived).map_err(|e| format!("line with experiment: {e}"))?;
    for i in (0..FIELDS).filter(|&i| i != CONTEXTS) {
        if before.field(i) != after.field(i) {
            return Err(format!("field {i} changed by the injection"));
        }
    }
    if before.time_micros() != after.time_micros() {
        return Err("event time changed by the injection".into());
    }
    let mut schemas_before = context_schemas(before.contexts())?;
    schemas_before.push(EXPERIMENT_SCHEMA.to_owned());
    let schemas_after = context_schemas(after.contexts())?;
    if schemas_before != schemas_after {
        return Err(format!("contexts schemas {schemas_after:?}, want {schemas_before:?}"));
    }
    let (found, counts) = experiments(parser, after.contexts()).map_err(|e| format!("experiments: {e}"))?;
    let want = Found {
        experiment: "e".into(),
        key: key.into(),
        variant: "control".into(),
        schema_version: "1-0-0".into(),
        migration_keys: Vec::new(),
    };
    if found != [want] {
        return Err(format!("found {found:?}"));
    }
    if counts != (ContextCounts { experiment_contexts: 1, without_key: 0, incomplete: 0 }) {
        return Err(format!("counts {counts:?}"));
    }
    Ok(())
}

#[test]
fn reference_helpers_agree_with_known_values() {
    assert_eq!(days_since_epoch(1970, 1, 1), 0);
    assert_eq!(days_since_epoch(2000, 3, 1), 11_017);
    // Python: date(1, 1, 1).toordinal() == 1 and date(1970, 1, 1).toordinal() == 719_163.
    assert_eq!(days_since_epoch(1, 1, 1), -719_162);
    assert_eq!(reference_micros("2013-11-26 00:02:05"), Some(1_385_424_125_000_000));
    assert_eq!(reference_micros("2013-11-26T00:02:05Z"), Some(1_385_424_125_000_000));
    assert_eq!(reference_micros("2021-09-17T09:05:29.589999999Z"), Some(1_631_869_529_589_999));
    assert_eq!(reference_micros("1969-12-31 23:59:59.5"), Some(-500_000));
    for bad in ["", "2013-11-26", "2013-02-29 00:00:00", "2013-11-26 00:02:05.", "29th May 2013 18:04:12"] {
        assert_eq!(reference_micros(bad), None, "{bad}");
    }
    assert_eq!(
        context_key("iglu:org.w3/PerformanceTiming/jsonschema/1-0-0"),
        "contexts_org_w3_performance_timing_1"
    );
    assert_eq!(context_key("iglu:com.acme/justInts/jsonschema/1-0-0"), "contexts_com_acme_just_ints_1");
    assert_eq!(
        context_key("iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0"),
        "contexts_com_snowplowanalytics_snowplow_ua_parser_context_1"
    );
}

/// Checks a fixture line that must be accepted: 131 fields, every field as a plain split gives
/// it, no experiment context, and the event time the raw fields give. Returns the event time,
/// or `None` (with the failure noted) when the line does not parse.
pub(crate) fn check_good_line(
    here: &str,
    line: &[u8],
    parser: &mut ContextParser,
    failures: &mut Vec<String>,
) -> Option<i64> {
    let fields = split_fields(line);
    assert_eq!(fields.len(), FIELDS, "{here}: fixture line does not have 131 fields");
    let event = match EnrichedEvent::parse(line) {
        Ok(event) => event,
        Err(e) => {
            failures.push(format!("{here}: parse: {e}"));
            return None;
        }
    };
    if let Some(i) = (0..FIELDS).find(|&i| event.field(i) != fields[i]) {
        failures.push(format!("{here}: field {i} differs from a plain split on tabs"));
    }
    match experiments(parser, event.contexts()) {
        Ok((found, counts)) if found.is_empty() && counts == ContextCounts::default() => {}
        Ok(other) => failures.push(format!("{here}: unexpected experiment contexts {other:?}")),
        Err(e) => failures.push(format!("{here}: contexts: {e}")),
    }
    let time = event.time_micros();
    if tsv_event_time(&fields) != Some(time) {
        failures.push(format!("{here}: time_micros {time}, raw fields give {:?}", tsv_event_time(&fields)));
    }
    Some(time)
}
