//! The index page of a run's HTML reports.

use maud::html;
use snowfunnel_ingest::Counters;
use snowfunnel_stats::FunnelResult;

use super::{count_cell, file_link, name, page};
use crate::RunWarnings;
use crate::json::RunStamp;
use crate::number::{grouped, percent};
use crate::verdict::{Tone, verdicts};

/// The index page's file name. It starts with `_`, as the completion marker `_SUCCESS`, for the
/// run's own files; a funnel named `_index` is refused, so no funnel's page can take its place.
pub const INDEX_HTML: &str = "_index.html";

/// The index page: every funnel with a link to its page (`<funnel>.html`), its experiment,
/// step-1 keys, how its comparisons came out and its warning count; then the run's warnings
/// (`warnings`, those of `results`) and bad rows.
#[must_use]
pub fn index_html(
    results: &[FunnelResult],
    warnings: &RunWarnings,
    counters: &Counters,
    stamp: &RunStamp,
) -> String {
    let bad = counters.bad.total();
    let body = html! {
        h1 { "Experiment funnels" }
        p.meta {
            span { (grouped(counters.lines)) " lines read" }
            span { (grouped(bad)) " bad rows (" (percent(bad, counters.lines)) ")" }
            span { "as of " (stamp.as_of) }
        }
        section #funnels {
            h2 { "Funnels" }
            div.table-wrap {
                table {
                    caption { "One row per funnel; a funnel's page has its verdicts, charts and tables." }
                    thead {
                        tr {
                            th scope="col" { "Funnel" }
                            th scope="col" { "Experiment" }
                            th scope="col" { "Step-1 keys" }
                            th scope="col" { "Better" }
                            th scope="col" { "Worse" }
                            th scope="col" { "Not significant" }
                            th scope="col" { "Warnings" }
                        }
                    }
                    tbody {
                        @for (r, funnel_warnings) in results.iter().zip(&warnings.per_funnel) {
                            @let v = verdicts(r);
                            @let count = |tone: Tone| v.iter().filter(|v| v.tone == tone).count() as u64;
                            tr {
                                th scope="row" { a href=(file_link(&format!("{}.html", r.report.name))) { (r.report.name) } }
                                td.text { (name(&r.report.experiment)) }
                                td { (count_cell(r.report.step1_keys())) }
                                td { (count_cell(count(Tone::Better))) }
                                td { (count_cell(count(Tone::Worse))) }
                                td { (count_cell(count(Tone::Inconclusive))) }
                                td { (count_cell(funnel_warnings.len() as u64)) }
                            }
                        }
                    }
                }
            }
        }
        section #checks {
            h2 { "Warnings" }
            @if warnings.run.is_empty() {
                p.ok { "No warning." }
            } @else {
                ul.warnings { @for w in &warnings.run { li { (w) } } }
            }
        }
    };
    page("Experiment funnels · snowfunnel", stamp, body)
}
