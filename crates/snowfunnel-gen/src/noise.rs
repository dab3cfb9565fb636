//! Events without an experiment context (three quarters of the traffic), and the parts every
//! generated event shares: its id, app, and the usual mess in `derived_tstamp`.

use crate::model::Event;
use crate::profiles::{self, ACTIONS, BACKEND_EVENTS, LABELS, NOISE_SCHEMAS};
use crate::rng::Rand;

/// Apps other than `gitlab` and `gitlab-staging` that send a little traffic.
const OTHER_APPS: &[&str] = &["gitlab_customers", "gitlab_docs"];
/// Share of events that go to [`OTHER_APPS`].
const OTHER_APP_SHARE: f64 = 0.015;

/// A new event with a fresh id and seed, no experiment context and empty event fields.
pub(crate) fn blank_event(rand: &mut Rand, app_id: &str, platform: &str, event: &str, micros: i64) -> Event {
    Event {
        event_id: rand.uuid(),
        app_id: app_id.into(),
        platform: platform.into(),
        collector_micros: micros,
        derived_micros: derived_time(rand, micros),
        event: event.into(),
        se_category: String::new(),
        se_action: String::new(),
        se_label: String::new(),
        se_property: String::new(),
        se_value: String::new(),
        page_urlpath: String::new(),
        unstruct_schema: None,
        experiments: Vec::new(),
        filler_seed: rand.next_u64(),
        bare: false,
    }
}

/// `derived_tstamp`: usually a little before the collector time, sometimes missing, sometimes
/// the 1970 tracker bug (exactly the epoch, or just before it).
pub(crate) fn derived_time(rand: &mut Rand, collector: i64) -> Option<i64> {
    match rand.weighted(&[86, 9, 5]) {
        0 => {
            let delay = if rand.chance(0.9) {
                rand.range(20_000, 5_000_000)
            } else {
                rand.range(5_000_000, 600_000_000)
            };
            Some(collector - delay)
        }
        1 => None,
        _ if rand.chance(0.8) => Some(0),
        _ => Some(-rand.range(1, 86_400_000) * 1_000),
    }
}

/// `app_id` of an event: mostly `gitlab`, `staging_share` of `gitlab-staging`, a few others.
pub(crate) fn app_id(rand: &mut Rand, staging_share: f64) -> &'static str {
    if rand.chance(staging_share) {
        "gitlab-staging"
    } else if rand.chance(OTHER_APP_SHARE) {
        rand.pick(OTHER_APPS)
    } else {
        "gitlab"
    }
}

/// One event of ordinary traffic at `micros`.
pub(crate) fn noise_event(rand: &mut Rand, micros: i64, staging_share: f64) -> Event {
    let app = app_id(rand, staging_share);
    match rand.weighted(&[38, 25, 20, 11, 6]) {
        kind @ (0 | 1) => {
            let mut event =
                blank_event(rand, app, "web", if kind == 0 { "page_view" } else { "page_ping" }, micros);
            let template = profiles::random_page(rand).path;
            event.page_urlpath = profiles::fill_path(rand, template);
            event
        }
        2 => {
            let mut event = blank_event(rand, app, "web", "struct", micros);
            let page = profiles::random_page(rand);
            event.page_urlpath = profiles::fill_path(rand, page.path);
            event.se_category = page.category.into();
            event.se_action = rand.pick(ACTIONS).into();
            event.se_label = rand.pick(LABELS).into();
            if rand.chance(0.2) {
                event.se_property = rand.pick(&["nav_panel", "top_bar", "mr_widget"]).into();
            }
            if rand.chance(0.1) {
                event.se_value = rand.range(1, 50).to_string();
            }
            event
        }
        3 => {
            let mut event = blank_event(rand, app, "srv", "struct", micros);
            let (category, action) = rand.pick(BACKEND_EVENTS);
            event.se_category = category.into();
            event.se_action = action.into();
            if rand.chance(0.3) {
                event.se_property = "delete_source_branch".into();
                event.se_value = "1".into();
            }
            event
        }
        _ => {
            let mut event = blank_event(rand, app, "web", "unstruct", micros);
            let template = profiles::random_page(rand).path;
            event.page_urlpath = profiles::fill_path(rand, template);
            event.unstruct_schema = Some(rand.pick(NOISE_SCHEMAS).into());
            event
        }
    }
}
