//! Positions of the enriched-event fields this project reads (0-based, canonical 131-field layout).

/// Number of tab-separated fields in an enriched event line.
pub const FIELD_COUNT: usize = 131;

/// `app_id`: the tracked application (`gitlab`, `gitlab-staging`, ...).
pub const APP_ID: usize = 0;
/// `platform`.
pub const PLATFORM: usize = 1;
/// `collector_tstamp`: when the collector received the event (required).
pub const COLLECTOR_TSTAMP: usize = 3;
/// `event`: `struct`, `page_view`, `unstruct`, ...
pub const EVENT: usize = 5;
/// `event_id`: a UUID, duplicated on at-least-once delivery.
pub const EVENT_ID: usize = 6;
/// `page_urlpath`.
pub const PAGE_URLPATH: usize = 35;
/// `contexts`: the self-describing JSON array of custom contexts.
pub const CONTEXTS: usize = 52;
/// `se_category`.
pub const SE_CATEGORY: usize = 53;
/// `se_action`.
pub const SE_ACTION: usize = 54;
/// `se_label`.
pub const SE_LABEL: usize = 55;
/// `se_property`.
pub const SE_PROPERTY: usize = 56;
/// `se_value`.
pub const SE_VALUE: usize = 57;
/// `unstruct_event`: the self-describing event JSON.
pub const UNSTRUCT_EVENT: usize = 58;
/// `derived_tstamp`: the event time the pipeline derived from device and collector clocks.
pub const DERIVED_TSTAMP: usize = 124;
