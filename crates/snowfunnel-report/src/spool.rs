//! The row spool: extract records wait here, in memory up to a budget and in a temporary file
//! beyond, until they are written in input order.
//!
//! Each worker thread has one [`RowSpool`] and stores there the records of each chunk it reads
//! as one [`Segment`]; the output pass reads the segments of every worker sorted by input and
//! line, so the output does not depend on the thread count, and memory stays within one budget
//! per worker however large the extract.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::Arc;

/// In-memory budget of one spool; the rest goes to its temporary file.
pub const SPOOL_MEMORY_BYTES: usize = 8 << 20;

/// Where one worker's segments go.
#[derive(Debug)]
pub struct RowSpool {
    memory_left: usize,
    file: Option<Arc<File>>,
    file_len: u64,
}

impl Default for RowSpool {
    fn default() -> Self {
        Self::new(SPOOL_MEMORY_BYTES)
    }
}

impl RowSpool {
    /// A spool keeping up to `memory_bytes` in memory.
    #[must_use]
    pub fn new(memory_bytes: usize) -> Self {
        RowSpool { memory_left: memory_bytes, file: None, file_len: 0 }
    }

    /// Stores `bytes` as a segment and clears them (their buffer stays for reuse).
    ///
    /// # Errors
    /// When the temporary file cannot be created or written.
    pub fn store(&mut self, bytes: &mut Vec<u8>) -> io::Result<Segment> {
        let segment = if bytes.len() <= self.memory_left {
            self.memory_left -= bytes.len();
            Segment::Memory(bytes.as_slice().into())
        } else {
            let file = match &self.file {
                Some(file) => file,
                // Unlinked at once: nothing is left behind, whatever happens to the run.
                None => self.file.insert(Arc::new(tempfile::tempfile()?)),
            };
            (&**file).write_all(bytes)?;
            let segment = Segment::Disk { file: Arc::clone(file), offset: self.file_len, len: bytes.len() };
            self.file_len += bytes.len() as u64;
            segment
        };
        bytes.clear();
        Ok(segment)
    }
}

/// The spool of `snowfunnel events`' extract job.
impl snowfunnel_extract::RecordSpool for RowSpool {
    type Segment = Segment;

    fn store(&mut self, records: &mut Vec<u8>) -> io::Result<Segment> {
        RowSpool::store(self, records)
    }
}

/// The bytes of one stored chunk.
#[derive(Debug)]
pub enum Segment {
    /// Kept in memory.
    Memory(Box<[u8]>),
    /// In a spool's temporary file.
    Disk {
        /// The spool's file.
        file: Arc<File>,
        /// Where the segment starts.
        offset: u64,
        /// Its length.
        len: usize,
    },
}

impl Segment {
    /// The segment's bytes, read into `buf` when they are on disk. Read segments from one
    /// thread at a time (they share their spool's file position).
    ///
    /// # Errors
    /// When the temporary file cannot be read.
    pub fn bytes<'s>(&'s self, buf: &'s mut Vec<u8>) -> io::Result<&'s [u8]> {
        match self {
            Segment::Memory(bytes) => Ok(bytes),
            Segment::Disk { file, offset, len } => {
                buf.resize(*len, 0);
                let mut file = &**file;
                file.seek(SeekFrom::Start(*offset))?;
                file.read_exact(buf)?;
                Ok(buf)
            }
        }
    }

    /// Bytes in the segment.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Segment::Memory(bytes) => bytes.len(),
            Segment::Disk { len, .. } => *len,
        }
    }

    /// Whether the segment is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_beyond_the_budget_spill_and_read_back_whole() {
        let mut spool = RowSpool::new(10);
        let mut segments = Vec::new();
        for i in 0..5u8 {
            let mut bytes = vec![i; 4 + usize::from(i)];
            segments.push(spool.store(&mut bytes).unwrap());
            assert!(bytes.is_empty());
        }
        assert!(matches!(segments[0], Segment::Memory(_)));
        assert!(matches!(segments[1], Segment::Memory(_)));
        assert!(matches!(segments[2], Segment::Disk { .. }), "over the budget of 10");
        let mut buf = Vec::new();
        for (i, segment) in segments.iter().enumerate().rev() {
            let want = vec![i as u8; 4 + i];
            assert_eq!(segment.bytes(&mut buf).unwrap(), want);
            assert_eq!(segment.len(), want.len());
        }
    }
}
