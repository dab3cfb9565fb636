//! The readable terminal table of a funnel.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};
use snowfunnel_engine::FunnelReport;
use snowfunnel_stats::{CompareOptions, StatsError};

use crate::funnel_stats;
use crate::number::{grouped, p_value, shown_name};

/// A titled table: one row per variant per step, with conversion rates as percentages, the
/// 95% interval of the conversion from the first step, and against the control the lift and
/// the adjusted p-value (`*` when significant).
///
/// # Errors
/// [`StatsError`] for levels outside (0, 1) in `options`.
pub fn funnel_table(report: &FunnelReport, options: CompareOptions) -> Result<String, StatsError> {
    let stats = funnel_stats(&report.variants, &report.control, options)?;
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    table.set_header([
        "variant",
        "step",
        "name",
        "keys",
        "from previous",
        "from first",
        "95% CI",
        "lift",
        "p (adj.)",
    ]);
    for (v, stats) in report.variants.iter().zip(&stats) {
        for (step, (name, stats)) in report.step_names.iter().zip(stats).enumerate() {
            let comparison = stats.comparison.as_ref();
            table.add_row([
                if step == 0 { shown_name(&v.variant).to_owned() } else { String::new() },
                (step + 1).to_string(),
                name.clone(),
                grouped(v.keys_per_step[step]),
                pct(v.conversion_from_previous(step)),
                pct(v.conversion_from_first(step)),
                stats.ci.map_or_else(String::new, |(low, high)| {
                    format!("{:.1}-{:.1}%", low * 100.0, high * 100.0)
                }),
                comparison.and_then(|c| c.lift).map_or_else(String::new, |l| format!("{:+.1}%", l * 100.0)),
                comparison.map_or_else(String::new, |c| {
                    format!("{}{}", p_value(Some(c.p_value_adjusted)), if c.significant { " *" } else { "" })
                }),
            ]);
        }
    }
    for column in [3, 4, 5, 6, 7, 8] {
        if let Some(c) = table.column_mut(column) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    Ok(format!(
        "Funnel {} (experiment {}): {} keys, {} conflicting (excluded)\n{table}\n",
        report.name,
        report.experiment,
        grouped(report.keys),
        grouped(report.conflicting_keys)
    ))
}

fn pct(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_owned(), |r| format!("{:.1}%", r * 100.0))
}
