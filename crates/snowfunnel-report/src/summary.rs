//! The run summary printed after the tables.

use std::fmt::Write as _;
use std::time::Duration;

use snowfunnel_engine::RunReport;
use snowfunnel_parse::BadRows;

use crate::number::{bytes, grouped, percent, shown_name};
use crate::terminal_text;

/// Input-side totals of a run, which the engine does not see.
#[derive(Clone, Debug, Default)]
pub struct RunTotals {
    /// Files read completely.
    pub files: u64,
    /// Bytes on disk of those files.
    pub stored_bytes: u64,
    /// Bytes after decompression.
    pub bytes: u64,
    /// Files skipped as corrupt, with the reason (`--skip-corrupt-files`).
    pub skipped_files: Vec<String>,
    /// Inputs left out by `--include` / `--exclude`.
    pub deselected: u64,
    /// Inputs left out by date pruning.
    pub pruned: u64,
    /// Inputs left to the other shards of a sharded run.
    pub other_shards: u64,
    /// Inputs not read because the state of an incremental run counted them before.
    pub counted_before: u64,
    /// States merged (`snowfunnel merge`): `files` and `stored_bytes` are then those of their
    /// manifests, and `bytes` is not known.
    pub merged_states: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// The `--bad-rows` file, and what was written to it.
    pub bad_rows_log: Option<(String, crate::BadRowsWritten)>,
}

/// One `label  value` line of a summary.
pub(crate) fn summary_line(s: &mut String, label: &str, value: String) {
    let _ = writeln!(s, "  {label:<18} {value}");
}

/// The summary lines about what was read: files and bytes, inputs left out, files skipped.
pub(crate) fn write_inputs(s: &mut String, totals: &RunTotals) {
    write_inputs_in(s, totals, "the funnels' window");
}

/// [`write_inputs`] for a command whose date window (for pruning) is `window`.
pub(crate) fn write_inputs_in(s: &mut String, totals: &RunTotals, window: &str) {
    if totals.merged_states > 0 {
        summary_line(s, "states merged", grouped(totals.merged_states));
        summary_line(
            s,
            "files",
            format!("{} counted in them ({} stored)", grouped(totals.files), bytes(totals.stored_bytes)),
        );
        return;
    }
    summary_line(
        s,
        "files",
        format!(
            "{} ({} stored, {} decompressed)",
            grouped(totals.files),
            bytes(totals.stored_bytes),
            bytes(totals.bytes)
        ),
    );
    if totals.counted_before > 0 {
        summary_line(
            s,
            "counted before",
            format!("{} (in the state, unchanged: not read again)", grouped(totals.counted_before)),
        );
    }
    if totals.other_shards > 0 {
        summary_line(
            s,
            "other shards",
            format!("{} (left to the other shards)", grouped(totals.other_shards)),
        );
    }
    if totals.deselected > 0 {
        summary_line(s, "not selected", format!("{} by --include/--exclude", grouped(totals.deselected)));
    }
    if totals.pruned > 0 {
        summary_line(
            s,
            "pruned by date",
            format!("{} (dated outside {window}; --no-prune reads them)", grouped(totals.pruned)),
        );
    }
    for skipped in &totals.skipped_files {
        summary_line(s, "skipped (corrupt)", terminal_text(skipped).into_owned());
    }
}

/// The human-readable run summary (names escaped for the terminal).
#[must_use]
pub fn summary_text(report: &RunReport, totals: &RunTotals) -> String {
    let c = &report.counters;
    let mut s = String::from("Run summary\n");
    write_inputs(&mut s, totals);
    write_line_counts(&mut s, totals, c.lines, c.events, &c.bad);
    let mut line = |label: &str, value: String| summary_line(&mut s, label, value);
    line(
        "experiment events",
        format!(
            "{} ({} contexts; {} without key, {} incomplete: ignored)",
            grouped(c.experiment_events),
            grouped(c.experiment_contexts),
            grouped(c.contexts_without_key),
            grouped(c.incomplete_contexts)
        ),
    );
    for e in &report.experiments {
        let variants: Vec<String> =
            e.variants.iter().map(|(v, k)| format!("{} {}", shown_name(v), grouped(*k))).collect();
        line(
            "experiment",
            format!(
                "{}: {} contexts, {} keys, {} conflicting ({}); keys by variant: {}",
                terminal_text(&e.experiment),
                grouped(e.contexts),
                grouped(e.keys),
                grouped(e.conflicting_keys),
                percent(e.conflicting_keys, e.keys),
                if variants.is_empty() { "none".to_owned() } else { variants.join(", ") }
            ),
        );
    }
    line("elapsed", elapsed(totals));
    s
}

/// What an events extract did, besides its input totals.
#[derive(Clone, Debug)]
pub struct EventsSummary {
    /// The extract's counters: lines, events, bad rows, contexts.
    pub counters: snowfunnel_ingest::Counters,
    /// The events and rows it matched.
    pub matched: snowfunnel_extract::Matched,
    /// The duplicate policy applied.
    pub policy: snowfunnel_extract::DuplicatePolicy,
    /// What it dropped.
    pub duplicates: snowfunnel_extract::DuplicateStats,
    /// Rows written.
    pub rows_written: u64,
    /// Where they went.
    pub output: String,
}

/// The human-readable summary of `snowfunnel events`.
#[must_use]
pub fn events_summary_text(summary: &EventsSummary, totals: &RunTotals) -> String {
    let c = &summary.counters;
    let d = &summary.duplicates;
    let mut s = String::from("Events summary\n");
    write_inputs_in(&mut s, totals, "the --start/--end window");
    write_line_counts(&mut s, totals, c.lines, c.events, &c.bad);
    let mut line = |label: &str, value: String| summary_line(&mut s, label, value);
    line(
        "experiment events",
        format!(
            "{} ({} contexts without key or incomplete: ignored)",
            grouped(c.experiment_events),
            grouped(c.ignored_contexts())
        ),
    );
    let m = &summary.matched;
    line("events matched", format!("{} ({} rows)", grouped(m.events), grouped(m.rows)));
    line(
        "duplicates",
        format!(
            "{} events dropped ({} rows; --duplicates {})",
            grouped(d.events_dropped),
            grouped(d.rows_dropped),
            summary.policy.name()
        ),
    );
    line("rows written", format!("{} to {}", grouped(summary.rows_written), summary.output));
    line("elapsed", elapsed(totals));
    s
}

/// The `lines`, `events` and `bad lines` (with their reasons) lines of a summary, and what the
/// bad-row log holds.
fn write_line_counts(s: &mut String, totals: &RunTotals, lines: u64, events: u64, bad: &BadRows) {
    summary_line(s, "lines", grouped(lines));
    summary_line(s, "events", grouped(events));
    summary_line(s, "bad lines", bad_lines(bad, lines));
    write_bad_rows_log(s, totals);
}

/// The `bad rows file` line of a summary, when there is a bad-row log: what it holds, and what
/// it left out over its cap.
pub(crate) fn write_bad_rows_log(s: &mut String, totals: &RunTotals) {
    let Some((path, written)) = &totals.bad_rows_log else { return };
    let mut text = format!("{} rows ({}) in {path}", grouped(written.rows), bytes(written.bytes));
    if written.dropped_rows > 0 {
        let _ = write!(
            text,
            "; {} more ({}) left out over --max-bad-rows-bytes {}",
            grouped(written.dropped_rows),
            bytes(written.dropped_bytes),
            grouped(written.cap)
        );
    }
    summary_line(s, "bad rows file", text);
}

fn bad_lines(bad: &BadRows, lines: u64) -> String {
    let mut text = format!("{} ({} of lines)", grouped(bad.total()), percent(bad.total(), lines));
    let reasons: Vec<String> = bad.by_reason().map(|(r, n)| format!("{} {}", r.code(), grouped(n))).collect();
    if !reasons.is_empty() {
        let _ = write!(text, ": {}", reasons.join(", "));
    }
    text
}

fn elapsed(totals: &RunTotals) -> String {
    let secs = totals.elapsed.as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let rate = if secs > 0.0 && totals.bytes > 0 {
        format!(", {}/s", bytes((totals.bytes as f64 / secs) as u64))
    } else {
        String::new()
    };
    format!("{secs:.2} s{rate}")
}

#[cfg(test)]
mod tests {
    use snowfunnel_engine::ExperimentSummary;

    use super::*;

    #[test]
    fn names_from_the_data_are_escaped() {
        let report = RunReport {
            counters: snowfunnel_ingest::Counters::default(),
            funnels: Vec::new(),
            experiments: vec![ExperimentSummary {
                experiment: "exp\u{1b}[2J".into(),
                contexts: 2,
                keys: 2,
                conflicting_keys: 0,
                variants: vec![("\u{7}bell".into(), 1), (String::new(), 1)],
            }],
        };
        let totals =
            RunTotals { skipped_files: vec!["s3://b/\u{1b}[1m.gz: corrupt".into()], ..RunTotals::default() };
        let text = summary_text(&report, &totals);
        assert!(!text.contains(['\u{1b}', '\u{7}']), "{text:?}");
        assert!(text.contains("exp\\u{1b}[2J: 2 contexts, 2 keys, 0 conflicting (0.00%); keys by variant: \\u{7}bell 1, (empty) 1"), "{text}");
        assert!(text.contains("skipped (corrupt)  s3://b/\\u{1b}[1m.gz: corrupt"), "{text}");
    }
}
