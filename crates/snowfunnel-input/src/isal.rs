//! Gzip inflated by ISA-L (the `isal` feature), on the thread that reads the lines.
//!
//! `isal-rs`'s streaming decoder holds raw pointers, so it is not `Send`, while a [`Source`]
//! is opened on one thread and read on another. Without unsafe code, the decoder lives in a
//! table of the thread that reads the source (a thread-local), from its first chunk to its
//! last; the source holds only its key. The executor reads each source on one thread from
//! its first chunk to its last, so the lines are inflated where they are parsed, in the same
//! core's cache. A source read from another thread than the one that started it gets an error,
//! never wrong lines.
//!
//! A first design ran each decoder on a thread of its own, taking turns with the thread that
//! parses: every chunk then crossed from one core's cache to the other's, which cost more CPU
//! than ISA-L saved over zlib-rs (see the README's throughput section).
//!
//! [`Source`]: crate::Source

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::{self, ThreadId};

use isal::read::GzipDecoder;

use crate::Chunk;
use crate::lines::{Chunker, SplitError};

/// The stored bytes of a source: a file or an object body.
type Stored = Box<dyn Read + Send>;

thread_local! {
    /// The decoders of the sources this thread is reading, by key.
    static DECODERS: RefCell<HashMap<u64, Chunker<IsalGz<Stored>>>> = RefCell::new(HashMap::new());
}

/// The next decoder key.
static NEXT_KEY: AtomicU64 = AtomicU64::new(0);

/// A chunker over the decoded bytes of a gzip stream, whose decoder lives with the thread that
/// reads it.
pub(crate) struct ThreadDecoder {
    key: u64,
    state: State,
    bytes: u64,
    lines: u64,
}

enum State {
    /// Not read yet: the stored bytes and the line length limit.
    Unread(Stored, usize),
    /// Read by this thread, whose table holds the decoder.
    Reading(ThreadId),
    /// Read to the end; the decoder is dropped.
    Ended,
    /// Failed; the decoder is dropped.
    Failed,
}

impl ThreadDecoder {
    /// A chunker that inflates the gzip stream `stored` and cuts it into lines of at most
    /// `max_line` bytes; the decoder is made at the first [`ThreadDecoder::fill`].
    pub(crate) fn new(stored: impl Read + Send + 'static, max_line: usize) -> Self {
        ThreadDecoder {
            key: NEXT_KEY.fetch_add(1, Ordering::Relaxed),
            state: State::Unread(Box::new(stored), max_line),
            bytes: 0,
            lines: 0,
        }
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
        let here = thread::current().id();
        match std::mem::replace(&mut self.state, State::Reading(here)) {
            State::Unread(stored, max_line) => {
                let chunker = Chunker::new(IsalGz::new(stored), max_line);
                DECODERS.with_borrow_mut(|decoders| decoders.insert(self.key, chunker));
            }
            State::Reading(thread) if thread == here => {}
            State::Reading(thread) => {
                self.state = State::Reading(thread);
                return Err(
                    self.error("a gzip stream inflated by ISA-L is read by the thread that started it only")
                );
            }
            State::Ended => {
                self.state = State::Ended;
                return Ok(false);
            }
            State::Failed => {
                self.state = State::Failed;
                return Err(self.error("the gzip stream failed before"));
            }
        }
        let filled = DECODERS.with_borrow_mut(|decoders| {
            decoders.get_mut(&self.key).map(|chunker| {
                let result = chunker.fill(chunk);
                (self.bytes, self.lines) = (chunker.bytes(), chunker.lines());
                result
            })
        });
        let result = filled.unwrap_or_else(|| Err(self.error("the gzip decoder is gone")));
        match result {
            Ok(true) => {}
            Ok(false) => self.release(State::Ended),
            Err(_) => self.release(State::Failed),
        }
        result
    }

    fn error(&self, message: &str) -> SplitError {
        SplitError { source: io::Error::other(message), bytes: self.bytes }
    }

    /// Drops the decoder, if this thread holds it, and moves to `state`.
    fn release(&mut self, state: State) {
        if let State::Reading(thread) = std::mem::replace(&mut self.state, state)
            && thread == thread::current().id()
        {
            // Not at all while the thread's table is being torn down.
            let _ = DECODERS.try_with(|decoders| decoders.borrow_mut().remove(&self.key));
        }
    }
}

impl Drop for ThreadDecoder {
    fn drop(&mut self) {
        // Dropped on another thread, the decoder goes with the table of the thread that read.
        self.release(State::Ended);
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
            if !e.get_ref().is_some_and(|inner| inner.is::<isal::error::Error>()) {
                return e;
            }
            let message = match e.into_inner().map(|inner| inner.downcast::<isal::error::Error>()) {
                // Without isal-rs's "(Exit code: None)" after it.
                Some(Ok(error)) => match *error {
                    isal::error::Error::Other((None, message)) => message,
                    error => error.to_string(),
                },
                _ => String::new(),
            };
            io::Error::new(io::ErrorKind::InvalidData, format!("ISA-L inflate: {message}"))
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
