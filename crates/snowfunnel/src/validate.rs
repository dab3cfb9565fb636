//! `snowfunnel validate`: inputs in, the data validation report out (four CSV files and a page
//! with each experiment's events per day and variant as a chart, as `--format` says, and a
//! summary naming every problem found). Problems in the data are the report, not a failure:
//! the exit code is 0 unless the bad-row check fails, as in `run`.

use std::io::Write;
use std::time::Instant;

use anyhow::Context;
use snowfunnel_report::{
    CsvCells, VALIDATE_HTML, validate_app_ids_csv, validate_days_csv, validate_events_csv, validate_html,
    validate_summary_csv, validate_text,
};
use snowfunnel_validate::{Scope, ValidationReport};

use crate::cli::{ValidateArgs, ValidateFormat};
use crate::exit::{ExitCodeExt, Failure, USAGE};
use crate::outputs::{MARKER_NAME, Outputs, Role};
use crate::session::{check_bad_ratio, check_outputs, read_all, s3_options};
use crate::store::{Place, Store};

/// The CSV files, in the order written, and what writes each.
type Writer = fn(&ValidationReport, CsvCells, &mut Vec<u8>) -> std::io::Result<()>;
const OUTPUTS: [(&str, Writer); 4] = [
    ("validate_events.csv", |r, c, f| validate_events_csv(r, c, f)),
    ("validate_days.csv", |r, c, f| validate_days_csv(r, c, f)),
    ("validate_app_ids.csv", |r, c, f| validate_app_ids_csv(r, c, f)),
    ("validate_summary.csv", |r, c, f| validate_summary_csv(r, c, f)),
];

pub(crate) fn validate(args: &ValidateArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let scope = Scope::only(&args.experiments);
    let store = Store::new(s3_options(&args.input.s3));
    let out = Place::parse(&args.output.out).exit_code(USAGE)?;
    let mut outputs = Outputs::new(&store);
    let csv = args.formats.contains(&ValidateFormat::Csv);
    let html = args.formats.contains(&ValidateFormat::Html);
    let names: Vec<String> = OUTPUTS
        .iter()
        .filter(|_| csv)
        .map(|(name, _)| *name)
        .chain(html.then_some(VALIDATE_HTML))
        .chain([MARKER_NAME])
        .map(str::to_owned)
        .collect();
    check_outputs(&mut outputs, Some(&out), &names, args.output.bad_rows.file.as_deref())?;
    let (mut state, mut totals) =
        read_all(&scope, &args.input, &args.output, &store, &mut outputs, None, started)?;
    let report = state.report();
    let c = &report.counters;
    if let Err(e) =
        check_bad_ratio(c.lines, c.bad.by_reason(), args.output.max_bad_ratio, "no report written")
    {
        return Err(outputs.fail_bad_data(e));
    }

    for (name, write) in OUTPUTS.into_iter().filter(|_| csv) {
        let mut content = Vec::new();
        write(&report, args.output.csv.cells(), &mut content).with_context(|| format!("writing {name}"))?;
        outputs.stage(Role::Report, out.join(name), &content)?;
    }
    if html {
        let page = validate_html(&report, &crate::reports::run_stamp("validate")?);
        outputs.stage(Role::Report, out.join(VALIDATE_HTML), page.as_bytes())?;
    }
    outputs.mark_completion_at(out.join(MARKER_NAME));
    outputs.commit("validate")?;

    if !args.output.quiet {
        totals.elapsed = started.elapsed();
        let mut stdout = std::io::stdout().lock();
        write!(stdout, "{}", validate_text(&report, &totals))?;
        let written = match (csv, html) {
            (true, true) => format!("{} CSV files and {VALIDATE_HTML}", OUTPUTS.len()),
            (true, false) => format!("{} CSV files", OUTPUTS.len()),
            (false, _) => VALIDATE_HTML.to_owned(),
        };
        writeln!(stdout, "  {:<18} {written} in {}", "wrote", args.output.out.display())?;
        stdout.flush()?;
    }
    Ok(())
}
