//! The schedule with at least as many inputs as threads: a whole input per worker at a time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use snowfunnel_ingest::Job;
use snowfunnel_input::{Chunk, InputError, Source};

use crate::chunk::{BadRowLogger, ingest_chunk};
use crate::outcome::{FileResult, Outcome, absorb, stops_the_run};
use crate::{ExecError, Run};

/// Per input a worker took (by index), what became of it.
type WorkerDone<S> = Vec<(usize, FileResult<S>)>;

/// Returns the state of the inputs read completely, merged as they were read (one state for all
/// workers), so memory follows the distinct keys and not the number of inputs or threads. An
/// opener thread opens the inputs ahead of the workers, largest first.
pub(crate) fn file_per_worker<J: Job>(
    run: &Run<'_, J>,
    results: &mut [FileResult<J::State>],
) -> Result<Vec<J::State>, ExecError> {
    let Run { job, inputs, options, progress } = *run;
    let files = inputs.files();
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(files[i].size));
    let stop = AtomicBool::new(false);
    // One state for every input read, whichever worker read it: per worker, the keys seen by
    // both would be held twice until the end.
    let merged: Mutex<Option<J::State>> = Mutex::new(None);
    let (opened_tx, opened_rx) = crossbeam_channel::bounded::<(usize, Result<Source, InputError>)>(
        options.open_ahead.saturating_sub(options.threads).max(1),
    );
    let per_worker: Vec<Result<WorkerDone<J::State>, ExecError>> = std::thread::scope(|scope| {
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
                                progress.lines.fetch_add(chunk.lines, Ordering::Relaxed);
                                job_error =
                                    ingest_chunk(&mut ingester, &mut state, index, &chunk, &mut log).err();
                            }
                            Ok(source.stats())
                        });
                        if let Some(e) = job_error {
                            stop.store(true, Ordering::Relaxed);
                            return Err(e);
                        }
                        let failed = outcome.as_ref().is_err_and(|e| stops_the_run(e, options));
                        let outcome = match outcome {
                            Ok(stats) => {
                                absorb::<J>(
                                    &mut merged.lock().unwrap_or_else(PoisonError::into_inner),
                                    state,
                                );
                                progress.inputs_done.fetch_add(1, Ordering::Relaxed);
                                Outcome::Read(stats)
                            }
                            // Nothing of an input that failed counts.
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
