//! The funnels compiled for matching: byte patterns per step, time and app_id filters, and the
//! experiments the run cares about.

use hashbrown::HashMap;
use snowfunnel_parse::{EnrichedEvent, SchemaMatch, fields};

use crate::Funnel;
use crate::breakdown::BreakdownField;
use crate::rules::Rules;
use crate::seen::StepField;

/// What the engine matches events against. Built once, shared by every partition.
#[derive(Debug)]
pub struct Plan {
    funnels: Vec<Funnel>,
    pub(crate) compiled: Vec<CompiledFunnel>,
    experiments: Vec<String>,
    experiment_ids: HashMap<String, usize>,
    pub(crate) experiment_funnels: Vec<Vec<usize>>,
    /// Per experiment: the fields its funnels' steps name, whose values a run keeps for the
    /// suggestions of a step that matched nothing.
    pub(crate) experiment_fields: Vec<Vec<StepField>>,
    pub(crate) needs_schema: bool,
    /// Whether a funnel counts under the warehouse's rules.
    pub(crate) warehouse: bool,
    /// The fields each funnel is broken down by (`--breakdown`), in the order given.
    pub(crate) breakdowns: Vec<BreakdownField>,
}

impl Plan {
    /// Compiles `funnels` (already validated, names unique).
    #[must_use]
    pub fn new(funnels: Vec<Funnel>) -> Self {
        let mut experiments = Vec::new();
        let mut experiment_ids = HashMap::new();
        let mut experiment_funnels: Vec<Vec<usize>> = Vec::new();
        for (i, f) in funnels.iter().enumerate() {
            let id = *experiment_ids.entry(f.experiment.clone()).or_insert_with(|| {
                experiments.push(f.experiment.clone());
                experiment_funnels.push(Vec::new());
                experiments.len() - 1
            });
            experiment_funnels[id].push(i);
        }
        let compiled: Vec<CompiledFunnel> = funnels.iter().map(CompiledFunnel::new).collect();
        let needs_schema = compiled.iter().flat_map(|f| &f.steps).any(|s| s.schema_prefix.is_some());
        let experiment_fields = experiment_funnels
            .iter()
            .map(|ids| {
                let steps = || ids.iter().flat_map(|&f| &funnels[f].steps);
                StepField::ALL.into_iter().filter(|field| steps().any(|s| field.of(s).is_some())).collect()
            })
            .collect();
        let warehouse = funnels.iter().any(|f| f.rules == Rules::Warehouse);
        Plan {
            funnels,
            compiled,
            warehouse,
            experiments,
            experiment_ids,
            experiment_funnels,
            experiment_fields,
            needs_schema,
            breakdowns: Vec::new(),
        }
    }

    /// The plan, each funnel also broken down by `fields` (each once, in the order given): the
    /// state records the value of each field on each key's first step-1 event. Breakdowns are
    /// options of a run, not part of the funnels' fingerprints.
    #[must_use]
    pub fn with_breakdowns(mut self, fields: Vec<BreakdownField>) -> Self {
        self.breakdowns.clear();
        for field in fields {
            if !self.breakdowns.contains(&field) {
                self.breakdowns.push(field);
            }
        }
        self
    }

    /// Checks that every funnel's rules support the plan's options: breakdowns are not kept for
    /// funnels under the warehouse's rules (their events wait for the duplicate rule).
    ///
    /// # Errors
    /// A [`DefinitionError`](crate::DefinitionError) naming the funnel's file.
    pub fn check_rules(&self) -> Result<(), crate::DefinitionError> {
        match self.funnels.iter().find(|f| f.rules == Rules::Warehouse) {
            Some(f) if !self.breakdowns.is_empty() => Err(crate::DefinitionError {
                file: f.source.clone(),
                line: None,
                message: format!(
                    "funnel {:?} counts under rules = \"warehouse\", which --breakdown does not support",
                    f.name
                ),
            }),
            _ => Ok(()),
        }
    }

    /// The breakdown fields, in the order given.
    #[must_use]
    pub fn breakdowns(&self) -> &[BreakdownField] {
        &self.breakdowns
    }

    /// The funnels, in definition order.
    #[must_use]
    pub fn funnels(&self) -> &[Funnel] {
        &self.funnels
    }

    /// The distinct experiments of the funnels, in order of first use.
    #[must_use]
    pub fn experiments(&self) -> &[String] {
        &self.experiments
    }

    /// The event-time window `[start, end)` (microseconds) outside which no funnel counts an
    /// event: `None` unless every funnel has both `start` and `end`.
    #[must_use]
    pub fn time_window(&self) -> Option<(i64, i64)> {
        let start = self.funnels.iter().map(|f| f.start).collect::<Option<Vec<_>>>()?.into_iter().min()?;
        let end = self.funnels.iter().map(|f| f.end).collect::<Option<Vec<_>>>()?.into_iter().max()?;
        Some((start, end))
    }

    /// How the experiment schema must be matched for every funnel of the plan: ignoring case
    /// when one counts under the warehouse's rules.
    #[must_use]
    pub fn schema_match(&self) -> SchemaMatch {
        if self.warehouse { Rules::Warehouse.schema_match() } else { Rules::Snowfunnel.schema_match() }
    }

    pub(crate) fn experiment_id(&self, name: &str) -> Option<usize> {
        self.experiment_ids.get(name).copied()
    }
}

#[derive(Debug)]
pub(crate) struct CompiledFunnel {
    pub(crate) rules: Rules,
    app_ids: Option<Vec<Box<[u8]>>>,
    start: i64,
    end: i64,
    pub(crate) steps: Vec<StepMatcher>,
}

impl CompiledFunnel {
    fn new(f: &Funnel) -> Self {
        CompiledFunnel {
            rules: f.rules,
            app_ids: f.app_ids.as_ref().map(|ids| ids.iter().map(|a| bytes(a)).collect()),
            start: f.start.unwrap_or(i64::MIN),
            end: f.end.unwrap_or(i64::MAX),
            steps: f.steps.iter().map(StepMatcher::new).collect(),
        }
    }

    /// Whether the event, at `t` (its time under the funnel's rules), passes the funnel's
    /// filters (time range and app_ids).
    #[inline]
    pub(crate) fn accepts(&self, event: &EnrichedEvent<'_>, t: i64) -> bool {
        self.in_window(t) && self.admits_app_id(event)
    }

    /// Whether `t` is in the funnel's `[start, end)`.
    #[inline]
    pub(crate) fn in_window(&self, t: i64) -> bool {
        t >= self.start && t < self.end
    }

    /// Whether the event's `app_id` is one of the funnel's `app_ids` (any, without them).
    #[inline]
    pub(crate) fn admits_app_id(&self, event: &EnrichedEvent<'_>) -> bool {
        self.app_ids.as_ref().is_none_or(|ids| ids.iter().any(|a| **a == *event.app_id()))
    }
}

#[derive(Debug)]
pub(crate) struct StepMatcher {
    /// (field index, exact value) pairs that must all hold.
    fields: Vec<(usize, Box<[u8]>)>,
    schema_prefix: Option<Box<str>>,
}

impl StepMatcher {
    fn new(step: &crate::Step) -> Self {
        let mut fields = Vec::new();
        for (index, value) in [
            (fields::EVENT, &step.event),
            (fields::SE_ACTION, &step.action),
            (fields::SE_CATEGORY, &step.category),
            (fields::SE_LABEL, &step.label),
            (fields::SE_PROPERTY, &step.property),
            (fields::PAGE_URLPATH, &step.page_urlpath),
        ] {
            if let Some(v) = value {
                fields.push((index, bytes(v)));
            }
        }
        StepMatcher { fields, schema_prefix: step.schema.as_deref().map(Box::from) }
    }

    /// Whether `event` (whose unstruct schema is `schema`) is this step.
    #[inline]
    pub(crate) fn matches(&self, event: &EnrichedEvent<'_>, schema: Option<&str>) -> bool {
        self.fields.iter().all(|(i, v)| event.field(*i) == &**v)
            && self.schema_prefix.as_deref().is_none_or(|p| schema.is_some_and(|s| s.starts_with(p)))
    }
}

fn bytes(s: &str) -> Box<[u8]> {
    s.as_bytes().into()
}
