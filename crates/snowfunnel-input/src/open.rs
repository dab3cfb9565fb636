//! Opening an input: gzip (by magic bytes, multi-member) or plain text, read in chunks.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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
        chunker: Chunker<Box<dyn Read + Send>>,
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
        let reader: Box<dyn Read + Send> =
            if gzip { Box::new(MultiGzDecoder::new(stored)) } else { Box::new(stored) };
        self.state = SourceState::Reading { gzip, chunker: Chunker::new(reader, self.max_line) };
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
