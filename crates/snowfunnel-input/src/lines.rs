//! Cutting a byte stream into chunks of whole lines, and chunks into lines.
//!
//! A [`Chunk`] is a large buffer (1 MiB) of complete lines; the partial line at its end is
//! carried into the next one. In one thread a single chunk is reused for a whole file; across
//! threads, chunks travel from the thread that inflates to the threads that parse, and come
//! back to be refilled.

use std::io::{self, Read};

use memchr::{memchr_iter, memrchr};

/// Longest line accepted (64 MiB); enriched events are a few KB.
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// Chunk size: large enough that per-read and per-chunk costs vanish, small enough to stay in
/// cache between being filled and being parsed.
pub const CHUNK_BYTES: usize = 1 << 20;

/// A buffer of whole lines from one input.
pub struct Chunk {
    buf: Vec<u8>,
    len: usize,
    /// The offset of each `\n` in `buf[..len]`, found once when the chunk is filled (to count
    /// its lines) and used again to hand out the lines.
    newlines: Vec<u32>,
    /// 1-based number of the chunk's first line in its input.
    pub first_line: u64,
    /// Lines in the chunk.
    pub lines: u64,
}

impl Default for Chunk {
    fn default() -> Self {
        Self::new()
    }
}

impl Chunk {
    /// An empty chunk with a [`CHUNK_BYTES`] buffer.
    #[must_use]
    pub fn new() -> Self {
        Chunk { buf: vec![0; CHUNK_BYTES], len: 0, newlines: Vec::new(), first_line: 1, lines: 0 }
    }

    /// The chunk's bytes: complete lines, each ending in `\n` except perhaps the input's last.
    #[must_use]
    pub fn data(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Calls `on_line(line_number, line)` for each line, without its `\n`.
    pub fn for_each_line(&self, mut on_line: impl FnMut(u64, &[u8])) {
        let data = self.data();
        let mut start = 0;
        let mut number = self.first_line;
        for &newline in &self.newlines {
            let newline = newline as usize;
            on_line(number, &data[start..newline]);
            number += 1;
            start = newline + 1;
        }
        if start < data.len() {
            on_line(number, &data[start..]);
        }
    }
}

/// How reading a stream ended early.
#[derive(Debug)]
pub(crate) enum SplitError {
    /// The reader failed after `bytes` bytes.
    Io { source: io::Error, bytes: u64 },
    /// Line `line` (1-based) is longer than [`MAX_LINE_BYTES`].
    TooLong { line: u64 },
}

/// Cuts a stream into chunks of whole lines.
pub(crate) struct Chunker<R> {
    reader: R,
    carry: Vec<u8>,
    next_line: u64,
    bytes: u64,
    eof: bool,
}

impl<R: Read> Chunker<R> {
    pub(crate) fn new(reader: R) -> Self {
        Chunker { reader, carry: Vec::new(), next_line: 1, bytes: 0, eof: false }
    }

    /// Bytes read so far.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Lines in the chunks handed out so far.
    pub(crate) fn lines(&self) -> u64 {
        self.next_line - 1
    }

    /// Refills `chunk` with the next lines; `false` at the end of the stream.
    pub(crate) fn fill(&mut self, chunk: &mut Chunk) -> Result<bool, SplitError> {
        let buf = &mut chunk.buf;
        if buf.len() < self.carry.len() {
            // A chunk that travelled between threads may be smaller than the one before.
            buf.resize(self.carry.len() * 2, 0);
        }
        buf[..self.carry.len()].copy_from_slice(&self.carry);
        let mut filled = self.carry.len();
        self.carry.clear();
        loop {
            if filled == buf.len() {
                match memrchr(b'\n', buf) {
                    Some(last) => {
                        self.carry.extend_from_slice(&buf[last + 1..]);
                        return Ok(self.hand_out(chunk, last + 1));
                    }
                    // One line fills the buffer: grow it.
                    None if buf.len() >= MAX_LINE_BYTES => {
                        return Err(SplitError::TooLong { line: self.next_line });
                    }
                    None => buf.resize((buf.len() * 2).min(MAX_LINE_BYTES), 0),
                }
            }
            if self.eof {
                return Ok(filled > 0 && self.hand_out(chunk, filled));
            }
            match self.reader.read(&mut buf[filled..]) {
                Ok(0) => self.eof = true,
                Ok(n) => {
                    filled += n;
                    self.bytes += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => return Err(SplitError::Io { source, bytes: self.bytes }),
            }
        }
    }

    fn hand_out(&mut self, chunk: &mut Chunk, len: usize) -> bool {
        let data = &chunk.buf[..len];
        chunk.newlines.clear();
        // Offsets fit: a chunk holds at most MAX_LINE_BYTES (64 MiB) plus the lines before.
        #[allow(clippy::cast_possible_truncation)]
        chunk.newlines.extend(memchr_iter(b'\n', data).map(|i| i as u32));
        let mut lines = chunk.newlines.len() as u64;
        if data.last() != Some(&b'\n') {
            lines += 1;
        }
        chunk.len = len;
        chunk.first_line = self.next_line;
        chunk.lines = lines;
        self.next_line += lines;
        true
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
        let mut chunker = Chunker::new(Trickle { data, step });
        let mut chunk = Chunk::new();
        let mut out = Vec::new();
        while chunker.fill(&mut chunk).unwrap() {
            let before = out.len();
            chunk.for_each_line(|n, l| out.push((n, l.to_vec())));
            assert_eq!(out.len() - before, chunk.lines as usize);
        }
        assert_eq!(chunker.bytes(), data.len() as u64);
        assert_eq!(chunker.lines(), out.len() as u64);
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
        assert_eq!(got[1], (2, b"end".to_vec()));
    }

    #[test]
    fn numbers_run_across_chunks() {
        let data: Vec<u8> = (0..300_000).flat_map(|i| format!("line {i}\n").into_bytes()).collect();
        let got = lines_of(&data, 100_000);
        assert_eq!(got.len(), 300_000);
        assert!(
            got.iter()
                .enumerate()
                .all(|(i, (n, l))| *n == i as u64 + 1 && *l == format!("line {i}").into_bytes())
        );
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
