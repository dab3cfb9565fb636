//! `snowfunnel experiments`: the experiments of the inputs, their variants and their events by
//! kind, with counts, as text to write a funnel file from. Formats the validation report (the
//! `Scope` job of `snowfunnel-validate`); names escaped for the terminal.

use std::fmt::Write;

use snowfunnel_validate::ValidationReport;

use crate::number::{grouped, shown_name};

/// The listing: per experiment (by name) a line with its events, keys and first and last days
/// seen, a line with its variants and their keys, then a table of its event kinds (event,
/// category, action, label: the step fields of a funnel file), most events first.
#[must_use]
pub fn experiments_text(report: &ValidationReport) -> String {
    let mut out = String::new();
    if report.experiments.is_empty() {
        out.push_str("no experiment context in the inputs\n");
    }
    let day = |t: Option<i64>| {
        t.map_or_else(|| "-".to_owned(), |t| snowfunnel_parse::format_micros(t)[..10].to_owned())
    };
    for e in &report.experiments {
        let _ = writeln!(
            out,
            "experiment {}: {} events, {} keys, {} to {}",
            shown_name(&e.experiment),
            grouped(e.events),
            grouped(e.keys),
            day(e.first_seen),
            day(e.last_seen)
        );
        let variants: Vec<String> = e
            .variants
            .iter()
            .map(|v| format!("{} ({} keys)", shown_name(&v.variant), grouped(v.keys)))
            .collect();
        let _ = writeln!(
            out,
            "  variants: {}",
            if variants.is_empty() { "none".to_owned() } else { variants.join(", ") }
        );
        if e.event_kinds.is_empty() {
            continue;
        }
        let mut rows: Vec<[String; 6]> =
            vec![["event", "category", "action", "label", "events", "keys"].map(str::to_owned)];
        for k in &e.event_kinds {
            rows.push([
                shown_name(&k.event).into_owned(),
                shown_name(&k.category).into_owned(),
                shown_name(&k.action).into_owned(),
                shown_name(&k.label).into_owned(),
                grouped(k.events),
                grouped(k.keys),
            ]);
        }
        let widths: Vec<usize> =
            (0..6).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
        for row in &rows {
            let mut line = String::from("  ");
            for (c, cell) in row.iter().enumerate() {
                let pad = widths[c] - cell.chars().count();
                if c < 4 {
                    line.push_str(cell);
                    line.push_str(&" ".repeat(pad + 2));
                } else {
                    // Counts right-aligned.
                    line.push_str(&" ".repeat(pad));
                    line.push_str(cell);
                    line.push_str("  ");
                }
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use snowfunnel_ingest::Ingester;
    use snowfunnel_validate::{Scope, ValidateRecorder, ValidateState};

    use super::*;

    #[test]
    fn lists_experiments_variants_and_event_kinds_with_counts() {
        let scope = Scope::all();
        let mut ingester = Ingester::new(ValidateRecorder::new(&scope));
        let mut state = ValidateState::new(&scope);
        for (key, variant, action, label) in [
            ("k1", "control", "view_editor", ""),
            ("k2", "candidate", "view_editor", ""),
            ("k2", "candidate", "click_walkthrough", "cta"),
            ("k3", "candidate\u{1b}", "view_editor", ""),
        ] {
            let mut fields = vec![String::new(); snowfunnel_parse::FIELD_COUNT];
            fields[snowfunnel_parse::fields::EVENT_ID] = format!("{key}{action}");
            fields[snowfunnel_parse::fields::COLLECTOR_TSTAMP] = "2026-03-01 10:00:00".into();
            fields[snowfunnel_parse::fields::EVENT] = "struct".into();
            fields[snowfunnel_parse::fields::SE_CATEGORY] = "projects:ci:editor".into();
            fields[snowfunnel_parse::fields::SE_ACTION] = action.into();
            fields[snowfunnel_parse::fields::SE_LABEL] = label.into();
            fields[snowfunnel_parse::fields::CONTEXTS] = format!(
                r#"{{"data":[{{"schema":"iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-0","data":{{"experiment":"walkthrough","key":"{key}","variant":"{}"}}}}]}}"#,
                variant.replace('\u{1b}', "\\u001b")
            );
            ingester.ingest(&mut state, fields.join("\t").as_bytes()).unwrap();
        }
        let text = experiments_text(&state.report());
        assert_eq!(
            text,
            "experiment walkthrough: 4 events, 3 keys, 2026-03-01 to 2026-03-01\n  \
             variants: control (1 keys), candidate (1 keys), candidate\\u{1b} (1 keys)\n  \
             event   category            action             label    events  keys\n  \
             struct  projects:ci:editor  view_editor        (empty)       3     3\n  \
             struct  projects:ci:editor  click_walkthrough  cta           1     1\n",
            "{text}"
        );
        assert_eq!(
            experiments_text(&ValidateState::new(&scope).report()),
            "no experiment context in the inputs\n"
        );
    }
}
