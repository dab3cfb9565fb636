//! Opening an input file: gzip (by magic bytes, multi-member) or plain text, read in chunks.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};

use flate2::bufread::MultiGzDecoder;

use crate::lines::{Chunker, SplitError};
use crate::{Chunk, InputError, InputFile};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// What reading one file saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileStats {
    /// Bytes on disk.
    pub stored_bytes: u64,
    /// Bytes after decompression (equal to `stored_bytes` for plain files).
    pub bytes: u64,
    /// Lines.
    pub lines: u64,
    /// Whether the file was gzip.
    pub gzip: bool,
}

/// An open input, handing out its content as chunks of whole lines.
pub struct Source {
    file: InputFile,
    gzip: bool,
    chunker: Chunker<Box<dyn Read + Send>>,
}

impl Source {
    /// Opens `file`, detecting gzip by its first two bytes.
    ///
    /// # Errors
    /// [`InputError::Read`] when the file cannot be opened or read.
    pub fn open(file: &InputFile) -> Result<Self, InputError> {
        let read_error = |source| InputError::Read { path: file.path.clone(), source };
        let mut reader = BufReader::with_capacity(256 << 10, File::open(&file.path).map_err(read_error)?);
        let gzip = reader.fill_buf().map_err(read_error)?.starts_with(&GZIP_MAGIC);
        let reader: Box<dyn Read + Send> =
            if gzip { Box::new(MultiGzDecoder::new(reader)) } else { Box::new(reader) };
        Ok(Source { file: file.clone(), gzip, chunker: Chunker::new(reader) })
    }

    /// The file.
    #[must_use]
    pub fn file(&self) -> &InputFile {
        &self.file
    }

    /// Refills `chunk` with the next lines; `Ok(false)` at the end of the file.
    ///
    /// # Errors
    /// [`InputError::Read`] when reading fails, [`InputError::Corrupt`] when the gzip data is
    /// damaged or truncated (the chunks before were whole and valid), [`InputError::LineTooLong`]
    /// for a line over [`crate::MAX_LINE_BYTES`].
    pub fn fill(&mut self, chunk: &mut Chunk) -> Result<bool, InputError> {
        let path = || self.file.path.clone();
        self.chunker.fill(chunk).map_err(|e| match e {
            SplitError::TooLong { line } => InputError::LineTooLong { path: path(), line },
            SplitError::Io { source, bytes } if self.gzip && is_decode_error(&source) => {
                InputError::Corrupt { path: path(), uncompressed_bytes: bytes, source }
            }
            SplitError::Io { source, .. } => InputError::Read { path: path(), source },
        })
    }

    /// What was read so far (all of it once [`Source::fill`] returned `false`).
    #[must_use]
    pub fn stats(&self) -> FileStats {
        FileStats {
            stored_bytes: self.file.size,
            bytes: self.chunker.bytes(),
            lines: self.chunker.lines(),
            gzip: self.gzip,
        }
    }
}

/// Reads `file` through the reused `chunk` and calls `on_line(line_number, line)` for each of
/// its lines (1-based, without the `\n`).
///
/// # Errors
/// As [`Source::open`] and [`Source::fill`]; lines before an error were already handed over.
pub fn read_lines(
    file: &InputFile,
    chunk: &mut Chunk,
    mut on_line: impl FnMut(u64, &[u8]),
) -> Result<FileStats, InputError> {
    let mut source = Source::open(file)?;
    while source.fill(chunk)? {
        chunk.for_each_line(&mut on_line);
    }
    Ok(source.stats())
}

fn is_decode_error(e: &io::Error) -> bool {
    matches!(
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
        let file = InputFile { path: path.to_owned(), size: std::fs::metadata(path).unwrap().len() };
        let mut lines = Vec::new();
        let stats = read_lines(&file, &mut Chunk::new(), |_, l| lines.push(l.to_vec()))?;
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
