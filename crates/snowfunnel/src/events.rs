//! `snowfunnel events`: the events of some experiments, one row per event and experiment
//! context, as CSV or Parquet.
//!
//! Workers extract records chunk by chunk into their spools; the output pass then reads the
//! segments in input order (files, then lines), applies the duplicate policy and writes the
//! rows, so the output is the same whatever the thread count.
//!
//! The inputs are read as by `run` and `validate` (the shared [`InputArgs`](crate::cli::InputArgs), the same
//! executor and bad-row log); only the output differs: one file or stdout, not a directory.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use snowfunnel_extract::{
    Deduplicator, DuplicatePolicy, Environment, EnvironmentMap, EnvironmentSelection, Extract, ExtractSpec,
    Extracted, Filter, Records,
};
use snowfunnel_input::DateWindow;
use snowfunnel_report::{
    AtomicFile, CsvCells, EventsFormat, EventsSummary, EventsWriter, RowSpool, Segment, events_summary_text,
};

use crate::cli::{DuplicatesArg, EnvironmentArg, EventsArgs, FormatArg};
use crate::exit::{ExitCodeExt, Failure, USAGE};
use crate::outputs::{FILE_MARKER_SUFFIX, Outputs, Role};
use crate::session::{BadRowsOut, Done, check_bad_ratio, check_outputs, read, resolve, s3_options};
use crate::store::{Place, Store};

pub(crate) fn events(args: &EventsArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let filter = Filter::new(&spec(args)).exit_code(USAGE)?;
    let format = output_format(args).exit_code(USAGE)?;
    let policy = match args.duplicates {
        DuplicatesArg::First => DuplicatePolicy::First,
        DuplicatesArg::All => DuplicatePolicy::All,
        DuplicatesArg::Drop => DuplicatePolicy::Drop,
    };
    let output = &args.output;
    let window = if args.no_prune {
        None
    } else {
        args.start.zip(args.end).map(|(start, end)| DateWindow { start, end })
    };
    let store = Store::new(s3_options(&args.input.s3));
    // Every output is checked, and the extract's file created, before the inputs are read.
    let to_file = output.out != Path::new("-");
    let marker = Place::Local(completion_marker(&output.out));
    let mut outputs = Outputs::new(&store);
    let out_file = if to_file {
        outputs.check(&Place::Local(output.out.clone()))?;
        outputs.check(&marker)?;
        if let Some(dir) = output.out.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        Some(AtomicFile::create(&output.out).with_context(|| format!("creating {}", output.out.display()))?)
    } else {
        None
    };
    check_outputs(&mut outputs, None, &[], output.bad_rows.file.as_deref())?;
    let inputs = resolve(&args.input, &store, window, "the --start/--end window", None, Vec::new())?;

    let cells = output.csv.cells();
    let bad_rows = BadRowsOut { args: &output.bad_rows, cells };
    let job = Extract::<RowSpool>::new(&filter);
    let Done { state: extracted, totals, .. } =
        read(&job, &inputs, &args.input, bad_rows, &mut outputs, output.quiet, started)?;
    let Extracted { counters, matched, mut segments } = extracted;
    segments.sort_unstable_by_key(|&(file, line, _)| (file, line));

    let consequence = if to_file { "no output written" } else { "nothing written to stdout" };
    if let Err(e) =
        check_bad_ratio(counters.lines, counters.bad.by_reason(), output.max_bad_ratio, consequence)
    {
        return Err(outputs.fail_bad_data(e));
    }

    let shown_out = if to_file { output.out.display().to_string() } else { "stdout".to_owned() };
    let written = match out_file {
        Some(file) => {
            let (file, rows) = write_rows(&segments, policy, format, cells, file)
                .with_context(|| format!("writing {}", output.out.display()))?;
            outputs.stage_file(Role::Report, file)?;
            outputs.mark_completion_at(marker);
            outputs.commit("events")?;
            rows
        }
        None => {
            let stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout());
            let (mut stdout, rows) =
                write_rows(&segments, policy, format, cells, stdout).context("writing to stdout")?;
            stdout.flush().context("writing to stdout")?;
            outputs.commit("events")?;
            rows
        }
    };
    let (rows_written, duplicates) = written;

    if !output.quiet {
        let summary =
            EventsSummary { counters, matched, policy, duplicates, rows_written, output: shown_out };
        let mut totals = totals;
        totals.elapsed = started.elapsed();
        write!(std::io::stderr().lock(), "{}", events_summary_text(&summary, &totals))?;
    }
    Ok(())
}

/// The completion marker of an extract written to `out`: beside it, its name and `.success`.
fn completion_marker(out: &Path) -> std::path::PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_owned();
    name.push(FILE_MARKER_SUFFIX);
    out.with_file_name(name)
}

fn spec(args: &EventsArgs) -> ExtractSpec {
    ExtractSpec {
        experiments: args.experiments.clone(),
        start: args.start,
        end: args.end,
        environment: match args.environment {
            EnvironmentArg::All => EnvironmentSelection::All,
            EnvironmentArg::Production => EnvironmentSelection::Only(Environment::Production),
            EnvironmentArg::Staging => EnvironmentSelection::Only(Environment::Staging),
            EnvironmentArg::Other => EnvironmentSelection::Only(Environment::Other),
        },
        app_ids: args.app_ids.clone(),
        environments: EnvironmentMap {
            production: args.production_app_ids.clone(),
            staging: args.staging_app_ids.clone(),
        },
    }
}

/// `--format`, or the extension of `--out`.
fn output_format(args: &EventsArgs) -> anyhow::Result<EventsFormat> {
    let out = &args.output.out;
    let stdout = out == Path::new("-");
    let format = match args.output.format {
        Some(FormatArg::Csv) => EventsFormat::Csv,
        Some(FormatArg::Parquet) => EventsFormat::Parquet,
        None if out.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet")) => EventsFormat::Parquet,
        None => EventsFormat::Csv,
    };
    if stdout && format == EventsFormat::Parquet {
        anyhow::bail!("Parquet cannot go to stdout: name a file with --out");
    }
    Ok(format)
}

/// Rows written, and what the duplicate policy dropped.
type Written = (u64, snowfunnel_extract::DuplicateStats);

/// Writes the rows of the segments (in order) to `out`, applying `policy`, CSV text cells as
/// `cells` says.
fn write_rows<W: Write + Send>(
    segments: &[(usize, u64, Segment)],
    policy: DuplicatePolicy,
    format: EventsFormat,
    cells: CsvCells,
    out: W,
) -> anyhow::Result<(W, Written)> {
    let mut dedup = Deduplicator::new(policy);
    let mut buf = Vec::new();
    if dedup.needs_first_pass() {
        for (_, _, segment) in segments {
            for record in Records::new(segment.bytes(&mut buf).context("reading the row spool")?) {
                dedup.observe(record?.hash);
            }
        }
    }
    let mut writer = EventsWriter::new(format, cells, out)?;
    let mut rows = 0;
    for (_, _, segment) in segments {
        for record in Records::new(segment.bytes(&mut buf).context("reading the row spool")?) {
            let record = record?;
            if dedup.keep(record.hash, record.row_count()) {
                for row in record.rows() {
                    writer.write(&row)?;
                    rows += 1;
                }
            }
        }
    }
    Ok((writer.finish()?, (rows, dedup.stats())))
}
