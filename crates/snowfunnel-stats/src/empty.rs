//! Why a funnel came out empty, and what was probably meant: an experiment without events, a
//! step that no event matched, a control variant without keys, a variant of the weights never
//! seen; each with the closest names seen in the data. And outages: days on which a variant (or
//! every variant) got no new step-1 keys although its traffic says it should have.

use snowfunnel_engine::{ExperimentSummary, Funnel, FunnelReport, FunnelSeen, SeenValues, StepField};

/// Most names suggested for one empty match.
pub const MAX_SUGGESTIONS: usize = 3;
/// How close a name seen must be to the one asked for to be suggested: the Jaro-Winkler
/// similarity of the two, compared without regard to letter case (1 is equal).
pub const SUGGESTION_SIMILARITY: f64 = 0.8;
/// A variant (or the whole funnel) is out on a day when it got no new step-1 key that day while
/// at least this many were expected (from the day's keys of the other variants and its share of
/// the funnel's step-1 keys; for the whole funnel, from its mean per day). The chance of no key
/// at all when this many are expected is below 0.001 (Poisson: e^-7), the threshold of the
/// sample ratio mismatch alarm.
pub const OUTAGE_MIN_EXPECTED: f64 = 7.0;

/// Something a funnel asked for that the data did not have.
#[derive(Clone, Debug, PartialEq)]
pub enum EmptyMatch {
    /// The funnel's experiment has no context in the inputs.
    Experiment {
        /// The experiment asked for.
        experiment: String,
        /// The closest experiment names seen, closest first.
        suggestions: Vec<String>,
    },
    /// No event (passing the funnel's filters, carrying its experiment's context) matched a step.
    Step {
        /// The step's index, from 0.
        step: usize,
        /// The step's name.
        name: String,
        /// The values the step asks for that no event of the experiment had (anywhere, not
        /// only within the funnel's filters); empty when each was seen, just not together on
        /// one event passing the funnel's filters, or when the values seen are not known.
        misses: Vec<FieldMiss>,
    },
    /// The control variant has no step-1 key: there is nothing to compare the others with.
    Control {
        /// The control asked for.
        variant: String,
        /// The closest variants seen with step-1 keys.
        suggestions: Vec<String>,
        /// Every variant seen with step-1 keys, in report order.
        seen: Vec<String>,
    },
    /// A variant named in `weights` (not the control) has no step-1 key.
    WeightedVariant {
        /// The variant of the weights.
        variant: String,
        /// The closest variants seen with step-1 keys that the weights do not name.
        suggestions: Vec<String>,
        /// Every variant seen with step-1 keys, in report order.
        seen: Vec<String>,
    },
}

/// A step's value that no event of its experiment had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldMiss {
    /// The field.
    pub field: StepField,
    /// The value the step asks for.
    pub value: String,
    /// The closest values of the field seen among the experiment's events.
    pub suggestions: Vec<String>,
}

/// A run of consecutive days on which a variant, or the whole funnel, got no new step-1 key
/// although at least [`OUTAGE_MIN_EXPECTED`] were expected each day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outage {
    /// The variant; `None`: no variant got any.
    pub variant: Option<String>,
    /// First day, days since 1970-01-01 (UTC).
    pub first_day: i64,
    /// Last day, both included.
    pub last_day: i64,
}

/// The names among `candidates` closest to `target` (at least [`SUGGESTION_SIMILARITY`], up
/// to [`MAX_SUGGESTIONS`], closest first, then in the order given); `target` itself is not one.
#[must_use]
pub fn closest<'a>(target: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let wanted = target.to_lowercase();
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .filter(|c| *c != target)
        .map(|c| (strsim::jaro_winkler(&wanted, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= SUGGESTION_SIMILARITY)
        .collect();
    scored.sort_by(|(a, _), (b, _)| b.total_cmp(a));
    scored.into_iter().take(MAX_SUGGESTIONS).map(|(_, c)| c.to_owned()).collect()
}

fn names(values: &SeenValues) -> impl Iterator<Item = &str> {
    values.values.iter().map(|(v, _)| v.as_str())
}

/// The empty matches of `report`, the result of `funnel` on the experiment summed up by
/// `experiment`, with what the run saw of it. An experiment without events is reported alone
/// (its steps and variants are empty because of it), and so are steps no event matched when
/// there is no step-1 key at all.
#[must_use]
pub fn empty_matches(
    report: &FunnelReport,
    funnel: &Funnel,
    experiment: &ExperimentSummary,
    seen: &FunnelSeen,
) -> Vec<EmptyMatch> {
    if experiment.contexts == 0 {
        let suggestions = closest(&funnel.experiment, names(&seen.experiments));
        return vec![EmptyMatch::Experiment { experiment: funnel.experiment.clone(), suggestions }];
    }
    let mut found = Vec::new();
    let unmatched = funnel.steps.iter().zip(&seen.step_keys).enumerate().filter(|(_, (_, keys))| **keys == 0);
    for (index, (step, _)) in unmatched {
        let misses = StepField::ALL
            .into_iter()
            .filter_map(|field| {
                let value = field.of(step)?;
                let (_, values) = seen.fields.iter().find(|(f, _)| *f == field)?;
                // Nothing kept and not every input's names: not known, rather than never seen.
                let unknown = !seen.names_complete && values.values.is_empty() && values.left_out == 0;
                (!unknown && !values.matches(field, value)).then(|| FieldMiss {
                    field,
                    value: value.to_owned(),
                    suggestions: closest(value, names(values)),
                })
            })
            .collect();
        found.push(EmptyMatch::Step { step: index, name: step.name.clone(), misses });
    }
    let with_keys: Vec<&str> =
        report.variants.iter().filter(|v| v.keys_per_step[0] > 0).map(|v| v.variant.as_str()).collect();
    if with_keys.is_empty() {
        return found;
    }
    let seen_variants = || with_keys.iter().map(|v| (*v).to_owned()).collect::<Vec<_>>();
    if !with_keys.contains(&funnel.control.as_str()) {
        found.push(EmptyMatch::Control {
            variant: funnel.control.clone(),
            suggestions: closest(&funnel.control, with_keys.iter().copied()),
            seen: seen_variants(),
        });
    }
    if let Some(weights) = &funnel.weights {
        let planned = |v: &str| weights.iter().any(|(w, _)| w == v);
        for (variant, _) in weights {
            if *variant == funnel.control || with_keys.contains(&variant.as_str()) {
                continue;
            }
            found.push(EmptyMatch::WeightedVariant {
                variant: variant.clone(),
                suggestions: closest(variant, with_keys.iter().copied().filter(|v| !planned(v))),
                seen: seen_variants(),
            });
        }
    }
    found
}

/// The outages of a funnel, from its variants' keys by the day of their first step-1 event
/// (`seen.days`, variants in the order of `report.variants`), over the days from the first to
/// the last with one: a day without any new step-1 key while the funnel's mean per day is at
/// least [`OUTAGE_MIN_EXPECTED`], and a day on which a variant got none while the day's keys
/// times the variant's share of the funnel's step-1 keys is at least that. Consecutive days
/// make one outage; the whole funnel's first, then by variant in report order.
#[must_use]
#[allow(clippy::cast_precision_loss)] // counts far below 2^52
pub fn outages(report: &FunnelReport, seen: &FunnelSeen) -> Vec<Outage> {
    let n = report.variants.len();
    let (Some(first), Some(last)) = (seen.days.first(), seen.days.last()) else {
        return Vec::new();
    };
    if seen.days.iter().any(|d| d.keys.len() != n) {
        return Vec::new();
    }
    let per_variant: Vec<u64> = (0..n).map(|v| seen.days.iter().map(|d| d.keys[v]).sum()).collect();
    let total: u64 = per_variant.iter().sum();
    let mean = total as f64 / (last.day - first.day + 1) as f64;
    // Per variant (index n: the whole funnel), the days out, in order.
    let mut out: Vec<Vec<i64>> = vec![Vec::new(); n + 1];
    let mut days = seen.days.iter().peekable();
    for day in first.day..=last.day {
        let keys = days.next_if(|d| d.day == day).map(|d| d.keys.as_slice());
        let day_total: u64 = keys.map_or(0, |k| k.iter().sum());
        if day_total == 0 {
            if mean >= OUTAGE_MIN_EXPECTED {
                out[n].push(day);
            }
            continue;
        }
        let keys = keys.expect("keys on a day with keys");
        for v in 0..n {
            let expected = day_total as f64 * per_variant[v] as f64 / total as f64;
            if keys[v] == 0 && expected >= OUTAGE_MIN_EXPECTED {
                out[v].push(day);
            }
        }
    }
    let mut found = Vec::new();
    for (v, days) in out.iter().enumerate().cycle().skip(n).take(n + 1) {
        let variant = (v < n).then(|| report.variants[v].variant.clone());
        for run in days.chunk_by(|a, b| b - a == 1) {
            found.push(Outage { variant: variant.clone(), first_day: run[0], last_day: run[run.len() - 1] });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use snowfunnel_engine::{DayKeys, VariantCounts, parse_funnel};

    use super::*;

    fn report(variants: &[(&str, &[u64])]) -> FunnelReport {
        FunnelReport {
            name: "f".into(),
            experiment: "pipeline_editor_walkthrough".into(),
            control: "control".into(),
            step_names: vec!["one".into(), "two".into()],
            variants: variants
                .iter()
                .map(|(v, k)| VariantCounts {
                    variant: (*v).into(),
                    exposed: None,
                    keys_per_step: k.to_vec(),
                    time_to_step: vec![None; k.len()],
                })
                .collect(),
            cohorts: Vec::new(),
            breakdowns: Vec::new(),
            keys: 0,
            conflicting_keys: 0,
        }
    }

    fn funnel(head: &str) -> Funnel {
        let text = format!(
            "{head}\n[[steps]]\nname = \"one\"\ncategory = \"projects:ci:editor\"\naction = \"view_editor\"\n\
             [[steps]]\nname = \"two\"\naction = \"click_walktrough\"\nlabel = \"cta\"\n"
        );
        parse_funnel("f.toml", "f", &text).unwrap()
    }

    fn summary(contexts: u64) -> ExperimentSummary {
        ExperimentSummary {
            experiment: "pipeline_editor_walkthrough".into(),
            contexts,
            keys: contexts,
            conflicting_keys: 0,
            variants: Vec::new(),
        }
    }

    fn values(v: &[&str]) -> SeenValues {
        SeenValues { values: v.iter().map(|v| ((*v).to_owned(), 1)).collect(), left_out: 0 }
    }

    fn seen(step_keys: &[u64]) -> FunnelSeen {
        FunnelSeen {
            names_complete: true,
            experiments: values(&["pipeline_editor_walkthrough", "security_training", "pipeline_editor_v2"]),
            fields: vec![
                (StepField::Category, values(&["projects:ci:editor"])),
                (StepField::Action, values(&["view_editor", "click_walkthrough", "click_walkthrough_close"])),
                (StepField::Label, values(&["cta"])),
            ],
            step_keys: step_keys.to_vec(),
            days: Vec::new(),
        }
    }

    #[test]
    fn suggestions_are_the_closest_names_ignoring_case() {
        let seen = ["pipeline_editor_walkthrough", "pipeline_editor_walkthrough_v2", "security_training"];
        assert_eq!(
            closest("pipeline_editor_walktrough", seen),
            ["pipeline_editor_walkthrough", "pipeline_editor_walkthrough_v2"]
        );
        assert_eq!(closest("Control", ["candidate", "control"]), ["control"]);
        assert!(closest("zzz", seen).is_empty());
        assert!(closest("security_training", seen).is_empty());
        let many = ["aaaa1", "aaaa2", "aaaa3", "aaaa4"];
        assert_eq!(closest("aaaa", many).len(), MAX_SUGGESTIONS);
    }

    #[test]
    fn a_misspelled_experiment_is_reported_alone_with_the_names_seen() {
        let f = funnel("experiment = \"pipeline_editor_walktrough\"\ncontrol = \"Control\"");
        let found = empty_matches(&report(&[]), &f, &summary(0), &seen(&[0, 0]));
        assert_eq!(
            found,
            [EmptyMatch::Experiment {
                experiment: "pipeline_editor_walktrough".into(),
                suggestions: vec!["pipeline_editor_walkthrough".into(), "pipeline_editor_v2".into()],
            }]
        );
        // Without names (a state read back), no suggestion, the same finding.
        let found = empty_matches(&report(&[]), &f, &summary(0), &FunnelSeen::default());
        assert!(matches!(&found[..], [EmptyMatch::Experiment { suggestions, .. }] if suggestions.is_empty()));
    }

    #[test]
    fn a_step_no_event_matched_names_the_values_never_seen() {
        let f = funnel("experiment = \"pipeline_editor_walkthrough\"");
        let r = report(&[("control", &[10, 0]), ("candidate", &[12, 0])]);
        let found = empty_matches(&r, &f, &summary(30), &seen(&[22, 0]));
        assert_eq!(
            found,
            [EmptyMatch::Step {
                step: 1,
                name: "two".into(),
                misses: vec![FieldMiss {
                    field: StepField::Action,
                    value: "click_walktrough".into(),
                    suggestions: vec!["click_walkthrough".into(), "click_walkthrough_close".into()],
                }],
            }]
        );
        // Every value seen, not together: a finding without misses. Steps unknown: none.
        let mut all_seen = seen(&[22, 0]);
        all_seen.fields[1].1.values.push(("click_walktrough".into(), 1));
        assert!(matches!(&empty_matches(&r, &f, &summary(30), &all_seen)[..],
            [EmptyMatch::Step { step: 1, misses, .. }] if misses.is_empty()));
        assert!(empty_matches(&r, &f, &summary(30), &seen(&[])).is_empty());
    }

    #[test]
    fn a_schema_is_seen_when_a_schema_seen_starts_with_it() {
        // Steps name a schema's prefix: one seen in full is not a miss.
        let text = "experiment = \"pipeline_editor_walkthrough\"\n[[steps]]\nname = \"one\"\naction = \"view_editor\"\n\
                    [[steps]]\nname = \"two\"\nschema = \"iglu:com.gitlab/pipeline_editor_commit/\"\n\
                    [[steps]]\nname = \"three\"\nschema = \"iglu:com.gitlab/pipeline_editor_comit/\"\n";
        let f = parse_funnel("f.toml", "f", text).unwrap();
        let mut seen = seen(&[22, 0, 0]);
        seen.fields
            .push((StepField::Schema, values(&["iglu:com.gitlab/pipeline_editor_commit/jsonschema/1-0-0"])));
        let r = report(&[("control", &[10, 0, 0]), ("candidate", &[12, 0, 0])]);
        let found = empty_matches(&r, &f, &summary(30), &seen);
        let misses: Vec<(usize, Vec<&str>)> = found
            .iter()
            .filter_map(|m| match m {
                EmptyMatch::Step { step, misses, .. } => {
                    Some((*step, misses.iter().map(|m| m.value.as_str()).collect()))
                }
                _ => None,
            })
            .collect();
        assert_eq!(misses, [(1, vec![]), (2, vec!["iglu:com.gitlab/pipeline_editor_comit/"])]);
    }

    #[test]
    fn a_control_without_keys_and_weights_never_seen_suggest_the_variants_seen() {
        let f = funnel(
            "experiment = \"pipeline_editor_walkthrough\"\ncontrol = \"Control\"\n\
             weights = { Control = 50, candidat = 50 }",
        );
        let r = report(&[("candidate", &[12, 3]), ("control", &[10, 2])]);
        let found = empty_matches(&r, &f, &summary(30), &seen(&[22, 5]));
        let both = vec!["candidate".to_owned(), "control".to_owned()];
        assert_eq!(
            found,
            [
                EmptyMatch::Control {
                    variant: "Control".into(),
                    suggestions: vec!["control".into()],
                    seen: both.clone()
                },
                EmptyMatch::WeightedVariant {
                    variant: "candidat".into(),
                    suggestions: vec!["candidate".into()],
                    seen: both,
                },
            ]
        );
        // A step 1 that matched nothing explains the rest: only it is reported.
        let r = report(&[("control", &[0, 0])]);
        assert!(matches!(
            &empty_matches(&r, &f, &summary(30), &seen(&[0, 0]))[..],
            [EmptyMatch::Step { step: 0, .. }, EmptyMatch::Step { step: 1, .. }]
        ));
    }

    #[test]
    fn outages_are_days_without_keys_where_many_were_expected() {
        let r = report(&[("control", &[0]), ("candidate", &[0])]);
        let day = |day: i64, keys: [u64; 2]| DayKeys { day, keys: keys.to_vec() };
        let mut s = seen(&[]);
        // Days 10..=16: candidate out on 12 and 13 (about 12
        // expected: 40 keys times its share, 60 of 206), everything out on 15, and on
        // day 16 a day of 6 keys where candidate's 3 expected are too few to tell.
        s.days = vec![
            day(10, [20, 20]),
            day(11, [20, 20]),
            day(12, [40, 0]),
            day(13, [40, 0]),
            day(14, [20, 20]),
            day(16, [6, 0]),
        ];
        assert_eq!(
            outages(&r, &s),
            [
                Outage { variant: None, first_day: 15, last_day: 15 },
                Outage { variant: Some("candidate".into()), first_day: 12, last_day: 13 },
            ]
        );
        // A small funnel: nothing can be told.
        s.days = vec![day(10, [2, 2]), day(12, [3, 0])];
        assert!(outages(&r, &s).is_empty());
        assert!(outages(&r, &seen(&[])).is_empty());
    }
}
