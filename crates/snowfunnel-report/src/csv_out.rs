//! The funnel CSV: one row per variant per step, a fixed header that later versions may
//! extend at the end but never reorder.

use std::io::{self, Write};

use snowfunnel_engine::VariantCounts;
use snowfunnel_stats::{FunnelResult, StepStats};

use crate::CsvCells;
use crate::number::{p_value, rate, seconds};

/// The header of the funnel CSV (with cohorts, [`COHORT_COLUMN`] follows).
pub const FUNNEL_CSV_HEADER: [&str; 22] = [
    "experiment",
    "funnel",
    "variant",
    "step",
    "step_name",
    "keys",
    "conversion_from_previous",
    "conversion_from_first",
    "ci_low",
    "ci_high",
    "lift",
    "p_value",
    "p_value_adjusted",
    "significant",
    "median_time_to_step_s",
    "p90_time_to_step_s",
    "lift_ci_low",
    "lift_ci_high",
    "mde_relative",
    "keys_needed",
    "chance_to_win",
    "expected_loss",
];

/// The last column of a funnel CSV split into cohorts: the cohort's first day.
pub const COHORT_COLUMN: &str = "cohort";

/// The step name of the row of exposed keys (step 0) that starts each variant's block under
/// `denominator = "exposed"`.
pub const EXPOSED_STEP_NAME: &str = "Exposed";

/// The last two columns of a funnel CSV with breakdowns (after [`COHORT_COLUMN`] when both):
/// the breakdown field and its value, empty on the rows of the whole funnel and of cohorts.
pub const BREAKDOWN_COLUMNS: [&str; 2] = ["dimension", "value"];

/// Writes `result` as CSV (RFC 4180 quoting) with its statistics: variants in report order
/// (control first), every step including those with 0 keys; rates, intervals, lifts, minimum
/// detectable effects and chances to win with 4 decimals, p-values and expected losses with 4
/// decimals or, below 0.01, 3 significant digits (`1.23e-5`), keys needed as an integer, times
/// in seconds as exact as a double holds them; empty when undefined. When the statistics are
/// over the exposed keys ([`FunnelResult::exposed`]), each variant's rows start with step 0,
/// `Exposed`, its exposed keys. With `cohorts`, one block per cohort of the report (each with
/// its own statistics), and a `cohort` column. The experiment, funnel, variant and step names
/// are text cells written as `cells` says.
///
/// # Errors
/// When writing fails.
pub fn funnel_csv(result: &FunnelResult, cohorts: bool, cells: CsvCells, out: impl Write) -> io::Result<()> {
    funnel_csv_blocks(result, cohorts, false, cells, out)
}

/// [`funnel_csv`], and with `breakdowns` the blocks of the report's breakdowns after those of
/// the whole funnel (or of its cohorts), each with its own statistics, and two last columns
/// [`BREAKDOWN_COLUMNS`]: per field in the report's order, per value in its order; their
/// `cohort` cell is empty (a breakdown block is over every period).
///
/// # Errors
/// When writing fails.
pub fn funnel_csv_blocks(
    result: &FunnelResult,
    cohorts: bool,
    breakdowns: bool,
    cells: CsvCells,
    out: impl Write,
) -> io::Result<()> {
    let report = &result.report;
    let mut w = csv::Writer::from_writer(out);
    let mut header = FUNNEL_CSV_HEADER.to_vec();
    if cohorts {
        header.push(COHORT_COLUMN);
    }
    if breakdowns {
        header.extend(BREAKDOWN_COLUMNS);
    }
    w.write_record(&header)?;
    // (cohort, (dimension, value), its variants, their statistics)
    type Block<'a> = (Option<&'a str>, Option<(&'a str, &'a str)>, &'a [VariantCounts], &'a [Vec<StepStats>]);
    let mut blocks: Vec<Block<'_>> = if cohorts {
        report
            .cohorts
            .iter()
            .zip(&result.cohort_stats)
            .map(|(c, stats)| (Some(c.start.as_str()), None, c.variants.as_slice(), stats.as_slice()))
            .collect()
    } else {
        vec![(None, None, report.variants.as_slice(), result.stats.as_slice())]
    };
    if breakdowns {
        blocks.extend(report.breakdowns.iter().zip(&result.breakdown_stats).map(|(b, stats)| {
            (None, Some((b.dimension.as_str(), b.value.as_str())), b.variants.as_slice(), stats.as_slice())
        }));
    }
    for (cohort, breakdown, variants, stats) in blocks {
        for (v, stats) in variants.iter().zip(stats) {
            let text = |s: &str| cells.text(s).into_owned();
            if let Some(exposed) = result.exposed(v) {
                let mut record = vec![
                    text(&report.experiment),
                    text(&report.name),
                    text(&v.variant),
                    "0".to_owned(),
                    EXPOSED_STEP_NAME.to_owned(),
                    exposed.to_string(),
                ];
                let whole = rate((exposed > 0).then_some(1.0));
                record.extend([whole.clone(), whole]);
                record.resize(FUNNEL_CSV_HEADER.len(), String::new());
                record.extend(cohort.map(str::to_owned));
                w.write_record(&record)?;
            }
            for (step, (name, stats)) in report.step_names.iter().zip(stats).enumerate() {
                let comparison = stats.comparison.as_ref();
                let time = v.time_to_step[step];
                let from_previous = conversion_from_previous(v, step, stats);
                let mut record = vec![
                    text(&report.experiment),
                    text(&report.name),
                    text(&v.variant),
                    (step + 1).to_string(),
                    text(name),
                    v.keys_per_step[step].to_string(),
                    rate(from_previous),
                    rate(stats.conversion_from_first),
                    rate(stats.ci.map(|ci| ci.0)),
                    rate(stats.ci.map(|ci| ci.1)),
                    rate(comparison.and_then(|c| c.lift)),
                    p_value(comparison.map(|c| c.p_value)),
                    p_value(comparison.map(|c| c.p_value_adjusted)),
                    comparison.map_or("", |c| if c.significant { "true" } else { "false" }).to_owned(),
                    seconds(time.map(|t| t.median_s)),
                    seconds(time.map(|t| t.p90_s)),
                    rate(comparison.and_then(|c| c.lift_ci).map(|ci| ci.0)),
                    rate(comparison.and_then(|c| c.lift_ci).map(|ci| ci.1)),
                    rate(comparison.and_then(|c| c.mde_relative)),
                    comparison.and_then(|c| c.keys_needed).map(|n| n.to_string()).unwrap_or_default(),
                    rate(comparison.and_then(|c| c.chance_to_win)),
                    p_value(comparison.and_then(|c| c.expected_loss)),
                ];
                if cohorts {
                    record.push(cohort.unwrap_or_default().to_owned());
                }
                if breakdowns {
                    let (dimension, value) = breakdown.unwrap_or_default();
                    record.extend([text(dimension), text(value)]);
                }
                w.write_record(&record)?;
            }
        }
    }
    w.flush()
}

/// The conversion from the step before, the denominator's at step 1: 1 over step-1 keys, a
/// rate over exposed keys.
pub(crate) fn conversion_from_previous(v: &VariantCounts, step: usize, stats: &StepStats) -> Option<f64> {
    if step == 0 { stats.conversion_from_first } else { v.conversion_from_previous(step) }
}

#[cfg(test)]
mod tests {
    use snowfunnel_engine::{Cohort, FunnelReport, TimeToStep};

    use super::*;
    use crate::testing::{computed, counts};

    #[test]
    fn writes_the_contract() {
        let report = FunnelReport {
            name: "f".into(),
            experiment: "a/b".into(),
            control: "control".into(),
            step_names: vec!["Viewed, then".into(), "Clicked \"go\"".into()],
            variants: vec![
                VariantCounts {
                    variant: "control".into(),
                    exposed: None,
                    keys_per_step: vec![3, 1],
                    time_to_step: vec![None, Some(TimeToStep { median_s: 61.5, p90_s: 3600.001 })],
                },
                counts("candidate", vec![0, 0]),
            ],
            cohorts: Vec::new(),
            breakdowns: Vec::new(),
            keys: 3,
            conflicting_keys: 0,
        };
        let mut out = Vec::new();
        funnel_csv(&computed(report.clone()), false, CsvCells::default(), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "experiment,funnel,variant,step,step_name,keys,conversion_from_previous,conversion_from_first,\
             ci_low,ci_high,lift,p_value,p_value_adjusted,significant,median_time_to_step_s,p90_time_to_step_s,\
             lift_ci_low,lift_ci_high,mde_relative,keys_needed,chance_to_win,expected_loss\n\
             a/b,f,control,1,\"Viewed, then\",3,1.0000,1.0000,,,,,,,,,,,,,,\n\
             a/b,f,control,2,\"Clicked \"\"go\"\"\",1,0.3333,0.3333,0.0615,0.7923,,,,,61.5,3600.001,,,,,,\n\
             a/b,f,candidate,1,\"Viewed, then\",0,,,,,,,,,,,,,,,,\n\
             a/b,f,candidate,2,\"Clicked \"\"go\"\"\",0,,,,,,,,,,,,,,,,\n"
        );
        // Split into cohorts: one block per cohort, the cohort last.
        let cohorts = FunnelReport {
            cohorts: vec![
                Cohort {
                    start: "2026-03-01".into(),
                    cumulative: false,
                    variants: vec![counts("control", vec![2, 1]), counts("candidate", vec![0, 0])],
                },
                Cohort {
                    start: "2026-03-02".into(),
                    cumulative: false,
                    variants: vec![counts("control", vec![1, 0]), counts("candidate", vec![0, 0])],
                },
            ],
            ..report
        };
        let mut out = Vec::new();
        funnel_csv(&computed(cohorts), true, CsvCells::default(), &mut out).unwrap();
        let csv = String::from_utf8(out).unwrap();
        let rows: Vec<&str> = csv.lines().collect();
        assert!(rows[0].ends_with(
            ",lift_ci_low,lift_ci_high,mde_relative,keys_needed,chance_to_win,expected_loss,cohort"
        ));
        assert_eq!(rows.len(), 9);
        assert_eq!(
            rows[2],
            "a/b,f,control,2,\"Clicked \"\"go\"\"\",1,0.5000,0.5000,0.0945,0.9055,,,,,,,,,,,,,2026-03-01"
        );
        assert_eq!(rows[5], "a/b,f,control,1,\"Viewed, then\",1,1.0000,1.0000,,,,,,,,,,,,,,,2026-03-02");
    }

    #[test]
    fn compares_candidates_with_the_control() {
        // Pooled two-proportion z-tests (as statsmodels' proportions_ztest): 145/1000 against
        // 120/1000 gives p = 0.09918, 300/1000 against 120/1000 gives p = 4.995e-23; Holm over
        // the two: 0.09918 and 9.990e-23.
        let report = FunnelReport {
            name: "f".into(),
            experiment: "e".into(),
            control: "control".into(),
            step_names: vec!["one".into(), "two".into()],
            variants: vec![
                counts("control", vec![1000, 120]),
                counts("candidate", vec![1000, 145]),
                counts("other", vec![1000, 300]),
            ],
            cohorts: Vec::new(),
            breakdowns: Vec::new(),
            keys: 3000,
            conflicting_keys: 0,
        };
        let mut out = Vec::new();
        funnel_csv(&computed(report), false, CsvCells::default(), &mut out).unwrap();
        let csv = String::from_utf8(out).unwrap();
        let rows: Vec<&str> = csv.lines().collect();
        assert!(rows[2].ends_with(",0.1200,0.1200,0.1013,0.1416,,,,,,,,,,,,"), "{}", rows[2]);
        assert!(rows[4].starts_with("e,f,candidate,2,two,145,0.1450,0.1450,"), "{}", rows[4]);
        // The lift interval: statsmodels' confint_proportions_2indep(method="log",
        // compare="ratio") gives [0.9645, 1.5139] for the ratio.
        // Then the power of the test (statsmodels: an MDE of 0.3641 for 1,000 keys each, 2,885.8
        // keys per variant for the observed lift) and the Bayesian summary (mpmath: chance to
        // win 0.950197, expected loss 3.1584e-4); see the tests of snowfunnel-stats.
        assert!(
            rows[4].ends_with(",0.2083,0.0992,0.0992,false,,,-0.0355,0.5139,0.3641,2886,0.9502,3.16e-4"),
            "{}",
            rows[4]
        );
        assert!(rows[6].contains(",1.5000,4.99e-23,9.99e-23,true,,,1.0618,2.0313,0.3641,"), "{}", rows[6]);
        assert!(rows[6].ends_with(",1.0000,0.0000"), "{}", rows[6]);
    }

    #[test]
    fn names_are_neutralised_numbers_never() {
        // Names from the data and the funnel file that a spreadsheet would run; the candidate
        // converts worse than the control, so its lift is negative.
        let report = FunnelReport {
            name: "+f".into(),
            experiment: "=cmd|' /C calc'!A0".into(),
            control: "control".into(),
            step_names: vec!["@SUM(1)".into(), "\tstep".into()],
            variants: vec![counts("control", vec![100, 50]), counts("-2", vec![100, 40])],
            cohorts: Vec::new(),
            breakdowns: Vec::new(),
            keys: 200,
            conflicting_keys: 0,
        };
        let result = computed(report);
        let write = |cells| {
            let mut out = Vec::new();
            funnel_csv(&result, false, cells, &mut out).unwrap();
            csv::Reader::from_reader(out.as_slice())
                .records()
                .map(|r| r.unwrap().iter().map(str::to_owned).collect::<Vec<_>>())
                .collect::<Vec<_>>()
        };
        let rows = write(CsvCells::Neutralised);
        assert_eq!(rows[0][..5], ["'=cmd|' /C calc'!A0", "'+f", "control", "1", "'@SUM(1)"]);
        assert_eq!(rows[3][..5], ["'=cmd|' /C calc'!A0", "'+f", "'-2", "2", "'\tstep"]);
        assert_eq!(rows[3][10], "-0.2000", "a negative lift stays a number");
        let raw = write(CsvCells::Raw);
        assert_eq!(raw[3][..5], ["=cmd|' /C calc'!A0", "+f", "-2", "2", "\tstep"]);
        assert_eq!(raw[3][5..], rows[3][5..]);
    }
}
