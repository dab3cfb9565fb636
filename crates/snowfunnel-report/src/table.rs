//! The readable terminal output of a funnel: a table that fits 80 columns, then its verdicts.

use comfy_table::{CellAlignment, ColumnConstraint, ContentArrangement, LineStyle, Table, TableStyle};
use snowfunnel_stats::FunnelResult;

use crate::csv_out::EXPOSED_STEP_NAME;
use crate::number::{grouped, p_value, shown_name};
use crate::terminal_text;
use crate::verdict::{Tone, level_pct, no_verdict, signed_pct, verdicts, verdicts_heading};

/// The width the table keeps within: long names wrap inside their cells.
pub(crate) const TABLE_WIDTH: u16 = 80;

/// Lines above and below the table and under its header, none between columns or rows: the
/// columns keep their room for numbers.
pub(crate) const STYLE: TableStyle = TableStyle::new()
    .top_border(LineStyle::none().fill('─').junction('─'))
    .header_separator(LineStyle::none().fill('─').junction('─'))
    .bottom_border(LineStyle::none().fill('─').junction('─'));

/// A titled table, one row per variant per step: keys, the conversion from the first step with
/// its interval (at the level of the result's options, which the heading names), and against
/// the control the lift and the adjusted p-value (`*` when significant); then one verdict line
/// per comparison, coloured (green better, red worse, grey not significant) when `colour`.
/// Names are escaped for the terminal.
#[must_use]
pub fn funnel_table(result: &FunnelResult, colour: bool) -> String {
    let report = &result.report;
    let mut table = Table::new();
    table.load_style(STYLE);
    table.set_content_arrangement(ContentArrangement::Dynamic);
    table.set_width(TABLE_WIDTH);
    table.set_header([
        "variant".to_owned(),
        "step".to_owned(),
        "keys".to_owned(),
        "from first".to_owned(),
        format!("{} CI", level_pct(result.options.confidence)),
        "lift".to_owned(),
        "p (adj.)".to_owned(),
    ]);
    for (v, stats) in report.variants.iter().zip(&result.stats) {
        let exposed = result.exposed(v);
        if let Some(exposed) = exposed {
            let whole = pct((exposed > 0).then_some(1.0));
            table.add_row([shown_name(&v.variant).into_owned(), "0".to_owned(), grouped(exposed), whole]);
        }
        for (step, stats) in stats.iter().enumerate() {
            let comparison = stats.comparison.as_ref();
            table.add_row([
                if step == 0 && exposed.is_none() {
                    shown_name(&v.variant).into_owned()
                } else {
                    String::new()
                },
                (step + 1).to_string(),
                grouped(v.keys_per_step[step]),
                pct(stats.conversion_from_first),
                stats.ci.map_or_else(String::new, |(low, high)| {
                    format!("{:.1}-{:.1}%", low * 100.0, high * 100.0)
                }),
                comparison.and_then(|c| c.lift).map_or_else(String::new, signed_pct),
                comparison.map_or_else(String::new, |c| {
                    format!("{}{}", p_value(Some(c.p_value_adjusted)), if c.significant { " *" } else { "" })
                }),
            ]);
        }
    }
    // Numbers keep their width; the names take what is left, and wrap.
    for column in 1..7 {
        if let Some(c) = table.column_mut(column) {
            c.set_cell_alignment(CellAlignment::Right);
            c.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
    let title = format!(
        "Funnel {} (experiment {}): {} keys, {} conflicting (excluded)",
        terminal_text(&report.name),
        terminal_text(&report.experiment),
        grouped(report.keys),
        grouped(report.conflicting_keys)
    );
    let mut out = String::new();
    for line in
        textwrap::wrap(&title, textwrap::Options::new(usize::from(TABLE_WIDTH)).subsequent_indent("  "))
    {
        out.push_str(&line);
        out.push('\n');
    }
    // The step names once, above the table: its columns keep their room for the numbers.
    let exposed = report.variants.iter().any(|v| result.exposed(v).is_some());
    let steps: Vec<String> = exposed
        .then(|| format!("0 {EXPOSED_STEP_NAME}"))
        .into_iter()
        .chain(
            report
                .step_names
                .iter()
                .enumerate()
                .map(|(i, name)| format!("{} {}", i + 1, terminal_text(name))),
        )
        .collect();
    let legend = format!("Steps: {}", steps.join(" · "));
    for line in
        textwrap::wrap(&legend, textwrap::Options::new(usize::from(TABLE_WIDTH)).subsequent_indent("  "))
    {
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&format!("{table}\n"));
    let verdicts = verdicts(result);
    if let Some(none) = no_verdict(result) {
        for line in textwrap::wrap(&terminal_text(&none), usize::from(TABLE_WIDTH)) {
            out.push_str(&line);
            out.push('\n');
        }
    } else {
        for line in textwrap::wrap(&verdicts_heading(result.options), usize::from(TABLE_WIDTH)) {
            out.push_str(&line);
            out.push('\n');
        }
        let wrap =
            textwrap::Options::new(usize::from(TABLE_WIDTH)).initial_indent("  ").subsequent_indent("    ");
        for verdict in &verdicts {
            let text = terminal_text(&verdict.text()).into_owned();
            let style = match verdict.tone {
                Tone::Better => anstyle::AnsiColor::Green.on_default(),
                Tone::Worse => anstyle::AnsiColor::Red.on_default(),
                Tone::Inconclusive => anstyle::AnsiColor::BrightBlack.on_default(),
            };
            for line in textwrap::wrap(&text, &wrap) {
                if colour {
                    out.push_str(&format!("{style}{line}{style:#}\n"));
                } else {
                    out.push_str(&format!("{line}\n"));
                }
            }
        }
    }
    out
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
            exposed: None,
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
            breakdowns: Vec::new(),
            keys: 20,
            conflicting_keys: 0,
        };
        let table = funnel_table(&computed(report), false);
        assert!(!table.contains(['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}']), "{table:?}");
        assert!(
            table.starts_with("Funnel f\\u{1b}]0;title\\u{7} (experiment e\\u{9b}31m): 20 keys"),
            "{table}"
        );
        // Whole in the verdict line (the table may wrap a long name inside its cell).
        assert!(table.contains("  x\\u{1b}[31m\\u{202e}, step 2 (two\\nthree): +0.0% [-58.4%,"), "{table}");
        assert!(table.lines().all(|l| l.chars().count() <= usize::from(TABLE_WIDTH)), "{table}");
    }

    #[test]
    fn colour_only_when_asked_and_the_level_in_the_heading() {
        let report = FunnelReport {
            name: "f".into(),
            experiment: "e".into(),
            control: "control".into(),
            step_names: vec!["Viewed the pipeline editor page".into(), "Clicked the walkthrough".into()],
            variants: vec![
                crate::testing::counts("control", vec![1000, 120]),
                crate::testing::counts("a_rather_long_candidate_variant_name", vec![1000, 300]),
            ],
            cohorts: Vec::new(),
            breakdowns: Vec::new(),
            keys: 2000,
            conflicting_keys: 0,
        };
        let mut result = computed(report);
        let plain = funnel_table(&result, false);
        assert!(!plain.contains('\u{1b}'), "{plain}");
        assert!(plain.lines().all(|l| l.chars().count() <= usize::from(TABLE_WIDTH)), "{plain}");
        assert!(plain.contains("95% CI"), "{plain}");
        let coloured = funnel_table(&result, true);
        assert!(
            coloured.contains("\u{1b}[32m  a_rather_long_candidate_variant_name, step 2"),
            "{coloured:?}"
        );
        result.options.confidence = 0.9;
        assert!(funnel_table(&result, false).contains("90% CI"));
    }
}
