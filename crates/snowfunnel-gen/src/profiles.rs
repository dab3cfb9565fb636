//! Fixed tables that make lines look like GitLab.com traffic: browsers, places, pages, backend
//! event names. Namespaces and projects are pseudonymized (`namespace123/project456`), as in
//! GitLab's own tracking.

use crate::rng::Rand;

/// A browser and the fields enrichment derives from its user agent.
pub(crate) struct Browser {
    pub(crate) weight: u32,
    pub(crate) useragent: &'static str,
    /// `br_name`, `br_family`, `br_version`, `br_type`, `br_renderengine`.
    pub(crate) br: [&'static str; 5],
    /// `os_name`, `os_family`, `os_manufacturer`.
    pub(crate) os: [&'static str; 3],
    pub(crate) dvce_type: &'static str,
    pub(crate) mobile: bool,
    pub(crate) screen: (u32, u32),
    /// ua_parser: family, major, minor, patch.
    pub(crate) ua: [&'static str; 4],
    /// ua_parser: os family, major, minor, patch (empty = null).
    pub(crate) ua_os: [&'static str; 4],
    pub(crate) device_family: &'static str,
}

pub(crate) const BROWSERS: &[Browser] = &[
    Browser {
        weight: 40,
        useragent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36",
        br: ["Chrome", "Chrome", "133.0.0.0", "Browser", "WEBKIT"],
        os: ["Mac OS X", "Mac OS X", "Apple Inc."],
        dvce_type: "Computer",
        mobile: false,
        screen: (1728, 1117),
        ua: ["Chrome", "133", "0", "0"],
        ua_os: ["Mac OS X", "10", "15", "7"],
        device_family: "Mac",
    },
    Browser {
        weight: 25,
        useragent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36 Edg/132.0.0.0",
        br: ["Microsoft Edge", "Microsoft Edge", "132.0.0.0", "Browser", "WEBKIT"],
        os: ["Windows 10", "Windows", "Microsoft Corporation"],
        dvce_type: "Computer",
        mobile: false,
        screen: (1920, 1080),
        ua: ["Edge", "132", "0", "0"],
        ua_os: ["Windows", "10", "", ""],
        device_family: "Other",
    },
    Browser {
        weight: 15,
        useragent: "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:135.0) Gecko/20100101 Firefox/135.0",
        br: ["Firefox", "Firefox", "135.0", "Browser", "GECKO"],
        os: ["Linux", "Linux", "Other"],
        dvce_type: "Computer",
        mobile: false,
        screen: (2560, 1440),
        ua: ["Firefox", "135", "0", ""],
        ua_os: ["Ubuntu", "", "", ""],
        device_family: "Other",
    },
    Browser {
        weight: 10,
        useragent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Safari/605.1.15",
        br: ["Safari", "Safari", "18.3", "Browser", "WEBKIT"],
        os: ["Mac OS X", "Mac OS X", "Apple Inc."],
        dvce_type: "Computer",
        mobile: false,
        screen: (1512, 982),
        ua: ["Safari", "18", "3", ""],
        ua_os: ["Mac OS X", "10", "15", "7"],
        device_family: "Mac",
    },
    Browser {
        weight: 6,
        useragent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Mobile/15E148 Safari/604.1",
        br: ["Mobile Safari", "Safari", "18.3", "Browser (mobile)", "WEBKIT"],
        os: ["iOS 18 (iPhone)", "iOS", "Apple Inc."],
        dvce_type: "Mobile",
        mobile: true,
        screen: (390, 844),
        ua: ["Mobile Safari", "18", "3", ""],
        ua_os: ["iOS", "18", "3", ""],
        device_family: "iPhone",
    },
    Browser {
        weight: 4,
        useragent: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Mobile Safari/537.36",
        br: ["Chrome Mobile", "Chrome", "133.0.0.0", "Browser (mobile)", "WEBKIT"],
        os: ["Android 1.x", "Android", "Google Inc."],
        dvce_type: "Mobile",
        mobile: true,
        screen: (412, 915),
        ua: ["Chrome Mobile", "133", "0", "0"],
        ua_os: ["Android", "10", "", ""],
        device_family: "K",
    },
];

/// A place: country, region, city, zipcode, latitude, longitude, region name, time zone.
pub(crate) type Place = [&'static str; 8];

pub(crate) const PLACES: &[Place] = &[
    ["US", "CA", "San Francisco", "94107", "37.7697", "-122.3933", "California", "America/Los_Angeles"],
    ["US", "NY", "New York", "10001", "40.7484", "-73.9967", "New York", "America/New_York"],
    ["DE", "BE", "Berlin", "10115", "52.5323", "13.3846", "Land Berlin", "Europe/Berlin"],
    ["GB", "ENG", "London", "EC1A", "51.5164", "-0.093", "England", "Europe/London"],
    ["IN", "KA", "Bengaluru", "560001", "12.9634", "77.5855", "Karnataka", "Asia/Kolkata"],
    ["BR", "SP", "São Paulo", "01000", "-23.5475", "-46.6361", "São Paulo", "America/Sao_Paulo"],
    ["JP", "13", "Tokyo", "100-0001", "35.6893", "139.6899", "Tokyo", "Asia/Tokyo"],
    ["NL", "NH", "Amsterdam", "1012", "52.3759", "4.8975", "North Holland", "Europe/Amsterdam"],
];

/// A frontend page: its category (`se_category` of events on it), path template, title.
/// `{ns}`, `{proj}` and `{n}` are filled in per event.
pub(crate) struct Page {
    pub(crate) category: &'static str,
    pub(crate) path: &'static str,
    pub(crate) title: &'static str,
    pub(crate) weight: u32,
}

pub(crate) const PAGES: &[Page] = &[
    page("projects:merge_requests:show", "/{ns}/{proj}/-/merge_requests/{n}", "Merge request", 18),
    page("projects:merge_requests:index", "/{ns}/{proj}/-/merge_requests", "Merge requests", 6),
    page("projects:issues:show", "/{ns}/{proj}/-/issues/{n}", "Issue", 14),
    page("projects:issues:index", "/{ns}/{proj}/-/issues", "Issues", 6),
    page("projects:pipelines:index", "/{ns}/{proj}/-/pipelines", "Pipelines", 6),
    page("projects:pipelines:show", "/{ns}/{proj}/-/pipelines/{n}", "Pipeline", 5),
    page("projects:jobs:show", "/{ns}/{proj}/-/jobs/{n}", "Job", 7),
    page("projects:ci:editor", "/{ns}/{proj}/-/ci/editor", "Pipeline Editor", 2),
    page("projects:show", "/{ns}/{proj}", "Project overview", 8),
    page("projects:blob:show", "/{ns}/{proj}/-/blob/main/README.md", "README.md", 6),
    page("projects:tree:show", "/{ns}/{proj}/-/tree/main", "Files", 4),
    page(
        "projects:security:configuration:show",
        "/{ns}/{proj}/-/security/configuration",
        "Security configuration",
        1,
    ),
    page("groups:show", "/{ns}", "Group overview", 3),
    page("dashboard:projects:index", "/dashboard/projects", "Projects", 3),
    page("dashboard:todos:index", "/dashboard/todos", "To-Do List", 3),
    page("dashboard:merge_requests", "/dashboard/merge_requests", "Merge requests", 2),
    page("trials:new", "/-/trials/new", "Start a Free Ultimate Trial", 1),
    page("trials:create", "/-/trials", "Start a Free Ultimate Trial", 1),
    page("security:dashboard:show", "/-/security/dashboard", "Security dashboard", 1),
    page("registrations:welcome:show", "/users/sign_up/welcome", "Welcome to GitLab", 1),
    page("projects:new", "/projects/new", "New project", 1),
    page("sessions:new", "/users/sign_in", "Sign in", 2),
];

const fn page(category: &'static str, path: &'static str, title: &'static str, weight: u32) -> Page {
    Page { category, path, title, weight }
}

/// A page chosen by traffic weight.
pub(crate) fn random_page(rand: &mut Rand) -> &'static Page {
    &PAGES[rand.weighted_by(PAGES, |p| p.weight)]
}

/// The page a frontend event with `category` happens on (any page when the category is unknown).
pub(crate) fn page_for_category(rand: &mut Rand, category: &str) -> &'static Page {
    match PAGES.iter().find(|p| p.category == category) {
        Some(page) => page,
        None => random_page(rand),
    }
}

/// A concrete path from a template.
pub(crate) fn fill_path(rand: &mut Rand, template: &str) -> String {
    if !template.contains('{') {
        return template.into();
    }
    template
        .replace("{ns}", &format!("namespace{}", rand.range(1, 99_999_999)))
        .replace("{proj}", &format!("project{}", rand.range(1, 70_000_000)))
        .replace("{n}", &rand.range(1, 250_000).to_string())
}

/// A page title for a path: the matching template's title, then the site name.
pub(crate) fn title_for_path(path: &str) -> String {
    let segments = path.bytes().filter(|&b| b == b'/').count();
    let page = PAGES.iter().find(|p| p.segments() == segments && template_matches(p.path, path));
    match page {
        Some(page) => format!("{} · GitLab", page.title),
        None => "GitLab".into(),
    }
}

impl Page {
    /// Number of `/` in the path template.
    fn segments(&self) -> usize {
        self.path.bytes().filter(|&b| b == b'/').count()
    }
}

/// Whether `path` fits `template`, segment by segment (`{...}` matches one segment that names
/// something, so not `-`, which starts GitLab's reserved routes).
fn template_matches(template: &str, path: &str) -> bool {
    let mut parts = path.split('/');
    let fits = |t: &str, p: &str| if t.starts_with('{') { !p.is_empty() && p != "-" } else { t == p };
    template.split('/').all(|t| parts.next().is_some_and(|p| fits(t, p))) && parts.next().is_none()
}

/// Frontend structured-event actions and labels for noise traffic.
pub(crate) const ACTIONS: &[&str] =
    &["click_button", "click_link", "render", "click_dropdown", "submit_form", "show_popover", "click_tab"];
pub(crate) const LABELS: &[&str] = &[
    "",
    "",
    "",
    "sidebar_nav",
    "merge_button",
    "copy_link",
    "approve",
    "search_bar",
    "breadcrumb",
    "pagination",
];

/// Backend structured events: category (a class name) and action.
pub(crate) const BACKEND_EVENTS: &[(&str, &str)] = &[
    ("Projects::PipelinesController", "view_pipelines"),
    ("MergeRequests::CreateService", "create_mr"),
    ("Issues::CreateService", "create"),
    ("API::Users", "authenticate"),
    ("Gitlab::UsageDataCounters::HLLRedisCounter", "i_code_review_user_approve_mr"),
    ("Repositories::GitHttpController", "git_clone"),
    ("Ci::CreatePipelineService", "run_pipeline"),
];

/// Self-describing events in noise traffic.
pub(crate) const NOISE_SCHEMAS: &[&str] = &[
    "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1",
    "iglu:com.gitlab/gitlab_service_ping/jsonschema/1-0-1",
    "iglu:com.snowplowanalytics.snowplow/application_error/jsonschema/1-0-2",
];

/// Backend pods the `host_name` of `gitlab_standard` names.
pub(crate) const HOSTS: &[&str] = &[
    "gitlab-webservice-web-7c9f8b6d54-k2xqz",
    "gitlab-webservice-web-7c9f8b6d54-p9wlm",
    "gitlab-webservice-api-5d8c7f9b8-zx4rt",
    "gitlab-sidekiq-catchall-v2-6b7d9c8f5-q8jvn",
];

/// GitLab plans as `gitlab_standard` reports them.
pub(crate) const PLANS: &[&str] =
    &["free", "free", "free", "premium", "ultimate", "ultimate_trial", "default"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_follow_templates() {
        assert_eq!(title_for_path("/namespace1/project2/-/ci/editor"), "Pipeline Editor · GitLab");
        assert_eq!(title_for_path("/-/trials/new"), "Start a Free Ultimate Trial · GitLab");
        assert_eq!(title_for_path("/no/such/page/at/all"), "GitLab");
        assert_eq!(title_for_path("/-/trials"), "Start a Free Ultimate Trial · GitLab");
        assert_eq!(title_for_path("/namespace1/project2"), "Project overview · GitLab");
    }

    #[test]
    fn paths_are_filled() {
        let mut rand = Rand::seeded(3);
        let path = fill_path(&mut rand, "/{ns}/{proj}/-/issues/{n}");
        assert!(path.starts_with("/namespace") && !path.contains('{'), "{path}");
        assert!(template_matches("/{ns}/{proj}/-/issues/{n}", &path));
    }
}
