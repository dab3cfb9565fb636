//! The bodies of the fuzz targets: each takes any bytes and returns, or panics on a bug.
//!
//! One function per target, called by the libFuzzer harness in `fuzz/` (its own cargo
//! workspace, built by `cargo fuzz`, so that the main build never needs libFuzzer or
//! `-Z` flags) and by this crate's tests, which run every body over the seed inputs of the
//! repository on the stable toolchain (the tests are what CI runs). A body asserts what must
//! hold whatever the input: no panic, an error for bad input, and the invariants named in its
//! docs (counters that add up, a state file that writes back what it read, ...).
//!
//! | target | input | path |
//! |---|---|---|
//! | [`line`] | enriched TSV lines | parse, then `run`'s engine, `validate` and `events` per line, then their reports |
//! | [`contexts`] | a `contexts` field | experiment contexts (simd-json), checked against serde_json |
//! | [`funnel_toml`] | a funnel file | the definition parser, then a plan, a state file and the split check of it |
//! | [`state_file`] | a state file | reading it for a fixed plan, then reporting, merging and writing it back |
//! | [`gzip`] | a stored input | gzip detection, inflating, splitting into lines, checked against a plain inflate |

mod contexts;
mod funnel;
mod gzip;
mod line;
mod plan;
mod state;

pub use contexts::contexts;
pub use funnel::funnel_toml;
pub use gzip::gzip;
pub use line::line;
pub use plan::{FUNNEL_FILES, plan};
pub use state::state_file;

/// The body of a target.
pub type Body = fn(&[u8]);

/// Every target: its name (the name of its `fuzz/fuzz_targets/` file and corpus directory)
/// and its body.
pub const TARGETS: [(&str, Body); 5] = [
    ("line", line),
    ("contexts", contexts),
    ("funnel_toml", funnel_toml),
    ("state_file", state_file),
    ("gzip", gzip),
];
