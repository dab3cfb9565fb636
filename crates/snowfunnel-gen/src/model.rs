//! The generated lines as structured data: the ground truth a test compares a consumer against.

use crate::tsv;

/// One good event. Every field a funnel can look at is here; the rest of the line (user agent,
/// ids, geo, the layout of the JSON) is derived from `filler_seed`, so [`Event::to_tsv`] is a
/// pure function of the struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// UUID v4 text.
    pub event_id: String,
    /// `gitlab`, `gitlab-staging`, or another GitLab app.
    pub app_id: String,
    /// `web` for browser events, `srv` for backend events.
    pub platform: String,
    /// `collector_tstamp` in unix microseconds (written with millisecond precision).
    pub collector_micros: i64,
    /// `derived_tstamp`: `None` writes an empty field; `Some(t)` with `t <= 0` is the 1970 tracker
    /// bug, where a consumer must fall back to `collector_tstamp`.
    pub derived_micros: Option<i64>,
    /// `struct`, `page_view`, `unstruct` or `page_ping`.
    pub event: String,
    /// `se_category`.
    pub se_category: String,
    /// `se_action`.
    pub se_action: String,
    /// `se_label`.
    pub se_label: String,
    /// `se_property`.
    pub se_property: String,
    /// `se_value`.
    pub se_value: String,
    /// `page_urlpath` (empty for backend events).
    pub page_urlpath: String,
    /// Inner schema of `unstruct_event`, e.g. `iglu:com.gitlab/experiment_signup/jsonschema/1-0-0`.
    pub unstruct_schema: Option<String>,
    /// The `gitlab_experiment` entries of `contexts`, in order.
    pub experiments: Vec<ExperimentContext>,
    /// Seed of everything else on the line.
    pub filler_seed: u64,
    /// Written bare: none of the filler, and only the experiment entries in `contexts` (see
    /// [`GenConfig::bare_lines`](crate::GenConfig::bare_lines)).
    pub bare: bool,
}

impl Event {
    /// The enriched TSV line: exactly 131 fields, no trailing newline.
    #[must_use]
    pub fn to_tsv(&self) -> String {
        let mut out = Vec::with_capacity(2048);
        self.write_tsv(&mut out);
        String::from_utf8(out).expect("every piece of a line is UTF-8 text")
    }

    /// Appends the enriched TSV line (no newline) to `out`.
    pub fn write_tsv(&self, out: &mut Vec<u8>) {
        tsv::write_event(self, out);
    }

    /// The time a consumer should use: `derived_tstamp` when present and after 1970, otherwise
    /// `collector_tstamp` (at the millisecond precision the line carries).
    #[must_use]
    pub fn event_time_micros(&self) -> i64 {
        let micros = match self.derived_micros {
            Some(derived) if derived > 0 => derived,
            _ => self.collector_micros,
        };
        micros.div_euclid(1_000) * 1_000
    }
}

/// One `iglu:com.gitlab/gitlab_experiment/jsonschema/...` context entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExperimentContext {
    /// Schema version: `0-3-0`, `1-0-0` or `1-0-3`.
    pub schema_version: String,
    /// Experiment name.
    pub experiment: String,
    /// Context key; `None` when the entry has no key (written as a missing field or `null`).
    pub key: Option<String>,
    /// Variant name.
    pub variant: String,
    /// Older keys of the same subject (the field is left out when empty).
    pub migration_keys: Vec<String>,
}

/// One output line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    clippy::large_enum_variant,
    reason = "nearly every line is an event: boxing would add an allocation per line and save nothing"
)]
pub enum Line {
    /// A good event.
    Event(Event),
    /// A line a consumer must reject, and why.
    Malformed {
        /// The line, without newline (never contains one).
        text: String,
        /// What is wrong with it.
        kind: MalformedKind,
    },
}

impl Line {
    /// The line as text, without newline.
    #[must_use]
    pub fn to_tsv(&self) -> String {
        match self {
            Line::Event(event) => event.to_tsv(),
            Line::Malformed { text, .. } => text.clone(),
        }
    }

    /// Appends the line (no newline) to `out`.
    pub fn write_tsv(&self, out: &mut Vec<u8>) {
        match self {
            Line::Event(event) => event.write_tsv(out),
            Line::Malformed { text, .. } => out.extend_from_slice(text.as_bytes()),
        }
    }

    /// The event, when the line is a good one.
    #[must_use]
    pub fn as_event(&self) -> Option<&Event> {
        match self {
            Line::Event(event) => Some(event),
            Line::Malformed { .. } => None,
        }
    }
}

/// The ways a generated line is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MalformedKind {
    /// A field dropped or added: not 131 fields.
    FieldCount,
    /// `contexts` is invalid JSON (truncated) that still contains `gitlab_experiment`.
    BadContextsJson,
    /// `collector_tstamp` does not parse or is empty.
    BadCollectorTimestamp,
    /// `derived_tstamp` does not parse.
    BadDerivedTimestamp,
    /// An empty line.
    Empty,
}
