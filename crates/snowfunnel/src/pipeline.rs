//! Running a job (the funnel engine, the validation, the events extract) over input files on
//! worker threads.
//!
//! A [`Job`] says what a partition accumulates and how partitions merge; this module does
//! the rest, the same way for every job.
//!
//! Two shapes, one result:
//! - **a file per worker** when there are at least as many files as threads: each worker
//!   inflates and parses whole files, largest first, one partition state per file merged into
//!   the run's state (one for all workers) once the file was read completely;
//! - **inflate and parse apart** when there are fewer files than threads: one reader thread per
//!   file inflates it into chunks of whole lines, and parser threads take the chunks as they
//!   come, so even a single large file uses more than one core. Each parser keeps a state per
//!   file, merged at the end.
//!
//! Either way a corrupt file skipped with `--skip-corrupt-files` leaves no trace in the counts,
//! and the bad-row logs of each file are merged by line number, so output does not depend on
//! the thread count. Inputs are files or S3 objects alike: an object's body streams in while
//! it is parsed, and objects are opened ahead of the workers (`open_ahead`) so that downloads
//! overlap with parsing.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use anyhow::{Context, Result};
use crossbeam_channel::{Receiver, Sender};
use snowfunnel_engine::{Ingester, Plan, State};
use snowfunnel_input::{Chunk, FileStats, InputError, InputFile, Inputs, Source};
use snowfunnel_parse::RowError;
use snowfunnel_report::BadRowLog;
use snowfunnel_validate::{Scope, ValidateState, Validator};

/// What a run accumulates per partition (a file, or the chunks of a file one parser took) and
/// how partitions merge. Merging must be exact and order-free, so that results do not depend
/// on the thread count.
pub(crate) trait Job: Sync {
    /// The state of one partition, or of several merged.
    type State: Send;
    /// Turns lines into state; one per thread, holding its reusable buffers.
    type Ingester<'a>: Ingest<Self::State>
    where
        Self: 'a;

    /// An empty state.
    fn state(&self) -> Self::State;
    /// A thread's ingester.
    fn ingester(&self) -> Self::Ingester<'_>;
    /// Merges `other` into `into`.
    fn merge(into: &mut Self::State, other: Self::State);
}

/// Feeds one line (without its `\n`) into a state; a bad row is counted in the state and
/// returned for the bad-row log.
pub(crate) trait Ingest<S> {
    fn ingest(&mut self, state: &mut S, line: &[u8]) -> Result<(), RowError>;

    /// Called once the lines of a chunk are in `state`, with the chunk's place in the input:
    /// the index of its file and its first line number. A job that keeps what it made outside
    /// the state until the end (the events extract spools its records) stores it here, under
    /// that place, so that it can be put back in input order whatever the thread count.
    ///
    /// # Errors
    /// When it cannot be stored (a spool that cannot be written); the run stops with it.
    fn end_chunk(&mut self, state: &mut S, file: usize, first_line: u64) -> Result<()> {
        let _ = (state, file, first_line);
        Ok(())
    }
}

/// Feeds every line of `chunk` (of the file at `file`) into `state`, logging bad rows, then
/// ends the chunk.
fn ingest_chunk<S, I: Ingest<S>>(
    ingester: &mut I,
    state: &mut S,
    file: usize,
    chunk: &Chunk,
    log: &mut BadRowLogger<'_>,
) -> Result<()> {
    chunk.for_each_line(|number, line| {
        if let Err(e) = ingester.ingest(state, line) {
            log.push(number, &e, line);
        }
    });
    ingester.end_chunk(state, file, chunk.first_line)
}

/// `snowfunnel run`: the funnel engine. Every partition's state shares one key dictionary
/// (that of `keys`): memory holds each key once whatever the number of threads and files, and
/// partitions merge without translating key ids.
pub(crate) struct Funnels<'p> {
    plan: &'p Plan,
    /// An empty state whose dictionary the partitions share.
    keys: State,
}

impl<'p> Funnels<'p> {
    /// The job of `plan`, its partitions sharing the key dictionary of `keys` (the state an
    /// incremental run adds to, so that the two merge without translating ids), or a new one.
    pub(crate) fn new(plan: &'p Plan, keys: Option<&State>) -> Self {
        Funnels { plan, keys: keys.map_or_else(|| State::new(plan), State::partition) }
    }
}

impl Job for Funnels<'_> {
    type State = State;
    type Ingester<'a>
        = Ingester<'a>
    where
        Self: 'a;

    fn state(&self) -> State {
        self.keys.partition()
    }

    fn ingester(&self) -> Ingester<'_> {
        Ingester::new(self.plan)
    }

    fn merge(into: &mut State, other: State) {
        into.merge(other);
    }
}

impl Ingest<State> for Ingester<'_> {
    fn ingest(&mut self, state: &mut State, line: &[u8]) -> Result<(), RowError> {
        Ingester::ingest(self, state, line)
    }
}

/// `snowfunnel validate`: the validation report of the experiments in scope.
impl Job for Scope {
    type State = ValidateState;
    type Ingester<'a> = Validator<'a>;

    fn state(&self) -> ValidateState {
        ValidateState::new(self)
    }

    fn ingester(&self) -> Validator<'_> {
        Validator::new(self)
    }

    fn merge(into: &mut ValidateState, other: ValidateState) {
        into.merge(other);
    }
}

impl Ingest<ValidateState> for Validator<'_> {
    fn ingest(&mut self, state: &mut ValidateState, line: &[u8]) -> Result<(), RowError> {
        Validator::ingest(self, state, line)
    }
}

/// How to run.
pub(crate) struct Options {
    pub(crate) threads: usize,
    pub(crate) log_bad_rows: bool,
    pub(crate) skip_corrupt: bool,
    /// Inputs opened before a worker takes them (S3 downloads start on opening).
    pub(crate) open_ahead: usize,
}

/// Running totals, for the progress line.
#[derive(Default)]
pub(crate) struct Tally {
    /// Inputs read to the end.
    pub(crate) inputs_done: AtomicU64,
    /// Lines handed to parsers.
    pub(crate) lines: AtomicU64,
}

/// What a run over all files produced.
pub(crate) struct Output<S> {
    pub(crate) state: S,
    /// Per file read completely, in input order: its index in the inputs, and what reading it saw.
    pub(crate) files: Vec<(usize, FileStats)>,
    /// Per file read completely, in input order: its bad-row logs, each in line order.
    pub(crate) bad_rows: Vec<Vec<BadRowLog>>,
    /// Corrupt files skipped, with the reason, in input order.
    pub(crate) skipped: Vec<String>,
}

/// What became of one file.
enum Outcome {
    Read(FileStats),
    Failed(InputError),
    /// Left unfinished because another file's error stopped the run.
    Stopped,
}

/// Per file: its outcome, its partial states not yet merged, and its bad-row logs.
struct FileResult<S> {
    outcome: Option<Outcome>,
    states: Vec<S>,
    logs: Vec<BadRowLog>,
}

/// Processes every input with `options.threads` threads.
pub(crate) fn process<J: Job>(
    job: &J,
    inputs: &Inputs,
    options: &Options,
    tally: &Tally,
) -> Result<Output<J::State>> {
    let files = inputs.files();
    let mut results: Vec<FileResult<J::State>> =
        files.iter().map(|_| FileResult { outcome: None, states: Vec::new(), logs: Vec::new() }).collect();
    let run = Run { job, inputs, options, tally };
    let merged = if options.threads > files.len() {
        inflate_and_parse_apart(&run, &mut results)?;
        Vec::new()
    } else {
        file_per_worker(&run, &mut results)?
    };
    assemble(job, merged, results, options)
}

/// Merges the states already merged per worker and the per-file results in input order, or
/// returns the first file's error.
fn assemble<J: Job>(
    job: &J,
    merged: Vec<J::State>,
    results: Vec<FileResult<J::State>>,
    options: &Options,
) -> Result<Output<J::State>> {
    // The first state is taken as it is: merged into an empty one, it would be copied.
    let mut state = None;
    for partition in merged {
        absorb::<J>(&mut state, partition);
    }
    let mut out = Output { state: (), files: Vec::new(), bad_rows: Vec::new(), skipped: Vec::new() };
    for (index, result) in results.into_iter().enumerate() {
        match result.outcome {
            Some(Outcome::Read(stats)) => {
                for partition in result.states {
                    absorb::<J>(&mut state, partition);
                }
                out.files.push((index, stats));
                out.bad_rows.push(result.logs);
            }
            Some(Outcome::Failed(e)) if e.is_corrupt() && options.skip_corrupt => {
                out.skipped.push(e.to_string())
            }
            Some(Outcome::Failed(e)) => return Err(e.into()),
            // Another file's error stopped the run: that error comes in its turn.
            Some(Outcome::Stopped) | None => {}
        }
    }
    let Output { files, bad_rows, skipped, .. } = out;
    Ok(Output { state: state.unwrap_or_else(|| job.state()), files, bad_rows, skipped })
}

/// Merges `partition` into `into`, or makes it `into` when there is none yet.
fn absorb<J: Job>(into: &mut Option<J::State>, partition: J::State) {
    match into {
        Some(state) => J::merge(state, partition),
        None => *into = Some(partition),
    }
}

/// What every thread of a run shares.
struct Run<'a, J> {
    job: &'a J,
    inputs: &'a Inputs,
    options: &'a Options,
    tally: &'a Tally,
}

impl<J> Clone for Run<'_, J> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<J> Copy for Run<'_, J> {}

/// Per file a worker took (by index), what became of it.
type WorkerDone<S> = Vec<(usize, FileResult<S>)>;

/// Returns the state of the files read completely, merged as they were read (one state for all
/// workers), so memory follows the distinct keys and not the number of files or threads. An opener thread opens the inputs
/// ahead of the workers, largest first.
fn file_per_worker<J: Job>(run: &Run<'_, J>, results: &mut [FileResult<J::State>]) -> Result<Vec<J::State>> {
    let Run { job, inputs, options, tally } = *run;
    let files = inputs.files();
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(files[i].size));
    let stop = AtomicBool::new(false);
    // One state for every file read, whichever worker read it: per worker, the keys seen by
    // both would be held twice until the end.
    let merged: Mutex<Option<J::State>> = Mutex::new(None);
    let (opened_tx, opened_rx) = crossbeam_channel::bounded::<(usize, Result<Source, InputError>)>(
        options.open_ahead.saturating_sub(options.threads).max(1),
    );
    let per_worker: Vec<Result<WorkerDone<J::State>>> = std::thread::scope(|scope| {
        let (stop, merged) = (&stop, &merged);
        scope.spawn(move || {
            for index in order {
                // A send fails once every worker has stopped.
                if stop.load(Ordering::Relaxed)
                    || opened_tx.send((index, inputs.open(&files[index]))).is_err()
                {
                    break;
                }
            }
        });
        let workers: Vec<_> = (0..options.threads.max(1))
            .map(|_| {
                let opened = opened_rx.clone();
                scope.spawn(move || {
                    let mut ingester = job.ingester();
                    let mut chunk = Chunk::new();
                    let mut done = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let Ok((index, source)) = opened.recv() else { break };
                        let file = &files[index];
                        let mut state = job.state();
                        let mut log = BadRowLogger::new(options.log_bad_rows, file);
                        let mut job_error = None;
                        let outcome = source.and_then(|mut source| {
                            while job_error.is_none() && source.fill(&mut chunk)? {
                                tally.lines.fetch_add(chunk.lines, Ordering::Relaxed);
                                job_error =
                                    ingest_chunk(&mut ingester, &mut state, index, &chunk, &mut log).err();
                            }
                            Ok(source.stats())
                        });
                        if let Some(e) = job_error {
                            stop.store(true, Ordering::Relaxed);
                            return Err(e);
                        }
                        let failed =
                            outcome.as_ref().is_err_and(|e| !(e.is_corrupt() && options.skip_corrupt));
                        let logs = log.finish()?;
                        let outcome = match outcome {
                            Ok(stats) => {
                                absorb::<J>(
                                    &mut merged.lock().unwrap_or_else(PoisonError::into_inner),
                                    state,
                                );
                                tally.inputs_done.fetch_add(1, Ordering::Relaxed);
                                Outcome::Read(stats)
                            }
                            // Nothing of a file that failed counts.
                            Err(e) => Outcome::Failed(e),
                        };
                        done.push((index, FileResult { outcome: Some(outcome), states: Vec::new(), logs }));
                        if failed {
                            stop.store(true, Ordering::Relaxed);
                        }
                    }
                    Ok(done)
                })
            })
            .collect();
        drop(opened_rx);
        workers.into_iter().map(|w| w.join().expect("worker thread panicked")).collect()
    });
    for worker in per_worker {
        for (index, result) in worker? {
            results[index] = result;
        }
    }
    Ok(merged.into_inner().unwrap_or_else(PoisonError::into_inner).into_iter().collect())
}

/// One chunk of one file on its way from a reader to a parser.
struct Work {
    file: usize,
    chunk: Chunk,
}

fn inflate_and_parse_apart<J: Job>(run: &Run<'_, J>, results: &mut [FileResult<J::State>]) -> Result<()> {
    let Run { job, inputs, options, .. } = *run;
    let files = inputs.files();
    let parsers = options.threads.saturating_sub(files.len()).max(1);
    // Enough chunks that readers and parsers rarely wait for one another; memory is bounded by
    // the pool (1 MiB each), whatever the size of the files.
    let pool_size = 2 * (parsers + files.len());
    let (free_tx, free_rx) = crossbeam_channel::bounded::<Chunk>(pool_size);
    for _ in 0..pool_size {
        free_tx.send(Chunk::new()).expect("the pool has room");
    }
    let (work_tx, work_rx) = crossbeam_channel::unbounded::<Work>();
    let stop = AtomicBool::new(false);
    let (outcomes, parsed) = std::thread::scope(|scope| {
        let readers: Vec<_> = (0..files.len())
            .map(|index| {
                let (free_rx, free_tx, work_tx, stop) =
                    (free_rx.clone(), free_tx.clone(), work_tx.clone(), &stop);
                scope.spawn(move || read_file(run, index, &free_rx, &free_tx, &work_tx, stop))
            })
            .collect();
        drop(work_tx);
        let parsers: Vec<_> = (0..parsers)
            .map(|_| {
                let (work_rx, free_tx, stop) = (work_rx.clone(), free_tx.clone(), &stop);
                scope.spawn(move || parse_chunks(job, files, &work_rx, &free_tx, options, stop))
            })
            .collect();
        let outcomes: Vec<Outcome> =
            readers.into_iter().map(|r| r.join().expect("reader thread panicked")).collect();
        let parsed: Vec<_> = parsers.into_iter().map(|p| p.join().expect("parser thread panicked")).collect();
        (outcomes, parsed)
    });
    for (result, outcome) in results.iter_mut().zip(outcomes) {
        result.outcome = Some(outcome);
    }
    for per_file in parsed {
        for (result, (state, logs)) in results.iter_mut().zip(per_file?) {
            result.states.push(state);
            result.logs.extend(logs);
        }
    }
    Ok(())
}

fn read_file<J>(
    run: &Run<'_, J>,
    index: usize,
    free: &Receiver<Chunk>,
    recycle: &Sender<Chunk>,
    work: &Sender<Work>,
    stop: &AtomicBool,
) -> Outcome {
    let Run { inputs, options, tally, .. } = *run;
    let mut source = match inputs.open(&inputs.files()[index]) {
        Ok(source) => source,
        Err(e) => return Outcome::Failed(e),
    };
    while !stop.load(Ordering::Relaxed) {
        let mut chunk = free.recv().expect("the pool outlives the readers");
        match source.fill(&mut chunk) {
            Ok(true) => {
                tally.lines.fetch_add(chunk.lines, Ordering::Relaxed);
                work.send(Work { file: index, chunk }).expect("parsers outlive the readers");
            }
            Ok(false) => {
                let _ = recycle.send(chunk);
                tally.inputs_done.fetch_add(1, Ordering::Relaxed);
                return Outcome::Read(source.stats());
            }
            Err(e) => {
                let _ = recycle.send(chunk);
                if !(e.is_corrupt() && options.skip_corrupt) {
                    stop.store(true, Ordering::Relaxed);
                }
                return Outcome::Failed(e);
            }
        }
    }
    Outcome::Stopped
}

/// A parser: per file, the state of the chunks it parsed and their bad-row log. A job's error
/// stops the readers and is returned.
fn parse_chunks<J: Job>(
    job: &J,
    files: &[InputFile],
    work: &Receiver<Work>,
    recycle: &Sender<Chunk>,
    options: &Options,
    stop: &AtomicBool,
) -> Result<Vec<(J::State, Vec<BadRowLog>)>> {
    let mut ingester = job.ingester();
    let mut states: Vec<J::State> = files.iter().map(|_| job.state()).collect();
    let mut logs: Vec<BadRowLogger<'_>> =
        files.iter().map(|f| BadRowLogger::new(options.log_bad_rows, f)).collect();
    let mut failed = None;
    for Work { file, chunk } in work {
        // After an error, keep taking chunks so that no reader waits for a free one forever.
        if failed.is_none() {
            failed = ingest_chunk(&mut ingester, &mut states[file], file, &chunk, &mut logs[file]).err();
            if failed.is_some() {
                stop.store(true, Ordering::Relaxed);
            }
        }
        let _ = recycle.send(chunk);
    }
    if let Some(e) = failed {
        return Err(e);
    }
    states.into_iter().zip(logs).map(|(state, log)| Ok((state, log.finish()?))).collect()
}

/// Logs the bad rows of one file, if asked to, keeping the first write error for later.
struct BadRowLogger<'a> {
    file: &'a InputFile,
    name: String,
    log: Option<BadRowLog>,
    error: Option<std::io::Error>,
}

impl<'a> BadRowLogger<'a> {
    fn new(enabled: bool, file: &'a InputFile) -> Self {
        BadRowLogger { file, name: file.to_string(), log: enabled.then(BadRowLog::new), error: None }
    }

    fn push(&mut self, line_number: u64, error: &RowError, line: &[u8]) {
        if let Some(log) = &mut self.log
            && self.error.is_none()
        {
            self.error = log.push(&self.name, line_number, error, line).err();
        }
    }

    fn finish(self) -> Result<Vec<BadRowLog>> {
        if let Some(e) = self.error {
            return Err(anyhow::Error::new(e).context(format!("logging bad rows of {}", self.file)));
        }
        Ok(self.log.into_iter().collect())
    }
}

/// The thread count: the flag, or the available cores.
pub(crate) fn default_threads(flag: Option<u16>) -> Result<usize> {
    match flag {
        Some(n) => Ok(usize::from(n)),
        None => Ok(std::thread::available_parallelism().context("counting available cores")?.get()),
    }
}
