//! Expanding local command-line paths into the list of files to read.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use snowfunnel_s3::S3Object;
use walkdir::WalkDir;

use crate::InputError;

/// One input to read: a local file or an S3 object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputFile {
    /// Where it is.
    pub location: Location,
    /// Its stored size in bytes (on disk, or as listed).
    pub size: u64,
    /// A local file's modification time, when listed by [`list_inputs`] (S3 objects carry
    /// theirs in the [`S3Object`]).
    pub modified: Option<SystemTime>,
}

/// Where an [`InputFile`] is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A local file, by the path it was found under.
    Local(PathBuf),
    /// An S3 object, as listed.
    S3(S3Object),
}

impl InputFile {
    /// A local file.
    #[must_use]
    pub fn local(path: impl Into<PathBuf>, size: u64) -> Self {
        InputFile { location: Location::Local(path.into()), size, modified: None }
    }

    /// An S3 object.
    #[must_use]
    pub fn s3(object: S3Object) -> Self {
        InputFile { size: object.size, location: Location::S3(object), modified: None }
    }

    /// What tells this version of the input's content from another, for the manifest of a
    /// state file (with the size): `etag:` and the S3 ETag, or `mtime:` and the modification
    /// time (seconds and nanoseconds after the Unix epoch) of a local file or of an object
    /// listed without an ETag; empty when neither is known.
    #[must_use]
    pub fn version(&self) -> String {
        let mtime = |time: Option<SystemTime>| {
            time.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| format!("mtime:{}.{:09}", d.as_secs(), d.subsec_nanos()))
        };
        match &self.location {
            Location::S3(object) => match &object.etag {
                Some(etag) => format!("etag:{etag}"),
                None => mtime(object.last_modified).unwrap_or_default(),
            },
            Location::Local(_) => mtime(self.modified).unwrap_or_default(),
        }
    }

    /// What `--include`/`--exclude` globs and date pruning look at: the object key, or the
    /// path as listed (with `/` separators).
    #[must_use]
    pub fn key(&self) -> Cow<'_, str> {
        match &self.location {
            Location::Local(path) => path.to_string_lossy(),
            Location::S3(object) => Cow::Borrowed(&object.key),
        }
    }
}

impl fmt::Display for InputFile {
    /// The path, or `s3://bucket/key`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Location::Local(path) => path.display().fmt(f),
            Location::S3(object) => object.fmt(f),
        }
    }
}

/// Expands `paths` into files: a file stands for itself; a directory for every regular file
/// under it, recursively, in sorted order, skipping hidden entries (names starting with `.`).
/// A file reached twice is listed once.
///
/// # Errors
/// [`InputError::NotFound`] for a missing path, [`InputError::Read`] for one that cannot be
/// listed or stat-ed.
pub fn list_inputs(paths: &[PathBuf]) -> Result<Vec<InputFile>, InputError> {
    let mut files = Vec::new();
    let mut seen = HashSet::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => InputError::NotFound { path: path.clone() },
            _ => InputError::Read { input: path.display().to_string(), source },
        })?;
        if meta.is_dir() {
            let walk = WalkDir::new(path)
                .follow_links(true)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name()));
            for entry in walk {
                let entry = entry.map_err(|e| walk_error(path, e))?;
                if entry.file_type().is_file() {
                    let meta = entry.metadata().map_err(|e| walk_error(path, e))?;
                    push_unique(&mut files, &mut seen, entry.path(), &meta)?;
                }
            }
        } else {
            push_unique(&mut files, &mut seen, path, &meta)?;
        }
    }
    Ok(files)
}

fn push_unique(
    files: &mut Vec<InputFile>,
    seen: &mut HashSet<PathBuf>,
    path: &Path,
    meta: &std::fs::Metadata,
) -> Result<(), InputError> {
    let canonical = path
        .canonicalize()
        .map_err(|source| InputError::Read { input: path.display().to_string(), source })?;
    if seen.insert(canonical) {
        files.push(InputFile { modified: meta.modified().ok(), ..InputFile::local(path, meta.len()) });
    }
    Ok(())
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

fn walk_error(root: &Path, e: walkdir::Error) -> InputError {
    let input = e.path().unwrap_or(root).display().to_string();
    InputError::Read { input, source: e.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_directories_sorted_skipping_hidden_and_repeats() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("b/c")).unwrap();
        std::fs::create_dir_all(root.join(".hidden")).unwrap();
        for f in ["b/c/2.gz", "b/1.gz", "a.tsv", ".dot", ".hidden/x.gz"] {
            std::fs::write(root.join(f), f).unwrap();
        }
        let files = list_inputs(&[root.to_owned(), root.join("a.tsv")]).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|f| match &f.location {
                Location::Local(path) => path.strip_prefix(root).unwrap().to_owned(),
                Location::S3(_) => unreachable!("local paths only"),
            })
            .collect();
        assert_eq!(names, vec![PathBuf::from("a.tsv"), "b/1.gz".into(), "b/c/2.gz".into()]);
        assert_eq!(files[0].size, 5);
    }

    #[test]
    fn missing_paths_are_named() {
        let err = list_inputs(&[PathBuf::from("no/such/dir")]).unwrap_err();
        assert_eq!(err.to_string(), "no/such/dir: no such file or directory");
    }
}
