//! The events extract as a job of the executor: each line that has rows becomes one record,
//! appended to the thread's buffer and handed to its spool at the end of each chunk.

use std::io;
use std::marker::PhantomData;

use snowfunnel_ingest::{Counted, Counters, Job, Recorder};
use snowfunnel_parse::{ContextCounts, ContextParser, EnrichedEvent, RowError, excerpt, fields};

use crate::record::{EventFields, MIGRATION_KEY_SEPARATOR, put_bytes, put_record};
use crate::{Filter, event_id_bits};

/// Where a thread's records go between the end of a chunk and the output pass: memory, or a
/// temporary file (the sink's spool), so that the extract itself does no IO.
pub trait RecordSpool: Default {
    /// What the spool gives back for the records of one chunk, to read them later.
    type Segment: Send;

    /// Stores `records` (and empties it, keeping its capacity where it can).
    ///
    /// # Errors
    /// When the records cannot be stored.
    fn store(&mut self, records: &mut Vec<u8>) -> io::Result<Self::Segment>;
}

/// A spool that keeps every chunk's records in memory, as they are.
#[derive(Debug, Default)]
pub struct MemorySpool;

impl RecordSpool for MemorySpool {
    type Segment = Vec<u8>;

    fn store(&mut self, records: &mut Vec<u8>) -> io::Result<Vec<u8>> {
        Ok(std::mem::take(records))
    }
}

/// What the extract matched, beside the [`Counters`] of every job; they add up across
/// partitions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Matched {
    /// Events within the filters with at least one context of a selected experiment.
    pub events: u64,
    /// Rows of those events (before duplicates are dropped).
    pub rows: u64,
}

/// What the extract of some files (a partition, or several merged) made: its counters, and its
/// records, spooled as one segment per chunk, each under its place in the input (file index,
/// first line). Merging appends: the output pass sorts the segments back into input order, so
/// the result does not depend on how files were partitioned, and a corrupt file skipped (its
/// state dropped by the executor) leaves no trace.
#[derive(Debug)]
pub struct Extracted<Segment> {
    /// Lines, events, bad rows, contexts.
    pub counters: Counters,
    /// Events and rows matched.
    pub matched: Matched,
    /// The spooled records: (file index, first line of the chunk, segment).
    pub segments: Vec<(usize, u64, Segment)>,
}

impl<Segment> Default for Extracted<Segment> {
    fn default() -> Self {
        Extracted { counters: Counters::default(), matched: Matched::default(), segments: Vec::new() }
    }
}

impl<Segment> Counted for Extracted<Segment> {
    fn counters_mut(&mut self) -> &mut Counters {
        &mut self.counters
    }
}

/// `snowfunnel events`: the extract of a filter's events, each thread's records kept in a spool
/// of type `S`.
pub struct Extract<'f, S> {
    filter: &'f Filter,
    spool: PhantomData<fn() -> S>,
}

impl<'f, S> Extract<'f, S> {
    /// The extract of `filter`.
    #[must_use]
    pub fn new(filter: &'f Filter) -> Self {
        Extract { filter, spool: PhantomData }
    }
}

impl<S: RecordSpool> Job for Extract<'_, S> {
    type State = Extracted<S::Segment>;
    type Recorder<'a>
        = ExtractRecorder<'a, S>
    where
        Self: 'a;

    fn state(&self) -> Self::State {
        Extracted::default()
    }

    fn recorder(&self) -> ExtractRecorder<'_, S> {
        ExtractRecorder::new(self.filter)
    }

    fn merge(into: &mut Self::State, other: Self::State) {
        into.counters.add(&other.counters);
        into.matched.events = into.matched.events.saturating_add(other.matched.events);
        into.matched.rows = into.matched.rows.saturating_add(other.matched.rows);
        into.segments.extend(other.segments);
    }
}

/// Turns events into records. Holds reusable buffers and the thread's spool: no allocation per
/// line once warm.
///
/// A line is a bad row for the same reasons as in a funnel run (field count, timestamps,
/// `contexts`), and, when it has rows, for an invalid `unstruct_event` or a `se_value` that is
/// not a number: the fields written only for rows are checked only for them.
pub struct ExtractRecorder<'f, S> {
    filter: &'f Filter,
    /// The encoded contexts of the current line that the extract keeps.
    contexts: Vec<u8>,
    schema: String,
    /// The records of the chunk being read.
    records: Vec<u8>,
    spool: S,
}

impl<'f, S: Default> ExtractRecorder<'f, S> {
    /// A recorder for `filter`, with an empty spool.
    #[must_use]
    pub fn new(filter: &'f Filter) -> Self {
        ExtractRecorder {
            filter,
            contexts: Vec::new(),
            schema: String::new(),
            records: Vec::new(),
            spool: S::default(),
        }
    }
}

impl<S: RecordSpool> Recorder<Extracted<S::Segment>> for ExtractRecorder<'_, S> {
    fn record(
        &mut self,
        parser: &mut ContextParser,
        state: &mut Extracted<S::Segment>,
        event: &EnrichedEvent<'_>,
    ) -> Result<ContextCounts, RowError> {
        let environment = self.filter.event(event.time_micros(), event.app_id());
        let ExtractRecorder { filter, contexts: kept, .. } = self;
        kept.clear();
        let mut count = 0u32;
        let seen = parser.parse_experiments(event.contexts(), |c| {
            if environment.is_some() && filter.experiment(c.experiment) {
                count += 1;
                for s in [c.experiment, c.variant, c.key, c.schema_version] {
                    put_bytes(kept, s.as_bytes());
                }
                put_joined(kept, c.migration_keys.iter());
            }
        })?;
        let Some(environment) = environment.filter(|_| count > 0) else {
            return Ok(seen);
        };

        self.schema.clear();
        if let Some(schema) = parser.unstruct_schema(event.unstruct_event())? {
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
        put_record(&mut self.records, &fields, count, &self.contexts);
        state.matched.events += 1;
        state.matched.rows += u64::from(count);
        Ok(seen)
    }

    fn end_chunk(
        &mut self,
        state: &mut Extracted<S::Segment>,
        file: usize,
        first_line: u64,
    ) -> io::Result<()> {
        if !self.records.is_empty() {
            let segment = self.spool.store(&mut self.records)?;
            state.segments.push((file, first_line, segment));
        }
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
    use snowfunnel_ingest::Ingester;
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

    type InMemory<'f> = Extract<'f, MemorySpool>;

    /// The records of a chunk, as the end of the chunk spools them.
    fn spooled(state: &Extracted<Vec<u8>>) -> Vec<u8> {
        state.segments.iter().flat_map(|(_, _, segment)| segment.iter().copied()).collect()
    }

    #[test]
    fn one_row_per_selected_context() {
        let filter = filter();
        let job = InMemory::new(&filter);
        let (mut x, mut state) = (job.ingester(), job.state());
        x.ingest(&mut state, line(&[(fields::SE_VALUE, "1.5")]).as_bytes()).unwrap();
        x.end_chunk(&mut state, 0, 1).unwrap();
        let out = spooled(&state);
        let records: Vec<_> = Records::new(&out).collect::<Result<_, _>>().unwrap();
        let rows: Vec<_> = records[0].rows().collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].experiment, b"exp");
        assert_eq!(rows[0].context_key, b"k1");
        assert_eq!(rows[0].migration_keys, b"m1;m2");
        assert_eq!(rows[0].context_schema_version, b"1-0-3");
        assert_eq!(rows[0].se_value_number, Some(1.5));
        assert_eq!(rows[0].event_time_micros % 1_000_000, 123_000);
        assert_eq!((state.matched.events, state.matched.rows, state.counters.events), (1, 1, 1));
        assert_eq!((state.segments[0].0, state.segments[0].1), (0, 1));
    }

    #[test]
    fn fields_only_rows_need_are_checked_only_for_rows() {
        let filter = filter();
        let job = InMemory::new(&filter);
        let (mut x, mut state): (Ingester<_>, _) = (job.ingester(), job.state());
        let bad_value = line(&[(fields::SE_VALUE, "ten")]);
        let err = x.ingest(&mut state, bad_value.as_bytes()).unwrap_err();
        assert_eq!(err.reason(), BadReason::SeValue);
        let bad_unstruct = line(&[(fields::UNSTRUCT_EVENT, "{oops")]);
        assert_eq!(
            x.ingest(&mut state, bad_unstruct.as_bytes()).unwrap_err().reason(),
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
        let job = InMemory::new(&only_staging);
        let mut y = job.ingester();
        y.ingest(&mut state, staging.as_bytes()).unwrap();
        y.end_chunk(&mut state, 0, 1).unwrap();
        x.end_chunk(&mut state, 0, 1).unwrap();
        assert!(state.segments.is_empty());
        let counters = state.counters;
        assert_eq!((counters.lines, counters.events, counters.bad.total()), (3, 1, 2));
        assert_eq!(counters.ignored_contexts(), 0);
    }
}
