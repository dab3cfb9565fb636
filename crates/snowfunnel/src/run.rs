//! `snowfunnel run`: definitions and inputs in, funnel CSVs, tables and a summary out.

use std::io::Write;
use std::time::Instant;

use anyhow::{Context, anyhow};
use snowfunnel_engine::{Ingester, Plan, State};
use snowfunnel_input::Chunk;
use snowfunnel_input::{DateWindow, InputOptions, Inputs, S3Options, Selection};
use snowfunnel_report::{
    AtomicFile, BadRowLog, RunTotals, commit_all, funnel_csv, funnel_table, summary_text,
};

use snowfunnel_parse::BadReason;

use crate::cli::{InputArgs, RunArgs, S3Args};
use crate::exit::{BAD_DATA, ExitCodeExt, Failure, USAGE};
use crate::funnels::load_funnels;
use crate::pipeline::{self, BadRowLogger, Job, Options, Tally, default_threads};
use crate::progress;

pub(crate) fn run(args: &RunArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let funnels = load_funnels(&args.funnels).exit_code(USAGE)?;
    let plan = Plan::new(funnels);
    let input = &args.input;
    let inputs = resolve_inputs(input, plan.time_window(), "the funnels' window")?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating output directory {}", args.out.display()))?;

    let options = pipeline_options(input)?;
    let tally = Tally::default();
    let output = progress::while_running(!args.quiet, &inputs, &tally, started, || {
        pipeline::process(&Funnels { plan: &plan }, &inputs, &options, &tally)
    })?;
    let mut state = State::new(&plan);
    for part in output.running.into_iter().chain(output.parts.into_iter().flatten()) {
        state.merge(part);
    }
    let report = state.report(&plan);
    let totals = RunTotals {
        files: output.files.len() as u64,
        stored_bytes: output.files.iter().map(|f| f.stored_bytes).sum(),
        bytes: output.files.iter().map(|f| f.bytes).sum(),
        skipped_files: output.skipped,
        deselected: inputs.deselected(),
        pruned: inputs.pruned(),
        elapsed: started.elapsed(),
    };

    // The bad-row log is the diagnosis of a failed bad-row check, so it is written either way.
    write_bad_rows(input, output.bad_rows)?;
    let c = &report.counters;
    check_bad_ratio(c.bad_rows(), c.lines, c.bad_by_reason(), input.max_bad_ratio, "no report written")
        .exit_code(BAD_DATA)?;

    let mut pending = Vec::with_capacity(report.funnels.len());
    for funnel in &report.funnels {
        let path = args.out.join(format!("{}.csv", funnel.name));
        let mut file = AtomicFile::create(&path).with_context(|| format!("creating {}", path.display()))?;
        funnel_csv(funnel, &mut file).with_context(|| format!("writing {}", path.display()))?;
        pending.push(file);
    }
    commit_all(pending)
        .map_err(|(path, e)| anyhow::Error::new(e).context(format!("writing {}", path.display())))?;

    if !args.quiet {
        let mut stdout = std::io::stdout().lock();
        for funnel in &report.funnels {
            writeln!(stdout, "{}", funnel_table(funnel))?;
        }
        write!(stdout, "{}", summary_text(&report, &totals))?;
        writeln!(
            stdout,
            "  {:<18} {} funnel CSV(s) in {}",
            "wrote",
            report.funnels.len(),
            args.out.display()
        )?;
        stdout.flush()?;
    }
    Ok(())
}

/// The funnel engine as a pipeline job: a state per file, merged into the worker's as soon as
/// the file is read, so memory follows the distinct keys and not the number of files.
struct Funnels<'p> {
    plan: &'p Plan,
}

impl<'p> Job for Funnels<'p> {
    type Worker = Ingester<'p>;
    type Part = State;

    fn worker(&self) -> Ingester<'p> {
        Ingester::new(self.plan)
    }

    fn part(&self) -> State {
        State::new(self.plan)
    }

    fn chunk(
        &self,
        ingester: &mut Ingester<'p>,
        state: &mut State,
        chunk: &Chunk,
        log: &mut BadRowLogger<'_>,
    ) -> anyhow::Result<()> {
        chunk.for_each_line(|number, line| {
            if let Err(e) = ingester.ingest(state, line) {
                log.push(number, &e, line);
            }
        });
        Ok(())
    }

    fn fold(&self, running: &mut State, part: State) -> Option<State> {
        running.merge(part);
        None
    }
}

/// Lists the inputs, selected and (unless `--no-prune`) pruned to the event-time `window`
/// (described as `window_name` when it left nothing).
pub(crate) fn resolve_inputs(
    args: &InputArgs,
    window: Option<(i64, i64)>,
    window_name: &str,
) -> Result<Inputs, Failure> {
    let input_options = InputOptions {
        selection: Selection::new(&args.include, &args.exclude).exit_code(USAGE)?,
        window: if args.no_prune { None } else { window.map(|(start, end)| DateWindow { start, end }) },
        s3: s3_options(&args.s3),
    };
    let inputs = Inputs::resolve(&args.inputs, &input_options)?;
    if inputs.files().is_empty() {
        return Err(no_inputs(args, &inputs, window_name).into());
    }
    Ok(inputs)
}

/// How the pipeline runs, from the shared flags.
pub(crate) fn pipeline_options(args: &InputArgs) -> anyhow::Result<Options> {
    Ok(Options {
        threads: default_threads(args.threads)?,
        log_bad_rows: args.bad_rows.is_some(),
        skip_corrupt: args.skip_corrupt_files,
        open_ahead: usize::from(args.s3.s3_concurrency),
    })
}

/// Writes the `--bad-rows` file, if asked for. It is the diagnosis of a failed bad-row check,
/// so it is written either way.
pub(crate) fn write_bad_rows(args: &InputArgs, logs: Vec<Vec<BadRowLog>>) -> anyhow::Result<()> {
    if let Some(path) = &args.bad_rows {
        let mut file = AtomicFile::create(path).with_context(|| format!("creating {}", path.display()))?;
        BadRowLog::write_all(logs, &mut file).with_context(|| format!("writing {}", path.display()))?;
        file.commit().with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Fails when bad rows exceed `max` of the lines; `consequence` says what the failure means.
pub(crate) fn check_bad_ratio(
    bad: u64,
    lines: u64,
    by_reason: impl Iterator<Item = (BadReason, u64)>,
    max: f64,
    consequence: &str,
) -> anyhow::Result<()> {
    #[allow(clippy::cast_precision_loss)]
    let ratio = if lines == 0 { 0.0 } else { bad as f64 / lines as f64 };
    if ratio <= max {
        return Ok(());
    }
    let reasons: Vec<String> = by_reason.map(|(r, n)| format!("{} {n}", r.code())).collect();
    Err(anyhow!(
        "{bad} of {lines} lines are bad rows ({:.2}%), over --max-bad-ratio {max} ({}); {consequence} (see --bad-rows FILE)",
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
fn no_inputs(args: &InputArgs, inputs: &Inputs, window_name: &str) -> anyhow::Error {
    let named = args.inputs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
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
