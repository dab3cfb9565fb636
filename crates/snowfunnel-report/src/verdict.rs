//! Verdicts: each comparison of a candidate variant with the control, in words a PM can act
//! on, with the lift's interval and the adjusted p-value.

use snowfunnel_engine::VariantCounts;
use snowfunnel_stats::{CompareOptions, FunnelResult, Inference};

use crate::number::grouped;

/// Which way a comparison came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Significantly better than the control (adjusted p below alpha, positive lift).
    Better,
    /// Significantly worse than the control.
    Worse,
    /// Not significant: the data do not tell the variants apart at this level.
    Inconclusive,
}

/// One candidate variant against the control at one step (2 to n).
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The candidate variant.
    pub variant: String,
    /// The control variant.
    pub control: String,
    /// The step, from 1.
    pub step: usize,
    /// Its name.
    pub step_name: String,
    /// Relative change of the conversion from step 1; `None` when the control converted no key.
    pub lift: Option<f64>,
    /// The interval of `lift` at the result's confidence.
    pub lift_ci: Option<(f64, f64)>,
    /// Holm-adjusted p-value.
    pub p_value_adjusted: f64,
    /// Which way it came out.
    pub tone: Tone,
    /// When not significant: the keys per variant still needed to detect `effect` with 80%
    /// power (the comparison's [`keys_needed`](snowfunnel_stats::Comparison::keys_needed) over
    /// the smaller variant's keys); `None` when significant, when no more are needed, or when
    /// unknown, and under sequential inference (the sample size is the fixed-horizon test's).
    pub more_keys: Option<u64>,
    /// The relative effect `more_keys` is for: the funnel's planned `mde`, or the observed lift.
    pub effect: Option<f64>,
}

impl Verdict {
    /// The verdict as one line: `candidate, step 4 (Pipeline succeeded): +10.8% [-12.1%,
    /// +38.0%] vs control, not significant (adj. p 1.00)`. Names are as they are: escape them
    /// for where the line goes.
    #[must_use]
    pub fn text(&self) -> String {
        let change = match (self.lift, self.lift_ci) {
            (Some(lift), Some((low, high))) => {
                format!(
                    "{} [{}, {}] vs {}",
                    signed_pct(lift),
                    signed_pct(low),
                    signed_pct(high),
                    self.control
                )
            }
            (Some(lift), None) => {
                format!("{} vs {} (no interval: no key converted)", signed_pct(lift), self.control)
            }
            (None, _) => format!("no lift vs {}: the control converted no key", self.control),
        };
        let outcome = match self.tone {
            Tone::Better => "significantly better",
            Tone::Worse => "significantly worse",
            Tone::Inconclusive => "not significant",
        };
        let power = match (self.more_keys, self.effect) {
            (Some(more), Some(effect)) => format!(
                "; needs about {} more keys per variant to detect {}",
                about(more),
                signed_pct(effect)
            ),
            _ => String::new(),
        };
        format!(
            "{}, step {} ({}): {change}, {outcome} (adj. p {}){power}",
            shown(&self.variant),
            self.step,
            self.step_name,
            short_p(self.p_value_adjusted)
        )
    }
}

/// A number of keys for a sentence: rounded up to 3 significant digits and grouped (`12,400`).
fn about(keys: u64) -> String {
    let mut unit = 1;
    while keys / unit >= 1000 {
        unit *= 10;
    }
    grouped(keys.div_ceil(unit).saturating_mul(unit))
}

/// Every verdict of `result`: per candidate variant (in report order), per step from 2.
#[must_use]
pub fn verdicts(result: &FunnelResult) -> Vec<Verdict> {
    let report = &result.report;
    let denominator = |v: &VariantCounts| result.exposed(v).unwrap_or(v.keys_per_step[0]);
    let control_keys = report.variants.iter().find(|v| v.variant == report.control).map(denominator);
    let mut out = Vec::new();
    for (variant, stats) in report.variants.iter().zip(&result.stats) {
        let keys = denominator(variant).min(control_keys.unwrap_or(0));
        for (step, (name, stats)) in report.step_names.iter().zip(stats).enumerate() {
            let Some(c) = &stats.comparison else { continue };
            // A fixed-horizon sample size: under sequential inference it would understate the
            // keys needed, so the verdict leaves it out (the CSV keeps the planning figure).
            let more_keys = c
                .keys_needed
                .filter(|_| !c.significant && result.options.inference == Inference::Fixed)
                .and_then(|needed| needed.checked_sub(keys))
                .filter(|&more| more > 0);
            let tone = match c.lift {
                _ if !c.significant => Tone::Inconclusive,
                Some(lift) if lift < 0.0 => Tone::Worse,
                // Significant with a lift of 0 cannot happen; without a lift (the control at 0),
                // the candidate converted more.
                _ => Tone::Better,
            };
            out.push(Verdict {
                variant: variant.variant.clone(),
                control: report.control.clone(),
                step: step + 1,
                step_name: name.clone(),
                lift: c.lift,
                lift_ci: c.lift_ci,
                p_value_adjusted: c.p_value_adjusted,
                tone,
                more_keys,
                effect: result.options.mde.or(c.lift),
            });
        }
    }
    out
}

/// Why `result` has no verdict, as a sentence (`No comparison: ...`); `None` when it has one.
/// Names are as they are: escape them for where the sentence goes.
#[must_use]
pub fn no_verdict(result: &FunnelResult) -> Option<String> {
    if !verdicts(result).is_empty() {
        return None;
    }
    let report = &result.report;
    let has_keys = |name: &str| report.variants.iter().any(|v| v.variant == name && v.keys_per_step[0] > 0);
    let reason = if report.variants.iter().all(|v| v.keys_per_step[0] == 0) {
        "no key did step 1".to_owned()
    } else if !has_keys(&report.control) {
        format!("the control variant {} has no step-1 key", shown(&report.control))
    } else if report.step_names.len() < 2 {
        "the funnel has one step, and comparisons start at step 2".to_owned()
    } else {
        format!("the control {} is the only variant with step-1 keys", shown(&report.control))
    };
    Some(format!("No comparison: {reason}."))
}

/// The heading of the verdicts: the interval's level, what "significant" means, and under
/// sequential inference that both are always valid (a confidence sequence, always-valid
/// p-values), so that nobody reads the numbers as those of the other inference.
#[must_use]
pub fn verdicts_heading(options: CompareOptions) -> String {
    match options.inference {
        Inference::Fixed => format!(
            "Verdicts (lift [{} interval] vs control; significant: Holm-adjusted p < {})",
            level_pct(options.confidence),
            options.alpha
        ),
        Inference::Sequential { .. } => format!(
            "Verdicts, sequential: valid on any day (lift [{} always-valid confidence sequence] vs \
             control; significant: Holm-adjusted always-valid p < {})",
            level_pct(options.confidence),
            options.alpha
        ),
    }
}

/// A confidence level as a percentage, as short as it reads: `95%`, `90%`, `99.9%`.
#[must_use]
pub fn level_pct(confidence: f64) -> String {
    let pct = format!("{:.4}", confidence * 100.0);
    format!("{}%", pct.trim_end_matches('0').trim_end_matches('.'))
}

/// `+10.8%`, `-3.0%`.
pub(crate) fn signed_pct(r: f64) -> String {
    format!("{:+.1}%", r * 100.0)
}

/// A p-value for a sentence: 2 decimals, 3 below 0.01, `< 0.001` below that.
fn short_p(p: f64) -> String {
    if p >= 0.01 {
        format!("{p:.2}")
    } else if p >= 0.001 {
        format!("{p:.3}")
    } else {
        "< 0.001".to_owned()
    }
}

fn shown(name: &str) -> &str {
    if name.is_empty() { "(empty)" } else { name }
}

#[cfg(test)]
mod tests {
    use snowfunnel_engine::{FunnelReport, VariantCounts};

    use super::*;
    use crate::testing::{computed, counts};

    fn result() -> FunnelResult {
        computed(FunnelReport {
            name: "f".into(),
            experiment: "e".into(),
            control: "control".into(),
            step_names: vec!["Viewed".into(), "Pipeline succeeded".into()],
            variants: vec![
                counts("control", vec![1000, 120]),
                counts("candidate", vec![1000, 145]),
                counts("better", vec![1000, 300]),
                counts("worse", vec![1000, 20]),
            ],
            cohorts: Vec::new(),
            breakdowns: Vec::new(),
            keys: 4000,
            conflicting_keys: 0,
        })
    }

    #[test]
    fn one_line_per_comparison_in_words() {
        let v = verdicts(&result());
        assert_eq!(v.len(), 3);
        // 145/1000 against 120/1000: lift 0.2083, Katz interval [-0.0355, 0.5139] (statsmodels),
        // Holm-adjusted p 0.0992 (the CSV test's figure).
        assert_eq!(
            v[0].text(),
            "candidate, step 2 (Pipeline succeeded): +20.8% [-3.6%, +51.4%] vs control, not significant (adj. p 0.10); \
             needs about 1,890 more keys per variant to detect +20.8%"
        );
        // 2,886 keys per variant detect +20.8% (statsmodels: 2,885.8), 1,000 are there.
        assert_eq!(v[0].more_keys, Some(1_886));
        assert_eq!(v[0].tone, Tone::Inconclusive);
        assert_eq!(v[1].tone, Tone::Better);
        assert!(v[1].text().ends_with("significantly better (adj. p < 0.001)"), "{}", v[1].text());
        assert_eq!(v[2].tone, Tone::Worse);
        assert!(v[2].text().starts_with("worse, step 2 (Pipeline succeeded): -83.3% ["), "{}", v[2].text());
    }

    #[test]
    fn keys_are_rounded_up_to_three_digits() {
        assert_eq!(about(87), "87");
        assert_eq!(about(999), "999");
        assert_eq!(about(1_886), "1,890");
        assert_eq!(about(12_301), "12,400");
        assert_eq!(about(12_300), "12,300");
        // Rounding up past the largest count saturates rather than overflowing.
        assert_eq!(about(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn the_heading_names_the_inference() {
        let fixed = CompareOptions::default();
        assert_eq!(
            verdicts_heading(fixed),
            "Verdicts (lift [95% interval] vs control; significant: Holm-adjusted p < 0.05)"
        );
        let sequential = CompareOptions { inference: Inference::Sequential { tuning: 5000.0 }, ..fixed };
        assert_eq!(
            verdicts_heading(sequential),
            "Verdicts, sequential: valid on any day (lift [95% always-valid confidence sequence] vs \
             control; significant: Holm-adjusted always-valid p < 0.05)"
        );
    }

    #[test]
    fn levels_read_as_people_write_them() {
        assert_eq!(level_pct(0.95), "95%");
        assert_eq!(level_pct(0.9), "90%");
        assert_eq!(level_pct(0.999), "99.9%");
        let options = CompareOptions { alpha: 0.1, confidence: 0.9, ..CompareOptions::default() };
        assert_eq!(
            verdicts_heading(options),
            "Verdicts (lift [90% interval] vs control; significant: Holm-adjusted p < 0.1)"
        );
    }

    #[test]
    fn a_funnel_without_verdicts_says_why() {
        let with = |control: &str, steps: usize, variants: Vec<VariantCounts>| {
            computed(FunnelReport {
                name: "f".into(),
                experiment: "e".into(),
                control: control.into(),
                step_names: (1..=steps).map(|s| format!("s{s}")).collect(),
                variants,
                cohorts: Vec::new(),
                breakdowns: Vec::new(),
                keys: 0,
                conflicting_keys: 0,
            })
        };
        assert_eq!(no_verdict(&result()), None);
        assert_eq!(no_verdict(&with("control", 2, vec![])).unwrap(), "No comparison: no key did step 1.");
        let both = || vec![counts("candidate", vec![10, 5]), counts("control", vec![12, 4])];
        assert_eq!(
            no_verdict(&with("Control", 2, both())).unwrap(),
            "No comparison: the control variant Control has no step-1 key."
        );
        assert_eq!(
            no_verdict(&with("control", 1, vec![counts("candidate", vec![10]), counts("control", vec![12])]))
                .unwrap(),
            "No comparison: the funnel has one step, and comparisons start at step 2."
        );
        assert_eq!(
            no_verdict(&with("control", 2, vec![counts("control", vec![12, 4])])).unwrap(),
            "No comparison: the control control is the only variant with step-1 keys."
        );
    }
}
