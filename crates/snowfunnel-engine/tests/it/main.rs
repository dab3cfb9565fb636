//! Integration tests of the funnel engine: hand-made scenarios, merging, and a property test
//! against a plain reference implementation on generated data.

mod lines;
mod scenarios;
