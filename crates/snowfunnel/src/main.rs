//! The `snowfunnel` command: parses arguments and wires the crates together
//! (input → parse → engine, explain, validate or extract → report; state files between runs); the work itself lives in the
//! library crates.

mod cli;
mod events;
mod exit;
mod experiments;
mod explain;
mod funnels;
mod interrupt;
mod merge;
mod outputs;
mod progress;
mod reports;
mod run;
mod session;
mod state_files;
mod store;
mod validate;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::USAGE } else { 0 });
        }
    };
    if let Err(e) = interrupt::install() {
        eprintln!("snowfunnel: error: cannot handle SIGINT and SIGTERM: {e}");
        return ExitCode::from(exit::FAILURE);
    }
    let result = match &cli.command {
        Command::Run(args) => run::run(args),
        Command::Validate(args) => validate::validate(args),
        Command::Events(args) => events::events(args),
        Command::Merge(args) => merge::merge(args),
        Command::Experiments(args) => experiments::experiments(args),
        Command::Explain(args) => explain::explain(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) if is_broken_pipe(&failure.error) => ExitCode::SUCCESS,
        Err(failure) => {
            // On one line, whatever the names, keys or server messages in it hold.
            let message = format!("{:#}", failure.error);
            eprintln!("snowfunnel: error: {}", snowfunnel_report::terminal_text(&message));
            ExitCode::from(failure.code)
        }
    }
}

/// A closed stdout (`snowfunnel run … | head`) is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}
