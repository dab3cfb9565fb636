//! The `line` target: enriched TSV lines through every per-line path of the tool.

use std::sync::OnceLock;

use snowfunnel_engine::{CohortBy, Explain, Explained, FunnelRecorder, ReportOptions, Row, State};
use snowfunnel_extract::{Extract, ExtractSpec, Filter, MemorySpool, Records};
use snowfunnel_ingest::{Ingester, Job};
use snowfunnel_parse::{
    BadReason, EnrichedEvent, FIELD_COUNT, RowError, excerpt, fields, format_micros, parse_timestamp,
};
use snowfunnel_validate::{Scope, ValidateState};

use crate::plan::{explain_plan, plan};

/// Splits `data` into lines as the input side does (at each `\n`; a last line without one
/// counts, an empty end after a final `\n` does not) and feeds each line to the parser, then
/// to `run`'s engine (with [`plan`]), `validate` (every experiment) and `events` (the plan's
/// experiments), as their worker threads do; then makes their reports.
///
/// # Panics
/// On a bug, that is when:
/// - a line that parses does not give back its fields: joined by tabs, they are the line;
/// - the jobs disagree on a bad row: `validate` checks least (never `unstruct_event` nor
///   `se_value`), so a line it refuses is refused by `run` and by `events` (which checks
///   `contexts` first, for the same reason), and a line the parser refuses is refused by all
///   three for the parser's reason;
/// - a job's counters do not add up (lines read, lines = events + bad rows);
/// - the records of the extract do not read back, one row per context counted;
/// - anything panics on the way.
pub fn line(data: &[u8]) {
    let plan = plan();
    let (scope, filter) = jobs();
    let mut ingester = Ingester::new(FunnelRecorder::new(plan));
    let mut state = State::new(plan);
    let mut validator = scope.ingester();
    let mut validated = ValidateState::new(scope);
    // Each line is a chunk of its own: its record, if any, is spooled at once.
    // `explain`, both rule sets, with the key of the plan's sample line asked.
    let explain = Explain::new(explain_plan(), Some(b"k1"));
    let mut explainer = explain.ingester();
    let mut explained = explain.state();
    let extract = Extract::<MemorySpool>::new(filter);
    let mut extractor = extract.ingester();
    let mut extracted = extract.state();

    let mut lines = 0u64;
    for line in split_lines(data) {
        lines += 1;
        let parsed = EnrichedEvent::parse(line);
        match &parsed {
            Ok(event) => check_fields(event, line),
            Err(e) => check_error(e, line),
        }
        let run = ingester.ingest(&mut state, line);
        let validate = validator.ingest(&mut validated, line);
        // Its prefilter reads schemas in any letter case: it refuses at least what run does.
        let why = explainer.ingest(&mut explained, line);
        assert!(run.is_ok() || why.is_err(), "explain accepts a line run refuses");
        let before = extracted.segments.len();
        let events = extractor.ingest(&mut extracted, line);
        extractor.end_chunk(&mut extracted, 0, lines).expect("memory takes every record");
        for result in [&run, &validate, &events] {
            if let Err(e) = result {
                check_error(e, line);
            }
        }
        if events.is_err() {
            assert_eq!(extracted.segments.len(), before, "a bad row appended a record");
        }
        let reason = |r: &Result<(), RowError>| r.as_ref().err().map(RowError::reason);
        if let Err(e) = &parsed {
            for (job, result) in [("run", &run), ("validate", &validate), ("events", &events)] {
                assert_eq!(reason(result), Some(e.reason()), "{job} and the parser disagree");
            }
        }
        if validate.is_err() {
            // The reason may differ when several fields are bad: `run` reads `unstruct_event`
            // before `contexts`.
            assert!(run.is_err(), "run accepts a line validate refuses");
            assert_eq!(
                reason(&events),
                reason(&validate),
                "events and validate refuse it for different reasons"
            );
        } else {
            // What only they read.
            assert!(matches!(reason(&run), None | Some(BadReason::UnstructEvent)), "{run:?}");
            assert!(matches!(reason(&events), None | Some(BadReason::UnstructEvent | BadReason::SeValue)));
        }
    }

    let counters = *state.counters();
    assert_eq!(counters.lines, lines);
    assert_eq!(counters.events + counters.bad.total(), lines, "run's counters");
    let counters = *validated.counters();
    assert_eq!(counters.lines, lines);
    assert_eq!(counters.events + counters.bad.total(), lines, "validate's counters");
    let counters = extracted.counters;
    assert_eq!(counters.lines, lines);
    assert_eq!(counters.events + counters.bad.total(), lines, "the extract's counters");

    let mut rows = 0u64;
    let records: Vec<u8> =
        extracted.segments.iter().flat_map(|(_, _, segment)| segment.iter().copied()).collect();
    for record in Records::new(&records) {
        let record = record.expect("the extract's records read back");
        let count = record.rows().count();
        assert_eq!(count as u64, u64::from(record.row_count()), "rows of a record");
        rows += u64::from(record.row_count());
    }
    assert_eq!(rows, extracted.matched.rows, "rows counted and written");

    // The reports, when there is something to report (they are most of the cost otherwise).
    if state.counters().experiment_contexts > 0 {
        let report = state.report(plan);
        assert_eq!(report.funnels.len(), plan.funnels().len());
        let by_day = state
            .report_with(plan, ReportOptions { cohorts: Some(CohortBy::Day), ..ReportOptions::default() });
        assert_eq!(by_day.funnels.len(), plan.funnels().len());
    }
    if validated.counters().experiment_contexts > 0 {
        let _ = validated.report().problems();
    }
    assert_eq!(explained.counters().lines, lines);
    check_waterfalls(&explained.finish(explain_plan(), Some(b"k1")));
}

/// Each row of a waterfall follows from the one before (what remains and what it removed add
/// up to what remained), and the last rows are the report's counts.
///
/// # Panics
/// When they are not.
fn check_waterfalls(explained: &Explained) {
    for (waterfall, report) in explained.waterfalls.iter().zip(&explained.report.funnels) {
        assert_eq!(waterfall.rows[0].all.events, explained.report.counters.lines);
        for pair in waterfall.rows.windows(2) {
            let (before, after) = (&pair[0], &pair[1]);
            assert_eq!(after.all.events + after.all.events_removed, before.all.events, "{:?}", after.row);
            for (b, a) in before.variants.iter().zip(&after.variants) {
                if let (Some(b), Some(a)) = (b, a) {
                    assert_eq!(a.events + a.events_removed, b.events, "{:?}", after.row);
                    assert_eq!(a.keys.unwrap_or(0) + a.keys_removed.unwrap_or(0), b.keys.unwrap_or(0));
                }
            }
        }
        let steps = report.step_names.len();
        for counts in &report.variants {
            let v = waterfall.variants.iter().position(|name| *name == counts.variant).expect("a variant");
            for (s, keys) in counts.keys_per_step.iter().enumerate() {
                let row = &waterfall.rows[waterfall.rows.len() - steps + s];
                assert_eq!(row.row, Row::Step(s));
                assert_eq!(row.variants[v].and_then(|c| c.keys), Some(*keys), "step {}", s + 1);
            }
        }
    }
    let story = explained.story.as_ref().expect("a key was asked");
    assert_eq!(story.funnels.len(), explained.waterfalls.len());
}

/// The lines of `data`, as `Chunk::for_each_line` hands them out.
pub(crate) fn split_lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut lines = data.split(|&b| b == b'\n');
    let mut left = data.len();
    std::iter::from_fn(move || {
        let line = lines.next()?;
        // The piece after a final `\n` (or of empty data) is not a line.
        if left == 0 {
            return None;
        }
        left = left.saturating_sub(line.len() + 1);
        Some(line)
    })
}

/// The scope of `validate` and the filter of `events`, built once.
fn jobs() -> &'static (Scope, Filter) {
    static JOBS: OnceLock<(Scope, Filter)> = OnceLock::new();
    JOBS.get_or_init(|| {
        let spec = ExtractSpec { experiments: plan().experiments().to_vec(), ..ExtractSpec::default() };
        (Scope::all(), Filter::new(&spec).expect("the plan's experiments make a filter"))
    })
}

/// A parsed line gives back its fields as a plain split does: every field the project reads,
/// the fields next to them, and a few it reaches by a scan (checking all 131 would scan the line
/// 131 times: fuzzing would mostly do that).
fn check_fields(event: &EnrichedEvent<'_>, line: &[u8]) {
    let split: Vec<&[u8]> = line.split(|&b| b == b'\t').collect();
    assert_eq!(split.len(), FIELD_COUNT);
    for i in [
        fields::APP_ID,
        fields::PLATFORM,
        fields::COLLECTOR_TSTAMP,
        fields::EVENT,
        fields::EVENT_ID,
        fields::EVENT_ID + 1,
        fields::PAGE_URLPATH,
        fields::CONTEXTS,
        fields::CONTEXTS + 1,
        fields::SE_CATEGORY,
        fields::SE_ACTION,
        fields::SE_LABEL,
        fields::SE_PROPERTY,
        fields::SE_VALUE,
        fields::UNSTRUCT_EVENT,
        fields::DERIVED_TSTAMP,
        fields::DERIVED_TSTAMP + 1,
        2,
        fields::UNSTRUCT_EVENT + 2,
        FIELD_COUNT - 1,
    ] {
        assert!(event.field(i) == split[i], "field {i}");
    }
    assert_eq!(event.line(), line);
    // Event times print as the reports print them, and read back to the millisecond.
    let time = event.time_micros();
    let printed = format_micros(time);
    assert_eq!(parse_timestamp(printed.as_bytes()), Ok(time - time.rem_euclid(1000)), "{printed}");
}

/// A bad row's error says something, and the excerpt of its line (as the bad-row log shows
/// it) is short.
fn check_error(e: &RowError, line: &[u8]) {
    assert!(!e.to_string().is_empty());
    assert!(!e.reason().code().is_empty());
    assert!(excerpt(line).chars().count() <= 65);
}
