//! The binary record of one extracted event and the rows it stands for.
//!
//! Records exist to be spooled between the threads that extract and the one that writes the
//! output in input order: an event's fields once, then each selected experiment context.
//! Strings are length-prefixed bytes, numbers little-endian; nothing is escaped, so encoding
//! is a few copies and decoding borrows the buffer.
//!
//! Layout: `u32` length of the rest, `u128` event-id hash, `i64` event time, `u8` environment,
//! `u8` 1 when `se_value` is a number then its `f64`, the [`EVENT_STRINGS`] strings, `u32`
//! context count, and per context the [`CONTEXT_STRINGS`] strings.

use crate::{DecodeError, Environment};

/// The columns of the extract, in order. Later versions may append columns, never reorder them.
pub const COLUMNS: [&str; 17] = [
    "event_id",
    "experiment",
    "variant",
    "context_key",
    "event_time",
    "app_id",
    "environment",
    "event",
    "se_category",
    "se_action",
    "se_label",
    "se_property",
    "se_value",
    "page_urlpath",
    "unstruct_schema",
    "context_schema_version",
    "migration_keys",
];

/// Joins the `migration_keys` of a context in one column.
pub const MIGRATION_KEY_SEPARATOR: u8 = b';';

/// Event strings in a record: event_id, app_id, event, se_category, se_action, se_label,
/// se_property, se_value, page_urlpath, unstruct_schema.
pub(crate) const EVENT_STRINGS: usize = 10;
/// Context strings in a record: experiment, variant, context_key, context_schema_version,
/// migration_keys (joined).
pub(crate) const CONTEXT_STRINGS: usize = 5;

/// One row of the extract: one experiment context of one event, borrowed from a record.
/// Strings are the raw bytes of the line (UTF-8 in practice; writers replace invalid bytes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExtractRow<'a> {
    /// `event_id`.
    pub event_id: &'a [u8],
    /// Experiment name.
    pub experiment: &'a [u8],
    /// Variant.
    pub variant: &'a [u8],
    /// Context key.
    pub context_key: &'a [u8],
    /// Event time (derived, falling back to collector), microseconds since the epoch.
    pub event_time_micros: i64,
    /// `app_id`.
    pub app_id: &'a [u8],
    /// Environment of the app_id.
    pub environment: Environment,
    /// `event`.
    pub event: &'a [u8],
    /// `se_category`.
    pub se_category: &'a [u8],
    /// `se_action`.
    pub se_action: &'a [u8],
    /// `se_label`.
    pub se_label: &'a [u8],
    /// `se_property`.
    pub se_property: &'a [u8],
    /// `se_value` as written on the line.
    pub se_value: &'a [u8],
    /// `se_value` as a number (`None` when empty).
    pub se_value_number: Option<f64>,
    /// `page_urlpath`.
    pub page_urlpath: &'a [u8],
    /// Schema of the self-describing event (empty when there is none).
    pub unstruct_schema: &'a [u8],
    /// Version of the experiment context's schema, e.g. `1-0-3`.
    pub context_schema_version: &'a [u8],
    /// `migration_keys` joined with [`MIGRATION_KEY_SEPARATOR`].
    pub migration_keys: &'a [u8],
}

/// One event's fields, as [`crate::Extractor`] hands them to the encoder.
pub(crate) struct EventFields<'a> {
    pub(crate) hash: u128,
    pub(crate) time_micros: i64,
    pub(crate) environment: Environment,
    pub(crate) se_value_number: Option<f64>,
    pub(crate) strings: [&'a [u8]; EVENT_STRINGS],
}

/// Appends a length-prefixed string.
pub(crate) fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    // Fields of a line shorter than 4 GiB (the parser refuses longer ones).
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&bytes[..len as usize]);
}

/// Appends a record: `event`, then `contexts` (the encoded context strings of `count` contexts).
pub(crate) fn put_record(out: &mut Vec<u8>, event: &EventFields<'_>, count: u32, contexts: &[u8]) {
    let start = out.len();
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&event.hash.to_le_bytes());
    out.extend_from_slice(&event.time_micros.to_le_bytes());
    out.push(event.environment.code());
    match event.se_value_number {
        Some(v) => {
            out.push(1);
            out.extend_from_slice(&v.to_le_bytes());
        }
        None => out.push(0),
    }
    for s in event.strings {
        put_bytes(out, s);
    }
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(contexts);
    let len = u32::try_from(out.len() - start - 4).unwrap_or(u32::MAX);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
}

/// Reads records from a buffer of records.
#[derive(Debug, Clone)]
pub struct Records<'a> {
    buf: &'a [u8],
    offset: usize,
}

impl<'a> Records<'a> {
    /// The records in `buf` (as [`crate::Extractor::extract`] appends them).
    #[must_use]
    pub fn new(buf: &'a [u8]) -> Self {
        Records { buf, offset: 0 }
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.offset >= self.buf.len() {
            return None;
        }
        let at = self.offset;
        let rest = &self.buf[at..];
        // After an error the rest of the buffer cannot be trusted: stop there.
        let fail = |problem| Some(Err(DecodeError { offset: at, problem }));
        self.offset = self.buf.len();
        let Some(len) = rest.get(..4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize) else {
            return fail("truncated length");
        };
        let Some(body) = rest.get(4..4 + len) else { return fail("truncated record") };
        let Some(record) = Record::decode(body) else { return fail("malformed record") };
        self.offset = at + 4 + len;
        Some(Ok(record))
    }
}

/// One extracted event: its fields and its contexts of the selected experiments.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    /// [`crate::event_id_bits`] of the event id.
    pub hash: u128,
    event: ExtractRow<'a>,
    contexts: &'a [u8],
    count: u32,
}

impl<'a> Record<'a> {
    fn decode(body: &'a [u8]) -> Option<Self> {
        let mut c = Cursor { buf: body };
        let hash = u128::from_le_bytes(c.array()?);
        let event_time_micros = i64::from_le_bytes(c.array()?);
        let environment = Environment::from_code(c.array::<1>()?[0])?;
        let se_value_number = match c.array::<1>()?[0] {
            0 => None,
            1 => Some(f64::from_le_bytes(c.array()?)),
            _ => return None,
        };
        let mut s = [&[][..]; EVENT_STRINGS];
        for slot in &mut s {
            *slot = c.bytes()?;
        }
        let count = u32::from_le_bytes(c.array()?);
        let contexts = c.buf;
        // Check the contexts now, so that `rows` cannot meet a malformed one.
        let mut check = Cursor { buf: contexts };
        for _ in 0..count * CONTEXT_STRINGS as u32 {
            check.bytes()?;
        }
        if !check.buf.is_empty() {
            return None;
        }
        let [
            event_id,
            app_id,
            event,
            se_category,
            se_action,
            se_label,
            se_property,
            se_value,
            page_urlpath,
            unstruct_schema,
        ] = s;
        let event = ExtractRow {
            event_id,
            experiment: &[],
            variant: &[],
            context_key: &[],
            event_time_micros,
            app_id,
            environment,
            event,
            se_category,
            se_action,
            se_label,
            se_property,
            se_value,
            se_value_number,
            page_urlpath,
            unstruct_schema,
            context_schema_version: &[],
            migration_keys: &[],
        };
        Some(Record { hash, event, contexts, count })
    }

    /// The event's id.
    #[must_use]
    pub fn event_id(&self) -> &'a [u8] {
        self.event.event_id
    }

    /// Rows (contexts) in the record.
    #[must_use]
    pub fn row_count(&self) -> u32 {
        self.count
    }

    /// The record's rows, one per context, in the order of the `contexts` field.
    pub fn rows(&self) -> impl Iterator<Item = ExtractRow<'a>> + '_ {
        let mut c = Cursor { buf: self.contexts };
        (0..self.count).map_while(move |_| {
            let mut row = self.event;
            row.experiment = c.bytes()?;
            row.variant = c.bytes()?;
            row.context_key = c.bytes()?;
            row.context_schema_version = c.bytes()?;
            row.migration_keys = c.bytes()?;
            Some(row)
        })
    }
}

struct Cursor<'a> {
    buf: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.buf.split_first_chunk::<N>()?;
        self.buf = rest;
        Some(*head)
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = u32::from_le_bytes(self.array()?) as usize;
        let (head, rest) = self.buf.split_at_checked(len)?;
        self.buf = rest;
        Some(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode_one(out: &mut Vec<u8>, hash: u128, contexts: &[[&str; CONTEXT_STRINGS]]) {
        let mut encoded = Vec::new();
        for context in contexts {
            for s in context {
                put_bytes(&mut encoded, s.as_bytes());
            }
        }
        let event = EventFields {
            hash,
            time_micros: -5,
            environment: Environment::Staging,
            se_value_number: Some(2.5),
            strings: [b"id", b"app", b"struct", b"cat", b"act", b"", b"prop", b"2.5", b"/p", b"iglu:x"],
        };
        put_record(out, &event, u32::try_from(contexts.len()).unwrap(), &encoded);
    }

    #[test]
    fn records_round_trip() {
        let mut buf = Vec::new();
        encode_one(&mut buf, 7, &[["e1", "control", "k1", "1-0-0", "a;b"], ["e2", "", "k2", "0-3-0", ""]]);
        encode_one(&mut buf, u128::MAX, &[]);
        let records: Vec<Record<'_>> = Records::new(&buf).collect::<Result<_, _>>().unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!((records[0].hash, records[1].hash), (7, u128::MAX));
        let rows: Vec<ExtractRow<'_>> = records[0].rows().collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].experiment, b"e1");
        assert_eq!(rows[0].migration_keys, b"a;b");
        assert_eq!(rows[1].variant, b"");
        assert_eq!(rows[1].context_schema_version, b"0-3-0");
        assert_eq!(rows[1].event_time_micros, -5);
        assert_eq!(rows[1].environment, Environment::Staging);
        assert_eq!(rows[1].se_value_number, Some(2.5));
        assert_eq!(rows[1].unstruct_schema, b"iglu:x");
        assert_eq!(records[1].rows().count(), 0);
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        let mut buf = Vec::new();
        encode_one(&mut buf, 1, &[["e", "v", "k", "1-0-0", ""]]);
        for cut in 0..buf.len() {
            let got: Vec<_> = Records::new(&buf[..cut]).collect();
            assert!(cut == 0 || got.iter().any(Result::is_err), "cut at {cut}");
        }
        let mut bad = buf.clone();
        bad[4 + 16 + 8] = 9; // environment code
        assert!(Records::new(&bad).next().unwrap().is_err());
    }
}
