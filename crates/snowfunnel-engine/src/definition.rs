//! Funnel definitions: the TOML contract, validated into [`Funnel`]s with errors that name the
//! file, the line and the problem.

use serde::Deserialize;
use snowfunnel_parse::parse_date_or_timestamp;
use toml::Spanned;

use crate::rules::Rules;

/// Most steps a funnel may have.
pub const MAX_STEPS: usize = 64;

/// The default `sequential_tuning` of a funnel file: the step-1 keys (both variants of a
/// comparison together) at which the confidence sequence is tightest, as GrowthBook's default.
pub const DEFAULT_SEQUENTIAL_TUNING: f64 = 5000.0;

/// A validated funnel definition.
#[derive(Clone, Debug, PartialEq)]
pub struct Funnel {
    /// Funnel name; names the output files.
    pub name: String,
    /// Experiment whose context the funnel's events must carry.
    pub experiment: String,
    /// Only events with one of these `app_id`s count (`None`: every app_id).
    pub app_ids: Option<Vec<String>>,
    /// Inclusive lower bound on event time, microseconds since the epoch.
    pub start: Option<i64>,
    /// Exclusive upper bound on event time, microseconds since the epoch.
    pub end: Option<i64>,
    /// The baseline variant.
    pub control: String,
    /// The planned traffic split, as relative weights per variant (sorted by variant name);
    /// `None`: an equal split over the variants seen.
    pub weights: Option<Vec<(String, f64)>>,
    /// Whether steps must happen in order.
    pub order: Order,
    /// With [`Order::Sequential`]: how long after its first step-1 event a key may do the
    /// other steps, in microseconds (`None`: no limit).
    pub window: Option<i64>,
    /// Steps in funnel order; at least one, at most [`MAX_STEPS`].
    pub steps: Vec<Step>,
    /// The rule set the funnel counts under (`rules`, default [`Rules::Snowfunnel`]); part of
    /// the [fingerprint](Funnel::fingerprint).
    pub rules: Rules,
    /// The planned effect the sample sizes are computed for, relative (`mde = 0.05`: +5% on
    /// the control's conversion), above 0; `None`: the observed lift. Changes no count, so it
    /// is not in the [fingerprint](Funnel::fingerprint).
    pub mde: Option<f64>,
    /// What each variant's conversions are measured against. Changes no count, so it is not in
    /// the [fingerprint](Funnel::fingerprint).
    pub denominator: Denominator,
    /// How the comparisons with the control are tested: what the report computes from the
    /// counts, not what is counted (not part of [`Funnel::fingerprint`]).
    pub inference: Inference,
    /// Where the definition came from, for messages.
    pub source: String,
}

/// How a funnel's steps relate in time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// A key counts at step n when it did steps 1..n, in any order (set intersection).
    #[default]
    Any,
    /// A key counts at step n when its first step-n event is at or after the time it reached
    /// step n-1, and within the window of its first step-1 event.
    Sequential,
}

/// The denominator of a funnel's conversions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Denominator {
    /// Each variant's keys that did step 1: less noise, but biased when a variant changes
    /// step 1 itself.
    #[default]
    Step1,
    /// Each variant's exposed keys: every key of the variant with any event of the experiment
    /// that passes the funnel's filters (window, `app_ids`), conflicting keys left out.
    Exposed,
}

impl Funnel {
    /// The funnel counted under `rules` instead of its own (`explain --rules`), and why each
    /// of its steps that can match no event under them cannot (a funnel file is refused for
    /// these; `explain` counts them, at 0, to show what the other rules would count).
    #[must_use]
    pub fn under(&self, rules: Rules) -> (Funnel, Vec<String>) {
        let never = self.steps.iter().enumerate().filter_map(|(i, s)| s.refused_under(rules, i)).collect();
        (Funnel { rules, ..self.clone() }, never)
    }
}

impl Denominator {
    /// Its name in the funnel file and the reports: `step1` or `exposed`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Denominator::Step1 => "step1",
            Denominator::Exposed => "exposed",
        }
    }
}

/// How a funnel's comparisons are tested (`inference` in the funnel file).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Inference {
    /// Fixed-horizon p-values and confidence intervals: valid when the results are read once,
    /// at a sample size decided in advance.
    #[default]
    Fixed,
    /// Always-valid p-values and confidence sequences: valid however often the results are
    /// read, and whenever the experiment is stopped.
    Sequential {
        /// The step-1 keys of a comparison (both variants together) at which the confidence
        /// sequence is tightest (`sequential_tuning`, default [`DEFAULT_SEQUENTIAL_TUNING`]);
        /// positive and finite.
        tuning: f64,
    },
}

impl Inference {
    /// The funnel file's name of the inference: `fixed` or `sequential`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fixed => "fixed",
            Self::Sequential { .. } => "sequential",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawInference {
    #[default]
    Fixed,
    Sequential,
}

/// One funnel step: an event matches when every field the step names is equal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Display name of the step.
    pub name: String,
    /// `se_category`, exact.
    pub category: Option<String>,
    /// `se_action`, exact.
    pub action: Option<String>,
    /// `se_label`, exact.
    pub label: Option<String>,
    /// `se_property`, exact.
    pub property: Option<String>,
    /// Event type (`struct`, `page_view`, `unstruct`, ...), exact.
    pub event: Option<String>,
    /// `page_urlpath`, exact.
    pub page_urlpath: Option<String>,
    /// Prefix of the self-describing event's schema in `unstruct_event`.
    pub schema: Option<String>,
}

impl Step {
    /// Why step `i` (0-based) cannot be counted under `rules`, if it cannot: the warehouse
    /// counts structured events only, so a step on any other event would never match.
    fn refused_under(&self, rules: Rules, i: usize) -> Option<String> {
        let other_event = self.schema.is_some() || self.event.as_deref().is_some_and(|e| e != "struct");
        if rules != Rules::Warehouse || !other_event {
            return None;
        }
        Some(format!(
            "step {} ({:?}) names {}, which no event counted under rules = \"warehouse\" has: the \
             warehouse rules count structured events (event = \"struct\") only",
            i + 1,
            self.name,
            if self.schema.is_some() { "a self-describing event's schema" } else { "another event type" }
        ))
    }

    fn names_a_field(&self) -> bool {
        [
            &self.category,
            &self.action,
            &self.label,
            &self.property,
            &self.event,
            &self.page_urlpath,
            &self.schema,
        ]
        .iter()
        .any(|f| f.is_some())
    }
}

/// A funnel definition that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct DefinitionError {
    /// The file (or other source) of the definition.
    pub file: String,
    /// 1-based line of the problem, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFunnel {
    name: Option<Spanned<String>>,
    experiment: String,
    app_ids: Option<Vec<String>>,
    start: Option<Spanned<toml::Value>>,
    end: Option<Spanned<toml::Value>>,
    control: Option<String>,
    weights: Option<Spanned<std::collections::BTreeMap<String, f64>>>,
    #[serde(default)]
    order: Order,
    window: Option<Spanned<String>>,
    mde: Option<Spanned<f64>>,
    #[serde(default)]
    denominator: Denominator,
    #[serde(default)]
    inference: RawInference,
    sequential_tuning: Option<Spanned<f64>>,
    #[serde(default)]
    rules: Rules,
    #[serde(default)]
    steps: Option<Spanned<Vec<Spanned<Step>>>>,
}

/// Parses one funnel definition. `source` names it in errors (a path); `default_name` is used
/// when the file has no `name` (the file stem).
///
/// # Errors
/// A [`DefinitionError`] naming the line and problem: TOML syntax, unknown keys, a missing
/// experiment, no steps or more than [`MAX_STEPS`], a step naming no field, bad dates, start
/// not before end, a name unfit for a file name, or a `sequential_tuning` that is not a
/// positive number or comes without `inference = "sequential"`.
pub fn parse_funnel(source: &str, default_name: &str, text: &str) -> Result<Funnel, DefinitionError> {
    let error = |span: Option<std::ops::Range<usize>>, message: String| DefinitionError {
        file: source.to_owned(),
        line: span.map(|s| line_of(text, s.start)),
        message,
    };
    let raw: RawFunnel = toml::from_str(text).map_err(|e| error(e.span(), e.message().trim().to_owned()))?;

    let (name, name_span) = match raw.name {
        Some(n) => (n.get_ref().clone(), Some(n.span())),
        None => (default_name.to_owned(), None),
    };
    if let Some(problem) = file_name_problem(&name) {
        return Err(error(name_span, format!("funnel name {name:?} {problem}")));
    }
    if raw.experiment.is_empty() {
        return Err(error(None, "`experiment` is empty".into()));
    }
    let Some(steps) = raw.steps else {
        return Err(error(None, "no steps: add at least one [[steps]] table".into()));
    };
    let steps_span = steps.span();
    let steps = steps.into_inner();
    if steps.is_empty() {
        return Err(error(Some(steps_span), "no steps: add at least one [[steps]] table".into()));
    }
    if steps.len() > MAX_STEPS {
        return Err(error(
            Some(steps_span),
            format!("{} steps, more than the {MAX_STEPS} allowed", steps.len()),
        ));
    }
    for (i, step) in steps.iter().enumerate() {
        if !step.get_ref().names_a_field() {
            return Err(error(
                Some(step.span()),
                format!(
                    "step {} ({:?}) names no event field: give category, action, label, property, event, page_urlpath or schema",
                    i + 1,
                    step.get_ref().name
                ),
            ));
        }
        if let Some(message) = step.get_ref().refused_under(raw.rules, i) {
            return Err(error(Some(step.span()), message));
        }
    }
    let start = raw
        .start
        .map(|v| parse_bound(&v).map_err(|m| error(Some(v.span()), format!("start: {m}"))))
        .transpose()?;
    let end = raw
        .end
        .map(|v| parse_bound(&v).map_err(|m| error(Some(v.span()), format!("end: {m}"))))
        .transpose()?;
    if let (Some(s), Some(e)) = (start, end)
        && s >= e
    {
        return Err(error(None, "`start` must be before `end`".into()));
    }
    let weights = match raw.weights {
        None => None,
        Some(w) => {
            let span = w.span();
            let weights: Vec<(String, f64)> = w.into_inner().into_iter().collect();
            if let Some((variant, weight)) = weights.iter().find(|(_, w)| !(w.is_finite() && *w > 0.0)) {
                return Err(error(
                    Some(span),
                    format!("weights: {variant:?} has weight {weight}; weights must be positive"),
                ));
            }
            if weights.len() < 2 {
                return Err(error(Some(span), "weights: name at least two variants".into()));
            }
            // The split check divides each weight by their sum: a sum that overflows or a share
            // that underflows would fail the run at its end, after reading every input.
            let sum: f64 = weights.iter().map(|(_, w)| w).sum();
            if let Some((variant, weight)) = weights.iter().find(|(_, w)| !(w / sum).is_normal()) {
                return Err(error(
                    Some(span),
                    format!(
                        "weights: {variant:?} has weight {weight:e}, out of all proportion with the others"
                    ),
                ));
            }
            Some(weights)
        }
    };
    let window = match raw.window {
        None => None,
        Some(_) if raw.order != Order::Sequential => {
            return Err(error(None, "`window` needs `order = \"sequential\"`".into()));
        }
        Some(w) => {
            Some(parse_window(w.get_ref()).map_err(|m| error(Some(w.span()), format!("window: {m}")))?)
        }
    };
    let mde = match raw.mde {
        None => None,
        Some(m) if m.get_ref().is_finite() && *m.get_ref() > 0.0 => Some(*m.get_ref()),
        Some(m) => {
            return Err(error(
                Some(m.span()),
                format!(
                    "mde: {} is not a planned relative effect: give a number above 0, like 0.05 for +5%",
                    m.get_ref()
                ),
            ));
        }
    };
    let inference = match (raw.inference, raw.sequential_tuning) {
        (RawInference::Fixed, None) => Inference::Fixed,
        (RawInference::Fixed, Some(t)) => {
            return Err(error(
                Some(t.span()),
                "`sequential_tuning` needs `inference = \"sequential\"`".into(),
            ));
        }
        (RawInference::Sequential, None) => Inference::Sequential { tuning: DEFAULT_SEQUENTIAL_TUNING },
        (RawInference::Sequential, Some(t)) => {
            let tuning = *t.get_ref();
            if !(tuning.is_finite() && tuning > 0.0) {
                return Err(error(
                    Some(t.span()),
                    format!("sequential_tuning: {tuning} is not a positive number of keys"),
                ));
            }
            Inference::Sequential { tuning }
        }
    };
    Ok(Funnel {
        name,
        experiment: raw.experiment,
        app_ids: raw.app_ids,
        start,
        end,
        control: raw.control.unwrap_or_else(|| "control".to_owned()),
        weights,
        order: raw.order,
        window,
        steps: steps.into_iter().map(Spanned::into_inner).collect(),
        rules: raw.rules,
        mde,
        denominator: raw.denominator,
        inference,
        source: source.to_owned(),
    })
}

/// Checks that no two funnels share a name (they would write the same output file).
///
/// # Errors
/// A [`DefinitionError`] naming both sources.
pub fn check_unique_names(funnels: &[Funnel]) -> Result<(), DefinitionError> {
    for (i, a) in funnels.iter().enumerate() {
        if let Some(b) = funnels[..i].iter().find(|b| b.name == a.name) {
            return Err(DefinitionError {
                file: a.source.clone(),
                line: None,
                message: format!("funnel name {:?} is already used by {}", a.name, b.source),
            });
        }
    }
    Ok(())
}

/// `"7d"`, `"36h"`, `"90m"`, `"30s"`: a positive whole number and a unit.
fn parse_window(text: &str) -> Result<i64, String> {
    let unit_at = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(unit_at);
    let seconds = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => return Err(format!("{text:?} is not a duration: a whole number and d, h, m or s, like \"7d\"")),
    };
    match number.parse::<i64>() {
        Ok(n) if n > 0 => n.checked_mul(seconds * 1_000_000).ok_or_else(|| format!("{text:?} is too long")),
        _ => Err(format!("{text:?} is not a duration: a whole number above 0 and d, h, m or s, like \"7d\"")),
    }
}

fn parse_bound(value: &Spanned<toml::Value>) -> Result<i64, String> {
    let text = match value.get_ref() {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        other => {
            return Err(format!("expected a date string, found {}", other.type_str()));
        }
    };
    parse_date_or_timestamp(text.as_bytes()).map_err(|e| {
        format!("{text:?} is not a UTC date (YYYY-MM-DD) or timestamp (YYYY-MM-DD hh:mm:ss[.f]): {e}")
    })
}

fn file_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name.starts_with('.') {
        Some("starts with '.'")
    } else if name.chars().any(|c| matches!(c, '/' | '\\' | '\0') || c.is_control()) {
        Some("cannot name a file: it holds '/', '\\' or a control character")
    } else {
        None
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "walkthrough"
experiment = "pipeline_editor_walkthrough"
app_ids = ["gitlab"]
start = "2026-03-01"
end = 2026-04-01

[[steps]]
name = "Viewed editor"
category = "projects:ci:editor"
action = "view_editor"

[[steps]]
name = "Clicked walkthrough"
action = "click_walkthrough"
label = "cta"
"#;

    fn err(text: &str) -> DefinitionError {
        parse_funnel("f.toml", "f", text).unwrap_err()
    }

    #[test]
    fn parses_the_contract() {
        let f = parse_funnel("f.toml", "f", GOOD).unwrap();
        assert_eq!(f.name, "walkthrough");
        assert_eq!(f.control, "control");
        assert_eq!(f.steps.len(), 2);
        assert_eq!(f.steps[1].label.as_deref(), Some("cta"));
        assert!(f.start.unwrap() < f.end.unwrap());
        let unnamed =
            parse_funnel("x/stem.toml", "stem", &GOOD.replace("name = \"walkthrough\"\n", "")).unwrap();
        assert_eq!(unnamed.name, "stem");
    }

    #[test]
    fn weights_are_a_positive_split() {
        let with = |w: &str| GOOD.replace("app_ids", &format!("weights = {w}\napp_ids"));
        let f = parse_funnel("f.toml", "f", &with("{ control = 90, candidate = 10.5 }")).unwrap();
        assert_eq!(f.weights, Some(vec![("candidate".into(), 10.5), ("control".into(), 90.0)]));
        assert_eq!(parse_funnel("f.toml", "f", GOOD).unwrap().weights, None);
        let zero = err(&with("{ control = 1, candidate = 0 }"));
        assert!(zero.message.contains("\"candidate\" has weight 0"), "{zero}");
        assert_eq!(zero.line, Some(4));
        assert!(err(&with("{ control = 1 }")).message.contains("at least two variants"));
        assert!(err(&with("{ control = \"half\", b = 1 }")).message.contains("invalid type"));
        // Found by fuzzing: shares the split check cannot compute, refused here rather than
        // after a whole run.
        let tiny = err(&with("{ control = 1e300, candidate = 1e-300 }"));
        assert!(tiny.message.contains("\"candidate\" has weight 1e-300, out of all proportion"), "{tiny}");
        assert_eq!(tiny.line, Some(4));
        assert!(
            err(&with("{ control = 1e308, candidate = 1e308 }")).message.contains("out of all proportion")
        );
        let far = parse_funnel("f.toml", "f", &with("{ control = 1e150, candidate = 1e-150 }")).unwrap();
        assert_eq!(far.weights.map(|w| w.len()), Some(2));
    }

    #[test]
    fn order_and_window() {
        let with = |extra: &str| GOOD.replace("app_ids", &format!("{extra}\napp_ids"));
        let any = parse_funnel("f.toml", "f", GOOD).unwrap();
        assert_eq!((any.order, any.window), (Order::Any, None));
        let seq = parse_funnel("f.toml", "f", &with("order = \"sequential\"\nwindow = \"7d\"")).unwrap();
        assert_eq!((seq.order, seq.window), (Order::Sequential, Some(7 * 86_400_000_000)));
        let hours = parse_funnel("f.toml", "f", &with("order = \"sequential\"\nwindow = \"36h\"")).unwrap();
        assert_eq!(hours.window, Some(36 * 3_600_000_000));
        assert!(err(&with("window = \"7d\"")).message.contains("needs `order = \"sequential\"`"));
        assert!(
            err(&with("order = \"sequential\"\nwindow = \"7 days\"")).message.contains("is not a duration")
        );
        assert!(err(&with("order = \"sequential\"\nwindow = \"0d\"")).message.contains("above 0"));
        assert!(err(&with("order = \"random\"")).message.contains("unknown variant `random`"));
    }

    #[test]
    fn mde_and_denominator() {
        let with = |extra: &str| GOOD.replace("app_ids", &format!("{extra}\napp_ids"));
        let plain = parse_funnel("f.toml", "f", GOOD).unwrap();
        assert_eq!((plain.mde, plain.denominator), (None, Denominator::Step1));
        let set = parse_funnel("f.toml", "f", &with("mde = 0.05\ndenominator = \"exposed\"")).unwrap();
        assert_eq!((set.mde, set.denominator), (Some(0.05), Denominator::Exposed));
        let step1 = parse_funnel("f.toml", "f", &with("denominator = \"step1\"\nmde = 1")).unwrap();
        assert_eq!((step1.mde, step1.denominator), (Some(1.0), Denominator::Step1));
        for bad in ["mde = 0", "mde = -0.05", "mde = nan", "mde = inf"] {
            let e = err(&with(bad));
            assert!(e.message.contains("is not a planned relative effect"), "{bad}: {e}");
            assert!(e.to_string().starts_with("f.toml:4: mde: "), "{e}");
        }
        let e = err(&with("mde = \"5%\""));
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.message.contains("invalid type"), "{e}");
        let e = err(&with("denominator = \"visits\""));
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.message.contains("unknown variant `visits`, expected `step1` or `exposed`"), "{e}");
    }

    #[test]
    fn inference_and_its_tuning() {
        let with = |extra: &str| GOOD.replace("app_ids", &format!("{extra}\napp_ids"));
        assert_eq!(parse_funnel("f.toml", "f", GOOD).unwrap().inference, Inference::Fixed);
        let fixed = parse_funnel("f.toml", "f", &with("inference = \"fixed\"")).unwrap();
        assert_eq!(fixed.inference, Inference::Fixed);
        let default = parse_funnel("f.toml", "f", &with("inference = \"sequential\"")).unwrap();
        assert_eq!(default.inference, Inference::Sequential { tuning: DEFAULT_SEQUENTIAL_TUNING });
        assert_eq!(default.inference.as_str(), "sequential");
        let tuned =
            parse_funnel("f.toml", "f", &with("inference = \"sequential\"\nsequential_tuning = 20000"))
                .unwrap();
        assert_eq!(tuned.inference, Inference::Sequential { tuning: 20_000.0 });
        let half =
            parse_funnel("f.toml", "f", &with("inference = \"sequential\"\nsequential_tuning = 2.5e3"))
                .unwrap();
        assert_eq!(half.inference, Inference::Sequential { tuning: 2_500.0 });

        let unknown = err(&with("inference = \"bayesian\""));
        assert!(unknown.message.contains("unknown variant `bayesian`"), "{unknown}");
        assert_eq!(unknown.line, Some(4));
        for bad in ["0", "-5000", "nan", "inf"] {
            let e = err(&with(&format!("inference = \"sequential\"\nsequential_tuning = {bad}")));
            assert!(e.message.contains("is not a positive number of keys"), "{bad}: {e}");
            assert_eq!(e.line, Some(5), "{bad}");
            assert!(e.to_string().starts_with("f.toml:5: sequential_tuning: "), "{e}");
        }
        assert!(
            err(&with("inference = \"sequential\"\nsequential_tuning = \"5000\""))
                .message
                .contains("invalid type")
        );
        let alone = err(&with("sequential_tuning = 5000"));
        assert!(alone.message.contains("needs `inference = \"sequential\"`"), "{alone}");
        assert_eq!(alone.line, Some(4));
    }

    #[test]
    fn rules() {
        assert_eq!(parse_funnel("f.toml", "f", GOOD).unwrap().rules, Rules::Snowfunnel);
        let with = |extra: &str| GOOD.replace("app_ids", &format!("{extra}\napp_ids"));
        let warehouse = parse_funnel("f.toml", "f", &with("rules = \"warehouse\"")).unwrap();
        assert_eq!(warehouse.rules, Rules::Warehouse);
        let ours = parse_funnel("f.toml", "f", &with("rules = \"snowfunnel\"")).unwrap();
        assert_eq!(ours.rules, Rules::Snowfunnel);
        let unstruct = GOOD.replace("app_ids", "rules = \"warehouse\"\napp_ids")
            + "[[steps]]\nname = \"Committed\"\nevent = \"unstruct\"\nschema = \"iglu:com.acme/commit/\"\n";
        let e = err(&unstruct);
        assert!(e.message.contains("count structured events (event = \"struct\") only"), "{e}");
        assert!(e.line.is_some(), "{e}");
        let page_view = GOOD.replace("app_ids", "rules = \"warehouse\"\napp_ids")
            + "[[steps]]\nname = \"Viewed\"\nevent = \"page_view\"\n";
        assert!(err(&page_view).message.contains("another event type"));
        let e = err(&with("rules = \"dbt\""));
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.message.contains("unknown variant `dbt`, expected `snowfunnel` or `warehouse`"), "{e}");
    }

    #[test]
    fn unknown_keys_name_the_line() {
        let e = err(&GOOD.replace("label = \"cta\"", "lable = \"cta\""));
        assert_eq!(e.line, Some(16));
        assert!(e.message.contains("unknown field `lable`"), "{e}");
        assert!(e.to_string().starts_with("f.toml:16: "), "{e}");
        assert!(err(&format!("colour = 1\n{GOOD}")).message.contains("unknown field `colour`"));
    }

    #[test]
    fn missing_experiment_and_steps() {
        assert!(
            err("name = \"x\"\n[[steps]]\nname = \"a\"\naction = \"b\"\n")
                .message
                .contains("missing field `experiment`")
        );
        assert!(err("experiment = \"e\"\n").message.contains("no steps"));
        assert!(err("experiment = \"e\"\nsteps = []\n").message.contains("no steps"));
        let nothing = err("experiment = \"e\"\n[[steps]]\nname = \"a\"\n");
        assert!(nothing.message.contains("names no event field"), "{nothing}");
        assert_eq!(nothing.line, Some(2));
    }

    #[test]
    fn too_many_steps() {
        let mut text = String::from("experiment = \"e\"\n");
        for i in 0..=MAX_STEPS {
            text.push_str(&format!("[[steps]]\nname = \"s{i}\"\naction = \"a{i}\"\n"));
        }
        assert!(err(&text).message.contains("65 steps, more than the 64 allowed"));
    }

    #[test]
    fn bad_dates_and_order() {
        let e = err(&GOOD.replace("\"2026-03-01\"", "\"2026-02-30\""));
        assert_eq!(e.line, Some(5));
        assert!(e.message.starts_with("start: \"2026-02-30\" is not a UTC date"), "{e}");
        assert!(err(&GOOD.replace("\"2026-03-01\"", "\"2026-05-01\"")).message.contains("before `end`"));
        assert!(err(&GOOD.replace("\"2026-03-01\"", "3")).message.contains("expected a date string"));
    }

    #[test]
    fn names_must_be_file_names_and_unique() {
        assert!(err(&GOOD.replace("\"walkthrough\"", "\"a/b\"")).message.contains("cannot name a file"));
        let a = parse_funnel("a.toml", "a", GOOD).unwrap();
        let b = parse_funnel("b.toml", "b", GOOD).unwrap();
        let e = check_unique_names(&[a.clone(), b]).unwrap_err();
        assert_eq!(e.to_string(), "b.toml: funnel name \"walkthrough\" is already used by a.toml");
        assert!(check_unique_names(&[a]).is_ok());
    }
}
