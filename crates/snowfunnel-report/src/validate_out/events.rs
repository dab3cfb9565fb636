//! `validate_events.csv`: one row per experiment and event kind.

use std::io::{self, Write};

use snowfunnel_parse::format_micros;
use snowfunnel_validate::ValidationReport;

use super::share;
use crate::number::rate;
use crate::{CsvCells, list_name};

/// The header of `validate_events.csv`: one row per experiment and event kind.
pub const VALIDATE_EVENTS_HEADER: [&str; 11] = [
    "experiment",
    "event",
    "category",
    "action",
    "label",
    "events",
    "keys",
    "first_seen",
    "last_seen",
    "keys_by_variant",
    "share_by_variant",
];

/// Writes `validate_events.csv`: per experiment (by name) and event kind (most events first),
/// events, distinct keys, first and last event time (ISO 8601 UTC, milliseconds), and the keys
/// of every variant of the experiment as `variant=keys` pairs joined by `;` (control first, then
/// by name, the same order on every row of an experiment) with their shares (4 decimals). In
/// the pairs, variant names are percent-encoded as [`list_name`] says, so the lists split back
/// whatever the names. Every text cell is written as `cells` says.
///
/// # Errors
/// When writing fails.
pub fn validate_events_csv(report: &ValidationReport, cells: CsvCells, out: impl Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(VALIDATE_EVENTS_HEADER)?;
    for e in &report.experiments {
        for k in &e.event_kinds {
            let total: u64 = k.keys_by_variant.iter().sum();
            let pairs = |value: &dyn Fn(u64) -> String| {
                e.variants
                    .iter()
                    .zip(&k.keys_by_variant)
                    .map(|(v, &keys)| format!("{}={}", list_name(&v.variant), value(keys)))
                    .collect::<Vec<_>>()
                    .join(";")
            };
            let shares = if total == 0 { String::new() } else { pairs(&|keys| rate(share(keys, total))) };
            w.write_record([
                &*cells.text(e.experiment.as_str()),
                &*cells.text(k.event.as_str()),
                &*cells.text(k.category.as_str()),
                &*cells.text(k.action.as_str()),
                &*cells.text(k.label.as_str()),
                &k.events.to_string(),
                &k.keys.to_string(),
                &format_micros(k.first_seen),
                &format_micros(k.last_seen),
                &*cells.text(pairs(&|keys| keys.to_string())),
                &*cells.text(shares),
            ])?;
        }
    }
    w.flush()
}
