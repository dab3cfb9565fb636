//! The HTML reports in a real browser: Debian's chromium, headless, opens each page of the
//! bundled sample's reports from disk; the numbers read back from its DOM are the CSV's, a
//! screenshot is taken, and its network log shows the pages loaded nothing.
//!
//! CI installs chromium (`scripts/ci-setup.sh`) and sets `SNOWFUNNEL_REQUIRE_BROWSER=1`, which
//! makes a missing browser a failure; elsewhere the test skips, loudly, without one.
//! `SNOWFUNNEL_CHROMIUM` names another binary. With `SNOWFUNNEL_UPDATE_SCREENSHOT=1` the
//! screenshot replaces the README's `docs/report.png`.

use std::path::{Path, PathBuf};
use std::process::Command;

use scraper::{ElementRef, Html, Selector};

use crate::harness::assert_exit;

/// The time the reports are stamped with (2026-03-15T00:00:00Z), as in the golden test.
pub(crate) const AS_OF: &str = "1773532800";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The browser binary, or `None` (after saying so) when there is none and none is required.
fn chromium() -> Option<PathBuf> {
    let names = std::env::var_os("SNOWFUNNEL_CHROMIUM")
        .map_or_else(|| vec!["chromium".into(), "chromium-browser".into()], |n| vec![n]);
    for name in &names {
        if Command::new(name).arg("--version").output().is_ok_and(|o| o.status.success()) {
            return Some(PathBuf::from(name));
        }
    }
    let required = std::env::var_os("SNOWFUNNEL_REQUIRE_BROWSER").is_some_and(|v| !v.is_empty() && v != "0");
    assert!(
        !required,
        "SNOWFUNNEL_REQUIRE_BROWSER is set but no chromium runs ({names:?}): run scripts/ci-setup.sh"
    );
    eprintln!(
        "\n==================================================================\n\
         SKIPPED: the browser test of the HTML reports: no chromium here.\n\
         Install it with scripts/ci-setup.sh (Debian: apt-get install chromium).\n\
         ==================================================================\n"
    );
    None
}

/// What chromium made of one page: its DOM and the page's network requests.
struct Loaded {
    dom: String,
    /// URLs of requests the page started (the browser's own background requests left out).
    page_requests: Vec<String>,
}

/// Opens `page` in headless chromium, with every host name unresolvable and a network log;
/// with `screenshot`, also takes one.
fn load(browser: &Path, page: &Path, scratch: &Path, screenshot: Option<&Path>) -> Loaded {
    let profile = tempfile::tempdir_in(scratch).unwrap();
    let net_log = profile.path().join("net.json");
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let mut command = Command::new(browser);
    command
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions"])
        .args(["--disable-background-networking", "--disable-component-update", "--hide-scrollbars"])
        .arg("--host-resolver-rules=MAP * ~NOTFOUND")
        .arg(format!("--user-data-dir={}", profile.path().join("profile").display()))
        .arg(format!("--log-net-log={}", net_log.display()));
    match screenshot {
        Some(png) => command
            .args(["--window-size=1100,1500", "--force-device-scale-factor=1"])
            .arg(format!("--screenshot={}", png.display())),
        None => command.arg("--dump-dom"),
    };
    let o = command.arg(&url).output().unwrap();
    assert!(o.status.success(), "chromium on {url}: {}", String::from_utf8_lossy(&o.stderr));
    Loaded { dom: String::from_utf8(o.stdout).unwrap(), page_requests: page_requests(&net_log) }
}

/// The URLs of the requests in a chromium network log that a page opened from disk started:
/// those of its (opaque, `file://`) origin. The browser's own (updates, accounts) have none.
fn page_requests(net_log: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(net_log).unwrap_or_else(|e| panic!("{}: {e}", net_log.display()));
    // A log cut short (the browser quits without closing it) lacks its last brackets.
    let log: serde_json::Value = serde_json::from_str(&text)
        .or_else(|_| serde_json::from_str(&format!("{}]}}", text.trim_end().trim_end_matches(','))))
        .unwrap();
    let start = &log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"];
    log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| &e["type"] == start)
        .filter(|e| {
            let p = &e["params"];
            p["initiator"] == "null"
                || p["initiator"].as_str().is_some_and(|i| i.starts_with("file:"))
                || p["network_isolation_key"].as_str().is_some_and(|k| k.contains("file://"))
        })
        .filter_map(|e| e["params"]["url"].as_str().map(str::to_owned))
        .filter(|url| !url.starts_with("file:"))
        .collect()
}

fn select(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

/// A cell as the CSV writes it: the exact value of its `<data>`, else its text.
fn cell_value(cell: ElementRef<'_>) -> String {
    match cell.select(&select("data")).next() {
        Some(data) => data.value().attr("value").unwrap().to_owned(),
        None => cell.text().collect::<String>().trim().to_owned(),
    }
}

/// Nothing in the page's markup can load anything: no script, frame, object, image, style
/// sheet or font; every link is a file beside the page; the CSP forbids everything else.
fn loads_nothing_by_itself(html: &str, name: &str) {
    let doc = Html::parse_document(html);
    for tag in [
        "script", "iframe", "frame", "object", "embed", "img", "link", "audio", "video", "source", "base",
        "form",
    ] {
        assert!(doc.select(&select(tag)).next().is_none(), "{name}: a <{tag}>");
    }
    for element in doc.select(&select("*")) {
        for (attr, value) in element.value().attrs() {
            assert!(!attr.starts_with("on"), "{name}: an event handler {attr}");
            if matches!(attr, "href" | "src" | "srcset" | "action" | "poster" | "xlink:href" | "formaction") {
                assert!(
                    !value.contains(':') && !value.starts_with('/') && !value.contains('/'),
                    "{name}: {attr}={value:?} points off the directory"
                );
            }
        }
    }
    for style in doc.select(&select("style")) {
        let css: String = style.text().collect();
        assert!(!css.contains("url(") && !css.contains("@import"), "{name}: CSS that loads");
    }
    let csp = doc
        .select(&select(r#"meta[http-equiv="Content-Security-Policy"]"#))
        .next()
        .and_then(|m| m.value().attr("content"))
        .unwrap_or_else(|| panic!("{name}: no CSP"));
    assert!(csp.starts_with("default-src 'none';"), "{name}: {csp}");
}

#[test]
fn reports_open_in_a_browser_with_the_csv_numbers_and_load_nothing() {
    let Some(browser) = chromium() else { return };
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_snowfunnel"))
        .current_dir(repo())
        .env("SOURCE_DATE_EPOCH", AS_OF)
        .args(["run", "--quiet", "--funnel", "funnels/", "--out"])
        .arg(&out)
        .arg("testdata/sample/")
        .output()
        .unwrap();
    assert_exit(&o, 0);

    // The check below can fail: a page without the CSP that shows an image from the network is
    // caught loading it; with the CSP, the same page loads nothing.
    let image = r#"<img src="http://example.invalid/pixel.png">"#;
    let bare = scratch.path().join("bare.html");
    std::fs::write(&bare, format!("<!DOCTYPE html><title>t</title>{image}")).unwrap();
    let caught = load(&browser, &bare, scratch.path(), None).page_requests;
    assert_eq!(caught, ["http://example.invalid/pixel.png"], "the network log catches a page's loads");
    let guarded = scratch.path().join("guarded.html");
    let csp = snowfunnel_report::CONTENT_SECURITY_POLICY;
    let head = format!(r#"<meta http-equiv="Content-Security-Policy" content="{csp}">"#);
    std::fs::write(&guarded, format!("<!DOCTYPE html>{head}<title>t</title>{image}")).unwrap();
    assert_eq!(load(&browser, &guarded, scratch.path(), None).page_requests, Vec::<String>::new());

    let mut funnels: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".csv").filter(|f| !f.ends_with(".summary")).map(str::to_owned))
        .collect();
    funnels.sort();
    assert_eq!(funnels.len(), 3, "{funnels:?}");

    // The index links every funnel's page.
    let index = out.join("_index.html");
    loads_nothing_by_itself(&std::fs::read_to_string(&index).unwrap(), "_index.html");
    let loaded = load(&browser, &index, scratch.path(), None);
    assert_eq!(loaded.page_requests, Vec::<String>::new(), "_index.html loaded something");
    let dom = Html::parse_document(&loaded.dom);
    let links: Vec<&str> = dom.select(&select("a[href]")).filter_map(|a| a.value().attr("href")).collect();
    let expected: Vec<String> = funnels.iter().map(|f| format!("{f}.html")).collect();
    assert_eq!(links, expected);

    for funnel in &funnels {
        let page = out.join(format!("{funnel}.html"));
        loads_nothing_by_itself(&std::fs::read_to_string(&page).unwrap(), funnel);
        let loaded = load(&browser, &page, scratch.path(), None);
        assert_eq!(loaded.page_requests, Vec::<String>::new(), "{funnel}.html loaded something");
        let dom = Html::parse_document(&loaded.dom);
        assert!(dom.select(&select("svg rect")).count() > 0, "{funnel}: a chart with bars");
        assert!(dom.select(&select("#verdicts li")).count() > 0, "{funnel}: verdicts");

        // Every row of the step table, column by column, is the CSV's row.
        let csv = std::fs::read(out.join(format!("{funnel}.csv"))).unwrap();
        let mut reader = csv::Reader::from_reader(csv.as_slice());
        let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
        let rows: Vec<Vec<String>> =
            reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
        let table = dom.select(&select("table.steps:not([data-cohort])")).next().expect("the step table");
        let columns: Vec<String> =
            table.select(&select("thead th")).map(|th| th.text().collect::<String>()).collect();
        // The page's columns, as the CSV names them.
        let as_csv = [
            "variant",
            "step",
            "step_name",
            "keys",
            "conversion_from_previous",
            "conversion_from_first",
            "ci_low",
            "ci_high",
            "lift",
            "lift_ci_low",
            "lift_ci_high",
            "p_value",
            "p_value_adjusted",
            "significant",
            "median_time_to_step_s",
            "p90_time_to_step_s",
            "mde_relative",
            "keys_needed",
            "chance_to_win",
            "expected_loss",
        ];
        assert_eq!(columns.len(), as_csv.len(), "{columns:?}");
        let cells: Vec<Vec<String>> = table
            .select(&select("tbody tr"))
            .map(|tr| tr.select(&select("th, td")).map(cell_value).collect())
            .collect();
        assert_eq!(cells.len(), rows.len(), "{funnel}: one row per variant and step");
        let mut compared = 0;
        for (row, page_row) in rows.iter().zip(&cells) {
            for (c, name) in as_csv.iter().enumerate() {
                let Some(i) = header.iter().position(|h| h == name) else { continue };
                assert_eq!(page_row[c], row[i], "{funnel}: {name} of {row:?}");
                compared += 1;
            }
        }
        assert!(compared >= rows.len() * 14, "{funnel}: {compared} cells compared");
    }

    // A screenshot of the first funnel's page: a PNG of the page as drawn.
    let page = out.join(format!("{}.html", funnels[0]));
    let png = scratch.path().join("report.png");
    let shot = load(&browser, &page, scratch.path(), Some(&png));
    assert_eq!(shot.page_requests, Vec::<String>::new());
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 10_000, "{} bytes", bytes.len());
    if std::env::var_os("SNOWFUNNEL_UPDATE_SCREENSHOT").is_some_and(|v| v == "1") {
        std::fs::write(repo().join("docs/report.png"), &bytes).unwrap();
    }
}
