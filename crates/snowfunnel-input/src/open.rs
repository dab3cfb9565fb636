//! Opening an input: gzip (by magic bytes, multi-member) or plain text, read in chunks.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[cfg(not(feature = "isal"))]
use flate2::bufread::MultiGzDecoder;
use snowfunnel_s3::S3Error;

use crate::lines::{Chunker, SplitError};
use crate::{Chunk, DEFAULT_MAX_LINE_BYTES, InputError, InputFile, Location};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Read size from the stored bytes (file or object body) into the decoder.
const READ_BUFFER: usize = 256 << 10;

/// What reading one input saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileStats {
    /// Stored bytes (on disk, or the object's size).
    pub stored_bytes: u64,
    /// Bytes after decompression (equal to `stored_bytes` for plain files).
    pub bytes: u64,
    /// Lines.
    pub lines: u64,
    /// Whether the input was gzip.
    pub gzip: bool,
}

/// A count of stored bytes read, shared by every [`Source`] of a run (for progress).
pub type ReadCounter = Arc<AtomicU64>;

/// An open input, handing out its content as chunks of whole lines.
///
/// Whether it is gzip is decided by its first two bytes, at the first [`Source::fill`], so
/// that opening never waits for data.
pub struct Source {
    file: InputFile,
    state: SourceState,
    max_line: usize,
}

enum SourceState {
    Opened(Box<dyn Read + Send>),
    Reading {
        gzip: bool,
        chunker: Filler,
    },
    /// Only while switching from one to the other.
    Switching,
}

impl Source {
    /// Opens the local `file`.
    ///
    /// # Errors
    /// [`InputError::Read`] when the file cannot be opened; S3 objects are opened through
    /// [`crate::Inputs::open`].
    pub fn open(file: &InputFile) -> Result<Self, InputError> {
        let Location::Local(path) = &file.location else {
            return Err(InputError::Read {
                input: file.to_string(),
                source: io::Error::other("an S3 object needs an S3 client: open it through Inputs"),
            });
        };
        let reader =
            File::open(path).map_err(|source| InputError::Read { input: file.to_string(), source })?;
        Ok(Source::from_reader(file.clone(), reader))
    }

    /// A source over the stored bytes of `file`, read from `reader`.
    pub fn from_reader(file: InputFile, reader: impl Read + Send + 'static) -> Self {
        Source { file, state: SourceState::Opened(Box::new(reader)), max_line: DEFAULT_MAX_LINE_BYTES }
    }

    /// Hands out lines longer than `bytes` (at most [`crate::MAX_LINE_BYTES_LIMIT`]) as
    /// [`crate::Line::TooLong`], streaming past them (default [`DEFAULT_MAX_LINE_BYTES`]).
    #[must_use]
    pub fn max_line_bytes(mut self, bytes: usize) -> Self {
        self.max_line = bytes;
        self
    }

    /// Adds every stored byte read from now on to `counter`.
    #[must_use]
    pub fn counting(mut self, counter: ReadCounter) -> Self {
        if let SourceState::Opened(reader) = std::mem::replace(&mut self.state, SourceState::Switching) {
            self.state = SourceState::Opened(Box::new(Counted { reader, counter }));
        }
        self
    }

    /// The file.
    #[must_use]
    pub fn file(&self) -> &InputFile {
        &self.file
    }

    /// Refills `chunk` with the next lines; `Ok(false)` at the end of the file.
    ///
    /// # Errors
    /// [`InputError::Read`] when reading fails, [`InputError::S3`] when an S3 body fails for
    /// good, [`InputError::Corrupt`] when the gzip data is damaged or truncated (the chunks
    /// before were whole and valid).
    pub fn fill(&mut self, chunk: &mut Chunk) -> Result<bool, InputError> {
        if let SourceState::Opened(_) = self.state {
            self.start()?;
        }
        let SourceState::Reading { gzip, chunker } = &mut self.state else { unreachable!("started above") };
        let input = || self.file.to_string();
        chunker.fill(chunk).map_err(|SplitError { source, bytes }| {
            if *gzip && is_decode_error(&source) {
                InputError::Corrupt { input: input(), uncompressed_bytes: bytes, source }
            } else {
                read_error(input(), source)
            }
        })
    }

    /// Reads the first bytes to tell gzip from plain text, and sets up the decoder.
    fn start(&mut self) -> Result<(), InputError> {
        let SourceState::Opened(mut reader) = std::mem::replace(&mut self.state, SourceState::Switching)
        else {
            return Ok(());
        };
        let mut magic = [0u8; 2];
        let mut got = 0;
        while got < magic.len() {
            match reader.read(&mut magic[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => return Err(read_error(self.file.to_string(), source)),
            }
        }
        let gzip = magic[..got] == GZIP_MAGIC;
        let stored =
            BufReader::with_capacity(READ_BUFFER, io::Cursor::new(magic[..got].to_vec()).chain(reader));
        let chunker = if gzip {
            Filler::gzip(stored, self.max_line)
        } else {
            Filler::Here(Chunker::new(Box::new(stored), self.max_line))
        };
        self.state = SourceState::Reading { gzip, chunker };
        Ok(())
    }

    /// What was read so far (all of it once [`Source::fill`] returned `false`).
    #[must_use]
    pub fn stats(&self) -> FileStats {
        let (gzip, bytes, lines) = match &self.state {
            SourceState::Reading { gzip, chunker } => (*gzip, chunker.bytes(), chunker.lines()),
            _ => (false, 0, 0),
        };
        FileStats { stored_bytes: self.file.size, bytes, lines, gzip }
    }
}

/// Cuts the decoded bytes into chunks of lines, inflated by zlib-rs (or plain), or by ISA-L.
enum Filler {
    Here(Chunker<Box<dyn Read + Send>>),
    #[cfg(feature = "isal")]
    Isal(crate::isal::ThreadDecoder),
}

impl Filler {
    /// The chunker of a gzip stream (multi-member): flate2 (zlib-rs), or ISA-L with the `isal`
    /// feature.
    fn gzip(stored: impl BufRead + Send + 'static, max_line: usize) -> Self {
        #[cfg(feature = "isal")]
        return Filler::Isal(crate::isal::ThreadDecoder::new(stored, max_line));
        #[cfg(not(feature = "isal"))]
        Filler::Here(Chunker::new(Box::new(MultiGzDecoder::new(stored)), max_line))
    }

    fn fill(&mut self, chunk: &mut Chunk) -> Result<bool, SplitError> {
        match self {
            Filler::Here(chunker) => chunker.fill(chunk),
            #[cfg(feature = "isal")]
            Filler::Isal(thread) => thread.fill(chunk),
        }
    }

    fn bytes(&self) -> u64 {
        match self {
            Filler::Here(chunker) => chunker.bytes(),
            #[cfg(feature = "isal")]
            Filler::Isal(thread) => thread.bytes(),
        }
    }

    fn lines(&self) -> u64 {
        match self {
            Filler::Here(chunker) => chunker.lines(),
            #[cfg(feature = "isal")]
            Filler::Isal(thread) => thread.lines(),
        }
    }
}

/// Counts the stored bytes read, for progress.
struct Counted {
    reader: Box<dyn Read + Send>,
    counter: ReadCounter,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.reader.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// An error reading `input`: the S3 error inside it when there is one (its message names the
/// object and the cause), else a read error.
fn read_error(input: String, source: io::Error) -> InputError {
    match source.downcast::<S3Error>() {
        Ok(s3) => InputError::S3(s3),
        Err(source) => InputError::Read { input, source },
    }
}

/// Whether the decoder found the data damaged (an S3 body that failed is not).
fn is_decode_error(e: &io::Error) -> bool {
    !e.get_ref().is_some_and(|e| e.is::<S3Error>())
        && matches!(
            e.kind(),
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
        )
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::Path;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn read(path: &Path) -> Result<(FileStats, Vec<Vec<u8>>), InputError> {
        let file = InputFile::local(path, std::fs::metadata(path).unwrap().len());
        let mut lines = Vec::new();
        let mut source = Source::open(&file)?;
        let mut chunk = Chunk::new();
        while source.fill(&mut chunk)? {
            chunk.for_each_line(|_, l| match l {
                crate::Line::Whole(l) => lines.push(l.to_vec()),
                crate::Line::TooLong { .. } => panic!("no long line here"),
            });
        }
        let stats = source.stats();
        Ok((stats, lines))
    }

    /// The lines of `stored` as this build's decoder hands them out, read in pieces of
    /// `step` bytes (the errors' kind only).
    fn decode(stored: &[u8], step: usize) -> Result<Vec<Vec<u8>>, &'static str> {
        let file = InputFile::local(Path::new("t.gz"), stored.len() as u64);
        let mut source = Source::from_reader(file, Pieces { data: stored.to_vec(), at: 0, step });
        let mut chunk = Chunk::new();
        let mut lines = Vec::new();
        loop {
            match source.fill(&mut chunk) {
                Ok(true) => chunk.for_each_line(|_, l| match l {
                    crate::Line::Whole(l) => lines.push(l.to_vec()),
                    crate::Line::TooLong { .. } => panic!("no long line here"),
                }),
                Ok(false) => return Ok(lines),
                Err(e) if e.is_corrupt() => return Err("corrupt"),
                Err(e) => panic!("not a corrupt-data error: {e:?}"),
            }
        }
    }

    /// The lines flate2's multi-member decoder reads from `stored`, as the default build's.
    fn reference(stored: &[u8]) -> Result<Vec<Vec<u8>>, &'static str> {
        let mut data = Vec::new();
        flate2::read::MultiGzDecoder::new(stored).read_to_end(&mut data).map_err(|_| "corrupt")?;
        let mut lines: Vec<Vec<u8>> = data.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
        if lines.last().is_some_and(Vec::is_empty) {
            lines.pop();
        }
        Ok(lines)
    }

    /// A reader handing out at most `step` bytes per read.
    struct Pieces {
        data: Vec<u8>,
        at: usize,
        step: usize,
    }

    impl Read for Pieces {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.step).min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn text(lines: usize, seed: u64) -> Vec<u8> {
        let mut x = seed;
        (0..lines)
            .flat_map(|i| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                format!("{i}\tevent\t{:x}\t{}\n", x >> 20, "ab".repeat((x >> 58) as usize)).into_bytes()
            })
            .collect()
    }

    /// ISA-L's errors read as damaged data, in a message of their own.
    #[cfg(feature = "isal")]
    #[test]
    fn isal_errors_say_what_isal_found() {
        let stored = gzip(&text(20_000, 4));
        let cut = &stored[..stored.len() / 2];
        let file = InputFile::local(Path::new("t.gz"), cut.len() as u64);
        let mut source = Source::from_reader(file, io::Cursor::new(cut.to_vec()));
        let mut chunk = Chunk::new();
        let error = loop {
            match source.fill(&mut chunk) {
                Ok(true) => {}
                Ok(false) => panic!("a stream cut in half reads whole"),
                Err(e) => break e,
            }
        };
        assert!(error.is_corrupt(), "{error:?}");
        let cause = std::error::Error::source(&error).map(ToString::to_string).unwrap_or_default();
        assert!(cause.starts_with("ISA-L inflate: ") && !cause.contains("Exit code"), "{cause}");
    }

    /// ISA-L's decoder stays with the thread that started reading: another thread gets an
    /// error, never lines; a source opened on one thread and read on another reads whole, and
    /// one dropped mid-stream on another thread takes nothing with it.
    #[cfg(feature = "isal")]
    #[test]
    fn a_source_inflated_by_isal_is_read_by_the_thread_that_started_it() {
        let big = text(200_000, 3);
        let expected = reference(&gzip(&big)).unwrap();
        let open = || {
            let stored = gzip(&big);
            Source::from_reader(
                InputFile::local(Path::new("t.gz"), stored.len() as u64),
                io::Cursor::new(stored),
            )
        };
        // Opened here, read whole on another thread.
        let mut source = open();
        let lines = std::thread::spawn(move || {
            let mut chunk = Chunk::new();
            let mut lines = Vec::new();
            while source.fill(&mut chunk).unwrap() {
                chunk.for_each_line(|_, l| lines.push(l.kept().to_vec()));
            }
            (lines, source.stats().lines)
        })
        .join()
        .unwrap();
        assert!(lines.0 == expected);
        assert_eq!(lines.1, expected.len() as u64);

        // Started here, then read and dropped on another thread.
        let mut source = open();
        let mut chunk = Chunk::new();
        assert!(source.fill(&mut chunk).unwrap());
        let first = chunk.lines;
        let (error, source) =
            std::thread::spawn(move || (source.fill(&mut chunk).unwrap_err(), source)).join().unwrap();
        assert!(matches!(error, InputError::Read { .. }), "{error:?}");
        let cause = std::error::Error::source(&error).map(ToString::to_string).unwrap_or_default();
        assert!(cause.contains("read by the thread that started it"), "{error}: {cause}");
        // Back on the thread that started it, the stream goes on where it was.
        let mut source = source;
        let mut chunk = Chunk::new();
        let mut rest = 0;
        while source.fill(&mut chunk).unwrap() {
            rest += chunk.lines;
        }
        assert_eq!(first + rest, expected.len() as u64);
        let mut again = open();
        assert!(again.fill(&mut Chunk::new()).unwrap());
        std::thread::spawn(move || drop(again)).join().unwrap();
    }

    #[test]
    fn members_empty_members_and_short_reads_decode_as_the_reference_does() {
        let big = text(60_000, 1);
        let streams: Vec<Vec<u8>> = vec![
            gzip(&big),
            [gzip(b""), gzip(b"a\nb"), gzip(b""), gzip(b""), gzip(b"\nc\n"), gzip(b"")].concat(),
            [gzip(b""), gzip(b"")].concat(),
            [gzip(&big[..1000]), gzip(&big), gzip(b"last line without newline")].concat(),
            gzip(&[b'\n'; 5000]),
        ];
        for (i, stored) in streams.iter().enumerate() {
            let expected = reference(stored).unwrap();
            for step in [usize::MAX, 4096, 7, 1] {
                if step == 1 && stored.len() > 100_000 {
                    continue;
                }
                assert!(decode(stored, step).unwrap() == expected, "stream {i}, reads of {step} bytes");
            }
        }
    }

    #[test]
    fn every_truncation_and_byte_flip_is_rejected_as_the_reference_rejects_it() {
        let stored = [gzip(b"first\nmember\n"), gzip(b""), gzip(&text(40, 2))].concat();
        // Cut at every length from the magic bytes on: corrupt, or whole members.
        for cut in 2..stored.len() {
            assert_eq!(decode(&stored[..cut], usize::MAX), reference(&stored[..cut]), "cut at {cut}");
        }
        // One byte flipped anywhere past the first header's time stamp and flags.
        for at in 10..stored.len() {
            let mut flipped = stored.clone();
            flipped[at] ^= 0x5a;
            assert_eq!(decode(&flipped, usize::MAX), reference(&flipped), "byte {at} flipped");
        }
        // Bytes after the last member that do not start one.
        for tail in [&b"\0"[..], b"\0\0\0\0\0\0\0\0", b"garbage\n", b"\x1f\x8b"] {
            let padded = [stored.as_slice(), tail].concat();
            assert_eq!(decode(&padded, usize::MAX), reference(&padded), "tail {tail:?}");
            assert!(reference(&padded).is_err(), "tail {tail:?}");
        }
    }

    #[test]
    fn gzip_members_and_plain_files_read_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let mut multi = gzip(b"a\nb");
        multi.extend(gzip(b"\nc\n"));
        std::fs::write(dir.path().join("m.gz"), &multi).unwrap();
        std::fs::write(dir.path().join("p.tsv"), b"a\nb\nc\n").unwrap();
        let (gz, gz_lines) = read(&dir.path().join("m.gz")).unwrap();
        let (plain, plain_lines) = read(&dir.path().join("p.tsv")).unwrap();
        assert_eq!(gz_lines, plain_lines);
        assert_eq!(gz_lines, vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
        assert!(gz.gzip && !plain.gzip);
        assert_eq!((gz.bytes, gz.lines, gz.stored_bytes), (6, 3, multi.len() as u64));
    }

    #[test]
    fn truncated_and_corrupt_gzip_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..20_000).flat_map(|i| format!("line {i}\n").into_bytes()).collect();
        let full = gzip(&data);
        let truncated = dir.path().join("truncated.gz");
        std::fs::write(&truncated, &full[..full.len() / 2]).unwrap();
        let err = read(&truncated).unwrap_err();
        assert!(err.is_corrupt(), "{err:?}");
        assert!(
            err.to_string().starts_with(&format!("{}: corrupt or truncated gzip", truncated.display())),
            "{err}"
        );

        let mut flipped = full.clone();
        let middle = flipped.len() / 2;
        flipped[middle] ^= 0xff;
        let corrupt = dir.path().join("corrupt.gz");
        std::fs::write(&corrupt, &flipped).unwrap();
        assert!(read(&corrupt).unwrap_err().is_corrupt());

        let mut no_crc = full;
        let n = no_crc.len();
        no_crc[n - 8] ^= 1;
        let bad_crc = dir.path().join("crc.gz");
        std::fs::write(&bad_crc, &no_crc).unwrap();
        assert!(read(&bad_crc).unwrap_err().is_corrupt());
    }
}
