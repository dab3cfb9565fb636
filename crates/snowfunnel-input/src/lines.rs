//! Cutting a byte stream into chunks of whole lines, and chunks into lines.
//!
//! A [`Chunk`] is a large buffer (1 MiB) of complete lines; the partial line at its end is
//! carried into the next one. In one thread a single chunk is reused for a whole file; across
//! threads, chunks travel from the thread that inflates to the threads that parse, and come
//! back to be refilled.
//!
//! A line longer than the limit (`--max-line-bytes`) is handed out as [`Line::TooLong`]: its
//! first [`LONG_LINE_KEPT_BYTES`] bytes and its length. One that does not fit in the buffer is
//! never held whole: the reader keeps its first bytes and streams past the rest to the next
//! `\n`, so memory stays bounded whatever the length of a line.

use std::io::{self, Read};

use memchr::{memchr, memchr_iter, memrchr};

/// The default longest line (1 MiB): far above any real enriched event (a few KB), and the
/// default record limit of the Kinesis streams that S3 loader dumps come from.
pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;

/// The largest `--max-line-bytes` accepted (1 GiB): chunk offsets are 32-bit.
pub const MAX_LINE_BYTES_LIMIT: usize = 1 << 30;

/// How much of a line over the limit is kept (for the bad-row log).
pub const LONG_LINE_KEPT_BYTES: usize = 4 << 10;

/// Chunk size: large enough that per-read and per-chunk costs vanish, small enough to stay in
/// cache between being filled and being parsed.
pub const CHUNK_BYTES: usize = 1 << 20;

// A chunk always has room for the kept start of a long line and more.
const _: () = assert!(LONG_LINE_KEPT_BYTES < CHUNK_BYTES);

/// One line of a [`Chunk`], without its `\n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A line within the limit.
    Whole(&'a [u8]),
    /// A line longer than the limit: never parsed.
    TooLong {
        /// Its first [`LONG_LINE_KEPT_BYTES`] bytes.
        start: &'a [u8],
        /// Its length in bytes.
        bytes: u64,
    },
}

impl<'a> Line<'a> {
    /// The line's bytes as handed out: the whole line, or the kept start of a long one.
    #[must_use]
    pub fn kept(self) -> &'a [u8] {
        match self {
            Line::Whole(line) | Line::TooLong { start: line, .. } => line,
        }
    }
}

/// A line over the limit in a chunk: where it ends in the buffer (its `\n`, or the end of the
/// data for an input's last line) and its real length.
#[derive(Clone, Copy, Debug)]
struct LongLine {
    end: u32,
    bytes: u64,
}

/// A buffer of whole lines from one input.
pub struct Chunk {
    buf: Vec<u8>,
    len: usize,
    /// The offset of each `\n` in `buf[..len]`, found once when the chunk is filled (to count
    /// its lines) and used again to hand out the lines.
    newlines: Vec<u32>,
    /// The lines over the limit, in order; those streamed past hold only their kept start.
    long: Vec<LongLine>,
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
        Chunk {
            buf: vec![0; CHUNK_BYTES],
            len: 0,
            newlines: Vec::new(),
            long: Vec::new(),
            first_line: 1,
            lines: 0,
        }
    }

    /// The chunk's bytes: complete lines, each ending in `\n` except perhaps the input's last
    /// (a line over the limit only by its kept start).
    #[must_use]
    pub fn data(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Calls `on_line(line_number, line)` for each line.
    pub fn for_each_line(&self, mut on_line: impl FnMut(u64, Line<'_>)) {
        let data = self.data();
        let mut start = 0;
        let mut number = self.first_line;
        if self.long.is_empty() {
            for &newline in &self.newlines {
                let newline = newline as usize;
                on_line(number, Line::Whole(&data[start..newline]));
                number += 1;
                start = newline + 1;
            }
            if start < data.len() {
                on_line(number, Line::Whole(&data[start..]));
            }
            return;
        }
        let mut long = self.long.iter().peekable();
        let mut line = |number: u64, start: usize, end: usize| {
            let text = &data[start..end];
            match long.next_if(|l| l.end as usize == end) {
                Some(l) => on_line(
                    number,
                    Line::TooLong { start: &text[..text.len().min(LONG_LINE_KEPT_BYTES)], bytes: l.bytes },
                ),
                None => on_line(number, Line::Whole(text)),
            }
        };
        for &newline in &self.newlines {
            let newline = newline as usize;
            line(number, start, newline);
            number += 1;
            start = newline + 1;
        }
        if start < data.len() {
            line(number, start, data.len());
        }
    }
}

/// How reading a stream ended early: the reader failed after `bytes` bytes.
#[derive(Debug)]
pub(crate) struct SplitError {
    pub(crate) source: io::Error,
    pub(crate) bytes: u64,
}

/// Cuts a stream into chunks of whole lines.
pub(crate) struct Chunker<R> {
    reader: R,
    carry: Vec<u8>,
    next_line: u64,
    bytes: u64,
    eof: bool,
    max_line: usize,
    /// When `carry` is the kept start of a line over the limit, not yet read to its end: the
    /// line's length so far.
    carried_long: Option<u64>,
}

impl<R: Read> Chunker<R> {
    /// A chunker for lines of at most `max_line` bytes (at most [`MAX_LINE_BYTES_LIMIT`]);
    /// longer ones are handed out as [`Line::TooLong`].
    pub(crate) fn new(reader: R, max_line: usize) -> Self {
        let max_line = max_line.min(MAX_LINE_BYTES_LIMIT);
        Chunker {
            reader,
            carry: Vec::new(),
            next_line: 1,
            bytes: 0,
            eof: false,
            max_line,
            carried_long: None,
        }
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
        chunk.long.clear();
        if chunk.buf.len() <= self.carry.len() {
            // A chunk that travelled between threads may be smaller than the one before.
            chunk.buf.resize(self.carry.len() * 2, 0);
        }
        chunk.buf[..self.carry.len()].copy_from_slice(&self.carry);
        let mut filled = self.carry.len();
        self.carry.clear();
        if let Some(so_far) = self.carried_long.take() {
            filled = self.stream_past(chunk, so_far)?;
        }
        // A partial line longer than this is streamed past: it is over the limit, and has more
        // than its kept start in the buffer. A shorter one is carried or grows the buffer.
        let streamed_past = self.max_line.max(LONG_LINE_KEPT_BYTES);
        loop {
            if filled == chunk.buf.len() {
                let line_start = memrchr(b'\n', &chunk.buf[..filled]).map_or(0, |i| i + 1);
                let partial = filled - line_start;
                if partial > streamed_past && line_start == 0 {
                    filled = self.stream_past(chunk, partial as u64)?;
                    continue;
                }
                if line_start > 0 {
                    // The lines before go out first; a long partial line starts the next chunk
                    // (by its kept start), where the whole buffer is room to read past it.
                    if partial > streamed_past {
                        self.carry
                            .extend_from_slice(&chunk.buf[line_start..line_start + LONG_LINE_KEPT_BYTES]);
                        self.carried_long = Some(partial as u64);
                    } else {
                        self.carry.extend_from_slice(&chunk.buf[line_start..filled]);
                    }
                    self.hand_out(chunk, line_start);
                    return Ok(true);
                }
                // One line fills the buffer, and may still be within the limit: grow it, up to
                // what holds the longest line allowed and one byte more.
                let grown = (chunk.buf.len() * 2).min(streamed_past + 1);
                chunk.buf.resize(grown, 0);
            }
            if self.eof {
                if filled == 0 {
                    return Ok(false);
                }
                self.hand_out(chunk, filled);
                return Ok(true);
            }
            match self.reader.read(&mut chunk.buf[filled..]) {
                Ok(0) => self.eof = true,
                Ok(n) => {
                    filled += n;
                    self.bytes += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => return Err(SplitError { source, bytes: self.bytes }),
            }
        }
    }

    /// The buffer starts with a line over the limit, `so_far` bytes long until now, and holds
    /// at least its first [`LONG_LINE_KEPT_BYTES`]: keeps those, reads past the rest (into the
    /// buffer after them, as scratch) to the line's `\n`, which is moved, with what follows it,
    /// right after the kept bytes. Returns the new end of the data.
    fn stream_past(&mut self, chunk: &mut Chunk, so_far: u64) -> Result<usize, SplitError> {
        let kept_end = LONG_LINE_KEPT_BYTES;
        let mut bytes = so_far;
        let end = loop {
            let n = match self.reader.read(&mut chunk.buf[kept_end..]) {
                Ok(0) => {
                    self.eof = true;
                    break kept_end;
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => return Err(SplitError { source, bytes: self.bytes }),
            };
            self.bytes += n as u64;
            if let Some(at) = memchr(b'\n', &chunk.buf[kept_end..kept_end + n]) {
                bytes += at as u64;
                chunk.buf.copy_within(kept_end + at..kept_end + n, kept_end);
                break kept_end + n - at;
            }
            bytes += n as u64;
        };
        // Offsets fit: the line starts the buffer.
        #[allow(clippy::cast_possible_truncation)]
        chunk.long.push(LongLine { end: kept_end as u32, bytes });
        Ok(end)
    }

    /// Hands out `chunk.buf[..len]`: finds its newlines and the lines over the limit among
    /// them (besides those streamed past, already listed).
    fn hand_out(&mut self, chunk: &mut Chunk, len: usize) {
        let data = &chunk.buf[..len];
        chunk.newlines.clear();
        // Offsets fit: the buffer is at most MAX_LINE_BYTES_LIMIT (1 GiB) and a byte more.
        #[allow(clippy::cast_possible_truncation)]
        chunk.newlines.extend(memchr_iter(b'\n', data).map(|i| i as u32));
        let mut lines = chunk.newlines.len() as u64;
        if data.last() != Some(&b'\n') {
            lines += 1;
        }
        // No line can be over the limit in fewer bytes (the usual case: a 1 MiB chunk and the
        // default limit): no pass over the lines then.
        if len > self.max_line || !chunk.long.is_empty() {
            self.find_long_lines(chunk, len);
        }
        chunk.len = len;
        chunk.first_line = self.next_line;
        chunk.lines = lines;
        self.next_line += lines;
    }

    /// Adds the lines of `chunk.buf[..len]` longer than the limit to those streamed past,
    /// keeping them in order.
    fn find_long_lines(&self, chunk: &mut Chunk, len: usize) {
        let streamed = std::mem::take(&mut chunk.long);
        let mut streamed = streamed.into_iter().peekable();
        let mut start = 0usize;
        let ends = chunk
            .newlines
            .iter()
            .map(|&n| n as usize)
            .chain((chunk.buf[..len].last() != Some(&b'\n')).then_some(len));
        for end in ends {
            if let Some(l) = streamed.next_if(|l| l.end as usize == end) {
                chunk.long.push(l);
            } else if end - start > self.max_line {
                // Offsets fit: see `hand_out`.
                #[allow(clippy::cast_possible_truncation)]
                chunk.long.push(LongLine { end: end as u32, bytes: (end - start) as u64 });
            }
            start = end + 1;
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

    /// A line as handed out: its bytes (the kept start of a long one) and, for a long one, its
    /// length.
    type Got = (u64, Vec<u8>, Option<u64>);

    fn lines_with_limit(data: &[u8], step: usize, max_line: usize) -> Vec<Got> {
        let mut chunker = Chunker::new(Trickle { data, step }, max_line);
        let mut chunk = Chunk::new();
        let mut out = Vec::new();
        while chunker.fill(&mut chunk).unwrap() {
            let before = out.len();
            chunk.for_each_line(|n, l| match l {
                Line::Whole(l) => out.push((n, l.to_vec(), None)),
                Line::TooLong { start, bytes } => out.push((n, start.to_vec(), Some(bytes))),
            });
            assert_eq!(out.len() - before, chunk.lines as usize);
        }
        assert_eq!(chunker.bytes(), data.len() as u64);
        assert_eq!(chunker.lines(), out.len() as u64);
        out
    }

    fn lines_of(data: &[u8], step: usize) -> Vec<(u64, Vec<u8>)> {
        lines_with_limit(data, step, MAX_LINE_BYTES_LIMIT)
            .into_iter()
            .map(|(n, l, long)| {
                assert_eq!(long, None);
                (n, l)
            })
            .collect()
    }

    /// What the chunker must hand out: every line, numbered, those over `max_line` by their
    /// kept start and length.
    fn expected(data: &[u8], max_line: usize) -> Vec<Got> {
        let mut lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
        if data.last().is_none_or(|&b| b == b'\n') {
            lines.pop();
        }
        (1..)
            .zip(lines)
            .map(|(n, l)| {
                if l.len() > max_line {
                    (n, l[..l.len().min(LONG_LINE_KEPT_BYTES)].to_vec(), Some(l.len() as u64))
                } else {
                    (n, l.to_vec(), None)
                }
            })
            .collect()
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
    fn lines_longer_than_the_buffer_grow_it_up_to_the_limit() {
        let long = vec![b'x'; CHUNK_BYTES * 3 + 5];
        let mut data = long.clone();
        data.extend_from_slice(b"\nend\n");
        let got = lines_of(&data, CHUNK_BYTES / 3);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1, long);
        assert_eq!(got[1], (2, b"end".to_vec()));
        // The longest line allowed is whole, one byte more is not.
        for max_line in [long.len(), long.len() - 1] {
            assert_eq!(lines_with_limit(&data, CHUNK_BYTES / 3, max_line), expected(&data, max_line));
        }
    }

    #[test]
    fn lines_over_the_limit_are_handed_out_by_their_start_and_length() {
        // Long lines inside a chunk, straddling chunk ends, longer than any buffer, first,
        // last and unterminated, around the limit, with short lines between.
        let mut data = Vec::new();
        for (i, len) in [5, 3 * CHUNK_BYTES, 10, CHUNK_BYTES - 7, 0, CHUNK_BYTES + 1, 2 * CHUNK_BYTES + 3]
            .into_iter()
            .enumerate()
        {
            data.extend(std::iter::repeat_n(b'a' + i as u8, len));
            data.push(b'\n');
        }
        data.extend(std::iter::repeat_n(b'z', CHUNK_BYTES + 99));
        for max_line in [CHUNK_BYTES, CHUNK_BYTES - 8, 100, LONG_LINE_KEPT_BYTES, 1] {
            let want = expected(&data, max_line);
            assert!(want.iter().any(|(_, _, long)| long.is_some()));
            for step in [CHUNK_BYTES / 3, 4099, 65_536, usize::MAX] {
                let got = lines_with_limit(&data, step, max_line);
                assert!(got == want, "max_line {max_line}, step {step}");
            }
        }
    }

    /// An endless line of `x`, then `\n` and `after`.
    struct LongLine {
        left: u64,
        after: &'static [u8],
    }

    impl Read for LongLine {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.left > 0 {
                let n = out.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
                out[..n].fill(b'x');
                self.left -= n as u64;
                return Ok(n);
            }
            let n = out.len().min(self.after.len());
            out[..n].copy_from_slice(&self.after[..n]);
            self.after = &self.after[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_huge_line_is_streamed_past_in_bounded_memory() {
        let huge = 200u64 << 20;
        let mut chunker = Chunker::new(LongLine { left: huge, after: b"\nnext\n" }, DEFAULT_MAX_LINE_BYTES);
        let mut chunk = Chunk::new();
        let mut got = Vec::new();
        while chunker.fill(&mut chunk).unwrap() {
            assert!(chunk.buf.len() <= DEFAULT_MAX_LINE_BYTES + 1, "{}", chunk.buf.len());
            chunk.for_each_line(|n, l| match l {
                Line::Whole(l) => got.push((n, String::from_utf8_lossy(l).into_owned(), 0)),
                Line::TooLong { start, bytes } => got.push((n, format!("{} bytes kept", start.len()), bytes)),
            });
        }
        assert_eq!(got, [(1, format!("{LONG_LINE_KEPT_BYTES} bytes kept"), huge), (2, "next".into(), 0)]);
        assert_eq!(chunker.bytes(), huge + 6);
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
        fn equals_a_plain_split(data in proptest::collection::vec(proptest::prop_oneof![proptest::strategy::Just(b'\n'), proptest::prelude::any::<u8>()], 0..3000), step in 1usize..700, max_line in 0usize..40) {
            let got = lines_with_limit(&data, step, max_line);
            proptest::prop_assert_eq!(got, expected(&data, max_line));
            let whole: Vec<Vec<u8>> = lines_of(&data, step).into_iter().map(|(_, l)| l).collect();
            let want: Vec<Vec<u8>> = expected(&data, usize::MAX).into_iter().map(|(_, l, _)| l).collect();
            proptest::prop_assert_eq!(whole, want);
        }
    }
}
