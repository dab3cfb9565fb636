//! Where an incremental run may start listing an `s3://` prefix: after the keys its state
//! counted more than [`LISTING_MARGIN_DAYS`] days before the newest, when the keys sort by date,
//! so that a daily run's listing does not grow with the history.
//!
//! The keys under a prefix **sort by date** when every key the state counted there holds, right
//! after the prefix and one text common to all of them (the lead: often nothing, or a folder, or
//! the loader's file prefix), a date in one and the same of these forms:
//! - `2026/03/01/` (a day partition);
//! - `date=2026-03-01/` or `dt=2026-03-01/`;
//! - `year=2026/month=03/day=01/`;
//! - `2026-03-01-120000` (the S3 loader's `<prefix><yyyy-MM-dd-HHmmss>-<uuid>.gz` names).
//!
//! Those forms are fixed-width, so after a common lead byte order is date order. Listing then
//! starts after the greatest counted key dated before `newest - LISTING_MARGIN_DAYS`, where
//! `newest` is the newest counted day (or today, if that is earlier: a key dated in the future
//! must not hide today's keys). Every key dated on or after that day is listed again (and
//! skipped if counted); so is any key that sorts after the start point.
//!
//! The assumption: an object appears under the prefix at most [`LISTING_MARGIN_DAYS`] days
//! after the day its key names (the loader names files by the start of the window it writes,
//! and uploads them minutes later), and new objects keep the same naming. An object that
//! arrives later, or whose key sorts before the start point, is not listed, so not read; and
//! objects before the start point are not checked for changes either.

use snowfunnel_parse::MICROS_PER_DAY;

use crate::prune::day;

/// Days before the newest counted day (that day included) that an incremental run lists again.
pub const LISTING_MARGIN_DAYS: i64 = 2;

/// How a key writes its date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Slashes,
    Date,
    Dt,
    YearMonthDay,
    Loader,
}

/// The key after which listing the prefix `prefix` (of one bucket) may start, for an
/// incremental run whose state counted the objects `counted` (their keys) under it, at `now`
/// (microseconds since the epoch); `None`: list every object, because the counted keys do not
/// all sort by date (see the module documentation) or none of them is old enough.
#[must_use]
pub fn listing_start<'a>(
    prefix: &str,
    counted: impl IntoIterator<Item = &'a str>,
    now: i64,
) -> Option<String> {
    let mut shape: Option<(&str, Form)> = None;
    let mut dated: Vec<(i64, &str)> = Vec::new();
    for key in counted {
        let (lead, form, day) = key.strip_prefix(prefix).and_then(date_after_lead)?;
        match shape {
            None => shape = Some((lead, form)),
            Some(shape) if shape == (lead, form) => {}
            Some(_) => return None,
        }
        dated.push((day, key));
    }
    let newest = dated.iter().map(|(day, _)| *day).max()?;
    let today = now.div_euclid(MICROS_PER_DAY) * MICROS_PER_DAY;
    let first_listed_day = newest.min(today) - LISTING_MARGIN_DAYS * MICROS_PER_DAY;
    dated.iter().filter(|(day, _)| *day < first_listed_day).map(|(_, key)| *key).max().map(str::to_owned)
}

/// The text before the first date of `rest`, the date's form and its day.
fn date_after_lead(rest: &str) -> Option<(&str, Form, i64)> {
    rest.char_indices().find_map(|(at, _)| {
        let (form, day) = date_at(&rest[at..])?;
        Some((&rest[..at], form, day))
    })
}

/// The form and day of a date that `s` starts with.
fn date_at(s: &str) -> Option<(Form, i64)> {
    let b = s.as_bytes();
    let ymd = |y: &str, m: &str, d: &str| day(&format!("{y}-{m}-{d}"));
    if fits(b, b"####/##/##/") {
        return Some((Form::Slashes, ymd(&s[0..4], &s[5..7], &s[8..10])?));
    }
    for (label, form) in [("date=", Form::Date), ("dt=", Form::Dt)] {
        if let Some(rest) = s.strip_prefix(label)
            && fits(rest.as_bytes(), b"####-##-##/")
        {
            return Some((form, day(&rest[..10])?));
        }
    }
    if fits(b, b"year=####/month=##/day=##/") {
        return Some((Form::YearMonthDay, ymd(&s[5..9], &s[16..18], &s[23..25])?));
    }
    if fits(b, b"####-##-##-######") && !b.get(17).is_some_and(u8::is_ascii_digit) {
        return Some((Form::Loader, day(&s[..10])?));
    }
    None
}

/// Whether `bytes` starts with `pattern`, where `#` stands for any digit.
fn fits(bytes: &[u8], pattern: &[u8]) -> bool {
    bytes.len() >= pattern.len()
        && bytes.iter().zip(pattern).all(|(b, p)| if *p == b'#' { b.is_ascii_digit() } else { b == p })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Noon of `date`.
    fn noon(date: &str) -> i64 {
        day(date).unwrap() + MICROS_PER_DAY / 2
    }

    fn start(prefix: &str, keys: &[&str], today: &str) -> Option<String> {
        listing_start(prefix, keys.iter().copied(), noon(today))
    }

    #[test]
    fn starts_after_the_last_key_dated_before_the_margin() {
        let keys = [
            "enriched/2026/03/01/a.gz",
            "enriched/2026/03/02/a.gz",
            "enriched/2026/03/02/b.gz",
            "enriched/2026/03/03/a.gz",
            "enriched/2026/03/04/a.gz",
            "enriched/2026/03/05/a.gz",
        ];
        // Newest day 03-05: 03-03, 03-04 and 03-05 are listed again.
        assert_eq!(start("enriched/", &keys, "2026-03-06").as_deref(), Some("enriched/2026/03/02/b.gz"));
        // In any order.
        let mut shuffled = keys;
        shuffled.reverse();
        assert_eq!(start("enriched/", &shuffled, "2026-03-06").as_deref(), Some("enriched/2026/03/02/b.gz"));
        // Not enough history: everything.
        assert_eq!(start("enriched/", &keys[3..], "2026-03-06"), None);
        assert_eq!(start("enriched/", &[], "2026-03-06"), None);
    }

    #[test]
    fn a_future_date_does_not_hide_today() {
        let keys = ["e/2026/03/01/a.gz", "e/2026/03/02/a.gz", "e/2026/03/09/a.gz", "e/2031/01/01/a.gz"];
        // Today is 03-04: listing starts before 03-02, whatever the key of 2031 says.
        assert_eq!(start("e/", &keys, "2026-03-04").as_deref(), Some("e/2026/03/01/a.gz"));
    }

    #[test]
    fn reads_every_form_after_a_common_lead() {
        let cases: [(&str, [&str; 2]); 6] = [
            ("p/", ["p/2026/03/01/x.gz", "p/2026/03/09/x.gz"]),
            ("p/", ["p/date=2026-03-01/x.gz", "p/date=2026-03-09/x.gz"]),
            ("p/", ["p/dt=2026-03-01/x", "p/dt=2026-03-09/x"]),
            ("p/", ["p/year=2026/month=03/day=01/x", "p/year=2026/month=03/day=09/x"]),
            ("p/", ["p/2026-03-01-235959-1b2c.gz", "p/2026-03-09-000000-3d4e.gz"]),
            // A lead: the bucket root over one folder, or the loader's file prefix.
            ("", ["enriched/good-2026-03-01-120000-a.gz", "enriched/good-2026-03-09-120000-b.gz"]),
        ];
        for (prefix, keys) in cases {
            assert_eq!(start(prefix, &keys, "2026-03-10").as_deref(), Some(keys[0]), "{keys:?}");
        }
    }

    #[test]
    fn keys_that_do_not_all_sort_by_date_are_listed_in_full() {
        let cases: [&[&str]; 6] = [
            // One key without a date.
            &["p/2026/03/01/x.gz", "p/2026/03/09/x.gz", "p/manifest.json"],
            // Two forms.
            &["p/2026/03/01/x.gz", "p/date=2026-03-09/x.gz"],
            // Two leads.
            &["p/a/2026/03/01/x.gz", "p/b/2026/03/09/x.gz"],
            // A month partition only, or a date that is not one.
            &["p/2026/03/x.gz", "p/2026/04/x.gz"],
            &["p/2026/02/30/x.gz", "p/2026/03/09/x.gz"],
            // A longer digit run is not the loader's time.
            &["p/2026-03-01-1200001.gz", "p/2026-03-09-1200001.gz"],
        ];
        for keys in cases {
            assert_eq!(start("p/", keys, "2026-03-10"), None, "{keys:?}");
        }
        // A key outside the prefix: not this prefix's state.
        assert_eq!(start("p/", &["p/2026/03/01/x.gz", "q/2026/03/09/x.gz"], "2026-03-10"), None);
    }
}
