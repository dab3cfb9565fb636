//! The schedule with fewer inputs than threads: a reader thread per input inflates it into
//! chunks of whole lines, parser threads take the chunks as they come.

use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Receiver, Sender};
use snowfunnel_ingest::Job;
use snowfunnel_input::{Chunk, InputFile};

use crate::chunk::{BadRowLogger, ingest_chunk};
use crate::outcome::{FileResult, Outcome, stops_the_run};
use crate::{ExecError, Options, Run};

/// One chunk of one input on its way from a reader to a parser.
struct Work {
    file: usize,
    chunk: Chunk,
}

/// Reads every input at once, each on its own thread, and parses the chunks on the remaining
/// threads (at least one); fills `results` with each input's outcome and, per parser, its
/// state of that input.
pub(crate) fn inflate_and_parse_apart<J: Job>(
    run: &Run<'_, J>,
    results: &mut [FileResult<J::State>],
) -> Result<(), ExecError> {
    let Run { job, inputs, options, .. } = *run;
    let files = inputs.files();
    let parsers = options.threads.saturating_sub(files.len()).max(1);
    // Enough chunks that readers and parsers rarely wait for one another; memory is bounded by
    // the pool (1 MiB each), whatever the size of the inputs.
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

/// A reader: fills chunks from the pool with the lines of the input at `index` and sends them
/// to the parsers, until the input ends, fails, or the run stops.
fn read_file<J>(
    run: &Run<'_, J>,
    index: usize,
    free: &Receiver<Chunk>,
    recycle: &Sender<Chunk>,
    work: &Sender<Work>,
    stop: &AtomicBool,
) -> Outcome {
    let Run { inputs, options, progress, .. } = *run;
    let mut source = match inputs.open(&inputs.files()[index]) {
        Ok(source) => source,
        Err(e) => return Outcome::Failed(e),
    };
    while !stop.load(Ordering::Relaxed) {
        let mut chunk = free.recv().expect("the pool outlives the readers");
        match source.fill(&mut chunk) {
            Ok(true) => {
                progress.lines.fetch_add(chunk.lines, Ordering::Relaxed);
                work.send(Work { file: index, chunk }).expect("parsers outlive the readers");
            }
            Ok(false) => {
                let _ = recycle.send(chunk);
                progress.inputs_done.fetch_add(1, Ordering::Relaxed);
                return Outcome::Read(source.stats());
            }
            Err(e) => {
                let _ = recycle.send(chunk);
                if stops_the_run(&e, options) {
                    stop.store(true, Ordering::Relaxed);
                }
                return Outcome::Failed(e);
            }
        }
    }
    Outcome::Stopped
}

/// A parser: per input, the state of the chunks it parsed. A job's error stops the readers and
/// is returned.
fn parse_chunks<J: Job>(
    job: &J,
    files: &[InputFile],
    work: &Receiver<Work>,
    recycle: &Sender<Chunk>,
    options: &Options<'_>,
    stop: &AtomicBool,
) -> Result<Vec<J::State>, ExecError> {
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
