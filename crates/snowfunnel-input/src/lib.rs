//! The input side: where enriched events come from and how their bytes become lines.
//!
//! [`list_inputs`] expands the paths a user gives (files, directories walked recursively)
//! into a sorted, de-duplicated list of [`InputFile`]s. [`read_lines`] opens one, detects gzip
//! by its magic bytes (multi-member gzip is decoded whole), and hands every line to a callback
//! from a large reused buffer, without allocating per line.

mod error;
mod lines;
mod open;
mod sources;

pub use error::InputError;
pub use lines::{LineSplitter, MAX_LINE_BYTES};
pub use open::{FileStats, read_lines};
pub use sources::{InputFile, list_inputs};
