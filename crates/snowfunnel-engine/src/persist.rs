//! State files: a [`State`] and the [`Manifest`] of the inputs it counted, written to bytes and
//! read back, so that runs can be split across machines (merge the states) or continued later
//! (count only the new inputs). Reading gives a state that reports and merges exactly like the
//! one written; a file that is not a state, is cut short, is corrupt, has another format version,
//! or was built for other funnels is an error, never a wrong answer and never a panic.
//!
//! The layout is in the docs of [`StateFile`].

use std::io::{self, Read, Write};

use crate::body::{decode, encode};
use crate::manifest::Manifest;
use crate::plan::Plan;
use crate::state::State;

/// The first bytes of every state file.
pub const STATE_MAGIC: [u8; 16] = *b"snowfunnel-state";

/// The state file format this build writes (and reads).
pub const STATE_FORMAT_VERSION: u32 = 3;

/// The oldest format version this build still reads: version 2 is version 3 without the
/// `line_too_long` bad-row count, read as 0.
pub const OLDEST_READ_VERSION: u32 = 2;

/// Magic, version and body length.
const HEAD_LEN: usize = STATE_MAGIC.len() + 4 + 8;
const CHECKSUM_LEN: usize = 4;

/// A state with the manifest of the inputs it counted: what a state file holds.
///
/// # Layout
///
/// | bytes | what |
/// |---|---|
/// | 16 | magic: `snowfunnel-state` in ASCII |
/// | 4 | format version, `u32` little-endian ([`STATE_FORMAT_VERSION`]) |
/// | 8 | body length in bytes, `u64` little-endian |
/// | body length | body: [postcard](https://postcard.jamesmunns.com/wire-format) encoding of a header and a content (below) |
/// | 4 | CRC-32 (IEEE, as gzip) of every byte before it, `u32` little-endian |
///
/// Nothing may follow the checksum. The header, then the content, in postcard (varint integers,
/// strings and byte strings prefixed by their varint length, sequences by their varint count,
/// `Option` as a 0/1 byte, structs as their fields in order):
///
/// - header: the funnels, each `(name, SHA-256 fingerprint: 32 bytes)` (see
///   [`Funnel::fingerprint`](crate::Funnel::fingerprint)), then the experiment names. A reader
///   matches them by name to its own funnels before it decodes anything else: the order does
///   not matter, every other difference is [`StateFileError::DifferentFunnels`].
/// - content:
///   - the manifest: `(input, size, version)` per input, sorted by input, each input once;
///   - the shards held, for states of a sharded run: `Option` of `(count, indexes)`, the
///     indexes ascending, each below the count (version 2 on);
///   - the counters: lines, events, bad rows per reason (in
///     [`BadReason::ALL`](snowfunnel_parse::BadReason::ALL) order; version 2 has one reason
///     fewer, `line_too_long`), experiment events,
///     experiment contexts, contexts without key, incomplete contexts;
///   - the keys: every key's bytes in id order (ids are positions in this list; no key twice);
///   - per experiment, in header order: contexts, variants as `(name, keys)` with the keys a
///     roaring bitmap in its [portable serialization](https://github.com/RoaringBitmap/RoaringFormatSpec),
///     migrations as `(older key id, current key id)` pairs, sorted;
///   - per funnel, in header order: variants as above, then per step the keys that did it (a
///     portable roaring bitmap), a base time and, in ascending key id order, each key's first
///     time of the step as microseconds after the base (the base is the earliest of them, 0
///     when none).
///
/// **Versioning**: any change to this layout, to the content's meaning (a new counter, a new
/// bad-row reason, another key identity) or to the fingerprint bumps [`STATE_FORMAT_VERSION`];
/// a reader reads its own version and, from [`OLDEST_READ_VERSION`] on, the older ones it
/// knows how to upgrade. A golden file per version (`tests/it/data/state-v3.snowfunnel`,
/// `state-v2.snowfunnel`) makes a change that forgets it fail the tests.
#[derive(Clone)]
pub struct StateFile {
    /// The engine state.
    pub state: State,
    /// The inputs counted into `state`.
    pub manifest: Manifest,
}

/// Why a state file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum StateFileError {
    /// The input does not start with [`STATE_MAGIC`].
    #[error("not a snowfunnel state file")]
    NotAStateFile,
    /// A state file of another format version.
    #[error(
        "state file format version {found} is not supported: this snowfunnel reads versions {OLDEST_READ_VERSION} to {expected}"
    )]
    UnsupportedVersion {
        /// The version in the file.
        found: u32,
        /// The version this build writes, the newest it reads.
        expected: u32,
    },
    /// The input ends before the state file does.
    #[error("the state file is truncated: {found} bytes, {expected} expected")]
    Truncated {
        /// Bytes found.
        found: u64,
        /// Bytes the file should have (at least, when it ends inside the head).
        expected: u64,
    },
    /// The bytes are not the ones written.
    #[error("the state file is corrupt: checksum {computed:08x}, {stored:08x} stored")]
    ChecksumMismatch {
        /// The checksum in the file.
        stored: u32,
        /// The checksum of the bytes read.
        computed: u32,
    },
    /// The state was built for funnels other than the ones it is read with.
    #[error("the state was built for other funnels: {}", describe_funnels(differ, not_in_state, not_in_plan))]
    DifferentFunnels {
        /// Funnels of both whose definitions differ.
        differ: Vec<String>,
        /// Funnels given that the state was not built for.
        not_in_state: Vec<String>,
        /// Funnels the state was built for that were not given.
        not_in_plan: Vec<String>,
    },
    /// The checksum holds but the body does not decode into a state: a buggy or foreign writer.
    #[error("the state file body is malformed: {cause}")]
    Malformed {
        /// What is wrong.
        cause: String,
    },
    /// Reading failed.
    #[error("reading the state file: {0}")]
    Io(#[from] io::Error),
}

fn describe_funnels(differ: &[String], not_in_state: &[String], not_in_plan: &[String]) -> String {
    let list = |names: &[String]| names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ");
    let mut parts = Vec::new();
    if !differ.is_empty() {
        parts.push(format!("{} defined differently", list(differ)));
    }
    if !not_in_state.is_empty() {
        parts.push(format!("{} not in the state", list(not_in_state)));
    }
    if !not_in_plan.is_empty() {
        parts.push(format!("{} in the state but not given", list(not_in_plan)));
    }
    parts.join("; ")
}

pub(crate) fn malformed(cause: impl std::fmt::Display) -> StateFileError {
    StateFileError::Malformed { cause: cause.to_string() }
}

impl StateFile {
    /// An empty state for `plan`, with an empty manifest.
    #[must_use]
    pub fn new(plan: &Plan) -> Self {
        StateFile { state: State::new(plan), manifest: Manifest::new() }
    }

    /// Merges `other` (for the same plan) into `self`: the state of both inputs together.
    ///
    /// # Errors
    /// A [`MergeError`](crate::MergeError) when an input or a shard is in both manifests (it
    /// would count twice), or the shards are of runs split differently; `self` is then
    /// unchanged.
    pub fn merge(&mut self, other: StateFile) -> Result<(), crate::MergeError> {
        self.manifest.merge(other.manifest)?;
        self.state.merge(other.state);
        Ok(())
    }

    /// Writes the state file (layout in the module docs). The whole body is encoded in memory
    /// first, since its length comes before it. Takes `&mut self` only to finish pending bitmap
    /// batches.
    ///
    /// # Errors
    /// Only those of `out`.
    ///
    /// # Panics
    /// When the state was not built for `plan`.
    pub fn write(&mut self, plan: &Plan, mut out: impl Write) -> io::Result<()> {
        let body = encode(plan, &mut self.state, &self.manifest);
        write_framed(&body, &mut out)
    }

    /// Reads a state file written for the funnels of `plan` (in any order). Reads the head
    /// first, so a file that is not a state is rejected without reading it all.
    ///
    /// # Errors
    /// A [`StateFileError`] saying what is wrong; never a panic, whatever the bytes.
    pub fn read(plan: &Plan, mut input: impl Read) -> Result<StateFile, StateFileError> {
        let mut head = [0u8; HEAD_LEN];
        let got = read_up_to(&mut input, &mut head)?;
        let magic = got.min(STATE_MAGIC.len());
        if head[..magic] != STATE_MAGIC[..magic] {
            return Err(StateFileError::NotAStateFile);
        }
        let truncated =
            |found: usize, expected: u64| StateFileError::Truncated { found: found as u64, expected };
        if got < STATE_MAGIC.len() + 4 {
            return Err(truncated(got, HEAD_LEN as u64));
        }
        let version = u32::from_le_bytes(head[16..20].try_into().expect("4 bytes"));
        if !(OLDEST_READ_VERSION..=STATE_FORMAT_VERSION).contains(&version) {
            return Err(StateFileError::UnsupportedVersion {
                found: version,
                expected: STATE_FORMAT_VERSION,
            });
        }
        if got < HEAD_LEN {
            return Err(truncated(got, HEAD_LEN as u64));
        }
        let body_len = u64::from_le_bytes(head[20..28].try_into().expect("8 bytes"));
        let expected = body_len.saturating_add((HEAD_LEN + CHECKSUM_LEN) as u64);
        // The length is not trusted before the checksum: grow with what actually comes.
        let mut body = Vec::with_capacity(usize::try_from(body_len.min(1 << 26)).unwrap_or(0));
        (&mut input).take(body_len).read_to_end(&mut body)?;
        let mut stored = [0u8; CHECKSUM_LEN];
        let got_checksum =
            if body.len() as u64 == body_len { read_up_to(&mut input, &mut stored)? } else { 0 };
        if got_checksum < CHECKSUM_LEN {
            return Err(truncated(HEAD_LEN + body.len() + got_checksum, expected));
        }
        let mut checksum = crc32fast::Hasher::new();
        checksum.update(&head);
        checksum.update(&body);
        let (stored, computed) = (u32::from_le_bytes(stored), checksum.finalize());
        if stored != computed {
            return Err(StateFileError::ChecksumMismatch { stored, computed });
        }
        if read_up_to(&mut input, &mut [0u8; 1])? > 0 {
            return Err(malformed("data after the checksum"));
        }
        decode(plan, &body, version)
    }
}

/// Writes `body` between the head and the checksum.
pub(crate) fn write_framed(body: &[u8], mut out: impl Write) -> io::Result<()> {
    let mut head = Vec::with_capacity(HEAD_LEN);
    head.extend_from_slice(&STATE_MAGIC);
    head.extend_from_slice(&STATE_FORMAT_VERSION.to_le_bytes());
    head.extend_from_slice(&(body.len() as u64).to_le_bytes());
    let mut checksum = crc32fast::Hasher::new();
    checksum.update(&head);
    checksum.update(body);
    out.write_all(&head)?;
    out.write_all(body)?;
    out.write_all(&checksum.finalize().to_le_bytes())?;
    out.flush()
}

/// Reads until `buf` is full or the input ends; the number of bytes read.
fn read_up_to(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
