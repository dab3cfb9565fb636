//! `denominator = "exposed"`: a candidate that changes step 1 itself biases every comparison
//! over step-1 keys; over exposed keys it does not.

use crate::harness::{Workspace, assert_exit, csv_rows, event, stderr};

const STEPS: &str = r#"experiment = "exp"
[[steps]]
name = "Viewed"
action = "view"
[[steps]]
name = "Clicked"
action = "click"
"#;

/// 1,000 exposed keys per variant (each has an `assign` event, no funnel step). The candidate
/// shows the entry point to more of them: 800 view it against the control's 500. Both get 200
/// clicks: the same conversion from exposure (20%), so the candidate changes step 1 only.
fn lines() -> Vec<String> {
    let mut lines = Vec::new();
    for (variant, viewed) in [("control", 500), ("candidate", 800)] {
        for i in 0..1_000 {
            let key = format!("{variant}-{i}");
            lines.push(event("assign", &key, variant));
            if i < viewed {
                lines.push(event("view", &key, variant));
            }
            if i < 200 {
                lines.push(event("click", &key, variant));
            }
        }
    }
    lines
}

#[test]
fn exposed_keys_remove_the_bias_of_a_variant_that_changes_step_1() {
    let ws = Workspace::new();
    std::fs::remove_file(ws.path("funnels/exp_funnel.toml")).unwrap();
    ws.write("funnels/step1.toml", STEPS.as_bytes());
    ws.write("funnels/exposed.toml", format!("denominator = \"exposed\"\nmde = 0.1\n{STEPS}").as_bytes());
    ws.write_gz("in/events.tsv.gz", &lines());
    let out = ws.run(&["in"]);
    assert_exit(&out, 0);

    // Over step-1 keys: 200/800 against 200/500, a lift of -37.5%, "significantly worse", and
    // a split of 800 to 500 that the SRM test flags.
    let step1 = csv_rows(&ws.read("out/step1.csv"));
    assert_eq!(step1.len(), 4);
    let clicked = &step1[3];
    assert_eq!((clicked["variant"].as_str(), clicked["step"].as_str()), ("candidate", "2"));
    assert_eq!((clicked["lift"].as_str(), clicked["significant"].as_str()), ("-0.3750", "true"));
    assert!(
        stderr(&out).contains("sample ratio mismatch in funnel step1: step-1 keys control 500"),
        "{}",
        stderr(&out)
    );

    // Over exposed keys: step 0 is the denominator, step 1 a measured change (+60%), and the
    // clicks are the same 20% of each variant: no lift, not significant, no mismatch.
    let exposed = csv_rows(&ws.read("out/exposed.csv"));
    assert_eq!(exposed.len(), 6);
    let cells = |row: &std::collections::HashMap<String, String>, columns: &[&str]| -> Vec<String> {
        columns.iter().map(|c| row[*c].clone()).collect()
    };
    let shape = ["variant", "step", "step_name", "keys", "conversion_from_previous", "conversion_from_first"];
    assert_eq!(cells(&exposed[0], &shape), ["control", "0", "Exposed", "1000", "1.0000", "1.0000"]);
    assert_eq!(cells(&exposed[1], &shape), ["control", "1", "Viewed", "500", "0.5000", "0.5000"]);
    assert_eq!(cells(&exposed[3], &shape), ["candidate", "0", "Exposed", "1000", "1.0000", "1.0000"]);
    assert_eq!(cells(&exposed[5], &shape), ["candidate", "2", "Clicked", "200", "0.2500", "0.2000"]);
    assert_eq!(cells(&exposed[4], &["lift", "significant"]), ["0.6000", "true"]);
    assert_eq!(cells(&exposed[5], &["lift", "significant", "chance_to_win"]), ["0.0000", "false", "0.5000"]);
    // Power over the exposed keys: statsmodels' samplesize_proportions_2indep_onetail(diff=0.02,
    // prop2=0.2, power=0.8, alpha=0.05) is 6,509.5 keys per variant for the planned +10%.
    assert_eq!(exposed[5]["keys_needed"], "6510");
    assert!(!stderr(&out).contains("mismatch in funnel exposed"), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&ws.read("out/exposed.json")).unwrap();
    assert_eq!(json["denominator"], "exposed");
    assert_eq!(json["variants"][1]["exposed"], 1000);
    assert_eq!(json["checks"]["split"][1]["keys"], 1000);
    let verdict = json["verdicts"][1]["text"].as_str().unwrap();
    assert!(verdict.ends_with("needs about 5,510 more keys per variant to detect +10.0%"), "{verdict}");
}
