//! Loading funnel definitions from files and directories.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use snowfunnel_engine::{Funnel, check_unique_names, parse_funnel};

/// Reads every definition: a file stands for itself, a directory for its `*.toml` files
/// (sorted, not recursive). Names must be unique across all of them.
pub(crate) fn load_funnels(paths: &[PathBuf]) -> Result<Vec<Funnel>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("{}: cannot list funnel directory", path.display()))?
                .map(|e| e.map(|e| e.path()))
                .collect::<std::io::Result<_>>()
                .with_context(|| format!("{}: cannot list funnel directory", path.display()))?;
            found.retain(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file());
            found.sort();
            if found.is_empty() {
                bail!("{}: no *.toml funnel files in this directory", path.display());
            }
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    let mut funnels = Vec::with_capacity(files.len());
    for file in &files {
        funnels.push(load_one(file)?);
    }
    check_unique_names(&funnels)?;
    Ok(funnels)
}

fn load_one(file: &Path) -> Result<Funnel> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("{}: cannot read funnel file", file.display()))?;
    let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(parse_funnel(&file.display().to_string(), &stem, &text)?)
}
