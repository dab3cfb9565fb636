//! The state-file codec: a [`State`] and the [`Manifest`] of the inputs it counted, written to
//! bytes and read back, so that runs can be split across machines (merge the states) or
//! continued later (count only the new inputs). Reading gives a state that reports and merges
//! exactly like the one written; a file that is not a state, is cut short, is corrupt, has an
//! unknown format version, or was built for other funnels is an error, never a wrong answer and
//! never a panic.
//!
//! The layout is in the docs of [`StateFile`]. Both ways stream: writing encodes the body
//! twice (once to count its bytes, which come first), reading decodes it as it arrives and
//! checks the checksum at the end; either way nothing holds the whole body. Everything about
//! state files is in this module, one concern a file:
//!
//! - this file: the frame (magic, format version, body length, checksum), [`StateFile`]'s
//!   reading, writing and merging, and [`StateFileError`];
//! - `body`: the body of the current version, written and read one value at a time, with the
//!   checks on the way back;
//! - `legacy`: the bodies of the older versions, read and upgraded into a state;
//! - `wire`: the postcard wire format, value by value, over any `Read` and `Write`;
//! - `manifest`: the inputs a state counted and the shards it holds ([`Manifest`], [`Shards`]),
//!   merged without counting an input twice;
//! - `fingerprint`: the funnel fingerprints in the header
//!   ([`Funnel::fingerprint`](crate::Funnel::fingerprint)).

mod body;
mod fingerprint;
mod legacy;
mod manifest;
mod wire;

use std::io::{self, BufWriter, Read, Write};

use crate::plan::Plan;
use crate::state::State;
use body::{decode, encode, prepare};
pub use manifest::{DuplicateInput, InputStatus, Manifest, ManifestEntry, MergeError, Shards};
use wire::{Discard, WireError, WireReader, WireWriter};

/// The first bytes of every state file.
pub const STATE_MAGIC: [u8; 16] = *b"snowfunnel-state";

/// The state file format this build writes; it reads this one and every older one, from
/// [`OLDEST_STATE_FORMAT_VERSION`].
pub const STATE_FORMAT_VERSION: u32 = 5;

/// The oldest state file format this build reads (and upgrades).
pub const OLDEST_STATE_FORMAT_VERSION: u32 = 1;

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
///   not matter, every other difference is [`StateFileError::DifferentFunnels`]. Then the
///   breakdown fields the state holds, by name (version 4 on): a reader asking for one that
///   is not there gets [`StateFileError::MissingBreakdown`]; those it does not ask for are
///   read past and dropped.
/// - content:
///   - the manifest: `(input, size, version)` per input, sorted by input, each input once;
///   - the shards held, for states of a sharded run: `Option` of `(count, indexes)`, the
///     indexes ascending, each below the count (version 2 on);
///   - the counters: lines, events, bad rows per reason (in
///     [`BadReason::ALL`](snowfunnel_parse::BadReason::ALL) order), experiment events,
///     experiment contexts, contexts without key, incomplete contexts;
///   - the keys: their count, then every key in id order (ids are positions in this list; no
///     key twice) as its record: a tag byte, then for hex keys their digits packed two to a
///     byte, for others their bytes (after their varint length when the tag is `0x3f`), as the
///     table in the docs of `snowfunnel_keys::KeyDict` says; each key as its one canonical
///     record (version 3 on; versions 1 and 2 store every key as a byte string);
///   - per experiment, in header order: contexts, variants as `(name, keys)` with the keys a
///     roaring bitmap in its [portable serialization](https://github.com/RoaringBitmap/RoaringFormatSpec),
///     migrations as `(older key id, current key id)` pairs, sorted;
///   - per funnel, in header order: variants as above, then per step the keys that did it (a
///     portable roaring bitmap), a base time and, in ascending key id order, each key's first
///     time of the step as microseconds after the base (the base is the earliest of them, 0
///     when none);
///   - per breakdown field, in header order (version 4 on): its values as `(hash, value)`,
///     the hash 8 bytes little-endian (the first 8 bytes of the value's SHA-256), ascending,
///     the value a byte string; then per funnel, in header order, each step-1 key's first
///     `(time, value hash)`: a base time (the earliest, 0 when none), and in ascending key id
///     order the key id, the time after the base and the hash (8 bytes little-endian);
///   - per funnel, in header order (version 5 on), the events held for the warehouse's
///     duplicate rule (none under snowfunnel's rules): the variant names, then each event in
///     ascending (month, id) order as its month (months since year 0, signed), its id's 128 bits
///     (high then low half, 8 bytes little-endian each), how many times it was seen (a byte: 1,
///     or 2 for more than once) and, when 1, its first context's key id and variant index, the
///     steps it matched (a varint, bit n for step n + 1), its time (signed), whether it passed
///     the funnel's filters (a 0/1 byte) and its further contexts as `(key id, variant index)`.
///
/// **Versioning**: any change to this layout, to the content's meaning (a new counter, a new
/// bad-row reason, another key identity) or to the fingerprint bumps [`STATE_FORMAT_VERSION`],
/// and the reader keeps reading the versions before it, upgrading them in memory (a state is
/// saved in the current version). Versions 3 and 4 are version 5 without breakdowns and
/// without events held for the duplicate rule (read by the same decoder). A golden file per
/// version (`tests/it/data/state-v5.snowfunnel`
/// and those of the older versions) makes a change that forgets it fail the tests.
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
    /// A state file of a format version this build does not know: a newer one.
    #[error(
        "state file format version {found} is not supported: this snowfunnel reads versions 1 to {expected}"
    )]
    UnsupportedVersion {
        /// The version in the file.
        found: u32,
        /// The newest version this build reads ([`STATE_FORMAT_VERSION`]).
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
    /// The run asks for a breakdown the state was not written with.
    #[error(
        "the state holds no breakdown by {field} (its breakdowns: {}): count its inputs again with \
         --breakdown {field} (with --state: --rebuild)",
        manifest::list_fields(held)
    )]
    MissingBreakdown {
        /// The field asked for.
        field: String,
        /// The breakdown fields the state holds.
        held: Vec<String>,
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

/// Why a state file cannot be read into another one ([`StateFile::read_merged`]).
#[derive(Debug, thiserror::Error)]
pub enum ReadMergeError {
    /// The file cannot be read.
    #[error(transparent)]
    Read(#[from] StateFileError),
    /// Its inputs or shards overlap those of the state it would merge into.
    #[error(transparent)]
    Merge(#[from] MergeError),
}

impl StateFile {
    /// An empty state for `plan`, with an empty manifest.
    #[must_use]
    pub fn new(plan: &Plan) -> Self {
        StateFile { state: State::new(plan), manifest: Manifest::new() }
    }

    /// Whether nothing was counted into it.
    fn is_empty(&self) -> bool {
        self.manifest.is_empty() && self.manifest.shards().is_none() && self.state.is_empty()
    }

    /// Merges `other` (for the same plan) into `self`: the state of both inputs together.
    ///
    /// # Errors
    /// A [`MergeError`] when an input or a shard is in both manifests (it would count twice),
    /// or the shards are of runs split differently; `self` is then unchanged.
    pub fn merge(&mut self, other: StateFile) -> Result<(), MergeError> {
        if self.is_empty() {
            // Nothing to translate into: take it as it is.
            *self = other;
            return Ok(());
        }
        if let (Some(before), Some(this)) = (&self.state.held, &other.state.held)
            && before != this
        {
            return Err(MergeError::DifferentBreakdowns { before: before.clone(), this: this.clone() });
        }
        self.manifest.merge(other.manifest)?;
        self.state.merge(other.state);
        Ok(())
    }

    /// Writes the state file (layout in the module docs), buffered. Takes `&mut self` only to
    /// finish pending batches.
    ///
    /// # Errors
    /// Only those of `out`.
    ///
    /// # Panics
    /// When the state was not built for `plan`.
    pub fn write(&mut self, plan: &Plan, out: impl Write) -> io::Result<()> {
        let migrations = prepare(&mut self.state);
        let mut counted = WireWriter::new(Discard);
        encode(plan, &self.state, &self.manifest, &migrations, &mut counted)?;
        let mut wire = WireWriter::new(BufWriter::with_capacity(1 << 16, out));
        wire.raw(&STATE_MAGIC)?;
        wire.raw(&STATE_FORMAT_VERSION.to_le_bytes())?;
        wire.raw(&counted.written().to_le_bytes())?;
        encode(plan, &self.state, &self.manifest, &migrations, &mut wire)?;
        debug_assert_eq!(wire.written(), HEAD_LEN as u64 + counted.written(), "both passes agree");
        let checksum = wire.checksum();
        let mut out = wire.into_inner();
        out.write_all(&checksum.to_le_bytes())?;
        out.flush()
    }

    /// Reads a state file written for the funnels of `plan` (in any order), of this version or
    /// an older one. Reads the head first, so a file that is not a state is rejected without
    /// reading it all.
    ///
    /// # Errors
    /// A [`StateFileError`] saying what is wrong; never a panic, whatever the bytes.
    pub fn read(plan: &Plan, input: impl Read) -> Result<StateFile, StateFileError> {
        let mut file = StateFile::new(plan);
        match read_into(plan, input, &mut file, false) {
            Ok(Some(legacy)) => Ok(legacy),
            Ok(None) => Ok(file),
            Err(ReadMergeError::Read(e)) => Err(e),
            Err(ReadMergeError::Merge(_)) => unreachable!("nothing to merge with"),
        }
    }

    /// Reads a state file (as [`StateFile::read`] does) and merges it into `self`, as
    /// [`StateFile::merge`] would, without holding the state read beside `self`: its keys and
    /// sets go into `self` as they are read. Consumes `self`, which a failure leaves half
    /// merged.
    ///
    /// # Errors
    /// [`ReadMergeError::Read`] when the file cannot be read, [`ReadMergeError::Merge`] when its
    /// inputs or shards overlap those of `self`.
    pub fn read_merged(mut self, plan: &Plan, input: impl Read) -> Result<StateFile, ReadMergeError> {
        if self.is_empty() {
            return Ok(StateFile::read(plan, input)?);
        }
        if let Some(legacy) = read_into(plan, input, &mut self, true)? {
            self.merge(legacy)?;
        }
        Ok(self)
    }
}

/// Reads a state file into `into` (merging into it when `merging`, else into an empty state),
/// or returns a file of an older version read on its own.
fn read_into(
    plan: &Plan,
    mut input: impl Read,
    into: &mut StateFile,
    merging: bool,
) -> Result<Option<StateFile>, ReadMergeError> {
    // A state file keeps no names: those of `into` no longer cover all it counts.
    into.state.forget_names();
    let mut head = [0u8; HEAD_LEN];
    let got = read_up_to(&mut input, &mut head).map_err(StateFileError::Io)?;
    let magic = got.min(STATE_MAGIC.len());
    if head[..magic] != STATE_MAGIC[..magic] {
        return Err(StateFileError::NotAStateFile.into());
    }
    let truncated = |found: u64, expected: u64| StateFileError::Truncated { found, expected };
    if got < STATE_MAGIC.len() + 4 {
        return Err(truncated(got as u64, HEAD_LEN as u64).into());
    }
    let version = u32::from_le_bytes(head[16..20].try_into().expect("4 bytes"));
    if !(OLDEST_STATE_FORMAT_VERSION..=STATE_FORMAT_VERSION).contains(&version) {
        return Err(
            StateFileError::UnsupportedVersion { found: version, expected: STATE_FORMAT_VERSION }.into()
        );
    }
    if got < HEAD_LEN {
        return Err(truncated(got as u64, HEAD_LEN as u64).into());
    }
    let body_len = u64::from_le_bytes(head[20..28].try_into().expect("8 bytes"));
    let expected = body_len.saturating_add((HEAD_LEN + CHECKSUM_LEN) as u64);
    let mut checksum = crc32fast::Hasher::new();
    checksum.update(&head);
    let mut wire = WireReader::new(&mut input, body_len, checksum);
    if version < 4 {
        // Older versions hold no breakdowns.
        body::check_breakdowns(plan, &[])?;
    }
    let decoded = if version >= 3 {
        decode(plan, version, &mut wire, into, merging).map(|()| None)
    } else {
        // An older version: its body whole, decoded as its build did, once the checksum holds.
        let mut body = Vec::new();
        match wire.append(body_len, &mut body) {
            Ok(()) => Ok(Some(body)),
            Err(e) => Err(e),
        }
    };
    // A damaged file is reported as damaged, whatever its bytes made of the decoding: the rest
    // of the body is read, then the checksum compared, before any error of the content.
    let content_end = wire.consumed();
    let complete = match (&decoded, wire.skip_rest()) {
        (Err(WireError::Io(_)), _) => false,
        (_, Ok(complete)) => complete,
        (_, Err(WireError::Io(e))) => return Err(StateFileError::Io(e).into()),
        (_, Err(_)) => unreachable!("skipping fails only on IO"),
    };
    if let Err(WireError::Io(e)) = decoded {
        return Err(StateFileError::Io(e).into());
    }
    let consumed = HEAD_LEN as u64 + wire.consumed();
    let (computed, input) = wire.finish();
    if !complete {
        return Err(truncated(consumed, expected).into());
    }
    let mut stored = [0u8; CHECKSUM_LEN];
    let got_checksum = read_up_to(&mut *input, &mut stored).map_err(StateFileError::Io)?;
    if got_checksum < CHECKSUM_LEN {
        return Err(truncated(consumed + got_checksum as u64, expected).into());
    }
    let stored = u32::from_le_bytes(stored);
    if stored != computed {
        return Err(StateFileError::ChecksumMismatch { stored, computed }.into());
    }
    if read_up_to(&mut *input, &mut [0u8; 1]).map_err(StateFileError::Io)? > 0 {
        return Err(malformed("data after the checksum").into());
    }
    match decoded {
        Ok(Some(body)) => {
            let mut legacy = legacy::decode(plan, version, &body)?;
            legacy.state.held = Some(Vec::new());
            Ok(Some(legacy))
        }
        Ok(None) if content_end < body_len => {
            Err(malformed(format!("{} bytes after the content", body_len - content_end)).into())
        }
        Ok(None) => Ok(None),
        Err(WireError::End) => Err(malformed("the content runs past the end of the body").into()),
        Err(WireError::Malformed(e)) => Err(e.into()),
        Err(WireError::Merge(e)) => Err(e.into()),
        Err(WireError::Io(_)) => unreachable!("returned above"),
    }
}

/// Reads until `buf` is full or the input ends; the number of bytes read.
fn read_up_to(mut input: impl Read, buf: &mut [u8]) -> io::Result<usize> {
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
