//! Loud empty matches: a misspelled experiment, a step value no event has, a control variant
//! without keys and a weighted variant never seen each warn with the closest names seen; outages;
//! `--fail-on` and `--strict` exit 4 with every output committed; `snowfunnel experiments`.

use crate::harness::{Workspace, assert_exit, stderr, stdout};

const EXPERIMENT: &str = "pipeline_editor_walkthrough";

/// A struct event of `experiment` at noon on day `day` of March 2026.
fn event(experiment: &str, action: &str, key: &str, variant: &str, day: u32) -> String {
    let mut f = vec![String::new(); snowfunnel_parse::FIELD_COUNT];
    f[0] = "gitlab".into();
    f[3] = format!("2026-03-{day:02} 12:00:00.000");
    f[5] = "struct".into();
    f[6] = format!("{action}-{key}");
    f[53] = "projects:ci:editor".into();
    f[54] = action.into();
    f[52] = format!(
        r#"{{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{{"schema":"iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-0","data":{{"experiment":"{experiment}","key":"{key}","variant":"{variant}"}}}}]}}"#
    );
    f.join("\t")
}

/// Each day of `days`: `per_day` keys of each variant of `variants` view the editor, every
/// other one clicks the walkthrough; and a few events of another experiment.
fn data(ws: &Workspace, days: &[(u32, &[&str])], per_day: usize) {
    let mut lines = Vec::new();
    for (day, variants) in days {
        for variant in *variants {
            for i in 0..per_day {
                let key = format!("{variant}-{day}-{i}");
                lines.push(event(EXPERIMENT, "view_editor", &key, variant, *day));
                if i % 2 == 0 {
                    lines.push(event(EXPERIMENT, "click_walkthrough", &key, variant, *day));
                }
            }
        }
    }
    lines.push(event("security_training", "view_training", "s1", "control", 1));
    ws.write_gz("in/events.gz", &lines);
}

/// The funnel `f` with `head` (experiment, control, weights) and the second step's action.
fn funnel(ws: &Workspace, head: &str, click: &str) {
    std::fs::remove_dir_all(ws.path("funnels")).unwrap();
    std::fs::create_dir_all(ws.path("funnels")).unwrap();
    let text = format!(
        "{head}\n[[steps]]\nname = \"Viewed editor\"\ncategory = \"projects:ci:editor\"\naction = \"view_editor\"\n\
         [[steps]]\nname = \"Clicked walkthrough\"\naction = \"{click}\"\n"
    );
    ws.write("funnels/f.toml", text.as_bytes());
}

fn healthy(ws: &Workspace) {
    data(ws, &[(1, &["control", "candidate"]), (2, &["control", "candidate"])], 10);
}

#[test]
fn a_misspelled_experiment_warns_with_the_experiments_seen() {
    let ws = Workspace::new();
    healthy(&ws);
    funnel(&ws, "experiment = \"pipeline_editor_walktrough\"", "click_walkthrough");
    let o = ws.run(&["in"]);
    assert_exit(&o, 0);
    assert!(
        stderr(&o).contains(
            "snowfunnel: warning: funnel f: experiment pipeline_editor_walktrough has no events in the inputs; \
             did you mean pipeline_editor_walkthrough?\n"
        ),
        "{}",
        stderr(&o)
    );
    // The experiment explains the rest: no step or control warning besides.
    assert_eq!(stderr(&o).matches("warning:").count(), 1, "{}", stderr(&o));

    // Nothing close: said so.
    funnel(&ws, "experiment = \"zzz\"", "click_walkthrough");
    let o = ws.run(&["in"]);
    assert!(
        stderr(&o).contains("experiment zzz has no events in the inputs; no experiment seen is close to it")
    );
}

#[test]
fn a_step_value_no_event_has_warns_with_the_closest_values_seen() {
    let ws = Workspace::new();
    healthy(&ws);
    funnel(&ws, &format!("experiment = \"{EXPERIMENT}\""), "click_walktrough");
    let o = ws.run(&["in"]);
    assert_exit(&o, 0);
    assert!(
        stderr(&o).contains(
            "warning: funnel f: step 2 (Clicked walkthrough) matched no event: no event of experiment \
             pipeline_editor_walkthrough has action click_walktrough (did you mean click_walkthrough?)\n"
        ),
        "{}",
        stderr(&o)
    );
    // The CSV is written as before, step 2 at 0.
    assert!(ws.read("out/f.csv").contains(",control,2,Clicked walkthrough,0,"));
}

#[test]
fn a_control_without_keys_and_an_unseen_weighted_variant_suggest_the_variants_seen() {
    let ws = Workspace::new();
    healthy(&ws);
    funnel(&ws, &format!("experiment = \"{EXPERIMENT}\"\ncontrol = \"Control\""), "click_walkthrough");
    let o = ws.run(&["in"]);
    assert_exit(&o, 0);
    assert!(
        stderr(&o).contains(
            "warning: funnel f: control variant Control has no step-1 keys, so no variant is compared with it; \
             did you mean control? (variants seen: candidate, control)\n"
        ),
        "{}",
        stderr(&o)
    );

    funnel(
        &ws,
        &format!("experiment = \"{EXPERIMENT}\"\nweights = {{ control = 50, candidat = 50 }}"),
        "click_walkthrough",
    );
    let o = ws.run(&["in"]);
    assert_exit(&o, 0);
    assert!(
        stderr(&o).contains(
            "warning: funnel f: variant candidat of the funnel's weights has no step-1 keys; \
             did you mean candidate? (variants seen: control, candidate)\n"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn fail_on_and_strict_exit_4_after_committing_every_output() {
    let ws = Workspace::new();
    healthy(&ws);
    funnel(&ws, &format!("experiment = \"{EXPERIMENT}\"\ncontrol = \"Control\""), "click_walkthrough");
    // The checks not selected do not fail the run.
    let o = ws.run(&["--fail-on", "srm,contamination,outage", "in"]);
    assert_exit(&o, 0);

    std::fs::remove_dir_all(ws.path("out")).unwrap();
    let o = ws.run(&["--fail-on", "srm", "--fail-on", "empty", "--state-out", "state.snowfunnel", "in"]);
    assert_exit(&o, 4);
    assert!(
        stderr(&o).contains(
            "snowfunnel: error: checks failed (--fail-on): empty (funnel f); every output was written"
        ),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        ws.out_files(),
        ["_SUCCESS", "_index.html", "_run.json", "f.csv", "f.html", "f.json", "f.summary.csv"]
    );
    assert!(ws.path("state.snowfunnel").is_file());
    assert!(stdout(&o).contains("wrote"), "the summary is printed as usual");
    // What a scheduler reads instead of the text: the failed checks and the empty match.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.path("out/f.json")).unwrap()).unwrap();
    assert_eq!(json["checks"]["failed"], serde_json::json!(["empty"]));
    assert_eq!(json["checks"]["empty_matches"][0]["kind"], "control");
    assert_eq!(json["checks"]["empty_matches"][0]["variant"], "Control");
    assert_eq!(json["checks"]["empty_matches"][0]["suggestions"], serde_json::json!(["control"]));

    let o = ws.run(&["--strict", "-q", "in"]);
    assert_exit(&o, 4);
    // A closed stdout (`| head`) does not hide the failed check.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_snowfunnel"))
        .current_dir(ws.dir.path())
        .args(["run", "--funnel", "funnels", "--out", "out", "--fail-on", "empty", "in"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_exit(&o, 4);
    assert!(stdout(&o).is_empty());

    // merge: the same checks over the state; variants come from the counts, so the control's
    // suggestion stays, while step values (not kept in state files) are not known.
    let o =
        ws.snowfunnel(&["merge", "state.snowfunnel", "--funnel", "funnels", "--out", "merged", "--strict"]);
    assert_exit(&o, 4);
    assert!(stderr(&o).contains("control variant Control has no step-1 keys"), "{}", stderr(&o));
    assert!(ws.path("merged/_SUCCESS").is_file());

    // A healthy funnel passes every check.
    funnel(&ws, &format!("experiment = \"{EXPERIMENT}\""), "click_walkthrough");
    let o = ws.run(&["--strict", "in"]);
    assert_exit(&o, 0);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}

#[test]
fn a_state_read_back_has_no_names_to_suggest() {
    let ws = Workspace::new();
    healthy(&ws);
    funnel(&ws, &format!("experiment = \"{EXPERIMENT}\""), "click_walktrough");
    let o = ws.run(&["-q", "--state-out", "state.snowfunnel", "in"]);
    assert_exit(&o, 0);
    let o = ws.snowfunnel(&["merge", "state.snowfunnel", "--funnel", "funnels", "--out", "merged", "-q"]);
    assert_exit(&o, 0);
    assert!(
        stderr(&o).contains(
            "funnel f: step 2 (Clicked walkthrough) matched no event: which of its values no event had is not \
             known: state files keep no names"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_day_without_a_variant_is_an_outage() {
    let ws = Workspace::new();
    // Day 2: no candidate key (20 that day times its share, 60 of 140: 8.6 expected); day 4:
    // nobody at all (28 a day on average).
    let both: &[&str] = &["control", "candidate"];
    data(&ws, &[(1, both), (2, &["control"]), (3, both), (5, both)], 20);
    funnel(&ws, &format!("experiment = \"{EXPERIMENT}\""), "click_walkthrough");
    let o = ws.run(&["--fail-on", "empty", "in"]);
    assert_exit(&o, 0);
    let err = stderr(&o);
    assert!(
        err.contains(
            "warning: funnel f: possible outage: no variant got any new step-1 key, on 2026-03-04 \
             (at least 7 expected each day)\n"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "warning: funnel f: possible outage: variant candidate got no new step-1 keys while the others \
             did, on 2026-03-02 (at least 7 expected each day)\n"
        ),
        "{err}"
    );
    let o = ws.run(&["--fail-on", "outage", "in"]);
    assert_exit(&o, 4);
    assert!(stderr(&o).contains("checks failed (--fail-on): outage (funnel f)"), "{}", stderr(&o));
}

#[test]
fn experiments_lists_experiments_variants_and_event_kinds() {
    let ws = Workspace::new();
    healthy(&ws);
    let o = ws.snowfunnel(&["experiments", "in"]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    assert!(
        out.contains(
            "experiment pipeline_editor_walkthrough: 60 events, 40 keys, 2026-03-01 to 2026-03-02\n  \
             variants: control (20 keys), candidate (20 keys)\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("  struct  projects:ci:editor  view_editor        (empty)      40    40\n"),
        "{out}"
    );
    assert!(
        out.contains("  struct  projects:ci:editor  click_walkthrough  (empty)      20    20\n"),
        "{out}"
    );
    assert!(out.contains("experiment security_training: 1 events, 1 keys"), "{out}");
    assert!(ws.out_files().is_empty(), "nothing written");

    let o = ws.snowfunnel(&["experiments", "-e", "security_training", "in"]);
    assert_exit(&o, 0);
    assert!(!stdout(&o).contains(EXPERIMENT), "{}", stdout(&o));
}
