//! Every statistic of one funnel at once, so that the report only prints: intervals per
//! variant and step, tests of each candidate against the control, and the Holm adjustment over
//! the whole funnel (which needs all p-values before any can be printed).

use snowfunnel_engine::Inference;

use crate::bayes::{chance_to_win, expected_loss};
use crate::error::StatsError;
use crate::holm::holm_bonferroni;
use crate::interval::{lift_interval, wilson_interval};
use crate::power::{keys_needed, minimum_detectable_effect};
use crate::proportions::{Method, two_proportion_test};
use crate::sequential::{ConfidenceSequence, sequential_lift_test};

/// Settings of [`compare_funnel`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CompareOptions {
    /// Significance level: a comparison is significant when its adjusted p-value is below it.
    /// Default 0.05.
    pub alpha: f64,
    /// Confidence level of the Wilson intervals and of the lift intervals. Default 0.95.
    pub confidence: f64,
    /// The planned relative effect that [`Comparison::keys_needed`] is computed for (the
    /// funnel's `mde`); `None` (the default): each comparison's observed lift.
    pub mde: Option<f64>,
    /// How the comparisons are tested. [`Inference::Fixed`] (the default): the z-test or
    /// Fisher's exact test, and the lift interval. [`Inference::Sequential`]: the always-valid
    /// p-value and the confidence sequence of [`sequential_lift_test`], whose boundary is tuned
    /// for `alpha` ([`ConfidenceSequence::new`]).
    pub inference: Inference,
}

impl Default for CompareOptions {
    fn default() -> Self {
        Self { alpha: 0.05, confidence: 0.95, mde: None, inference: Inference::Fixed }
    }
}

/// The statistics of one variant at one step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepStats {
    /// Keys at this step over the denominator: keys at step 1, or the exposed keys (see
    /// [`funnel_stats`](crate::funnel_stats)); `None` when the denominator is 0.
    pub conversion_from_first: Option<f64>,
    /// Wilson interval `(low, high)` of `conversion_from_first`. `None` at step 1, where the
    /// conversion is 1 by definition rather than an estimate, and when the variant has no key
    /// at step 1.
    pub ci: Option<(f64, f64)>,
    /// This variant against the control. `None` at step 1, for the control itself, when there is
    /// no control, and when the variant or the control has no key at step 1.
    pub comparison: Option<Comparison>,
}

/// One variant against the control at one step, on `conversion_from_first`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Comparison {
    /// `variant conversion / control conversion - 1`; `None` when the control's conversion is 0.
    pub lift: Option<f64>,
    /// The interval of `lift` at [`CompareOptions::confidence`] ([`lift_interval`]), or under
    /// [`Inference::Sequential`] its confidence sequence ([`sequential_lift_test`]); `None`
    /// when the variant's or the control's conversion is 0.
    pub lift_ci: Option<(f64, f64)>,
    /// Two-sided p-value of [`two_proportion_test`](crate::two_proportion_test), or under
    /// [`Inference::Sequential`] the always-valid p-value of [`sequential_lift_test`].
    pub p_value: f64,
    /// The test that gave `p_value`.
    pub method: Method,
    /// Holm-Bonferroni adjusted p-value over every comparison of the funnel (every non-control
    /// variant at steps 2 to n).
    pub p_value_adjusted: f64,
    /// `p_value_adjusted < alpha`.
    pub significant: bool,
    /// The relative minimum detectable effect: the smallest relative increase of the control's
    /// conversion that the pooled z-test (two-sided, unadjusted, at
    /// [`CompareOptions::alpha`]) detects with 80% power, for the keys of the two variants as
    /// they are ([`minimum_detectable_effect`](crate::minimum_detectable_effect)). `None` when
    /// the control's conversion is 0 or 1, or when no increase could be detected.
    pub mde_relative: Option<f64>,
    /// Keys per variant, both variants the same size, for the same test to detect with 80%
    /// power the planned effect ([`CompareOptions::mde`]) or, without one, the observed `lift`,
    /// on the control's conversion ([`keys_needed`](crate::keys_needed)). `None` when that
    /// effect is 0 or undefined, or takes the conversion outside [0, 1].
    pub keys_needed: Option<u64>,
    /// The chance that the variant's conversion is above the control's, under independent
    /// Beta(1, 1) priors ([`chance_to_win`](crate::chance_to_win)).
    pub chance_to_win: Option<f64>,
    /// The conversion lost by shipping the variant, `E[max(control - variant, 0)]` in absolute
    /// conversion (0.001 is 0.1 points) over the same posteriors
    /// ([`expected_loss`](crate::expected_loss)).
    pub expected_loss: Option<f64>,
}

/// The statistics of a funnel: `keys_per_step[v][n]` is the number of keys of variant `v` at
/// step `n` (from 0), `control` the index of the control variant if it is among them.
///
/// Returns one row of [`StepStats`] per variant and step, indexed the same way. Every step is
/// measured against the variant's step-1 keys. The Holm-Bonferroni family is every comparison
/// that could be computed: each non-control variant at each step after the first.
///
/// # Errors
///
/// [`StatsError::StepCountMismatch`] when the variants do not all have the same number of
/// steps, [`StatsError::KeysAboveFirstStep`] when a step has more keys than step 1,
/// [`StatsError::ControlOutOfRange`], [`StatsError::LevelOutOfRange`] for an `alpha` or
/// `confidence` outside (0, 1), and [`StatsError::TuningOutOfRange`] for a sequential tuning
/// that is not a positive number.
pub fn compare_funnel<V: AsRef<[u64]>>(
    keys_per_step: &[V],
    control: Option<usize>,
    options: CompareOptions,
) -> Result<Vec<Vec<StepStats>>, StatsError> {
    validate(keys_per_step, control, options)?;
    let test = match options.inference {
        Inference::Fixed => Test::Fixed,
        Inference::Sequential { tuning } => Test::Sequential(
            ConfidenceSequence::new(tuning, options.alpha)
                .ok_or(StatsError::TuningOutOfRange { value: tuning })?,
        ),
    };
    let control_keys = control.map(|c| keys_per_step[c].as_ref());

    let mut rows: Vec<Vec<StepStats>> = Vec::with_capacity(keys_per_step.len());
    // (variant, step) of each comparison, in the order of their p-values.
    let mut family: Vec<(usize, usize)> = Vec::new();
    let mut p_values: Vec<f64> = Vec::new();
    for (variant, keys) in keys_per_step.iter().enumerate() {
        let keys = keys.as_ref();
        let row = keys
            .iter()
            .enumerate()
            .map(|(step, &k)| {
                let first = keys[0];
                let comparison = match control_keys {
                    Some(control_keys) if step > 0 && Some(variant) != control => {
                        compare(k, first, control_keys[step], control_keys[0], options, test)
                    }
                    _ => None,
                };
                if let Some(c) = &comparison {
                    family.push((variant, step));
                    p_values.push(c.p_value);
                }
                StepStats {
                    conversion_from_first: ratio(k, first),
                    ci: if step == 0 { None } else { wilson_interval(k, first, options.confidence) },
                    comparison,
                }
            })
            .collect();
        rows.push(row);
    }

    for ((variant, step), adjusted) in family.into_iter().zip(holm_bonferroni(&p_values)) {
        if let Some(c) = &mut rows[variant][step].comparison {
            c.p_value_adjusted = adjusted;
            c.significant = adjusted < options.alpha;
        }
    }
    Ok(rows)
}

/// The test of a comparison, from [`CompareOptions::inference`].
#[derive(Clone, Copy)]
enum Test {
    Fixed,
    Sequential(ConfidenceSequence),
}

/// The comparison before adjustment (adjusted p-value set to the raw one for now).
fn compare(
    keys: u64,
    first: u64,
    control: u64,
    control_first: u64,
    options: CompareOptions,
    test: Test,
) -> Option<Comparison> {
    let (p_value, method, lift_ci) = match test {
        Test::Fixed => {
            let result = two_proportion_test(keys, first, control, control_first)?;
            let interval = lift_interval(keys, first, control, control_first, options.confidence);
            (result.p_value, result.method, interval)
        }
        Test::Sequential(sequence) => {
            let result =
                sequential_lift_test(keys, first, control, control_first, sequence, options.confidence)?;
            (result.p_value, Method::ConfidenceSequence, result.lift_cs)
        }
    };
    let lift = lift(keys, first, control, control_first);
    let baseline = ratio(control, control_first)?;
    Some(Comparison {
        lift,
        lift_ci,
        p_value,
        method,
        p_value_adjusted: p_value,
        significant: false,
        mde_relative: minimum_detectable_effect(baseline, control_first, first, options.alpha),
        keys_needed: options.mde.or(lift).and_then(|effect| keys_needed(baseline, effect, options.alpha)),
        chance_to_win: chance_to_win(keys, first, control, control_first),
        expected_loss: expected_loss(keys, first, control, control_first),
    })
}

/// `(x / n) / (xc / nc) - 1`, computed as `(x nc - xc n) / (xc n)` from exact integer products
/// so that a small lift between large counts keeps its digits.
#[allow(clippy::cast_precision_loss)]
fn lift(x: u64, n: u64, control_x: u64, control_n: u64) -> Option<f64> {
    if n == 0 || control_x == 0 || control_n == 0 {
        return None;
    }
    let variant = u128::from(x) * u128::from(control_n);
    let baseline = u128::from(control_x) * u128::from(n);
    let difference =
        if variant >= baseline { (variant - baseline) as f64 } else { -((baseline - variant) as f64) };
    Some(difference / baseline as f64)
}

#[allow(clippy::cast_precision_loss)] // counts far below 2^53
fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

fn validate<V: AsRef<[u64]>>(
    keys_per_step: &[V],
    control: Option<usize>,
    options: CompareOptions,
) -> Result<(), StatsError> {
    for (name, value) in [("alpha", options.alpha), ("confidence", options.confidence)] {
        if !(value > 0.0 && value < 1.0) {
            return Err(StatsError::LevelOutOfRange { name, value });
        }
    }
    if let Inference::Sequential { tuning } = options.inference
        && !(tuning.is_finite() && tuning > 0.0)
    {
        return Err(StatsError::TuningOutOfRange { value: tuning });
    }
    if let Some(control) = control
        && control >= keys_per_step.len()
    {
        return Err(StatsError::ControlOutOfRange { control, variants: keys_per_step.len() });
    }
    let expected = keys_per_step.first().map_or(0, |keys| keys.as_ref().len());
    for (variant, keys) in keys_per_step.iter().enumerate() {
        let keys = keys.as_ref();
        if keys.len() != expected {
            return Err(StatsError::StepCountMismatch { variant, expected, found: keys.len() });
        }
        if let Some((step, &k)) = keys.iter().enumerate().find(|&(_, &k)| k > keys[0]) {
            return Err(StatsError::KeysAboveFirstStep { variant, step: step + 1, keys: k, first: keys[0] });
        }
    }
    Ok(())
}
