//! A funnel's result, computed once: its counts, times, cohorts and breakdowns from the
//! engine, the statistics of every variant at every step (of the whole funnel, of each cohort
//! and of each breakdown block), and its
//! data checks. Every output (CSV, terminal table, summary) formats this one value, so no two
//! of them can disagree on a number.

use snowfunnel_engine::{
    DayKeys, Denominator, ExperimentSummary, Funnel, FunnelReport, FunnelSeen, VariantCounts,
};

use crate::checks::{FunnelChecks, funnel_checks};
use crate::error::StatsError;
use crate::funnel::{CompareOptions, StepStats, compare_funnel};

/// Everything reported about one funnel.
#[derive(Clone, Debug, PartialEq)]
pub struct FunnelResult {
    /// The engine's counts, times to each step and cohorts.
    pub report: FunnelReport,
    /// Per variant of `report.variants` (same order) and step: its interval and its comparison
    /// with the control.
    pub stats: Vec<Vec<StepStats>>,
    /// Per cohort of `report.cohorts` (same order): the statistics of its variants, as
    /// [`FunnelResult::stats`]; each cohort is a funnel of its own (its own Holm family).
    pub cohort_stats: Vec<Vec<Vec<StepStats>>>,
    /// Per breakdown block of `report.breakdowns` (same order): the statistics of its
    /// variants, as [`FunnelResult::stats`]; each block is a funnel of its own (its own Holm
    /// family), as a cohort is.
    pub breakdown_stats: Vec<Vec<Vec<StepStats>>>,
    /// Sample ratio mismatch, contamination, empty matches and outages.
    pub checks: FunnelChecks,
    /// Per UTC day of a first step-1 event (in order; days without one left out), each
    /// variant's keys whose first step-1 event fell on it, in the order of `report.variants`:
    /// what the outage check reads. Empty when the run's [`FunnelSeen`] was not given.
    pub daily: Vec<DayKeys>,
    /// The significance level, the confidence of the intervals, the inference and the planned
    /// effect (the funnel's) the statistics were computed with, for the headings that name them.
    pub options: CompareOptions,
    /// The funnel's denominator. Under [`Denominator::Exposed`] the statistics of the whole
    /// funnel are over each variant's exposed keys ([`VariantCounts::exposed`]); a cohort's,
    /// whose exposed keys are unknown, stay over its step-1 keys (see
    /// [`FunnelResult::exposed`]).
    pub denominator: Denominator,
}

impl FunnelResult {
    /// Computes the statistics and checks of `report`, the result of the funnel `funnel` on
    /// the experiment summed up by `experiment`, knowing nothing else of the run: no names to
    /// suggest, no step or outage check ([`FunnelResult::compute_seen`] has them).
    ///
    /// # Errors
    /// As [`FunnelResult::compute_seen`].
    pub fn compute(
        report: FunnelReport,
        funnel: &Funnel,
        experiment: &ExperimentSummary,
        options: CompareOptions,
    ) -> Result<Self, StatsError> {
        Self::compute_seen(report, funnel, experiment, &FunnelSeen::default(), options)
    }

    /// Computes the statistics and checks of `report`, the result of the funnel `funnel` on
    /// the experiment summed up by `experiment`, where the run saw `seen` of it (the engine's
    /// [`State::seen`](snowfunnel_engine::State::seen)). The comparisons use the funnel's
    /// [`Funnel::inference`], whatever `options.inference` says.
    ///
    /// # Errors
    /// [`StatsError`] for an `alpha` or confidence outside (0, 1) in `options`, or weights or a
    /// sequential tuning the definition parser would have refused; the engine's counts never
    /// give the others.
    pub fn compute_seen(
        report: FunnelReport,
        funnel: &Funnel,
        experiment: &ExperimentSummary,
        seen: &FunnelSeen,
        options: CompareOptions,
    ) -> Result<Self, StatsError> {
        let options = CompareOptions { mde: funnel.mde, inference: funnel.inference, ..options };
        let denominator = funnel.denominator;
        let stats = funnel_stats(&report.variants, &report.control, denominator, options)?;
        let cohort_stats = report
            .cohorts
            .iter()
            .map(|cohort| funnel_stats(&cohort.variants, &report.control, denominator, options))
            .collect::<Result<_, _>>()?;
        let breakdown_stats = report
            .breakdowns
            .iter()
            .map(|block| funnel_stats(&block.variants, &report.control, denominator, options))
            .collect::<Result<_, _>>()?;
        let checks = funnel_checks(&report, funnel, experiment, seen)?;
        Ok(FunnelResult {
            report,
            stats,
            cohort_stats,
            breakdown_stats,
            checks,
            daily: seen.days.clone(),
            options,
            denominator,
        })
    }

    /// The exposed keys of `variant` (of the whole funnel or of a cohort) when they are its
    /// statistics' denominator: under [`Denominator::Exposed`], and known (not in a cohort).
    #[must_use]
    pub fn exposed(&self, variant: &VariantCounts) -> Option<u64> {
        variant.exposed.filter(|_| self.denominator == Denominator::Exposed)
    }
}

/// Per variant (in the order given) and step: the interval of its conversion and its comparison
/// with the `control` variant (see [`compare_funnel`]), over its step-1 keys or, under
/// [`Denominator::Exposed`] and when every variant's exposed keys are known, over those: then
/// step 1 is measured and compared too, and the Holm family includes it.
///
/// # Errors
/// [`StatsError`] for an `alpha` or confidence outside (0, 1); the engine's counts never give
/// the others.
pub fn funnel_stats(
    variants: &[VariantCounts],
    control: &str,
    denominator: Denominator,
    options: CompareOptions,
) -> Result<Vec<Vec<StepStats>>, StatsError> {
    let control = variants.iter().position(|v| v.variant == control);
    let exposed: Option<Vec<u64>> = match denominator {
        Denominator::Exposed => variants.iter().map(|v| v.exposed).collect(),
        Denominator::Step1 => None,
    };
    match exposed {
        Some(exposed) => {
            // The exposed keys as a step before step 1, then that step left out.
            let counts: Vec<Vec<u64>> = variants
                .iter()
                .zip(exposed)
                .map(|(v, exposed)| std::iter::once(exposed).chain(v.keys_per_step.iter().copied()).collect())
                .collect();
            let rows = compare_funnel(&counts, control, options)?;
            Ok(rows.into_iter().map(|row| row.into_iter().skip(1).collect()).collect())
        }
        None => {
            let counts: Vec<&[u64]> = variants.iter().map(|v| v.keys_per_step.as_slice()).collect();
            compare_funnel(&counts, control, options)
        }
    }
}

#[cfg(test)]
mod tests {
    use snowfunnel_engine::{Cohort, parse_funnel};

    use super::*;

    fn counts(variant: &str, keys_per_step: Vec<u64>) -> VariantCounts {
        let time_to_step = vec![None; keys_per_step.len()];
        VariantCounts { variant: variant.into(), exposed: None, keys_per_step, time_to_step }
    }

    #[test]
    fn computes_the_funnel_each_cohort_and_the_checks() {
        let report = FunnelReport {
            name: "f".into(),
            experiment: "e".into(),
            control: "control".into(),
            step_names: vec!["one".into(), "two".into()],
            variants: vec![counts("control", vec![1000, 120]), counts("candidate", vec![1000, 145])],
            cohorts: vec![
                Cohort {
                    start: "2026-03-01".into(),
                    cumulative: false,
                    variants: vec![counts("control", vec![600, 60]), counts("candidate", vec![400, 100])],
                },
                Cohort {
                    start: "2026-03-02".into(),
                    cumulative: false,
                    variants: vec![counts("control", vec![400, 60]), counts("candidate", vec![600, 45])],
                },
            ],
            breakdowns: Vec::new(),
            keys: 2000,
            conflicting_keys: 0,
        };
        let text = "experiment = \"e\"\n[[steps]]\nname = \"one\"\naction = \"a\"\n\
                    [[steps]]\nname = \"two\"\naction = \"b\"\n";
        let funnel = parse_funnel("f.toml", "f", text).unwrap();
        let experiment = ExperimentSummary {
            experiment: "e".into(),
            contexts: 2000,
            keys: 2000,
            conflicting_keys: 0,
            variants: vec![],
        };
        let options = CompareOptions::default();
        let result = FunnelResult::compute(report.clone(), &funnel, &experiment, options).unwrap();

        // Pooled z-test of 145/1000 against 120/1000 (statsmodels' proportions_ztest): p = 0.09918.
        let whole = result.stats[1][1].comparison.unwrap();
        assert!((whole.p_value - 0.099_18).abs() < 1e-5, "{whole:?}");
        // Each cohort has its own: 100/400 against 60/600 is far apart, 45/600 against 60/400 the
        // other way round.
        assert_eq!(result.cohort_stats.len(), 2);
        let first = result.cohort_stats[0][1][1].comparison.unwrap();
        let second = result.cohort_stats[1][1][1].comparison.unwrap();
        assert!(first.lift.unwrap() > 1.0 && first.significant, "{first:?}");
        assert!(second.lift.unwrap() < -0.4 && second.significant, "{second:?}");
        assert_eq!(result.checks.split.iter().map(|s| s.keys).collect::<Vec<_>>(), [1000, 1000]);
        assert_eq!(result.report, report);

        let error = FunnelResult::compute(
            report.clone(),
            &funnel,
            &experiment,
            CompareOptions { alpha: 1.5, ..options },
        );
        assert_eq!(error, Err(StatsError::LevelOutOfRange { name: "alpha", value: 1.5 }));

        // The funnel's inference decides, for the whole funnel and each cohort.
        let sequential = parse_funnel("f.toml", "f", &format!("inference = \"sequential\"\n{text}")).unwrap();
        let result = FunnelResult::compute(report, &sequential, &experiment, options).unwrap();
        assert_eq!(result.options.inference, sequential.inference);
        let whole_sequential = result.stats[1][1].comparison.unwrap();
        assert_eq!(whole_sequential.method, crate::Method::ConfidenceSequence);
        assert!(whole_sequential.p_value > whole.p_value, "{whole_sequential:?}");
        let cohort = result.cohort_stats[0][1][1].comparison.unwrap();
        assert_eq!(cohort.method, crate::Method::ConfidenceSequence);
        assert!(cohort.p_value > first.p_value, "{cohort:?}");
    }

    #[test]
    fn exposed_keys_are_the_denominator_where_they_are_known() {
        let mut report = FunnelReport {
            name: "f".into(),
            experiment: "e".into(),
            control: "control".into(),
            step_names: vec!["one".into(), "two".into()],
            variants: vec![counts("control", vec![500, 100]), counts("candidate", vec![800, 100])],
            cohorts: vec![Cohort {
                start: "2026-03-01".into(),
                variants: vec![counts("control", vec![500, 100]), counts("candidate", vec![800, 100])],
                cumulative: false,
            }],
            breakdowns: Vec::new(),
            keys: 2000,
            conflicting_keys: 0,
        };
        report.variants[0].exposed = Some(1000);
        report.variants[1].exposed = Some(1000);
        let text = "experiment = \"e\"\ndenominator = \"exposed\"\nmde = 0.1\n[[steps]]\nname = \"one\"\n\
                    action = \"a\"\n[[steps]]\nname = \"two\"\naction = \"b\"\n";
        let funnel = parse_funnel("f.toml", "f", text).unwrap();
        let experiment = ExperimentSummary {
            experiment: "e".into(),
            contexts: 2000,
            keys: 2000,
            conflicting_keys: 0,
            variants: vec![],
        };
        let result = FunnelResult::compute(report, &funnel, &experiment, CompareOptions::default()).unwrap();
        assert_eq!(result.options.mde, Some(0.1));
        // Over 1,000 exposed keys each: step 1 is compared (+60%), step 2 is equal (10% each).
        let step1 = result.stats[1][0].comparison.unwrap();
        assert!((step1.lift.unwrap() - 0.6).abs() < 1e-12 && step1.significant, "{step1:?}");
        let step2 = result.stats[1][1].comparison.unwrap();
        assert_eq!(step2.lift, Some(0.0));
        assert_eq!(result.stats[1][1].conversion_from_first, Some(0.1));
        // The split is tested on the exposed keys: 1,000 each, no mismatch.
        assert_eq!(result.checks.split.iter().map(|s| s.keys).collect::<Vec<_>>(), [1000, 1000]);
        assert!(result.checks.mismatch().is_none());
        assert_eq!(result.exposed(&result.report.variants[0]), Some(1000));
        // A cohort has no exposed keys: its statistics stay over step-1 keys.
        let cohort = &result.cohort_stats[0];
        assert!(cohort[1][0].comparison.is_none());
        assert_eq!(cohort[1][1].comparison.unwrap().lift, Some(-0.375));
        assert_eq!(result.exposed(&result.report.cohorts[0].variants[0]), None);
    }
}
