//! Inline SVG charts: grouped bars with interval whiskers, and daily counts as lines. Plain
//! shapes with fixed coordinates (no script), a `<title>` on every mark for its exact value,
//! and a legend in HTML so that names wrap and are escaped like all text.

use maud::{Markup, html};

use snowfunnel_parse::format_day;
use snowfunnel_validate::MAX_LISTED_GAP_DAYS;

use super::{colour, name};

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 280.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 48.0;

/// SVG coordinates with one decimal.
fn c(x: f64) -> String {
    format!("{x:.1}")
}

/// A legend of series names with their colours.
pub(crate) fn legend<'a>(names: impl IntoIterator<Item = &'a str>) -> Markup {
    html! {
        ul.legend {
            @for (i, n) in names.into_iter().enumerate() {
                li { span.swatch style={ "background:" (colour(i)) } {} (name(n)) }
            }
        }
    }
}

/// One bar of [`bars`]: its value (0 to 1) and interval, if any, and its tooltip.
pub(crate) struct Bar {
    /// The value, 0 to 1; `None` for no bar.
    pub(crate) value: Option<f64>,
    /// The interval's bounds.
    pub(crate) interval: Option<(f64, f64)>,
    /// The tooltip.
    pub(crate) title: String,
}

/// Grouped bars of rates from 0 to 100%: one group per label, one bar per series (colours in
/// series order), each with its interval as a whisker.
pub(crate) fn bars(label: &str, groups: &[String], series: &[Vec<Bar>]) -> Markup {
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let y = |v: f64| TOP + plot_h * (1.0 - v.clamp(0.0, 1.0));
    #[allow(clippy::cast_precision_loss)]
    let group_w = plot_w / groups.len().max(1) as f64;
    #[allow(clippy::cast_precision_loss)]
    let bar_w = group_w * 0.8 / series.len().max(1) as f64;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } width=(WIDTH) height=(HEIGHT) role="img" aria-label=(label) {
            title { (label) }
            @for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
                line x1=(c(LEFT)) x2=(c(WIDTH - RIGHT)) y1=(c(y(tick))) y2=(c(y(tick))) stroke="#d0d0d0" stroke-width="1" {}
                text x=(c(LEFT - 6.0)) y=(c(y(tick) + 4.0)) text-anchor="end" { (format!("{:.0}%", tick * 100.0)) }
            }
            @for (g, group) in groups.iter().enumerate() {
                @let x0 = LEFT + group_w * (g as f64) + group_w * 0.1;
                text x=(c(LEFT + group_w * (g as f64 + 0.5))) y=(c(HEIGHT - BOTTOM + 16.0)) text-anchor="middle" { (short(group, group_w)) }
                @for (s, bars) in series.iter().enumerate() {
                    @if let Some(bar) = bars.get(g) {
                        @let x = x0 + bar_w * (s as f64);
                        @if let Some(v) = bar.value {
                            rect x=(c(x + 1.0)) y=(c(y(v))) width=(c((bar_w - 2.0).max(1.0))) height=(c(y(0.0) - y(v))) fill=(colour(s)) {
                                title { (bar.title) }
                            }
                        }
                        @if let Some((low, high)) = bar.interval {
                            @let mid = x + bar_w / 2.0;
                            @let cap = (bar_w / 4.0).min(6.0);
                            g stroke="#1b1b1b" stroke-width="1.5" {
                                line x1=(c(mid)) x2=(c(mid)) y1=(c(y(low))) y2=(c(y(high))) {}
                                line x1=(c(mid - cap)) x2=(c(mid + cap)) y1=(c(y(low))) y2=(c(y(low))) {}
                                line x1=(c(mid - cap)) x2=(c(mid + cap)) y1=(c(y(high))) y2=(c(y(high))) {}
                            }
                        }
                    }
                }
            }
            line x1=(c(LEFT)) x2=(c(WIDTH - RIGHT)) y1=(c(y(0.0))) y2=(c(y(0.0))) stroke="#1b1b1b" stroke-width="1" {}
        }
    }
}

/// A label cut to fit `width` pixels (about 7 per character), with an ellipsis.
fn short(label: &str, width: f64) -> String {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let fits = ((width / 7.0) as usize).max(3);
    if label.chars().count() <= fits {
        label.to_owned()
    } else {
        let cut: String = label.chars().take(fits - 1).collect();
        format!("{cut}…")
    }
}

/// The days of `days` (days since 1970-01-01, ascending, each with one value per series) and
/// the days between them, up to [`MAX_LISTED_GAP_DAYS`] in a row: their labels
/// (`YYYY-MM-DD`), and per series their values, 0 on the days not given, so that a day without
/// data shows on the chart as a drop to 0. A longer gap (a stray date years away) is not
/// filled, as in the validation report's days.
pub(crate) fn every_day(days: &[(i64, Vec<u64>)], series: usize) -> (Vec<String>, Vec<Vec<u64>>) {
    let mut labels = Vec::new();
    let mut values = vec![Vec::new(); series];
    let mut previous: Option<i64> = None;
    for (day, counts) in days {
        let gap = previous.map_or(0, |p| day - p - 1);
        if (1..=MAX_LISTED_GAP_DAYS).contains(&gap) {
            for empty in day - gap..*day {
                labels.push(format_day(empty));
                values.iter_mut().for_each(|v| v.push(0));
            }
        }
        labels.push(format_day(*day));
        for (s, out) in values.iter_mut().enumerate() {
            out.push(counts.get(s).copied().unwrap_or(0));
        }
        previous = Some(*day);
    }
    (labels, values)
}

/// Counts per day as lines, one per series (colours in series order), from 0 to the largest
/// count; `days` label the x axis (first, last, and a few between).
pub(crate) fn daily_lines(label: &str, days: &[String], series: &[Vec<u64>]) -> Markup {
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let max = series.iter().flatten().copied().max().unwrap_or(0).max(1);
    #[allow(clippy::cast_precision_loss)]
    let y = |v: u64| TOP + plot_h * (1.0 - v as f64 / max as f64);
    #[allow(clippy::cast_precision_loss)]
    let x = |i: usize| {
        if days.len() <= 1 { LEFT + plot_w / 2.0 } else { LEFT + plot_w * i as f64 / (days.len() - 1) as f64 }
    };
    let label_every = days.len().div_ceil(8).max(1);
    let ticks = [0, max / 2, max];
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } width=(WIDTH) height=(HEIGHT) role="img" aria-label=(label) {
            title { (label) }
            @for tick in ticks {
                line x1=(c(LEFT)) x2=(c(WIDTH - RIGHT)) y1=(c(y(tick))) y2=(c(y(tick))) stroke="#d0d0d0" stroke-width="1" {}
                text x=(c(LEFT - 6.0)) y=(c(y(tick) + 4.0)) text-anchor="end" { (crate::number::grouped(tick)) }
            }
            // Every few days a label, and the last day's, right-aligned: never two overlapping.
            @for (i, day) in days.iter().enumerate() {
                @if i + 1 == days.len() && days.len() > 1 {
                    text x=(c(x(i))) y=(c(HEIGHT - BOTTOM + 16.0)) text-anchor="end" { (day) }
                } @else if i % label_every == 0 && (i + label_every < days.len() || days.len() == 1) {
                    text x=(c(x(i))) y=(c(HEIGHT - BOTTOM + 16.0)) text-anchor="middle" { (day) }
                }
            }
            @for (s, values) in series.iter().enumerate() {
                @let points: Vec<String> = values.iter().enumerate().map(|(i, &v)| format!("{},{}", c(x(i)), c(y(v)))).collect();
                @if values.len() > 1 {
                    polyline points=(points.join(" ")) fill="none" stroke=(colour(s)) stroke-width="2" {}
                }
                @for (i, &v) in values.iter().enumerate() {
                    circle cx=(c(x(i))) cy=(c(y(v))) r="3" fill=(colour(s)) {
                        title { (days.get(i).map_or("", String::as_str)) ": " (crate::number::grouped(v)) }
                    }
                }
            }
            line x1=(c(LEFT)) x2=(c(WIDTH - RIGHT)) y1=(c(y(0))) y2=(c(y(0))) stroke="#1b1b1b" stroke-width="1" {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_day_fills_the_days_between_with_zeros() {
        // 2026-03-01 is day 20513 since 1970-01-01.
        let (labels, series) = every_day(&[(20513, vec![3, 1]), (20516, vec![2, 0])], 2);
        assert_eq!(labels, ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]);
        assert_eq!(series, [vec![3, 0, 0, 2], vec![1, 0, 0, 0]]);
    }

    #[test]
    fn every_day_leaves_long_gaps_unfilled() {
        let (labels, _) = every_day(&[(20513, vec![1]), (20513 + 400, vec![1])], 1);
        assert_eq!(labels, ["2026-03-01", "2027-04-05"]);
    }

    #[test]
    fn every_day_of_nothing_is_empty() {
        let (labels, series) = every_day(&[], 3);
        assert!(labels.is_empty());
        assert_eq!(series, vec![Vec::<u64>::new(); 3]);
    }
}
