//! The readable validation summary for the terminal, and each problem as a line of it.

use std::fmt::Write as _;

use snowfunnel_parse::format_micros;
use snowfunnel_validate::{Problem, ValidationReport};

use super::outage_range;
use crate::number::{grouped, p_value, percent, shown_name};
use crate::summary::{summary_line, write_bad_rows_log, write_inputs};
use crate::{RunTotals, terminal_text};

/// One problem as a readable line, names escaped for the terminal.
#[must_use]
pub fn problem_text(problem: &Problem) -> String {
    match problem {
        Problem::BadRows { bad, lines, by_reason } => {
            let reasons: Vec<String> =
                by_reason.iter().map(|(r, n)| format!("{} {}", r.code(), grouped(*n))).collect();
            format!(
                "bad rows: {} of {} lines ({}): {}",
                grouped(*bad),
                grouped(*lines),
                percent(*bad, *lines),
                reasons.join(", ")
            )
        }
        Problem::DuplicateEvents { copies, ids, events } => format!(
            "duplicated event ids: {} extra copies of {} event ids ({} of {} experiment events)",
            grouped(*copies),
            grouped(*ids),
            percent(*copies, *events),
            grouped(*events)
        ),
        Problem::ContextsWithoutKey { count, contexts } => format!(
            "experiment contexts without a key: {} of {} ({}), ignored",
            grouped(*count),
            grouped(*contexts),
            percent(*count, *contexts)
        ),
        Problem::IncompleteContexts { count, contexts } => format!(
            "experiment contexts without an experiment or variant: {} of {} ({}), ignored",
            grouped(*count),
            grouped(*contexts),
            percent(*count, *contexts)
        ),
        Problem::NoEvents { experiment } => format!("experiment {}: no events", terminal_text(experiment)),
        Problem::Outages { experiment, outages } => {
            let runs: Vec<String> = outages
                .iter()
                .map(|o| {
                    if o.days() == 1 {
                        outage_range(o)
                    } else {
                        format!("{} ({} days)", outage_range(o), grouped(o.days().unsigned_abs()))
                    }
                })
                .collect();
            format!(
                "experiment {}: possible outage, no events on {}",
                terminal_text(experiment),
                runs.join(", ")
            )
        }
        Problem::UnevenSplit { experiment, variants, chi_square, p_value: p } => {
            let total: u64 = variants.iter().map(|(_, k)| k).sum();
            let split: Vec<String> = variants
                .iter()
                .map(|(v, k)| format!("{} {} ({})", shown_name(v), grouped(*k), percent(*k, total)))
                .collect();
            format!(
                "experiment {}: very uneven split between variants: {} (chi-square {chi_square:.1}, p = {})",
                terminal_text(experiment),
                split.join(", "),
                p_value(Some(*p))
            )
        }
        Problem::ConflictingKeys { experiment, conflicting, keys } => format!(
            "experiment {}: {} of {} keys ({}) seen with several variants",
            terminal_text(experiment),
            grouped(*conflicting),
            grouped(*keys),
            percent(*conflicting, *keys)
        ),
    }
}

/// The readable summary: input totals, a few lines per experiment, and every problem found;
/// names escaped for the terminal.
#[must_use]
pub fn validate_text(report: &ValidationReport, totals: &RunTotals) -> String {
    let c = &report.counters;
    let mut s = String::from("Validation summary\n");
    write_inputs(&mut s, totals);
    let line = summary_line;
    line(&mut s, "lines", grouped(c.lines));
    line(&mut s, "events", grouped(c.events));
    line(
        &mut s,
        "bad lines",
        format!("{} ({} of lines)", grouped(c.bad.total()), percent(c.bad.total(), c.lines)),
    );
    write_bad_rows_log(&mut s, totals);
    line(
        &mut s,
        "experiment events",
        format!("{} ({} contexts)", grouped(c.experiment_events), grouped(c.experiment_contexts)),
    );
    for e in &report.experiments {
        let _ = writeln!(s, "  {}", terminal_text(&e.experiment));
        let seen = match (e.first_seen, e.last_seen) {
            (Some(first), Some(last)) => format!(
                ", {} to {}, {} days",
                format_micros(first),
                format_micros(last),
                grouped(e.days.iter().filter(|d| !d.outage).count() as u64)
            ),
            _ => String::new(),
        };
        line(&mut s, "    events", format!("{}{seen}", grouped(e.events)));
        let exclusive: u64 = e.variants.iter().map(|v| v.exclusive_keys).sum();
        let split: Vec<String> = e
            .variants
            .iter()
            .map(|v| {
                format!(
                    "{} {} ({})",
                    shown_name(&v.variant),
                    grouped(v.exclusive_keys),
                    percent(v.exclusive_keys, exclusive)
                )
            })
            .collect();
        let split = if split.is_empty() { "none".to_owned() } else { split.join(", ") };
        line(
            &mut s,
            "    keys",
            format!("{}; by variant (keys of one variant only): {split}", grouped(e.keys)),
        );
        let apps: Vec<String> = e
            .app_ids
            .iter()
            .map(|a| format!("{} {}", shown_name(&a.app_id), percent(a.events, e.events)))
            .collect();
        if !apps.is_empty() {
            line(&mut s, "    app_ids", apps.join(", "));
        }
    }
    let problems = report.problems();
    if problems.is_empty() {
        s.push_str("No problems found.\n");
    } else {
        let _ = writeln!(s, "Problems ({})", problems.len());
        for p in &problems {
            let _ = writeln!(s, "  - {}", problem_text(p));
        }
    }
    line(&mut s, "elapsed", format!("{:.2} s", totals.elapsed.as_secs_f64()));
    s
}
