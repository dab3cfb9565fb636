//! `validate.html`: the data validation report as a page.

use maud::html;
use snowfunnel_validate::{MAX_LISTED_GAP_DAYS, Problem, ValidationReport};

use snowfunnel_parse::format_day;

use super::chart::{daily_lines, legend};
use super::{count_cell, name, page, pct_cell};
use crate::json::RunStamp;
use crate::number::grouped;
use crate::problem_text;

/// The validation page's file name.
pub const VALIDATE_HTML: &str = "validate.html";

/// The experiment a problem is about, if it is about one.
fn experiment_of(problem: &Problem) -> Option<&str> {
    match problem {
        Problem::NoEvents { experiment }
        | Problem::Outages { experiment, .. }
        | Problem::UnevenSplit { experiment, .. }
        | Problem::ConflictingKeys { experiment, .. } => Some(experiment),
        _ => None,
    }
}

/// The validation page: the problems of the whole run, then per experiment its events, keys
/// and split between variants, a chart of its events and keys per day (zero-event days inside
/// its span are outages), and its problems.
#[must_use]
pub fn validate_html(report: &ValidationReport, stamp: &RunStamp) -> String {
    let problems = report.problems();
    let c = &report.counters;
    let body = html! {
        h1 { "Experiment data validation" }
        p.meta {
            span { (grouped(c.lines)) " lines read" }
            span { (grouped(c.experiment_events)) " experiment events" }
            span { "as of " (stamp.as_of) }
        }
        section #problems {
            h2 { "Problems of the run" }
            @let general: Vec<&Problem> = problems.iter().filter(|p| experiment_of(p).is_none()).collect();
            @if general.is_empty() {
                p.ok { "None." }
            } @else {
                ul.warnings { @for p in general { li { (problem_text(p)) } } }
            }
        }
        @for e in &report.experiments {
            section.experiment {
                h2 { "Experiment " (name(&e.experiment)) }
                p.meta {
                    span { (grouped(e.events)) " events" }
                    span { (grouped(e.keys)) " keys (" (grouped(e.conflicting_keys)) " with several variants)" }
                    @if let (Some(first), Some(last)) = (e.first_seen, e.last_seen) {
                        span { (snowfunnel_parse::format_micros(first)) " to " (snowfunnel_parse::format_micros(last)) }
                    }
                }
                @let own: Vec<&Problem> = problems.iter().filter(|p| experiment_of(p) == Some(e.experiment.as_str())).collect();
                @if own.is_empty() {
                    p.ok { "No problem found." }
                } @else {
                    ul.warnings { @for p in own { li { (problem_text(p)) } } }
                }
                @if !e.days.is_empty() {
                    @let days: Vec<String> = e.days.iter().map(|d| format_day(d.day)).collect();
                    @let series: Vec<Vec<u64>> = (0..e.variants.len())
                        .map(|v| e.days.iter().map(|d| d.events_by_variant.get(v).copied().unwrap_or(0)).collect())
                        .collect();
                    figure {
                        (daily_lines(&format!("Events per day and variant, experiment {}", e.experiment), &days, &series))
                        (legend(e.variants.iter().map(|v| v.variant.as_str())))
                        figcaption { "By UTC day of the event time; an event counts in each variant its contexts name. A day at 0 between others is a possible outage; gaps longer than " (MAX_LISTED_GAP_DAYS) " days are left out of the chart and listed above." }
                    }
                }
                div.table-wrap {
                    table {
                        caption { "Keys per variant" }
                        thead {
                            tr {
                                th scope="col" { "Variant" }
                                th scope="col" { "Keys" }
                                th scope="col" { "Keys of this variant only" }
                                th scope="col" { "Share" }
                            }
                        }
                        tbody {
                            @for v in &e.variants {
                                tr {
                                    th scope="row" { (name(&v.variant)) }
                                    td { (count_cell(v.keys)) }
                                    td { (count_cell(v.exclusive_keys)) }
                                    td { (pct_cell(v.share)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page("Experiment data validation · snowfunnel", stamp, body)
}
