//! `snowfunnel run`: definitions and inputs in, funnel CSVs, tables and a summary out.

use std::io::Write;
use std::time::Instant;

use anyhow::{Context, anyhow};
use snowfunnel_engine::{CohortBy, Plan, ReportOptions, RunReport};
use snowfunnel_input::{DateWindow, InputOptions, Inputs, S3Options, Selection};
use snowfunnel_report::{
    AtomicFile, BadRowLog, RunTotals, checks_line, commit_all, funnel_checks, funnel_csv, funnel_table,
    summary_csv, summary_text,
};
use snowfunnel_stats::CompareOptions;

use crate::cli::{CohortArg, RunArgs, S3Args};
use crate::exit::{BAD_DATA, ExitCodeExt, Failure, USAGE};
use crate::funnels::load_funnels;
use crate::pipeline::{self, Options, Tally, default_threads};
use crate::progress;

pub(crate) fn run(args: &RunArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let funnels = load_funnels(&args.funnels).exit_code(USAGE)?;
    let plan = Plan::new(funnels);
    let input_options = InputOptions {
        selection: Selection::new(&args.include, &args.exclude).exit_code(USAGE)?,
        window: if args.no_prune {
            None
        } else {
            plan.time_window().map(|(start, end)| DateWindow { start, end })
        },
        s3: s3_options(&args.s3),
    };
    let inputs = Inputs::resolve(&args.inputs, &input_options)?;
    if inputs.files().is_empty() {
        return Err(no_inputs(args, &inputs).into());
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating output directory {}", args.out.display()))?;

    let options = Options {
        threads: default_threads(args.threads)?,
        log_bad_rows: args.bad_rows.is_some(),
        skip_corrupt: args.skip_corrupt_files,
        open_ahead: usize::from(args.s3.s3_concurrency),
    };
    let tally = Tally::default();
    let mut output = progress::while_running(!args.quiet, &inputs, &tally, started, || {
        pipeline::process(&plan, &inputs, &options, &tally)
    })?;
    let cohorts = args.by.map(|by| match by {
        CohortArg::Day => CohortBy::Day,
        CohortArg::Week => CohortBy::Week,
    });
    let report = output.state.report_with(&plan, ReportOptions { cohorts });
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
    if let Some(path) = &args.bad_rows {
        let mut file = AtomicFile::create(path).with_context(|| format!("creating {}", path.display()))?;
        BadRowLog::write_all(output.bad_rows, &mut file)
            .with_context(|| format!("writing {}", path.display()))?;
        file.commit().with_context(|| format!("writing {}", path.display()))?;
    }
    check_bad_ratio(&report, args.max_bad_ratio).exit_code(BAD_DATA)?;

    let compare = CompareOptions { alpha: args.alpha, ..CompareOptions::default() };
    let checks = report
        .funnels
        .iter()
        .zip(plan.funnels())
        .map(|(funnel, def)| {
            let experiment = report
                .experiments
                .iter()
                .find(|e| e.experiment == funnel.experiment)
                .expect("every funnel's experiment is summarised");
            funnel_checks(funnel, def, experiment).with_context(|| format!("checks of {}", funnel.name))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut pending = Vec::with_capacity(2 * report.funnels.len());
    for (funnel, checks) in report.funnels.iter().zip(&checks) {
        let path = args.out.join(format!("{}.csv", funnel.name));
        let mut file = AtomicFile::create(&path).with_context(|| format!("creating {}", path.display()))?;
        funnel_csv(funnel, compare, cohorts.is_some(), &mut file)
            .with_context(|| format!("writing {}", path.display()))?;
        pending.push(file);
        let path = args.out.join(format!("{}.summary.csv", funnel.name));
        let mut file = AtomicFile::create(&path).with_context(|| format!("creating {}", path.display()))?;
        summary_csv(funnel, checks, &mut file).with_context(|| format!("writing {}", path.display()))?;
        pending.push(file);
    }
    commit_all(pending)
        .map_err(|(path, e)| anyhow::Error::new(e).context(format!("writing {}", path.display())))?;

    // The same experiment's contamination is found by each of its funnels: say it once.
    let mut warnings: Vec<String> = Vec::new();
    for (funnel, checks) in report.funnels.iter().zip(&checks) {
        for warning in checks.warnings(funnel) {
            if !warnings.contains(&warning) {
                warnings.push(warning);
            }
        }
    }
    for warning in &warnings {
        eprintln!("snowfunnel: warning: {warning}");
    }
    if !args.quiet {
        let mut stdout = std::io::stdout().lock();
        for funnel in &report.funnels {
            let table =
                funnel_table(funnel, compare).with_context(|| format!("statistics of {}", funnel.name))?;
            writeln!(stdout, "{table}")?;
        }
        write!(stdout, "{}", summary_text(&report, &totals))?;
        for (funnel, checks) in report.funnels.iter().zip(&checks) {
            writeln!(stdout, "  {:<18} {}", "checks", checks_line(funnel, checks))?;
        }
        writeln!(
            stdout,
            "  {:<18} {} funnel CSV(s) and their checks (.summary.csv) in {}",
            "wrote",
            report.funnels.len(),
            args.out.display()
        )?;
        stdout.flush()?;
    }
    Ok(())
}

fn check_bad_ratio(report: &RunReport, max: f64) -> anyhow::Result<()> {
    let c = &report.counters;
    let bad = c.bad_rows();
    #[allow(clippy::cast_precision_loss)]
    let ratio = if c.lines == 0 { 0.0 } else { bad as f64 / c.lines as f64 };
    if ratio <= max {
        return Ok(());
    }
    let reasons: Vec<String> = c.bad_by_reason().map(|(r, n)| format!("{} {n}", r.code())).collect();
    Err(anyhow!(
        "{bad} of {} lines are bad rows ({:.2}%), over --max-bad-ratio {max} ({}); no report written (see --bad-rows FILE)",
        c.lines,
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
fn no_inputs(args: &RunArgs, inputs: &Inputs) -> anyhow::Error {
    let named = args.inputs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
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
