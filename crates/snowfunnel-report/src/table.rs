//! The readable terminal table of a funnel.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};
use snowfunnel_stats::FunnelResult;

use crate::number::{grouped, p_value, shown_name};
use crate::terminal_text;

/// A titled table: one row per variant per step, with conversion rates as percentages, the
/// 95% interval of the conversion from the first step, and against the control the lift and
/// the adjusted p-value (`*` when significant). Names are escaped for the terminal.
#[must_use]
pub fn funnel_table(result: &FunnelResult) -> String {
    let report = &result.report;
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
    for (v, stats) in report.variants.iter().zip(&result.stats) {
        for (step, (name, stats)) in report.step_names.iter().zip(stats).enumerate() {
            let comparison = stats.comparison.as_ref();
            table.add_row([
                if step == 0 { shown_name(&v.variant).into_owned() } else { String::new() },
                (step + 1).to_string(),
                terminal_text(name).into_owned(),
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
    format!(
        "Funnel {} (experiment {}): {} keys, {} conflicting (excluded)\n{table}\n",
        terminal_text(&report.name),
        terminal_text(&report.experiment),
        grouped(report.keys),
        grouped(report.conflicting_keys)
    )
}

fn pct(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

#[cfg(test)]
mod tests {
    use snowfunnel_engine::{FunnelReport, VariantCounts};

    use super::*;
    use crate::testing::computed;

    #[test]
    fn names_from_the_data_are_escaped() {
        let counts = |variant: &str| VariantCounts {
            variant: variant.into(),
            keys_per_step: vec![10, 5],
            time_to_step: vec![None, None],
        };
        let report = FunnelReport {
            name: "f\u{1b}]0;title\u{7}".into(),
            experiment: "e\u{9b}31m".into(),
            control: "control".into(),
            step_names: vec!["one\u{1b}[2J".into(), "two\nthree".into()],
            variants: vec![counts("control"), counts("x\u{1b}[31m\u{202e}")],
            cohorts: Vec::new(),
            keys: 20,
            conflicting_keys: 0,
        };
        let table = funnel_table(&computed(report));
        assert!(!table.contains(['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}']), "{table:?}");
        assert!(
            table.starts_with("Funnel f\\u{1b}]0;title\\u{7} (experiment e\\u{9b}31m): 20 keys"),
            "{table}"
        );
        for shown in ["one\\u{1b}[2J", "two\\nthree", "x\\u{1b}[31m\\u{202e}"] {
            assert!(table.contains(shown), "{shown}: {table}");
        }
        // The title, the borders, the header and one line per row: the newline of a step name
        // does not split its row.
        assert_eq!(table.lines().count(), 1 + 4 + 4);
    }
}
