//! Lines a consumer must reject. Each starts as a good experiment event, so a consumer that does
//! not reject it would count its key: that is what makes these lines a useful test.

use crate::model::{Event, Line, MalformedKind};
use crate::rng::Rand;

const CONTEXTS: usize = 52;
const COLLECTOR_TSTAMP: usize = 3;
const DERIVED_TSTAMP: usize = 124;

/// Breaks `event`'s line in one of the [`MalformedKind`] ways.
pub(crate) fn break_event(rand: &mut Rand, event: &Event) -> Line {
    let kinds = [
        MalformedKind::FieldCount,
        MalformedKind::BadContextsJson,
        MalformedKind::BadCollectorTimestamp,
        MalformedKind::BadDerivedTimestamp,
        MalformedKind::Empty,
    ];
    let kind = kinds[rand.weighted(&[30, 30, 15, 15, 10])];
    let line = event.to_tsv();
    let mut fields: Vec<&str> = line.split('\t').collect();
    let truncated;
    match kind {
        MalformedKind::FieldCount => {
            if rand.chance(0.5) {
                fields.remove(rand.index(fields.len()));
            } else {
                fields.insert(rand.index(fields.len() + 1), rand.pick(&["", "", "extra", "1"]));
            }
        }
        MalformedKind::BadContextsJson => {
            truncated = truncate_contexts(rand, fields[CONTEXTS]);
            fields[CONTEXTS] = &truncated;
        }
        MalformedKind::BadCollectorTimestamp => {
            fields[COLLECTOR_TSTAMP] = rand.pick(&["29th May 2013 18:04:12", ""]);
        }
        MalformedKind::BadDerivedTimestamp => {
            fields[DERIVED_TSTAMP] = rand.pick(&["2026-13-45 99:00:00", "29th May 2013 18:04:12"]);
        }
        MalformedKind::Empty => fields.clear(),
    }
    Line::Malformed { text: fields.join("\t"), kind }
}

/// A strict prefix of `contexts` that still holds `gitlab_experiment` (a prefix of a JSON object
/// is never valid JSON).
fn truncate_contexts(rand: &mut Rand, contexts: &str) -> String {
    const MARKER: &str = "gitlab_experiment";
    let Some(found) = contexts.find(MARKER) else {
        return format!(r#"{{"schema":"iglu:com.gitlab/{MARKER}/jsonschema/1-0-0","data":{{"experiment":"#);
    };
    let from = found + MARKER.len();
    let mut cut = from + rand.index(contexts.len() - from);
    while !contexts.is_char_boundary(cut) {
        cut -= 1;
    }
    contexts[..cut].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_marker_and_breaks_json() {
        let contexts = r#"{"schema":"c","data":[{"schema":"iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-0","data":{"key":"é"}}]}"#;
        let mut rand = Rand::seeded(5);
        for _ in 0..200 {
            let cut = truncate_contexts(&mut rand, contexts);
            assert!(cut.contains("gitlab_experiment"));
            assert!(serde_json::from_str::<serde_json::Value>(&cut).is_err(), "{cut}");
        }
        let made_up = truncate_contexts(&mut rand, "{}");
        assert!(made_up.contains("gitlab_experiment"));
        assert!(serde_json::from_str::<serde_json::Value>(&made_up).is_err());
    }
}
