//! The JSON and HTML reports: `--format` picks the files, names from the data end up escaped
//! (as text in the page, as strings in the JSON), and the run's own files keep their names.

use scraper::{Html, Selector};
use serde_json::{Value, json};
use snowfunnel_parse::{FIELD_COUNT, fields};

use crate::harness::{Workspace, assert_exit, join_lines, stderr};

/// An experiment, variants and a step name that would be markup, attributes or formulas.
const EXPERIMENT: &str = "<script>alert('x')</script>";
const VARIANTS: [&str; 3] = ["control", "\"><img src=x onerror=alert(1)>", "=HYPERLINK(\"http://x\",\"y\")"];
const STEP: &str = "<b>clicked</b> & 'quoted' \"twice\"";
/// A funnel name: a file name, so without `/`, but markup all the same.
const FUNNEL_NAME: &str = "<i title=\"x\">funnel'";

fn line(action: &str, key: &str, variant: &str, i: usize) -> String {
    let mut f = vec![String::new(); FIELD_COUNT];
    f[fields::APP_ID] = "gitlab".into();
    f[fields::COLLECTOR_TSTAMP] = format!("2026-03-0{} 10:00:{:02}.000", 1 + i % 3, i % 60);
    f[fields::EVENT] = "struct".into();
    f[fields::EVENT_ID] = format!("{action}-{key}-{i}");
    f[fields::SE_CATEGORY] = "c".into();
    f[fields::SE_ACTION] = action.into();
    let context = json!({
        "schema": "iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-0",
        "data": {"experiment": EXPERIMENT, "key": key, "variant": variant},
    });
    f[fields::CONTEXTS] = json!({
        "schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1",
        "data": [context],
    })
    .to_string();
    f.join("\t")
}

fn workspace() -> Workspace {
    let ws = Workspace::new();
    let funnel = format!(
        "name = {}\nexperiment = {}\n[[steps]]\nname = \"Viewed\"\naction = \"view\"\n\
         [[steps]]\nname = {}\naction = \"click\"\n",
        toml_string(FUNNEL_NAME),
        toml_string(EXPERIMENT),
        toml_string(STEP)
    );
    ws.write("funnels/exp_funnel.toml", funnel.as_bytes());
    let mut lines = Vec::new();
    for (v, variant) in VARIANTS.iter().enumerate() {
        for k in 0..20 {
            let key = format!("k{v}-{k}");
            lines.push(line("view", &key, variant, lines.len()));
            if k < [10, 4, 16][v] {
                lines.push(line("click", &key, variant, lines.len()));
            }
        }
    }
    ws.write("in/a.tsv", &join_lines(&lines));
    ws
}

fn toml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

#[test]
fn hostile_names_end_up_as_text_in_the_page_and_strings_in_the_json() {
    let ws = workspace();
    let o = ws.run(&["in"]);
    assert_exit(&o, 0);
    let name = FUNNEL_NAME;
    let page = ws.read(&format!("out/{name}.html"));
    // Not one of the names became markup: the only elements are the page's own.
    for raw in ["<script", "<img", "<b>", "<i ", "onerror=alert(1)>"] {
        assert!(!page.contains(raw), "{raw} in the page");
    }
    let doc = Html::parse_document(&page);
    let sel = |s: &str| Selector::parse(s).unwrap();
    assert!(doc.select(&sel("script, img, b, i")).next().is_none());
    let text: String = doc.root_element().text().collect();
    for shown in [EXPERIMENT, VARIANTS[1], VARIANTS[2], STEP, name] {
        assert!(text.contains(shown), "{shown} is shown as it is");
    }
    let rows: Vec<&str> =
        doc.select(&sel("table.steps tbody tr")).filter_map(|tr| tr.value().attr("data-variant")).collect();
    assert!(rows.contains(&VARIANTS[1]), "{rows:?}");
    // The index links the page by a percent-encoded name: a file beside it, never markup.
    let index = ws.read("out/_index.html");
    let index_doc = Html::parse_document(&index);
    let href = index_doc.select(&sel("a[href]")).next().unwrap().value().attr("href").unwrap();
    assert_eq!(href, "%3Ci%20title%3D%22x%22%3Efunnel%27.html");
    assert!(!index.contains("<i "));

    let funnel: Value = serde_json::from_str(&ws.read(&format!("out/{name}.json"))).unwrap();
    assert_eq!(funnel["schema_version"], 1);
    assert_eq!(funnel["experiment"], EXPERIMENT);
    assert_eq!(funnel["funnel"], name);
    assert_eq!(funnel["steps"][1], STEP);
    let variants: Vec<&str> =
        funnel["variants"].as_array().unwrap().iter().map(|v| v["variant"].as_str().unwrap()).collect();
    assert_eq!(variants, [VARIANTS[0], VARIANTS[1], VARIANTS[2]]);
    // 4/20 against 10/20: a lift of -0.6, as a number; the control's comparison is null.
    assert_eq!(funnel["variants"][1]["steps"][1]["lift"], -0.6);
    assert_eq!(funnel["variants"][0]["steps"][1]["lift"], Value::Null);
    assert_eq!(funnel["variants"][1]["steps"][1]["keys"], 4);
    let run: Value = serde_json::from_str(&ws.read("out/_run.json")).unwrap();
    assert_eq!(run["kind"], "run");
    assert_eq!(run["experiments"][0]["experiment"], EXPERIMENT);
    assert_eq!(run["funnels"][0]["funnel"], name);
}

#[test]
fn format_picks_the_files_and_the_stamp_can_be_fixed() {
    let ws = Workspace::new();
    let lines: Vec<String> =
        (0..6).map(|i| crate::harness::event("view", &format!("k{i}"), ["control", "b"][i % 2])).collect();
    ws.write("in/a.tsv", &join_lines(&lines));
    let run = |args: &[&str]| {
        ws.snowfunnel(&[&["run", "--funnel", "funnels", "--out", "out", "in"][..], args].concat())
    };
    assert_exit(&run(&["--format", "json"]), 0);
    assert_eq!(ws.out_files(), ["_SUCCESS", "_run.json", "exp_funnel.json"]);
    std::fs::remove_dir_all(ws.path("out")).unwrap();
    assert_exit(&run(&["--format", "html,csv"]), 0);
    assert_eq!(
        ws.out_files(),
        ["_SUCCESS", "_index.html", "exp_funnel.csv", "exp_funnel.html", "exp_funnel.summary.csv"]
    );
    let marker = ws.read("out/_SUCCESS");
    assert!(!marker.contains(".json"), "{marker}");
    std::fs::remove_dir_all(ws.path("out")).unwrap();
    let o = run(&["--format", "pdf"]);
    assert_exit(&o, 2);

    let stamped = |epoch: &str| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_snowfunnel"))
            .current_dir(ws.dir.path())
            .env("SOURCE_DATE_EPOCH", epoch)
            .args(["run", "--funnel", "funnels", "--out", "out", "in", "--format", "json"])
            .output()
            .unwrap();
        assert_exit(&o, 0);
        serde_json::from_str::<Value>(&ws.read("out/_run.json")).unwrap()
    };
    let run_json = stamped("1773532800");
    assert_eq!(run_json["as_of"], "2026-03-15T00:00:00.000Z");
    assert_eq!(run_json["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(run_json["lines"], 6);
}

#[test]
fn a_funnel_cannot_take_the_name_of_the_run_summary_or_the_index() {
    for reserved in ["_run", "_index"] {
        let ws = Workspace::new();
        ws.write("in/a.tsv", &join_lines(&[crate::harness::event("view", "k", "control")]));
        ws.write(
            "funnels/exp_funnel.toml",
            format!("name = \"{reserved}\"\n{}", crate::harness::FUNNEL).as_bytes(),
        );
        let o = ws.run(&["in"]);
        assert_exit(&o, 2);
        assert!(stderr(&o).contains(&format!("funnel name \"{reserved}\" is reserved")), "{}", stderr(&o));
        assert!(ws.out_files().is_empty());
    }
}
