//! Number formatting for people: thousands separators, byte sizes, percentages; and names.

use std::borrow::Cow;

use crate::terminal_text;

/// `1234567` as `1,234,567`.
pub(crate) fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes in decimal units (`203.1 MB`).
#[allow(clippy::cast_precision_loss)]
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

/// `part / whole` as a percentage with two decimals (`0.00%` when `whole` is 0).
#[allow(clippy::cast_precision_loss)]
pub(crate) fn percent(part: u64, whole: u64) -> String {
    if whole == 0 { "0.00%".into() } else { format!("{:.2}%", part as f64 * 100.0 / whole as f64) }
}

/// A rate, interval bound or lift with 4 decimals; empty when undefined.
pub(crate) fn rate(r: Option<f64>) -> String {
    r.map(|r| format!("{r:.4}")).unwrap_or_default()
}

/// A p-value: 4 decimals, or 3 significant digits below 0.01 (`1.23e-5`), so that small values
/// keep their size; empty when undefined.
pub(crate) fn p_value(p: Option<f64>) -> String {
    match p {
        None => String::new(),
        Some(p) if p >= 0.01 || p == 0.0 => format!("{p:.4}"),
        Some(p) => format!("{p:.2e}"),
    }
}

/// Seconds as exactly as the double holds them (shortest form that reads back the same);
/// empty when undefined.
pub(crate) fn seconds(s: Option<f64>) -> String {
    s.map(|s| s.to_string()).unwrap_or_default()
}

/// `n` grouped, then `one` or its plural (`1 key`, `2 keys`, `1,234 events`).
pub(crate) fn count_of(n: u64, one: &str) -> String {
    format!("{} {one}{}", grouped(n), if n == 1 { "" } else { "s" })
}

/// A name from the data as shown on a terminal: escaped ([`terminal_text`]), and an empty one
/// (an empty variant in the data) as `(empty)`.
pub(crate) fn shown_name(name: &str) -> Cow<'_, str> {
    if name.is_empty() { Cow::Borrowed("(empty)") } else { terminal_text(name) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(203_100_000), "203.1 MB");
        assert_eq!(percent(1, 8), "12.50%");
        assert_eq!(percent(1, 0), "0.00%");
        assert_eq!(shown_name(""), "(empty)");
        assert_eq!(shown_name("control"), "control");
        assert_eq!(shown_name("\u{1b}[2J"), "\\u{1b}[2J");
    }
}
