//! The input side: where enriched events come from and how their bytes become lines.
//!
//! [`list_inputs`] expands the paths a user gives (files, directories walked recursively)
//! into a sorted, de-duplicated list of [`InputFile`]s. A [`Source`] opens one, detects gzip
//! by its magic bytes (multi-member gzip is decoded whole), and fills [`Chunk`]s of whole lines
//! (1 MiB buffers, reused or passed between threads); [`read_lines`] does it all with one
//! reused chunk and a per-line callback, without allocating per line.

mod error;
mod lines;
mod open;
mod sources;

pub use error::InputError;
pub use lines::{CHUNK_BYTES, Chunk, MAX_LINE_BYTES};
pub use open::{FileStats, Source, read_lines};
pub use sources::{InputFile, list_inputs};
