//! The [postcard](https://postcard.jamesmunns.com/wire-format) wire format, written and read
//! one value at a time, so that a state file streams to and from its file: nothing holds the
//! whole body. Integers are varints (LEB128; signed ones zigzag-encoded first), byte strings
//! and strings are prefixed by their length, sequences by their count, `Option` is a 0 or 1
//! byte.

use std::io::{self, Read, Write};

use super::{StateFileError, malformed};

/// Writes values to `out`, counting the bytes and adding them to a CRC-32.
pub(crate) struct WireWriter<W> {
    out: W,
    written: u64,
    checksum: crc32fast::Hasher,
}

impl<W: Write> WireWriter<W> {
    pub(crate) fn new(out: W) -> Self {
        WireWriter { out, written: 0, checksum: crc32fast::Hasher::new() }
    }

    /// Bytes written so far.
    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// The CRC-32 of every byte written so far.
    pub(crate) fn checksum(&self) -> u32 {
        self.checksum.clone().finalize()
    }

    pub(crate) fn into_inner(self) -> W {
        self.out
    }

    /// Bytes as they are.
    pub(crate) fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.written += bytes.len() as u64;
        self.checksum.update(bytes);
        self.out.write_all(bytes)
    }

    pub(crate) fn varint(&mut self, mut value: u64) -> io::Result<()> {
        let mut buf = [0u8; 10];
        let mut len = 0;
        loop {
            #[allow(clippy::cast_possible_truncation)] // seven bits
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                buf[len] = byte;
                len += 1;
                break;
            }
            buf[len] = byte | 0x80;
            len += 1;
        }
        self.raw(&buf[..len])
    }

    pub(crate) fn len(&mut self, len: usize) -> io::Result<()> {
        self.varint(len as u64)
    }

    #[allow(clippy::cast_sign_loss)] // zigzag
    pub(crate) fn signed(&mut self, value: i64) -> io::Result<()> {
        self.varint(((value << 1) ^ (value >> 63)) as u64)
    }

    /// A length-prefixed byte string.
    pub(crate) fn bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.len(bytes.len())?;
        self.raw(bytes)
    }

    pub(crate) fn str(&mut self, text: &str) -> io::Result<()> {
        self.bytes(text.as_bytes())
    }

    pub(crate) fn option(&mut self, some: bool) -> io::Result<()> {
        self.raw(&[u8::from(some)])
    }
}

impl<W: Write> Write for WireWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.raw(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// A [`Write`] that keeps nothing: for counting what would be written.
pub(crate) struct Discard;

impl Write for Discard {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads values from `input`, at most `limit` bytes of it, adding them to a CRC-32. Running
/// out of input is [`WireError::End`], a value that does not decode [`WireError::Malformed`].
pub(crate) struct WireReader<R> {
    input: R,
    /// Bytes left before the limit.
    left: u64,
    consumed: u64,
    checksum: crc32fast::Hasher,
    buf: Box<[u8]>,
    /// `buf[at..filled]` is read but not consumed.
    at: usize,
    filled: usize,
}

/// Why a value could not be read.
#[derive(Debug)]
pub(crate) enum WireError {
    /// The input (or the limit) ended first.
    End,
    /// The bytes do not make a valid value, or break the state's rules.
    Malformed(StateFileError),
    /// The state read cannot merge into the one it is read into.
    Merge(crate::MergeError),
    /// Reading failed.
    Io(io::Error),
}

impl From<StateFileError> for WireError {
    fn from(e: StateFileError) -> Self {
        WireError::Malformed(e)
    }
}

/// The result of reading a value.
pub(crate) type Wire<T> = Result<T, WireError>;

/// Shorthand for a malformed value.
pub(crate) fn bad<T>(cause: impl std::fmt::Display) -> Wire<T> {
    Err(WireError::Malformed(malformed(cause)))
}

const READ_BUF: usize = 1 << 16;

impl<R: Read> WireReader<R> {
    /// A reader of at most `limit` bytes of `input`, with a checksum that starts from
    /// `checksum`.
    pub(crate) fn new(input: R, limit: u64, checksum: crc32fast::Hasher) -> Self {
        WireReader {
            input,
            left: limit,
            consumed: 0,
            checksum,
            buf: vec![0; READ_BUF].into_boxed_slice(),
            at: 0,
            filled: 0,
        }
    }

    /// Bytes consumed so far.
    pub(crate) fn consumed(&self) -> u64 {
        self.consumed
    }

    /// The checksum of every byte consumed, and the input (for what follows the limit).
    pub(crate) fn finish(self) -> (u32, R) {
        debug_assert_eq!(self.at, self.filled, "bytes read past what was consumed");
        (self.checksum.finalize(), self.input)
    }

    /// Makes bytes available; false at the end of the input or the limit.
    fn fill(&mut self) -> Wire<bool> {
        if self.at < self.filled {
            return Ok(true);
        }
        let want = usize::try_from(self.left.min(READ_BUF as u64)).expect("at most READ_BUF");
        if want == 0 {
            return Ok(false);
        }
        loop {
            match self.input.read(&mut self.buf[..want]) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.left -= n as u64;
                    self.at = 0;
                    self.filled = n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(WireError::Io(e)),
            }
        }
    }

    /// Consumes up to `max` bytes, handing them to `take`; the count, 0 at the end.
    fn consume(&mut self, max: usize, take: impl FnOnce(&[u8])) -> Wire<usize> {
        if !self.fill()? {
            return Ok(0);
        }
        let n = max.min(self.filled - self.at);
        let bytes = &self.buf[self.at..self.at + n];
        self.checksum.update(bytes);
        take(bytes);
        self.at += n;
        self.consumed += n as u64;
        Ok(n)
    }

    pub(crate) fn byte(&mut self) -> Wire<u8> {
        let mut byte = 0;
        match self.consume(1, |b| byte = b[0])? {
            0 => Err(WireError::End),
            _ => Ok(byte),
        }
    }

    /// Exactly `out.len()` bytes.
    pub(crate) fn exact(&mut self, out: &mut [u8]) -> Wire<()> {
        let mut at = 0;
        while at < out.len() {
            let n = self.consume(out.len() - at, |b| out[at..at + b.len()].copy_from_slice(b))?;
            if n == 0 {
                return Err(WireError::End);
            }
            at += n;
        }
        Ok(())
    }

    /// `len` bytes appended to `out`, which grows with what actually comes.
    pub(crate) fn append(&mut self, len: u64, out: &mut Vec<u8>) -> Wire<()> {
        let mut left = len;
        while left > 0 {
            let max = usize::try_from(left).unwrap_or(usize::MAX);
            let n = self.consume(max, |b| out.extend_from_slice(b))?;
            if n == 0 {
                return Err(WireError::End);
            }
            left -= n as u64;
        }
        Ok(())
    }

    /// Consumes and drops everything up to the limit; false when the input ends first.
    pub(crate) fn skip_rest(&mut self) -> Wire<bool> {
        loop {
            if self.consume(usize::MAX, |_| {})? == 0 {
                return Ok(self.left == 0);
            }
        }
    }

    pub(crate) fn varint(&mut self) -> Wire<u64> {
        let mut value = 0u64;
        for i in 0..10 {
            let byte = self.byte()?;
            let bits = u64::from(byte & 0x7f);
            if i == 9 && bits > 1 {
                return bad("a varint out of range");
            }
            value |= bits << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        bad("a varint out of range")
    }

    /// A `u64` as its 8 bytes, little-endian.
    pub(crate) fn u64_le(&mut self) -> Wire<u64> {
        let mut bytes = [0u8; 8];
        self.exact(&mut bytes)?;
        Ok(u64::from_le_bytes(bytes))
    }

    pub(crate) fn varint_u32(&mut self) -> Wire<u32> {
        match u32::try_from(self.varint()?) {
            Ok(value) => Ok(value),
            Err(_) => bad("a varint out of range"),
        }
    }

    /// A count or length.
    pub(crate) fn len(&mut self) -> Wire<u64> {
        self.varint()
    }

    #[allow(clippy::cast_possible_wrap)] // zigzag
    pub(crate) fn signed(&mut self) -> Wire<i64> {
        let value = self.varint()?;
        Ok((value >> 1) as i64 ^ -((value & 1) as i64))
    }

    /// A length-prefixed byte string, into `out` (cleared first).
    pub(crate) fn bytes_into(&mut self, out: &mut Vec<u8>) -> Wire<()> {
        out.clear();
        let len = self.len()?;
        self.append(len, out)
    }

    pub(crate) fn string(&mut self) -> Wire<String> {
        let mut bytes = Vec::new();
        self.bytes_into(&mut bytes)?;
        match String::from_utf8(bytes) {
            Ok(text) => Ok(text),
            Err(_) => bad("a string that is not UTF-8"),
        }
    }

    pub(crate) fn option(&mut self) -> Wire<bool> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => bad("an option tag that is not 0 or 1"),
        }
    }

    /// The next `len` bytes as a reader (for roaring's deserializer); [`WireReader::exact`]
    /// behind it.
    pub(crate) fn sub_reader(&mut self, len: u64) -> SubReader<'_, R> {
        SubReader { wire: self, left: len, ended: false, failed: false }
    }
}

/// At most `left` bytes of a [`WireReader`], as a [`Read`].
pub(crate) struct SubReader<'w, R> {
    wire: &'w mut WireReader<R>,
    left: u64,
    /// Whether the input ended before `left` bytes.
    ended: bool,
    /// Whether reading the input failed.
    failed: bool,
}

impl<R> SubReader<'_, R> {
    /// Bytes of the `len` not read.
    pub(crate) fn left(&self) -> u64 {
        self.left
    }

    /// Whether the input ended within.
    pub(crate) fn ended(&self) -> bool {
        self.ended
    }

    /// Whether reading the input failed (the error went to the caller of `read`).
    pub(crate) fn failed(&self) -> bool {
        self.failed
    }
}

impl<R: Read> Read for SubReader<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let max = usize::try_from(self.left).unwrap_or(usize::MAX).min(out.len());
        if max == 0 {
            return Ok(0);
        }
        let n = match self.wire.consume(max, |b| out[..b.len()].copy_from_slice(b)) {
            Ok(n) => n,
            Err(WireError::Io(e)) => {
                self.failed = true;
                return Err(e);
            }
            Err(_) => unreachable!("consume fails only on IO"),
        };
        if n == 0 {
            self.ended = true;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_back_as_written_and_match_postcard() {
        let mut w = WireWriter::new(Vec::new());
        w.varint(300).unwrap();
        w.signed(-3).unwrap();
        w.signed(i64::MIN).unwrap();
        w.varint(u64::MAX).unwrap();
        w.str("héllo").unwrap();
        w.option(true).unwrap();
        let bytes = w.into_inner();
        let expected = postcard::to_stdvec(&(300u32, -3i64, i64::MIN, u64::MAX, "héllo", Some(()))).unwrap();
        assert_eq!(bytes, expected);
        let mut r = WireReader::new(bytes.as_slice(), bytes.len() as u64, crc32fast::Hasher::new());
        assert_eq!(r.varint_u32().unwrap(), 300);
        assert_eq!(r.signed().unwrap(), -3);
        assert_eq!(r.signed().unwrap(), i64::MIN);
        assert_eq!(r.varint().unwrap(), u64::MAX);
        assert_eq!(r.string().unwrap(), "héllo");
        assert!(r.option().unwrap());
        assert!(matches!(r.byte(), Err(WireError::End)));
        let (checksum, _) = r.finish();
        assert_eq!(checksum, crc32fast::hash(&bytes));
    }

    #[test]
    fn bad_varints_and_limits_are_errors() {
        let eleven = [0xff; 11];
        let mut r = WireReader::new(&eleven[..], 11, crc32fast::Hasher::new());
        assert!(matches!(r.varint(), Err(WireError::Malformed(_))));
        let big = [0x80, 0x80, 0x80, 0x80, 0x10];
        let mut r = WireReader::new(&big[..], 5, crc32fast::Hasher::new());
        assert!(matches!(r.varint_u32(), Err(WireError::Malformed(_))));
        let mut r = WireReader::new(&[1u8, 2, 3][..], 2, crc32fast::Hasher::new());
        let mut out = [0u8; 3];
        assert!(matches!(r.exact(&mut out), Err(WireError::End)));
        let mut r = WireReader::new(&[5u8, b'a'][..], 2, crc32fast::Hasher::new());
        assert!(matches!(r.string(), Err(WireError::End)));
    }
}
