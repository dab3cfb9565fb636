//! The `funnel_toml` target: funnel definition files.

use snowfunnel_engine::{Funnel, FunnelRecorder, MAX_STEPS, Order, Plan, State, StateFile, parse_funnel};
use snowfunnel_ingest::Ingester;
use snowfunnel_parse::{FIELD_COUNT, fields};
use snowfunnel_stats::{CompareOptions, compare_funnel, sample_ratio_mismatch};

/// Parses `data` as a funnel file (a file that is not UTF-8 cannot be read as text: no
/// further). A funnel that parses then goes through what `snowfunnel run` does with it: a plan,
/// an event of its first step, a report with its statistics and split check, a state file.
///
/// # Panics
/// On a bug, that is when:
/// - an error names no file, or a line outside the text;
/// - a funnel that parses breaks its contract (1 to [`MAX_STEPS`] steps, each naming a field;
///   a usable file name; `start` before `end`; a window only in order and above 0; weights
///   finite, above 0, at least two), or reads differently a second time, or its fingerprint
///   changes;
/// - its weights pass the definition but the split check refuses them: the run would fail
///   at its end, after reading every input;
/// - its state file does not read back as written;
/// - anything panics on the way.
pub fn funnel_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let funnel = match parse_funnel("fuzz.toml", "fuzz", text) {
        Ok(funnel) => funnel,
        Err(e) => {
            assert!(e.to_string().starts_with("fuzz.toml"), "{e}");
            if let Some(line) = e.line {
                assert!((1..=text.split('\n').count()).contains(&line), "{e}: line outside the text");
            }
            return;
        }
    };
    check_contract(&funnel);
    let again = parse_funnel("fuzz.toml", "fuzz", text).expect("parses twice");
    assert_eq!(again, funnel, "the same text reads the same funnel");
    assert_eq!(again.fingerprint(), funnel.fingerprint(), "the fingerprint is a function of the funnel");

    if let Some(weights) = &funnel.weights {
        let weights: Vec<f64> = weights.iter().map(|(_, w)| *w).collect();
        let observed = vec![1; weights.len()];
        if let Err(e) = sample_ratio_mismatch(&observed, Some(&weights)) {
            panic!("weights the definition accepts, refused by the split check: {e}");
        }
    }

    let plan = Plan::new(vec![funnel]);
    let funnel = &plan.funnels()[0];
    let mut state = State::new(&plan);
    let mut ingester = Ingester::new(FunnelRecorder::new(&plan));
    let _ = ingester.ingest(&mut state, &first_step_line(funnel));
    let report = state.report(&plan);
    let counts: Vec<&[u64]> = report.funnels[0].variants.iter().map(|v| v.keys_per_step.as_slice()).collect();
    let control = report.funnels[0].variants.iter().position(|v| v.variant == funnel.control);
    compare_funnel(&counts, control, CompareOptions::default()).expect("statistics of engine counts");

    let mut file = StateFile::new(&plan);
    file.state = state;
    let mut bytes = Vec::new();
    file.write(&plan, &mut bytes).expect("writing into memory");
    let mut read = StateFile::read(&plan, bytes.as_slice()).expect("a state file reads back");
    assert!(read.state.report(&plan) == report, "a state file reports as the state written");
}

fn check_contract(funnel: &Funnel) {
    assert!((1..=MAX_STEPS).contains(&funnel.steps.len()));
    assert!(!funnel.name.is_empty() && !funnel.name.starts_with('.'));
    assert!(!funnel.name.contains(['/', '\\']) && !funnel.name.chars().any(char::is_control));
    assert!(!funnel.experiment.is_empty());
    if let (Some(start), Some(end)) = (funnel.start, funnel.end) {
        assert!(start < end);
    }
    if let Some(window) = funnel.window {
        assert!(funnel.order == Order::Sequential && window > 0);
    }
    if let Some(weights) = &funnel.weights {
        assert!(weights.len() >= 2 && weights.iter().all(|(_, w)| w.is_finite() && *w > 0.0));
    }
}

/// A line of an event of the funnel's first step (with its first app_id, at its start), with
/// a context of its experiment for the control: it counts, unless the funnel's strings cannot
/// be written in a TSV line.
fn first_step_line(funnel: &Funnel) -> Vec<u8> {
    let step = &funnel.steps[0];
    let mut line = vec![String::new(); FIELD_COUNT];
    line[fields::APP_ID] = funnel.app_ids.iter().flatten().next().cloned().unwrap_or_else(|| "gitlab".into());
    line[fields::COLLECTOR_TSTAMP] = "2026-03-01 10:00:00.000".into();
    if let Some(start) = funnel.start {
        line[fields::DERIVED_TSTAMP] = snowfunnel_parse::format_micros(start);
    }
    for (field, value) in [
        (fields::EVENT, &step.event),
        (fields::SE_CATEGORY, &step.category),
        (fields::SE_ACTION, &step.action),
        (fields::SE_LABEL, &step.label),
        (fields::SE_PROPERTY, &step.property),
        (fields::PAGE_URLPATH, &step.page_urlpath),
    ] {
        if let Some(value) = value {
            line[field].clone_from(value);
        }
    }
    let json = |s: &str| serde_json::to_string(s).expect("a string is JSON");
    if let Some(schema) = &step.schema {
        line[fields::UNSTRUCT_EVENT] = format!(
            r#"{{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{{"schema":{},"data":{{}}}}}}"#,
            json(&format!("{schema}1-0-0"))
        );
    }
    line[fields::CONTEXTS] = format!(
        r#"{{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{{"schema":"iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-0","data":{{"experiment":{},"key":"k1","variant":{}}}}}]}}"#,
        json(&funnel.experiment),
        json(&funnel.control)
    );
    line.join("\t").into_bytes()
}
