//! The data checks of a funnel, which say whether its comparisons can be trusted: sample ratio
//! mismatch (did the variants get the planned split?), contamination (keys seen with more
//! than one variant), empty matches (what the funnel asked for and the data did not have) and
//! outages (days a variant got no new step-1 key).

use snowfunnel_engine::{Denominator, ExperimentSummary, Funnel, FunnelReport, FunnelSeen, VariantCounts};

use crate::empty::{EmptyMatch, Outage, empty_matches, outages};
use crate::error::StatsError;
use crate::srm::{SrmResult, sample_ratio_mismatch};

/// Below this p-value of a sample ratio mismatch test the split is called broken (the usual
/// threshold of experiment platforms: at 0.05 a healthy experiment would trip it every
/// twentieth time).
pub const SRM_ALERT: f64 = 0.001;
/// Above this share of conflicting keys an experiment is called contaminated.
pub const CONTAMINATION_ALERT: f64 = 0.01;

/// One variant's part in the split of a funnel's step-1 keys: planned and observed.
#[derive(Clone, Debug, PartialEq)]
pub struct SplitShare {
    /// Variant name.
    pub variant: String,
    /// Its keys in the funnel's denominator: step-1 keys, or exposed keys under
    /// [`Denominator::Exposed`].
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
    pub split: Vec<SplitShare>,
    /// The keys the split counts: step-1 keys, or exposed keys.
    pub denominator: Denominator,
    /// The chi-square test of the planned variants' keys (step-1 or exposed) against the planned split;
    /// `None` with fewer than two planned variants or no keys.
    pub srm: Option<SrmResult>,
    /// Keys of the experiment seen with more than one variant.
    pub contaminated_keys: u64,
    /// All keys of the experiment.
    pub experiment_keys: u64,
    /// What the funnel asked for that the data did not have, with the closest names seen.
    pub empty: Vec<EmptyMatch>,
    /// Whether the names suggested were drawn from everything counted: false when the counts
    /// include a state read back from a file (state files keep no names), so that suggestions
    /// come from the inputs of this run only, if any.
    pub names_complete: bool,
    /// Days on which a variant, or the whole funnel, got no new step-1 key where many were
    /// expected.
    pub outages: Vec<Outage>,
}

/// A check that `--fail-on` can turn into a failed run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Any [`EmptyMatch`].
    Empty,
    /// A sample ratio mismatch ([`FunnelChecks::mismatch`]).
    Srm,
    /// Contamination above [`CONTAMINATION_ALERT`].
    Contamination,
    /// Any [`Outage`].
    Outage,
}

impl Check {
    /// Every check, in the order `--fail-on` documents them.
    pub const ALL: [Check; 4] = [Check::Empty, Check::Srm, Check::Contamination, Check::Outage];

    /// Its name in `--fail-on` and in the JSON reports.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Check::Empty => "empty",
            Check::Srm => "srm",
            Check::Contamination => "contamination",
            Check::Outage => "outage",
        }
    }
}

/// Checks `report` against its definition `funnel`, its experiment's summary and what the run
/// saw of it (`seen`: the names for the suggestions of [`empty_matches`], the keys per step and
/// per day for [`outages`]).
///
/// The split is tested on the keys of the funnel's denominator, step-1 or exposed keys
/// (conflicting keys excluded): with `weights` in the
/// funnel file, over the variants they name (a variant seen but not named is listed last,
/// without shares); without, an equal split over the variants seen.
///
/// # Errors
/// [`StatsError`] only for weights the definition parser would have refused.
pub fn funnel_checks(
    report: &FunnelReport,
    funnel: &Funnel,
    experiment: &ExperimentSummary,
    seen: &FunnelSeen,
) -> Result<FunnelChecks, StatsError> {
    let counted = |v: &VariantCounts| match funnel.denominator {
        Denominator::Exposed => v.exposed.unwrap_or(v.keys_per_step[0]),
        Denominator::Step1 => v.keys_per_step[0],
    };
    let step1 = |variant: &str| report.variants.iter().find(|v| v.variant == variant).map_or(0, counted);
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
    let mut split: Vec<SplitShare> = planned
        .iter()
        .zip(&observed)
        .map(|((variant, weight), &keys)| SplitShare {
            variant: variant.clone(),
            keys,
            expected_share: Some(weight / weight_sum),
            observed_share: (total > 0).then(|| keys as f64 / total as f64),
        })
        .collect();
    for v in &report.variants {
        if !planned.iter().any(|(p, _)| *p == v.variant) {
            let keys = counted(v);
            split.push(SplitShare {
                variant: v.variant.clone(),
                keys,
                expected_share: None,
                observed_share: None,
            });
        }
    }
    Ok(FunnelChecks {
        split,
        denominator: funnel.denominator,
        srm,
        contaminated_keys: experiment.conflicting_keys,
        experiment_keys: experiment.keys,
        empty: empty_matches(report, funnel, experiment, seen),
        names_complete: seen.names_complete,
        outages: outages(report, seen),
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

    /// The split test when it raises the alarm (p-value below [`SRM_ALERT`]).
    #[must_use]
    pub fn mismatch(&self) -> Option<&SrmResult> {
        self.srm.as_ref().filter(|srm| srm.p_value < SRM_ALERT)
    }

    /// Whether the contaminated share is above [`CONTAMINATION_ALERT`].
    #[must_use]
    pub fn contaminated(&self) -> bool {
        self.contaminated_share() > CONTAMINATION_ALERT
    }

    /// Whether `check` found a problem.
    #[must_use]
    pub fn fires(&self, check: Check) -> bool {
        match check {
            Check::Empty => !self.empty.is_empty(),
            Check::Srm => self.mismatch().is_some(),
            Check::Contamination => self.contaminated(),
            Check::Outage => !self.outages.is_empty(),
        }
    }

    /// The variants seen with step-1 keys that the funnel's weights do not name.
    pub fn unplanned(&self) -> impl Iterator<Item = &SplitShare> {
        self.split.iter().filter(|v| v.expected_share.is_none() && v.keys > 0)
    }
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
                    exposed: None,
                    keys_per_step: vec![*k],
                    time_to_step: vec![None],
                })
                .collect(),
            cohorts: Vec::new(),
            breakdowns: Vec::new(),
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
    fn a_healthy_split_raises_no_alarm() {
        let r = report(&[("control", 5050), ("candidate", 4950)]);
        let checks = funnel_checks(&r, &funnel(""), &experiment(10_000, 50), &FunnelSeen::default()).unwrap();
        // scipy.stats.chisquare([5050, 4950]) -> statistic 1.0, p = 0.31731
        let srm = checks.srm.as_ref().unwrap();
        assert!((srm.statistic - 1.0).abs() < 1e-12 && (srm.p_value - 0.317_310_507_862_914).abs() < 1e-9);
        assert_eq!(checks.mismatch(), None);
        assert!(!checks.contaminated() && checks.unplanned().next().is_none());
        assert!((checks.contaminated_share() - 0.005).abs() < 1e-15);
    }

    #[test]
    fn a_broken_split_contamination_and_unplanned_variants_are_found() {
        // Planned 90/10; scipy.stats.chisquare([880, 120], f_exp=[900, 100]) -> 4.444, p = 0.0350:
        // not alarming. [850, 150] -> 27.78, p = 1.36e-7: alarming.
        let f = funnel("weights = { control = 90, candidate = 10 }");
        let none = FunnelSeen::default();
        let fine =
            funnel_checks(&report(&[("control", 880), ("candidate", 120)]), &f, &experiment(1000, 10), &none)
                .unwrap();
        assert!(fine.mismatch().is_none() && !fine.contaminated() && fine.unplanned().next().is_none());

        let broken = report(&[("control", 850), ("candidate", 150), ("candidate_b", 7)]);
        let checks = funnel_checks(&broken, &f, &experiment(1007, 30), &none).unwrap();
        let srm = checks.srm.as_ref().unwrap();
        assert!((srm.statistic - 27.777_777_777_777_78).abs() < 1e-9, "{srm:?}");
        assert!(srm.p_value < 2e-7 && srm.p_value > 1e-7, "{srm:?}");
        assert_eq!(checks.mismatch(), Some(srm));
        assert!(checks.contaminated());
        assert_eq!(
            checks.split[2],
            SplitShare { variant: "candidate_b".into(), keys: 7, expected_share: None, observed_share: None }
        );
        assert_eq!(checks.unplanned().collect::<Vec<_>>(), [&checks.split[2]]);
        // A planned variant never seen counts 0 keys.
        let missing = report(&[("control", 100)]);
        let checks = funnel_checks(&missing, &f, &experiment(100, 0), &none).unwrap();
        assert_eq!(checks.split[1].keys, 0);
        assert!(checks.srm.unwrap().p_value < SRM_ALERT);
    }
}
