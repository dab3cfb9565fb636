//! Funnel set algebra: from the state's bitmaps to per-variant counts per step.
//!
//! count(variant v, step n) = |keys of v, minus conflicting keys, ∩ S1 ∩ … ∩ Sn|, where a key
//! is conflicting when it was seen with more than one variant among the funnel's events.

use std::borrow::Cow;

use roaring::RoaringBitmap;

use crate::plan::Plan;
use crate::state::{Counters, State, VariantSets};
use crate::unify::Unifier;

/// One funnel's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunnelReport {
    /// Funnel name.
    pub name: String,
    /// Experiment name.
    pub experiment: String,
    /// The baseline variant's name (first in `variants` when it was seen).
    pub control: String,
    /// Step names, in order.
    pub step_names: Vec<String>,
    /// One entry per variant seen: the control first, then by name.
    pub variants: Vec<VariantCounts>,
    /// Distinct keys among the funnel's events (conflicting ones included).
    pub keys: u64,
    /// Keys seen with more than one variant among the funnel's events; excluded from counts.
    pub conflicting_keys: u64,
}

/// The funnel of one variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariantCounts {
    /// Variant name.
    pub variant: String,
    /// Keys that did steps 1..=n, for each step n.
    pub keys_per_step: Vec<u64>,
}

impl VariantCounts {
    /// `keys(n) / keys(n-1)`; 1 at step 1; `None` when the denominator is 0.
    #[must_use]
    pub fn conversion_from_previous(&self, step: usize) -> Option<f64> {
        let previous = if step == 0 { self.keys_per_step[0] } else { self.keys_per_step[step - 1] };
        ratio(self.keys_per_step[step], previous)
    }

    /// `keys(n) / keys(1)`; `None` when no key did step 1.
    #[must_use]
    pub fn conversion_from_first(&self, step: usize) -> Option<f64> {
        ratio(self.keys_per_step[step], self.keys_per_step[0])
    }
}

#[allow(clippy::cast_precision_loss)] // counts far below 2^52
fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// Totals per experiment, over all its events (no funnel filter).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExperimentSummary {
    /// Experiment name.
    pub experiment: String,
    /// Experiment contexts with a key.
    pub contexts: u64,
    /// Distinct keys.
    pub keys: u64,
    /// Keys seen with more than one variant.
    pub conflicting_keys: u64,
    /// Distinct keys per variant (conflicting keys included), control first then by name.
    pub variants: Vec<(String, u64)>,
}

/// Everything a run reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunReport {
    /// Counters over all lines.
    pub counters: Counters,
    /// One per funnel, in definition order.
    pub funnels: Vec<FunnelReport>,
    /// One per experiment of the funnels.
    pub experiments: Vec<ExperimentSummary>,
    /// Distinct context keys over the plan's experiments.
    pub distinct_keys: u64,
}

impl State {
    /// Computes the report. Takes `&mut self` only to finish pending bitmap batches.
    #[must_use]
    pub fn report(&mut self, plan: &Plan) -> RunReport {
        let unifiers: Vec<Unifier> =
            self.experiments.iter().map(|e| Unifier::new(e.migrations.iter().copied())).collect();
        let funnels = plan
            .funnels()
            .iter()
            .zip(&mut self.funnels)
            .map(|(def, state)| {
                let unifier = &unifiers
                    [plan.experiment_id(&def.experiment).expect("funnel experiments are in the plan")];
                let (variants, union, conflicting) =
                    split_variants(&mut state.variants, &def.control, unifier);
                let steps: Vec<Cow<'_, RoaringBitmap>> =
                    state.steps.iter_mut().map(|b| unifier.apply(b.finish())).collect();
                let variants = variants
                    .into_iter()
                    .map(|(variant, keys)| {
                        let mut reached = keys - &conflicting;
                        let keys_per_step = steps
                            .iter()
                            .map(|step| {
                                reached &= step.as_ref();
                                reached.len()
                            })
                            .collect();
                        VariantCounts { variant, keys_per_step }
                    })
                    .collect();
                FunnelReport {
                    name: def.name.clone(),
                    experiment: def.experiment.clone(),
                    control: def.control.clone(),
                    step_names: def.steps.iter().map(|s| s.name.clone()).collect(),
                    variants,
                    keys: union.len(),
                    conflicting_keys: conflicting.len(),
                }
            })
            .collect();
        let experiments = plan
            .experiments()
            .iter()
            .zip(self.experiments.iter_mut().zip(&unifiers))
            .map(|(name, (state, unifier))| {
                // The control of the experiment's first funnel orders the variants.
                let control =
                    plan.funnels().iter().find(|f| f.experiment == *name).map_or("control", |f| &f.control);
                let (variants, union, conflicting) = split_variants(&mut state.variants, control, unifier);
                ExperimentSummary {
                    experiment: name.clone(),
                    contexts: state.contexts,
                    keys: union.len(),
                    conflicting_keys: conflicting.len(),
                    variants: variants.into_iter().map(|(v, keys)| (v, keys.len())).collect(),
                }
            })
            .collect();
        RunReport { counters: self.counters, funnels, experiments, distinct_keys: self.keys.len() as u64 }
    }
}

/// The variants' key sets in report order (control first, then by name), their union, and
/// the keys in more than one of them; keys of one subject count as one (see [`Unifier`]).
fn split_variants(
    sets: &mut VariantSets,
    control: &str,
    unifier: &Unifier,
) -> (Vec<(String, RoaringBitmap)>, RoaringBitmap, RoaringBitmap) {
    let mut variants: Vec<(String, RoaringBitmap)> =
        sets.0.iter_mut().map(|(v, b)| (v.to_string(), unifier.apply(b.finish()).into_owned())).collect();
    variants.sort_by(|(a, _), (b, _)| (a != control, a).cmp(&(b != control, b)));
    let mut union = RoaringBitmap::new();
    let mut conflicting = RoaringBitmap::new();
    for (_, keys) in &variants {
        conflicting |= &union & keys;
        union |= keys;
    }
    (variants, union, conflicting)
}
