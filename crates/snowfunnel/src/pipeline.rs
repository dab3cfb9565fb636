//! Running the engine over input files on worker threads.
//!
//! One file is one partition: a worker builds its state, then merges it into the worker's
//! accumulated state only once the file was read completely, so a corrupt file skipped with
//! `--skip-corrupt-files` leaves no trace in the counts. Workers take the largest files first
//! to even out the load, and merge their states at the end.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use anyhow::{Context, Result};
use snowfunnel_engine::{Ingester, Plan, State};
use snowfunnel_input::{FileStats, InputError, InputFile, LineSplitter, read_lines};
use snowfunnel_report::BadRowLog;

/// How to run.
pub(crate) struct Options {
    pub(crate) threads: usize,
    pub(crate) log_bad_rows: bool,
    pub(crate) skip_corrupt: bool,
}

/// What a run over all files produced.
pub(crate) struct Output {
    pub(crate) state: State,
    /// Per file read completely, in input order.
    pub(crate) files: Vec<FileStats>,
    /// Bad-row logs in input order (empty unless bad rows are logged).
    pub(crate) bad_rows: Vec<BadRowLog>,
    /// Corrupt files skipped, with the reason, in input order.
    pub(crate) skipped: Vec<String>,
}

enum Outcome {
    Read(FileStats, Option<Box<BadRowLog>>),
    Skipped(String),
}

struct WorkerOutput {
    state: State,
    outcomes: Vec<(usize, Outcome)>,
    error: Option<(usize, anyhow::Error)>,
}

/// Processes `files` with `options.threads` workers.
pub(crate) fn process(plan: &Plan, files: &[InputFile], options: &Options) -> Result<Output> {
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(files[i].size));
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let workers = options.threads.clamp(1, files.len().max(1));
    let outputs: Vec<WorkerOutput> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| scope.spawn(|| worker(plan, files, &order, &next, &stop, options)))
            .collect();
        handles.into_iter().map(|h| h.join().expect("worker thread panicked")).collect()
    });

    let mut state = State::new(plan);
    let mut outcomes = Vec::with_capacity(files.len());
    let mut first_error: Option<(usize, anyhow::Error)> = None;
    for output in outputs {
        state.merge(output.state);
        outcomes.extend(output.outcomes);
        if let Some((i, e)) = output.error
            && first_error.as_ref().is_none_or(|(j, _)| i < *j)
        {
            first_error = Some((i, e));
        }
    }
    if let Some((_, e)) = first_error {
        return Err(e);
    }
    outcomes.sort_by_key(|(i, _)| *i);
    let mut out = Output { state, files: Vec::new(), bad_rows: Vec::new(), skipped: Vec::new() };
    for (_, outcome) in outcomes {
        match outcome {
            Outcome::Read(stats, log) => {
                out.files.push(stats);
                out.bad_rows.extend(log.map(|l| *l));
            }
            Outcome::Skipped(reason) => out.skipped.push(reason),
        }
    }
    Ok(out)
}

fn worker(
    plan: &Plan,
    files: &[InputFile],
    order: &[usize],
    next: &AtomicUsize,
    stop: &AtomicBool,
    options: &Options,
) -> WorkerOutput {
    let mut ingester = Ingester::new(plan);
    let mut splitter = LineSplitter::new();
    let mut out = WorkerOutput { state: State::new(plan), outcomes: Vec::new(), error: None };
    while !stop.load(Ordering::Relaxed) {
        let Some(&index) = order.get(next.fetch_add(1, Ordering::Relaxed)) else {
            break;
        };
        let file = &files[index];
        match read_file(&mut ingester, &mut splitter, file, options.log_bad_rows) {
            Ok((stats, log)) => {
                out.state.merge(ingester.take_state());
                out.outcomes.push((index, Outcome::Read(stats, log.map(Box::new))));
            }
            Err(Failed::Input(e)) if e.is_corrupt() && options.skip_corrupt => {
                drop(ingester.take_state());
                out.outcomes.push((index, Outcome::Skipped(e.to_string())));
            }
            Err(failed) => {
                stop.store(true, Ordering::Relaxed);
                out.error = Some((index, failed.into_anyhow(file)));
                break;
            }
        }
    }
    out
}

enum Failed {
    Input(InputError),
    BadRowLog(std::io::Error),
}

impl Failed {
    fn into_anyhow(self, file: &InputFile) -> anyhow::Error {
        match self {
            Failed::Input(e) => e.into(),
            Failed::BadRowLog(e) => {
                anyhow::Error::new(e).context(format!("logging bad rows of {}", file.path.display()))
            }
        }
    }
}

fn read_file(
    ingester: &mut Ingester<'_>,
    splitter: &mut LineSplitter,
    file: &InputFile,
    log_bad_rows: bool,
) -> Result<(FileStats, Option<BadRowLog>), Failed> {
    let name = file.path.display().to_string();
    let mut log = log_bad_rows.then(BadRowLog::new);
    let mut log_error = None;
    let stats = read_lines(file, splitter, |line_number, line| {
        if let Err(e) = ingester.ingest(line)
            && let Some(log) = &mut log
            && log_error.is_none()
        {
            log_error = log.push(&name, line_number, &e, line).err();
        }
    })
    .map_err(Failed::Input)?;
    if let Some(e) = log_error {
        return Err(Failed::BadRowLog(e));
    }
    Ok((stats, log))
}

/// The thread count: the flag, or the available cores.
pub(crate) fn default_threads(flag: Option<u16>) -> Result<usize> {
    match flag {
        Some(n) => Ok(usize::from(n)),
        None => Ok(std::thread::available_parallelism().context("counting available cores")?.get()),
    }
}
