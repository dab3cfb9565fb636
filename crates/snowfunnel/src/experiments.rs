//! `snowfunnel experiments`: the experiments of the inputs, their variants and their events by
//! kind with counts, on stdout, to write a funnel file from. The validation job collects them
//! (`snowfunnel_validate::Scope`); nothing is written but stdout, and bad rows are only counted.

use std::io::Write;
use std::time::Instant;

use snowfunnel_report::{DEFAULT_MAX_BAD_ROWS_BYTES, experiments_text};
use snowfunnel_validate::Scope;

use crate::cli::{BadRowsArgs, BadRowsFormatArg, ExperimentsArgs};
use crate::exit::Failure;
use crate::outputs::Outputs;
use crate::session::{BadRowsOut, read, resolve, s3_options};
use crate::store::Store;

pub(crate) fn experiments(args: &ExperimentsArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let scope = Scope::only(&args.experiments);
    let store = Store::new(s3_options(&args.input.s3));
    let inputs = resolve(&args.input, &store, None, "no window", None, Vec::new())?;
    let mut outputs = Outputs::new(&store);
    let no_log = BadRowsArgs {
        file: None,
        bad_rows_format: BadRowsFormatArg::Csv,
        max_bad_rows_bytes: DEFAULT_MAX_BAD_ROWS_BYTES,
    };
    let bad_rows = BadRowsOut { args: &no_log, cells: Default::default() };
    let mut done = read(&scope, &inputs, &args.input, bad_rows, &mut outputs, false, started)?;
    let report = done.state.report();
    let mut stdout = std::io::stdout().lock();
    write!(stdout, "{}", experiments_text(&report))?;
    stdout.flush()?;
    Ok(())
}
