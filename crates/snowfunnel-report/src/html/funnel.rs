//! `<funnel>.html`: one funnel's page.

use maud::{Markup, html};
use snowfunnel_engine::{DayKeys, Denominator, VariantCounts};
use snowfunnel_ingest::Counters;
use snowfunnel_stats::{FunnelResult, Inference, StepStats};

use super::chart::{Bar, bars, daily_lines, every_day, legend};
use super::{INDEX_HTML, count_cell, data, lift_cell, name, page, pct_cell, seconds_cell};
use crate::checks_line;
use crate::csv_out::{EXPOSED_STEP_NAME, conversion_from_previous};
use crate::json::{RunStamp, lift_interval_method, tone_name};
use crate::number::{grouped, p_value, percent};
use crate::verdict::{Tone, level_pct, no_verdict, signed_pct, verdicts, verdicts_heading};

/// The page of one funnel: its verdicts, a chart of each variant's conversion from step 1
/// with its intervals, the step table (keys, conversions, intervals, lifts with their
/// intervals, p-values, significance, times to convert), the checks as a warnings panel
/// (`warnings`, from [`check_warnings`](crate::check_warnings), and the run's bad rows from
/// `counters`), each variant's new step-1 keys per day (when the result has them) and, with
/// `cohort_by`, the table of the result's cohorts.
#[must_use]
pub fn funnel_html(
    result: &FunnelResult,
    cohort_by: Option<&str>,
    warnings: &[String],
    counters: &Counters,
    stamp: &RunStamp,
) -> String {
    let report = &result.report;
    let level = level_pct(result.options.confidence);
    let body = html! {
        nav { a href=(INDEX_HTML) { "All funnels" } }
        h1 { "Funnel " (report.name) }
        p.meta {
            span { "experiment " strong { (name(&report.experiment)) } }
            span { "control " strong { (name(&report.control)) } }
            span { (grouped(report.keys)) " keys (" (grouped(report.conflicting_keys)) " with several variants, left out)" }
            span { "as of " (stamp.as_of) }
        }

        section #verdicts {
            h2 { (verdicts_heading(result.options)) }
            (verdict_list(result))
        }

        section #checks {
            h2 { "Checks" }
            (warnings_panel(warnings, counters))
            p.meta { (checks_line(result)) }
        }

        section #conversion {
            h2 { "Conversion from step 1, with " (level) " intervals" }
            figure {
                (conversion_chart(result))
                (legend(report.variants.iter().map(|v| v.variant.as_str())))
                figcaption { "Bars: the share of each variant's step-1 keys that reached the step; whiskers: its Wilson interval." }
            }
        }

        section #steps {
            h2 { "Steps" }
            div.table-wrap { (step_table(result, &report.variants, &result.stats, None, None)) }
            p.meta {
                "Intervals at " (level) ". Lift: the variant's conversion from step 1 over the control's, minus 1; its interval by the "
                (lift_interval_method(result.options.inference))
                @if let Inference::Sequential { tuning } = result.options.inference {
                    ", tightest at " (tuning) " step-1 keys. Sequential inference: the lift's interval is a confidence sequence and p always valid, so the numbers hold on whichever day they are read. p: always-valid two-sided p-value of equal conversions, from the same sequence"
                } @else {
                    ". p: two-sided test of equal conversions (z-test, Fisher's exact test for small counts)"
                }
                "; adj. p: Holm-adjusted over the funnel; significant when adj. p < "
                (result.options.alpha) ". Time to convert: from a key's first step-1 event, over the keys that reached the step. MDE: the smallest relative increase the fixed-horizon test (unadjusted) detects with 80% power with these keys; keys needed: per variant, to detect "
                @if let Some(mde) = result.options.mde { "the planned " (signed_pct(mde)) } @else { "the observed lift" }
                ". Chance to win and expected loss (the conversion lost, in absolute terms, by shipping the variant): under uniform priors. Conversions are over each variant's "
                (if result.denominator == Denominator::Exposed { "exposed keys (step 0)" } else { "step-1 keys" }) "."
            }
        }

        @if !result.daily.is_empty() {
            section #daily {
                h2 { "Step-1 keys per day" }
                (daily_chart(&result.daily, &report.variants))
            }
        }

        @if !report.cohorts.is_empty() {
            section #cohorts {
                h2 { "Cohorts" @if let Some(by) = cohort_by { " by " (by) } }
                @if report.cohorts.iter().any(|c| c.cumulative) {
                    p.meta { "Cumulative: each cohort is the funnel of the keys whose first step-1 event fell in it or in any period before it (running totals), with its own tests." }
                } @else {
                    p.meta { "Each cohort is the funnel of the keys whose first step-1 event fell in it, with its own tests." }
                }
                @for (cohort, stats) in report.cohorts.iter().zip(&result.cohort_stats) {
                    h3 { "Cohort " (cohort.start) }
                    div.table-wrap { (step_table(result, &cohort.variants, stats, Some(&cohort.start), None)) }
                }
            }
        }

        @if !report.breakdowns.is_empty() {
            section #breakdowns {
                h2 { "Breakdowns" }
                p.meta { "Each block is the funnel of the keys whose first step-1 event had this value of the field, over the whole period, with its own tests." }
                @for (block, stats) in report.breakdowns.iter().zip(&result.breakdown_stats) {
                    h3 { (block.dimension) " = " (name(&block.value)) }
                    div.table-wrap { (step_table(result, &block.variants, stats, None, Some((&block.dimension, &block.value)))) }
                }
            }
        }
    };
    page(&format!("{} · snowfunnel", report.name), stamp, body)
}

fn verdict_list(result: &FunnelResult) -> Markup {
    let verdicts = verdicts(result);
    html! {
        @if verdicts.is_empty() {
            p.meta { (no_verdict(result).unwrap_or_default()) }
        } @else {
            ul.verdicts {
                @for v in &verdicts {
                    li class={ "verdict " (tone_name(v.tone)) } {
                        span.mark aria-hidden="true" { (match v.tone { Tone::Better => "▲", Tone::Worse => "▼", Tone::Inconclusive => "●" }) }
                        (v.text())
                    }
                }
            }
        }
    }
}

fn warnings_panel(warnings: &[String], counters: &Counters) -> Markup {
    let bad = counters.bad.total();
    html! {
        @if warnings.is_empty() && bad == 0 {
            p.ok { "No problem found: the split matches the plan, no contamination, no bad row." }
        } @else {
            ul.warnings {
                @for w in warnings { li { (w) } }
                @if bad > 0 {
                    li {
                        "bad rows: " (grouped(bad)) " of " (grouped(counters.lines)) " lines (" (percent(bad, counters.lines)) ") of the run: "
                        (counters.bad.by_reason().map(|(r, n)| format!("{} {}", r.code(), grouped(n))).collect::<Vec<_>>().join(", "))
                    }
                }
            }
        }
    }
}

fn conversion_chart(result: &FunnelResult) -> Markup {
    let report = &result.report;
    let groups: Vec<String> =
        report.step_names.iter().enumerate().map(|(i, s)| format!("{}. {}", i + 1, name(s))).collect();
    let series: Vec<Vec<Bar>> = report
        .variants
        .iter()
        .zip(&result.stats)
        .map(|(v, stats)| {
            stats
                .iter()
                .enumerate()
                .map(|(step, s)| Bar {
                    value: s.conversion_from_first,
                    interval: s.ci,
                    title: format!(
                        "{}, step {}: {} of {} keys ({})",
                        name(&v.variant),
                        step + 1,
                        grouped(v.keys_per_step[step]),
                        grouped(v.keys_per_step[0]),
                        super::rate_pct(s.conversion_from_first).map_or_else(|| "n/a".to_owned(), |p| p.1)
                    ),
                })
                .collect()
        })
        .collect();
    bars(&format!("Conversion from step 1 per variant, funnel {}", report.name), &groups, &series)
}

fn daily_chart(daily: &[DayKeys], variants: &[VariantCounts]) -> Markup {
    let days: Vec<(i64, Vec<u64>)> = daily.iter().map(|d| (d.day, d.keys.clone())).collect();
    let (days, series) = every_day(&days, variants.len());
    html! {
        @if days.is_empty() {
            p.meta { "No key reached step 1." }
        } @else {
            figure {
                (daily_lines("Step-1 keys per day and variant", &days, &series))
                (legend(variants.iter().map(|v| v.variant.as_str())))
                figcaption { "Keys by the UTC day of their first step-1 event; a day at 0 between others may be an outage." }
            }
        }
    }
}

/// One row per variant and step: the variant's name and its keys at the step, the conversions
/// with the interval, the lift with its interval, the p-values, significance, times.
fn step_table(
    result: &FunnelResult,
    variants: &[VariantCounts],
    stats: &[Vec<StepStats>],
    cohort: Option<&str>,
    breakdown: Option<(&str, &str)>,
) -> Markup {
    let report = &result.report;
    let level = level_pct(result.options.confidence);
    html! {
        table.steps data-cohort=[cohort] data-dimension=[breakdown.map(|b| b.0)] data-value=[breakdown.map(|b| b.1)] {
            caption {
                @if let Some(cohort) = cohort { "Cohort " (cohort) ": " }
                @if let Some((dimension, value)) = breakdown { (dimension) " = " (name(value)) ": " }
                "one row per variant and step"
            }
            thead {
                tr {
                    th scope="col" { "Variant" }
                    th scope="col" { "Step" }
                    th scope="col" { "Step name" }
                    th scope="col" { "Keys" }
                    th scope="col" { "From previous" }
                    th scope="col" { "From step 1" }
                    th scope="col" { (level) " low" }
                    th scope="col" { (level) " high" }
                    th scope="col" { "Lift" }
                    th scope="col" { "Lift " (level) " low" }
                    th scope="col" { "Lift " (level) " high" }
                    th scope="col" { "p" }
                    th scope="col" { "adj. p" }
                    th scope="col" { "Significant" }
                    th scope="col" { "Median time" }
                    th scope="col" { "p90 time" }
                    th scope="col" { "MDE" }
                    th scope="col" { "Keys needed" }
                    th scope="col" { "Chance to win" }
                    th scope="col" { "Expected loss" }
                }
            }
            tbody {
                @for (v, stats) in variants.iter().zip(stats) {
                    @if let Some(exposed) = result.exposed(v) {
                        tr.first data-variant=(v.variant) data-step="0" {
                            th scope="row" { (name(&v.variant)) }
                            td { "0" }
                            td.text { (EXPOSED_STEP_NAME) }
                            td { (count_cell(exposed)) }
                            td { (pct_cell((exposed > 0).then_some(1.0))) }
                            td { (pct_cell((exposed > 0).then_some(1.0))) }
                            @for _ in 0..14 { td {} }
                        }
                    }
                    @for (step, (step_name, s)) in report.step_names.iter().zip(stats).enumerate() {
                        @let comparison = s.comparison.as_ref();
                        @let time = v.time_to_step[step];
                        @let tone = comparison.filter(|c| c.significant).map(|c| if c.lift.is_some_and(|l| l < 0.0) { "worse" } else { "better" });
                        tr.first[step == 0 && result.exposed(v).is_none()] data-variant=(v.variant) data-step=(step + 1) {
                            th scope="row" { (name(&v.variant)) }
                            td { (step + 1) }
                            td.text { (step_name) }
                            td { (count_cell(v.keys_per_step[step])) }
                            td { (pct_cell(conversion_from_previous(v, step, s))) }
                            td { (pct_cell(s.conversion_from_first)) }
                            td { (pct_cell(s.ci.map(|ci| ci.0))) }
                            td { (pct_cell(s.ci.map(|ci| ci.1))) }
                            td class=[tone] { (lift_cell(comparison.and_then(|c| c.lift))) }
                            td { (lift_cell(comparison.and_then(|c| c.lift_ci).map(|ci| ci.0))) }
                            td { (lift_cell(comparison.and_then(|c| c.lift_ci).map(|ci| ci.1))) }
                            td { (p_cell(comparison.map(|c| c.p_value))) }
                            td { (p_cell(comparison.map(|c| c.p_value_adjusted))) }
                            td class=[tone] {
                                @if let Some(c) = comparison {
                                    data value=(c.significant) { (if c.significant { "yes" } else { "no" }) }
                                }
                            }
                            td { (seconds_cell(time.map(|t| t.median_s))) }
                            td { (seconds_cell(time.map(|t| t.p90_s))) }
                            td { (pct_cell(comparison.and_then(|c| c.mde_relative))) }
                            td { @if let Some(n) = comparison.and_then(|c| c.keys_needed) { (count_cell(n)) } }
                            td { (pct_cell(comparison.and_then(|c| c.chance_to_win))) }
                            td { (p_cell(comparison.and_then(|c| c.expected_loss))) }
                        }
                    }
                }
            }
        }
    }
}

fn p_cell(p: Option<f64>) -> Markup {
    let exact = p_value(p);
    data(&exact, &exact)
}
