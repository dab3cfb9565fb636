//! The data checks of a funnel, which say whether its table can be trusted: sample ratio
//! mismatch (did the variants get the planned split?) and contamination (keys seen with more
//! than one variant), written to `<funnel>.summary.csv` and raised as warnings.

use std::io::{self, Write};

use snowfunnel_engine::{ExperimentSummary, Funnel, FunnelReport};
use snowfunnel_stats::{SrmResult, StatsError, sample_ratio_mismatch};

use crate::number::{grouped, p_value, percent, rate, shown_name};
use crate::{CsvCells, terminal_text};

/// Below this SRM p-value the split is called broken (the usual threshold of experiment
/// platforms: at 0.05 a healthy experiment would trip it every twentieth time).
pub const SRM_ALERT: f64 = 0.001;
/// Above this share of conflicting keys an experiment is called contaminated.
pub const CONTAMINATION_ALERT: f64 = 0.01;

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

/// One variant in the split.
#[derive(Clone, Debug, PartialEq)]
pub struct VariantSplit {
    /// Variant name.
    pub variant: String,
    /// Its step-1 keys.
    pub keys: u64,
    /// Its planned share; `None` for a variant the weights do not name.
    pub expected_share: Option<f64>,
    /// Its share of the step-1 keys of the planned variants; `None` when it is not planned or
    /// there are none.
    pub observed_share: Option<f64>,
}

/// The checks of one funnel.
#[derive(Clone, Debug, PartialEq)]
pub struct FunnelChecks {
    /// The planned variants (control first, then by name), then any other variant seen.
    pub split: Vec<VariantSplit>,
    /// The chi-square test of the planned variants' step-1 keys against the planned split;
    /// `None` with fewer than two planned variants or no keys.
    pub srm: Option<SrmResult>,
    /// Keys of the experiment seen with more than one variant.
    pub contaminated_keys: u64,
    /// All keys of the experiment.
    pub experiment_keys: u64,
}

/// Checks `report` against its definition `funnel` and its experiment's summary.
///
/// The split is tested on step-1 keys (conflicting keys excluded): with `weights` in the
/// funnel file, over the variants they name (a variant seen but not named is listed, and
/// warned about); without, an equal split over the variants seen.
///
/// # Errors
/// [`StatsError`] only for weights the definition parser would have refused.
pub fn funnel_checks(
    report: &FunnelReport,
    funnel: &Funnel,
    experiment: &ExperimentSummary,
) -> Result<FunnelChecks, StatsError> {
    let step1 = |variant: &str| {
        report.variants.iter().find(|v| v.variant == variant).map_or(0, |v| v.keys_per_step[0])
    };
    let planned: Vec<(String, f64)> = match &funnel.weights {
        Some(weights) => {
            let mut planned = weights.clone();
            planned.sort_by(|(a, _), (b, _)| (*a != funnel.control, a).cmp(&(*b != funnel.control, b)));
            planned
        }
        None => report.variants.iter().map(|v| (v.variant.clone(), 1.0)).collect(),
    };
    let observed: Vec<u64> = planned.iter().map(|(v, _)| step1(v)).collect();
    let weights: Vec<f64> = planned.iter().map(|(_, w)| *w).collect();
    let srm = sample_ratio_mismatch(&observed, Some(&weights))?;
    let total: u64 = observed.iter().sum();
    let weight_sum: f64 = weights.iter().sum();
    #[allow(clippy::cast_precision_loss)]
    let mut split: Vec<VariantSplit> = planned
        .iter()
        .zip(&observed)
        .map(|((variant, weight), &keys)| VariantSplit {
            variant: variant.clone(),
            keys,
            expected_share: Some(weight / weight_sum),
            observed_share: (total > 0).then(|| keys as f64 / total as f64),
        })
        .collect();
    for v in &report.variants {
        if !planned.iter().any(|(p, _)| *p == v.variant) {
            let keys = v.keys_per_step[0];
            split.push(VariantSplit {
                variant: v.variant.clone(),
                keys,
                expected_share: None,
                observed_share: None,
            });
        }
    }
    Ok(FunnelChecks {
        split,
        srm,
        contaminated_keys: experiment.conflicting_keys,
        experiment_keys: experiment.keys,
    })
}

impl FunnelChecks {
    /// Share of the experiment's keys that are contaminated (0 without keys).
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn contaminated_share(&self) -> f64 {
        if self.experiment_keys == 0 {
            0.0
        } else {
            self.contaminated_keys as f64 / self.experiment_keys as f64
        }
    }

    /// The problems found, one readable line each (empty when all is well), names escaped for
    /// the terminal.
    #[must_use]
    pub fn warnings(&self, report: &FunnelReport) -> Vec<String> {
        let mut warnings = Vec::new();
        if let Some(srm) = self.srm.as_ref().filter(|srm| srm.p_value < SRM_ALERT) {
            let planned: Vec<String> = self
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
                "sample ratio mismatch in funnel {}: step-1 keys {} (chi-square {:.1}, p = {}); \
                 the assignment or the tracking is likely broken, so the comparisons are not trustworthy",
                terminal_text(&report.name),
                planned.join(", "),
                srm.statistic,
                p_value(Some(srm.p_value)),
            ));
        }
        for v in self.split.iter().filter(|v| v.expected_share.is_none() && v.keys > 0) {
            warnings.push(format!(
                "funnel {}: variant {} has {} step-1 keys but is not in the funnel's weights",
                terminal_text(&report.name),
                shown_name(&v.variant),
                grouped(v.keys)
            ));
        }
        if self.contaminated_share() > CONTAMINATION_ALERT {
            warnings.push(format!(
                "experiment {}: {} of {} keys ({}) were seen with more than one variant (left out of every count)",
                terminal_text(&report.experiment),
                grouped(self.contaminated_keys),
                grouped(self.experiment_keys),
                percent(self.contaminated_keys, self.experiment_keys)
            ));
        }
        warnings
    }
}

/// One summary line per funnel: the split test and the contamination, for the run summary
/// (names escaped for the terminal).
#[must_use]
pub fn checks_line(report: &FunnelReport, checks: &FunnelChecks) -> String {
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
            let verdict = if srm.p_value < SRM_ALERT { ", MISMATCH" } else { "" };
            format!("SRM p = {}{verdict}", p_value(Some(srm.p_value)))
        },
    );
    format!(
        "{}: step-1 keys {}; {srm}; contaminated keys {} ({})",
        terminal_text(&report.name),
        split.join(", "),
        grouped(checks.contaminated_keys),
        percent(checks.contaminated_keys, checks.experiment_keys)
    )
}

/// Writes the checks as `<funnel>.summary.csv`: one row per variant, the SRM test and the
/// contamination repeated on each row so that every row stands alone in a spreadsheet. The
/// experiment, funnel and variant names are text cells written as `cells` says.
///
/// # Errors
/// When writing fails.
pub fn summary_csv(
    report: &FunnelReport,
    checks: &FunnelChecks,
    cells: CsvCells,
    out: impl Write,
) -> io::Result<()> {
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
    use snowfunnel_engine::{VariantCounts, parse_funnel};

    use super::*;

    fn report(variants: &[(&str, u64)]) -> FunnelReport {
        FunnelReport {
            name: "f".into(),
            experiment: "e".into(),
            control: "control".into(),
            step_names: vec!["one".into()],
            variants: variants
                .iter()
                .map(|(v, k)| VariantCounts {
                    variant: (*v).into(),
                    keys_per_step: vec![*k],
                    time_to_step: vec![None],
                })
                .collect(),
            cohorts: Vec::new(),
            keys: variants.iter().map(|(_, k)| k).sum(),
            conflicting_keys: 0,
        }
    }

    fn funnel(weights: &str) -> Funnel {
        let text = format!("experiment = \"e\"\n{weights}\n[[steps]]\nname = \"one\"\naction = \"a\"\n");
        parse_funnel("f.toml", "f", &text).unwrap()
    }

    fn experiment(keys: u64, conflicting: u64) -> ExperimentSummary {
        ExperimentSummary {
            experiment: "e".into(),
            contexts: keys,
            keys,
            conflicting_keys: conflicting,
            variants: Vec::new(),
        }
    }

    #[test]
    fn a_healthy_split_has_no_warning() {
        let r = report(&[("control", 5050), ("candidate", 4950)]);
        let checks = funnel_checks(&r, &funnel(""), &experiment(10_000, 50)).unwrap();
        // scipy.stats.chisquare([5050, 4950]) -> statistic 1.0, p = 0.31731
        let srm = checks.srm.as_ref().unwrap();
        assert!((srm.statistic - 1.0).abs() < 1e-12 && (srm.p_value - 0.317_310_507_862_914).abs() < 1e-9);
        assert!(checks.warnings(&r).is_empty(), "{:?}", checks.warnings(&r));
        assert_eq!(
            checks_line(&r, &checks),
            "f: step-1 keys control 5,050 (50.5%), candidate 4,950 (49.5%); SRM p = 0.3173; contaminated keys 50 (0.50%)"
        );
        let mut out = Vec::new();
        summary_csv(&r, &checks, CsvCells::default(), &mut out).unwrap();
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
        // Planned 90/10; scipy.stats.chisquare([880, 120], f_exp=[900, 100]) -> 4.444, p = 0.0350:
        // not alarming. [850, 150] -> 27.78, p = 1.36e-7: alarming.
        let f = funnel("weights = { control = 90, candidate = 10 }");
        let fine = report(&[("control", 880), ("candidate", 120)]);
        assert!(funnel_checks(&fine, &f, &experiment(1000, 10)).unwrap().warnings(&fine).is_empty());

        let broken = report(&[("control", 850), ("candidate", 150), ("candidate_b", 7)]);
        let checks = funnel_checks(&broken, &f, &experiment(1007, 30)).unwrap();
        let srm = checks.srm.as_ref().unwrap();
        assert!((srm.statistic - 27.777_777_777_777_78).abs() < 1e-9, "{srm:?}");
        assert!(srm.p_value < 2e-7 && srm.p_value > 1e-7, "{srm:?}");
        let warnings = checks.warnings(&broken);
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings[0].starts_with(
            "sample ratio mismatch in funnel f: step-1 keys control 850 (90.0% planned), candidate 150 (10.0% planned) (chi-square 27.8, p = 1.36e-7)"
        ), "{}", warnings[0]);
        assert!(
            warnings[1].contains("variant candidate_b has 7 step-1 keys but is not in the funnel's weights")
        );
        assert!(warnings[2].contains("30 of 1,007 keys (2.98%)"), "{}", warnings[2]);
        assert_eq!(
            checks.split[2],
            VariantSplit {
                variant: "candidate_b".into(),
                keys: 7,
                expected_share: None,
                observed_share: None
            }
        );
        // A planned variant never seen counts 0 keys.
        let missing = report(&[("control", 100)]);
        let checks = funnel_checks(&missing, &f, &experiment(100, 0)).unwrap();
        assert_eq!(checks.split[1].keys, 0);
        assert!(checks.srm.unwrap().p_value < SRM_ALERT);
    }

    #[test]
    fn hostile_names_are_neutralised_in_the_csv_and_escaped_in_warnings() {
        let mut r = report(&[("control", 850), ("@x\u{1b}[2J", 150)]);
        r.name = "-f".into();
        r.experiment = "=1+1\u{7}".into();
        let checks = funnel_checks(&r, &funnel(""), &experiment(1000, 30)).unwrap();
        let mut out = Vec::new();
        summary_csv(&r, &checks, CsvCells::Neutralised, &mut out).unwrap();
        let csv = String::from_utf8(out).unwrap();
        let rows: Vec<&str> = csv.lines().collect();
        assert!(rows[1].starts_with("'=1+1\u{7},'-f,control,850,"), "{csv}");
        assert!(rows[2].starts_with("'=1+1\u{7},'-f,'@x\u{1b}[2J,150,"), "{csv}");
        let mut raw = Vec::new();
        summary_csv(&r, &checks, CsvCells::Raw, &mut raw).unwrap();
        assert!(String::from_utf8(raw).unwrap().contains("\n=1+1\u{7},-f,@x\u{1b}[2J,150,"));

        let warnings = checks.warnings(&r);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        let line = checks_line(&r, &checks);
        for text in warnings.iter().chain([&line]) {
            assert!(!text.contains(['\u{1b}', '\u{7}']), "{text:?}");
        }
        assert!(warnings[0].contains("funnel -f: step-1 keys control 850 (50.0% planned), @x\\u{1b}[2J 150"));
        assert!(warnings[1].starts_with("experiment =1+1\\u{7}: 30 of 1,000 keys"), "{}", warnings[1]);
        assert!(line.starts_with("-f: step-1 keys control 850 (85.0%), @x\\u{1b}[2J 150 (15.0%)"), "{line}");
    }
}
