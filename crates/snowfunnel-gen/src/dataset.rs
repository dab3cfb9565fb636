//! Writing lines as the S3 loader lays them out: a directory of files named
//! `<yyyy-MM-dd-HHmmss>-<uuid>.gz`, one gzip stream each, one event per line. Lines are split
//! into contiguous chunks, one per file, and written through the same [`DatasetWriter`] whether
//! they come from memory or straight from a [`Generator`], so both give identical files.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::config::GenConfig;
use crate::generate::Generator;
use crate::model::Line;
use crate::rng::{Rand, fnv1a, mix64};
use crate::time::{Layout, push_timestamp};

/// Bytes of text gathered before handing them to the file (or the compressor).
const FLUSH_BYTES: usize = 1 << 20;
/// zlib's default compression level.
const DEFAULT_GZIP_LEVEL: u32 = 6;

/// What a dataset run wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatasetStats {
    /// Files written, in line order.
    pub files: Vec<PathBuf>,
    /// Lines written.
    pub lines: u64,
    /// Lines holding a good event (duplicates included).
    pub events: u64,
    /// Malformed lines written.
    pub malformed: u64,
    /// Bytes of text, newlines included, before compression.
    pub bytes_uncompressed: u64,
    /// Bytes on disk.
    pub bytes_written: u64,
}

/// Writes `lines` into `files` files in `dir` (gzip or plain `.tsv`), each line ending in `\n`,
/// and returns the paths in line order. `files` is treated as at least 1 and at most the number
/// of lines (one empty file when there are no lines). `dir` must exist.
///
/// # Errors
/// Any error creating or writing a file.
pub fn write_dataset(lines: &[Line], dir: &Path, files: usize, gzip: bool) -> io::Result<Vec<PathBuf>> {
    let mut writer = DatasetWriter::new(dir, lines.len(), files, gzip);
    for line in lines {
        writer.push(line)?;
    }
    Ok(writer.finish()?.files)
}

/// Generates `config`'s lines and writes them like [`write_dataset`] would, one window at a time,
/// so memory does not grow with the dataset. Creates `dir` if needed.
///
/// # Errors
/// Any error creating or writing a file.
pub fn write_dataset_streaming(
    config: &GenConfig,
    dir: &Path,
    files: usize,
    gzip: bool,
) -> io::Result<DatasetStats> {
    std::fs::create_dir_all(dir)?;
    let mut generator = Generator::new(config);
    let mut writer = DatasetWriter::new(dir, generator.counts().lines, files, gzip);
    while let Some(window) = generator.next_window() {
        for line in &window {
            writer.push(line)?;
        }
    }
    writer.finish()
}

/// Splits a known number of lines into files.
pub struct DatasetWriter {
    dir: PathBuf,
    gzip: bool,
    /// Compression level of gzip files, 0 to 9.
    level: u32,
    total: usize,
    chunks: usize,
    chunk: usize,
    /// Lines pushed so far.
    pushed: usize,
    /// Collector time of the latest event seen, for naming a file that starts with a bad line.
    last_time: i64,
    open: Option<OpenFile>,
    text: Vec<u8>,
    stats: DatasetStats,
}

struct OpenFile {
    path: PathBuf,
    sink: Sink,
}

enum Sink {
    Plain(BufWriter<File>),
    Gzip(Box<GzEncoder<BufWriter<File>>>),
}

impl DatasetWriter {
    /// A writer for `total` lines in `files` files under `dir` (lines pushed beyond `total` go
    /// to one more file).
    #[must_use]
    pub fn new(dir: &Path, total: usize, files: usize, gzip: bool) -> Self {
        DatasetWriter {
            dir: dir.to_path_buf(),
            gzip,
            level: DEFAULT_GZIP_LEVEL,
            total,
            chunks: files.clamp(1, total.max(1)),
            chunk: 0,
            pushed: 0,
            last_time: 0,
            open: None,
            text: Vec::with_capacity(FLUSH_BYTES + 4096),
            stats: DatasetStats::default(),
        }
    }

    /// The same writer compressing at `level` (0 to 9, clamped; 6 unless set): 1 writes
    /// several times faster, for datasets made only to be read once.
    #[must_use]
    pub fn with_gzip_level(self, level: u32) -> Self {
        DatasetWriter { level: level.min(9), ..self }
    }

    /// Appends one line (a newline is added).
    ///
    /// # Errors
    /// Any error creating or writing a file.
    pub fn push(&mut self, line: &Line) -> io::Result<()> {
        if let Line::Event(event) = line {
            self.last_time = event.collector_micros;
        }
        if self.open.is_none() {
            self.open_file(line)?;
        }
        let start = self.text.len();
        line.write_tsv(&mut self.text);
        self.text.push(b'\n');
        self.stats.bytes_uncompressed += (self.text.len() - start) as u64;
        self.stats.lines += 1;
        match line {
            Line::Event(_) => self.stats.events += 1,
            Line::Malformed { .. } => self.stats.malformed += 1,
        }
        self.pushed += 1;
        if self.text.len() >= FLUSH_BYTES {
            self.flush_text()?;
        }
        if self.pushed == self.chunk_end() {
            self.close_file()?;
            self.chunk += 1;
        }
        Ok(())
    }

    /// Closes the last file and returns what was written.
    ///
    /// # Errors
    /// Any error writing or closing a file.
    pub fn finish(mut self) -> io::Result<DatasetStats> {
        if self.stats.files.is_empty() && self.open.is_none() {
            // No lines at all: still leave one (empty) file, as asked.
            self.open_file(&Line::Malformed { text: String::new(), kind: crate::MalformedKind::Empty })?;
        }
        self.close_file()?;
        Ok(self.stats)
    }

    /// Index (exclusive) of the last line of the current chunk.
    fn chunk_end(&self) -> usize {
        (self.total as u128 * (self.chunk as u128 + 1) / self.chunks as u128) as usize
    }

    /// Opens the current chunk's file, named after its first line (time and a UUID drawn from a
    /// hash of the line), like the S3 loader's `<date-time>-<uuid>` names.
    fn open_file(&mut self, first: &Line) -> io::Result<()> {
        let mut hashed = Vec::new();
        first.write_tsv(&mut hashed);
        let mut rand = Rand::seeded(fnv1a(&hashed) ^ mix64(self.chunk as u64));
        let extension = if self.gzip { "gz" } else { "tsv" };
        let mut name = Vec::with_capacity(64);
        push_timestamp(&mut name, self.last_time, Layout::FileStamp);
        name.push(b'-');
        rand.push_uuid(&mut name);
        name.extend_from_slice(b".");
        name.extend_from_slice(extension.as_bytes());
        let path = self.dir.join(String::from_utf8_lossy(&name).as_ref());
        let file = BufWriter::with_capacity(1 << 16, File::create(&path)?);
        let sink = if self.gzip {
            Sink::Gzip(Box::new(GzEncoder::new(file, Compression::new(self.level))))
        } else {
            Sink::Plain(file)
        };
        self.open = Some(OpenFile { path, sink });
        Ok(())
    }

    fn flush_text(&mut self) -> io::Result<()> {
        if let Some(open) = &mut self.open {
            match &mut open.sink {
                Sink::Plain(file) => file.write_all(&self.text)?,
                Sink::Gzip(encoder) => encoder.write_all(&self.text)?,
            }
        }
        self.text.clear();
        Ok(())
    }

    fn close_file(&mut self) -> io::Result<()> {
        self.flush_text()?;
        let Some(open) = self.open.take() else { return Ok(()) };
        let file = match open.sink {
            Sink::Plain(file) => file,
            Sink::Gzip(encoder) => encoder.finish()?,
        };
        file.into_inner().map_err(io::IntoInnerError::into_error)?;
        self.stats.bytes_written += std::fs::metadata(&open.path)?.len();
        self.stats.files.push(open.path);
        Ok(())
    }
}
