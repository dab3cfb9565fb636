//! Which experiments a validation reports.

/// All experiments seen, or only those named (`--experiment`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    named: Option<Vec<String>>,
}

impl Scope {
    /// Every experiment seen.
    #[must_use]
    pub fn all() -> Self {
        Scope { named: None }
    }

    /// Only the experiments named (duplicates ignored); they are reported even when no event
    /// carries them. An empty list means every experiment.
    #[must_use]
    pub fn only(names: &[String]) -> Self {
        if names.is_empty() {
            return Scope::all();
        }
        let mut named: Vec<String> = Vec::with_capacity(names.len());
        for name in names {
            if !named.contains(name) {
                named.push(name.clone());
            }
        }
        Scope { named: Some(named) }
    }

    /// Whether `experiment` is reported.
    #[must_use]
    pub fn selects(&self, experiment: &str) -> bool {
        self.named.as_ref().is_none_or(|named| named.iter().any(|n| n == experiment))
    }

    /// The experiments named, if any.
    #[must_use]
    pub fn named(&self) -> Option<&[String]> {
        self.named.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_all_or_the_named() {
        assert!(Scope::all().selects("anything"));
        assert!(Scope::only(&[]).selects("anything"));
        let only = Scope::only(&["a/b".into(), "c".into(), "a/b".into()]);
        assert!(only.selects("a/b") && only.selects("c") && !only.selects("a"));
        assert_eq!(only.named().unwrap().len(), 2);
    }
}
