//! What to generate: the run's knobs and the experiments whose funnels the events follow.

use crate::error::ConfigError;
use snowfunnel_parse::MICROS_PER_DAY;

use crate::time::date_micros;

/// Everything that determines the output. The same configuration always yields the same lines.
#[derive(Debug, Clone, PartialEq)]
pub struct GenConfig {
    /// Seed of the random stream.
    pub seed: u64,
    /// Number of lines to produce, malformed lines and duplicates included.
    pub events: usize,
    /// The experiments whose funnels experiment events follow.
    pub experiments: Vec<ExperimentSpec>,
    /// Start of the collector-time range, in unix microseconds (UTC).
    pub start_micros: i64,
    /// Length of the collector-time range, in days.
    pub span_days: u32,
    /// Share of good events that carry at least one experiment context.
    pub experiment_share: f64,
    /// Share of lines that are malformed.
    pub malformed_share: f64,
    /// Share of lines that repeat an earlier event exactly (same `event_id`, identical line).
    pub duplicate_share: f64,
    /// Distinct context keys per experiment; 0 means "scale with `events`" (see
    /// [`GenConfig::resolved_keys_per_experiment`]).
    pub keys_per_experiment: usize,
    /// Share of keys that also show up with a second, conflicting variant.
    pub conflict_share: f64,
    /// Share of events with `app_id` `gitlab-staging` (a few more go to other apps; the rest are
    /// `gitlab`).
    pub staging_share: f64,
    /// Share of keys in a shape other than lowercase hex (a UUID, uppercase hex, a decimal id), as
    /// some trackers send them; 0 by default, so every key is 64 (or 32) lowercase hex digits.
    pub other_key_share: f64,
    /// Bare lines: only the fields a consumer of experiments reads (app, platform, times, event
    /// kind and id, the structured fields, page path, `unstruct_event`, and in `contexts` the
    /// experiment entries alone), about a third of a full line. For benchmarks that need many
    /// events cheaply; off by default.
    pub bare_lines: bool,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            seed: 0,
            events: 10_000,
            experiments: default_experiments(),
            start_micros: date_micros(2026, 3, 1),
            span_days: 14,
            experiment_share: 0.25,
            malformed_share: 0.002,
            duplicate_share: 0.01,
            keys_per_experiment: 0,
            conflict_share: 0.01,
            staging_share: 0.05,
            other_key_share: 0.0,
            bare_lines: false,
        }
    }
}

impl GenConfig {
    /// The default configuration with another seed and line count.
    #[must_use]
    pub fn new(seed: u64, events: usize) -> Self {
        GenConfig { seed, events, ..GenConfig::default() }
    }

    /// Keys per experiment actually used: `keys_per_experiment`, or when it is 0,
    /// `events / 20` but at least 50. It depends on the configuration only, so a streaming run
    /// knows it before producing anything.
    #[must_use]
    pub fn resolved_keys_per_experiment(&self) -> usize {
        if self.keys_per_experiment > 0 { self.keys_per_experiment } else { (self.events / 20).max(50) }
    }

    /// Start of the collector-time range actually used: `start_micros`, kept within the years
    /// 1 to 9000 so every generated time stays printable.
    #[must_use]
    pub fn resolved_start_micros(&self) -> i64 {
        self.start_micros.clamp(date_micros(1, 1, 1), date_micros(9000, 1, 1))
    }

    /// End of the collector-time range (exclusive), in unix microseconds.
    #[must_use]
    pub fn end_micros(&self) -> i64 {
        self.resolved_start_micros() + i64::from(self.span_days.clamp(1, MAX_SPAN_DAYS)) * MICROS_PER_DAY
    }

    /// Checks the configuration. Generation never fails: it clamps shares into `0..=1`, the span
    /// into 1 to 36500 days and the start into the years 1 to 9000, and skips experiments without
    /// variants or steps; call this to reject such input instead.
    ///
    /// # Errors
    /// The first problem found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let shares = [
            ("experiment_share", self.experiment_share),
            ("malformed_share", self.malformed_share),
            ("duplicate_share", self.duplicate_share),
            ("conflict_share", self.conflict_share),
            ("staging_share", self.staging_share),
            ("other_key_share", self.other_key_share),
        ];
        for (name, value) in shares {
            if !(0.0..=1.0).contains(&value) {
                return Err(ConfigError::Share { name, value });
            }
        }
        if self.malformed_share + self.duplicate_share > 1.0 {
            return Err(ConfigError::TooManyBadLines);
        }
        if !(1..=MAX_SPAN_DAYS).contains(&self.span_days) {
            return Err(ConfigError::Span(self.span_days));
        }
        if !(date_micros(1, 1, 1)..date_micros(9000, 1, 1)).contains(&self.start_micros) {
            return Err(ConfigError::Start(self.start_micros));
        }
        for (i, experiment) in self.experiments.iter().enumerate() {
            experiment.validate()?;
            if self.experiments[..i].iter().any(|other| other.name == experiment.name) {
                return Err(ConfigError::DuplicateExperiment(experiment.name.clone()));
            }
        }
        Ok(())
    }
}

/// Longest time range accepted (about 100 years).
const MAX_SPAN_DAYS: u32 = 36_500;

/// One A/B experiment: its variants and the funnel steps its keys go through.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentSpec {
    /// Experiment name as GitLab tracks it (may contain `/`).
    pub name: String,
    /// Variant names; keys are spread evenly over them.
    pub variants: Vec<String>,
    /// Funnel steps, in order.
    pub steps: Vec<StepSpec>,
}

impl ExperimentSpec {
    /// An experiment from its name, variant names and steps.
    #[must_use]
    pub fn new(name: &str, variants: &[&str], steps: Vec<StepSpec>) -> Self {
        ExperimentSpec { name: name.into(), variants: variants.iter().map(|&v| v.into()).collect(), steps }
    }

    /// Whether generation can use this experiment (it has variants and steps).
    #[must_use]
    pub fn is_usable(&self) -> bool {
        !self.variants.is_empty()
            && !self.steps.is_empty()
            && self.variants.len() <= 255
            && self.steps.len() <= 255
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |reason: &str| ConfigError::Experiment { name: self.name.clone(), reason: reason.into() };
        if self.name.is_empty() {
            return Err(bad("empty name"));
        }
        if !self.is_usable() {
            return Err(bad("needs 1 to 255 variants and 1 to 255 steps"));
        }
        if self.variants.iter().enumerate().any(|(i, v)| self.variants[..i].contains(v)) {
            return Err(bad("variant names repeat"));
        }
        if self.steps.iter().any(|step| !(0.0..=1.0).contains(&step.continue_rate)) {
            return Err(bad("continue_rate outside 0..=1"));
        }
        Ok(())
    }
}

/// One funnel step: what an event must look like to count as this step.
#[derive(Debug, Clone, PartialEq)]
pub struct StepSpec {
    /// `se_category` of a structured step (a page category such as `projects:ci:editor`, or the
    /// experiment name for backend events); empty for other kinds.
    pub category: String,
    /// `se_action` of a structured step; empty for other kinds.
    pub action: String,
    /// `se_label` of a structured step, when it has one.
    pub label: Option<String>,
    /// The `event` field: `struct`, `page_view`, `unstruct` or `page_ping`.
    pub event: String,
    /// `page_urlpath` of a `page_view` or `page_ping` step (used verbatim).
    pub page_urlpath: Option<String>,
    /// Inner schema of an `unstruct` step, e.g. `iglu:com.gitlab/experiment_signup/jsonschema/1-0-0`.
    pub unstruct_schema: Option<String>,
    /// Probability that a key at this step goes on to the next one.
    pub continue_rate: f64,
}

impl StepSpec {
    /// A structured (`struct`) step.
    #[must_use]
    pub fn structured(category: &str, action: &str, label: Option<&str>, continue_rate: f64) -> Self {
        StepSpec {
            category: category.into(),
            action: action.into(),
            label: label.map(Into::into),
            event: "struct".into(),
            page_urlpath: None,
            unstruct_schema: None,
            continue_rate,
        }
    }

    /// A `page_view` step on a fixed path.
    #[must_use]
    pub fn page_view(path: &str, continue_rate: f64) -> Self {
        StepSpec { event: "page_view".into(), page_urlpath: Some(path.into()), ..Self::empty(continue_rate) }
    }

    /// A self-describing (`unstruct`) event step with the given inner schema.
    #[must_use]
    pub fn unstructured(schema: &str, continue_rate: f64) -> Self {
        StepSpec {
            event: "unstruct".into(),
            unstruct_schema: Some(schema.into()),
            ..Self::empty(continue_rate)
        }
    }

    /// Whether this step is a backend event (structured, with the experiment name as category).
    #[must_use]
    pub fn is_backend(&self, experiment: &str) -> bool {
        self.event == "struct" && self.category == experiment
    }

    fn empty(continue_rate: f64) -> Self {
        StepSpec {
            category: String::new(),
            action: String::new(),
            label: None,
            event: String::new(),
            page_urlpath: None,
            unstruct_schema: None,
            continue_rate,
        }
    }
}

/// The three default experiments: 2, 3 and 2 variants; 4, 3 and 3 steps; each with one step that
/// is not a structured event, one with a `/` in its name, and backend steps.
#[must_use]
pub fn default_experiments() -> Vec<ExperimentSpec> {
    vec![
        ExperimentSpec::new(
            "pipeline_editor_walkthrough",
            &["control", "candidate"],
            vec![
                StepSpec::structured("projects:ci:editor", "view_editor", None, 0.7),
                StepSpec::structured(
                    "projects:ci:editor",
                    "click_walkthrough",
                    Some("walkthrough_popover"),
                    0.55,
                ),
                StepSpec::unstructured("iglu:com.gitlab/pipeline_editor_commit/jsonschema/1-0-0", 0.6),
                StepSpec::structured("pipeline_editor_walkthrough", "pipeline_succeeded", None, 0.0),
            ],
        ),
        ExperimentSpec::new(
            "trial_onboarding/issues",
            &["control", "candidate", "candidate_b"],
            vec![
                StepSpec::page_view("/-/trials/new", 0.6),
                StepSpec::structured("trials:create", "click_button", Some("start_trial"), 0.5),
                StepSpec::structured("projects:issues:index", "create_issue", Some("new_issue_button"), 0.0),
            ],
        ),
        ExperimentSpec::new(
            "security_scan_nudge",
            &["control", "candidate"],
            vec![
                StepSpec::structured(
                    "projects:merge_requests:show",
                    "render",
                    Some("security_scan_nudge"),
                    0.45,
                ),
                StepSpec::structured(
                    "projects:merge_requests:show",
                    "click_button",
                    Some("enable_scanning"),
                    0.6,
                ),
                StepSpec::page_view("/-/security/dashboard", 0.0),
            ],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_scales_keys() {
        let config = GenConfig::default();
        config.validate().unwrap();
        assert_eq!(config.resolved_keys_per_experiment(), 500);
        assert_eq!(GenConfig::new(1, 100).resolved_keys_per_experiment(), 50);
        assert_eq!(
            GenConfig { keys_per_experiment: 7, ..GenConfig::default() }.resolved_keys_per_experiment(),
            7
        );
    }

    #[test]
    fn rejects_bad_values() {
        let share = GenConfig { staging_share: 1.5, ..GenConfig::default() };
        assert!(matches!(share.validate(), Err(ConfigError::Share { name: "staging_share", .. })));
        let mut twice = GenConfig::default();
        twice.experiments.push(twice.experiments[0].clone());
        assert!(matches!(twice.validate(), Err(ConfigError::DuplicateExperiment(_))));
        let mut no_steps = GenConfig::default();
        no_steps.experiments[1].steps.clear();
        assert!(no_steps.validate().is_err());
        assert!(GenConfig { span_days: 0, ..GenConfig::default() }.validate().is_err());
        assert!(GenConfig { start_micros: i64::MAX, ..GenConfig::default() }.validate().is_err());
    }
}
