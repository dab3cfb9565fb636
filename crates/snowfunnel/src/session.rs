//! What every command that reads enriched events does the same way: resolve the inputs, run a
//! [`Job`] over them on worker threads (with the progress line), total the files, stage the
//! bad-row log, and check the bad-row ratio.
//!
//! [`read_all`] does it all for `validate`; `run` and `events` call [`resolve`] and [`read`]
//! with their own steps in between. Outputs are checked before reading ([`check_outputs`])
//! and staged, never written, here: the commands commit them.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, anyhow};
use snowfunnel_exec::{Options, ReadProgress};
use snowfunnel_ingest::Job;
use snowfunnel_input::{DateWindow, InputOptions, Inputs, Selection, Shard};
use snowfunnel_parse::BadReason;
use snowfunnel_report::{
    AtomicFile, BadRowFormat, BadRowLog, BadRowsWritten, CsvCells, Processor, RunTotals,
};
use snowfunnel_s3::{S3Options, S3Url};

use crate::cli::{BadRowsArgs, BadRowsFormatArg, InputArgs, OutputArgs, S3Args};
use crate::exit::{ExitCodeExt, Failure, USAGE};
use crate::outputs::{Outputs, Role};
use crate::progress;
use crate::store::{Place, Store};

/// What reading the inputs made.
pub(crate) struct Done<S> {
    /// The state of every input read.
    pub(crate) state: S,
    /// Input totals for the summary.
    pub(crate) totals: RunTotals,
    /// The indexes (in `Inputs::files`) of the inputs read completely, in input order.
    pub(crate) read: Vec<usize>,
}

/// Reads every input of `input` (those `window` does not prune) with `job`, and stages the
/// bad-row log in `outputs` when asked to. Returns the merged state and the input totals.
pub(crate) fn read_all<J: Job>(
    job: &J,
    input: &InputArgs,
    output: &OutputArgs,
    store: &Store,
    outputs: &mut Outputs<'_>,
    window: Option<DateWindow>,
    started: Instant,
) -> Result<(J::State, RunTotals), Failure> {
    let inputs = resolve(input, store, window, "the funnels' window", None, Vec::new())?;
    let bad_rows = BadRowsOut { args: &output.bad_rows, cells: output.csv.cells() };
    let done = read(job, &inputs, input, bad_rows, outputs, output.quiet, started)?;
    Ok((done.state, done.totals))
}

/// Checks, before any input is read, that each of `files` (in `--out`, if named) and the
/// bad-row log (if asked for) can be written; see [`Outputs::check`].
pub(crate) fn check_outputs(
    outputs: &mut Outputs<'_>,
    out: Option<&Place>,
    files: &[String],
    bad_rows: Option<&Path>,
) -> Result<(), Failure> {
    if let Some(out) = out {
        for name in files {
            outputs.check(&out.join(name))?;
        }
    }
    if let Some(path) = bad_rows {
        outputs.check(&Place::Local(path.to_owned())).context("--bad-rows")?;
    }
    Ok(())
}

/// Lists the inputs of `input`, those `window` (described as `window_name` when it left
/// nothing to read) does not prune, in `shard` when the run is sharded; S3 inputs through the
/// session of `store`, prefixes of `list_after` only after the key given. Nothing to read is an
/// error, except for a shard (a worker may find none of the inputs in its shard) or a listing
/// that started after a key (an incremental run with nothing new).
pub(crate) fn resolve(
    input: &InputArgs,
    store: &Store,
    window: Option<DateWindow>,
    window_name: &str,
    shard: Option<Shard>,
    list_after: Vec<(S3Url, String)>,
) -> Result<Inputs, Failure> {
    let selection = Selection::new(&input.include, &input.exclude).exit_code(USAGE)?;
    let on_s3 = input.inputs.iter().any(|arg| arg.to_str().is_some_and(S3Url::is_s3));
    let session = if on_s3 { Some(store.session()?) } else { None };
    let listed_after = !list_after.is_empty();
    let input_options = InputOptions {
        selection,
        window,
        s3: store.options().clone(),
        shard,
        session,
        max_line_bytes: input.max_line_bytes,
        list_after,
    };
    let inputs = Inputs::resolve(&input.inputs, &input_options)?;
    if inputs.files().is_empty() && inputs.other_shards() == 0 && !listed_after {
        return Err(no_inputs(&input.inputs, &inputs, window_name).into());
    }
    Ok(inputs)
}

/// Where the bad-row log goes (`--bad-rows`), if anywhere, and how it is written.
#[derive(Clone, Copy)]
pub(crate) struct BadRowsOut<'a> {
    /// `--bad-rows`, `--bad-rows-format`, `--max-bad-rows-bytes`.
    pub(crate) args: &'a BadRowsArgs,
    /// How its CSV text cells are written.
    pub(crate) cells: CsvCells,
}

/// Reads `inputs` with `job` (the progress line unless `quiet`), and stages the bad-row log in
/// `outputs` when `bad_rows` asks for one: it is committed with the other outputs, or alone
/// when the bad-row check fails (it is that failure's diagnosis).
pub(crate) fn read<J: Job>(
    job: &J,
    inputs: &Inputs,
    input: &InputArgs,
    bad_rows: BadRowsOut<'_>,
    outputs: &mut Outputs<'_>,
    quiet: bool,
    started: Instant,
) -> Result<Done<J::State>, Failure> {
    let log = bad_rows.args.file.as_ref().map(|_| bad_row_log(bad_rows));
    let options = Options {
        threads: default_threads(input.threads)?,
        bad_rows: log.as_ref(),
        max_line_bytes: input.max_line_bytes as u64,
        skip_corrupt: input.skip_corrupt_files,
        open_ahead: usize::from(input.s3.s3_concurrency),
    };
    let counted = ReadProgress::default();
    let read = progress::while_running(!quiet, inputs, &counted, started, || {
        snowfunnel_exec::execute(job, inputs, &options, &counted).map_err(anyhow::Error::from)
    })?;
    let mut totals = RunTotals {
        files: read.files.len() as u64,
        stored_bytes: read.files.iter().map(|(_, f)| f.stored_bytes).sum(),
        bytes: read.files.iter().map(|(_, f)| f.bytes).sum(),
        skipped_files: read.skipped,
        deselected: inputs.deselected(),
        pruned: inputs.pruned(),
        other_shards: inputs.other_shards(),
        elapsed: started.elapsed(),
        ..RunTotals::default()
    };
    if let (Some(log), Some(path)) = (log, &bad_rows.args.file) {
        let read_files: Vec<usize> = read.files.iter().map(|(index, _)| *index).collect();
        let written = stage_bad_rows(log, &read_files, path, outputs)?;
        if written.dropped_rows > 0 {
            eprintln!("snowfunnel: warning: {}", dropped_text(path, &written));
        }
        totals.bad_rows_log = Some((path.display().to_string(), written));
    }
    Ok(Done { state: read.state, totals, read: read.files.iter().map(|(index, _)| *index).collect() })
}

/// An empty bad-row log as `out` asks for.
fn bad_row_log(out: BadRowsOut<'_>) -> BadRowLog {
    let args = out.args;
    let format = match args.bad_rows_format {
        BadRowsFormatArg::Csv => BadRowFormat::Csv,
        BadRowsFormatArg::Snowplow => BadRowFormat::Snowplow,
    };
    let processor = Processor {
        artifact: env!("CARGO_PKG_NAME").to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    BadRowLog::new(format, out.cells, args.max_bad_rows_bytes, processor)
}

/// Writes the rows of `log` from the inputs at `read_files` (those read completely, ascending)
/// beside `path`, and stages the file in `outputs`.
fn stage_bad_rows(
    log: BadRowLog,
    read_files: &[usize],
    path: &Path,
    outputs: &mut Outputs<'_>,
) -> anyhow::Result<BadRowsWritten> {
    let mut file = AtomicFile::create(path).with_context(|| format!("creating {}", path.display()))?;
    let written = log
        .write(|index| read_files.binary_search(&index).is_ok(), &mut file)
        .with_context(|| format!("writing {}", path.display()))?;
    outputs.stage_file(Role::BadRows, file)?;
    Ok(written)
}

/// What a bad-row log left out, for a warning.
fn dropped_text(path: &Path, written: &BadRowsWritten) -> String {
    format!(
        "{} holds the first {} bad rows ({} bytes): {} more ({} bytes) are over --max-bad-rows-bytes {} and left out",
        path.display(),
        written.rows,
        written.bytes,
        written.dropped_rows,
        written.dropped_bytes,
        written.cap
    )
}

/// Fails when bad rows exceed `max` of the lines, naming the reasons; `consequence` says what
/// the failure means (`no report written`).
pub(crate) fn check_bad_ratio(
    lines: u64,
    bad_by_reason: impl Iterator<Item = (BadReason, u64)>,
    max: f64,
    consequence: &str,
) -> anyhow::Result<()> {
    let reasons: Vec<(BadReason, u64)> = bad_by_reason.collect();
    let bad: u64 = reasons.iter().map(|(_, n)| n).sum();
    #[allow(clippy::cast_precision_loss)]
    let ratio = if lines == 0 { 0.0 } else { bad as f64 / lines as f64 };
    if ratio <= max {
        return Ok(());
    }
    let reasons: Vec<String> = reasons.iter().map(|(r, n)| format!("{} {n}", r.code())).collect();
    Err(anyhow!(
        "{bad} of {lines} lines are bad rows ({:.2}%), over --max-bad-ratio {max} ({}); {consequence} (see --bad-rows FILE)",
        ratio * 100.0,
        reasons.join(", ")
    ))
}

/// The S3 client options of the `--endpoint-url`, `--region`... flags.
pub(crate) fn s3_options(args: &S3Args) -> S3Options {
    S3Options {
        endpoint_url: args.endpoint_url.clone(),
        force_path_style: args.s3_path_style,
        region: args.region.clone(),
        concurrency: usize::from(args.s3_concurrency),
        ..S3Options::default()
    }
}

/// Why there is nothing to read.
fn no_inputs(named: &[PathBuf], inputs: &Inputs, window_name: &str) -> anyhow::Error {
    let named = named.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
    let mut left_out = Vec::new();
    if inputs.deselected() > 0 {
        left_out.push(format!("{} not selected by --include/--exclude", inputs.deselected()));
    }
    if inputs.pruned() > 0 {
        left_out.push(format!("{} dated outside {window_name} (--no-prune reads them)", inputs.pruned()));
    }
    if left_out.is_empty() {
        anyhow!("no input files found in {named}")
    } else {
        anyhow!("no inputs left to read in {named}: {}", left_out.join(", "))
    }
}

/// The thread count: the flag, or the available cores.
fn default_threads(flag: Option<u16>) -> anyhow::Result<usize> {
    match flag {
        Some(n) => Ok(usize::from(n)),
        None => Ok(std::thread::available_parallelism().context("counting available cores")?.get()),
    }
}
