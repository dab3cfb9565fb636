//! SIGINT and SIGTERM: an interrupted run stops at once, removes its temporary files and exits
//! with 128 + the signal's number (130, 143), as shells report a process killed by it.
//!
//! The signals are received by a thread of their own, so the clean-up is ordinary code. It
//! waits for a commit under way (renames, a few PutObjects) to end, so that a run's outputs
//! are never half committed by an interrupt; a second signal exits at once.

use std::io::IsTerminal;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::outputs;

/// Starts receiving SIGINT and SIGTERM.
///
/// # Errors
/// When the handlers cannot be installed or the thread cannot start.
pub(crate) fn install() -> std::io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new().name("signals".to_owned()).spawn(move || {
        let mut first = true;
        for signal in signals.forever() {
            if first {
                first = false;
                // Cleaning up may wait for a commit: stay ready for a second signal meanwhile.
                let _ = std::thread::Builder::new().name("interrupt".to_owned()).spawn(move || stop(signal));
            } else {
                std::process::exit(exit_code(signal));
            }
        }
    })?;
    Ok(())
}

/// Removes this run's temporary files, says so, and exits.
fn stop(signal: i32) -> ! {
    let removed = snowfunnel_report::remove_temporary_files();
    let name = if signal == SIGINT { "SIGINT" } else { "SIGTERM" };
    let outcome = if outputs::committed() {
        "after its outputs were committed"
    } else {
        "before committing any output: earlier outputs are as they were"
    };
    // The progress line may be on the terminal: end it first.
    let newline = if std::io::stderr().is_terminal() { "\n" } else { "" };
    eprintln!("{newline}snowfunnel: interrupted by {name} {outcome} ({removed} temporary files removed)");
    std::process::exit(exit_code(signal))
}

fn exit_code(signal: i32) -> i32 {
    128 + signal
}
