//! Turning one enriched-event line into (at most) one record of extract rows.

use snowfunnel_parse::{BadRows, ContextParser, EnrichedEvent, RowError, check_shape, excerpt, fields};

use crate::record::{EventFields, MIGRATION_KEY_SEPARATOR, put_bytes, put_record};
use crate::{Filter, event_id_bits};

/// Plain counters of an extract; they add up across partitions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Lines read.
    pub lines: u64,
    /// Valid enriched events (lines minus bad rows).
    pub events: u64,
    /// Bad rows by reason.
    pub bad: BadRows,
    /// Events carrying at least one experiment context (any experiment).
    pub experiment_events: u64,
    /// Experiment context entries without a key, or without an experiment or variant: ignored.
    pub ignored_contexts: u64,
    /// Events within the filters with at least one context of a selected experiment.
    pub events_matched: u64,
    /// Rows of those events (before duplicates are dropped).
    pub rows: u64,
}

impl Counters {
    /// Adds `other` to these counters.
    pub fn add(&mut self, other: &Counters) {
        self.lines += other.lines;
        self.events += other.events;
        self.bad.add(&other.bad);
        self.experiment_events += other.experiment_events;
        self.ignored_contexts += other.ignored_contexts;
        self.events_matched += other.events_matched;
        self.rows += other.rows;
    }
}

/// Turns lines into records. Holds the parser's reusable buffers: one per thread, no
/// allocation per line once warm.
pub struct Extractor<'f> {
    filter: &'f Filter,
    parser: ContextParser,
    /// The encoded contexts of the current line that the extract keeps.
    contexts: Vec<u8>,
    schema: String,
}

impl<'f> Extractor<'f> {
    /// An extractor for `filter`.
    #[must_use]
    pub fn new(filter: &'f Filter) -> Self {
        Extractor { filter, parser: ContextParser::new(), contexts: Vec::new(), schema: String::new() }
    }

    /// Reads one line (without its `\n`), appends its record to `out` when it has rows, and
    /// counts it.
    ///
    /// A line is a bad row for the same reasons as in a funnel run (field count, timestamps,
    /// `contexts`), and, when it has rows, for an invalid `unstruct_event` or a `se_value` that
    /// is not a number: the fields written only for rows are checked only for them.
    ///
    /// # Errors
    /// The [`RowError`] of a bad row, already counted; nothing was appended.
    pub fn extract(
        &mut self,
        line: &[u8],
        counters: &mut Counters,
        out: &mut Vec<u8>,
    ) -> Result<(), RowError> {
        counters.lines += 1;
        let result = self.extract_event(line, counters, out);
        if let Err(e) = &result {
            counters.bad.record(e.reason());
        }
        result
    }

    /// Counts a line that was never parsed (the reader skipped it: longer than its limit) as
    /// a line and a bad row of `error`'s reason.
    pub fn reject(&self, counters: &mut Counters, error: &RowError) {
        counters.lines += 1;
        counters.bad.record(error.reason());
    }

    fn extract_event(
        &mut self,
        line: &[u8],
        counters: &mut Counters,
        out: &mut Vec<u8>,
    ) -> Result<(), RowError> {
        let event = EnrichedEvent::parse(line)?;
        let contexts = event.contexts();
        if !self.parser.may_have_experiments(contexts) {
            check_shape(contexts)?;
            counters.events += 1;
            return Ok(());
        }
        let environment = self.filter.event(event.time_micros(), event.app_id());
        let Extractor { filter, parser, contexts: kept, .. } = self;
        kept.clear();
        let mut count = 0u32;
        let seen = parser.parse_experiments(contexts, |c| {
            if environment.is_some() && filter.experiment(c.experiment) {
                count += 1;
                for s in [c.experiment, c.variant, c.key, c.schema_version] {
                    put_bytes(kept, s.as_bytes());
                }
                put_joined(kept, c.migration_keys.iter());
            }
        })?;
        let ignored = u64::from(seen.without_key + seen.incomplete);
        let Some(environment) = environment.filter(|_| count > 0) else {
            counters.events += 1;
            counters.experiment_events += u64::from(seen.experiment_contexts > 0);
            counters.ignored_contexts += ignored;
            return Ok(());
        };

        self.schema.clear();
        if let Some(schema) = self.parser.unstruct_schema(event.unstruct_event())? {
            self.schema.push_str(schema);
        }
        let se_value = event.field(fields::SE_VALUE);
        let se_value_number = parse_number(se_value)?;
        let event_id = event.event_id();
        let fields = EventFields {
            hash: event_id_bits(event_id),
            time_micros: event.time_micros(),
            environment,
            se_value_number,
            strings: [
                event_id,
                event.app_id(),
                event.field(fields::EVENT),
                event.field(fields::SE_CATEGORY),
                event.field(fields::SE_ACTION),
                event.field(fields::SE_LABEL),
                event.field(fields::SE_PROPERTY),
                se_value,
                event.field(fields::PAGE_URLPATH),
                self.schema.as_bytes(),
            ],
        };
        put_record(out, &fields, count, &self.contexts);
        counters.events += 1;
        counters.experiment_events += 1;
        counters.ignored_contexts += ignored;
        counters.events_matched += 1;
        counters.rows += u64::from(count);
        Ok(())
    }
}

/// Appends the keys joined with [`MIGRATION_KEY_SEPARATOR`] as one string.
fn put_joined<'k>(out: &mut Vec<u8>, keys: impl Iterator<Item = &'k str>) {
    let start = out.len();
    out.extend_from_slice(&0u32.to_le_bytes());
    for (i, key) in keys.enumerate() {
        if i > 0 {
            out.push(MIGRATION_KEY_SEPARATOR);
        }
        out.extend_from_slice(key.as_bytes());
    }
    let len = u32::try_from(out.len() - start - 4).unwrap_or(u32::MAX);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
}

/// `se_value` as a number: empty is none; anything else must parse (as the Snowplow SDKs
/// require of this double field).
fn parse_number(raw: &[u8]) -> Result<Option<f64>, RowError> {
    if raw.is_empty() {
        return Ok(None);
    }
    std::str::from_utf8(raw)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .map(Some)
        .ok_or_else(|| RowError::SeValue(excerpt(raw)))
}

#[cfg(test)]
mod tests {
    use snowfunnel_parse::{BadReason, FIELD_COUNT};

    use super::*;
    use crate::{ExtractSpec, Records};

    fn line(overrides: &[(usize, &str)]) -> String {
        let mut f = vec![String::new(); FIELD_COUNT];
        f[fields::APP_ID] = "gitlab".into();
        f[fields::COLLECTOR_TSTAMP] = "2026-03-01 10:00:00.123".into();
        f[fields::EVENT] = "struct".into();
        f[fields::EVENT_ID] = "id-1".into();
        f[fields::CONTEXTS] = r#"{"data":[{"schema":"iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-3","data":{"experiment":"exp","key":"k1","variant":"candidate","migration_keys":["m1","m2"]}},{"schema":"iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-0","data":{"experiment":"other","key":"k2","variant":"control"}}]}"#.into();
        for (i, v) in overrides {
            f[*i] = (*v).to_owned();
        }
        f.join("\t")
    }

    fn filter() -> Filter {
        Filter::new(&ExtractSpec { experiments: vec!["exp".into()], ..ExtractSpec::default() }).unwrap()
    }

    #[test]
    fn one_row_per_selected_context() {
        let filter = filter();
        let mut x = Extractor::new(&filter);
        let (mut counters, mut out) = (Counters::default(), Vec::new());
        x.extract(line(&[(fields::SE_VALUE, "1.5")]).as_bytes(), &mut counters, &mut out).unwrap();
        let records: Vec<_> = Records::new(&out).collect::<Result<_, _>>().unwrap();
        let rows: Vec<_> = records[0].rows().collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].experiment, b"exp");
        assert_eq!(rows[0].context_key, b"k1");
        assert_eq!(rows[0].migration_keys, b"m1;m2");
        assert_eq!(rows[0].context_schema_version, b"1-0-3");
        assert_eq!(rows[0].se_value_number, Some(1.5));
        assert_eq!(rows[0].event_time_micros % 1_000_000, 123_000);
        assert_eq!((counters.events_matched, counters.rows, counters.events), (1, 1, 1));
    }

    #[test]
    fn fields_only_rows_need_are_checked_only_for_rows() {
        let filter = filter();
        let mut x = Extractor::new(&filter);
        let (mut counters, mut out) = (Counters::default(), Vec::new());
        let bad_value = line(&[(fields::SE_VALUE, "ten")]);
        let err = x.extract(bad_value.as_bytes(), &mut counters, &mut out).unwrap_err();
        assert_eq!(err.reason(), BadReason::SeValue);
        let bad_unstruct = line(&[(fields::UNSTRUCT_EVENT, "{oops")]);
        assert_eq!(
            x.extract(bad_unstruct.as_bytes(), &mut counters, &mut out).unwrap_err().reason(),
            BadReason::UnstructEvent
        );
        // Without a selected context the same fields are not read.
        let staging = line(&[(fields::SE_VALUE, "ten"), (fields::APP_ID, "gitlab-staging")]);
        let only_staging = Filter::new(&ExtractSpec {
            experiments: vec!["exp".into()],
            environment: crate::EnvironmentSelection::Only(crate::Environment::Production),
            ..ExtractSpec::default()
        })
        .unwrap();
        let mut y = Extractor::new(&only_staging);
        y.extract(staging.as_bytes(), &mut counters, &mut out).unwrap();
        assert!(out.is_empty());
        assert_eq!((counters.lines, counters.events, counters.bad.total()), (3, 1, 2));
    }
}
