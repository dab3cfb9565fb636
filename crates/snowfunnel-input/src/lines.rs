//! Splitting a byte stream into lines from one large reused buffer.

use std::io::{self, Read};

use memchr::memchr_iter;

/// Longest line accepted (64 MiB); enriched events are a few KB.
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// Read size: large enough that per-read overhead vanishes, small enough to stay in L2/L3.
const CHUNK_BYTES: usize = 1 << 20;

/// Splits streams into `\n`-terminated lines (a last line without `\n` counts too). Keep one
/// per thread: its buffer is reused from file to file.
pub struct LineSplitter {
    buf: Vec<u8>,
}

impl Default for LineSplitter {
    fn default() -> Self {
        Self::new()
    }
}

/// How splitting a stream ended early.
#[derive(Debug)]
pub(crate) enum SplitError {
    /// The reader failed after `bytes` bytes.
    Io { source: io::Error, bytes: u64 },
    /// Line `line` (1-based) is longer than [`MAX_LINE_BYTES`].
    TooLong { line: u64 },
}

/// What a completed split saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Split {
    pub(crate) bytes: u64,
    pub(crate) lines: u64,
}

impl LineSplitter {
    /// A splitter with a 1 MiB buffer.
    #[must_use]
    pub fn new() -> Self {
        LineSplitter { buf: vec![0; CHUNK_BYTES] }
    }

    /// Calls `on_line(line_number, line)` for every line of `reader`, without its `\n`.
    pub(crate) fn split(
        &mut self,
        mut reader: impl Read,
        mut on_line: impl FnMut(u64, &[u8]),
    ) -> Result<Split, SplitError> {
        let mut filled = 0;
        let mut done = Split::default();
        loop {
            if filled == self.buf.len() {
                // The buffer holds one unfinished line: grow it.
                if self.buf.len() >= MAX_LINE_BYTES {
                    return Err(SplitError::TooLong { line: done.lines + 1 });
                }
                self.buf.resize((self.buf.len() * 2).min(MAX_LINE_BYTES), 0);
            }
            let n = match reader.read(&mut self.buf[filled..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(SplitError::Io { source, bytes: done.bytes });
                }
            };
            if n == 0 {
                if filled > 0 {
                    done.lines += 1;
                    on_line(done.lines, &self.buf[..filled]);
                }
                return Ok(done);
            }
            done.bytes += n as u64;
            let scanned = filled;
            filled += n;
            let data = &self.buf[..filled];
            let mut start = 0;
            for newline in memchr_iter(b'\n', &data[scanned..]) {
                let end = scanned + newline;
                done.lines += 1;
                on_line(done.lines, &data[start..end]);
                start = end + 1;
            }
            self.buf.copy_within(start..filled, 0);
            filled -= start;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `step` bytes per read, to cross buffer edges.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn lines_of(data: &[u8], step: usize) -> Vec<(u64, Vec<u8>)> {
        let mut out = Vec::new();
        let split =
            LineSplitter::new().split(Trickle { data, step }, |n, l| out.push((n, l.to_vec()))).unwrap();
        assert_eq!(split.bytes, data.len() as u64);
        assert_eq!(split.lines, out.len() as u64);
        out
    }

    #[test]
    fn splits_lines_keeping_empty_ones_and_a_last_unterminated_one() {
        let got = lines_of(b"a\tb\n\nc\n d", 3);
        let want: Vec<(u64, Vec<u8>)> =
            vec![(1, b"a\tb".to_vec()), (2, vec![]), (3, b"c".to_vec()), (4, b" d".to_vec())];
        assert_eq!(got, want);
        assert!(lines_of(b"", 3).is_empty());
        assert_eq!(lines_of(b"x\n", 1), vec![(1, b"x".to_vec())]);
    }

    #[test]
    fn lines_longer_than_the_buffer_grow_it() {
        let long = vec![b'x'; CHUNK_BYTES * 3 + 5];
        let mut data = long.clone();
        data.extend_from_slice(b"\nend\n");
        let got = lines_of(&data, CHUNK_BYTES / 3);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1, long);
    }

    proptest::proptest! {
        #[test]
        fn equals_a_plain_split(data in proptest::collection::vec(proptest::prop_oneof![proptest::strategy::Just(b'\n'), proptest::prelude::any::<u8>()], 0..3000), step in 1usize..700) {
            let got: Vec<Vec<u8>> = lines_of(&data, step).into_iter().map(|(_, l)| l).collect();
            let mut want: Vec<Vec<u8>> = data.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
            if data.last().is_none_or(|&b| b == b'\n') {
                want.pop();
            }
            proptest::prop_assert_eq!(got, want);
        }
    }
}
