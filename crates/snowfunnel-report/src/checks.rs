//! The data checks of a funnel, which say whether its table can be trusted: sample ratio
//! mismatch (did the variants get the planned split?) and contamination (keys seen with more
//! than one variant), written to `<funnel>.summary.csv` and raised as warnings. The checks are
//! computed in `snowfunnel-stats` ([`FunnelResult::checks`]); this module only writes them.

use std::io::{self, Write};

use snowfunnel_stats::FunnelResult;

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

/// The problems the checks of `result` found, one readable line each (empty when all is well),
/// names escaped for the terminal.
#[must_use]
pub fn check_warnings(result: &FunnelResult) -> Vec<String> {
    let (report, checks) = (&result.report, &result.checks);
    let mut warnings = Vec::new();
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
            "sample ratio mismatch in funnel {}: step-1 keys {} (chi-square {:.1}, p = {}); \
             the assignment or the tracking is likely broken, so the comparisons are not trustworthy",
            terminal_text(&report.name),
            planned.join(", "),
            srm.statistic,
            p_value(Some(srm.p_value)),
        ));
    }
    for v in checks.unplanned() {
        warnings.push(format!(
            "funnel {}: variant {} has {} step-1 keys but is not in the funnel's weights",
            terminal_text(&report.name),
            shown_name(&v.variant),
            grouped(v.keys)
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
    warnings
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
    format!(
        "{}: step-1 keys {}; {srm}; contaminated keys {} ({})",
        terminal_text(&report.name),
        split.join(", "),
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
