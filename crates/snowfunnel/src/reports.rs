//! The funnel reports of a state, the same for `run` and `merge`: the funnel CSVs and their
//! checks, JSONs and the run summary, HTML pages and their index (as `--format` says), written
//! all together; warnings on stderr; tables and the summary on stdout.

use std::io::{IsTerminal, Write};

use anyhow::Context;
use snowfunnel_engine::{CohortBy, Plan, ReportOptions, RunReport, State};
use snowfunnel_report::{
    CsvCells, INDEX_HTML, RunStamp, RunTotals, RunWarnings, checks_line, funnel_csv_blocks, funnel_html,
    funnel_json, funnel_table, index_html, run_json, summary_csv, summary_text,
};
use snowfunnel_stats::{Check, CompareOptions, FunnelResult};

use crate::cli::{CheckArg, CohortArg, ReportArgs, ReportFormat};
use crate::exit::{CHECK_FAILED, ExitCodeExt, Failure, USAGE};
use crate::outputs::{MARKER_NAME, Outputs, Role};
use crate::store::Place;

/// The run summary's file name: it starts with `_`, as the completion marker, for the run's
/// own files (see [`RESERVED_NAMES`]).
pub(crate) const RUN_JSON: &str = "_run.json";

/// Funnel names refused in `run` and `merge`: their files would take the place of the run's
/// own (`_run.json`, `_index.html`).
const RESERVED_NAMES: [&str; 2] = ["_run", "_index"];

/// The files the reports of `plan` take in `--out` with `formats`: per funnel `<funnel>.csv`
/// and `<funnel>.summary.csv` (csv), `<funnel>.json` (json), `<funnel>.html` (html); the run
/// summary (json), the index page (html), and the completion marker.
///
/// # Errors
/// A funnel whose name is reserved for the run's own files (usage).
pub(crate) fn report_files(plan: &Plan, formats: &[ReportFormat]) -> Result<Vec<String>, Failure> {
    if let Some(funnel) = plan.funnels().iter().find(|f| RESERVED_NAMES.contains(&f.name.as_str())) {
        return Err(anyhow::anyhow!(
            "{}: funnel name {:?} is reserved for the run's own files ({RUN_JSON}, {INDEX_HTML}): give the funnel another `name`",
            funnel.source,
            funnel.name
        ))
        .exit_code(USAGE);
    }
    let wants = |format| formats.contains(&format);
    let mut names: Vec<String> = Vec::new();
    for funnel in plan.funnels() {
        if wants(ReportFormat::Csv) {
            names.extend([csv_name(&funnel.name), summary_name(&funnel.name)]);
        }
        if wants(ReportFormat::Json) {
            names.push(format!("{}.json", funnel.name));
        }
        if wants(ReportFormat::Html) {
            names.push(format!("{}.html", funnel.name));
        }
    }
    if wants(ReportFormat::Json) {
        names.push(RUN_JSON.to_owned());
    }
    if wants(ReportFormat::Html) {
        names.push(INDEX_HTML.to_owned());
    }
    names.push(MARKER_NAME.to_owned());
    Ok(names)
}

/// The version and the time the JSON and HTML reports name: now, or the time
/// `SOURCE_DATE_EPOCH` (seconds since the epoch, the reproducible-builds convention) fixes, so
/// that the same state gives byte-identical reports.
pub(crate) fn run_stamp(command: &str) -> anyhow::Result<RunStamp> {
    let seconds: i64 = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) => value.trim().parse().with_context(|| {
            format!("SOURCE_DATE_EPOCH={value:?}: expected whole seconds since 1970-01-01")
        })?,
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
    };
    Ok(RunStamp {
        command: command.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        as_of: snowfunnel_parse::format_micros(seconds.saturating_mul(1_000_000)),
    })
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
    let mut report = state.report_with(plan, ReportOptions { cohorts, cumulative: args.cumulative });
    // Names seen, keys per step and per day: for the empty-match and outage checks.
    let seen = state.seen(plan);
    // The intervals at the level the significance test uses: `--alpha 0.1` gives 90% intervals.
    // The planned effect (`mde`) and the inference are each funnel's own:
    // `FunnelResult::compute_seen` takes them from the definition.
    let compare =
        CompareOptions { alpha: args.alpha, confidence: 1.0 - args.alpha, ..CompareOptions::default() };
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
    // Each funnel's warnings and the run's, for every output below.
    let warnings = RunWarnings::of(&results);
    let wants = |format| args.formats.contains(&format);
    for result in results.iter().filter(|_| wants(ReportFormat::Csv)) {
        let name = csv_name(&result.report.name);
        let mut content = Vec::new();
        funnel_csv_blocks(result, cohorts.is_some(), !plan.breakdowns().is_empty(), to.cells, &mut content)
            .with_context(|| format!("writing {name}"))?;
        outputs.stage(Role::Report, to.out.join(&name), &content)?;
        let name = summary_name(&result.report.name);
        let mut content = Vec::new();
        summary_csv(result, to.cells, &mut content).with_context(|| format!("writing {name}"))?;
        outputs.stage(Role::Report, to.out.join(&name), &content)?;
    }
    if wants(ReportFormat::Json) || wants(ReportFormat::Html) {
        let stamp = run_stamp(to.command)?;
        let cohort_by = args.by.map(|by| match by {
            CohortArg::Day => "day",
            CohortArg::Week => "week",
        });
        if wants(ReportFormat::Json) {
            for (result, funnel_warnings) in results.iter().zip(&warnings.per_funnel) {
                let name = format!("{}.json", result.report.name);
                let mut content = Vec::new();
                funnel_json(result, cohort_by, funnel_warnings, &stamp, &mut content)
                    .with_context(|| format!("writing {name}"))?;
                outputs.stage(Role::Report, to.out.join(&name), &content)?;
            }
            let mut content = Vec::new();
            run_json(&report, &results, &warnings, totals, plan.time_window(), &stamp, &mut content)
                .with_context(|| format!("writing {RUN_JSON}"))?;
            outputs.stage(Role::Report, to.out.join(RUN_JSON), &content)?;
        }
        if wants(ReportFormat::Html) {
            for (result, funnel_warnings) in results.iter().zip(&warnings.per_funnel) {
                let name = format!("{}.html", result.report.name);
                let page = funnel_html(result, cohort_by, funnel_warnings, &report.counters, &stamp);
                outputs.stage(Role::Report, to.out.join(&name), page.as_bytes())?;
            }
            let page = index_html(&results, &warnings, &report.counters, &stamp);
            outputs.stage(Role::Report, to.out.join(INDEX_HTML), page.as_bytes())?;
        }
    }
    outputs.mark_completion_at(to.out.join(MARKER_NAME));
    outputs.commit(to.command)?;

    for warning in &warnings.run {
        eprintln!("snowfunnel: warning: {warning}");
    }
    // Decided before anything is printed: a closed stdout (`| head`) must not hide a failed check.
    let checks = failed_checks(&results, &args.failing_checks());
    if !to.quiet {
        let printed = print_summary(plan, &results, &report, totals, to, &args.formats);
        match printed {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return checks,
            other => other?,
        }
    }
    checks
}

/// The tables, the run summary, each funnel's checks line, the notes and what was written, on
/// stdout.
fn print_summary(
    plan: &Plan,
    results: &[FunnelResult],
    report: &RunReport,
    totals: &RunTotals,
    to: &Destination<'_>,
    formats: &[ReportFormat],
) -> std::io::Result<()> {
    let colour = colour_wanted();
    let mut stdout = std::io::stdout().lock();
    for result in results {
        writeln!(stdout, "{}", funnel_table(result, colour))?;
    }
    write!(stdout, "{}", summary_text(report, totals))?;
    for result in results {
        writeln!(stdout, "  {:<18} {}", "checks", checks_line(result))?;
    }
    for (label, note) in &to.notes {
        writeln!(stdout, "  {label:<18} {note}")?;
    }
    if !plan.breakdowns().is_empty() {
        writeln!(stdout, "  {:<18} {}", "breakdowns", breakdowns_line(plan, results))?;
    }
    writeln!(
        stdout,
        "  {:<18} {} funnel report(s) ({}) in {}",
        "wrote",
        results.len(),
        written(formats),
        to.out
    )?;
    stdout.flush()
}

/// What the summary says of the breakdowns: each field with its most values in a funnel, and
/// that the reports hold them (the tables show the whole funnels only).
fn breakdowns_line(plan: &Plan, results: &[FunnelResult]) -> String {
    let fields: Vec<String> = plan
        .breakdowns()
        .iter()
        .map(|field| {
            let values = results
                .iter()
                .map(|r| r.report.breakdowns.iter().filter(|b| b.dimension == field.name()).count())
                .max()
                .unwrap_or(0);
            format!("{} ({values} value{})", field.name(), if values == 1 { "" } else { "s" })
        })
        .collect();
    format!(
        "{}: in the reports, one block per value (the tables above show whole funnels)",
        fields.join(", ")
    )
}

/// Exit code 4 when a check of `--fail-on` (or `--strict`) found a problem in a funnel, naming
/// each check and the funnels it failed in.
fn failed_checks(results: &[FunnelResult], checks: &[CheckArg]) -> Result<(), Failure> {
    let failed: Vec<String> = checks
        .iter()
        .filter_map(|&arg| {
            let check = match arg {
                CheckArg::Empty => Check::Empty,
                CheckArg::Srm => Check::Srm,
                CheckArg::Contamination => Check::Contamination,
                CheckArg::Outage => Check::Outage,
            };
            let funnels: Vec<&str> =
                results.iter().filter(|r| r.checks.fires(check)).map(|r| r.report.name.as_str()).collect();
            (!funnels.is_empty()).then(|| format!("{} (funnel {})", check.name(), funnels.join(", funnel ")))
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

/// What the summary says was written per funnel, in the order of `formats`.
fn written(formats: &[ReportFormat]) -> String {
    let mut kinds: Vec<&str> = Vec::new();
    for format in formats {
        let kind = match format {
            ReportFormat::Csv => "CSV and checks (.summary.csv)",
            ReportFormat::Json => "JSON",
            ReportFormat::Html => "HTML",
        };
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds.join(", ")
}
