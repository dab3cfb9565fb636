//! `validate_summary.csv`: one row per check (and item of a check), problems flagged.

use std::io::{self, Write};

use snowfunnel_parse::BadReason;
use snowfunnel_stats::SRM_ALERT;
use snowfunnel_validate::{Outage, ValidationReport};

use super::{outage_range, share};
use crate::CsvCells;
use crate::number::{p_value, rate};

/// The header of `validate_summary.csv`: one row per check (and item of a check).
pub const VALIDATE_SUMMARY_HEADER: [&str; 7] =
    ["check", "experiment", "item", "count", "share", "p_value", "problem"];

/// Writes `validate_summary.csv`: every check, one row each (a row per bad-row reason and
/// per variant), `problem` true where the summary names a problem. See the README for the
/// checks. The `experiment` and `item` cells (a variant name, say) are written as `cells` says.
///
/// # Errors
/// When writing fails.
pub fn validate_summary_csv(report: &ValidationReport, cells: CsvCells, out: impl Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(VALIDATE_SUMMARY_HEADER)?;
    let mut row = |check: &str,
                   experiment: &str,
                   item: &str,
                   count: u64,
                   share: Option<f64>,
                   p: Option<f64>,
                   problem: bool| {
        w.write_record([
            check,
            &*cells.text(experiment),
            &*cells.text(item),
            &count.to_string(),
            &rate(share),
            &p_value(p),
            if problem { "true" } else { "false" },
        ])
    };
    let c = &report.counters;
    row("lines", "", "", c.lines, None, None, false)?;
    for reason in BadReason::ALL {
        let n = c.bad[reason];
        row("bad_rows", "", reason.code(), n, share(n, c.lines), None, n > 0)?;
    }
    let d = &report.duplicates;
    row(
        "duplicate_events",
        "",
        "",
        d.extra_copies(),
        share(d.extra_copies(), d.tracked_events),
        None,
        d.extra_copies() > 0,
    )?;
    row(
        "duplicated_event_ids",
        "",
        "",
        d.duplicated_ids,
        share(d.duplicated_ids, d.distinct_ids),
        None,
        d.duplicated_ids > 0,
    )?;
    let contexts = c.experiment_contexts;
    let without = c.contexts_without_key;
    row("contexts_without_key", "", "", without, share(without, contexts), None, without > 0)?;
    let incomplete = c.incomplete_contexts;
    row("incomplete_contexts", "", "", incomplete, share(incomplete, contexts), None, incomplete > 0)?;
    for e in &report.experiments {
        let name = e.experiment.as_str();
        row("experiment_events", name, "", e.events, None, None, e.events == 0)?;
        let srm_p = e.srm.as_ref().map(|s| s.p_value);
        let uneven = srm_p.is_some_and(|p| p < SRM_ALERT);
        for v in &e.variants {
            row("variant_keys", name, &v.variant, v.exclusive_keys, v.share, srm_p, uneven)?;
        }
        row(
            "conflicting_keys",
            name,
            "",
            e.conflicting_keys,
            share(e.conflicting_keys, e.keys),
            None,
            e.conflicting_keys > 0,
        )?;
        let outage_days: i64 = e.outages.iter().map(Outage::days).sum();
        let ranges: Vec<String> = e.outages.iter().map(outage_range).collect();
        row("outage_days", name, &ranges.join(" "), outage_days.unsigned_abs(), None, None, outage_days > 0)?;
    }
    w.flush()
}
