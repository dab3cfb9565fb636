//! The bad-row log: every rejected line with where it came from and why.
//!
//! Each partition (file) logs into its own spool, kept in memory up to 1 MiB and spilled to a
//! temporary file beyond, so memory stays bounded however many rows are bad; the spools are
//! concatenated in input order at the end, so the log is the same whatever the thread count.

use std::io::{self, Seek, SeekFrom, Write};

use snowfunnel_parse::RowError;
use tempfile::SpooledTempFile;

/// The header of the bad-rows CSV.
pub const BAD_ROWS_HEADER: [&str; 5] = ["file", "line", "reason", "detail", "raw_line"];

const SPOOL_MEMORY_BYTES: usize = 1 << 20;

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

    /// Writes a header and then the rows of every log, in order.
    ///
    /// # Errors
    /// When reading a spool or writing `out` fails.
    pub fn write_all(logs: impl IntoIterator<Item = BadRowLog>, mut out: impl Write) -> io::Result<()> {
        let mut header = csv::Writer::from_writer(&mut out);
        header.write_record(BAD_ROWS_HEADER)?;
        header.flush()?;
        drop(header);
        for log in logs {
            let mut spool = log.spool.into_inner().map_err(|e| io::Error::other(e.to_string()))?;
            spool.seek(SeekFrom::Start(0))?;
            io::copy(&mut spool, &mut out)?;
        }
        out.flush()
    }
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
        BadRowLog::write_all([a, BadRowLog::new(), b], &mut out).unwrap();
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
        BadRowLog::write_all([log], &mut out).unwrap();
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 301);
    }
}
