//! The funnel CSV: one row per variant per step, a fixed header that later versions may
//! extend at the end but never reorder.

use std::io::{self, Write};

use snowfunnel_engine::FunnelReport;
use snowfunnel_stats::StepStats;

use crate::number::{p_value, rate};

/// The header of the funnel CSV.
pub const FUNNEL_CSV_HEADER: [&str; 14] = [
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
];

/// Writes `report` and its statistics (from [`crate::funnel_stats`]) as CSV (RFC 4180
/// quoting): variants in report order (control first), every step including those with 0 keys,
/// rates, intervals and lifts with 4 decimals, p-values with 4 decimals or, below 0.01, 3
/// significant digits (`1.23e-5`); empty when undefined.
///
/// # Errors
/// When writing fails.
pub fn funnel_csv(report: &FunnelReport, stats: &[Vec<StepStats>], out: impl Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(FUNNEL_CSV_HEADER)?;
    for (v, stats) in report.variants.iter().zip(stats) {
        for (step, (name, stats)) in report.step_names.iter().zip(stats).enumerate() {
            let comparison = stats.comparison.as_ref();
            w.write_record([
                report.experiment.as_str(),
                report.name.as_str(),
                v.variant.as_str(),
                &(step + 1).to_string(),
                name,
                &v.keys_per_step[step].to_string(),
                &rate(v.conversion_from_previous(step)),
                &rate(v.conversion_from_first(step)),
                &rate(stats.ci.map(|ci| ci.0)),
                &rate(stats.ci.map(|ci| ci.1)),
                &rate(comparison.and_then(|c| c.lift)),
                &p_value(comparison.map(|c| c.p_value)),
                &p_value(comparison.map(|c| c.p_value_adjusted)),
                comparison.map_or("", |c| if c.significant { "true" } else { "false" }),
            ])?;
        }
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use snowfunnel_engine::VariantCounts;
    use snowfunnel_stats::CompareOptions;

    use super::*;
    use crate::funnel_stats;

    #[test]
    fn writes_the_contract() {
        let report = FunnelReport {
            name: "f".into(),
            experiment: "a/b".into(),
            control: "control".into(),
            step_names: vec!["Viewed, then".into(), "Clicked \"go\"".into()],
            variants: vec![
                VariantCounts { variant: "control".into(), keys_per_step: vec![3, 1] },
                VariantCounts { variant: "candidate".into(), keys_per_step: vec![0, 0] },
            ],
            keys: 3,
            conflicting_keys: 0,
        };
        let stats = funnel_stats(&report, CompareOptions::default()).unwrap();
        let mut out = Vec::new();
        funnel_csv(&report, &stats, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "experiment,funnel,variant,step,step_name,keys,conversion_from_previous,conversion_from_first,\
             ci_low,ci_high,lift,p_value,p_value_adjusted,significant\n\
             a/b,f,control,1,\"Viewed, then\",3,1.0000,1.0000,,,,,,\n\
             a/b,f,control,2,\"Clicked \"\"go\"\"\",1,0.3333,0.3333,0.0615,0.7923,,,,\n\
             a/b,f,candidate,1,\"Viewed, then\",0,,,,,,,,\n\
             a/b,f,candidate,2,\"Clicked \"\"go\"\"\",0,,,,,,,,\n"
        );
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
                VariantCounts { variant: "control".into(), keys_per_step: vec![1000, 120] },
                VariantCounts { variant: "candidate".into(), keys_per_step: vec![1000, 145] },
                VariantCounts { variant: "other".into(), keys_per_step: vec![1000, 300] },
            ],
            keys: 3000,
            conflicting_keys: 0,
        };
        let stats = funnel_stats(&report, CompareOptions::default()).unwrap();
        let mut out = Vec::new();
        funnel_csv(&report, &stats, &mut out).unwrap();
        let csv = String::from_utf8(out).unwrap();
        let rows: Vec<&str> = csv.lines().collect();
        assert!(rows[2].ends_with(",0.1200,0.1200,0.1013,0.1416,,,,"), "{}", rows[2]);
        assert!(rows[4].starts_with("e,f,candidate,2,two,145,0.1450,0.1450,"), "{}", rows[4]);
        assert!(rows[4].ends_with(",0.2083,0.0992,0.0992,false"), "{}", rows[4]);
        assert!(rows[6].ends_with(",1.5000,4.99e-23,9.99e-23,true"), "{}", rows[6]);
    }
}
