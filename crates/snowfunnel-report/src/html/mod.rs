//! The HTML reports: `<funnel>.html` per funnel, the index page linking them, and
//! `validate.html`. Each page is one self-contained file: inline CSS and SVG, no script, and a
//! Content-Security-Policy that forbids loading anything, so a page opened from disk or
//! forwarded by mail shows the same and reaches no network. Pages are built with `maud`, which
//! escapes every string it is given: names from the data end up as text, never as markup.
//!
//! Numbers in the tables are shown for people (percentages, durations) and carried exactly as
//! the CSV writes them in the `value` of a `<data>` element, so that tools (and the tests)
//! read back the CSV's numbers.

mod chart;
mod funnel;
mod index;
mod validate;

pub use funnel::funnel_html;
pub use index::{INDEX_HTML, index_html};
pub use validate::{VALIDATE_HTML, validate_html};

use maud::{DOCTYPE, Markup, PreEscaped, html};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::json::RunStamp;
use crate::number::rate;

/// The Content-Security-Policy of every page: nothing may be loaded (no script, style sheet,
/// font, image or frame from anywhere), only the page's own inline style applies, and no
/// form or base URL can send the reader elsewhere.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/// The Okabe-Ito palette (without its black and yellow, too faint on white): told apart with
/// every common colour vision deficiency. Variant `i` of a funnel takes colour `i` (modulo).
pub(crate) const PALETTE: [&str; 6] = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"];

/// The colour of the `i`-th variant.
pub(crate) fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

const CSS: &str = r#"
:root { color-scheme: light; --fg: #1b1b1b; --muted: #595959; --line: #d0d0d0; --better: #009E73; --worse: #D55E00; --neutral: #767676; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); margin: 0 auto; padding: 1.5rem; max-width: 80rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin: 1.5rem 0 .4rem; overflow-wrap: anywhere; }
.meta { color: var(--muted); margin: 0; }
.meta span + span::before { content: " · "; }
ul.verdicts, ul.warnings, ul.funnels { list-style: none; padding: 0; margin: .5rem 0; }
.verdict { border-left: .4rem solid var(--neutral); background: #f3f3f3; padding: .35rem .6rem; margin: .3rem 0; overflow-wrap: anywhere; }
.verdict .mark { font-weight: 700; margin-right: .4rem; }
.verdict.better { border-left-color: var(--better); background: #e3f4ee; }
.verdict.worse { border-left-color: var(--worse); background: #fbe9df; }
.warnings li { border-left: .4rem solid var(--worse); background: #fbe9df; padding: .35rem .6rem; margin: .3rem 0; overflow-wrap: anywhere; }
.ok { border-left: .4rem solid var(--better); background: #e3f4ee; padding: .35rem .6rem; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: .5rem 0; font-size: .9rem; }
caption { text-align: left; color: var(--muted); padding: .2rem 0; caption-side: top; }
th, td { padding: .25rem .55rem; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th[scope=col] { border-bottom: 2px solid var(--fg); vertical-align: bottom; }
th[scope=row], td.name { text-align: left; font-weight: 600; white-space: normal; overflow-wrap: break-word; max-width: 14rem; }
td.text { text-align: left; white-space: normal; overflow-wrap: break-word; min-width: 8rem; max-width: 14rem; }
tbody tr.first td, tbody tr.first th { border-top: 2px solid var(--line); }
td.better { color: #00694d; font-weight: 600; }
td.worse { color: #a33a00; font-weight: 600; }
.swatch { display: inline-block; width: .8em; height: .8em; margin-right: .35em; vertical-align: -.05em; border-radius: 2px; }
figure { margin: .5rem 0 1rem; }
figcaption { color: var(--muted); font-size: .9rem; }
svg { max-width: 100%; height: auto; font: 12px system-ui, sans-serif; }
svg text { fill: var(--fg); }
.legend { display: flex; flex-wrap: wrap; gap: .3rem 1rem; margin: .3rem 0; padding: 0; list-style: none; overflow-wrap: anywhere; }
footer { margin-top: 2.5rem; color: var(--muted); font-size: .85rem; border-top: 1px solid var(--line); padding-top: .5rem; }
a { color: #0059a0; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  a { color: inherit; text-decoration: none; }
  h2 { break-after: avoid; }
  figure, tr, .verdict, .warnings li { break-inside: avoid; }
  .table-wrap { overflow: visible; }
  .verdict, .warnings li, .ok { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  nav { display: none; }
}
"#;

/// A whole page: the head (charset, CSP, style) and `body`, with the footer naming the run.
pub(crate) fn page(title: &str, stamp: &RunStamp, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CONTENT_SECURITY_POLICY);
                meta name="referrer" content="no-referrer";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content={ "snowfunnel " (stamp.version) };
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                (body)
                footer {
                    "Made by snowfunnel " (stamp.version) " (" (stamp.command) ") as of "
                    time datetime=(stamp.as_of) { (stamp.as_of) } "."
                }
            }
        }
    }
    .into_string()
}

/// Characters kept as they are in a link to a report file: letters, digits and `-._~`
/// (RFC 3986 unreserved); anything else (`/`, `:`, `?`, `#`, `%`, spaces, non-ASCII) is
/// percent-encoded, so a funnel name can only ever name a file beside the page.
const LINK_KEEP: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The relative link to the report file `name` (a funnel name plus an extension).
pub(crate) fn file_link(name: &str) -> String {
    utf8_percent_encode(name, LINK_KEEP).to_string()
}

/// A rate, interval bound or lift as the CSV writes it (`0.1234`) and as people read it
/// (`12.34%`), the second made from the first's digits so the two never disagree; `None`
/// when undefined.
pub(crate) fn rate_pct(r: Option<f64>) -> Option<(String, String)> {
    let exact = rate(r);
    if exact.is_empty() {
        return None;
    }
    let (sign, digits) = exact.strip_prefix('-').map_or(("", exact.as_str()), |d| ("-", d));
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0000"));
    // `whole.fraction` has 4 decimals: the percentage is `whole fraction[..2] . fraction[2..]`.
    let hundreds = format!("{whole}{}", &fraction[..2]);
    let hundreds = hundreds.trim_start_matches('0');
    let hundreds = if hundreds.is_empty() { "0" } else { hundreds };
    let pct = format!("{sign}{hundreds}.{}%", &fraction[2..]);
    Some((exact, pct))
}

/// A number cell's content: the people's form, with the exact form in `<data value>`; an
/// empty cell (the CSV's empty) when undefined.
pub(crate) fn data(exact: &str, shown: &str) -> Markup {
    html! {
        @if !exact.is_empty() {
            data value=(exact) { (shown) }
        }
    }
}

/// A rate as a percentage cell ([`rate_pct`]).
pub(crate) fn pct_cell(r: Option<f64>) -> Markup {
    match rate_pct(r) {
        Some((exact, pct)) => data(&exact, &pct),
        None => html! {},
    }
}

/// A lift as a signed percentage cell (`+20.83%`).
pub(crate) fn lift_cell(r: Option<f64>) -> Markup {
    match rate_pct(r) {
        Some((exact, pct)) => {
            let signed = if pct.starts_with('-') { pct } else { format!("+{pct}") };
            data(&exact, &signed)
        }
        None => html! {},
    }
}

/// A duration in seconds: exact in `value` (as the CSV), rounded for people (`45 s`,
/// `12.5 min`, `3.2 h`, `2.1 d`).
pub(crate) fn seconds_cell(s: Option<f64>) -> Markup {
    match s {
        None => html! {},
        Some(s) => {
            let shown = if s < 90.0 {
                format!("{s:.0} s")
            } else if s < 90.0 * 60.0 {
                format!("{:.1} min", s / 60.0)
            } else if s < 36.0 * 3600.0 {
                format!("{:.1} h", s / 3600.0)
            } else {
                format!("{:.1} d", s / 86_400.0)
            };
            data(&s.to_string(), &shown)
        }
    }
}

/// A count with thousands separators, exact in `value`.
pub(crate) fn count_cell(n: u64) -> Markup {
    data(&n.to_string(), &crate::number::grouped(n))
}

/// A name from the data as shown: `(empty)` for an empty one (escaped by maud either way).
pub(crate) fn name(s: &str) -> &str {
    if s.is_empty() { "(empty)" } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_the_csv_digits() {
        let pct = |r: f64| rate_pct(Some(r)).unwrap();
        assert_eq!(pct(0.12345678), ("0.1235".into(), "12.35%".into()));
        assert_eq!(pct(1.0), ("1.0000".into(), "100.00%".into()));
        assert_eq!(pct(0.0), ("0.0000".into(), "0.00%".into()));
        assert_eq!(pct(0.0004), ("0.0004".into(), "0.04%".into()));
        assert_eq!(pct(-0.2), ("-0.2000".into(), "-20.00%".into()));
        assert_eq!(pct(12.5), ("12.5000".into(), "1250.00%".into()));
        assert_eq!(rate_pct(None), None);
    }

    #[test]
    fn links_name_files_beside_the_page() {
        assert_eq!(file_link("walkthrough.html"), "walkthrough.html");
        assert_eq!(file_link("a b#c?.html"), "a%20b%23c%3F.html");
        assert_eq!(file_link("javascript:alert(1).html"), "javascript%3Aalert%281%29.html");
        assert_eq!(file_link("..%2f.html"), "..%252f.html");
        assert_eq!(file_link("é.html"), "%C3%A9.html");
    }
}

#[cfg(test)]
mod page_tests {
    use snowfunnel_engine::FunnelReport;
    use snowfunnel_ingest::Counters;

    use super::*;
    use crate::testing::{computed, counts};

    #[test]
    fn names_are_text_and_nothing_is_loaded() {
        let hostile = "<script>alert(\"x\")</script>";
        let result = computed(FunnelReport {
            name: "f".into(),
            experiment: hostile.into(),
            control: "control".into(),
            step_names: vec!["<b>one</b>".into(), "two & 'three'".into()],
            variants: vec![counts("control", vec![100, 10]), counts("\"><img src=x>", vec![100, 30])],
            cohorts: Vec::new(),
            breakdowns: Vec::new(),
            keys: 200,
            conflicting_keys: 0,
        });
        let stamp = RunStamp { command: "run".into(), version: "1".into(), as_of: "now".into() };
        let page = funnel_html(&result, None, &["<warn>".into()], &Counters::default(), &stamp);
        for raw in ["<script", "<img", "<b>", "<warn>"] {
            assert!(!page.contains(raw), "{raw}");
        }
        assert!(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
        assert!(page.contains("two &amp; 'three'"));
        assert!(page.contains(&format!("content=\"{CONTENT_SECURITY_POLICY}\"")));
        // Nothing that loads: the SVG namespace is a name, not a URL anything fetches.
        let page_without_namespace = page.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        for loads in [" src=\"", "url(", "@import", "http://", "https://"] {
            assert!(!page_without_namespace.contains(loads), "{loads}");
        }
        // The candidate's lift (30/100 over 10/100) is shown and carried exactly.
        assert!(page.contains("<data value=\"2.0000\">+200.00%</data>"), "{page}");
        let index = index_html(
            std::slice::from_ref(&result),
            &crate::RunWarnings::of(std::slice::from_ref(&result)),
            &Counters::default(),
            &stamp,
        );
        assert!(index.contains("<a href=\"f.html\">f</a>"));
    }
}
