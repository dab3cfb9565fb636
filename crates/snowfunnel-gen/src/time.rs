//! Timestamps as the enriched format writes them, without a date library: the generator only
//! needs UTC and whole milliseconds.

use snowfunnel_parse::{MICROS_PER_DAY, civil_from_days, days_from_civil};

/// Formats unix microseconds (UTC) as `YYYY-MM-DD hh:mm:ss.fff`, the enriched format's layout
/// with millisecond precision (sub-millisecond digits are dropped, rounding toward the past).
/// Times before 1970 are allowed: `-1_000` is `1969-12-31 23:59:59.999`.
#[must_use]
pub fn format_timestamp(micros: i64) -> String {
    let mut out = Vec::with_capacity(23);
    push_timestamp(&mut out, micros, Layout::Enriched);
    String::from_utf8(out).expect("timestamps are ASCII")
}

/// How [`push_timestamp`] lays a timestamp out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `2026-03-01 01:02:03.000`, as enriched fields write times.
    Enriched,
    /// `2026-03-01T01:02:03.000Z`, as GitLab's contexts write times.
    Iso,
    /// `2026-03-01-010203`, as the S3 loader starts file names.
    FileStamp,
}

/// Appends an instant in the given layout. Digits are written by hand: this runs several times
/// per generated line.
pub(crate) fn push_timestamp(out: &mut Vec<u8>, micros: i64, layout: Layout) {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let secs_of_day = micros.rem_euclid(MICROS_PER_DAY) / 1_000_000;
    let millis = micros.div_euclid(1_000).rem_euclid(1_000);
    let (year, month, day) = civil_from_days(days);
    if (0..=9999).contains(&year) {
        push_digits(out, year, 4);
    } else {
        out.extend_from_slice(year.to_string().as_bytes());
    }
    out.push(b'-');
    push_digits(out, month, 2);
    out.push(b'-');
    push_digits(out, day, 2);
    let (hour, minute, second) = (secs_of_day / 3600, secs_of_day / 60 % 60, secs_of_day % 60);
    if layout == Layout::FileStamp {
        out.push(b'-');
        for part in [hour, minute, second] {
            push_digits(out, part, 2);
        }
        return;
    }
    out.push(if layout == Layout::Iso { b'T' } else { b' ' });
    push_digits(out, hour, 2);
    out.push(b':');
    push_digits(out, minute, 2);
    out.push(b':');
    push_digits(out, second, 2);
    out.push(b'.');
    push_digits(out, millis, 3);
    if layout == Layout::Iso {
        out.push(b'Z');
    }
}

/// Appends the last `width` decimal digits of a non-negative number, zero-padded.
fn push_digits(out: &mut Vec<u8>, value: i64, width: u32) {
    for position in (0..width).rev() {
        out.push(b'0' + (value / 10_i64.pow(position) % 10) as u8);
    }
}

/// Unix microseconds at midnight UTC of a calendar date.
#[must_use]
pub fn date_micros(year: i64, month: u32, day: u32) -> i64 {
    days_from_civil(year, i64::from(month), i64::from(day)) * MICROS_PER_DAY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_timestamp(0), "1970-01-01 00:00:00.000");
        assert_eq!(format_timestamp(-1_000), "1969-12-31 23:59:59.999");
        assert_eq!(format_timestamp(-1), "1969-12-31 23:59:59.999");
        assert_eq!(format_timestamp(1_772_323_200_000_000), "2026-03-01 00:00:00.000");
        assert_eq!(format_timestamp(1_772_323_200_000_000 + 45_296_789_999), "2026-03-01 12:34:56.789");
        assert_eq!(format_timestamp(951_782_400_000_000), "2000-02-29 00:00:00.000");
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(date_micros(2026, 3, 1), 1_772_323_200_000_000);
        assert_eq!(date_micros(1970, 1, 1), 0);
        assert_eq!(date_micros(2000, 2, 29), 951_782_400_000_000);
        assert_eq!(date_micros(1969, 12, 31), -MICROS_PER_DAY);
    }

    #[test]
    fn file_and_iso_stamps() {
        let t = date_micros(2026, 3, 1) + 3_723_000_000;
        let text = |layout| {
            let mut out = Vec::new();
            push_timestamp(&mut out, t, layout);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(text(Layout::FileStamp), "2026-03-01-010203");
        assert_eq!(text(Layout::Iso), "2026-03-01T01:02:03.000Z");
        assert_eq!(format_timestamp(date_micros(12_000, 1, 1)), "12000-01-01 00:00:00.000");
    }
}
