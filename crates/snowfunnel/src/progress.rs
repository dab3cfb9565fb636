//! The progress line on stderr while a run reads its inputs: only on a terminal, never with
//! `--quiet`, refreshed every second, cleared when the run ends.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use snowfunnel_input::Inputs;
use snowfunnel_report::{Progress, progress_line};

use snowfunnel_exec::ReadProgress;

const EVERY: Duration = Duration::from_secs(1);

/// Runs `work`, showing progress meanwhile when `wanted` and stderr is a terminal.
pub(crate) fn while_running<T>(
    wanted: bool,
    inputs: &Inputs,
    counted: &ReadProgress,
    started: Instant,
    work: impl FnOnce() -> T,
) -> T {
    if !wanted || !std::io::stderr().is_terminal() {
        return work();
    }
    let (done_tx, done_rx) = crossbeam_channel::bounded::<()>(0);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut shown = false;
            // Disconnected once `work` returned.
            while done_rx.recv_timeout(EVERY).is_err_and(|e| e.is_timeout()) {
                let line = progress_line(&progress(inputs, counted, started));
                let _ = write!(std::io::stderr().lock(), "\r\x1b[2K{line}");
                shown = true;
            }
            if shown {
                let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
            }
        });
        let result = work();
        drop(done_tx);
        result
    })
}

fn progress(inputs: &Inputs, counted: &ReadProgress, started: Instant) -> Progress {
    use std::sync::atomic::Ordering::Relaxed;
    Progress {
        inputs_done: counted.inputs_done.load(Relaxed),
        inputs: inputs.files().len() as u64,
        stored_read: inputs.read_bytes(),
        stored_total: inputs.files().iter().map(|f| f.size).sum(),
        lines: counted.lines.load(Relaxed),
        elapsed: started.elapsed(),
    }
}
