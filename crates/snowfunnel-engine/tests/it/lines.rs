//! Building enriched lines by hand for scenarios.

use snowfunnel_parse::fields;

/// A struct event of `app_id` at `time` with one experiment context per `(experiment, key, variant)`.
pub(crate) fn line(app_id: &str, time: &str, action: &str, contexts: &[(&str, &str, &str)]) -> String {
    let contexts: Vec<(&str, &str, &str, &[&str])> =
        contexts.iter().map(|&(e, k, v)| (e, k, v, &[][..])).collect();
    migrated_line(app_id, time, action, &contexts)
}

/// [`line`] with `migration_keys` in each context: `(experiment, key, variant, migration keys)`.
pub(crate) fn migrated_line(
    app_id: &str,
    time: &str,
    action: &str,
    contexts: &[(&str, &str, &str, &[&str])],
) -> String {
    let mut f = vec![String::new(); snowfunnel_parse::FIELD_COUNT];
    f[fields::APP_ID] = app_id.into();
    f[fields::COLLECTOR_TSTAMP] = time.into();
    f[fields::EVENT] = "struct".into();
    f[fields::EVENT_ID] = format!("{action}-{time}");
    f[fields::SE_CATEGORY] = "cat".into();
    f[fields::SE_ACTION] = action.into();
    if !contexts.is_empty() {
        let entries: Vec<String> = contexts
            .iter()
            .map(|(e, k, v, migrations)| {
                let migrations = if migrations.is_empty() {
                    String::new()
                } else {
                    let quoted: Vec<String> = migrations.iter().map(|m| format!("\"{m}\"")).collect();
                    format!(r#","migration_keys":[{}]"#, quoted.join(","))
                };
                format!(
                    r#"{{"schema":"iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-0","data":{{"experiment":"{e}","key":"{k}","variant":"{v}"{migrations}}}}}"#
                )
            })
            .collect();
        f[fields::CONTEXTS] = format!(
            r#"{{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{}]}}"#,
            entries.join(",")
        );
    }
    f.join("\t")
}
