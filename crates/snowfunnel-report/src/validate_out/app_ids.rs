//! `validate_app_ids.csv`: one row per experiment and `app_id`.

use std::io::{self, Write};

use snowfunnel_validate::ValidationReport;

use super::share;
use crate::CsvCells;
use crate::number::rate;

/// The header of `validate_app_ids.csv`: one row per experiment and `app_id`.
pub const VALIDATE_APP_IDS_HEADER: [&str; 6] =
    ["experiment", "app_id", "events", "event_share", "keys", "key_share"];

/// Writes `validate_app_ids.csv`: per experiment and `app_id` (most events first), events and
/// their share of the experiment's events, distinct keys and their share of its keys. The
/// experiment and the `app_id` are written as `cells` says.
///
/// # Errors
/// When writing fails.
pub fn validate_app_ids_csv(report: &ValidationReport, cells: CsvCells, out: impl Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(VALIDATE_APP_IDS_HEADER)?;
    for e in &report.experiments {
        for a in &e.app_ids {
            w.write_record([
                &*cells.text(e.experiment.as_str()),
                &*cells.text(a.app_id.as_str()),
                &a.events.to_string(),
                &rate(share(a.events, e.events)),
                &a.keys.to_string(),
                &rate(share(a.keys, e.keys)),
            ])?;
        }
    }
    w.flush()
}
