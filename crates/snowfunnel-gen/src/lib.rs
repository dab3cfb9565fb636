//! Deterministic generator of realistic GitLab-style Snowplow enriched events.
//!
//! It serves two purposes: ground truth for tests (every good line is also an [`Event`] struct,
//! so a reference implementation can compute the expected funnels without parsing), and sample
//! and benchmark data (the bundled `testdata/`, datasets of gigabytes).
//!
//! The flow: a [`GenConfig`] (seed, line count, [`ExperimentSpec`]s with their funnel
//! [`StepSpec`]s, shares of staging, duplicate and malformed lines) goes into a [`Generator`],
//! which yields [`Line`]s window by window in collector-time order: experiment events that
//! follow each key's journey through its funnel, ordinary traffic around them, exact duplicates,
//! and [`MalformedKind`]s of broken lines. [`Event::to_tsv`] renders the 131-field enriched
//! line; [`write_dataset`] and [`write_dataset_streaming`] write gzip files named like the S3
//! loader's.
//!
//! Everything is drawn from ChaCha8 seeded with [`GenConfig::seed`]: the same configuration gives
//! byte-identical output, on any platform.

mod config;
mod contexts;
mod dataset;
mod error;
mod generate;
mod journey;
mod json;
mod keys;
mod malformed;
mod model;
mod noise;
mod profiles;
mod rng;
mod text;
mod time;
mod tsv;

pub use config::{ExperimentSpec, GenConfig, StepSpec, default_experiments};
pub use contexts::EXPERIMENT_SCHEMA_PREFIX;
pub use dataset::{DatasetStats, DatasetWriter, write_dataset, write_dataset_streaming};
pub use error::ConfigError;
pub use generate::{Generator, LineCounts, generate};
pub use model::{Event, ExperimentContext, Line, MalformedKind};
pub use time::{date_micros, format_timestamp};
pub use tsv::FIELD_COUNT;

/// Average length in bytes of a generated line (newline included) with the default
/// configuration; turns a wanted dataset size into a line count.
pub const AVERAGE_LINE_BYTES: u64 = 1670;
