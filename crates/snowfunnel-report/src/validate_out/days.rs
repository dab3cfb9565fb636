//! `validate_days.csv`: one row per experiment and day, outages included.

use std::io::{self, Write};

use snowfunnel_validate::ValidationReport;

use crate::CsvCells;
use snowfunnel_parse::format_day;

/// The header of `validate_days.csv`: one row per experiment and day.
pub const VALIDATE_DAYS_HEADER: [&str; 5] = ["experiment", "day", "events", "keys", "outage"];

/// Writes `validate_days.csv`: per experiment, every day (UTC, by event time) from the first
/// to the last day seen with its events and distinct keys; a day without events in between is
/// a possible outage (`outage` true). Zero-event runs longer than
/// [`snowfunnel_validate::MAX_LISTED_GAP_DAYS`] are not listed day by day (the summary names
/// them). The experiment name is written as `cells` says.
///
/// # Errors
/// When writing fails.
pub fn validate_days_csv(report: &ValidationReport, cells: CsvCells, out: impl Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(VALIDATE_DAYS_HEADER)?;
    for e in &report.experiments {
        for d in &e.days {
            w.write_record([
                &*cells.text(e.experiment.as_str()),
                &format_day(d.day),
                &d.events.to_string(),
                &d.keys.to_string(),
                if d.outage { "true" } else { "false" },
            ])?;
        }
    }
    w.flush()
}
