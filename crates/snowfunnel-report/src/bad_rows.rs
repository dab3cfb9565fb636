//! The bad-row log: every rejected line with where it came from and why.
//!
//! Each worker logs the rows of each file into its own spool, kept in memory up to 64 KiB and
//! spilled to a temporary file beyond, so memory stays bounded however many rows are bad. A
//! spool's rows are in line order; at the end the spools of each file are merged by line number
//! and the files written in input order, so the log is the same whatever the thread count.
//! Spools hold the rows as they are; the text cells (`file`, `detail`, `raw_line`: a raw line is
//! the data itself) are neutralised as they are written out.

use std::borrow::Cow;
use std::io::{self, Seek, SeekFrom, Write};

use snowfunnel_parse::RowError;
use tempfile::SpooledTempFile;

use crate::CsvCells;

/// The header of the bad-rows CSV.
pub const BAD_ROWS_HEADER: [&str; 5] = ["file", "line", "reason", "detail", "raw_line"];

/// The columns of [`BAD_ROWS_HEADER`] that hold text from the input: `file`, `detail`, `raw_line`.
const TEXT_COLUMNS: [usize; 3] = [0, 3, 4];

/// In-memory part of each spool: small, since a run may hold one per file with bad rows.
const SPOOL_MEMORY_BYTES: usize = 64 << 10;

/// Bad rows of one partition.
pub struct BadRowLog {
    spool: csv::Writer<SpooledTempFile>,
    rows: u64,
}

impl Default for BadRowLog {
    fn default() -> Self {
        Self::new()
    }
}

impl BadRowLog {
    /// An empty log.
    #[must_use]
    pub fn new() -> Self {
        BadRowLog { spool: csv::Writer::from_writer(SpooledTempFile::new(SPOOL_MEMORY_BYTES)), rows: 0 }
    }

    /// Logs one bad row.
    ///
    /// # Errors
    /// When spilling to the temporary file fails.
    pub fn push(&mut self, file: &str, line: u64, error: &RowError, raw: &[u8]) -> io::Result<()> {
        self.rows += 1;
        self.spool.write_record([
            file.as_bytes(),
            line.to_string().as_bytes(),
            error.reason().code().as_bytes(),
            error.to_string().as_bytes(),
            raw,
        ])?;
        Ok(())
    }

    /// Rows logged.
    #[must_use]
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Writes a header, then for each group (the logs of one file, each in line order) its rows
    /// merged by line number, group after group; the `file`, `detail` and `raw_line` cells as
    /// `cells` says.
    ///
    /// # Errors
    /// When reading a spool or writing `out` fails.
    pub fn write_all(
        groups: impl IntoIterator<Item = Vec<BadRowLog>>,
        cells: CsvCells,
        out: impl Write,
    ) -> io::Result<()> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(BAD_ROWS_HEADER)?;
        for group in groups {
            let mut readers = Vec::with_capacity(group.len());
            for log in group {
                let mut spool = log.spool.into_inner().map_err(|e| io::Error::other(e.to_string()))?;
                spool.seek(SeekFrom::Start(0))?;
                readers.push(csv::ReaderBuilder::new().has_headers(false).from_reader(spool));
            }
            merge_by_line(&mut readers, cells, &mut writer)?;
        }
        writer.flush()
    }
}

/// Writes the records of `readers` (each sorted by line number) in line-number order, their
/// text cells as `cells` says.
fn merge_by_line<R: io::Read, W: Write>(
    readers: &mut [csv::Reader<R>],
    cells: CsvCells,
    out: &mut csv::Writer<W>,
) -> io::Result<()> {
    let mut heads: Vec<Option<(u64, csv::ByteRecord)>> =
        readers.iter_mut().map(next_record).collect::<io::Result<_>>()?;
    while let Some(i) =
        (0..heads.len()).filter(|&i| heads[i].is_some()).min_by_key(|&i| heads[i].as_ref().map(|h| h.0))
    {
        if let Some((_, record)) = heads[i].take() {
            out.write_byte_record(&neutralised(&record, cells))?;
        }
        heads[i] = next_record(&mut readers[i])?;
    }
    Ok(())
}

/// `record` with its text cells as `cells` says (itself when none needs a mark, as nearly always).
fn neutralised(record: &csv::ByteRecord, cells: CsvCells) -> Cow<'_, csv::ByteRecord> {
    let marked = |i: usize| TEXT_COLUMNS.contains(&i) && record.get(i).is_some_and(|f| cells.needs_mark(f));
    if !(0..record.len()).any(marked) {
        return Cow::Borrowed(record);
    }
    Cow::Owned(
        record
            .iter()
            .enumerate()
            .map(
                |(i, field)| {
                    if TEXT_COLUMNS.contains(&i) { cells.bytes(field) } else { Cow::Borrowed(field) }
                },
            )
            .collect(),
    )
}

fn next_record<R: io::Read>(reader: &mut csv::Reader<R>) -> io::Result<Option<(u64, csv::ByteRecord)>> {
    let mut record = csv::ByteRecord::new();
    if !reader.read_byte_record(&mut record)? {
        return Ok(None);
    }
    let line = record
        .get(1)
        .and_then(|l| std::str::from_utf8(l).ok())
        .and_then(|l| l.parse().ok())
        .ok_or_else(|| io::Error::other("bad-row spool record without a line number"))?;
    Ok(Some((line, record)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_concatenate_in_order_with_one_header() {
        let mut a = BadRowLog::new();
        a.push("a.gz", 3, &RowError::FieldCount { found: 2 }, b"x\ty").unwrap();
        let mut b = BadRowLog::new();
        b.push("b.gz", 1, &RowError::NotTsv, b"").unwrap();
        assert_eq!(a.rows(), 1);
        let mut out = Vec::new();
        BadRowLog::write_all([vec![a, BadRowLog::new()], vec![b]], CsvCells::default(), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "file,line,reason,detail,raw_line\n\
             a.gz,3,field_count,\"expected 131 tab-separated fields, found 2\",x\ty\n\
             b.gz,1,not_tsv,not a TSV line (no tab),\n"
        );
    }

    #[test]
    fn large_logs_spill_and_come_back_whole() {
        let mut log = BadRowLog::new();
        let raw = vec![b'z'; 10_000];
        for i in 0..300 {
            log.push("f", i, &RowError::NotTsv, &raw).unwrap();
        }
        let mut out = Vec::new();
        BadRowLog::write_all([vec![log]], CsvCells::default(), &mut out).unwrap();
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 301);
    }

    #[test]
    fn logs_of_one_file_merge_by_line() {
        let mut a = BadRowLog::new();
        let mut b = BadRowLog::new();
        for line in [1, 5, 9] {
            a.push("f", line, &RowError::NotTsv, b"a\"quoted\"\tx").unwrap();
        }
        for line in [2, 3, 10] {
            b.push("f", line, &RowError::NotTsv, b"b").unwrap();
        }
        let mut out = Vec::new();
        BadRowLog::write_all([vec![a, b]], CsvCells::default(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().skip(1).map(|l| l.split(',').nth(1).unwrap()).collect();
        assert_eq!(lines, ["1", "2", "3", "5", "9", "10"]);
        assert!(text.contains("\"a\"\"quoted\"\"\tx\""), "{text}");
    }

    #[test]
    fn text_cells_are_neutralised_as_they_are_written() {
        let log = || {
            let mut log = BadRowLog::new();
            log.push("=file.tsv", 7, &RowError::NotTsv, b"=cmd|' /C calc'!A0").unwrap();
            log.push("f", 8, &RowError::NotTsv, b"@SUM(1)\xff").unwrap();
            log.push("f", 9, &RowError::NotTsv, b"plain").unwrap();
            log
        };
        let mut out = Vec::new();
        BadRowLog::write_all([vec![log()]], CsvCells::Neutralised, &mut out).unwrap();
        assert_eq!(
            out,
            b"file,line,reason,detail,raw_line\n\
              '=file.tsv,7,not_tsv,not a TSV line (no tab),'=cmd|' /C calc'!A0\n\
              f,8,not_tsv,not a TSV line (no tab),'@SUM(1)\xff\n\
              f,9,not_tsv,not a TSV line (no tab),plain\n"
        );
        let mut raw = Vec::new();
        BadRowLog::write_all([vec![log()]], CsvCells::Raw, &mut raw).unwrap();
        assert!(raw.ends_with(b"\n=file.tsv,7,not_tsv,not a TSV line (no tab),=cmd|' /C calc'!A0\nf,8,not_tsv,not a TSV line (no tab),@SUM(1)\xff\nf,9,not_tsv,not a TSV line (no tab),plain\n"));
    }
}
