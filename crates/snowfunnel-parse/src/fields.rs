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
/// `v_tracker`: the tracker and its version (`js-3.24.0`, `rb-0.8.0`, `py-1.0.0`, ...).
pub const V_TRACKER: usize = 9;
/// `page_url`: the full URL of the page.
pub const PAGE_URL: usize = 29;
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

/// The names of the 131 fields, in order (the Snowplow Analytics SDKs' names; index 121 is
/// `refr_dvce_tstamp`, which the Go and Python SDKs call `refr_device_tstamp`).
pub const NAMES: [&str; FIELD_COUNT] = [
    "app_id",
    "platform",
    "etl_tstamp",
    "collector_tstamp",
    "dvce_created_tstamp",
    "event",
    "event_id",
    "txn_id",
    "name_tracker",
    "v_tracker",
    "v_collector",
    "v_etl",
    "user_id",
    "user_ipaddress",
    "user_fingerprint",
    "domain_userid",
    "domain_sessionidx",
    "network_userid",
    "geo_country",
    "geo_region",
    "geo_city",
    "geo_zipcode",
    "geo_latitude",
    "geo_longitude",
    "geo_region_name",
    "ip_isp",
    "ip_organization",
    "ip_domain",
    "ip_netspeed",
    "page_url",
    "page_title",
    "page_referrer",
    "page_urlscheme",
    "page_urlhost",
    "page_urlport",
    "page_urlpath",
    "page_urlquery",
    "page_urlfragment",
    "refr_urlscheme",
    "refr_urlhost",
    "refr_urlport",
    "refr_urlpath",
    "refr_urlquery",
    "refr_urlfragment",
    "refr_medium",
    "refr_source",
    "refr_term",
    "mkt_medium",
    "mkt_source",
    "mkt_term",
    "mkt_content",
    "mkt_campaign",
    "contexts",
    "se_category",
    "se_action",
    "se_label",
    "se_property",
    "se_value",
    "unstruct_event",
    "tr_orderid",
    "tr_affiliation",
    "tr_total",
    "tr_tax",
    "tr_shipping",
    "tr_city",
    "tr_state",
    "tr_country",
    "ti_orderid",
    "ti_sku",
    "ti_name",
    "ti_category",
    "ti_price",
    "ti_quantity",
    "pp_xoffset_min",
    "pp_xoffset_max",
    "pp_yoffset_min",
    "pp_yoffset_max",
    "useragent",
    "br_name",
    "br_family",
    "br_version",
    "br_type",
    "br_renderengine",
    "br_lang",
    "br_features_pdf",
    "br_features_flash",
    "br_features_java",
    "br_features_director",
    "br_features_quicktime",
    "br_features_realplayer",
    "br_features_windowsmedia",
    "br_features_gears",
    "br_features_silverlight",
    "br_cookies",
    "br_colordepth",
    "br_viewwidth",
    "br_viewheight",
    "os_name",
    "os_family",
    "os_manufacturer",
    "os_timezone",
    "dvce_type",
    "dvce_ismobile",
    "dvce_screenwidth",
    "dvce_screenheight",
    "doc_charset",
    "doc_width",
    "doc_height",
    "tr_currency",
    "tr_total_base",
    "tr_tax_base",
    "tr_shipping_base",
    "ti_currency",
    "ti_price_base",
    "base_currency",
    "geo_timezone",
    "mkt_clickid",
    "mkt_network",
    "etl_tags",
    "dvce_sent_tstamp",
    "refr_domain_userid",
    "refr_dvce_tstamp",
    "derived_contexts",
    "domain_sessionid",
    "derived_tstamp",
    "event_vendor",
    "event_name",
    "event_format",
    "event_version",
    "event_fingerprint",
    "true_tstamp",
];

/// The position of the field named `name` (as in [`NAMES`], or `refr_device_tstamp`).
#[must_use]
pub fn index_of(name: &str) -> Option<usize> {
    if name == "refr_device_tstamp" {
        return Some(121);
    }
    NAMES.iter().position(|n| *n == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_agree_with_the_positions_read() {
        for (index, name) in [
            (APP_ID, "app_id"),
            (PLATFORM, "platform"),
            (COLLECTOR_TSTAMP, "collector_tstamp"),
            (EVENT, "event"),
            (EVENT_ID, "event_id"),
            (V_TRACKER, "v_tracker"),
            (PAGE_URL, "page_url"),
            (PAGE_URLPATH, "page_urlpath"),
            (CONTEXTS, "contexts"),
            (SE_CATEGORY, "se_category"),
            (SE_ACTION, "se_action"),
            (SE_LABEL, "se_label"),
            (SE_PROPERTY, "se_property"),
            (SE_VALUE, "se_value"),
            (UNSTRUCT_EVENT, "unstruct_event"),
            (DERIVED_TSTAMP, "derived_tstamp"),
        ] {
            assert_eq!(NAMES[index], name);
            assert_eq!(index_of(name), Some(index));
        }
        assert_eq!(index_of("refr_device_tstamp"), index_of("refr_dvce_tstamp"));
        assert_eq!(index_of("nope"), None);
        let mut sorted = NAMES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), FIELD_COUNT, "no name twice");
    }
}
