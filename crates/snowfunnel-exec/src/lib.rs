//! The executor: runs a job (the funnel engine, the validation, the events extract, or any
//! [`snowfunnel_ingest::Job`]) over input files and S3 objects on worker threads, and returns
//! the merged state of every input read completely.
//!
//! A job says what a partition accumulates and how partitions merge; [`execute`] does the rest,
//! the same way for every job. Two schedules, one result:
//! - **a file per worker** when there are at least as many files as threads: each worker
//!   inflates and parses whole files, largest first, one partition state per file merged into
//!   the run's state (one for all workers) once the file was read completely;
//! - **inflate and parse apart** when there are fewer files than threads: one reader thread per
//!   file inflates it into chunks of whole lines, and parser threads take the chunks as they
//!   come, so even a single large file uses more than one core. Each parser keeps a state per
//!   file, merged at the end.
//!
//! Either way a corrupt file skipped (`skip_corrupt`) leaves no trace in the counts, and the
//! bad-row log keeps the first rows in input order, so output does not depend on the thread
//! count. A line over the length limit reaches the job as a bad row it counts
//! ([`snowfunnel_ingest::Ingester::reject`]), never as a line to parse. Inputs are files or S3
//! objects alike: an object's body streams in while it is parsed, and objects are opened ahead
//! of the workers (`open_ahead`) so that downloads overlap with parsing.

mod apart;
mod chunk;
mod error;
mod outcome;
mod per_worker;

use std::sync::atomic::AtomicU64;

use snowfunnel_ingest::Job;
use snowfunnel_input::{FileStats, Inputs};
use snowfunnel_report::BadRowLog;

pub use error::ExecError;

/// How to run.
#[derive(Clone, Copy)]
pub struct Options<'a> {
    /// Worker threads (at least one runs).
    pub threads: usize,
    /// Where bad rows go, if anywhere.
    pub bad_rows: Option<&'a BadRowLog>,
    /// The line length limit of the inputs, for the bad rows of longer lines (the inputs skip
    /// them).
    pub max_line_bytes: u64,
    /// Skip a corrupt input (counting nothing of it) instead of failing the run.
    pub skip_corrupt: bool,
    /// Inputs opened before a worker takes them (S3 downloads start on opening).
    pub open_ahead: usize,
}

/// Running totals of a run, for a progress line read from another thread.
#[derive(Debug, Default)]
pub struct ReadProgress {
    /// Inputs read to the end.
    pub inputs_done: AtomicU64,
    /// Lines handed to parsers.
    pub lines: AtomicU64,
}

/// What a run over all inputs produced.
#[derive(Debug)]
pub struct Output<S> {
    /// The merged state of every input read completely.
    pub state: S,
    /// Per input read completely, in input order: its index in the inputs, and what reading it
    /// saw.
    pub files: Vec<(usize, FileStats)>,
    /// Corrupt inputs skipped, with the reason, in input order.
    pub skipped: Vec<String>,
}

/// Runs `job` over every input with `options.threads` threads, counting in `progress` as it
/// goes.
///
/// # Errors
/// The first input (in input order) that could not be read, unless it is corrupt and
/// `options.skip_corrupt`; a chunk the job could not store; a bad row that could not be logged.
pub fn execute<J: Job>(
    job: &J,
    inputs: &Inputs,
    options: &Options<'_>,
    progress: &ReadProgress,
) -> Result<Output<J::State>, ExecError> {
    let files = inputs.files();
    let mut results = outcome::results::<J::State>(files.len());
    let run = Run { job, inputs, options, progress };
    let merged = if options.threads > files.len() {
        apart::inflate_and_parse_apart(&run, &mut results)?;
        Vec::new()
    } else {
        per_worker::file_per_worker(&run, &mut results)?
    };
    outcome::assemble(job, merged, results, options)
}

/// What every thread of a run shares.
struct Run<'a, J> {
    job: &'a J,
    inputs: &'a Inputs,
    options: &'a Options<'a>,
    progress: &'a ReadProgress,
}

impl<J> Clone for Run<'_, J> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<J> Copy for Run<'_, J> {}
