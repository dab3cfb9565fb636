//! Key interning and bitmaps, the universe of the funnel engine and of the validation report,
//! with no IO.
//!
//! A [`KeyDict`] turns context key strings into dense `u32` ids (hex keys packed two digits to
//! a byte, as a [`KeyRecord`] each, which state files store as they are); a [`BitmapBuilder`]
//! collects ids into a roaring bitmap a batch at a time. [`Chunked`] is the append-only vector
//! in fixed-size chunks that both the dictionary and the engine's first times grow in.

mod bitmap;
mod chunked;
mod dict;

pub use bitmap::BitmapBuilder;
pub use chunked::Chunked;
pub use dict::{KeyDict, KeyRecord};
