//! The funnel CSV: one row per variant per step, a fixed header that later versions may
//! extend at the end but never reorder.

use std::io::{self, Write};

use snowfunnel_engine::FunnelReport;

/// The header of the funnel CSV.
pub const FUNNEL_CSV_HEADER: [&str; 8] = [
    "experiment",
    "funnel",
    "variant",
    "step",
    "step_name",
    "keys",
    "conversion_from_previous",
    "conversion_from_first",
];

/// Writes `report` as CSV (RFC 4180 quoting): variants in report order (control first), every
/// step including those with 0 keys, rates with 4 decimals, empty when undefined.
///
/// # Errors
/// When writing fails.
pub fn funnel_csv(report: &FunnelReport, out: impl Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(FUNNEL_CSV_HEADER)?;
    for v in &report.variants {
        for (step, name) in report.step_names.iter().enumerate() {
            w.write_record([
                report.experiment.as_str(),
                report.name.as_str(),
                v.variant.as_str(),
                &(step + 1).to_string(),
                name,
                &v.keys_per_step[step].to_string(),
                &rate(v.conversion_from_previous(step)),
                &rate(v.conversion_from_first(step)),
            ])?;
        }
    }
    w.flush()
}

fn rate(r: Option<f64>) -> String {
    r.map(|r| format!("{r:.4}")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use snowfunnel_engine::VariantCounts;

    use super::*;

    #[test]
    fn writes_the_contract() {
        let report = FunnelReport {
            name: "f".into(),
            experiment: "a/b".into(),
            step_names: vec!["Viewed, then".into(), "Clicked \"go\"".into()],
            variants: vec![
                VariantCounts { variant: "control".into(), keys_per_step: vec![3, 1] },
                VariantCounts { variant: "candidate".into(), keys_per_step: vec![0, 0] },
            ],
            keys: 3,
            conflicting_keys: 0,
        };
        let mut out = Vec::new();
        funnel_csv(&report, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "experiment,funnel,variant,step,step_name,keys,conversion_from_previous,conversion_from_first\n\
             a/b,f,control,1,\"Viewed, then\",3,1.0000,1.0000\n\
             a/b,f,control,2,\"Clicked \"\"go\"\"\",1,0.3333,0.3333\n\
             a/b,f,candidate,1,\"Viewed, then\",0,,\n\
             a/b,f,candidate,2,\"Clicked \"\"go\"\"\",0,,\n"
        );
    }
}
