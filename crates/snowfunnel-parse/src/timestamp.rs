//! Enriched-event timestamps: `YYYY-MM-DD hh:mm:ss[.f]` in UTC, 0 to 9 fraction digits,
//! as microseconds since the Unix epoch (an `i64` holds every year from 0000 to 9999).
//!
//! Hand-written rather than a date crate because it runs on every line and the format is fixed;
//! any year is accepted (real lines carry 0001 and 2619): a value is bad only when it does not parse.

use std::fmt::Write as _;

/// Why a timestamp does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// The field is empty where a value is required.
    #[error("empty")]
    Empty,
    /// Not of the form `YYYY-MM-DD hh:mm:ss[.fffffffff]`.
    #[error("expected YYYY-MM-DD hh:mm:ss[.fraction]")]
    Format,
    /// Month, day, hour, minute or second out of range.
    #[error("date or time out of range")]
    Range,
}

const MICROS_PER_SECOND: i64 = 1_000_000;
const SECONDS_PER_DAY: i64 = 86_400;
/// Microseconds in a day: event times `div_euclid` it are days since 1970-01-01 (UTC).
pub const MICROS_PER_DAY: i64 = SECONDS_PER_DAY * MICROS_PER_SECOND;

/// Parses an enriched-event timestamp into microseconds since 1970-01-01 00:00:00 UTC.
/// Digits beyond microseconds are truncated. A `T` is accepted in place of the space and a
/// trailing `Z` is accepted, so ISO 8601 UTC values parse too.
///
/// # Errors
/// [`TimestampError`] when the value is empty, malformed or out of range.
pub fn parse_timestamp(raw: &[u8]) -> Result<i64, TimestampError> {
    if raw.is_empty() {
        return Err(TimestampError::Empty);
    }
    let raw = raw.strip_suffix(b"Z").unwrap_or(raw);
    if raw.len() < 19 || !matches!(raw[10], b' ' | b'T') {
        return Err(TimestampError::Format);
    }
    let days = parse_date(&raw[..10])?;
    let t = &raw[11..19];
    if t[2] != b':' || t[5] != b':' {
        return Err(TimestampError::Format);
    }
    let (hour, minute, second) = (digits(&t[0..2])?, digits(&t[3..5])?, digits(&t[6..8])?);
    if hour > 23 || minute > 59 || second > 59 {
        return Err(TimestampError::Range);
    }
    let micros = parse_fraction(&raw[19..])?;
    let seconds = days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second;
    Ok(seconds * MICROS_PER_SECOND + micros)
}

/// Parses a date (`YYYY-MM-DD`, midnight UTC) or a timestamp as [`parse_timestamp`] does.
///
/// # Errors
/// [`TimestampError`] when the value is neither.
pub fn parse_date_or_timestamp(raw: &[u8]) -> Result<i64, TimestampError> {
    if raw.len() == 10 {
        parse_date(raw).map(|days| days * SECONDS_PER_DAY * MICROS_PER_SECOND)
    } else {
        parse_timestamp(raw)
    }
}

/// A day, in days since 1970-01-01, as `YYYY-MM-DD` (UTC): the date part of
/// [`format_micros`] for any time of that day.
#[must_use]
pub fn format_day(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Formats microseconds since the epoch as ISO 8601 UTC with milliseconds
/// (`2026-03-01T12:34:56.789Z`).
#[must_use]
pub fn format_micros(micros: i64) -> String {
    let seconds = micros.div_euclid(MICROS_PER_SECOND);
    let millis = micros.rem_euclid(MICROS_PER_SECOND) / 1000;
    let days = seconds.div_euclid(SECONDS_PER_DAY);
    let secs_of_day = seconds.rem_euclid(SECONDS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let mut out = String::with_capacity(24);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        secs_of_day / 3600,
        secs_of_day / 60 % 60,
        secs_of_day % 60
    );
    out
}

fn parse_date(d: &[u8]) -> Result<i64, TimestampError> {
    if d.len() != 10 || d[4] != b'-' || d[7] != b'-' {
        return Err(TimestampError::Format);
    }
    let year = digits(&d[0..4])?;
    let month = digits(&d[5..7])?;
    let day = digits(&d[8..10])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(TimestampError::Range);
    }
    Ok(days_from_civil(year, month, day))
}

fn parse_fraction(rest: &[u8]) -> Result<i64, TimestampError> {
    let Some(frac) = rest.strip_prefix(b".") else {
        return if rest.is_empty() { Ok(0) } else { Err(TimestampError::Format) };
    };
    if frac.is_empty() || frac.len() > 9 {
        return Err(TimestampError::Format);
    }
    let mut micros = 0;
    for (i, &b) in frac.iter().enumerate() {
        if !b.is_ascii_digit() {
            return Err(TimestampError::Format);
        }
        if i < 6 {
            micros = micros * 10 + i64::from(b - b'0');
        }
    }
    for _ in frac.len()..6 {
        micros *= 10;
    }
    Ok(micros)
}

fn digits(s: &[u8]) -> Result<i64, TimestampError> {
    s.iter().try_fold(0i64, |acc, &b| {
        if b.is_ascii_digit() { Ok(acc * 10 + i64::from(b - b'0')) } else { Err(TimestampError::Format) }
    })
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`):
/// `month` 1 to 12, `day` 1 to the month's last, any year an `i64` of microseconds reaches.
#[must_use]
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date `(year, month, day)` of a day count since 1970-01-01 (the
/// inverse of [`days_from_civil`]), for the day of any `i64` of microseconds.
#[must_use]
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_found_in_real_lines() {
        assert_eq!(parse_timestamp(b"1970-01-01 00:00:00"), Ok(0));
        assert_eq!(parse_timestamp(b"1970-01-01 00:00:00.000"), Ok(0));
        assert_eq!(parse_timestamp(b"2013-11-26 00:02:05"), Ok(1_385_424_125_000_000));
        assert_eq!(parse_timestamp(b"2021-10-15 09:05:29.796800585"), Ok(1_634_288_729_796_800));
        assert_eq!(parse_timestamp(b"2026-03-01T12:34:56.789Z"), Ok(1_772_368_496_789_000));
        assert!(parse_timestamp(b"0001-01-01 00:00:00.000").unwrap() < 0);
        assert!(parse_timestamp(b"2619-08-18 00:00:00.000").unwrap() > 0);
    }

    #[test]
    fn rejects_what_does_not_parse() {
        for bad in [
            &b"29th May 2013 18:04:12"[..],
            b"2026-13-01 00:00:00",
            b"2026-02-29 00:00:00",
            b"2026-01-01 24:00:00",
            b"2026-01-01 00:00:00.",
            b"2026-01-01 00:00:00.1234567890",
            b"2026-01-01 00:00",
            b"2026-01-01x00:00:00",
            b"not_an_instant",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(parse_timestamp(b""), Err(TimestampError::Empty));
        assert_eq!(parse_timestamp(b"2024-02-29 00:00:00").map(|_| ()), Ok(()));
    }

    #[test]
    fn dates_are_midnight_utc() {
        assert_eq!(parse_date_or_timestamp(b"2026-03-01"), parse_timestamp(b"2026-03-01 00:00:00"));
    }

    #[test]
    fn a_day_formats_as_the_date_of_its_times() {
        for day in [-719_468, -1, 0, 20_513, 2_932_896] {
            let date = format_micros(day * MICROS_PER_DAY + 12 * 3_600_000_000);
            assert_eq!(format_day(day), date[..date.find('T').unwrap()], "{day}");
        }
        assert_eq!(format_day(20_513), "2026-03-01");
    }

    #[test]
    fn formats_round_trip() {
        for raw in ["2026-03-01T12:34:56.789Z", "0001-01-01T00:00:00.000Z", "1969-12-31T23:59:59.999Z"] {
            assert_eq!(format_micros(parse_timestamp(raw.as_bytes()).unwrap()), raw);
        }
    }

    proptest::proptest! {
        #[test]
        fn civil_days_round_trip(days in -800_000i64..3_000_000) {
            let (y, m, d) = civil_from_days(days);
            proptest::prop_assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
