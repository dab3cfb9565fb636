//! The JSON reports: `<funnel>.json`, one funnel's numbers (the funnel CSV's, unrounded, with
//! its checks, verdicts and warnings), and the run summary (inputs, window, bad rows by reason,
//! experiments, each funnel's checks and warnings). Both follow a versioned schema
//! ([`JSON_SCHEMA_VERSION`], documented field by field in the README); undefined numbers are
//! `null`, floating-point numbers are written in the shortest form that reads back as the same
//! double, and strings from the data are escaped by serde.

use std::collections::BTreeMap;
use std::io;

use serde::Serialize;
use snowfunnel_engine::{RunReport, VariantCounts};
use snowfunnel_parse::format_day;
use snowfunnel_stats::{Check, EmptyMatch, FunnelResult, Inference, POWER, SRM_ALERT, StepStats};

use crate::csv_out::conversion_from_previous;
use crate::verdict::{Tone, verdicts};
use crate::{RunTotals, RunWarnings};

/// The version of the JSON schema: a change that could break a reader (a field removed,
/// renamed or changing meaning) increments it; new fields may be added within a version.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// The method of the lift intervals, as the reports name it.
pub const LIFT_INTERVAL_METHOD: &str = "delta method on the log of the ratio (Katz)";

/// The method of the lift intervals under sequential inference, as the reports name it.
pub const LIFT_SEQUENCE_METHOD: &str = "asymptotic confidence sequence (normal mixture, Waudby-Smith et al.) on the log of the ratio, delta-method variance";

/// The method of the lift intervals of an inference: [`LIFT_INTERVAL_METHOD`] or
/// [`LIFT_SEQUENCE_METHOD`].
#[must_use]
pub fn lift_interval_method(inference: Inference) -> &'static str {
    match inference {
        Inference::Fixed => LIFT_INTERVAL_METHOD,
        Inference::Sequential { .. } => LIFT_SEQUENCE_METHOD,
    }
}

/// What every JSON and HTML report says about the run that wrote it.
#[derive(Clone, Debug, Serialize)]
pub struct RunStamp {
    /// The command (`run`, `merge`, `validate`).
    pub command: String,
    /// The version of snowfunnel.
    pub version: String,
    /// When the report was made, ISO 8601 UTC (`2026-03-15T08:00:00.000Z`).
    pub as_of: String,
}

#[derive(Serialize)]
struct FunnelJson<'a> {
    schema_version: u32,
    kind: &'static str,
    #[serde(flatten)]
    stamp: &'a RunStamp,
    funnel: &'a str,
    experiment: &'a str,
    control: &'a str,
    alpha: f64,
    confidence: f64,
    lift_interval_method: &'static str,
    denominator: &'static str,
    power: f64,
    mde: Option<f64>,
    inference: &'static str,
    sequential_tuning: Option<f64>,
    keys: u64,
    conflicting_keys: u64,
    steps: &'a [String],
    variants: Vec<VariantJson<'a>>,
    cohort_by: Option<&'a str>,
    cohorts: Vec<CohortJson<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    breakdowns: Vec<BreakdownJson<'a>>,
    checks: ChecksJson<'a>,
    daily_step1_keys: Vec<DailyJson<'a>>,
    verdicts: Vec<VerdictJson>,
    warnings: &'a [String],
}

#[derive(Serialize)]
struct VariantJson<'a> {
    variant: &'a str,
    exposed: Option<u64>,
    steps: Vec<StepJson<'a>>,
}

#[derive(Serialize)]
struct StepJson<'a> {
    step: usize,
    step_name: &'a str,
    keys: u64,
    conversion_from_previous: Option<f64>,
    conversion_from_first: Option<f64>,
    ci_low: Option<f64>,
    ci_high: Option<f64>,
    lift: Option<f64>,
    lift_ci_low: Option<f64>,
    lift_ci_high: Option<f64>,
    p_value: Option<f64>,
    p_value_adjusted: Option<f64>,
    significant: Option<bool>,
    test: Option<&'static str>,
    median_time_to_step_s: Option<f64>,
    p90_time_to_step_s: Option<f64>,
    mde_relative: Option<f64>,
    keys_needed: Option<u64>,
    chance_to_win: Option<f64>,
    expected_loss: Option<f64>,
}

#[derive(Serialize)]
struct CohortJson<'a> {
    cohort: &'a str,
    /// Only with `--cumulative`: the cohort is the running total up to its period.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    cumulative: bool,
    variants: Vec<VariantJson<'a>>,
}

#[derive(Serialize)]
struct BreakdownJson<'a> {
    dimension: &'a str,
    value: &'a str,
    variants: Vec<VariantJson<'a>>,
}

#[derive(Serialize)]
struct ChecksJson<'a> {
    split: Vec<SplitJson<'a>>,
    srm: Option<SrmJson>,
    contaminated_keys: u64,
    experiment_keys: u64,
    contaminated_share: f64,
    contaminated: bool,
    empty_matches: Vec<EmptyMatchJson<'a>>,
    outages: Vec<OutageJson<'a>>,
    failed: Vec<&'static str>,
}

/// One [`EmptyMatch`]: `kind` says which, the other fields are those of its kind.
#[derive(Serialize)]
struct EmptyMatchJson<'a> {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    experiment: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    step: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    step_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    misses: Option<Vec<FieldMissJson<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    variant: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seen: Option<&'a [String]>,
    suggestions: &'a [String],
}

#[derive(Serialize)]
struct FieldMissJson<'a> {
    field: &'static str,
    value: &'a str,
    suggestions: &'a [String],
}

#[derive(Serialize)]
struct OutageJson<'a> {
    variant: Option<&'a str>,
    first_day: String,
    last_day: String,
}

#[derive(Serialize)]
struct DailyJson<'a> {
    day: String,
    keys: Vec<VariantKeysJson<'a>>,
}

#[derive(Serialize)]
struct SplitJson<'a> {
    variant: &'a str,
    keys: u64,
    expected_share: Option<f64>,
    observed_share: Option<f64>,
}

#[derive(Serialize)]
struct SrmJson {
    chi_square: f64,
    degrees_of_freedom: usize,
    p_value: f64,
    alert_below: f64,
    mismatch: bool,
}

#[derive(Serialize)]
struct VerdictJson {
    variant: String,
    step: usize,
    step_name: String,
    lift: Option<f64>,
    lift_ci_low: Option<f64>,
    lift_ci_high: Option<f64>,
    p_value_adjusted: f64,
    outcome: &'static str,
    text: String,
}

/// The variants of one block (the whole funnel or a cohort) with their statistics.
fn variants_json<'a>(
    step_names: &'a [String],
    variants: &'a [VariantCounts],
    stats: &'a [Vec<StepStats>],
) -> Vec<VariantJson<'a>> {
    variants
        .iter()
        .zip(stats)
        .map(|(v, stats)| VariantJson {
            variant: &v.variant,
            exposed: v.exposed,
            steps: step_names
                .iter()
                .zip(stats)
                .enumerate()
                .map(|(step, (name, s))| {
                    let c = s.comparison.as_ref();
                    let time = v.time_to_step[step];
                    StepJson {
                        step: step + 1,
                        step_name: name,
                        keys: v.keys_per_step[step],
                        conversion_from_previous: conversion_from_previous(v, step, s),
                        conversion_from_first: s.conversion_from_first,
                        ci_low: s.ci.map(|ci| ci.0),
                        ci_high: s.ci.map(|ci| ci.1),
                        lift: c.and_then(|c| c.lift),
                        lift_ci_low: c.and_then(|c| c.lift_ci).map(|ci| ci.0),
                        lift_ci_high: c.and_then(|c| c.lift_ci).map(|ci| ci.1),
                        p_value: c.map(|c| c.p_value),
                        p_value_adjusted: c.map(|c| c.p_value_adjusted),
                        significant: c.map(|c| c.significant),
                        test: c.map(|c| c.method.as_str()),
                        median_time_to_step_s: time.map(|t| t.median_s),
                        p90_time_to_step_s: time.map(|t| t.p90_s),
                        mde_relative: c.and_then(|c| c.mde_relative),
                        keys_needed: c.and_then(|c| c.keys_needed),
                        chance_to_win: c.and_then(|c| c.chance_to_win),
                        expected_loss: c.and_then(|c| c.expected_loss),
                    }
                })
                .collect(),
        })
        .collect()
}

fn checks_json(result: &FunnelResult) -> ChecksJson<'_> {
    let checks = &result.checks;
    ChecksJson {
        split: checks
            .split
            .iter()
            .map(|s| SplitJson {
                variant: &s.variant,
                keys: s.keys,
                expected_share: s.expected_share,
                observed_share: s.observed_share,
            })
            .collect(),
        srm: checks.srm.as_ref().map(|srm| SrmJson {
            chi_square: srm.statistic,
            degrees_of_freedom: srm.degrees_of_freedom,
            p_value: srm.p_value,
            alert_below: SRM_ALERT,
            mismatch: checks.mismatch().is_some(),
        }),
        contaminated_keys: checks.contaminated_keys,
        experiment_keys: checks.experiment_keys,
        contaminated_share: checks.contaminated_share(),
        contaminated: checks.contaminated(),
        empty_matches: checks.empty.iter().map(empty_match_json).collect(),
        outages: checks
            .outages
            .iter()
            .map(|o| OutageJson {
                variant: o.variant.as_deref(),
                first_day: format_day(o.first_day),
                last_day: format_day(o.last_day),
            })
            .collect(),
        failed: Check::ALL.into_iter().filter(|&c| checks.fires(c)).map(Check::name).collect(),
    }
}

fn empty_match_json(empty: &EmptyMatch) -> EmptyMatchJson<'_> {
    let none = EmptyMatchJson {
        kind: "",
        experiment: None,
        step: None,
        step_name: None,
        misses: None,
        variant: None,
        seen: None,
        suggestions: &[],
    };
    match empty {
        EmptyMatch::Experiment { experiment, suggestions } => {
            EmptyMatchJson { kind: "experiment", experiment: Some(experiment), suggestions, ..none }
        }
        EmptyMatch::Step { step, name, misses } => EmptyMatchJson {
            kind: "step",
            step: Some(step + 1),
            step_name: Some(name),
            misses: Some(
                misses
                    .iter()
                    .map(|m| FieldMissJson {
                        field: m.field.key(),
                        value: &m.value,
                        suggestions: &m.suggestions,
                    })
                    .collect(),
            ),
            ..none
        },
        EmptyMatch::Control { variant, suggestions, seen } => {
            EmptyMatchJson { kind: "control", variant: Some(variant), seen: Some(seen), suggestions, ..none }
        }
        EmptyMatch::WeightedVariant { variant, suggestions, seen } => EmptyMatchJson {
            kind: "weighted_variant",
            variant: Some(variant),
            seen: Some(seen),
            suggestions,
            ..none
        },
    }
}

/// The outcome of a verdict as the JSON names it.
pub(crate) fn tone_name(tone: Tone) -> &'static str {
    match tone {
        Tone::Better => "better",
        Tone::Worse => "worse",
        Tone::Inconclusive => "inconclusive",
    }
}

/// Writes `result` as `<funnel>.json`: every number of the funnel CSV, unrounded, with the
/// lift intervals, the test used, the checks, the verdicts and `warnings` (the funnel's, from
/// [`check_warnings`](crate::check_warnings)). `cohort_by` names the cohorts' period (`day`,
/// `week`) when the report has them. Pretty-printed, ending with a newline.
///
/// # Errors
/// When writing fails.
pub fn funnel_json(
    result: &FunnelResult,
    cohort_by: Option<&str>,
    warnings: &[String],
    stamp: &RunStamp,
    mut out: impl io::Write,
) -> io::Result<()> {
    let report = &result.report;
    let json = FunnelJson {
        schema_version: JSON_SCHEMA_VERSION,
        kind: "funnel",
        stamp,
        funnel: &report.name,
        experiment: &report.experiment,
        control: &report.control,
        alpha: result.options.alpha,
        confidence: result.options.confidence,
        lift_interval_method: lift_interval_method(result.options.inference),
        denominator: result.denominator.as_str(),
        power: POWER,
        mde: result.options.mde,
        inference: result.options.inference.as_str(),
        sequential_tuning: match result.options.inference {
            Inference::Fixed => None,
            Inference::Sequential { tuning } => Some(tuning),
        },
        keys: report.keys,
        conflicting_keys: report.conflicting_keys,
        steps: &report.step_names,
        variants: variants_json(&report.step_names, &report.variants, &result.stats),
        cohort_by: cohort_by.filter(|_| !report.cohorts.is_empty()),
        cohorts: report
            .cohorts
            .iter()
            .zip(&result.cohort_stats)
            .map(|(c, stats)| CohortJson {
                cohort: &c.start,
                cumulative: c.cumulative,
                variants: variants_json(&report.step_names, &c.variants, stats),
            })
            .collect(),
        breakdowns: report
            .breakdowns
            .iter()
            .zip(&result.breakdown_stats)
            .map(|(b, stats)| BreakdownJson {
                dimension: &b.dimension,
                value: &b.value,
                variants: variants_json(&report.step_names, &b.variants, stats),
            })
            .collect(),
        checks: checks_json(result),
        daily_step1_keys: result
            .daily
            .iter()
            .map(|d| DailyJson {
                day: format_day(d.day),
                keys: report
                    .variants
                    .iter()
                    .zip(&d.keys)
                    .map(|(v, &keys)| VariantKeysJson { variant: &v.variant, keys })
                    .collect(),
            })
            .collect(),
        verdicts: verdicts(result)
            .into_iter()
            .map(|v| VerdictJson {
                text: v.text(),
                variant: v.variant,
                step: v.step,
                step_name: v.step_name,
                lift: v.lift,
                lift_ci_low: v.lift_ci.map(|ci| ci.0),
                lift_ci_high: v.lift_ci.map(|ci| ci.1),
                p_value_adjusted: v.p_value_adjusted,
                outcome: tone_name(v.tone),
            })
            .collect(),
        warnings,
    };
    serde_json::to_writer_pretty(&mut out, &json)?;
    out.write_all(b"\n")
}

#[derive(Serialize)]
struct RunJson<'a> {
    schema_version: u32,
    kind: &'static str,
    #[serde(flatten)]
    stamp: &'a RunStamp,
    window: Option<WindowJson>,
    inputs: InputsJson<'a>,
    lines: u64,
    events: u64,
    bad_rows: BadRowsJson,
    experiment_events: u64,
    experiment_contexts: u64,
    contexts_without_key: u64,
    incomplete_contexts: u64,
    experiments: Vec<ExperimentJson<'a>>,
    funnels: Vec<FunnelSummaryJson<'a>>,
    warnings: &'a [String],
}

#[derive(Serialize)]
struct WindowJson {
    start: String,
    end: String,
}

#[derive(Serialize)]
struct InputsJson<'a> {
    files: u64,
    stored_bytes: u64,
    bytes: Option<u64>,
    skipped_files: &'a [String],
    deselected: u64,
    pruned: u64,
    counted_before: u64,
    merged_states: u64,
}

#[derive(Serialize)]
struct BadRowsJson {
    total: u64,
    by_reason: BTreeMap<&'static str, u64>,
}

#[derive(Serialize)]
struct ExperimentJson<'a> {
    experiment: &'a str,
    contexts: u64,
    keys: u64,
    conflicting_keys: u64,
    variants: Vec<VariantKeysJson<'a>>,
}

#[derive(Serialize)]
struct VariantKeysJson<'a> {
    variant: &'a str,
    keys: u64,
}

#[derive(Serialize)]
struct FunnelSummaryJson<'a> {
    funnel: &'a str,
    experiment: &'a str,
    step1_keys: u64,
    checks: ChecksJson<'a>,
    warnings: &'a [String],
}

/// The run's date window (the funnels' `start`..`end`, microseconds since the epoch), if all of
/// them have one.
pub type Window = Option<(i64, i64)>;

/// Writes the run summary: the run's inputs, the funnels' `window`, line and bad-row counts
/// (by reason), each experiment's keys, each funnel's checks and warnings, and all warnings of the
/// run (`warnings`, those of `results`). Pretty-printed, ending with a newline.
///
/// # Errors
/// When writing fails.
pub fn run_json(
    report: &RunReport,
    results: &[FunnelResult],
    warnings: &RunWarnings,
    totals: &RunTotals,
    window: Window,
    stamp: &RunStamp,
    mut out: impl io::Write,
) -> io::Result<()> {
    let c = &report.counters;
    let json = RunJson {
        schema_version: JSON_SCHEMA_VERSION,
        kind: "run",
        stamp,
        window: window.map(|(start, end)| WindowJson {
            start: snowfunnel_parse::format_micros(start),
            end: snowfunnel_parse::format_micros(end),
        }),
        inputs: InputsJson {
            files: totals.files,
            stored_bytes: totals.stored_bytes,
            bytes: (totals.merged_states == 0).then_some(totals.bytes),
            skipped_files: &totals.skipped_files,
            deselected: totals.deselected,
            pruned: totals.pruned,
            counted_before: totals.counted_before,
            merged_states: totals.merged_states,
        },
        lines: c.lines,
        events: c.events,
        bad_rows: BadRowsJson {
            total: c.bad.total(),
            by_reason: c.bad.by_reason().map(|(reason, n)| (reason.code(), n)).collect(),
        },
        experiment_events: c.experiment_events,
        experiment_contexts: c.experiment_contexts,
        contexts_without_key: c.contexts_without_key,
        incomplete_contexts: c.incomplete_contexts,
        experiments: report
            .experiments
            .iter()
            .map(|e| ExperimentJson {
                experiment: &e.experiment,
                contexts: e.contexts,
                keys: e.keys,
                conflicting_keys: e.conflicting_keys,
                variants: e
                    .variants
                    .iter()
                    .map(|(variant, keys)| VariantKeysJson { variant, keys: *keys })
                    .collect(),
            })
            .collect(),
        funnels: results
            .iter()
            .zip(&warnings.per_funnel)
            .map(|(r, funnel_warnings)| FunnelSummaryJson {
                funnel: &r.report.name,
                experiment: &r.report.experiment,
                step1_keys: r.report.step1_keys(),
                checks: checks_json(r),
                warnings: funnel_warnings,
            })
            .collect(),
        warnings: &warnings.run,
    };
    serde_json::to_writer_pretty(&mut out, &json)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use serde_json::Value;
    use snowfunnel_engine::{FunnelReport, TimeToStep};

    use super::*;
    use crate::testing::{computed, counts};

    fn stamp() -> RunStamp {
        RunStamp { command: "run".into(), version: "9.9.9".into(), as_of: "2026-03-15T00:00:00.000Z".into() }
    }

    #[test]
    fn the_csv_numbers_unrounded_and_null_when_undefined() {
        let mut control = counts("control", vec![1000, 120]);
        control.time_to_step[1] = Some(TimeToStep { median_s: 61.5, p90_s: 3600.001 });
        let result = computed(FunnelReport {
            name: "f".into(),
            experiment: "<e>\"".into(),
            control: "control".into(),
            step_names: vec!["one".into(), "two".into()],
            variants: vec![control, counts("candidate", vec![1000, 145]), counts("empty", vec![0, 0])],
            cohorts: Vec::new(),
            breakdowns: Vec::new(),
            keys: 2000,
            conflicting_keys: 0,
        });
        let mut out = Vec::new();
        funnel_json(&result, Some("day"), &["a warning".into()], &stamp(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with("}\n"));
        let json: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["schema_version"], 1);
        assert_eq!(json["kind"], "funnel");
        assert_eq!(json["as_of"], "2026-03-15T00:00:00.000Z");
        assert_eq!(json["experiment"], "<e>\"");
        assert_eq!(json["cohort_by"], Value::Null, "no cohorts in the report");
        let candidate = &json["variants"][1]["steps"][1];
        // The CSV test's figures, unrounded: lift 145/120 - 1, Holm over one comparison.
        assert_eq!(candidate["keys"], 145);
        // Written exactly: the shortest text that reads back as the same double (serde_json's
        // reader, without its float_roundtrip feature, may be off by an ulp, so the text is checked).
        let lift = result.stats[1][1].comparison.unwrap().lift.unwrap();
        assert!(text.contains(&format!("\"lift\": {lift},")), "{lift}");
        assert!((candidate["lift"].as_f64().unwrap() - 0.208_333_333_333_333_3).abs() < 1e-15);
        assert!((candidate["p_value"].as_f64().unwrap() - 0.099_18).abs() < 1e-5);
        assert_eq!(candidate["significant"], false);
        assert_eq!(candidate["test"], "z_test");
        assert!(candidate["lift_ci_low"].as_f64().unwrap() < 0.0);
        let control = &json["variants"][0]["steps"][1];
        assert_eq!(control["lift"], Value::Null);
        assert_eq!(control["significant"], Value::Null);
        assert_eq!(control["median_time_to_step_s"], 61.5);
        assert_eq!(control["p90_time_to_step_s"], 3600.001);
        assert_eq!(json["variants"][2]["steps"][0]["conversion_from_first"], Value::Null);
        assert_eq!(json["verdicts"][0]["outcome"], "inconclusive");
        assert_eq!(json["warnings"][0], "a warning");
        assert_eq!(json["checks"]["split"][0]["variant"], "control");
        assert_eq!(json["checks"]["srm"]["alert_below"], 0.001);
    }
}
