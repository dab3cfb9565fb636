//! Property tests on generated lines: the field count decides first (`NotTsv` for one field,
//! `FieldCount` for any count but 131); 131-field lines parse exactly when their timestamps do
//! (checked against the reference parser); generated experiment contexts are all found.

use proptest::prelude::*;
use serde_json::{Value, json};
use snowfunnel_parse::{BadReason, ContextCounts, ContextParser, EnrichedEvent, RowError, parse_timestamp};

use crate::common::{
    COLLECTOR_TSTAMP, CONTEXTS_ENVELOPE, DERIVED_TSTAMP, FIELDS, Found, event_time, experiments,
    reference_micros,
};

/// A field value without tab or newline, at most 12 characters: too short to be a timestamp
/// (which needs at least 19), so it never parses as one.
fn short_field() -> impl Strategy<Value = String> {
    "[^\t\n]{0,12}"
}

/// `YYYY-MM-DD hh:mm:ss[.f]` from components, the day sometimes past the end of the month.
fn timestamp_text() -> impl Strategy<Value = String> {
    (0i64..=9999, 1i64..=12, 1i64..=31, 0i64..=23, 0i64..=59, 0i64..=59, "[0-9]{0,9}").prop_map(
        |(y, mo, d, h, mi, s, fraction)| {
            let dot = if fraction.is_empty() { "" } else { "." };
            format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}{dot}{fraction}")
        },
    )
}

/// How [`maybe_damaged_timestamp`] damages a timestamp.
#[derive(Debug, Clone)]
enum Damage {
    None,
    /// One byte replaced by a character that matters to the format.
    Replace(prop::sample::Index, char),
    /// Cut short.
    Cut(prop::sample::Index),
    /// ISO form: `T` separator and a trailing `Z` (accepted by the parser).
    Iso,
}

/// A timestamp, possibly damaged.
fn maybe_damaged_timestamp() -> impl Strategy<Value = String> {
    let damage = prop_oneof![
        2 => Just(Damage::None),
        3 => (any::<prop::sample::Index>(), prop::sample::select(&[' ', ':', '.', '-', 'T', 'Z', 'x', '0', '9'][..]))
            .prop_map(|(i, c)| Damage::Replace(i, c)),
        1 => any::<prop::sample::Index>().prop_map(Damage::Cut),
        1 => Just(Damage::Iso),
    ];
    (timestamp_text(), damage).prop_map(|(ts, damage)| match damage {
        Damage::None => ts,
        Damage::Replace(i, c) => {
            let at = i.index(ts.len());
            let mut bytes = ts.into_bytes();
            bytes[at] = u8::try_from(c).expect("ASCII");
            String::from_utf8(bytes).expect("ASCII")
        }
        Damage::Cut(i) => ts[..i.index(ts.len())].to_owned(),
        Damage::Iso => format!("{}Z", ts.replacen(' ', "T", 1)),
    })
}

/// A value for a timestamp field: empty, a short non-timestamp, or a possibly damaged timestamp.
fn timestamp_field() -> impl Strategy<Value = String> {
    prop_oneof![1 => Just(String::new()), 1 => short_field(), 4 => maybe_damaged_timestamp()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn field_count_decides_first(
        fields in prop_oneof![1 => Just(FIELDS), 4 => 1usize..200]
            .prop_flat_map(|n| prop::collection::vec(short_field(), n))
    ) {
        let line = fields.join("\t");
        let got = EnrichedEvent::parse(line.as_bytes());
        match fields.len() {
            1 => {
                prop_assert_eq!(got.as_ref().err(), Some(&RowError::NotTsv));
                prop_assert_eq!(got.err().map(|e| e.reason()), Some(BadReason::NotTsv));
            }
            FIELDS => {
                // Random short values: collector_tstamp cannot be a timestamp.
                prop_assert_eq!(got.err().map(|e| e.reason()), Some(BadReason::CollectorTstamp));
            }
            n => {
                prop_assert_eq!(got.as_ref().err(), Some(&RowError::FieldCount { found: n }));
                prop_assert_eq!(got.err().map(|e| e.reason()), Some(BadReason::FieldCount));
            }
        }
    }

    #[test]
    fn lines_of_131_fields_parse_iff_their_timestamps_do(
        mut fields in prop::collection::vec(short_field(), FIELDS),
        collector in timestamp_field(),
        derived in timestamp_field(),
    ) {
        fields[COLLECTOR_TSTAMP] = collector.clone();
        fields[DERIVED_TSTAMP] = derived.clone();
        let line = fields.join("\t");
        let got = EnrichedEvent::parse(line.as_bytes());
        let want_collector = reference_micros(&collector);
        let want_derived = if derived.is_empty() { Ok(None) } else { reference_micros(&derived).map(Some).ok_or(()) };
        match (want_collector, want_derived) {
            (None, _) => prop_assert_eq!(got.err().map(|e| e.reason()), Some(BadReason::CollectorTstamp)),
            (Some(_), Err(())) => prop_assert_eq!(got.err().map(|e| e.reason()), Some(BadReason::DerivedTstamp)),
            (Some(c), Ok(d)) => {
                let event = got.map_err(|e| TestCaseError::fail(format!("rejected: {e}")))?;
                prop_assert_eq!(event.time_micros(), event_time(c, d));
                for (i, field) in fields.iter().enumerate() {
                    prop_assert_eq!(event.field(i), field.as_bytes());
                }
            }
        }
    }

    #[test]
    fn timestamps_agree_with_the_reference(ts in maybe_damaged_timestamp()) {
        prop_assert_eq!(parse_timestamp(ts.as_bytes()).ok(), reference_micros(&ts), "{:?}", ts);
    }

    #[test]
    fn every_generated_experiment_context_is_found(entries in prop::collection::vec(entry(), 0..8)) {
        let data: Vec<Value> = entries.iter().map(Entry::to_json).collect();
        let contexts = serde_json::to_vec(&json!({"schema": CONTEXTS_ENVELOPE, "data": data})).expect("JSON");
        let mut parser = ContextParser::new();
        let (found, counts) = experiments(&mut parser, &contexts)
            .map_err(|e| TestCaseError::fail(format!("rejected: {e}")))?;
        let mut want = Vec::new();
        let mut want_counts = ContextCounts::default();
        for entry in &entries {
            let Entry::Experiment { version, experiment, key, variant, migration_keys } = entry else { continue };
            want_counts.experiment_contexts += 1;
            let Some(key) = key.as_ref().filter(|k| !k.is_empty()) else {
                want_counts.without_key += 1;
                continue;
            };
            let (Some(experiment), Some(variant)) = (experiment, variant) else {
                want_counts.incomplete += 1;
                continue;
            };
            want.push(Found {
                experiment: experiment.clone(),
                key: key.clone(),
                variant: variant.clone(),
                schema_version: (*version).to_owned(),
                migration_keys: migration_keys.clone().unwrap_or_default(),
            });
        }
        prop_assert_eq!(found, want);
        prop_assert_eq!(counts, want_counts);
    }
}

/// One entry of a generated contexts array.
#[derive(Debug, Clone)]
enum Entry {
    Other {
        name: String,
        value: Value,
    },
    Experiment {
        version: &'static str,
        experiment: Option<String>,
        key: Option<String>,
        variant: Option<String>,
        migration_keys: Option<Vec<String>>,
    },
}

impl Entry {
    fn to_json(&self) -> Value {
        match self {
            Entry::Other { name, value } => json!({
                "schema": format!("iglu:com.example/{name}/jsonschema/1-0-0"),
                "data": {"value": value, "experiment": value, "key": "not an experiment"},
            }),
            Entry::Experiment { version, experiment, key, variant, migration_keys } => {
                let mut data = serde_json::Map::new();
                if let Some(experiment) = experiment {
                    data.insert("experiment".into(), json!(experiment));
                }
                if let Some(key) = key {
                    data.insert("key".into(), json!(key));
                }
                if let Some(variant) = variant {
                    data.insert("variant".into(), json!(variant));
                }
                if let Some(keys) = migration_keys {
                    data.insert("migration_keys".into(), json!(keys));
                }
                json!({"schema": format!("iglu:com.gitlab/gitlab_experiment/jsonschema/{version}"), "data": data})
            }
        }
    }
}

fn entry() -> impl Strategy<Value = Entry> {
    // Any Unicode text, control characters included (serde_json escapes them).
    let text = || any::<String>();
    prop_oneof![
        1 => ("[a-z_]{1,12}", json_value()).prop_map(|(name, value)| Entry::Other { name, value }),
        3 => (
            prop::sample::select(&["0-3-0", "1-0-0", "1-0-3"][..]),
            prop::option::weighted(0.9, text()),
            prop::option::weighted(0.8, prop_oneof![text(), "[0-9a-f]{32}", "[0-9a-f]{64}"]),
            prop::option::weighted(0.9, prop_oneof![Just("control".to_owned()), Just("candidate".to_owned()), text()]),
            prop::option::of(prop::collection::vec(text(), 0..3)),
        )
            .prop_map(|(version, experiment, key, variant, migration_keys)| Entry::Experiment {
                version,
                experiment,
                key,
                variant,
                migration_keys,
            }),
    ]
}

/// GitLab's rule: derived_tstamp unless it is empty or not after 1970-01-01 00:00:00.
#[test]
fn event_time_uses_derived_tstamp_only_after_1970() {
    let collector = "2026-03-01 10:00:00.000";
    for (derived, uses_derived) in [
        ("", false),
        ("1970-01-01 00:00:00.000", false),
        ("1970-01-01 00:00:00", false),
        ("1969-12-31 23:59:59.999", false),
        ("0001-01-01 00:00:00.000", false),
        ("1970-01-01 00:00:00.000001", true),
        ("2026-03-01 09:59:58.5", true),
        ("2619-08-18 00:00:00.000", true),
    ] {
        let mut fields = vec![String::new(); FIELDS];
        fields[COLLECTOR_TSTAMP] = collector.to_owned();
        fields[DERIVED_TSTAMP] = derived.to_owned();
        let line = fields.join("\t");
        let event = EnrichedEvent::parse(line.as_bytes()).unwrap_or_else(|e| panic!("{derived:?}: {e}"));
        let want = if uses_derived { reference_micros(derived) } else { reference_micros(collector) };
        assert_eq!(Some(event.time_micros()), want, "derived_tstamp {derived:?}");
    }
}

/// Any JSON value serde_json can hold: 64-bit integers, finite floats, nested arrays and objects.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
