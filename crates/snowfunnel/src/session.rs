//! What every command that reads enriched events does the same way: resolve the inputs, run a
//! [`Job`] over them on worker threads (with the progress line), total the files, write the
//! bad-row log, and check the bad-row ratio.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, anyhow};
use snowfunnel_input::{DateWindow, InputOptions, Inputs, S3Options, Selection};
use snowfunnel_parse::BadReason;
use snowfunnel_report::{AtomicFile, BadRowLog, RunTotals};

use crate::cli::{InputArgs, OutputArgs, S3Args};
use crate::exit::{ExitCodeExt, Failure, USAGE};
use crate::pipeline::{self, Job, Options, Tally, default_threads};
use crate::progress;

/// Reads every input of `input` (those `window` does not prune) with `job`, creates the output
/// directory, and writes the bad-row log when asked to: it is the diagnosis of a failed
/// bad-row check, so it is written before the check, either way. Returns the merged state and
/// the input totals.
pub(crate) fn read_all<J: Job>(
    job: &J,
    input: &InputArgs,
    output: &OutputArgs,
    window: Option<DateWindow>,
    started: Instant,
) -> Result<(J::State, RunTotals), Failure> {
    let input_options = InputOptions {
        selection: Selection::new(&input.include, &input.exclude).exit_code(USAGE)?,
        window,
        s3: s3_options(&input.s3),
    };
    let inputs = Inputs::resolve(&input.inputs, &input_options)?;
    if inputs.files().is_empty() {
        return Err(no_inputs(&input.inputs, &inputs).into());
    }
    std::fs::create_dir_all(&output.out)
        .with_context(|| format!("creating output directory {}", output.out.display()))?;

    let options = Options {
        threads: default_threads(input.threads)?,
        log_bad_rows: output.bad_rows.is_some(),
        skip_corrupt: input.skip_corrupt_files,
        open_ahead: usize::from(input.s3.s3_concurrency),
    };
    let tally = Tally::default();
    let read = progress::while_running(!output.quiet, &inputs, &tally, started, || {
        pipeline::process(job, &inputs, &options, &tally)
    })?;
    let totals = RunTotals {
        files: read.files.len() as u64,
        stored_bytes: read.files.iter().map(|f| f.stored_bytes).sum(),
        bytes: read.files.iter().map(|f| f.bytes).sum(),
        skipped_files: read.skipped,
        deselected: inputs.deselected(),
        pruned: inputs.pruned(),
        elapsed: started.elapsed(),
    };
    if let Some(path) = &output.bad_rows {
        let mut file = AtomicFile::create(path).with_context(|| format!("creating {}", path.display()))?;
        BadRowLog::write_all(read.bad_rows, &mut file)
            .with_context(|| format!("writing {}", path.display()))?;
        file.commit().with_context(|| format!("writing {}", path.display()))?;
    }
    Ok((read.state, totals))
}

/// Fails when bad rows exceed `max` of the lines, naming the reasons.
pub(crate) fn check_bad_ratio(
    lines: u64,
    bad_by_reason: impl Iterator<Item = (BadReason, u64)>,
    max: f64,
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
        "{bad} of {lines} lines are bad rows ({:.2}%), over --max-bad-ratio {max} ({}); no report written (see --bad-rows FILE)",
        ratio * 100.0,
        reasons.join(", ")
    ))
}

fn s3_options(args: &S3Args) -> S3Options {
    S3Options {
        endpoint_url: args.endpoint_url.clone(),
        force_path_style: args.s3_path_style,
        region: args.region.clone(),
        concurrency: usize::from(args.s3_concurrency),
        ..S3Options::default()
    }
}

/// Why there is nothing to read.
fn no_inputs(named: &[PathBuf], inputs: &Inputs) -> anyhow::Error {
    let named = named.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
    let mut left_out = Vec::new();
    if inputs.deselected() > 0 {
        left_out.push(format!("{} not selected by --include/--exclude", inputs.deselected()));
    }
    if inputs.pruned() > 0 {
        left_out
            .push(format!("{} dated outside the funnels' window (--no-prune reads them)", inputs.pruned()));
    }
    if left_out.is_empty() {
        anyhow!("no input files found in {named}")
    } else {
        anyhow!("no inputs left to read in {named}: {}", left_out.join(", "))
    }
}
