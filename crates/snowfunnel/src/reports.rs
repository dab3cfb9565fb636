//! The funnel reports of a state, the same for `run` and `merge`: the funnel CSVs and their
//! checks, written all together; warnings on stderr; tables and the summary on stdout.

use std::io::{IsTerminal, Write};

use anyhow::Context;
use snowfunnel_engine::{CohortBy, Plan, ReportOptions, State};
use snowfunnel_report::{
    CsvCells, RunTotals, check_warnings, checks_line, funnel_csv, funnel_table, summary_csv, summary_text,
};
use snowfunnel_stats::{Check, CompareOptions, FunnelResult};

use crate::cli::{CheckArg, CohortArg, ReportArgs};
use crate::exit::{CHECK_FAILED, Failure};
use crate::outputs::{MARKER_NAME, Outputs, Role};
use crate::store::Place;

/// The files the reports of `plan` take in `--out`: `<funnel>.csv` and `<funnel>.summary.csv`
/// per funnel, and the completion marker.
pub(crate) fn report_files(plan: &Plan) -> Vec<String> {
    let mut names: Vec<String> = plan
        .funnels()
        .iter()
        .flat_map(|funnel| [csv_name(&funnel.name), summary_name(&funnel.name)])
        .collect();
    names.push(MARKER_NAME.to_owned());
    names
}

fn csv_name(funnel: &str) -> String {
    format!("{funnel}.csv")
}

fn summary_name(funnel: &str) -> String {
    format!("{funnel}.summary.csv")
}

/// Where the reports go, and what else the summary says.
pub(crate) struct Destination<'a> {
    /// The command (`run`, `merge`), for the completion marker.
    pub(crate) command: &'static str,
    /// The directory or S3 prefix of the CSV files.
    pub(crate) out: &'a Place,
    /// Print nothing on stdout.
    pub(crate) quiet: bool,
    /// How the CSV text cells are written.
    pub(crate) cells: CsvCells,
    /// Lines to add to the summary, after the checks (such as where the state went).
    pub(crate) notes: Vec<(&'static str, String)>,
}

/// Reports on `state` (for `plan`) with `args`: stages `<funnel>.csv` and
/// `<funnel>.summary.csv` per funnel for `to.out` in `outputs` and commits them with the run's
/// other outputs (all of them or none), then prints the warnings, the tables and the summary.
pub(crate) fn report(
    plan: &Plan,
    state: &mut State,
    totals: &RunTotals,
    args: &ReportArgs,
    mut outputs: Outputs<'_>,
    to: &Destination<'_>,
) -> Result<(), Failure> {
    let cohorts = args.by.map(|by| match by {
        CohortArg::Day => CohortBy::Day,
        CohortArg::Week => CohortBy::Week,
    });
    let mut report = state.report_with(plan, ReportOptions { cohorts });
    // Names seen, keys per step and per day: for the empty-match and outage checks.
    let seen = state.seen(plan);
    // The intervals at the level the significance test uses: `--alpha 0.1` gives 90% intervals.
    let compare = CompareOptions { alpha: args.alpha, confidence: 1.0 - args.alpha };
    // Each funnel's statistics and checks, computed once for every output below; the funnels
    // move into their results, the summary reads the rest of the report.
    let results = std::mem::take(&mut report.funnels)
        .into_iter()
        .zip(plan.funnels().iter().zip(&seen))
        .map(|(funnel, (def, seen))| {
            let experiment = report
                .experiments
                .iter()
                .find(|e| e.experiment == funnel.experiment)
                .expect("every funnel's experiment is summarised");
            let name = funnel.name.clone();
            FunnelResult::compute_seen(funnel, def, experiment, seen, compare)
                .with_context(|| format!("statistics of {name}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    for result in &results {
        let name = csv_name(&result.report.name);
        let mut content = Vec::new();
        funnel_csv(result, cohorts.is_some(), to.cells, &mut content)
            .with_context(|| format!("writing {name}"))?;
        outputs.stage(Role::Report, to.out.join(&name), &content)?;
        let name = summary_name(&result.report.name);
        let mut content = Vec::new();
        summary_csv(result, to.cells, &mut content).with_context(|| format!("writing {name}"))?;
        outputs.stage(Role::Report, to.out.join(&name), &content)?;
    }
    outputs.mark_completion_at(to.out.join(MARKER_NAME));
    outputs.commit(to.command)?;

    // The same experiment's contamination is found by each of its funnels: say it once.
    let mut warnings: Vec<String> = Vec::new();
    for result in &results {
        for warning in check_warnings(result) {
            if !warnings.contains(&warning) {
                warnings.push(warning);
            }
        }
    }
    for warning in &warnings {
        eprintln!("snowfunnel: warning: {warning}");
    }
    if !to.quiet {
        let colour = colour_wanted();
        let mut stdout = std::io::stdout().lock();
        for result in &results {
            writeln!(stdout, "{}", funnel_table(result, colour))?;
        }
        write!(stdout, "{}", summary_text(&report, totals))?;
        for result in &results {
            writeln!(stdout, "  {:<18} {}", "checks", checks_line(result))?;
        }
        for (label, note) in &to.notes {
            writeln!(stdout, "  {label:<18} {note}")?;
        }
        writeln!(
            stdout,
            "  {:<18} {} funnel CSV(s) and their checks (.summary.csv) in {}",
            "wrote",
            results.len(),
            to.out
        )?;
        stdout.flush()?;
    }
    failed_checks(&results, &args.failing_checks())
}

/// Exit code 4 when a check of `--fail-on` (or `--strict`) found a problem in a funnel, naming
/// each check and the funnels it failed in.
fn failed_checks(results: &[FunnelResult], checks: &[CheckArg]) -> Result<(), Failure> {
    let failed: Vec<String> = checks
        .iter()
        .filter_map(|&arg| {
            let (check, name) = match arg {
                CheckArg::Empty => (Check::Empty, "empty"),
                CheckArg::Srm => (Check::Srm, "srm"),
                CheckArg::Contamination => (Check::Contamination, "contamination"),
                CheckArg::Outage => (Check::Outage, "outage"),
            };
            let funnels: Vec<&str> =
                results.iter().filter(|r| r.checks.fires(check)).map(|r| r.report.name.as_str()).collect();
            (!funnels.is_empty()).then(|| format!("{name} (funnel {})", funnels.join(", funnel ")))
        })
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(Failure {
        code: CHECK_FAILED,
        error: anyhow::anyhow!(
            "checks failed (--fail-on): {}; every output was written, the warnings above say why",
            failed.join("; ")
        ),
    })
}

/// Colour on stdout: only on a terminal, and not when `NO_COLOR` is set to anything
/// (<https://no-color.org>).
fn colour_wanted() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
