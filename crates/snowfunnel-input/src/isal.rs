//! Gzip inflated by ISA-L (the `isal` feature), on a thread of its own.
//!
//! `isal-rs`'s streaming decoder holds raw pointers, so it is not `Send`, while a [`Source`]
//! is opened on one thread and read on another. Without unsafe code, the decoder (and the
//! [`Chunker`] reading from it) lives on a thread of its own for the whole input, and
//! [`DecoderThread::fill`] hands it the [`Chunk`] to fill and waits for it: the two threads
//! never run at once, so a run still uses as many cores as it has threads, and the chunk
//! travels by move, its bytes never copied.
//!
//! [`Source`]: crate::Source

use std::io::{self, Read};
use std::sync::mpsc;

use isal::read::GzipDecoder;

use crate::Chunk;
use crate::lines::{Chunker, SplitError};

/// A chunker over the decoded bytes of a gzip stream, running on a thread of its own.
pub(crate) struct DecoderThread {
    requests: mpsc::SyncSender<Chunk>,
    replies: mpsc::Receiver<Reply>,
    bytes: u64,
    lines: u64,
}

/// A chunk filled by the decoder thread, and what filling it gave.
struct Reply {
    chunk: Chunk,
    result: Result<bool, SplitError>,
    bytes: u64,
    lines: u64,
}

impl DecoderThread {
    /// Starts the thread that inflates the gzip stream `stored` and cuts it into lines of at
    /// most `max_line` bytes. It ends when the [`DecoderThread`] is dropped.
    pub(crate) fn spawn(stored: impl Read + Send + 'static, max_line: usize) -> io::Result<Self> {
        let (requests, to_fill) = mpsc::sync_channel::<Chunk>(1);
        let (filled, replies) = mpsc::sync_channel::<Reply>(1);
        std::thread::Builder::new().name("snowfunnel-inflate".into()).spawn(move || {
            let mut chunker = Chunker::new(IsalGz::new(stored), max_line);
            for mut chunk in to_fill {
                let result = chunker.fill(&mut chunk);
                let reply = Reply { chunk, result, bytes: chunker.bytes(), lines: chunker.lines() };
                if filled.send(reply).is_err() {
                    break;
                }
            }
        })?;
        Ok(DecoderThread { requests, replies, bytes: 0, lines: 0 })
    }

    /// Bytes decoded so far.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Lines in the chunks handed out so far.
    pub(crate) fn lines(&self) -> u64 {
        self.lines
    }

    /// Refills `chunk` with the next lines; `false` at the end of the stream.
    pub(crate) fn fill(&mut self, chunk: &mut Chunk) -> Result<bool, SplitError> {
        let to_fill = std::mem::replace(chunk, Chunk::placeholder());
        let reply = self.requests.send(to_fill).ok().and_then(|()| self.replies.recv().ok());
        let Some(Reply { chunk: filled, result, bytes, lines }) = reply else {
            return Err(SplitError {
                source: io::Error::other("the gzip decoder thread stopped"),
                bytes: self.bytes,
            });
        };
        *chunk = filled;
        (self.bytes, self.lines) = (bytes, lines);
        result
    }
}

/// ISA-L's multi-member gzip decoder, its errors made [`io::ErrorKind::InvalidData`] as
/// flate2's are, so that they read as damaged data and not as failed reads.
struct IsalGz<R: Read> {
    /// Boxed: the decoder points into its own input buffer, so it must not move once read.
    decoder: Box<GzipDecoder<FullReads<R>>>,
}

impl<R: Read> IsalGz<R> {
    fn new(stored: R) -> Self {
        IsalGz { decoder: Box::new(GzipDecoder::new(FullReads { reader: stored, failed: None })) }
    }
}

impl<R: Read> Read for IsalGz<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.decoder.read(buf).map_err(|e| {
            if e.get_ref().is_some_and(|inner| inner.is::<isal::error::Error>()) {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "ISA-L inflate: {}",
                        e.into_inner().map_or_else(String::new, |inner| inner.to_string())
                    ),
                )
            } else {
                e
            }
        })
    }
}

/// Fills every buffer it is given up to the end of the stream.
///
/// `isal-rs`'s decoder takes two steps in a row that write nothing for damaged data, so a
/// short read (a network body, a pipe) could fail a valid stream: full reads give it 16 KiB
/// of input at each step.
struct FullReads<R> {
    reader: R,
    /// An error met after some bytes were read, returned by the next read.
    failed: Option<io::Error>,
}

impl<R: Read> Read for FullReads<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        let mut got = 0;
        while got < buf.len() {
            match self.reader.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if got == 0 => return Err(e),
                Err(e) => {
                    self.failed = Some(e);
                    break;
                }
            }
        }
        Ok(got)
    }
}
