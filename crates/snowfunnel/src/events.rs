//! `snowfunnel events`: the events of some experiments, one row per event and experiment
//! context, as CSV or Parquet.
//!
//! Workers extract records chunk by chunk into their spools; the output pass then reads the
//! segments in input order (files, then lines), applies the duplicate policy and writes the
//! rows, so the output is the same whatever the thread count.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use snowfunnel_extract::{
    Counters, Deduplicator, DuplicatePolicy, Environment, EnvironmentMap, EnvironmentSelection, ExtractSpec,
    Extractor, Filter, Records,
};
use snowfunnel_input::Chunk;
use snowfunnel_report::{
    AtomicFile, EventsFormat, EventsSummary, EventsWriter, RowSpool, RunTotals, Segment, events_summary_text,
};

use crate::cli::{DuplicatesArg, EnvironmentArg, EventsArgs, FormatArg};
use crate::exit::{BAD_DATA, ExitCodeExt, Failure, USAGE};
use crate::pipeline::{self, BadRowLogger, Job, Tally};
use crate::progress;
use crate::run::{check_bad_ratio, pipeline_options, resolve_inputs, write_bad_rows};

pub(crate) fn events(args: &EventsArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let filter = Filter::new(&spec(args)).exit_code(USAGE)?;
    let format = output_format(args).exit_code(USAGE)?;
    let policy = match args.duplicates {
        DuplicatesArg::First => DuplicatePolicy::First,
        DuplicatesArg::All => DuplicatePolicy::All,
        DuplicatesArg::Drop => DuplicatePolicy::Drop,
    };
    let input = &args.input;
    let window = args.start.zip(args.end);
    let inputs = resolve_inputs(input, window, "the --start/--end window")?;
    // Created now, so that an unwritable destination fails before the inputs are read.
    let to_file = args.out != Path::new("-");
    let out_file = if to_file {
        Some(AtomicFile::create(&args.out).with_context(|| format!("creating {}", args.out.display()))?)
    } else {
        None
    };

    let options = pipeline_options(input)?;
    let tally = Tally::default();
    let output = progress::while_running(!args.quiet, &inputs, &tally, started, || {
        pipeline::process(&Extract { filter: &filter }, &inputs, &options, &tally)
    })?;
    let mut counters = Counters::default();
    let mut segments: Vec<(usize, u64, Segment)> = Vec::new();
    for (file, parts) in output.parts.into_iter().enumerate() {
        for part in parts {
            counters.add(&part.counters);
            segments.extend(part.segments.into_iter().map(|(line, segment)| (file, line, segment)));
        }
    }
    segments.sort_unstable_by_key(|&(file, line, _)| (file, line));
    let totals = RunTotals {
        files: output.files.len() as u64,
        stored_bytes: output.files.iter().map(|f| f.stored_bytes).sum(),
        bytes: output.files.iter().map(|f| f.bytes).sum(),
        skipped_files: output.skipped,
        deselected: inputs.deselected(),
        pruned: inputs.pruned(),
        elapsed: started.elapsed(),
    };

    write_bad_rows(input, output.bad_rows)?;
    let consequence = if to_file { "no output written" } else { "nothing written to stdout" };
    check_bad_ratio(
        counters.bad_rows(),
        counters.lines,
        counters.bad_by_reason(),
        input.max_bad_ratio,
        consequence,
    )
    .exit_code(BAD_DATA)?;

    let shown_out = if to_file { args.out.display().to_string() } else { "stdout".to_owned() };
    let written = match out_file {
        Some(file) => {
            let (file, rows) = write_rows(&segments, policy, format, file)
                .with_context(|| format!("writing {}", args.out.display()))?;
            file.commit().with_context(|| format!("writing {}", args.out.display()))?;
            rows
        }
        None => {
            let stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout());
            let (mut stdout, rows) =
                write_rows(&segments, policy, format, stdout).context("writing to stdout")?;
            stdout.flush().context("writing to stdout")?;
            rows
        }
    };
    let (rows_written, duplicates) = written;

    if !args.quiet {
        let summary = EventsSummary { counters, policy, duplicates, rows_written, output: shown_out };
        let mut totals = totals;
        totals.elapsed = started.elapsed();
        write!(std::io::stderr().lock(), "{}", events_summary_text(&summary, &totals))?;
    }
    Ok(())
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
    let stdout = args.out == Path::new("-");
    let format = match args.format {
        Some(FormatArg::Csv) => EventsFormat::Csv,
        Some(FormatArg::Parquet) => EventsFormat::Parquet,
        None if args.out.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet")) => {
            EventsFormat::Parquet
        }
        None => EventsFormat::Csv,
    };
    if stdout && format == EventsFormat::Parquet {
        anyhow::bail!("Parquet cannot go to stdout: name a file with --out");
    }
    Ok(format)
}

/// Rows written, and what the duplicate policy dropped.
type Written = (u64, snowfunnel_extract::DuplicateStats);

/// Writes the rows of the segments (in order) to `out`, applying `policy`.
fn write_rows<W: Write + Send>(
    segments: &[(usize, u64, Segment)],
    policy: DuplicatePolicy,
    format: EventsFormat,
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
    let mut writer = EventsWriter::new(format, out)?;
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

/// The extract as a pipeline job: each file's part keeps its own counters and segments, so
/// that a corrupt file skipped leaves no trace and segments sort back into input order.
struct Extract<'f> {
    filter: &'f Filter,
}

/// A thread's extractor, spool and record buffer.
struct ExtractWorker<'f> {
    extractor: Extractor<'f>,
    spool: RowSpool,
    records: Vec<u8>,
}

/// What one thread extracted from (the chunks it parsed of) one file.
#[derive(Default)]
struct ExtractPart {
    counters: Counters,
    /// The records of each chunk, by the chunk's first line.
    segments: Vec<(u64, Segment)>,
}

impl<'f> Job for Extract<'f> {
    type Worker = ExtractWorker<'f>;
    type Part = ExtractPart;

    fn worker(&self) -> ExtractWorker<'f> {
        ExtractWorker {
            extractor: Extractor::new(self.filter),
            spool: RowSpool::default(),
            records: Vec::new(),
        }
    }

    fn part(&self) -> ExtractPart {
        ExtractPart::default()
    }

    fn chunk(
        &self,
        worker: &mut ExtractWorker<'f>,
        part: &mut ExtractPart,
        chunk: &Chunk,
        log: &mut BadRowLogger<'_>,
    ) -> anyhow::Result<()> {
        let ExtractWorker { extractor, spool, records } = worker;
        chunk.for_each_line(|number, line| {
            if let Err(e) = extractor.extract(line, &mut part.counters, records) {
                log.push(number, &e, line);
            }
        });
        if !records.is_empty() {
            let segment = spool.store(records).context("writing the row spool")?;
            part.segments.push((chunk.first_line, segment));
        }
        Ok(())
    }

    fn fold(&self, _running: &mut ExtractPart, part: ExtractPart) -> Option<ExtractPart> {
        Some(part)
    }
}
