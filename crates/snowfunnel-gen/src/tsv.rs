//! An [`Event`] as one enriched TSV line: the 131 fields in the Analytics SDKs' order, with the
//! fields a funnel ignores filled from the event's `filler_seed` so lines have a realistic size.

use crate::contexts::{self, Filler};
use crate::json::JsonStyle;
use crate::model::Event;
use crate::profiles::{self, BROWSERS, PLACES};
use crate::rng::Rand;
use crate::text::push_int;
use crate::time::{Layout, push_timestamp};

/// Number of fields on an enriched line.
pub const FIELD_COUNT: usize = 131;

/// Share of browser events with a `ua_parser_context` in `derived_contexts`. Together with the
/// other fill rates it sets the average line length near GitLab's real ~1.5 KB.
const UA_PARSER_SHARE: f64 = 0.15;

/// Writes the fields of one line in increasing index order, adding the tabs in between.
struct Fields<'a> {
    out: &'a mut Vec<u8>,
    /// Index of the field being written.
    current: usize,
}

impl<'a> Fields<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        Fields { out, current: 0 }
    }

    /// Moves to field `index` and returns the buffer to write its text into.
    fn at(&mut self, index: usize) -> &mut Vec<u8> {
        debug_assert!(index >= self.current && index < FIELD_COUNT, "field {index} written out of order");
        while self.current < index {
            self.out.push(b'\t');
            self.current += 1;
        }
        self.out
    }

    /// Writes a field from the generator's own tables (known to hold no tab or line break).
    fn put(&mut self, index: usize, value: &str) {
        self.at(index).extend_from_slice(value.as_bytes());
    }

    /// Writes a field that comes from the [`Event`] (anything a caller put there). Tabs and line
    /// breaks become spaces: the format cannot escape them.
    fn put_text(&mut self, index: usize, value: &str) {
        let out = self.at(index);
        let start = out.len();
        out.extend_from_slice(value.as_bytes());
        sanitize_tail(out, start);
    }

    fn put_time(&mut self, index: usize, micros: i64) {
        push_timestamp(self.at(index), micros, Layout::Enriched);
    }

    fn put_int(&mut self, index: usize, value: i64) {
        push_int(self.at(index), value);
    }

    fn finish(mut self) {
        self.at(FIELD_COUNT - 1);
    }
}

pub(crate) fn write_event(event: &Event, out: &mut Vec<u8>) {
    if event.bare {
        write_bare_event(event, out);
        return;
    }
    let mut rand = Rand::seeded(event.filler_seed);
    let web = event.platform != "srv";
    let browser = &BROWSERS[rand.weighted_by(BROWSERS, |b| b.weight)];
    let place = rand.pick(PLACES);
    let filler = Filler::draw(&mut rand, event);
    let mut f = Fields::new(out);

    f.put_text(0, &event.app_id);
    f.put_text(1, &event.platform);
    f.put_time(2, event.collector_micros + rand.range(900_000, 40_000_000));
    f.put_time(3, event.collector_micros);
    let (created, sent) = device_times(&mut rand, event);
    if let Some(created) = created {
        f.put_time(4, created);
    }
    f.put_text(5, &event.event);
    f.put_text(6, &event.event_id);
    f.put(8, "gl");
    f.put(9, if web { rand.pick(&["js-3.24.2", "js-3.24.2", "js-3.23.1"]) } else { "rb-0.8.0" });
    f.put(10, "ssc-3.2.0-kinesis");
    f.put(11, "snowplow-enrich-kinesis-4.1.0");
    if rand.chance(0.1) {
        rand.push_hex(f.at(12), 64);
    }
    rand.push_hex(f.at(13), 64);
    if web {
        rand.push_uuid(f.at(15));
        f.put_int(16, rand.range(1, 400));
    }
    rand.push_uuid(f.at(17));
    // Country, region, city; the IP lookup's finer fields stay empty once the address is
    // pseudonymized.
    for (i, value) in place[..3].iter().enumerate() {
        f.put(18 + i, value);
    }

    if web {
        write_page_fields(&mut f, &mut rand, event);
    }
    write_payload(&mut f, &mut rand, &filler, event);
    if event.event == "page_ping" {
        for (i, value) in [0, 0, rand.range(0, 300), rand.range(300, 9_000)].into_iter().enumerate() {
            f.put_int(73 + i, value);
        }
    }

    if web {
        let (width, height) = browser.screen;
        let view_height = height.saturating_sub(rand.range(60, 200) as u32);
        f.put(77, browser.useragent);
        for (i, value) in browser.br.iter().enumerate() {
            f.put(78 + i, value);
        }
        f.put(83, rand.pick(&["en-US", "en-US", "en-GB", "de-DE", "ja", "pt-BR"]));
        f.put(93, "1");
        f.put(94, "24");
        f.put_int(95, i64::from(width));
        f.put_int(96, i64::from(view_height));
        for (i, value) in browser.os.iter().enumerate() {
            f.put(97 + i, value);
        }
        f.put(100, place[7]);
        f.put(101, browser.dvce_type);
        f.put(102, if browser.mobile { "1" } else { "0" });
        f.put_int(103, i64::from(width));
        f.put_int(104, i64::from(height));
        f.put(105, "UTF-8");
        f.put_int(106, i64::from(width));
        f.put_int(107, rand.range(i64::from(view_height), 9_000));
    }
    f.put(115, place[7]);
    if let Some(sent) = sent {
        f.put_time(119, sent);
    }
    if web {
        if rand.chance(UA_PARSER_SHARE) {
            let style = JsonStyle { spaced: false, escape_slashes: rand.chance(0.5) };
            contexts::write_derived_contexts(f.at(122), browser, style);
        }
        rand.push_uuid(f.at(123));
    }
    write_event_time_and_schema(&mut f, event);
    rand.push_hex(f.at(129), 32);
    f.finish();
}

/// A bare line: the fields a consumer of experiments reads, and none of the filler.
fn write_bare_event(event: &Event, out: &mut Vec<u8>) {
    let mut rand = Rand::seeded(event.filler_seed);
    let filler = Filler::draw(&mut rand, event);
    let mut f = Fields::new(out);
    f.put_text(0, &event.app_id);
    f.put_text(1, &event.platform);
    f.put_time(3, event.collector_micros);
    f.put_text(5, &event.event);
    f.put_text(6, &event.event_id);
    f.put_text(35, &event.page_urlpath);
    write_payload(&mut f, &mut rand, &filler, event);
    write_event_time_and_schema(&mut f, event);
    f.finish();
}

/// The fields every line carries and funnels read: the contexts (with their filler), the
/// structured event's fields and the self-describing event.
fn write_payload(f: &mut Fields<'_>, rand: &mut Rand, filler: &Filler, event: &Event) {
    contexts::write_contexts(f.at(52), event, filler, rand);
    f.put_text(53, &event.se_category);
    f.put_text(54, &event.se_action);
    f.put_text(55, &event.se_label);
    f.put_text(56, &event.se_property);
    f.put_text(57, &event.se_value);
    if let Some(schema) = &event.unstruct_schema {
        contexts::write_unstruct(f.at(58), schema, filler, rand);
    }
}

/// The derived time and the event's schema (vendor, name, format, version).
fn write_event_time_and_schema(f: &mut Fields<'_>, event: &Event) {
    if let Some(derived) = event.derived_micros {
        f.put_time(124, derived);
    }
    let (vendor, name, version) = event_schema(event);
    f.put_text(125, vendor);
    f.put_text(126, name);
    f.put(127, "jsonschema");
    f.put_text(128, version);
}

/// Replaces tabs and line breaks in `out[start..]` with spaces.
fn sanitize_tail(out: &mut [u8], start: usize) {
    for byte in &mut out[start..] {
        if matches!(byte, b'\t' | b'\n' | b'\r') {
            *byte = b' ';
        }
    }
}

/// `dvce_created_tstamp` and `dvce_sent_tstamp`, consistent with `derived_tstamp`
/// (enrichment computes `derived = collector - (sent - created)`).
fn device_times(rand: &mut Rand, event: &Event) -> (Option<i64>, Option<i64>) {
    let collector = event.collector_micros;
    match event.derived_micros {
        Some(derived) if derived > 0 => {
            let skew = if rand.chance(0.8) {
                rand.range(-2_000_000, 2_000_000)
            } else {
                rand.range(-90_000_000, 90_000_000)
            };
            let created = derived + skew;
            (Some(created), Some(created + (collector - derived)))
        }
        Some(bug) => (Some(bug), None),
        None => (Some(collector - rand.range(100_000, 5_000_000)), None),
    }
}

fn write_page_fields(f: &mut Fields<'_>, rand: &mut Rand, event: &Event) {
    let path = &event.page_urlpath;
    let query = if rand.chance(0.12) {
        rand.pick(&["?tab=pipelines", "?scope=all&state=opened", "?sort=created_date"])
    } else {
        ""
    };
    let url = f.at(29);
    url.extend_from_slice(b"https://gitlab.com");
    let start = url.len();
    url.extend_from_slice(path.as_bytes());
    sanitize_tail(url, start);
    url.extend_from_slice(query.as_bytes());
    f.put(30, &profiles::title_for_path(path));
    let referrer = rand.weighted(&[30, 10, 60]);
    let referrer_path = match referrer {
        0 => {
            let template = profiles::random_page(rand).path;
            profiles::fill_path(rand, template)
        }
        _ => "/".into(),
    };
    let referrer_host = ["gitlab.com", "www.google.com", ""][referrer];
    if !referrer_host.is_empty() {
        f.put(31, &format!("https://{referrer_host}{referrer_path}"));
    }
    f.put(32, "https");
    f.put(33, "gitlab.com");
    f.put(34, "443");
    f.put_text(35, path);
    f.put(36, query.trim_start_matches('?'));
    if !referrer_host.is_empty() {
        f.put(38, "https");
        f.put(39, referrer_host);
        f.put(40, "443");
        f.put(41, &referrer_path);
        f.put(44, if referrer == 0 { "internal" } else { "search" });
        if referrer == 1 {
            f.put(45, "Google");
        }
    }
}

/// `event_vendor`, `event_name` and `event_version` for the event kind.
fn event_schema(event: &Event) -> (&str, &str, &str) {
    const SNOWPLOW: &str = "com.snowplowanalytics.snowplow";
    match event.event.as_str() {
        "struct" => ("com.google.analytics", "event", "1-0-0"),
        "unstruct" => event.unstruct_schema.as_deref().and_then(split_iglu).unwrap_or(("", "", "")),
        other => (SNOWPLOW, other, "1-0-0"),
    }
}

/// `(vendor, name, version)` of `iglu:vendor/name/format/version`.
fn split_iglu(uri: &str) -> Option<(&str, &str, &str)> {
    let mut parts = uri.strip_prefix("iglu:")?.split('/');
    let (vendor, name, _format, version) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    Some((vendor, name, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iglu_uris_split() {
        assert_eq!(
            split_iglu("iglu:com.gitlab/experiment_signup/jsonschema/1-0-2"),
            Some(("com.gitlab", "experiment_signup", "1-0-2"))
        );
        assert_eq!(split_iglu("com.gitlab/x"), None);
    }

    #[test]
    fn plain_fields_lose_tabs_and_newlines() {
        let mut out = Vec::new();
        let mut f = Fields::new(&mut out);
        f.put_text(1, "a\tb\nc");
        f.finish();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.split('\t').count(), FIELD_COUNT);
        assert!(text.starts_with("\ta b c\t"));
    }
}
