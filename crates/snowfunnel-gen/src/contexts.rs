//! The JSON fields of a line: `contexts` (GitLab's standard context, the web page, and the
//! experiment contexts that carry the ground truth), `unstruct_event` and `derived_contexts`.
//! Layout varies from line to line the way real dumps do: key order, spaces, `\/` escapes.

use crate::json::{JsonStyle, JsonWriter};
use crate::model::{Event, ExperimentContext};
use crate::profiles::{Browser, HOSTS, PLANS};
use crate::rng::Rand;
use crate::time::{Layout, push_timestamp};

const CONTEXTS_SCHEMA: &str = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1";
const UNSTRUCT_SCHEMA: &str = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0";
const STANDARD_SCHEMA: &str = "iglu:com.gitlab/gitlab_standard/jsonschema/1-0-9";
const WEB_PAGE_SCHEMA: &str = "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0";
const UA_PARSER_SCHEMA: &str = "iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0";
/// Schema of an experiment context, without its version.
pub const EXPERIMENT_SCHEMA_PREFIX: &str = "iglu:com.gitlab/gitlab_experiment/jsonschema/";

/// Values several JSON fields of one line share (the namespace of `gitlab_standard` is also the
/// one in a self-describing event, for instance).
pub(crate) struct Filler {
    style: JsonStyle,
    namespace_id: Option<i64>,
    project_id: Option<i64>,
    plan: &'static str,
}

impl Filler {
    pub(crate) fn draw(rand: &mut Rand, event: &Event) -> Self {
        // Pages outside a group or project (dashboards, sign-up, trials) have neither id.
        let in_namespace = event.platform == "srv" || event.page_urlpath.starts_with("/namespace");
        Filler {
            style: JsonStyle { spaced: rand.chance(0.08), escape_slashes: rand.chance(0.12) },
            namespace_id: in_namespace.then(|| rand.range(9_000, 99_999_999)),
            project_id: (in_namespace && rand.chance(0.8)).then(|| rand.range(1_000, 70_000_000)),
            plan: rand.pick(PLANS),
        }
    }
}

/// The entries of `contexts`, in the order written.
#[derive(Clone, Copy)]
enum Entry<'a> {
    Standard,
    WebPage,
    Experiment(&'a ExperimentContext),
}

/// Orders of the keys inside an experiment context's `data`.
const EXPERIMENT_KEY_ORDERS: [[u8; 4]; 4] = [[0, 1, 2, 3], [0, 2, 1, 3], [1, 2, 0, 3], [2, 3, 1, 0]];

pub(crate) fn write_contexts(out: &mut Vec<u8>, event: &Event, filler: &Filler, rand: &mut Rand) {
    let web = event.platform != "srv";
    // A bare line has the experiment entries only.
    let mut entries = if event.bare { Vec::new() } else { vec![Entry::Standard] };
    if web && !event.bare {
        entries.push(Entry::WebPage);
    }
    let at_end = rand.chance(0.6);
    for context in &event.experiments {
        let position = if at_end { entries.len() } else { rand.index(entries.len() + 1) };
        // Keep experiment entries in the struct's order even when they are spread out.
        let after_last = entries.iter().rposition(|e| matches!(e, Entry::Experiment(_))).map_or(0, |i| i + 1);
        entries.insert(position.max(after_last), Entry::Experiment(context));
    }

    let mut json = JsonWriter::new(out, filler.style);
    json.begin_object().key("schema").string(CONTEXTS_SCHEMA).key("data").begin_array();
    for entry in entries {
        json.begin_object();
        let data_first = rand.chance(0.15);
        let schema = match entry {
            Entry::Standard => STANDARD_SCHEMA.to_string(),
            Entry::WebPage => WEB_PAGE_SCHEMA.to_string(),
            Entry::Experiment(context) => format!("{EXPERIMENT_SCHEMA_PREFIX}{}", context.schema_version),
        };
        if !data_first {
            json.key("schema").string(&schema);
        }
        json.key("data");
        match entry {
            Entry::Standard => write_standard(&mut json, event, filler, rand),
            Entry::WebPage => {
                json.begin_object().key("id").string(&rand.uuid()).end_object();
            }
            Entry::Experiment(context) => write_experiment(&mut json, context, rand),
        }
        if data_first {
            json.key("schema").string(&schema);
        }
        json.end_object();
    }
    json.end_array().end_object();
}

fn write_experiment(json: &mut JsonWriter<'_>, context: &ExperimentContext, rand: &mut Rand) {
    let null_key = rand.chance(0.25);
    json.begin_object();
    for field in rand.pick(&EXPERIMENT_KEY_ORDERS) {
        match field {
            0 => {
                json.key("experiment").string(&context.experiment);
            }
            1 => match &context.key {
                Some(key) => {
                    json.key("key").string(key);
                }
                None if null_key => {
                    json.key("key").raw("null");
                }
                None => {}
            },
            2 => {
                json.key("variant").string(&context.variant);
            }
            _ if !context.migration_keys.is_empty() => {
                json.key("migration_keys").begin_array();
                for key in &context.migration_keys {
                    json.string(key);
                }
                json.end_array();
            }
            _ => {}
        }
    }
    json.end_object();
}

fn write_standard(json: &mut JsonWriter<'_>, event: &Event, filler: &Filler, rand: &mut Rand) {
    let web = event.platform != "srv";
    let staging = event.app_id.ends_with("staging");
    let mut hex = Vec::with_capacity(64);
    json.begin_object();
    json.key("environment").string(if staging { "staging" } else { "production" });
    json.key("source").string(if web { "gitlab-javascript" } else { "gitlab-rails" });
    json.key("plan").string(filler.plan);
    json.key("extra").begin_object();
    if !web && rand.chance(0.3) {
        json.key("merge_request_id").int(rand.range(1, 400_000_000));
    }
    json.end_object();
    let user = rand.chance(0.5).then(|| {
        rand.push_hex(&mut hex, 64);
        String::from_utf8_lossy(&hex).into_owned()
    });
    json.key("user_id").opt_string(user.as_deref());
    json.key("namespace_id").opt_int(filler.namespace_id);
    json.key("project_id").opt_int(filler.project_id);
    json.key("realm").string("saas");
    if !web {
        json.key("is_gitlab_team_member").raw(if rand.chance(0.02) { "true" } else { "false" });
        json.key("host_name").string(rand.pick(HOSTS));
    }
    let mut generated_at = Vec::with_capacity(24);
    push_timestamp(&mut generated_at, event.collector_micros - rand.range(50_000, 3_000_000), Layout::Iso);
    json.key("context_generated_at")
        .string(std::str::from_utf8(&generated_at).expect("timestamps are ASCII"));
    json.end_object();
}

/// `unstruct_event` for a self-describing event with the inner schema `schema`.
pub(crate) fn write_unstruct(out: &mut Vec<u8>, schema: &str, filler: &Filler, rand: &mut Rand) {
    let mut json = JsonWriter::new(out, filler.style);
    json.begin_object().key("schema").string(UNSTRUCT_SCHEMA).key("data").begin_object();
    json.key("schema").string(schema).key("data").begin_object();
    if schema.contains("/link_click/") {
        json.key("targetUrl").string("https://docs.gitlab.com/ci/yaml/");
        json.key("elementId").string("");
        json.key("elementClasses").begin_array().string("gl-link").end_array();
        json.key("elementTarget").string("_blank");
    } else if schema.contains("/application_error/") {
        json.key("programmingLanguage").string("JAVASCRIPT");
        json.key("message").string("TypeError: Cannot read properties of undefined (reading 'id')");
        json.key("stackTrace")
            .string("TypeError: Cannot read properties of undefined\n\tat render (app.js:1:2042)");
        json.key("isFatal").raw("false");
    } else if schema.contains("/gitlab_service_ping/") {
        json.key("event_name").string("i_code_review_user_create_mr");
        json.key("data_source").string("redis_hll");
    } else {
        json.key("namespace_id").opt_int(filler.namespace_id);
        json.key("plan").string(filler.plan);
        json.key("step_duration_ms").int(rand.range(200, 90_000));
    }
    json.end_object().end_object().end_object();
}

/// `derived_contexts`: what enrichment learnt from the user agent.
pub(crate) fn write_derived_contexts(out: &mut Vec<u8>, browser: &Browser, style: JsonStyle) {
    let mut json = JsonWriter::new(out, style);
    json.begin_object().key("schema").string(CONTEXTS_SCHEMA).key("data").begin_array();
    json.begin_object().key("schema").string(UA_PARSER_SCHEMA).key("data").begin_object();
    let non_empty = |s: &'static str| (!s.is_empty()).then_some(s);
    let [family, major, minor, patch] = browser.ua;
    json.key("useragentFamily").string(family);
    json.key("useragentMajor").opt_string(non_empty(major));
    json.key("useragentMinor").opt_string(non_empty(minor));
    json.key("useragentPatch").opt_string(non_empty(patch));
    json.key("useragentVersion").string(&format!("{family} {major}.{minor}"));
    let [os_family, os_major, os_minor, os_patch] = browser.ua_os;
    json.key("osFamily").string(os_family);
    json.key("osMajor").opt_string(non_empty(os_major));
    json.key("osMinor").opt_string(non_empty(os_minor));
    json.key("osPatch").opt_string(non_empty(os_patch));
    json.key("osPatchMinor").raw("null");
    json.key("osVersion").string(os_family);
    json.key("deviceFamily").string(browser.device_family);
    json.end_object().end_object().end_array().end_object();
}
