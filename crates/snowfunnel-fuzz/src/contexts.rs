//! The `contexts` target: the experiment contexts of a `contexts` field, against an oracle.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use snowfunnel_parse::{BadReason, ContextCounts, ContextParser, EXPERIMENT_SCHEMA_PREFIX, check_shape};

/// One context handed over: (experiment, key, variant, schema version, migration keys).
type Found = (String, String, String, String, Vec<String>);

/// Reads `data` as a `contexts` field, as the three jobs do (prefilter, then simd-json), and
/// the whole field even without the marker, and the same bytes as an `unstruct_event`.
///
/// # Panics
/// On a bug, that is when:
/// - the prefilter does not answer exactly "does it contain `gitlab_experiment`";
/// - a field without it does not get the shape check, or one with it is refused for another
///   reason than [`BadReason::Contexts`];
/// - the counts do not add up (each experiment context is handed over, without a key, or
///   incomplete) or a context is handed over with an empty key;
/// - reading the same field twice with the same parser (its buffers reused) differs;
/// - where serde_json reads the field (as JSON with objects kept in order, duplicate names
///   included), simd-json does not, or finds other contexts: the oracle is the contract of
///   [`ContextParser::experiments`] applied to serde_json's tree;
/// - anything panics on the way.
pub fn contexts(data: &[u8]) {
    let mut parser = ContextParser::new();
    let marked = memchr::memmem::find(data, b"gitlab_experiment").is_some();
    assert_eq!(parser.may_have_experiments(data), marked, "the prefilter");

    let prefiltered = collect(&mut parser, data, false);
    if marked {
        // The prefilter passes: the field is parsed whole.
        let whole = collect(&mut parser, data, true);
        assert_eq!(prefiltered, whole, "the prefilter path and the whole parse");
    } else {
        let shape = check_shape(data).map(|()| (Vec::new(), ContextCounts::default()));
        assert_eq!(prefiltered, shape.map_err(|e| e.reason()), "a field without the marker");
    }
    let whole = collect(&mut parser, data, true);
    assert_eq!(whole, collect(&mut parser, data, true), "the same field read twice");

    if let Ok(tree) = serde_json::from_slice::<Json>(data) {
        let expected = expected(&tree).ok_or(BadReason::Contexts);
        assert_eq!(whole, expected, "simd-json and serde_json disagree");
    }

    match parser.unstruct_schema(data) {
        Ok(None) => assert!(data.is_empty()),
        Ok(Some(schema)) => assert!(!data.is_empty() && schema.len() <= data.len()),
        Err(e) => assert_eq!(e.reason(), BadReason::UnstructEvent),
    }
}

/// What the parser hands over for `data`: with the prefilter, or parsing it whole.
fn collect(
    parser: &mut ContextParser,
    data: &[u8],
    whole: bool,
) -> Result<(Vec<Found>, ContextCounts), BadReason> {
    let mut found = Vec::new();
    let visit = |c: snowfunnel_parse::ExperimentContext<'_>| {
        assert!(!c.key.is_empty(), "a context with an empty key");
        let _ = format!("{c:?}");
        found.push((
            c.experiment.to_owned(),
            c.key.to_owned(),
            c.variant.to_owned(),
            c.schema_version.to_owned(),
            c.migration_keys.iter().map(str::to_owned).collect(),
        ));
    };
    let result = if whole { parser.parse_experiments(data, visit) } else { parser.experiments(data, visit) };
    match result {
        Ok(counts) => {
            let handed = u32::try_from(found.len()).expect("fewer contexts than bytes");
            assert_eq!(
                counts.experiment_contexts,
                handed + counts.without_key + counts.incomplete,
                "the counts"
            );
            Ok((found, counts))
        }
        Err(e) => {
            assert_eq!(e.reason(), BadReason::Contexts);
            Err(e.reason())
        }
    }
}

/// The contract applied to a tree: the entries of the first `data` array of the top object
/// whose first `schema` is a string starting with [`EXPERIMENT_SCHEMA_PREFIX`] are experiment
/// contexts; of their first `data`, the first `key` (a non-empty string: else without key),
/// `experiment` and `variant` (strings: else incomplete), and the strings of the first
/// `migration_keys` array. `None` without a `data` array.
fn expected(tree: &Json) -> Option<(Vec<Found>, ContextCounts)> {
    let Some(Json::Array(entries)) = tree.get("data") else { return None };
    let mut found = Vec::new();
    let mut counts = ContextCounts::default();
    for entry in entries {
        let Some(version) = entry.string("schema").and_then(|s| s.strip_prefix(EXPERIMENT_SCHEMA_PREFIX))
        else {
            continue;
        };
        counts.experiment_contexts += 1;
        let data = entry.get("data");
        let field = |name| data.and_then(|d| d.string(name));
        let Some(key) = field("key").filter(|k| !k.is_empty()) else {
            counts.without_key += 1;
            continue;
        };
        let (Some(experiment), Some(variant)) = (field("experiment"), field("variant")) else {
            counts.incomplete += 1;
            continue;
        };
        let migration_keys = match data.and_then(|d| d.get("migration_keys")) {
            Some(Json::Array(keys)) => keys
                .iter()
                .filter_map(|k| match k {
                    Json::String(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        found.push((experiment.into(), key.into(), variant.into(), version.into(), migration_keys));
    }
    Some((found, counts))
}

/// JSON as serde_json reads it, objects kept as written: names in order, duplicates included.
enum Json {
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
    /// Numbers, booleans and null.
    Other,
}

impl Json {
    /// The value of the first member `name`, for an object.
    fn get(&self, name: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().find(|(n, _)| n == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The first member `name`, when it is a string.
    fn string(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Json::String(s) => Some(s),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Json, E> {
        Ok(Json::Other)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Json, E> {
        Ok(Json::Other)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Json, E> {
        Ok(Json::Other)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Json, E> {
        Ok(Json::Other)
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Other)
    }

    fn visit_str<E>(self, s: &str) -> Result<Json, E> {
        Ok(Json::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Json, E> {
        Ok(Json::String(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = map.next_entry()? {
            members.push(member);
        }
        Ok(Json::Object(members))
    }
}
