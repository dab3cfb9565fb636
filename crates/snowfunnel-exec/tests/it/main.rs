//! The executor driven as a library: the same state whatever the thread count and schedule,
//! bad rows logged in input order, corrupt inputs skipped or named.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use snowfunnel_engine::{Funnels, Plan, RunReport, State, parse_funnel};
use snowfunnel_exec::{ExecError, Options, Output, ReadProgress, execute};
use snowfunnel_extract::{Extract, ExtractSpec, Filter, MemorySpool};
use snowfunnel_gen::{GenConfig, Line, generate};
use snowfunnel_ingest::Job;
use snowfunnel_input::{InputOptions, Inputs};
use snowfunnel_report::{BadRowFormat, BadRowLog, CsvCells, Processor};

/// The walkthrough funnel of the repository.
fn plan() -> Plan {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../funnels/pipeline_editor_walkthrough.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    Plan::new(vec![parse_funnel("pipeline_editor_walkthrough.toml", "walkthrough", &text).unwrap()])
}

/// Generated lines (malformed ones among them), as TSV.
fn lines() -> Vec<String> {
    generate(&GenConfig::new(5, 12_000)).iter().map(Line::to_tsv).collect()
}

/// Writes `parts` as gzip files `part-N.gz` in `dir`; returns their paths.
fn write_parts(dir: &Path, parts: &[&[String]]) -> Vec<PathBuf> {
    parts
        .iter()
        .enumerate()
        .map(|(i, lines)| {
            let path = dir.join(format!("part-{i}.gz"));
            let mut gz = GzEncoder::new(std::fs::File::create(&path).unwrap(), Compression::fast());
            for line in *lines {
                writeln!(gz, "{line}").unwrap();
            }
            gz.finish().unwrap();
            path
        })
        .collect()
}

fn options(threads: usize, bad_rows: Option<&BadRowLog>, skip_corrupt: bool) -> Options<'_> {
    Options { threads, bad_rows, max_line_bytes: 1 << 20, skip_corrupt, open_ahead: 4 }
}

fn run<J: Job>(job: &J, inputs: &Inputs, options: &Options<'_>) -> Result<Output<J::State>, ExecError> {
    execute(job, inputs, options, &ReadProgress::default())
}

fn bad_row_log() -> BadRowLog {
    let processor = Processor { artifact: "snowfunnel".into(), version: "0".into() };
    BadRowLog::new(BadRowFormat::Csv, CsvCells::default(), u64::MAX, processor)
}

/// The report of one ingester over all lines in order: what any schedule must give.
fn reference(plan: &Plan, lines: &[String]) -> (RunReport, State) {
    let job = Funnels::new(plan, None);
    let (mut ingester, mut state) = (job.ingester(), job.state());
    for line in lines {
        let _ = ingester.ingest(&mut state, line.as_bytes());
    }
    (state.report(plan), state)
}

#[test]
fn every_schedule_gives_the_state_of_one_thread() {
    let (plan, lines) = (plan(), lines());
    let (want, want_state) = reference(&plan, &lines);
    assert!(want_state.counters().bad.total() > 0, "the data has bad rows");
    assert!(want.funnels[0].keys > 100, "the data reaches the funnel");
    let dir = tempfile::tempdir().unwrap();
    let thirds: Vec<&[String]> = lines.chunks(lines.len().div_ceil(3)).collect();
    let inputs = Inputs::resolve(&write_parts(dir.path(), &thirds), &InputOptions::default()).unwrap();
    let mut logged = Vec::new();
    // 1 and 3 threads: a file per worker; 4 and 7: inflate and parse apart.
    for threads in [1, 3, 4, 7] {
        let log = bad_row_log();
        let job = Funnels::new(&plan, None);
        let mut out = run(&job, &inputs, &options(threads, Some(&log), false)).unwrap();
        assert_eq!(out.state.report(&plan), want, "{threads} threads");
        assert_eq!(out.state.counters(), want_state.counters(), "{threads} threads");
        assert_eq!(out.files.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [0, 1, 2]);
        assert!(out.skipped.is_empty());
        let mut csv = Vec::new();
        let written = log.write(|_| true, &mut csv).unwrap();
        assert_eq!(written.rows, want_state.counters().bad.total(), "{threads} threads");
        logged.push(csv);
    }
    // The bad-row log holds the rows in input order, whatever the schedule.
    assert!(logged.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn the_extract_spools_chunks_under_their_place_in_the_input() {
    let lines = lines();
    let filter = Filter::new(&ExtractSpec {
        experiments: vec!["pipeline_editor_walkthrough".into()],
        ..ExtractSpec::default()
    })
    .unwrap();
    let job = Extract::<MemorySpool>::new(&filter);
    let (mut ingester, mut one) = (job.ingester(), job.state());
    for line in &lines {
        let _ = ingester.ingest(&mut one, line.as_bytes());
    }
    ingester.end_chunk(&mut one, 0, 1).unwrap();
    let want: Vec<u8> = one.segments.concat_records();
    assert!(one.matched.rows > 0, "the data has rows to extract");

    let dir = tempfile::tempdir().unwrap();
    let halves: Vec<&[String]> = lines.chunks(lines.len().div_ceil(2)).collect();
    let inputs = Inputs::resolve(&write_parts(dir.path(), &halves), &InputOptions::default()).unwrap();
    for threads in [1, 2, 5] {
        let mut out = run(&job, &inputs, &options(threads, None, false)).unwrap().state;
        out.segments.sort_unstable_by_key(|&(file, line, _)| (file, line));
        assert_eq!(out.segments.concat_records(), want, "{threads} threads");
        assert_eq!((out.counters, out.matched), (one.counters, one.matched), "{threads} threads");
    }
}

/// The records of segments, one after the other.
trait ConcatRecords {
    fn concat_records(&self) -> Vec<u8>;
}

impl ConcatRecords for Vec<(usize, u64, Vec<u8>)> {
    fn concat_records(&self) -> Vec<u8> {
        self.iter().flat_map(|(_, _, segment)| segment.iter().copied()).collect()
    }
}

#[test]
fn a_corrupt_input_is_skipped_without_a_trace_or_named() {
    let (plan, lines) = (plan(), lines());
    let (half, _) = lines.split_at(lines.len() / 2);
    let (want, _) = reference(&plan, half);
    let dir = tempfile::tempdir().unwrap();
    let mut paths = write_parts(dir.path(), &[half, &lines[lines.len() / 2..]]);
    // The second file cut short in the middle of its deflate stream.
    let whole = std::fs::read(&paths[1]).unwrap();
    std::fs::write(&paths[1], &whole[..whole.len() / 2]).unwrap();
    paths.truncate(2);
    let inputs = Inputs::resolve(&paths, &InputOptions::default()).unwrap();
    for threads in [1, 2, 3] {
        let job = Funnels::new(&plan, None);
        let mut out = run(&job, &inputs, &options(threads, None, true)).unwrap();
        assert_eq!(out.state.report(&plan), want, "{threads} threads");
        assert_eq!(out.files.len(), 1);
        assert_eq!(out.skipped.len(), 1);
        assert!(out.skipped[0].contains("part-1.gz"), "{}", out.skipped[0]);

        let Err(e) = run(&job, &inputs, &options(threads, None, false)) else {
            panic!("a corrupt input read through");
        };
        assert!(matches!(e, ExecError::Input(ref e) if e.is_corrupt()), "{e:?}");
        assert!(e.to_string().contains("part-1.gz"), "{e}");
    }
}
