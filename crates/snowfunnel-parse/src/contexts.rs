//! Finding GitLab experiment contexts in the `contexts` JSON.
//!
//! Most events carry no experiment context, so a substring search for `gitlab_experiment` comes
//! first; only lines that contain it are parsed, with simd-json into a tape whose buffers are
//! reused from line to line. Lines without it get a cheap shape check (a JSON object or empty),
//! so garbage in the field is still a bad row.

use memchr::memmem::Finder;
use simd_json::prelude::*;
use simd_json::{Buffers, Tape};

use crate::RowError;

/// The schema of GitLab's experiment context, without its version.
pub const EXPERIMENT_SCHEMA_PREFIX: &str = "iglu:com.gitlab/gitlab_experiment/jsonschema/";

/// What the prefilter looks for, `gitlab_experiment`, in two parts (see
/// [`ContextParser::may_have_experiments`]).
const MARKER_HEAD: &[u8] = b"gitlab";
const MARKER_TAIL: &[u8] = b"_experiment";

/// One experiment context entry with a key, borrowed from the parser's scratch buffer.
#[derive(Clone, Copy, Debug)]
pub struct ExperimentContext<'t> {
    /// Experiment name (may contain `/`).
    pub experiment: &'t str,
    /// The context key: an opaque subject identifier (never empty here).
    pub key: &'t str,
    /// The variant the key was assigned (`control`, `candidate`, ...).
    pub variant: &'t str,
    /// The schema version, e.g. `1-0-3`.
    pub schema_version: &'t str,
    /// Older keys of the same subject.
    pub migration_keys: MigrationKeys<'t>,
    /// Whether the schema is [`EXPERIMENT_SCHEMA_PREFIX`] exactly; `false` for one that matches
    /// it only when letter case is ignored (found under [`SchemaMatch::IgnoreCase`] only).
    pub exact_schema: bool,
}

/// How the schema of a context is matched against [`EXPERIMENT_SCHEMA_PREFIX`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SchemaMatch {
    /// Byte for byte: snowfunnel's rule.
    #[default]
    Exact,
    /// Ignoring ASCII letter case, as GitLab's warehouse models do (`LOWER(schema) LIKE
    /// 'iglu:com.gitlab/gitlab_experiment/jsonschema/%'`). The contexts found this way only are
    /// visited with [`ExperimentContext::exact_schema`] `false`, and left out of
    /// [`ContextCounts`], which count exact matches whatever the rule.
    IgnoreCase,
}

/// The `migration_keys` of an experiment context: older keys of the same subject.
#[derive(Clone, Copy, Default)]
pub struct MigrationKeys<'t> {
    keys: Option<simd_json::tape::Array<'t, 't>>,
}

impl<'t> MigrationKeys<'t> {
    /// The keys that are strings, in order.
    pub fn iter(&self) -> impl Iterator<Item = &'t str> + '_ {
        self.keys.iter().flat_map(|a| a.iter()).filter_map(ValueIntoString::into_string)
    }
}

impl std::fmt::Debug for MigrationKeys<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// What [`ContextParser::experiments`] saw besides the contexts it handed over.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContextCounts {
    /// Experiment context entries found (with or without a key).
    pub experiment_contexts: u32,
    /// Entries without a key (or with an empty one): counted, then ignored.
    pub without_key: u32,
    /// Entries with a key but without a string `experiment` or `variant`: counted, then ignored.
    pub incomplete: u32,
}

/// Reusable state for parsing the JSON fields of many lines without allocating per line.
pub struct ContextParser {
    schema_match: SchemaMatch,
    marker: Finder<'static>,
    scratch: Vec<u8>,
    buffers: Buffers,
    tape: Option<Tape<'static>>,
}

impl Default for ContextParser {
    fn default() -> Self {
        Self::new()
    }
}

impl ContextParser {
    /// A parser with empty buffers.
    #[must_use]
    pub fn new() -> Self {
        ContextParser {
            schema_match: SchemaMatch::Exact,
            marker: Finder::new(MARKER_TAIL).into_owned(),
            scratch: Vec::with_capacity(4096),
            buffers: Buffers::new(4096),
            tape: Some(Tape::null().reset()),
        }
    }

    /// How schemas are matched from now on ([`SchemaMatch::Exact`] until set).
    pub fn set_schema_match(&mut self, schema_match: SchemaMatch) {
        self.schema_match = schema_match;
    }

    /// The prefilter: whether `contexts` can hold an experiment context at all, that is whether
    /// it contains `gitlab_experiment` (in any letter case under [`SchemaMatch::IgnoreCase`]).
    ///
    /// It searches for `_experiment` and checks the bytes before each match: the rare bytes
    /// memchr's searcher keys on are then rarer in contexts full of `gitlab` (7% faster splitting
    /// and context extraction together, in the parse benchmark), with the same answers.
    #[inline]
    #[must_use]
    pub fn may_have_experiments(&self, contexts: &[u8]) -> bool {
        if self.schema_match == SchemaMatch::IgnoreCase {
            return has_marker_ignoring_case(contexts);
        }
        let mut from = 0;
        while let Some(found) = self.marker.find(&contexts[from..]) {
            let at = from + found;
            if contexts[..at].ends_with(MARKER_HEAD) {
                return true;
            }
            from = at + 1;
        }
        false
    }

    /// Calls `visit` for each experiment context with a key, in order.
    ///
    /// # Errors
    /// [`RowError::Contexts`] when the field is not a JSON object with a `data` array (when it
    /// may hold an experiment context), or does not even look like a JSON object (otherwise).
    pub fn experiments(
        &mut self,
        contexts: &[u8],
        visit: impl FnMut(ExperimentContext<'_>),
    ) -> Result<ContextCounts, RowError> {
        if self.may_have_experiments(contexts) {
            self.parse_experiments(contexts, visit)
        } else {
            check_shape(contexts).map(|()| ContextCounts::default())
        }
    }

    /// [`ContextParser::experiments`] for a field the caller already found to pass
    /// [`ContextParser::may_have_experiments`]: parses it whole, without the prefilter.
    ///
    /// # Errors
    /// [`RowError::Contexts`] when the field is not a JSON object with a `data` array.
    pub fn parse_experiments(
        &mut self,
        contexts: &[u8],
        mut visit: impl FnMut(ExperimentContext<'_>),
    ) -> Result<ContextCounts, RowError> {
        let mut counts = ContextCounts::default();
        self.scratch.clear();
        self.scratch.extend_from_slice(contexts);
        let mut tape = self.tape.take().unwrap_or_else(Tape::null).reset();
        let result = match simd_json::fill_tape(&mut self.scratch, &mut self.buffers, &mut tape) {
            Err(e) => Err(RowError::Contexts(e.to_string())),
            Ok(()) => match tape.as_value().get_array("data") {
                None => Err(RowError::Contexts("no \"data\" array".into())),
                Some(entries) => {
                    for entry in entries.iter() {
                        visit_entry(entry, self.schema_match, &mut counts, &mut visit);
                    }
                    Ok(counts)
                }
            },
        };
        self.tape = Some(tape.reset());
        result
    }

    /// The schema of the self-describing event in `unstruct_event` (`None` when the field is
    /// empty).
    ///
    /// # Errors
    /// [`RowError::UnstructEvent`] when the field is not a JSON object whose `data` has a
    /// string `schema`.
    pub fn unstruct_schema(&mut self, unstruct: &[u8]) -> Result<Option<&str>, RowError> {
        if unstruct.is_empty() {
            return Ok(None);
        }
        self.scratch.clear();
        self.scratch.extend_from_slice(unstruct);
        let mut tape = self.tape.take().unwrap_or_else(Tape::null).reset();
        let result = match simd_json::fill_tape(&mut self.scratch, &mut self.buffers, &mut tape) {
            Err(e) => Err(RowError::UnstructEvent(e.to_string())),
            Ok(()) => tape
                .as_value()
                .get("data")
                .and_then(|data| string_at(data, "schema"))
                .map(Some)
                .ok_or_else(|| RowError::UnstructEvent("no data.schema string".into())),
        };
        self.tape = Some(tape.reset());
        result
    }
}

/// Whether `contexts` contains `gitlab_experiment` in any ASCII letter case: each `_` (which
/// has no case) checked against its neighbours.
fn has_marker_ignoring_case(contexts: &[u8]) -> bool {
    memchr::memchr_iter(b'_', contexts).any(|at| {
        contexts[..at].len() >= MARKER_HEAD.len()
            && contexts[at - MARKER_HEAD.len()..at].eq_ignore_ascii_case(MARKER_HEAD)
            && contexts[at..].get(..MARKER_TAIL.len()).is_some_and(|t| t.eq_ignore_ascii_case(MARKER_TAIL))
    })
}

/// The version after the experiment schema's prefix in `schema`, and whether the prefix is
/// exact; `None` when it is not the experiment schema under `schema_match`.
fn experiment_schema_version(schema: &str, schema_match: SchemaMatch) -> Option<(&str, bool)> {
    if let Some(version) = schema.strip_prefix(EXPERIMENT_SCHEMA_PREFIX) {
        return Some((version, true));
    }
    let n = EXPERIMENT_SCHEMA_PREFIX.len();
    (schema_match == SchemaMatch::IgnoreCase
        && schema.get(..n).is_some_and(|head| head.eq_ignore_ascii_case(EXPERIMENT_SCHEMA_PREFIX)))
    .then(|| (&schema[n..], false))
}

fn visit_entry(
    entry: simd_json::tape::Value<'_, '_>,
    schema_match: SchemaMatch,
    counts: &mut ContextCounts,
    visit: &mut impl FnMut(ExperimentContext<'_>),
) {
    let Some((schema_version, exact_schema)) =
        string_at(entry, "schema").and_then(|schema| experiment_schema_version(schema, schema_match))
    else {
        return;
    };
    // The counts are of exact matches, whatever the rule.
    let count = |n: &mut u32| *n += u32::from(exact_schema);
    count(&mut counts.experiment_contexts);
    let data = entry.get("data");
    let field = |name: &str| data.and_then(|d| string_at(d, name));
    let Some(key) = field("key").filter(|k| !k.is_empty()) else {
        count(&mut counts.without_key);
        return;
    };
    let (Some(experiment), Some(variant)) = (field("experiment"), field("variant")) else {
        count(&mut counts.incomplete);
        return;
    };
    let migration_keys = MigrationKeys { keys: data.and_then(|d| d.get_array("migration_keys")) };
    visit(ExperimentContext { experiment, key, variant, schema_version, migration_keys, exact_schema });
}

/// The string at `key` of an object, borrowed from the parsed input (not from the tape).
fn string_at<'t, 'i>(value: simd_json::tape::Value<'t, 'i>, key: &str) -> Option<&'i str> {
    value.get(key).and_then(ValueIntoString::into_string)
}

/// The cheap check of a `contexts` field without an experiment context: empty, or shaped like
/// a JSON object, so that garbage is still a bad row.
///
/// # Errors
/// [`RowError::Contexts`] otherwise.
pub fn check_shape(contexts: &[u8]) -> Result<(), RowError> {
    let trimmed = contexts.trim_ascii();
    if contexts.is_empty() || (trimmed.first() == Some(&b'{') && trimmed.last() == Some(&b'}')) {
        Ok(())
    } else {
        Err(RowError::Contexts("not a JSON object".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (experiment, key, variant, schema version, migration keys)
    type Found = (String, String, String, String, Vec<String>);

    fn collect(contexts: &str) -> (Vec<Found>, ContextCounts) {
        let mut parser = ContextParser::new();
        let mut found = Vec::new();
        let counts = parser
            .experiments(contexts.as_bytes(), |c| {
                found.push((
                    c.experiment.to_owned(),
                    c.key.to_owned(),
                    c.variant.to_owned(),
                    c.schema_version.to_owned(),
                    c.migration_keys.iter().map(str::to_owned).collect(),
                ));
            })
            .unwrap();
        (found, counts)
    }

    #[test]
    fn finds_every_experiment_context_whatever_the_formatting() {
        let contexts = r#"{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[
            {"schema":"iglu:com.gitlab/gitlab_standard/jsonschema/1-0-9","data":{"environment":"production"}},
            {"data":{"variant":"candidate","key":"k1","experiment":"a/b"},"schema":"iglu:com.gitlab\/gitlab_experiment\/jsonschema\/1-0-3"},
            {"schema" : "iglu:com.gitlab/gitlab_experiment/jsonschema/0-3-0", "data" : {"experiment":"other","key":"k\u0032","variant":"control","migration_keys":["old1","old2"]}},
            {"schema":"iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-0","data":{"experiment":"a/b","variant":"control"}},
            {"schema":"iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-0","data":{"experiment":"a/b","key":"k3"}}
        ]}"#;
        let (found, counts) = collect(contexts);
        assert_eq!(
            found,
            vec![
                ("a/b".into(), "k1".into(), "candidate".into(), "1-0-3".into(), vec![]),
                (
                    "other".into(),
                    "k2".into(),
                    "control".into(),
                    "0-3-0".into(),
                    vec!["old1".into(), "old2".into()]
                ),
            ]
        );
        assert_eq!(counts, ContextCounts { experiment_contexts: 4, without_key: 1, incomplete: 1 });
    }

    #[test]
    fn ignoring_case_finds_schemas_in_any_case_and_counts_only_exact_ones() {
        let contexts = r#"{"data":[
            {"schema":"iglu:com.gitlab/GitLab_Experiment/jsonschema/1-0-0","data":{"experiment":"e","key":"k1","variant":"v"}},
            {"schema":"IGLU:COM.GITLAB/GITLAB_EXPERIMENT/JSONSCHEMA/1-0-0","data":{"experiment":"e","variant":"v"}},
            {"schema":"iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-1","data":{"experiment":"e","key":"k2","variant":"v"}}
        ]}"#;
        let mut parser = ContextParser::new();
        let mut found = Vec::new();
        let collect = |parser: &mut ContextParser, found: &mut Vec<(String, bool)>| {
            found.clear();
            parser
                .experiments(contexts.as_bytes(), |c| found.push((c.key.to_owned(), c.exact_schema)))
                .unwrap()
        };
        let exact = collect(&mut parser, &mut found);
        assert_eq!(found, [("k2".to_owned(), true)]);
        parser.set_schema_match(SchemaMatch::IgnoreCase);
        let ignoring = collect(&mut parser, &mut found);
        assert_eq!(found, [("k1".to_owned(), false), ("k2".to_owned(), true)]);
        assert_eq!(exact, ignoring);
        assert_eq!(ignoring, ContextCounts { experiment_contexts: 1, without_key: 0, incomplete: 0 });
        // Only a context in another case: the case-sensitive prefilter never parses it.
        let upper = r#"{"data":[{"schema":"iglu:com.gitlab/GITLAB_EXPERIMENT/jsonschema/1-0-0","data":{}}]}"#;
        assert!(parser.may_have_experiments(upper.as_bytes()));
        assert!(!ContextParser::new().may_have_experiments(upper.as_bytes()));
        assert!(!parser.may_have_experiments(b"gitlab experiment, gitlab-experiment, _experiment"));
    }

    #[test]
    fn invalid_json_with_an_experiment_is_a_bad_row() {
        let mut parser = ContextParser::new();
        let truncated = r#"{"schema":"x","data":[{"schema":"iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-0","data":{"#;
        assert!(matches!(parser.experiments(truncated.as_bytes(), |_| {}), Err(RowError::Contexts(_))));
        let no_data = r#"{"schema":"iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-0"}"#;
        assert!(parser.experiments(no_data.as_bytes(), |_| {}).is_err());
        // The parser stays usable after an error.
        let (found, _) = collect(
            r#"{"data":[{"schema":"iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-0","data":{"experiment":"e","key":"k","variant":"v"}}]}"#,
        );
        assert_eq!(found.len(), 1);
    }

    proptest::proptest! {
        /// The prefilter answers exactly "does it contain `gitlab_experiment`", on text made of
        /// the marker's own pieces, where near misses abound.
        #[test]
        fn the_prefilter_finds_exactly_the_marker(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec!["gitlab", "_experiment", "gitla", "b_experiment", "_exp", "x", "\\/", "{\"a\":1}"]),
                0..12,
            )
        ) {
            let text = pieces.concat();
            let expected = memchr::memmem::find(text.as_bytes(), b"gitlab_experiment").is_some();
            proptest::prop_assert_eq!(ContextParser::new().may_have_experiments(text.as_bytes()), expected, "{}", text);
        }
    }

    #[test]
    fn lines_without_experiments_get_a_shape_check_only() {
        let mut parser = ContextParser::new();
        assert!(parser.experiments(b"", |_| {}).is_ok());
        assert!(parser.experiments(b"{'schema': 'lenient'}", |_| {}).is_ok());
        assert!(parser.experiments(b"&&&", |_| {}).is_err());
        assert!(parser.experiments(b"  ", |_| {}).is_err());
        assert!(check_shape(b" {} ").is_ok());
    }

    #[test]
    fn reads_the_unstruct_event_schema() {
        let mut parser = ContextParser::new();
        let ue = r#"{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.gitlab\/signup\/jsonschema\/1-0-0","data":{}}}"#;
        assert_eq!(
            parser.unstruct_schema(ue.as_bytes()).unwrap(),
            Some("iglu:com.gitlab/signup/jsonschema/1-0-0")
        );
        assert_eq!(parser.unstruct_schema(b"").unwrap(), None);
        assert!(parser.unstruct_schema(b"|%|").is_err());
    }
}
