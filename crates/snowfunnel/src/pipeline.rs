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
//! and the bad-row log keeps the first rows in input order, so output does not depend on the
//! thread count. A line over `--max-line-bytes` reaches the job as a bad row it counts
//! ([`Ingest::reject`]), never as a line to parse. Inputs are files or S3 objects alike: an object's body streams in while
//! it is parsed, and objects are opened ahead of the workers (`open_ahead`) so that downloads
//! overlap with parsing.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use anyhow::{Context, Result};
use crossbeam_channel::{Receiver, Sender};
use snowfunnel_engine::{Ingester, Plan, State};
use snowfunnel_input::{Chunk, FileStats, InputError, InputFile, Inputs, Line, Source};
use snowfunnel_parse::RowError;
use snowfunnel_report::{BadRowLog, BadRowWriter};
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

    /// Counts a line that is not parsed (longer than `--max-line-bytes`) as a bad row of
    /// `error`'s reason.
    fn reject(&mut self, state: &mut S, error: &RowError);

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
    chunk.for_each_line(|number, line| match line {
        Line::Whole(line) => {
            if let Err(e) = ingester.ingest(state, line) {
                log.push(file, number, &e, line);
            }
        }
        Line::TooLong { start, bytes } => {
            let e = RowError::LineTooLong { bytes, limit: log.max_line_bytes, kept: start.len() as u64 };
            ingester.reject(state, &e);
            log.push(file, number, &e, start);
        }
    });
    log.end_chunk()?;
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

    fn reject(&mut self, state: &mut State, error: &RowError) {
        Ingester::reject(self, state, error);
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

    fn reject(&mut self, state: &mut ValidateState, error: &RowError) {
        Validator::reject(self, state, error);
    }
}

/// How to run.
pub(crate) struct Options<'a> {
    pub(crate) threads: usize,
    /// Where bad rows go, if anywhere.
    pub(crate) bad_rows: Option<&'a BadRowLog>,
    /// `--max-line-bytes`, for the bad rows of longer lines (the inputs skip them).
    pub(crate) max_line_bytes: u64,
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

/// Per file: its outcome, and its partial states not yet merged.
struct FileResult<S> {
    outcome: Option<Outcome>,
    states: Vec<S>,
}

/// Processes every input with `options.threads` threads.
pub(crate) fn process<J: Job>(
    job: &J,
    inputs: &Inputs,
    options: &Options<'_>,
    tally: &Tally,
) -> Result<Output<J::State>> {
    let files = inputs.files();
    let mut results: Vec<FileResult<J::State>> =
        files.iter().map(|_| FileResult { outcome: None, states: Vec::new() }).collect();
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
    options: &Options<'_>,
) -> Result<Output<J::State>> {
    // The first state is taken as it is: merged into an empty one, it would be copied.
    let mut state = None;
    for partition in merged {
        absorb::<J>(&mut state, partition);
    }
    let mut out = Output { state: (), files: Vec::new(), skipped: Vec::new() };
    for (index, result) in results.into_iter().enumerate() {
        match result.outcome {
            Some(Outcome::Read(stats)) => {
                for partition in result.states {
                    absorb::<J>(&mut state, partition);
                }
                out.files.push((index, stats));
            }
            Some(Outcome::Failed(e)) if e.is_corrupt() && options.skip_corrupt => {
                out.skipped.push(e.to_string())
            }
            Some(Outcome::Failed(e)) => return Err(e.into()),
            // Another file's error stopped the run: that error comes in its turn.
            Some(Outcome::Stopped) | None => {}
        }
    }
    let Output { files, skipped, .. } = out;
    Ok(Output { state: state.unwrap_or_else(|| job.state()), files, skipped })
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
    options: &'a Options<'a>,
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
                    let mut log = BadRowLogger::new(options, files);
                    while !stop.load(Ordering::Relaxed) {
                        let Ok((index, source)) = opened.recv() else { break };
                        let mut state = job.state();
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
                        done.push((index, FileResult { outcome: Some(outcome), states: Vec::new() }));
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
        for (result, state) in results.iter_mut().zip(per_file?) {
            result.states.push(state);
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

/// A parser: per file, the state of the chunks it parsed. A job's error stops the readers and
/// is returned.
fn parse_chunks<J: Job>(
    job: &J,
    files: &[InputFile],
    work: &Receiver<Work>,
    recycle: &Sender<Chunk>,
    options: &Options<'_>,
    stop: &AtomicBool,
) -> Result<Vec<J::State>> {
    let mut ingester = job.ingester();
    let mut states: Vec<J::State> = files.iter().map(|_| job.state()).collect();
    let mut log = BadRowLogger::new(options, files);
    let mut failed = None;
    for Work { file, chunk } in work {
        // After an error, keep taking chunks so that no reader waits for a free one forever.
        if failed.is_none() {
            failed = ingest_chunk(&mut ingester, &mut states[file], file, &chunk, &mut log).err();
            if failed.is_some() {
                stop.store(true, Ordering::Relaxed);
            }
        }
        let _ = recycle.send(chunk);
    }
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(states)
}

/// A thread's bad-row logging, if asked for: rows go to the run's log a chunk at a time.
struct BadRowLogger<'a> {
    files: &'a [InputFile],
    writer: Option<BadRowWriter<'a>>,
    /// The file of the rows being logged, and its name.
    name: Option<(usize, String)>,
    max_line_bytes: u64,
    /// The first row that could not be logged, for the end of the chunk.
    error: Option<std::io::Error>,
}

impl<'a> BadRowLogger<'a> {
    fn new(options: &Options<'a>, files: &'a [InputFile]) -> Self {
        let writer = options.bad_rows.map(BadRowLog::writer);
        BadRowLogger { files, writer, name: None, max_line_bytes: options.max_line_bytes, error: None }
    }

    /// Logs line `line_number` of the file at `file`, rejected for `error`.
    fn push(&mut self, file: usize, line_number: u64, error: &RowError, line: &[u8]) {
        let Some(writer) = &mut self.writer else { return };
        if self.name.as_ref().is_none_or(|(at, _)| *at != file) {
            self.name = Some((file, self.files[file].to_string()));
        }
        let name = self.name.as_ref().map_or("", |(_, name)| name.as_str());
        if let Err(e) = writer.push(file, name, line_number, error, line) {
            self.error.get_or_insert(e);
        }
    }

    /// Hands the chunk's rows over to the run's log.
    fn end_chunk(&mut self) -> Result<()> {
        if let Some(e) = self.error.take() {
            return Err(anyhow::Error::new(e).context("logging bad rows"));
        }
        if let Some(writer) = &mut self.writer {
            writer.flush().context("logging bad rows")?;
        }
        Ok(())
    }
}

/// The thread count: the flag, or the available cores.
pub(crate) fn default_threads(flag: Option<u16>) -> Result<usize> {
    match flag {
        Some(n) => Ok(usize::from(n)),
        None => Ok(std::thread::available_parallelism().context("counting available cores")?.get()),
    }
}
