//! Which events and contexts the extract keeps: experiments, event-time window, environment
//! and app_id.

use hashbrown::HashSet;

use crate::SpecError;

/// Where an event comes from, by its app_id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Environment {
    /// GitLab.com (`gitlab` by default).
    Production,
    /// GitLab's staging (`gitlab-staging` by default).
    Staging,
    /// Any other app_id.
    Other,
}

impl Environment {
    /// The name written in the `environment` column.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Staging => "staging",
            Environment::Other => "other",
        }
    }

    /// The inverse of [`Environment::name`].
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [Environment::Production, Environment::Staging, Environment::Other]
            .into_iter()
            .find(|e| e.name() == name)
    }

    pub(crate) fn code(self) -> u8 {
        self as u8
    }

    pub(crate) fn from_code(code: u8) -> Option<Self> {
        [Environment::Production, Environment::Staging, Environment::Other].get(usize::from(code)).copied()
    }
}

/// Which app_ids are production and which staging; every other app_id is
/// [`Environment::Other`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentMap {
    /// App_ids of production.
    pub production: Vec<String>,
    /// App_ids of staging.
    pub staging: Vec<String>,
}

impl Default for EnvironmentMap {
    /// GitLab's warehouse models: `gitlab` is production, `gitlab-staging` staging.
    fn default() -> Self {
        EnvironmentMap { production: vec!["gitlab".into()], staging: vec!["gitlab-staging".into()] }
    }
}

impl EnvironmentMap {
    /// The environment of an app_id.
    #[must_use]
    pub fn classify(&self, app_id: &[u8]) -> Environment {
        if self.production.iter().any(|a| a.as_bytes() == app_id) {
            Environment::Production
        } else if self.staging.iter().any(|a| a.as_bytes() == app_id) {
            Environment::Staging
        } else {
            Environment::Other
        }
    }
}

/// The environments an extract keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EnvironmentSelection {
    /// Every event.
    #[default]
    All,
    /// Only events of this environment.
    Only(Environment),
}

/// What to extract, as a user states it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExtractSpec {
    /// Experiment names (exact); at least one.
    pub experiments: Vec<String>,
    /// First event time kept (microseconds since the epoch), inclusive.
    pub start: Option<i64>,
    /// First event time no longer kept, exclusive.
    pub end: Option<i64>,
    /// The environments kept.
    pub environment: EnvironmentSelection,
    /// App_ids kept (exact); empty keeps every app_id.
    pub app_ids: Vec<String>,
    /// App_id to environment.
    pub environments: EnvironmentMap,
}

/// A checked [`ExtractSpec`], ready to match events.
#[derive(Debug, Clone)]
pub struct Filter {
    experiments: HashSet<Box<str>>,
    start: i64,
    end: i64,
    environment: EnvironmentSelection,
    app_ids: Vec<Box<[u8]>>,
    environments: EnvironmentMap,
}

impl Filter {
    /// Checks `spec`.
    ///
    /// # Errors
    /// A [`SpecError`] when no experiment is named, `start` is not before `end`, or an app_id
    /// is both production and staging.
    pub fn new(spec: &ExtractSpec) -> Result<Self, SpecError> {
        if spec.experiments.is_empty() {
            return Err(SpecError::NoExperiment);
        }
        if let (Some(start), Some(end)) = (spec.start, spec.end)
            && start >= end
        {
            return Err(SpecError::EmptyWindow);
        }
        if let Some(both) =
            spec.environments.production.iter().find(|a| spec.environments.staging.contains(a))
        {
            return Err(SpecError::AmbiguousAppId(both.clone()));
        }
        Ok(Filter {
            experiments: spec.experiments.iter().map(|e| Box::from(e.as_str())).collect(),
            start: spec.start.unwrap_or(i64::MIN),
            end: spec.end.unwrap_or(i64::MAX),
            environment: spec.environment,
            app_ids: spec.app_ids.iter().map(|a| Box::from(a.as_bytes())).collect(),
            environments: spec.environments.clone(),
        })
    }

    /// Whether an event of this time and app_id is kept, and its environment.
    #[inline]
    #[must_use]
    pub fn event(&self, time_micros: i64, app_id: &[u8]) -> Option<Environment> {
        if time_micros < self.start || time_micros >= self.end {
            return None;
        }
        if !self.app_ids.is_empty() && !self.app_ids.iter().any(|a| **a == *app_id) {
            return None;
        }
        let environment = self.environments.classify(app_id);
        match self.environment {
            EnvironmentSelection::Only(only) if only != environment => None,
            _ => Some(environment),
        }
    }

    /// Whether contexts of this experiment are kept.
    #[inline]
    #[must_use]
    pub fn experiment(&self, name: &str) -> bool {
        self.experiments.contains(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ExtractSpec {
        ExtractSpec { experiments: vec!["exp".into()], ..ExtractSpec::default() }
    }

    #[test]
    fn environments_follow_the_map() {
        let map = EnvironmentMap::default();
        assert_eq!(map.classify(b"gitlab"), Environment::Production);
        assert_eq!(map.classify(b"gitlab-staging"), Environment::Staging);
        assert_eq!(map.classify(b"gitlab_customers"), Environment::Other);
        assert_eq!(map.classify(b""), Environment::Other);
        for e in [Environment::Production, Environment::Staging, Environment::Other] {
            assert_eq!(Environment::from_name(e.name()), Some(e));
            assert_eq!(Environment::from_code(e.code()), Some(e));
        }
    }

    #[test]
    fn filters_time_app_id_and_environment() {
        let filter = Filter::new(&ExtractSpec {
            start: Some(10),
            end: Some(20),
            environment: EnvironmentSelection::Only(Environment::Production),
            environments: EnvironmentMap { production: vec!["a".into(), "b".into()], staging: vec![] },
            app_ids: vec!["b".into(), "c".into()],
            ..spec()
        })
        .unwrap();
        assert_eq!(filter.event(10, b"b"), Some(Environment::Production));
        assert_eq!(filter.event(19, b"b"), Some(Environment::Production));
        assert_eq!(filter.event(9, b"b"), None);
        assert_eq!(filter.event(20, b"b"), None);
        assert_eq!(filter.event(15, b"a"), None, "not in --app-id");
        assert_eq!(filter.event(15, b"c"), None, "not production");
        assert!(filter.experiment("exp"));
        assert!(!filter.experiment("ex"));
    }

    #[test]
    fn bad_specs_are_refused() {
        assert_eq!(Filter::new(&ExtractSpec::default()).unwrap_err(), SpecError::NoExperiment);
        let empty = ExtractSpec { start: Some(5), end: Some(5), ..spec() };
        assert_eq!(Filter::new(&empty).unwrap_err(), SpecError::EmptyWindow);
        let both = ExtractSpec {
            environments: EnvironmentMap { production: vec!["x".into()], staging: vec!["x".into()] },
            ..spec()
        };
        assert!(matches!(Filter::new(&both), Err(SpecError::AmbiguousAppId(_))));
    }
}
