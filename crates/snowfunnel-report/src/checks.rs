//! The data checks of a funnel, which say whether its table can be trusted: sample ratio
//! mismatch (did the variants get the planned split?) and contamination (keys seen with more
//! than one variant), written to `<funnel>.summary.csv` and raised as warnings; empty matches
//! (with the closest names seen) and outages, raised as warnings. The checks are
//! computed in `snowfunnel-stats` ([`FunnelResult::checks`]); this module only writes them.

use std::io::{self, Write};

use snowfunnel_engine::Denominator;
use snowfunnel_stats::{EmptyMatch, FunnelChecks, FunnelResult, OUTAGE_MIN_EXPECTED};

use crate::number::{grouped, p_value, percent, rate, shown_name};
use crate::{CsvCells, terminal_text};

/// The header of `<funnel>.summary.csv`.
pub const SUMMARY_CSV_HEADER: [&str; 10] = [
    "experiment",
    "funnel",
    "variant",
    "keys",
    "expected_share",
    "observed_share",
    "srm_chi_square",
    "srm_p_value",
    "contaminated_keys",
    "contaminated_share",
];

/// The warnings of a run's funnels, computed once for every output that shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunWarnings {
    /// Per funnel (in the order of the results): its [`check_warnings`].
    pub per_funnel: Vec<Vec<String>>,
    /// All of them, each once, in order: the same experiment's contamination is found by each
    /// of its funnels and said once.
    pub run: Vec<String>,
}

impl RunWarnings {
    /// The warnings of `results`.
    #[must_use]
    pub fn of(results: &[FunnelResult]) -> Self {
        let per_funnel: Vec<Vec<String>> = results.iter().map(check_warnings).collect();
        let mut run: Vec<String> = Vec::new();
        for warning in per_funnel.iter().flatten() {
            if !run.contains(warning) {
                run.push(warning.clone());
            }
        }
        RunWarnings { per_funnel, run }
    }
}

/// The problems the checks of `result` found, one readable line each (empty when all is well),
/// names escaped for the terminal.
#[must_use]
pub fn check_warnings(result: &FunnelResult) -> Vec<String> {
    let (report, checks) = (&result.report, &result.checks);
    let mut warnings = empty_match_warnings(result);
    if let Some(srm) = checks.mismatch() {
        let planned: Vec<String> = checks
            .split
            .iter()
            .filter_map(|v| {
                let expected = v.expected_share?;
                Some(format!(
                    "{} {} ({:.1}% planned)",
                    shown_name(&v.variant),
                    grouped(v.keys),
                    expected * 100.0
                ))
            })
            .collect();
        warnings.push(format!(
            "sample ratio mismatch in funnel {}: {} {} (chi-square {:.1}, p = {}); \
             the assignment or the tracking is likely broken, so the comparisons are not trustworthy",
            terminal_text(&report.name),
            split_keys(checks.denominator),
            planned.join(", "),
            srm.statistic,
            p_value(Some(srm.p_value)),
        ));
    }
    for v in checks.unplanned() {
        warnings.push(format!(
            "funnel {}: variant {} has {} {} but is not in the funnel's weights",
            terminal_text(&report.name),
            shown_name(&v.variant),
            grouped(v.keys),
            split_keys(checks.denominator)
        ));
    }
    if checks.contaminated() {
        warnings.push(format!(
            "experiment {}: {} of {} keys ({}) were seen with more than one variant (left out of every count)",
            terminal_text(&report.experiment),
            grouped(checks.contaminated_keys),
            grouped(checks.experiment_keys),
            percent(checks.contaminated_keys, checks.experiment_keys)
        ));
    }
    warnings.extend(outage_warnings(result));
    warnings
}

/// "did you mean a, b or c?", names escaped; empty without suggestions.
fn did_you_mean(suggestions: &[String]) -> String {
    let shown: Vec<String> = suggestions.iter().map(|s| shown_name(s).into_owned()).collect();
    match shown.split_last() {
        None => String::new(),
        Some((last, [])) => format!("did you mean {last}?"),
        Some((last, rest)) => format!("did you mean {} or {last}?", rest.join(", ")),
    }
}

/// What is said when no name is close: whether names were kept to compare with.
fn no_suggestion(checks: &FunnelChecks, what: &str) -> String {
    if checks.names_complete {
        format!("no {what} seen is close to it")
    } else {
        format!(
            "no {what} seen in this run's inputs is close to it (state files keep no names: \
             `snowfunnel experiments INPUT...` lists those of the inputs)"
        )
    }
}

/// The warnings of [`FunnelChecks::empty`]: what is empty, and the closest names seen.
fn empty_match_warnings(result: &FunnelResult) -> Vec<String> {
    let (report, checks) = (&result.report, &result.checks);
    let funnel = terminal_text(&report.name);
    let variants_seen =
        |seen: &[String]| seen.iter().map(|v| shown_name(v).into_owned()).collect::<Vec<_>>().join(", ");
    checks
        .empty
        .iter()
        .map(|found| match found {
            EmptyMatch::Experiment { experiment, suggestions } => {
                let hint = if suggestions.is_empty() {
                    no_suggestion(checks, "experiment")
                } else {
                    did_you_mean(suggestions)
                };
                format!("funnel {funnel}: experiment {} has no events in the inputs; {hint}", shown_name(experiment))
            }
            EmptyMatch::Step { step, name, misses } => {
                let why = if misses.is_empty() && !checks.names_complete {
                    "which of its values no event had is not known: state files keep no names \
                     (`snowfunnel experiments INPUT...` lists those of the inputs)"
                        .to_owned()
                } else if misses.is_empty() {
                    format!(
                        "each value it asks for was seen among experiment {}'s events, but not all on one \
                         event within the funnel's start, end and app_ids",
                        terminal_text(&report.experiment)
                    )
                } else {
                    misses
                        .iter()
                        .map(|miss| {
                            let hint = if miss.suggestions.is_empty() {
                                no_suggestion(checks, miss.field.key())
                            } else {
                                did_you_mean(&miss.suggestions)
                            };
                            format!(
                                "no event of experiment {} has {} {} ({hint})",
                                terminal_text(&report.experiment),
                                miss.field.key(),
                                shown_name(&miss.value)
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                        + if checks.names_complete { "" } else { " (among the names of this run's inputs)" }
                };
                format!("funnel {funnel}: step {} ({}) matched no event: {why}", step + 1, terminal_text(name))
            }
            EmptyMatch::Control { variant, suggestions, seen } => {
                let hint = if suggestions.is_empty() { String::new() } else { format!("; {}", did_you_mean(suggestions)) };
                format!(
                    "funnel {funnel}: control variant {} has no step-1 keys, so no variant is compared with \
                     it{hint} (variants seen: {})",
                    shown_name(variant),
                    variants_seen(seen)
                )
            }
            EmptyMatch::WeightedVariant { variant, suggestions, seen } => {
                let hint = if suggestions.is_empty() { String::new() } else { format!("; {}", did_you_mean(suggestions)) };
                format!(
                    "funnel {funnel}: variant {} of the funnel's weights has no step-1 keys{hint} (variants seen: {})",
                    shown_name(variant),
                    variants_seen(seen)
                )
            }
        })
        .collect()
}

/// Most runs of days listed in one outage warning.
const MAX_LISTED_OUTAGES: usize = 10;

/// One warning per variant with outages (and one for days without any step-1 key).
fn outage_warnings(result: &FunnelResult) -> Vec<String> {
    let (report, checks) = (&result.report, &result.checks);
    let day = snowfunnel_parse::format_day;
    let mut warnings = Vec::new();
    for run in checks.outages.chunk_by(|a, b| a.variant == b.variant) {
        let mut days: Vec<String> = run
            .iter()
            .take(MAX_LISTED_OUTAGES)
            .map(|o| {
                if o.first_day == o.last_day {
                    day(o.first_day)
                } else {
                    format!("{}..{}", day(o.first_day), day(o.last_day))
                }
            })
            .collect();
        if run.len() > MAX_LISTED_OUTAGES {
            days.push(format!("and {} more", run.len() - MAX_LISTED_OUTAGES));
        }
        let whom = match &run[0].variant {
            Some(v) => format!("variant {} got no new step-1 keys while the others did", shown_name(v)),
            None => "no variant got any new step-1 key".to_owned(),
        };
        warnings.push(format!(
            "funnel {}: possible outage: {whom}, on {} (at least {OUTAGE_MIN_EXPECTED} expected each day)",
            terminal_text(&report.name),
            days.join(", ")
        ));
    }
    warnings
}

/// What the split counts, in words.
fn split_keys(denominator: Denominator) -> &'static str {
    match denominator {
        Denominator::Step1 => "step-1 keys",
        Denominator::Exposed => "exposed keys",
    }
}

/// One summary line per funnel: the split test and the contamination, for the run summary
/// (names escaped for the terminal).
#[must_use]
pub fn checks_line(result: &FunnelResult) -> String {
    let (report, checks) = (&result.report, &result.checks);
    let split: Vec<String> = checks
        .split
        .iter()
        .map(|v| {
            let share = v.observed_share.map_or_else(String::new, |s| format!(" ({:.1}%)", s * 100.0));
            format!("{} {}{share}", shown_name(&v.variant), grouped(v.keys))
        })
        .collect();
    let srm = checks.srm.as_ref().map_or_else(
        || "SRM test n/a".to_owned(),
        |srm| {
            let verdict = if checks.mismatch().is_some() { ", MISMATCH" } else { "" };
            format!("SRM p = {}{verdict}", p_value(Some(srm.p_value)))
        },
    );
    let split = if split.is_empty() { "none".to_owned() } else { split.join(", ") };
    format!(
        "{}: {} {split}; {srm}; contaminated keys {} ({})",
        terminal_text(&report.name),
        split_keys(checks.denominator),
        grouped(checks.contaminated_keys),
        percent(checks.contaminated_keys, checks.experiment_keys)
    )
}

/// Writes the checks of `result` as `<funnel>.summary.csv`: one row per variant, the SRM test and the
/// contamination repeated on each row so that every row stands alone in a spreadsheet. The
/// experiment, funnel and variant names are text cells written as `cells` says.
///
/// # Errors
/// When writing fails.
pub fn summary_csv(result: &FunnelResult, cells: CsvCells, out: impl Write) -> io::Result<()> {
    let (report, checks) = (&result.report, &result.checks);
    let mut w = csv::Writer::from_writer(out);
    w.write_record(SUMMARY_CSV_HEADER)?;
    let chi_square = checks.srm.as_ref().map(|s| format!("{:.4}", s.statistic)).unwrap_or_default();
    let srm_p = p_value(checks.srm.as_ref().map(|s| s.p_value));
    for v in &checks.split {
        w.write_record([
            &*cells.text(report.experiment.as_str()),
            &*cells.text(report.name.as_str()),
            &*cells.text(v.variant.as_str()),
            &v.keys.to_string(),
            &rate(v.expected_share),
            &rate(v.observed_share),
            &chi_square,
            &srm_p,
            &checks.contaminated_keys.to_string(),
            &rate(Some(checks.contaminated_share())),
        ])?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use snowfunnel_engine::FunnelReport;

    use super::*;
    use crate::testing::{computed_with, counts};

    fn report(variants: &[(&str, u64)]) -> FunnelReport {
        FunnelReport {
            name: "f".into(),
            experiment: "e".into(),
            control: "control".into(),
            step_names: vec!["one".into()],
            variants: variants.iter().map(|(v, k)| counts(v, vec![*k])).collect(),
            cohorts: Vec::new(),
            breakdowns: Vec::new(),
            keys: variants.iter().map(|(_, k)| k).sum(),
            conflicting_keys: 0,
        }
    }

    #[test]
    fn a_healthy_split_has_no_warning() {
        let r = computed_with(report(&[("control", 5050), ("candidate", 4950)]), "", 10_000, 50);
        assert!(check_warnings(&r).is_empty(), "{:?}", check_warnings(&r));
        assert_eq!(
            checks_line(&r),
            "f: step-1 keys control 5,050 (50.5%), candidate 4,950 (49.5%); SRM p = 0.3173; contaminated keys 50 (0.50%)"
        );
        let mut out = Vec::new();
        summary_csv(&r, CsvCells::default(), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "experiment,funnel,variant,keys,expected_share,observed_share,srm_chi_square,srm_p_value,\
             contaminated_keys,contaminated_share\n\
             e,f,control,5050,0.5000,0.5050,1.0000,0.3173,50,0.0050\n\
             e,f,candidate,4950,0.5000,0.4950,1.0000,0.3173,50,0.0050\n"
        );
    }

    #[test]
    fn a_broken_split_contamination_and_unplanned_variants_are_warned_about() {
        // Planned 90/10: [880, 120] is not alarming, [850, 150] is (p = 1.36e-7).
        let weights = "weights = { control = 90, candidate = 10 }";
        let fine = computed_with(report(&[("control", 880), ("candidate", 120)]), weights, 1000, 10);
        assert!(check_warnings(&fine).is_empty());

        let broken = computed_with(
            report(&[("control", 850), ("candidate", 150), ("candidate_b", 7)]),
            weights,
            1007,
            30,
        );
        let warnings = check_warnings(&broken);
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings[0].starts_with(
            "sample ratio mismatch in funnel f: step-1 keys control 850 (90.0% planned), candidate 150 (10.0% planned) (chi-square 27.8, p = 1.36e-7)"
        ), "{}", warnings[0]);
        assert!(
            warnings[1].contains("variant candidate_b has 7 step-1 keys but is not in the funnel's weights")
        );
        assert!(warnings[2].contains("30 of 1,007 keys (2.98%)"), "{}", warnings[2]);
        assert!(checks_line(&broken).contains("; SRM p = 1.36e-7, MISMATCH;"), "{}", checks_line(&broken));
    }

    #[test]
    fn empty_matches_and_outages_are_warned_about_with_their_suggestions() {
        use snowfunnel_engine::StepField;
        use snowfunnel_stats::{EmptyMatch, FieldMiss, Outage};

        let mut r = computed_with(report(&[("control", 50), ("candidate", 50)]), "", 100, 0);
        let seen = vec!["control".to_owned(), "cand\u{1b}".to_owned()];
        r.checks.names_complete = true;
        r.checks.empty = vec![
            EmptyMatch::Experiment {
                experiment: "ex".into(),
                suggestions: vec!["exp".into(), "ex2".into(), "e\u{7}x".into()],
            },
            EmptyMatch::Step {
                step: 1,
                name: "Clicked".into(),
                misses: vec![
                    FieldMiss {
                        field: StepField::Action,
                        value: "clik".into(),
                        suggestions: vec!["click".into()],
                    },
                    FieldMiss { field: StepField::Label, value: "x".into(), suggestions: vec![] },
                ],
            },
            EmptyMatch::Step { step: 2, name: "Both".into(), misses: vec![] },
            EmptyMatch::Control {
                variant: "Control".into(),
                suggestions: vec!["control".into()],
                seen: seen.clone(),
            },
            EmptyMatch::WeightedVariant { variant: "b".into(), suggestions: vec![], seen },
        ];
        r.checks.outages = vec![
            Outage { variant: None, first_day: 20_513, last_day: 20_513 },
            Outage { variant: Some("candidate".into()), first_day: 20_514, last_day: 20_516 },
            Outage { variant: Some("candidate".into()), first_day: 20_520, last_day: 20_520 },
        ];
        let warnings = check_warnings(&r);
        assert_eq!(
            warnings,
            [
                "funnel f: experiment ex has no events in the inputs; did you mean exp, ex2 or e\\u{7}x?",
                "funnel f: step 2 (Clicked) matched no event: no event of experiment e has action clik (did you \
                 mean click?); no event of experiment e has label x (no label seen is close to it)",
                "funnel f: step 3 (Both) matched no event: each value it asks for was seen among experiment e's \
                 events, but not all on one event within the funnel's start, end and app_ids",
                "funnel f: control variant Control has no step-1 keys, so no variant is compared with it; did you \
                 mean control? (variants seen: control, cand\\u{1b})",
                "funnel f: variant b of the funnel's weights has no step-1 keys (variants seen: control, cand\\u{1b})",
                "funnel f: possible outage: no variant got any new step-1 key, on 2026-03-01 (at least 7 expected \
                 each day)",
                "funnel f: possible outage: variant candidate got no new step-1 keys while the others did, on \
                 2026-03-02..2026-03-04, 2026-03-08 (at least 7 expected each day)",
            ]
        );
        // Counts read back from a state file: no names to suggest, and said so.
        r.checks.names_complete = false;
        r.checks.empty = vec![
            EmptyMatch::Experiment { experiment: "ex".into(), suggestions: vec![] },
            EmptyMatch::Step { step: 0, name: "One".into(), misses: vec![] },
        ];
        let warnings = check_warnings(&r);
        assert!(
            warnings[0].ends_with(
                "no experiment seen in this run's inputs is close to it (state files keep no \
            names: `snowfunnel experiments INPUT...` lists those of the inputs)"
            ),
            "{}",
            warnings[0]
        );
        assert!(warnings[1].contains("which of its values no event had is not known"), "{}", warnings[1]);
    }

    #[test]
    fn hostile_names_are_neutralised_in_the_csv_and_escaped_in_warnings() {
        let mut r = report(&[("control", 850), ("@x\u{1b}[2J", 150)]);
        r.name = "-f".into();
        r.experiment = "=1+1\u{7}".into();
        let r = computed_with(r, "", 1000, 30);
        let mut out = Vec::new();
        summary_csv(&r, CsvCells::Neutralised, &mut out).unwrap();
        let csv = String::from_utf8(out).unwrap();
        let rows: Vec<&str> = csv.lines().collect();
        assert!(rows[1].starts_with("'=1+1\u{7},'-f,control,850,"), "{csv}");
        assert!(rows[2].starts_with("'=1+1\u{7},'-f,'@x\u{1b}[2J,150,"), "{csv}");
        let mut raw = Vec::new();
        summary_csv(&r, CsvCells::Raw, &mut raw).unwrap();
        assert!(String::from_utf8(raw).unwrap().contains("\n=1+1\u{7},-f,@x\u{1b}[2J,150,"));

        let warnings = check_warnings(&r);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        let line = checks_line(&r);
        for text in warnings.iter().chain([&line]) {
            assert!(!text.contains(['\u{1b}', '\u{7}']), "{text:?}");
        }
        assert!(warnings[0].contains("funnel -f: step-1 keys control 850 (50.0% planned), @x\\u{1b}[2J 150"));
        assert!(warnings[1].starts_with("experiment =1+1\\u{7}: 30 of 1,000 keys"), "{}", warnings[1]);
        assert!(line.starts_with("-f: step-1 keys control 850 (85.0%), @x\\u{1b}[2J 150 (15.0%)"), "{line}");
    }
}
