//! The validation report's outputs: four CSV files with fixed headers (later versions may
//! append columns, never reorder them) and the readable summary naming every problem found,
//! one file each: `events`, `days`, `app_ids` and `summary_csv` for the CSV files, `text` for
//! the summary.

mod app_ids;
mod days;
mod events;
mod summary_csv;
#[cfg(test)]
mod tests;
mod text;

use snowfunnel_parse::format_day;
use snowfunnel_validate::Outage;

pub use app_ids::{VALIDATE_APP_IDS_HEADER, validate_app_ids_csv};
pub use days::{VALIDATE_DAYS_HEADER, validate_days_csv};
pub use events::{VALIDATE_EVENTS_HEADER, validate_events_csv};
pub use summary_csv::{VALIDATE_SUMMARY_HEADER, validate_summary_csv};
pub use text::{problem_text, validate_text};

/// `part` as a share of `whole`; none of nothing.
#[allow(clippy::cast_precision_loss)]
fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// An outage as its day, or as its first and last days joined by `..`.
fn outage_range(o: &Outage) -> String {
    if o.days() == 1 {
        format_day(o.first_day)
    } else {
        format!("{}..{}", format_day(o.first_day), format_day(o.last_day))
    }
}
