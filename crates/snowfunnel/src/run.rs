//! `snowfunnel run`: definitions and inputs in, funnel CSVs, tables and a summary out.

use std::io::Write;
use std::time::Instant;

use anyhow::Context;
use snowfunnel_engine::{CohortBy, Plan, ReportOptions};
use snowfunnel_input::DateWindow;
use snowfunnel_report::{
    AtomicFile, checks_line, commit_all, funnel_checks, funnel_csv, funnel_table, summary_csv, summary_text,
};
use snowfunnel_stats::CompareOptions;

use crate::cli::{CohortArg, RunArgs};
use crate::exit::{BAD_DATA, ExitCodeExt, Failure, USAGE};
use crate::funnels::load_funnels;
use crate::session::{check_bad_ratio, read_all};

pub(crate) fn run(args: &RunArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let funnels = load_funnels(&args.funnels).exit_code(USAGE)?;
    let plan = Plan::new(funnels);
    let window =
        if args.no_prune { None } else { plan.time_window().map(|(start, end)| DateWindow { start, end }) };
    let (mut state, mut totals) = read_all(&plan, &args.input, &args.output, window, started)?;
    let cohorts = args.by.map(|by| match by {
        CohortArg::Day => CohortBy::Day,
        CohortArg::Week => CohortBy::Week,
    });
    let report = state.report_with(&plan, ReportOptions { cohorts });
    totals.elapsed = started.elapsed();
    let c = &report.counters;
    check_bad_ratio(c.lines, c.bad_by_reason(), args.output.max_bad_ratio, "no report written")
        .exit_code(BAD_DATA)?;

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
        let path = args.output.out.join(format!("{}.csv", funnel.name));
        let mut file = AtomicFile::create(&path).with_context(|| format!("creating {}", path.display()))?;
        funnel_csv(funnel, compare, cohorts.is_some(), &mut file)
            .with_context(|| format!("writing {}", path.display()))?;
        pending.push(file);
        let path = args.output.out.join(format!("{}.summary.csv", funnel.name));
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
    if !args.output.quiet {
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
            args.output.out.display()
        )?;
        stdout.flush()?;
    }
    Ok(())
}
