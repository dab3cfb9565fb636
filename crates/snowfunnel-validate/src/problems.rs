//! The problems a validation finds: what a reader of the report must not miss.

use snowfunnel_parse::BadReason;
// The funnel checks' sample ratio mismatch threshold: below it, the split of an experiment's
// variants is very uneven here too.
use snowfunnel_stats::SRM_ALERT;

use crate::report::{Outage, ValidationReport};

/// One problem found, with the figures that describe it.
#[derive(Clone, Debug, PartialEq)]
pub enum Problem {
    /// Lines that are not valid enriched events.
    BadRows {
        /// Bad rows.
        bad: u64,
        /// All lines.
        lines: u64,
        /// Per reason, reasons with none left out.
        by_reason: Vec<(BadReason, u64)>,
    },
    /// Events of the reported experiments delivered more than once.
    DuplicateEvents {
        /// Extra copies.
        copies: u64,
        /// Event ids with more than one copy.
        ids: u64,
        /// Events tracked (every copy).
        events: u64,
    },
    /// Experiment contexts without a key, ignored.
    ContextsWithoutKey {
        /// Such contexts.
        count: u64,
        /// All experiment contexts.
        contexts: u64,
    },
    /// Experiment contexts with a key but no experiment or variant, ignored.
    IncompleteContexts {
        /// Such contexts.
        count: u64,
        /// All experiment contexts.
        contexts: u64,
    },
    /// An experiment named with `--experiment` that no event carries.
    NoEvents {
        /// Experiment name.
        experiment: String,
    },
    /// Days without events between an experiment's first and last day.
    Outages {
        /// Experiment name.
        experiment: String,
        /// The runs of zero-event days.
        outages: Vec<Outage>,
    },
    /// A split between variants this uneven is unlikely by chance (see [`SRM_ALERT`]).
    UnevenSplit {
        /// Experiment name.
        experiment: String,
        /// Exclusive keys per variant, control first.
        variants: Vec<(String, u64)>,
        /// Chi-square statistic against an equal split.
        chi_square: f64,
        /// Its p-value.
        p_value: f64,
    },
    /// Keys seen with more than one variant of an experiment.
    ConflictingKeys {
        /// Experiment name.
        experiment: String,
        /// Such keys.
        conflicting: u64,
        /// All keys of the experiment.
        keys: u64,
    },
}

impl ValidationReport {
    /// Every problem found: first those of the data as a whole (bad rows, duplicates, contexts
    /// without key), then per experiment (by name) missing events, outages, an uneven split and
    /// conflicting keys. Empty when all is well.
    #[must_use]
    pub fn problems(&self) -> Vec<Problem> {
        let c = &self.counters;
        let mut problems = Vec::new();
        if c.bad.total() > 0 {
            problems.push(Problem::BadRows {
                bad: c.bad.total(),
                lines: c.lines,
                by_reason: c.bad.by_reason().collect(),
            });
        }
        let d = &self.duplicates;
        if d.extra_copies() > 0 {
            problems.push(Problem::DuplicateEvents {
                copies: d.extra_copies(),
                ids: d.duplicated_ids,
                events: d.tracked_events,
            });
        }
        if c.contexts_without_key > 0 {
            problems.push(Problem::ContextsWithoutKey {
                count: c.contexts_without_key,
                contexts: c.experiment_contexts,
            });
        }
        if c.incomplete_contexts > 0 {
            problems.push(Problem::IncompleteContexts {
                count: c.incomplete_contexts,
                contexts: c.experiment_contexts,
            });
        }
        for e in &self.experiments {
            if e.events == 0 {
                problems.push(Problem::NoEvents { experiment: e.experiment.clone() });
            }
            if !e.outages.is_empty() {
                problems
                    .push(Problem::Outages { experiment: e.experiment.clone(), outages: e.outages.clone() });
            }
            if let Some(srm) = e.srm.as_ref().filter(|srm| srm.p_value < SRM_ALERT) {
                problems.push(Problem::UnevenSplit {
                    experiment: e.experiment.clone(),
                    variants: e.variants.iter().map(|v| (v.variant.clone(), v.exclusive_keys)).collect(),
                    chi_square: srm.statistic,
                    p_value: srm.p_value,
                });
            }
            if e.conflicting_keys > 0 {
                problems.push(Problem::ConflictingKeys {
                    experiment: e.experiment.clone(),
                    conflicting: e.conflicting_keys,
                    keys: e.keys,
                });
            }
        }
        problems
    }
}
