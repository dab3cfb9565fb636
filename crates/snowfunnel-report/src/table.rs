//! The readable terminal table of a funnel.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};
use snowfunnel_engine::FunnelReport;

use crate::number::{grouped, shown_name};

/// A titled table: one row per variant per step, with conversion rates as percentages.
#[must_use]
pub fn funnel_table(report: &FunnelReport) -> String {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    table.set_header(["variant", "step", "name", "keys", "from previous", "from first"]);
    for v in &report.variants {
        for (step, name) in report.step_names.iter().enumerate() {
            table.add_row([
                if step == 0 { shown_name(&v.variant).to_owned() } else { String::new() },
                (step + 1).to_string(),
                name.clone(),
                grouped(v.keys_per_step[step]),
                pct(v.conversion_from_previous(step)),
                pct(v.conversion_from_first(step)),
            ]);
        }
    }
    for column in 3..6 {
        if let Some(c) = table.column_mut(column) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    format!(
        "Funnel {} (experiment {}): {} keys, {} conflicting (excluded)\n{table}\n",
        report.name,
        report.experiment,
        grouped(report.keys),
        grouped(report.conflicting_keys)
    )
}

fn pct(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_owned(), |r| format!("{:.1}%", r * 100.0))
}
