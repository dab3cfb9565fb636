//! Funnel fingerprints: a state file records the fingerprint of each funnel it was built for, so
//! that reading it with different funnels is an error instead of a wrong answer.
//!
//! The fingerprint is the SHA-256 of a canonical encoding of the *parsed* [`Funnel`], so TOML
//! formatting, comments, key order, and a default written out or left implicit (`control =
//! "control"`, `order = "any"`) do not change it, nor do spellings of the same value (`"7d"` and
//! `"168h"`, `"2026-03-01"` and `2026-03-01T00:00:00Z`). What is in it: the name, the experiment,
//! the `app_ids` as a set (sorted, duplicates dropped), `start` and `end` in microseconds, the
//! control, the weights as written (`50/50` and `1/1` differ), the order, the window in
//! microseconds, and every step in order with its name and each field it names. What is not: the
//! file the funnel came from ([`Funnel::source`]), so a state follows its funnels when they move,
//! and how the report reads and tests the counts (`mde`, `denominator`, [`Funnel::inference`],
//! `sequential_tuning`), which changes no count: a state counted under one inference or
//! denominator reports under another.
//!
//! Precisely: the SHA-256 of the postcard encoding of, in order, the string `snowfunnel funnel
//! fingerprint 1`, name, experiment, `Option<sorted app_ids>`, `Option<start>`, `Option<end>`,
//! control, `Option<[(variant, f64 weight)]>` sorted by variant, `sequential: bool`,
//! `Option<window>`, and the steps as `(name, category, action, label, property, event,
//! page_urlpath, schema)` with each field an `Option<string>`; then, for a funnel counted under
//! other rules than snowfunnel's, the string `rules` and the rule set's name (`warehouse`), so that
//! the fingerprints of funnels under snowfunnel's rules are those of the builds before `rules`
//! existed. A test pins one value: changing any of this is a new state file format version.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::definition::{Funnel, Order, Step};
use crate::rules::Rules;

/// Changes whenever the canonical encoding does, so old and new fingerprints never match by accident.
const DOMAIN: &str = "snowfunnel funnel fingerprint 1";

#[derive(Serialize)]
struct Canonical<'a> {
    domain: &'static str,
    name: &'a str,
    experiment: &'a str,
    app_ids: Option<Vec<&'a str>>,
    start: Option<i64>,
    end: Option<i64>,
    control: &'a str,
    weights: Option<Vec<(&'a str, f64)>>,
    sequential: bool,
    window: Option<i64>,
    steps: Vec<CanonicalStep<'a>>,
}

#[derive(Serialize)]
struct CanonicalStep<'a> {
    name: &'a str,
    category: Option<&'a str>,
    action: Option<&'a str>,
    label: Option<&'a str>,
    property: Option<&'a str>,
    event: Option<&'a str>,
    page_urlpath: Option<&'a str>,
    schema: Option<&'a str>,
}

impl<'a> CanonicalStep<'a> {
    fn new(step: &'a Step) -> Self {
        CanonicalStep {
            name: &step.name,
            category: step.category.as_deref(),
            action: step.action.as_deref(),
            label: step.label.as_deref(),
            property: step.property.as_deref(),
            event: step.event.as_deref(),
            page_urlpath: step.page_urlpath.as_deref(),
            schema: step.schema.as_deref(),
        }
    }
}

impl Funnel {
    /// A stable fingerprint of the definition as the engine uses it (see the module docs of
    /// what it covers): equal for the same funnel however its file is written, different when
    /// anything that changes the state or the report changes.
    #[must_use]
    pub fn fingerprint(&self) -> [u8; 32] {
        let app_ids = self.app_ids.as_ref().map(|ids| {
            let mut ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        });
        let canonical = Canonical {
            domain: DOMAIN,
            name: &self.name,
            experiment: &self.experiment,
            app_ids,
            start: self.start,
            end: self.end,
            control: &self.control,
            weights: self.weights.as_ref().map(|w| w.iter().map(|(v, w)| (v.as_str(), *w)).collect()),
            sequential: self.order == Order::Sequential,
            window: self.window,
            steps: self.steps.iter().map(CanonicalStep::new).collect(),
        };
        let mut bytes = postcard::to_stdvec(&canonical).expect("encoding into memory cannot fail");
        if self.rules != Rules::Snowfunnel {
            let rules = ("rules", self.rules.as_str());
            bytes.extend(postcard::to_stdvec(&rules).expect("encoding into memory cannot fail"));
        }
        Sha256::digest(bytes).into()
    }
}

#[cfg(test)]
mod tests {
    use crate::parse_funnel;

    const FUNNEL: &str = r#"
name = "walkthrough"
experiment = "exp"
app_ids = ["gitlab", "gitlab-staging"]
start = "2026-03-01"
end = "2026-04-01"
weights = { control = 50, candidate = 50 }
order = "sequential"
window = "7d"

[[steps]]
name = "one"
category = "cat"
action = "a1"

[[steps]]
name = "two"
event = "unstruct"
schema = "iglu:com.acme/x/"
"#;

    fn fingerprint(text: &str) -> [u8; 32] {
        parse_funnel("f.toml", "f", text).unwrap().fingerprint()
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn the_same_funnel_written_differently_has_the_same_fingerprint() {
        let base = fingerprint(FUNNEL);
        let rewritten = r#"
# Comments, key order, spacing, explicit defaults and other spellings of the same values.
experiment   = "exp"
name = "walkthrough"
window = "168h"
order = "sequential"
control = "control"
weights = { candidate = 50.0, control = 50 }
end = 2026-04-01T00:00:00Z
start = "2026-03-01 00:00:00"
app_ids = ["gitlab-staging", "gitlab", "gitlab"]

[[steps]]
action = "a1"
category = "cat"
name = "one"

[[steps]]
schema = "iglu:com.acme/x/"
name = "two"
event = "unstruct"
"#;
        assert_eq!(fingerprint(rewritten), base);
        let mut moved = parse_funnel("elsewhere/g.toml", "g", FUNNEL).unwrap();
        moved.source = "another/place.toml".into();
        assert_eq!(moved.fingerprint(), base);
    }

    #[test]
    fn every_part_of_the_definition_changes_the_fingerprint() {
        let base = fingerprint(FUNNEL);
        let changes = [
            ("name = \"walkthrough\"", "name = \"walk\""),
            ("experiment = \"exp\"", "experiment = \"exp2\""),
            ("app_ids = [\"gitlab\", \"gitlab-staging\"]", "app_ids = [\"gitlab\"]"),
            ("app_ids = [\"gitlab\", \"gitlab-staging\"]\n", ""),
            ("start = \"2026-03-01\"", "start = \"2026-03-02\""),
            ("end = \"2026-04-01\"", "end = \"2026-04-02\""),
            ("order = \"sequential\"", "control = \"candidate\"\norder = \"sequential\""),
            ("control = 50, candidate = 50", "control = 60, candidate = 40"),
            ("weights = { control = 50, candidate = 50 }\n", ""),
            ("order = \"sequential\"\nwindow = \"7d\"", "order = \"any\""),
            ("window = \"7d\"", "window = \"6d\""),
            ("window = \"7d\"\n", ""),
            ("name = \"one\"", "name = \"first\""),
            ("category = \"cat\"", "category = \"dog\""),
            ("action = \"a1\"", "action = \"a1\"\nlabel = \"l\""),
            ("action = \"a1\"", "action = \"a1\"\nproperty = \"p\""),
            ("action = \"a1\"", "action = \"a1\"\npage_urlpath = \"/p\""),
            ("event = \"unstruct\"", "event = \"struct\""),
            ("schema = \"iglu:com.acme/x/\"", "schema = \"iglu:com.acme/\""),
        ];
        for (from, to) in changes {
            assert!(FUNNEL.contains(from), "{from}");
            let changed = FUNNEL.replace(from, to);
            assert_ne!(fingerprint(&changed), base, "{from:?} -> {to:?}");
        }
        // The rules are (on a funnel of structured events, the only ones the warehouse counts).
        let structured = parse_funnel(
            "f.toml",
            "f",
            &FUNNEL.replace("event = \"unstruct\"\nschema = \"iglu:com.acme/x/\"", "action = \"a2\""),
        )
        .unwrap();
        let warehouse = parse_funnel(
            "f.toml",
            "f",
            &FUNNEL
                .replace("event = \"unstruct\"\nschema = \"iglu:com.acme/x/\"", "action = \"a2\"")
                .replace("order = \"sequential\"", "rules = \"warehouse\"\norder = \"sequential\""),
        )
        .unwrap();
        assert_ne!(structured.fingerprint(), warehouse.fingerprint());
        // How the counts are read is not: neither the planned effect nor the denominator.
        for planning in ["mde = 0.05\n", "denominator = \"exposed\"\n", "mde = 2\ndenominator = \"step1\"\n"]
        {
            assert_eq!(fingerprint(&format!("{planning}{FUNNEL}")), base, "{planning:?}");
        }
        // Step order is part of the funnel.
        let mut swapped = parse_funnel("f.toml", "f", FUNNEL).unwrap();
        swapped.steps.reverse();
        assert_ne!(swapped.fingerprint(), base);
    }

    #[test]
    fn the_inference_is_not_part_of_the_fingerprint() {
        // A state written for a funnel with one inference is read for the same funnel with
        // another: the counts are the same, only the statistics of the report change.
        let base = fingerprint(FUNNEL);
        for inference in [
            "inference = \"fixed\"",
            "inference = \"sequential\"",
            "inference = \"sequential\"\nsequential_tuning = 20000",
        ] {
            let with = FUNNEL.replace("window = \"7d\"", &format!("window = \"7d\"\n{inference}"));
            assert_ne!(with, FUNNEL);
            assert_eq!(fingerprint(&with), base, "{inference}");
        }
    }

    #[test]
    fn snowfunnel_rules_written_out_keep_the_fingerprint() {
        let explicit =
            FUNNEL.replace("order = \"sequential\"", "rules = \"snowfunnel\"\norder = \"sequential\"");
        assert_eq!(fingerprint(&explicit), fingerprint(FUNNEL));
    }

    #[test]
    fn the_fingerprint_is_pinned() {
        // A change here breaks every state file written before: bump the state file format
        // version (`state_file/mod.rs`) and `DOMAIN` together, then update this value.
        assert_eq!(
            hex(&fingerprint(FUNNEL)),
            "c5087dca5167ed5afb477e68c6f8a57ad08223c1104d5cde120ee07e6da1a861"
        );
    }
}
