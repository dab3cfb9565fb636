//! The input side: where enriched events come from and how their bytes become lines.
//!
//! [`Inputs::resolve`] turns what a user names (local files, directories walked recursively,
//! `s3://bucket/prefix` URLs listed through `snowfunnel-s3`) into one ordered,
//! de-duplicated list of [`InputFile`]s, keeping those the `--include`/`--exclude`
//! [`Selection`] selects, the [`DateWindow`] does not prune and the [`Shard`] (of a sharded
//! run) holds. A [`Source`] opens one
//! (S3 bodies stream in while they are read), detects gzip by its magic bytes (multi-member
//! gzip is decoded whole), and fills [`Chunk`]s of whole lines (1 MiB buffers, reused or passed
//! between threads), which [`Chunk::for_each_line`] hands out line by line without allocating;
//! a line longer than the limit is streamed past, never held whole, and handed out as
//! [`Line::TooLong`]. Gzip is inflated by zlib-rs, or by ISA-L with the `isal` feature (the
//! same lines and the same kinds of errors, in less CPU time).
//! S3 inputs are listed and read through an [`S3Session`](snowfunnel_s3::S3Session) of the
//! S3 crate, which the run shares with its state files and reports. For incremental runs,
//! [`listing_start`] says where listing a prefix whose keys sort by date may start, and
//! [`InputOptions::list_after`] starts there.

mod error;
mod inputs;
#[cfg(feature = "isal")]
mod isal;
mod lines;
mod listing;
mod open;
mod prune;
mod select;
mod shard;
mod sources;

pub use error::InputError;
pub use inputs::{InputOptions, Inputs};
pub use lines::{
    CHUNK_BYTES, Chunk, DEFAULT_MAX_LINE_BYTES, LONG_LINE_KEPT_BYTES, Line, MAX_LINE_BYTES_LIMIT,
};
pub use listing::{LISTING_MARGIN_DAYS, listing_start};
pub use open::{FileStats, ReadCounter, Source};
pub use prune::{DateWindow, MARGIN_DAYS};
pub use select::Selection;
pub use shard::{Shard, ShardError, shard_of};
pub use sources::{InputFile, Location, list_inputs};
