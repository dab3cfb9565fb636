//! The fixed plan of the targets that need one: the bundled funnels and a sequential one.

use std::sync::OnceLock;

use snowfunnel_engine::{Plan, Rules, parse_funnel};
use snowfunnel_parse::{FIELD_COUNT, fields};

/// The funnel files of the plan, `(file name, text)`: `funnels/*.toml` and
/// `data/walkthrough_in_order.toml` of this crate. A state file written by
/// `snowfunnel run --funnel funnels/ --funnel crates/snowfunnel-fuzz/data/walkthrough_in_order.toml`
/// reads with [`plan`].
pub const FUNNEL_FILES: [(&str, &str); 4] = [
    ("pipeline_editor_walkthrough.toml", include_str!("../../../funnels/pipeline_editor_walkthrough.toml")),
    ("security_scan_nudge.toml", include_str!("../../../funnels/security_scan_nudge.toml")),
    ("trial_onboarding_issues.toml", include_str!("../../../funnels/trial_onboarding_issues.toml")),
    ("walkthrough_in_order.toml", include_str!("../data/walkthrough_in_order.toml")),
];

/// The plan of [`FUNNEL_FILES`], named as `snowfunnel run` names them (the file stem when the
/// file has no `name`), built once.
///
/// # Panics
/// When a bundled funnel file does not parse.
pub fn plan() -> &'static Plan {
    static PLAN: OnceLock<Plan> = OnceLock::new();
    PLAN.get_or_init(|| {
        let funnels = FUNNEL_FILES
            .iter()
            .map(|(file, text)| {
                let stem = file.strip_suffix(".toml").unwrap_or(file);
                parse_funnel(file, stem, text).expect("the bundled funnels parse")
            })
            .collect();
        Plan::new(funnels)
    })
}

/// [`plan`]'s funnels each under both rule sets (`explain --rules snowfunnel,warehouse`), built
/// once.
pub(crate) fn explain_plan() -> &'static Plan {
    static PLAN: OnceLock<Plan> = OnceLock::new();
    PLAN.get_or_init(|| {
        let funnels = plan()
            .funnels()
            .iter()
            .flat_map(|f| [Rules::Snowfunnel, Rules::Warehouse].map(|rules| f.under(rules).0))
            .collect();
        Plan::new(funnels)
    })
}

/// A line of an event of the plan: the walkthrough's first step, for key `k1` in `control`.
pub(crate) fn walkthrough_line() -> &'static [u8] {
    static LINE: OnceLock<Vec<u8>> = OnceLock::new();
    LINE.get_or_init(|| {
        let mut line = vec![""; FIELD_COUNT];
        line[fields::APP_ID] = "gitlab";
        line[fields::COLLECTOR_TSTAMP] = "2026-03-02 10:00:00.000";
        line[fields::EVENT] = "struct";
        line[fields::EVENT_ID] = "0b9d5f1c-3f2a-4b8e-9d0a-2b7c6e4f8a11";
        line[fields::SE_CATEGORY] = "projects:ci:editor";
        line[fields::SE_ACTION] = "view_editor";
        line[fields::CONTEXTS] = concat!(
            r#"{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"#,
            r#""iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-0","data":{"experiment":"#,
            r#""pipeline_editor_walkthrough","key":"k1","variant":"control"}}]}"#,
        );
        line.join("\t").into_bytes()
    })
}
