//! What became of each input, and the merge of the partitions of those read completely.

use snowfunnel_ingest::Job;
use snowfunnel_input::{FileStats, InputError};

use crate::{ExecError, Options, Output};

/// What became of one input.
pub(crate) enum Outcome {
    Read(FileStats),
    Failed(InputError),
    /// Left unfinished because another input's error stopped the run.
    Stopped,
}

/// Per input: its outcome, and its partial states not yet merged.
pub(crate) struct FileResult<S> {
    pub(crate) outcome: Option<Outcome>,
    pub(crate) states: Vec<S>,
}

/// A result per input, none known yet.
pub(crate) fn results<S>(files: usize) -> Vec<FileResult<S>> {
    (0..files).map(|_| FileResult { outcome: None, states: Vec::new() }).collect()
}

/// Merges the states already merged per worker and the per-input results in input order, or
/// returns the first input's error.
pub(crate) fn assemble<J: Job>(
    job: &J,
    merged: Vec<J::State>,
    results: Vec<FileResult<J::State>>,
    options: &Options<'_>,
) -> Result<Output<J::State>, ExecError> {
    // The first state is taken as it is: merged into an empty one, it would be copied.
    let mut state = None;
    for partition in merged {
        absorb::<J>(&mut state, partition);
    }
    let (mut files, mut skipped) = (Vec::new(), Vec::new());
    for (index, result) in results.into_iter().enumerate() {
        match result.outcome {
            Some(Outcome::Read(stats)) => {
                for partition in result.states {
                    absorb::<J>(&mut state, partition);
                }
                files.push((index, stats));
            }
            Some(Outcome::Failed(e)) if e.is_corrupt() && options.skip_corrupt => skipped.push(e.to_string()),
            Some(Outcome::Failed(e)) => return Err(e.into()),
            // Another input's error stopped the run: that error comes in its turn.
            Some(Outcome::Stopped) | None => {}
        }
    }
    Ok(Output { state: state.unwrap_or_else(|| job.state()), files, skipped })
}

/// Merges `partition` into `into`, or makes it `into` when there is none yet.
pub(crate) fn absorb<J: Job>(into: &mut Option<J::State>, partition: J::State) {
    match into {
        Some(state) => J::merge(state, partition),
        None => *into = Some(partition),
    }
}

/// Whether a failed read stops the run: all failures but a corrupt input that is skipped.
pub(crate) fn stops_the_run(error: &InputError, options: &Options<'_>) -> bool {
    !(error.is_corrupt() && options.skip_corrupt)
}
