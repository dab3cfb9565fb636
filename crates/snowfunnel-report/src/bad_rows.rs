//! The bad-row log: rejected lines with where they came from and why, as CSV or as Snowplow
//! bad rows, capped in size.
//!
//! Worker threads log rows through their own [`BadRowWriter`], which encodes each row at once
//! in the output format and hands the rows of each chunk to the shared [`BadRowLog`] as one
//! batch. The log keeps the *first* rows in input order (files in input order, lines in file
//! order) whose encoded size fits in the cap, and counts the others as dropped, whatever the
//! thread count and whatever order the batches come in:
//!
//! - batches are held sorted by their place in the input; while the rows held exceed the cap,
//!   the last row held is dropped: every row before it is held or still to come, so it can
//!   never be among the first rows that fit;
//! - the place of the first row dropped is the *horizon*: any row that comes later from
//!   beyond it is dropped on arrival, as the first rows that fit end before it.
//!
//! So memory holds at most the cap of encoded rows (plus 16 bytes per row of bookkeeping), and
//! one batch per thread on its way (a chunk's rows, or 64 KiB); nothing goes to disk before the
//! log is written.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::Mutex;

use std::borrow::Cow;

use serde::Serialize;
use snowfunnel_parse::{RowError, fields};

use crate::CsvCells;

/// The header of the bad-rows CSV.
pub const BAD_ROWS_HEADER: [&str; 5] = ["file", "line", "reason", "detail", "raw_line"];

/// The default cap of the bad-row log (`--max-bad-rows-bytes`): 64 MiB.
pub const DEFAULT_MAX_BAD_ROWS_BYTES: u64 = 64 << 20;

/// The Iglu URI of Snowplow's bad row for a line that is not a valid enriched event.
pub const LOADER_PARSING_ERROR: &str =
    "iglu:com.snowplowanalytics.snowplow.badrows/loader_parsing_error/jsonschema/2-0-0";

/// The largest `fieldCount` the `FieldNumberMismatch` failure of [`LOADER_PARSING_ERROR`] allows.
const MAX_FIELD_COUNT: usize = 1024;

/// A writer hands its rows to the log at least this often, so a chunk of bad rows never
/// stays whole in a thread.
const BATCH_BYTES: usize = 64 << 10;

/// How bad rows are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadRowFormat {
    /// CSV: [`BAD_ROWS_HEADER`], then `file,line,reason,detail,raw_line` per row.
    Csv,
    /// One self-describing JSON per line: a Snowplow `loader_parsing_error` 2-0-0 bad row
    /// ([`LOADER_PARSING_ERROR`]).
    Snowplow,
}

/// The software that writes Snowplow bad rows: their `processor`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Processor {
    /// Its name.
    pub artifact: String,
    /// Its version (`1.2.3`).
    pub version: String,
}

/// What [`BadRowLog::write`] wrote, and what it dropped over the cap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BadRowsWritten {
    /// Rows written.
    pub rows: u64,
    /// Their bytes (the CSV header aside).
    pub bytes: u64,
    /// Rows dropped over the cap.
    pub dropped_rows: u64,
    /// Their bytes, as they would have been written.
    pub dropped_bytes: u64,
    /// The cap.
    pub cap: u64,
}

/// The bad rows of a run, shared by its threads: the first rows in input order within the cap.
pub struct BadRowLog {
    format: BadRowFormat,
    /// How the CSV format writes its text cells (`file`, `detail`, `raw_line`: a raw line is
    /// the data itself).
    cells: CsvCells,
    processor: Processor,
    cap: u64,
    kept: Mutex<Kept>,
}

/// A place in the input: the index of the file, and a line number in it.
type Place = (usize, u64);

/// The rows held, and what came.
#[derive(Default)]
struct Kept {
    /// Batches by the place of their first row.
    batches: BTreeMap<Place, Batch>,
    /// Encoded bytes of the rows in `batches`.
    bytes: u64,
    /// The first row dropped: no row from there on can be kept.
    horizon: Option<Place>,
    /// Per file, rows and bytes that came, kept or not.
    came: BTreeMap<usize, (u64, u64)>,
}

/// Encoded rows of one stretch of one file, in line order.
#[derive(Default)]
struct Batch {
    file: usize,
    data: Vec<u8>,
    /// Per row: its line number and where it ends in `data`.
    rows: Vec<(u64, u32)>,
}

impl Batch {
    fn row_bytes(&self, i: usize) -> u64 {
        let start = if i == 0 { 0 } else { self.rows[i - 1].1 };
        u64::from(self.rows[i].1 - start)
    }

    /// Drops the rows from `i` on.
    fn truncate(&mut self, i: usize) {
        let end = if i == 0 { 0 } else { self.rows[i - 1].1 };
        self.data.truncate(end as usize);
        self.rows.truncate(i);
    }
}

impl BadRowLog {
    /// An empty log in `format` (CSV text cells as `cells` says), keeping at most `cap` bytes
    /// of rows.
    #[must_use]
    pub fn new(format: BadRowFormat, cells: CsvCells, cap: u64, processor: Processor) -> Self {
        BadRowLog { format, cells, processor, cap, kept: Mutex::new(Kept::default()) }
    }

    /// A writer for one thread.
    #[must_use]
    pub fn writer(&self) -> BadRowWriter<'_> {
        BadRowWriter { log: self, batch: Batch::default(), csv: None }
    }

    /// Takes a batch: counts it, and keeps what may be among the first rows within the cap.
    fn add(&self, mut batch: Batch) {
        let mut kept = self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let came = kept.came.entry(batch.file).or_default();
        came.0 += batch.rows.len() as u64;
        came.1 += batch.data.len() as u64;
        if let Some(horizon) = kept.horizon {
            let beyond = batch.rows.partition_point(|&(line, _)| (batch.file, line) < horizon);
            batch.truncate(beyond);
        }
        let Some(&(first, _)) = batch.rows.first() else { return };
        kept.bytes += batch.data.len() as u64;
        kept.batches.insert((batch.file, first), batch);
        while kept.bytes > self.cap {
            let Some(mut last) = kept.batches.last_entry() else { break };
            let batch = last.get_mut();
            let i = batch.rows.len() - 1;
            let (file, line) = (batch.file, batch.rows[i].0);
            let bytes = batch.row_bytes(i);
            batch.truncate(i);
            if batch.rows.is_empty() {
                last.remove();
            }
            kept.bytes -= bytes;
            kept.horizon = Some((file, line));
        }
    }

    /// Writes the rows kept, in input order, to `out` (CSV: after the header), leaving out
    /// the files for which `read` is false (corrupt files skipped: nothing of them counts).
    /// Their rows took their place under the cap all the same, so a run that skips a file may
    /// write fewer rows than the cap would hold.
    ///
    /// # Errors
    /// When writing to `out` fails.
    pub fn write(self, read: impl Fn(usize) -> bool, mut out: impl Write) -> io::Result<BadRowsWritten> {
        let kept = self.kept.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.format == BadRowFormat::Csv {
            let mut header = csv::Writer::from_writer(&mut out);
            header.write_record(BAD_ROWS_HEADER)?;
            header.flush()?;
        }
        let mut written = BadRowsWritten { cap: self.cap, ..BadRowsWritten::default() };
        for batch in kept.batches.values().filter(|b| read(b.file)) {
            out.write_all(&batch.data)?;
            written.rows += batch.rows.len() as u64;
            written.bytes += batch.data.len() as u64;
        }
        out.flush()?;
        let (rows, bytes) = kept
            .came
            .iter()
            .filter(|(file, _)| read(**file))
            .fold((0, 0), |(rows, bytes), (_, came)| (rows + came.0, bytes + came.1));
        written.dropped_rows = rows - written.rows;
        written.dropped_bytes = bytes - written.bytes;
        Ok(written)
    }
}

/// One thread's way into a [`BadRowLog`]: encodes rows as they come and hands them over in
/// batches.
pub struct BadRowWriter<'a> {
    log: &'a BadRowLog,
    batch: Batch,
    /// The CSV encoder of the batch, when the format is CSV.
    csv: Option<csv::Writer<Vec<u8>>>,
}

impl BadRowWriter<'_> {
    /// Logs one bad row: line `line` of the file at index `file` in input order, named
    /// `name`, rejected for `error`; `raw` is the line (or the start of one too long to keep).
    ///
    /// Rows must come in input order between two [`BadRowWriter::flush`]es, and no other writer
    /// may log a row that falls between them: flush at the end of each chunk of lines.
    ///
    /// # Errors
    /// When encoding fails (writing to memory: not in practice).
    pub fn push(
        &mut self,
        file: usize,
        name: &str,
        line: u64,
        error: &RowError,
        raw: &[u8],
    ) -> io::Result<()> {
        if self.batch.file != file || self.batch_bytes() >= BATCH_BYTES {
            self.flush()?;
            self.batch.file = file;
        }
        let end = match self.log.format {
            BadRowFormat::Csv => {
                let csv = self.csv.get_or_insert_with(|| csv::Writer::from_writer(Vec::new()));
                let cells = self.log.cells;
                let detail = error.to_string();
                csv.write_record([
                    cells.text(name).as_bytes(),
                    line.to_string().as_bytes(),
                    error.reason().code().as_bytes(),
                    cells.text(detail.as_str()).as_bytes(),
                    &cells.bytes(raw),
                ])?;
                csv.flush()?;
                csv.get_ref().len()
            }
            BadRowFormat::Snowplow => {
                let data = &mut self.batch.data;
                serde_json::to_writer(&mut *data, &snowplow_bad_row(&self.log.processor, error, raw))?;
                data.push(b'\n');
                data.len()
            }
        };
        let end = u32::try_from(end).map_err(|_| io::Error::other("a bad row of more than 4 GiB"))?;
        self.batch.rows.push((line, end));
        Ok(())
    }

    /// Bytes of the rows not handed over yet.
    fn batch_bytes(&self) -> usize {
        self.csv.as_ref().map_or(self.batch.data.len(), |csv| csv.get_ref().len())
    }

    /// Hands the rows logged since the last flush to the log.
    ///
    /// # Errors
    /// When encoding fails (writing to memory: not in practice).
    pub fn flush(&mut self) -> io::Result<()> {
        if let Some(csv) = self.csv.take() {
            self.batch.data = csv.into_inner().map_err(|e| io::Error::other(e.to_string()))?;
        }
        if !self.batch.rows.is_empty() {
            let file = self.batch.file;
            self.log.add(std::mem::take(&mut self.batch));
            self.batch.file = file;
        }
        self.batch.data.clear();
        Ok(())
    }
}

impl Drop for BadRowWriter<'_> {
    fn drop(&mut self) {
        // Encoding into memory does not fail; a row lost here would only be missing from the log.
        let _ = self.flush();
    }
}

/// A Snowplow bad row: a self-describing `loader_parsing_error` 2-0-0, fields in the order
/// Snowplow writes them.
#[derive(Serialize)]
struct SnowplowBadRow<'a> {
    schema: &'static str,
    data: LoaderParsingError<'a>,
}

#[derive(Serialize)]
struct LoaderParsingError<'a> {
    processor: &'a Processor,
    failure: Failure<'a>,
    payload: Cow<'a, str>,
}

/// The `failure` of a Snowplow bad row, as the Analytics SDKs report it.
#[derive(Serialize)]
#[serde(tag = "type")]
enum Failure<'a> {
    #[serde(rename = "NotTSV")]
    NotTsv,
    FieldNumberMismatch {
        #[serde(rename = "fieldCount")]
        field_count: usize,
    },
    RowDecodingError {
        errors: [DecodingError<'a>; 1],
    },
}

#[derive(Serialize)]
#[serde(tag = "type")]
enum DecodingError<'a> {
    InvalidValue { key: &'a str, value: Cow<'a, str>, message: String },
    UnhandledRowDecodingError { message: String },
}

/// The Snowplow bad row of `raw`, rejected for `error`.
fn snowplow_bad_row<'a>(processor: &'a Processor, error: &'a RowError, raw: &'a [u8]) -> SnowplowBadRow<'a> {
    SnowplowBadRow {
        schema: LOADER_PARSING_ERROR,
        data: LoaderParsingError {
            processor,
            failure: snowplow_failure(error, raw),
            payload: String::from_utf8_lossy(raw),
        },
    }
}

/// The failure of `error`: `NotTSV`, `FieldNumberMismatch`, or a `RowDecodingError` with an
/// `InvalidValue` naming the field, or an `UnhandledRowDecodingError` for what the schema has
/// no place for (more than 1024 fields, a line over the length limit).
fn snowplow_failure<'a>(error: &'a RowError, raw: &'a [u8]) -> Failure<'a> {
    let invalid = |key: &'a str, index: usize| {
        let value = raw.split(|&b| b == b'\t').nth(index).unwrap_or_default();
        let value = String::from_utf8_lossy(value);
        Failure::RowDecodingError {
            errors: [DecodingError::InvalidValue { key, value, message: error.to_string() }],
        }
    };
    match error {
        RowError::NotTsv => Failure::NotTsv,
        RowError::FieldCount { found } if *found <= MAX_FIELD_COUNT => {
            Failure::FieldNumberMismatch { field_count: *found }
        }
        RowError::Timestamp { field, .. } if *field == "collector_tstamp" => {
            invalid(field, fields::COLLECTOR_TSTAMP)
        }
        RowError::Timestamp { field, .. } => invalid(field, fields::DERIVED_TSTAMP),
        RowError::Contexts(_) => invalid("contexts", fields::CONTEXTS),
        RowError::UnstructEvent(_) => invalid("unstruct_event", fields::UNSTRUCT_EVENT),
        RowError::SeValue(_) => invalid("se_value", fields::SE_VALUE),
        RowError::FieldCount { .. } | RowError::TooLong(_) | RowError::LineTooLong { .. } => {
            Failure::RowDecodingError {
                errors: [DecodingError::UnhandledRowDecodingError { message: error.to_string() }],
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn log(format: BadRowFormat, cap: u64) -> BadRowLog {
        log_with(format, CsvCells::default(), cap)
    }

    fn log_with(format: BadRowFormat, cells: CsvCells, cap: u64) -> BadRowLog {
        let processor = Processor { artifact: "snowfunnel".into(), version: "0.1.0".into() };
        BadRowLog::new(format, cells, cap, processor)
    }

    #[test]
    fn text_cells_are_neutralised_as_they_are_written() {
        let logged = |cells| {
            let log = log_with(BadRowFormat::Csv, cells, u64::MAX);
            let mut w = log.writer();
            w.push(0, "=file.tsv", 7, &RowError::NotTsv, b"=cmd|' /C calc'!A0").unwrap();
            w.push(0, "=file.tsv", 8, &RowError::NotTsv, b"@SUM(1)\xff").unwrap();
            w.push(0, "=file.tsv", 9, &RowError::NotTsv, b"plain").unwrap();
            drop(w);
            let mut out = Vec::new();
            log.write(|_| true, &mut out).unwrap();
            out
        };
        assert_eq!(
            logged(CsvCells::Neutralised),
            b"file,line,reason,detail,raw_line\n\
              '=file.tsv,7,not_tsv,not a TSV line (no tab),'=cmd|' /C calc'!A0\n\
              '=file.tsv,8,not_tsv,not a TSV line (no tab),'@SUM(1)\xff\n\
              '=file.tsv,9,not_tsv,not a TSV line (no tab),plain\n"
        );
        assert!(logged(CsvCells::Raw).ends_with(b"\n=file.tsv,9,not_tsv,not a TSV line (no tab),plain\n"));
        assert!(
            String::from_utf8_lossy(&logged(CsvCells::Raw))
                .contains("\n=file.tsv,7,not_tsv,not a TSV line (no tab),=cmd|' /C calc'!A0\n")
        );
    }

    fn written(log: BadRowLog) -> (String, BadRowsWritten) {
        let mut out = Vec::new();
        let written = log.write(|_| true, &mut out).unwrap();
        (String::from_utf8(out).unwrap(), written)
    }

    #[test]
    fn rows_come_out_in_input_order_with_one_header() {
        let log = log(BadRowFormat::Csv, u64::MAX);
        let (mut a, mut b) = (log.writer(), log.writer());
        b.push(1, "b.gz", 1, &RowError::NotTsv, b"").unwrap();
        a.push(0, "a.gz", 3, &RowError::FieldCount { found: 2 }, b"x\ty").unwrap();
        drop((b, a));
        let (text, written) = written(log);
        assert_eq!(
            text,
            "file,line,reason,detail,raw_line\n\
             a.gz,3,field_count,\"expected 131 tab-separated fields, found 2\",x\ty\n\
             b.gz,1,not_tsv,not a TSV line (no tab),\n"
        );
        assert_eq!((written.rows, written.dropped_rows, written.dropped_bytes), (2, 0, 0));
        assert_eq!(written.bytes as usize, text.len() - "file,line,reason,detail,raw_line\n".len());
    }

    #[test]
    fn batches_of_one_file_from_several_threads_merge_by_line() {
        let log = log(BadRowFormat::Csv, u64::MAX);
        let mut writers = [log.writer(), log.writer()];
        for (writer, lines) in [(0, [5, 6]), (1, [1, 3]), (0, [9, 10])] {
            for line in lines {
                writers[writer].push(0, "f", line, &RowError::NotTsv, b"a\"quoted\"\tx").unwrap();
            }
            writers[writer].flush().unwrap();
        }
        drop(writers);
        let (text, _) = written(log);
        let lines: Vec<&str> = text.lines().skip(1).map(|l| l.split(',').nth(1).unwrap()).collect();
        assert_eq!(lines, ["1", "3", "5", "6", "9", "10"]);
        assert!(text.contains("\"a\"\"quoted\"\"\tx\""), "{text}");
    }

    /// Rows of the same size: the first in input order that fit in `cap` are kept, whatever
    /// order the batches come in.
    #[test]
    fn the_cap_keeps_the_first_rows_in_input_order_whatever_the_arrival_order() {
        let row = |file: usize, line: u64| (file, line);
        // 3 files of 6 rows, in batches of 2 rows.
        let batches: Vec<Vec<(usize, u64)>> =
            (0..3).flat_map(|f| (0..3).map(move |b| vec![row(f, 2 * b + 1), row(f, 2 * b + 2)])).collect();
        let one_row = {
            let l = log(BadRowFormat::Csv, u64::MAX);
            l.writer().push(0, "f0", 1, &RowError::NotTsv, b"raw").unwrap();
            written(l).1.bytes
        };
        for cap in [0, one_row - 1, one_row, 7 * one_row + 3, 18 * one_row, u64::MAX] {
            let mut outputs = Vec::new();
            for order in [
                vec![0, 1, 2, 3, 4, 5, 6, 7, 8],
                vec![8, 7, 6, 5, 4, 3, 2, 1, 0],
                vec![4, 0, 8, 2, 6, 1, 3, 7, 5],
            ] {
                let log = log(BadRowFormat::Csv, cap);
                for &i in &order {
                    let mut w = log.writer();
                    for &(file, line) in &batches[i] {
                        w.push(file, &format!("f{file}"), line, &RowError::NotTsv, b"raw").unwrap();
                    }
                }
                outputs.push(written(log));
            }
            let kept = usize::try_from((cap / one_row).min(18)).unwrap();
            let (text, written) = &outputs[0];
            assert_eq!(text.lines().count(), 1 + kept, "cap {cap}: {text}");
            assert_eq!(written.rows as usize, kept);
            assert_eq!(written.dropped_rows as usize, 18 - kept);
            assert_eq!(written.dropped_bytes, (18 - kept as u64) * one_row);
            assert!(written.bytes <= cap);
            assert!(outputs.iter().all(|o| o == &outputs[0]), "cap {cap}: the order of arrival matters");
        }
    }

    #[test]
    fn a_row_that_does_not_fit_ends_the_log_even_if_smaller_ones_follow() {
        // Row 2 does not fit after row 1; row 3 would, but the log is a prefix: it ends at row 2,
        // whether row 3 comes in the same batch, after, or before.
        let rows: [(u64, &[u8]); 3] = [(1, b"short"), (2, &[b'x'; 100]), (3, b"")];
        for batches in [vec![vec![0, 1, 2]], vec![vec![0, 1], vec![2]], vec![vec![2], vec![0, 1]]] {
            // Rows 1 and 3 take 79 bytes together.
            let log = log(BadRowFormat::Csv, 85);
            for batch in batches {
                let mut w = log.writer();
                for i in batch {
                    w.push(0, "f", rows[i].0, &RowError::NotTsv, rows[i].1).unwrap();
                }
            }
            let (text, written) = written(log);
            assert_eq!(text.lines().count(), 2, "{text}");
            assert!(text.ends_with(",short\n"), "{text}");
            assert_eq!((written.rows, written.dropped_rows), (1, 2));
        }
    }

    #[test]
    fn rows_of_files_not_read_are_left_out() {
        let log = log(BadRowFormat::Csv, u64::MAX);
        let mut w = log.writer();
        w.push(0, "a", 1, &RowError::NotTsv, b"").unwrap();
        w.push(1, "skipped", 1, &RowError::NotTsv, b"").unwrap();
        drop(w);
        let mut out = Vec::new();
        let written = log.write(|file| file != 1, &mut out).unwrap();
        assert_eq!((written.rows, written.dropped_rows), (1, 0));
        assert!(!String::from_utf8(out).unwrap().contains("skipped"));
    }

    #[test]
    fn large_batches_are_handed_over_as_they_grow() {
        let log = log(BadRowFormat::Csv, 10 * BATCH_BYTES as u64);
        let mut w = log.writer();
        let raw = vec![b'z'; 10_000];
        for line in 1..=300 {
            w.push(0, "f", line, &RowError::NotTsv, &raw).unwrap();
            assert!(w.batch_bytes() < BATCH_BYTES + 11_000);
        }
        drop(w);
        let (text, written) = written(log);
        assert_eq!(text.lines().count() as u64, 1 + written.rows);
        assert_eq!(written.rows + written.dropped_rows, 300);
        assert!(written.rows > 0 && written.dropped_rows > 0);
    }

    #[test]
    fn snowplow_rows_are_self_describing_loader_parsing_errors() {
        let log = log(BadRowFormat::Snowplow, u64::MAX);
        let mut w = log.writer();
        let mut line = vec![""; fields::FIELD_COUNT];
        line[fields::COLLECTOR_TSTAMP] = "29th May";
        let line = line.join("\t");
        let error = RowError::Timestamp {
            field: "collector_tstamp",
            value: "29th May".into(),
            problem: snowfunnel_parse::parse_timestamp(b"29th May").unwrap_err(),
        };
        w.push(0, "f", 1, &error, line.as_bytes()).unwrap();
        w.push(0, "f", 2, &RowError::NotTsv, b"\xffnot tsv").unwrap();
        w.push(0, "f", 3, &RowError::FieldCount { found: 2000 }, b"x").unwrap();
        drop(w);
        let (text, _) = written(log);
        let rows: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert!(
            text.starts_with(&format!("{{\"schema\":\"{LOADER_PARSING_ERROR}\",\"data\":{{\"processor\":"))
        );
        assert_eq!(rows[0]["schema"], LOADER_PARSING_ERROR);
        assert_eq!(rows[0]["data"]["processor"], json!({ "artifact": "snowfunnel", "version": "0.1.0" }));
        assert_eq!(rows[0]["data"]["failure"]["errors"][0]["key"], "collector_tstamp");
        assert_eq!(rows[0]["data"]["failure"]["errors"][0]["value"], "29th May");
        assert_eq!(rows[0]["data"]["payload"], line);
        assert_eq!(rows[1]["data"]["failure"], json!({ "type": "NotTSV" }));
        assert_eq!(rows[1]["data"]["payload"], "\u{fffd}not tsv");
        assert_eq!(rows[2]["data"]["failure"]["errors"][0]["type"], "UnhandledRowDecodingError");
    }
}
