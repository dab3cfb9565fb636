//! Date pruning: skipping inputs whose key or path says they cannot hold events of the run's
//! time window.
//!
//! The S3 loader cuts files by arrival time and names them, or the folders above them, by
//! date. A key's dates come from, most specific first:
//! - the loader's file name, `<prefix><yyyy-MM-dd-HHmmss>-<uuid>.gz`: that day;
//! - a day partition: `2026/03/01/`, `date=2026-03-01/` (or `dt=`), `year=2026/month=03/day=01/`;
//! - a month partition: `2026/03/` not followed by a day: that month.
//!
//! Day evidence wins over month evidence; several days (a folder and a file name that
//! disagree) give the span from the first to the last, so disagreement only prunes less. An
//! input is kept when that span, widened by [`MARGIN_DAYS`] on each side (an event's own time
//! can fall a little outside its file's arrival window), meets the window. Inputs without a
//! date are always kept.

use snowfunnel_parse::{MICROS_PER_DAY, parse_date_or_timestamp};

/// Days of margin on each side of a key's dates.
pub const MARGIN_DAYS: i64 = 1;

/// The event-time window of a run, `[start, end)` in microseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateWindow {
    /// First microsecond of the window.
    pub start: i64,
    /// First microsecond after it.
    pub end: i64,
}

impl DateWindow {
    /// Whether an input with this key or path may hold events in the window.
    #[must_use]
    pub fn keeps(&self, key: &str) -> bool {
        match key_span(key) {
            None => true,
            Some((first, after)) => {
                first - MARGIN_DAYS * MICROS_PER_DAY < self.end
                    && after + MARGIN_DAYS * MICROS_PER_DAY > self.start
            }
        }
    }
}

/// The time span `[first, after)` the dates in `key` cover, if it has any.
fn key_span(key: &str) -> Option<(i64, i64)> {
    let segments: Vec<&str> = key.split(['/', '\\']).collect();
    let mut days: Vec<i64> = Vec::new();
    let mut months: Vec<(i64, i64)> = Vec::new();
    if let Some(file_name) = segments.last() {
        days.extend(loader_file_date(file_name));
    }
    for (i, segment) in segments.iter().enumerate() {
        if let Some(date) = segment.strip_prefix("date=").or_else(|| segment.strip_prefix("dt=")) {
            days.extend(day(date));
            continue;
        }
        let part = |j: usize, label: &str| {
            segments.get(j).map(|s| s.strip_prefix(label).unwrap_or(s)).filter(|s| is_digits(s))
        };
        let (Some(year), Some(month)) = (part(i, "year=").filter(|y| y.len() == 4), part(i + 1, "month="))
        else {
            continue;
        };
        if month.len() != 2 {
            continue;
        }
        match part(i + 2, "day=").filter(|d| d.len() == 2) {
            Some(d) => days.extend(day(&format!("{year}-{month}-{d}"))),
            None => months.extend(month_span(year, month)),
        }
    }
    if let (Some(&first), Some(&last)) = (days.iter().min(), days.iter().max()) {
        return Some((first, last + MICROS_PER_DAY));
    }
    let first = months.iter().map(|m| m.0).min()?;
    let after = months.iter().map(|m| m.1).max()?;
    Some((first, after))
}

/// Midnight of `yyyy-MM-dd`, when it is a real date.
pub(crate) fn day(date: &str) -> Option<i64> {
    (date.len() == 10).then(|| parse_date_or_timestamp(date.as_bytes()).ok()).flatten()
}

/// The month `[first, after)` of `year`/`month`.
fn month_span(year: &str, month: &str) -> Option<(i64, i64)> {
    let first = day(&format!("{year}-{month}-01"))?;
    let (y, m): (i64, i64) = (year.parse().ok()?, month.parse().ok()?);
    let (next_y, next_m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let after = day(&format!("{next_y:04}-{next_m:02}-01"))?;
    Some((first, after))
}

/// The date of the loader's `yyyy-MM-dd-HHmmss` in a file name.
fn loader_file_date(name: &str) -> Option<i64> {
    const PATTERN: &[u8] = b"dddd-dd-dd-dddddd";
    let bytes = name.as_bytes();
    bytes.windows(PATTERN.len()).find_map(|w| {
        let fits = w.iter().zip(PATTERN).all(|(b, p)| if *p == b'd' { b.is_ascii_digit() } else { b == p });
        // Both sides must end the pattern, so that longer digit runs are not misread.
        fits.then(|| day(std::str::from_utf8(&w[..10]).ok()?)).flatten()
    })
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(date: &str) -> i64 {
        day(date).unwrap()
    }

    fn span(key: &str) -> Option<(String, String)> {
        let fmt = |m: i64| snowfunnel_parse::format_micros(m)[..10].to_owned();
        key_span(key).map(|(a, b)| (fmt(a), fmt(b)))
    }

    fn s(a: &str, b: &str) -> Option<(String, String)> {
        Some((a.to_owned(), b.to_owned()))
    }

    #[test]
    fn reads_the_dates_the_loader_and_partitions_write() {
        assert_eq!(span("enriched/2026/03/01/part.gz"), s("2026-03-01", "2026-03-02"));
        assert_eq!(span("2026/03/01/part.gz"), s("2026-03-01", "2026-03-02"));
        assert_eq!(span("enriched/date=2026-03-01/part.gz"), s("2026-03-01", "2026-03-02"));
        assert_eq!(span("enriched/dt=2026-03-31/x"), s("2026-03-31", "2026-04-01"));
        assert_eq!(span("e/year=2026/month=12/day=31/x.gz"), s("2026-12-31", "2027-01-01"));
        assert_eq!(span("enriched/2026-03-01-120000-1b2c3d4e.gz"), s("2026-03-01", "2026-03-02"));
        assert_eq!(span("good/run=x/prefix_2026-02-28-235959-abc.gz"), s("2026-02-28", "2026-03-01"));
        assert_eq!(span("enriched/2026/12/part-1.gz"), s("2026-12-01", "2027-01-01"));
        assert_eq!(span("enriched/2026/02/"), s("2026-02-01", "2026-03-01"));
    }

    #[test]
    fn day_evidence_wins_and_disagreement_widens() {
        assert_eq!(span("2026/03/2026-03-05-000000-a.gz"), s("2026-03-05", "2026-03-06"));
        assert_eq!(span("2026/03/01/2026-03-02-000100-a.gz"), s("2026-03-01", "2026-03-03"));
    }

    #[test]
    fn no_date_or_no_real_date_means_no_span() {
        for key in [
            "enriched/part-0001.gz",
            "enriched/2026/13/01/x.gz",
            "enriched/2026/02/30/x.gz",
            "date=2026-3-1/x",
            "x/123456/78/x",
            "run-2026-03-01.gz",
            "",
        ] {
            assert_eq!(key_span(key), None, "{key}");
        }
    }

    #[test]
    fn keeps_inputs_within_a_day_of_the_window() {
        let window = DateWindow { start: at("2026-03-10"), end: at("2026-03-20") };
        assert!(window.keeps("e/2026/03/15/x.gz"));
        assert!(window.keeps("e/2026/03/09/x.gz"), "a day before: margin");
        assert!(!window.keeps("e/2026/03/08/x.gz"));
        assert!(window.keeps("e/2026/03/20/x.gz"), "the day after the end: margin");
        assert!(!window.keeps("e/2026/03/21/x.gz"));
        assert!(window.keeps("e/2026/03/x.gz"), "the month holds the window");
        assert!(!window.keeps("e/2026/05/x.gz"));
        assert!(window.keeps("e/no-date.gz"));
    }
}
