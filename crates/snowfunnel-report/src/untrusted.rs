//! Strings from the data on their way out. Experiment, variant, label, app_id and every other
//! string of an event come from clients anyone can script, and funnel and step names from funnel
//! files: none of them may drive the program that displays them. Every writer of this crate
//! sends such strings through this module, so the rules live in one place:
//!
//! - **CSV cells** ([`CsvCells`]): a spreadsheet runs a cell that starts with `=`, `+`, `-` or
//!   `@` (or a tab or CR before one) as a formula, which can run commands (`=cmd|' /C calc'!A0`)
//!   or send data away. As OWASP's CSV Injection guidance says, such a cell gets a leading `'`,
//!   and the csv crate quotes it as RFC 4180 requires; a cell that already starts with `'` gets
//!   one too, so that dropping one leading `'` from every cell that has one gives the data back
//!   exactly. Only text cells holding such strings go through it, never a number column (a
//!   negative lift stays `-0.1234`).
//! - **Terminal text** ([`terminal_text`]): control characters (C0 with tab and newline, DEL,
//!   C1) and the bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069, which
//!   reorder what a terminal shows) are written as visible escapes, so an ESC or BEL in a
//!   variant cannot move the cursor, recolour or retitle the terminal, or forge a line.
//! - **Name lists inside a cell** ([`list_name`]): `keys_by_variant` and `share_by_variant` of
//!   `validate_events.csv` join `variant=value` pairs with `;`, so a variant name has its `%`,
//!   `;`, `=` and control characters percent-encoded: the field splits back whatever the names.

use std::borrow::Cow;
use std::fmt::Write as _;

/// The first characters that make a spreadsheet read a cell as a formula (OWASP: `=`, `+`,
/// `-`, `@`, tab, CR), and `'`, the mark itself, so that the mark can always be taken off.
const FORMULA_TRIGGERS: [u8; 7] = [b'=', b'+', b'-', b'@', b'\t', b'\r', b'\''];

/// How CSV text cells holding strings from the data are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CsvCells {
    /// A cell starting with `=`, `+`, `-`, `@`, tab, CR or `'` gets a leading `'` (the default).
    #[default]
    Neutralised,
    /// Cells hold the strings as they are (`--raw-csv`), for programs that read the CSV as data.
    Raw,
}

impl CsvCells {
    /// `value` as a CSV text cell: with a leading `'` when it needs one (see the module docs);
    /// unchanged otherwise, and always with [`CsvCells::Raw`].
    #[must_use]
    pub fn text<'a>(self, value: impl Into<Cow<'a, str>>) -> Cow<'a, str> {
        let value = value.into();
        if self.needs_mark(value.as_bytes()) { Cow::Owned(format!("'{value}")) } else { value }
    }

    /// [`CsvCells::text`] for bytes that need not be UTF-8 (a bad row's raw line).
    #[must_use]
    pub fn bytes(self, value: &[u8]) -> Cow<'_, [u8]> {
        if self.needs_mark(value) {
            let mut marked = Vec::with_capacity(value.len() + 1);
            marked.push(b'\'');
            marked.extend_from_slice(value);
            Cow::Owned(marked)
        } else {
            Cow::Borrowed(value)
        }
    }

    /// Whether this cell gets the mark.
    #[must_use]
    pub fn needs_mark(self, value: &[u8]) -> bool {
        self == CsvCells::Neutralised && value.first().is_some_and(|b| FORMULA_TRIGGERS.contains(b))
    }
}

/// Whether `c` is shown escaped on a terminal: a control character (C0, DEL, C1) or a
/// bidirectional embedding, override or isolate.
fn is_unsafe_on_terminal(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `value` as it may be printed on a terminal: tab, newline and CR as `\t`, `\n`, `\r`, every
/// other control character (C0, DEL, C1) and bidirectional override or isolate as `\u{1b}`
/// (its code point in hex, as Rust writes it); everything else, backslashes included, as it
/// is. Borrowed when there is nothing to escape, as for nearly every name.
#[must_use]
pub fn terminal_text(value: &str) -> Cow<'_, str> {
    if !value.chars().any(is_unsafe_on_terminal) {
        return Cow::Borrowed(value);
    }
    let mut shown = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '\t' => shown.push_str("\\t"),
            '\n' => shown.push_str("\\n"),
            '\r' => shown.push_str("\\r"),
            c if is_unsafe_on_terminal(c) => {
                let _ = write!(shown, "\\u{{{:x}}}", u32::from(c));
            }
            c => shown.push(c),
        }
    }
    Cow::Owned(shown)
}

/// A name as written in a `name=value;name=value` list: `%`, `;`, `=` and control characters
/// (C0, DEL, C1) percent-encoded (each UTF-8 byte as `%XX`, upper-case hex), every other
/// character as it is, so a standard percent-decoder gives the name back after splitting on
/// `;` and then on the first `=`. Written by hand rather than with the percent-encoding crate,
/// which encodes every non-ASCII byte and would make names in other scripts unreadable.
#[must_use]
pub fn list_name(name: &str) -> Cow<'_, str> {
    let encoded = |c: char| matches!(c, '%' | ';' | '=') || c.is_control();
    if !name.chars().any(encoded) {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        if encoded(c) {
            for b in c.encode_utf8(&mut [0; 4]).bytes() {
                let _ = write!(out, "%{b:02X}");
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use percent_encoding::percent_decode_str;

    use super::*;

    #[test]
    fn neutralises_formula_cells_as_owasp_says() {
        let cells = CsvCells::Neutralised;
        for hostile in ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(1)", "\tx", "\r=1", "'quoted"] {
            assert_eq!(cells.text(hostile), format!("'{hostile}"), "{hostile:?}");
            assert_eq!(cells.bytes(hostile.as_bytes()).as_ref(), format!("'{hostile}").as_bytes());
        }
        for fine in ["control", "", "a=b", "1+1", " =1", "\n=1", "é", "/path"] {
            assert!(matches!(cells.text(fine), Cow::Borrowed(s) if s == fine), "{fine:?}");
            assert!(matches!(cells.bytes(fine.as_bytes()), Cow::Borrowed(_)), "{fine:?}");
        }
        // Bytes need not be UTF-8.
        assert_eq!(cells.bytes(b"=\xff").as_ref(), b"'=\xff");
        assert_eq!(cells.bytes(b"\xff=").as_ref(), b"\xff=");
        // Raw leaves everything alone.
        assert_eq!(CsvCells::Raw.text("=1+1"), "=1+1");
        assert_eq!(CsvCells::Raw.bytes(b"@x").as_ref(), b"@x");
        assert_eq!(CsvCells::default(), CsvCells::Neutralised);
    }

    #[test]
    fn the_mark_comes_off_exactly() {
        for value in ["=1", "'", "''=x", "'abc", "plain", "", "-"] {
            let cell = CsvCells::Neutralised.text(value);
            let back = cell.strip_prefix('\'').unwrap_or(&cell);
            assert_eq!(back, value);
        }
    }

    #[test]
    fn escapes_control_characters_for_the_terminal() {
        assert!(matches!(terminal_text("control é \\x1b"), Cow::Borrowed(_)));
        assert_eq!(terminal_text("a\u{1b}[31mred\u{7}"), "a\\u{1b}[31mred\\u{7}");
        assert_eq!(terminal_text("tab\there\nline\rcr"), "tab\\there\\nline\\rcr");
        assert_eq!(terminal_text("\0\u{7f}\u{9b}"), "\\u{0}\\u{7f}\\u{9b}");
        assert_eq!(terminal_text("abc\u{202e}fed\u{2066}"), "abc\\u{202e}fed\\u{2066}");
        for hostile in ["\u{1b}]0;title\u{7}", "\u{85}x", "\u{8}\u{8}ok"] {
            let shown = terminal_text(hostile);
            assert!(!shown.chars().any(is_unsafe_on_terminal), "{shown:?}");
        }
    }

    #[test]
    fn list_names_split_back_whatever_the_names() {
        let names = ["control", "a=b", "x;y", "100%", "line\nbreak", "esc\u{1b}", "c1\u{85}", "é;=", ""];
        assert!(matches!(list_name("candidate-b é"), Cow::Borrowed(_)));
        assert_eq!(list_name("a=b;c%\n"), "a%3Db%3Bc%25%0A");
        assert_eq!(list_name("\u{85}"), "%C2%85");
        let list: Vec<String> =
            names.iter().enumerate().map(|(i, n)| format!("{}={i}", list_name(n))).collect();
        let list = list.join(";");
        let parsed: Vec<(String, usize)> = list
            .split(';')
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap();
                (percent_decode_str(name).decode_utf8().unwrap().into_owned(), value.parse().unwrap())
            })
            .collect();
        let expected: Vec<(String, usize)> =
            names.iter().enumerate().map(|(i, n)| ((*n).to_owned(), i)).collect();
        assert_eq!(parsed, expected);
    }
}
