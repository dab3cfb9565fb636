//! `--include` / `--exclude` globs over object keys and file paths.

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::InputError;

/// Which inputs to read: those matching an include glob (all, when there is none) and no
/// exclude glob. Globs match the whole object key or the file path as listed; `*` also
/// crosses `/` (so `*.gz` means every gzip file), `**` and `{a,b}` work as usual.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

impl Selection {
    /// Compiles the globs.
    ///
    /// # Errors
    /// [`InputError::BadGlob`] naming the first glob that does not parse.
    pub fn new(include: &[String], exclude: &[String]) -> Result<Self, InputError> {
        Ok(Selection { include: compile(include)?, exclude: compile(exclude)? })
    }

    /// Whether to read the input with this key or path.
    #[must_use]
    pub fn selects(&self, key: &str) -> bool {
        self.include.as_ref().is_none_or(|set| set.is_match(key))
            && !self.exclude.as_ref().is_some_and(|set| set.is_match(key))
    }
}

fn compile(globs: &[String]) -> Result<Option<GlobSet>, InputError> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        builder.add(Glob::new(glob).map_err(|source| InputError::BadGlob { glob: glob.clone(), source })?);
    }
    builder.build().map(Some).map_err(|source| InputError::BadGlob { glob: globs.join(" "), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selection(include: &[&str], exclude: &[&str]) -> Selection {
        let owned = |g: &[&str]| g.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        Selection::new(&owned(include), &owned(exclude)).unwrap()
    }

    #[test]
    fn include_then_exclude() {
        let all = selection(&[], &[]);
        assert!(all.selects("anything/at/all"));
        let gz = selection(&["*.gz"], &["**/2026/03/02/*"]);
        assert!(gz.selects("enriched/2026/03/01/a.gz"));
        assert!(!gz.selects("enriched/2026/03/01/a.tsv"));
        assert!(!gz.selects("enriched/2026/03/02/a.gz"));
        let either = selection(&["a/*", "b/*"], &[]);
        assert!(either.selects("a/x") && either.selects("b/y/z") && !either.selects("c/x"));
    }

    #[test]
    fn a_bad_glob_is_named() {
        let err = Selection::new(&["a/[".to_owned()], &[]).unwrap_err();
        assert!(err.to_string().starts_with("bad glob \"a/[\""), "{err}");
    }
}
