//! `inference = "sequential"` in a funnel file: the CSV's comparison columns carry the
//! always-valid p-values and the confidence sequence, and the JSON, terminal and HTML say so.

use serde_json::Value;

use crate::harness::{Workspace, assert_exit, event, join_lines, stdout};

const STEPS: &str = "experiment = \"exp\"\n[[steps]]\nname = \"Viewed\"\naction = \"view\"\n\
                     [[steps]]\nname = \"Clicked\"\naction = \"click\"\n";

/// The comparison row (candidate, step 2) of a funnel CSV: its header and cells by name.
fn comparison(csv: &str) -> std::collections::HashMap<String, String> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row = lines.find(|l| l.contains(",candidate,2,")).unwrap();
    header.iter().map(|h| (*h).to_owned()).zip(row.split(',').map(str::to_owned)).collect()
}

#[test]
fn a_sequential_funnel_reports_always_valid_p_values_and_a_confidence_sequence() {
    let ws = Workspace::new();
    ws.write("funnels/exp_funnel.toml", format!("name = \"fixed\"\n{STEPS}").as_bytes());
    ws.write(
        "funnels/sequential.toml",
        format!("name = \"sequential\"\ninference = \"sequential\"\n{STEPS}").as_bytes(),
    );
    // 600 keys per variant: 240 of the control click, 300 of the candidate.
    let mut lines = Vec::new();
    for (variant, clicks) in [("control", 240), ("candidate", 300)] {
        for k in 0..600 {
            let key = format!("{variant}-{k}");
            lines.push(event("view", &key, variant));
            if k < clicks {
                lines.push(event("click", &key, variant));
            }
        }
    }
    ws.write("in/a.tsv", &join_lines(&lines));
    let o = ws.run(&["in/a.tsv"]);
    assert_exit(&o, 0);

    let fixed = comparison(&ws.read("out/fixed.csv"));
    let sequential = comparison(&ws.read("out/sequential.csv"));
    assert_eq!(ws.read("out/fixed.csv").lines().next(), ws.read("out/sequential.csv").lines().next());
    // Fixed: the pooled z-test (statsmodels' proportions_ztest: 4.985e-4) and Katz's interval.
    // Sequential, computed with Python's math from the closed forms (tests/it/sequential.rs of
    // snowfunnel-stats): always-valid p 0.033880, sequence exp(ln 1.25 -+ 3.3893 * 0.064550) - 1.
    for (column, want_fixed, want_sequential) in [
        ("lift", "0.2500", "0.2500"),
        ("p_value", "4.99e-4", "0.0339"),
        ("p_value_adjusted", "4.99e-4", "0.0339"),
        ("significant", "true", "true"),
        ("lift_ci_low", "0.1015", "0.0114"),
        ("lift_ci_high", "0.4186", "0.5448"),
        ("ci_low", "0.4601", "0.4601"),
    ] {
        assert_eq!((column, fixed[column].as_str()), (column, want_fixed));
        assert_eq!((column, sequential[column].as_str()), (column, want_sequential));
    }

    let json = |name: &str| -> Value { serde_json::from_str(&ws.read(&format!("out/{name}.json"))).unwrap() };
    let (fixed, sequential) = (json("fixed"), json("sequential"));
    assert_eq!(fixed["inference"], "fixed");
    assert_eq!(fixed["sequential_tuning"], Value::Null);
    assert_eq!(sequential["inference"], "sequential");
    assert_eq!(sequential["sequential_tuning"], 5000.0);
    assert!(sequential["lift_interval_method"].as_str().unwrap().contains("confidence sequence"));
    let step = &sequential["variants"][1]["steps"][1];
    assert_eq!(step["test"], "confidence_sequence");
    assert!((step["p_value"].as_f64().unwrap() - 0.033_880_351_439_981_16).abs() < 1e-12, "{step}");
    assert_eq!(fixed["variants"][1]["steps"][1]["test"], "z_test");

    let out = stdout(&o);
    assert!(out.contains("Verdicts (lift [95% interval] vs control;"), "{out}");
    assert!(
        out.contains("Verdicts, sequential: valid on any day (lift [95% always-valid confidence"),
        "{out}"
    );
    let page = ws.read("out/sequential.html");
    assert!(page.contains("always-valid confidence sequence"), "{page}");
    assert!(!ws.read("out/fixed.html").contains("always-valid"));
}

#[test]
fn a_bad_inference_is_a_usage_error_naming_the_file_and_line() {
    let ws = Workspace::new();
    ws.write(
        "funnels/exp_funnel.toml",
        format!("inference = \"sequential\"\nsequential_tuning = 0\n{STEPS}").as_bytes(),
    );
    ws.write("in/a.tsv", &join_lines(&[event("view", "k", "control")]));
    let o = ws.run(&["in/a.tsv"]);
    assert_exit(&o, 2);
    let err = crate::harness::stderr(&o);
    assert!(
        err.contains("exp_funnel.toml:2: sequential_tuning: 0 is not a positive number of keys"),
        "{err}"
    );
}
