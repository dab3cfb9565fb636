//! A run's outputs, all or nothing.
//!
//! Every output (reports, the events extract, the bad-row log, the state file) is checked
//! before any input is read, staged while the run works (a local file written and synced to a
//! temporary file beside its destination, an S3 object built in memory), and committed only
//! when the whole run succeeded, in one fixed order: the completion marker of the previous run
//! is removed, then the reports and the extract, the bad-row log, the state file last, and
//! a new completion marker. A run that fails or is killed before the commit leaves every
//! earlier output as it was; one killed during the commit (renames and PutObjects, well under
//! a second) leaves no completion marker, so a scheduler waiting for it is never misled.
//!
//! The one exception is the bad-row check (exit 3): the bad-row log is its diagnosis, so it
//! alone is committed then ([`Outputs::fail_bad_data`]).

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use snowfunnel_report::{
    AtomicFile, STALE_UNOWNED_AFTER, TEMPORARY_NAME_PREFIX, commit_guard, is_temporary_name,
    remove_stale_temporary_files, temporary_name,
};
use snowfunnel_s3::S3Url;

use crate::exit::{BAD_DATA, Failure};
use crate::store::{Place, Store};

/// The completion marker's name in a run's `--out` directory (as Hadoop and Spark name theirs,
/// which schedulers' sensors know).
pub(crate) const MARKER_NAME: &str = "_SUCCESS";
/// What the completion marker of a single output file (`events --out FILE`) adds to its name.
pub(crate) const FILE_MARKER_SUFFIX: &str = ".success";
/// The longest file name local file systems take (ext4, XFS, btrfs, tmpfs), in bytes.
const NAME_MAX: usize = 255;
/// The longest S3 object key, in bytes.
const S3_KEY_MAX: usize = 1024;

/// Whether this process committed its outputs (an interrupt after that has nothing to undo).
static COMMITTED: AtomicBool = AtomicBool::new(false);

/// Whether this process's outputs were committed.
pub(crate) fn committed() -> bool {
    COMMITTED.load(Ordering::SeqCst)
}

/// What an output is, which sets its place in the commit order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Role {
    /// A report: a funnel CSV, its checks, a validation CSV, the events extract.
    Report,
    /// The bad-row log (`--bad-rows`).
    BadRows,
    /// A state file: last, so that a state never counts inputs whose reports are missing.
    State,
}

/// One output, ready to be committed.
struct Staged {
    role: Role,
    place: Place,
    content: Content,
}

enum Content {
    /// Written and synced beside its destination.
    Local(AtomicFile),
    /// Uploaded whole to a temporary key beside its destination (`temp`), to be copied into
    /// place (CopyObject, on the server) when committed.
    S3 { url: S3Url, temp: S3Url },
}

/// The outputs of one run: checked, staged, then committed together.
pub(crate) struct Outputs<'s> {
    store: &'s Store,
    staged: Vec<Staged>,
    marker: Option<Place>,
    /// Local directories already checked (and cleaned of stale temporary files).
    checked_dirs: HashSet<PathBuf>,
}

impl<'s> Outputs<'s> {
    /// No outputs yet; S3 ones go through `store`.
    pub(crate) fn new(store: &'s Store) -> Outputs<'s> {
        Outputs { store, staged: Vec::new(), marker: None, checked_dirs: HashSet::new() }
    }

    /// Checks, before any input is read, that `place` can be written: a local file's name must
    /// fit the file system, and its directory must take a new file (or, when missing, the
    /// nearest directory above it, where it will be created: nothing is created now); the
    /// temporary files that killed runs left in that directory are removed. An S3 key must
    /// name a file and fit S3's limit (S3 itself says whether it may be written only when it
    /// is).
    pub(crate) fn check(&mut self, place: &Place) -> Result<()> {
        let path = match place {
            Place::Local(path) => path,
            Place::S3(url) => {
                check_key(url)?;
                return self.remove_stale_objects(url);
            }
        };
        let name = path.file_name().map_or(0, |n| n.len());
        if name > NAME_MAX {
            bail!(
                "{}: the file name is {name} bytes long, over the {NAME_MAX} bytes file systems take",
                path.display()
            );
        }
        if path.is_dir() {
            bail!("{}: is a directory, not a file", path.display());
        }
        let dir = directory_of(path);
        if !self.checked_dirs.insert(dir.to_owned()) {
            return Ok(());
        }
        let mut existing = dir;
        while !existing.exists() {
            existing = directory_of(existing);
        }
        if !existing.is_dir() {
            bail!(
                "{}: cannot create {}: {} is not a directory",
                path.display(),
                dir.display(),
                existing.display()
            );
        }
        if existing == dir {
            let stale = remove_stale_temporary_files(dir)
                .with_context(|| format!("removing stale temporary files in {}", dir.display()))?;
            for file in stale {
                eprintln!(
                    "snowfunnel: removed {}, a temporary file left by an earlier run that was killed",
                    file.display()
                );
            }
        }
        // A temporary file, removed at once: the directory takes new files.
        AtomicFile::create(&existing.join("probe"))
            .with_context(|| format!("{}: cannot write in {}", path.display(), existing.display()))?;
        Ok(())
    }

    /// Removes the temporary objects that runs killed over a day ago left beside `url` (on S3 no
    /// process can be asked whether it still runs: age alone tells). Housekeeping: what S3
    /// refuses is left for a later run.
    fn remove_stale_objects(&mut self, url: &S3Url) -> Result<()> {
        let dir = match url.prefix.rfind('/') {
            Some(end) => &url.prefix[..=end],
            None => "",
        };
        if !self.checked_dirs.insert(PathBuf::from(format!("s3://{}/{dir}", url.bucket))) {
            return Ok(());
        }
        let session = self.store.session()?;
        let temps = S3Url { bucket: url.bucket.clone(), prefix: format!("{dir}{TEMPORARY_NAME_PREFIX}") };
        // Housekeeping: a listing that fails (S3 refuses it, say) leaves them for a later run.
        let Ok(objects) = session.list(&temps) else { return Ok(()) };
        let now = SystemTime::now();
        for object in objects {
            let name = object.key.rsplit('/').next().unwrap_or_default();
            let stale = object
                .last_modified
                .and_then(|modified| now.duration_since(modified).ok())
                .is_some_and(|age| age >= STALE_UNOWNED_AFTER);
            if is_temporary_name(name) && stale && session.delete(&object.bucket, &object.key).is_ok() {
                eprintln!(
                    "snowfunnel: removed s3://{}/{}, a temporary object left by an earlier run that was killed",
                    object.bucket, object.key
                );
            }
        }
        Ok(())
    }

    /// Stages what `write` writes for `place`: a local file streams into its temporary file
    /// beside it (a large state file is never whole in memory) and is synced now; an S3 object
    /// is built in memory and uploaded whole to a temporary key beside it. A full disk or a
    /// failing upload fails here, before anything is committed.
    pub(crate) fn stage_with(
        &mut self,
        role: Role,
        place: Place,
        write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<()> {
        match place {
            Place::Local(path) => {
                let dir = directory_of(&path);
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
                let mut file =
                    AtomicFile::create(&path).with_context(|| format!("creating {}", path.display()))?;
                write(&mut file).with_context(|| format!("writing {}", path.display()))?;
                self.stage_file(role, file)
            }
            Place::S3(url) => {
                let mut content = Vec::new();
                write(&mut content).with_context(|| format!("encoding {url}"))?;
                self.stage_object(role, url, content)
            }
        }
    }

    /// Stages `content` for `place`, as [`Outputs::stage_with`].
    pub(crate) fn stage(&mut self, role: Role, place: Place, content: &[u8]) -> Result<()> {
        self.stage_with(role, place, |out| out.write_all(content))
    }

    /// Uploads `content` to a temporary key beside `url`, to be copied into place at commit.
    fn stage_object(&mut self, role: Role, url: S3Url, content: Vec<u8>) -> Result<()> {
        check_key(&url)?;
        let dir_end = url.prefix.rfind('/').map_or(0, |end| end + 1);
        let temp = S3Url {
            bucket: url.bucket.clone(),
            prefix: format!("{}{}", &url.prefix[..dir_end], temporary_name()),
        };
        let place = Place::S3(url.clone());
        // Recorded first, so that a failed upload is removed too.
        self.staged.push(Staged {
            role,
            place,
            content: Content::S3 { url: url.clone(), temp: temp.clone() },
        });
        put(self.store, &temp, content).with_context(|| format!("writing {url}"))
    }

    /// Stages a local file already written in full (its content is synced now).
    pub(crate) fn stage_file(&mut self, role: Role, mut file: AtomicFile) -> Result<()> {
        file.finish().with_context(|| format!("writing {}", file.dest().display()))?;
        let place = Place::Local(file.dest().to_owned());
        self.staged.push(Staged { role, place, content: Content::Local(file) });
        Ok(())
    }

    /// Writes a completion marker at `place` when the commit is done.
    pub(crate) fn mark_completion_at(&mut self, place: Place) {
        self.marker = Some(place);
    }

    /// Commits every staged output, in the order of their roles (in the order staged within a
    /// role): see the module's documentation. Returns the places written, in that order.
    pub(crate) fn commit(mut self, command: &str) -> Result<Vec<Place>> {
        self.staged.sort_by_key(|s| s.role);
        // Taken one by one: whatever is left when a step fails is dropped with `self`.
        self.staged.reverse();
        let _guard = commit_guard();
        if let Some(marker) = &self.marker {
            remove(self.store, marker).with_context(|| format!("removing the completion marker {marker}"))?;
        }
        let mut written = Vec::with_capacity(self.staged.len());
        let mut dirs = Vec::new();
        while let Some(Staged { role, place, content }) = self.staged.pop() {
            match content {
                Content::Local(file) => {
                    file.commit().with_context(|| format!("writing {place}"))?;
                    if let Place::Local(path) = &place {
                        dirs.push(directory_of(path).to_owned());
                    }
                }
                Content::S3 { url, temp } => {
                    let copied = self.store.session().and_then(|s| {
                        s.copy(&url.bucket, &temp.prefix, &url.prefix).map_err(anyhow::Error::new)
                    });
                    if let Err(e) = copied {
                        let error = e.context(format!("writing {url}"));
                        // Removed with the rest when `self` is dropped.
                        self.staged.push(Staged { role, place, content: Content::S3 { url, temp } });
                        return Err(error);
                    }
                    delete_quietly(self.store, &temp);
                }
            }
            written.push(place);
        }
        // The renames themselves are durable once their directories are synced.
        dirs.sort();
        dirs.dedup();
        for dir in &dirs {
            sync_dir(dir).with_context(|| format!("syncing {}", dir.display()))?;
        }
        if let Some(marker) = self.marker.take() {
            let body = marker_content(command, &written);
            match &marker {
                Place::Local(path) => {
                    let mut file =
                        AtomicFile::create(path).with_context(|| format!("creating {}", path.display()))?;
                    file.write_all(&body).with_context(|| format!("writing {marker}"))?;
                    file.commit().with_context(|| format!("writing {marker}"))?;
                    sync_dir(directory_of(path)).with_context(|| format!("syncing {marker}"))?;
                }
                Place::S3(url) => put(self.store, url, body)?,
            }
        }
        COMMITTED.store(true, Ordering::SeqCst);
        Ok(written)
    }

    /// The bad-row check failed with `error`: commits the bad-row log alone (it is the
    /// diagnosis), drops every other output, and returns the failure (exit 3).
    pub(crate) fn fail_bad_data(mut self, error: anyhow::Error) -> Failure {
        let (kept, dropped): (Vec<Staged>, Vec<Staged>) =
            std::mem::take(&mut self.staged).into_iter().partition(|s| s.role == Role::BadRows);
        self.staged = kept;
        for staged in dropped {
            discard(self.store, staged);
        }
        self.marker = None;
        match self.commit("") {
            Ok(_) => Failure { code: BAD_DATA, error },
            Err(e) => Failure { code: BAD_DATA, error: error.context(format!("{e:#}")) },
        }
    }
}

impl Drop for Outputs<'_> {
    /// Outputs not committed leave nothing behind: local temporary files go with their handles,
    /// temporary S3 objects are deleted here (as far as S3 answers).
    fn drop(&mut self) {
        for staged in self.staged.drain(..) {
            discard(self.store, staged);
        }
    }
}

/// Drops a staged output: a local temporary file goes with its handle, a temporary S3 object
/// is deleted.
fn discard(store: &Store, staged: Staged) {
    if let Content::S3 { temp, .. } = staged.content {
        delete_quietly(store, &temp);
    }
}

/// Deletes a temporary object; one that cannot be deleted now is removed by a later run a day
/// on (see [`Outputs::check`]).
fn delete_quietly(store: &Store, temp: &S3Url) {
    if let Ok(session) = store.session() {
        let _ = session.delete(&temp.bucket, &temp.prefix);
    }
}

/// The directory a local file goes in.
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// An S3 URL that names a file must have a key that is not a folder, within S3's length.
pub(crate) fn check_key(url: &S3Url) -> Result<()> {
    if url.prefix.is_empty() || url.prefix.ends_with('/') {
        bail!("{url}: expected s3://bucket/key naming a file, not a bucket or a folder");
    }
    if url.prefix.len() > S3_KEY_MAX {
        bail!("{url}: the key is {} bytes long, over S3's {S3_KEY_MAX}", url.prefix.len());
    }
    Ok(())
}

fn put(store: &Store, url: &S3Url, body: Vec<u8>) -> Result<()> {
    store.session()?.put(&url.bucket, &url.prefix, body).with_context(|| format!("writing {url}"))
}

fn remove(store: &Store, place: &Place) -> Result<()> {
    match place {
        Place::Local(path) => match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        },
        Place::S3(url) => Ok(store.session()?.delete(&url.bucket, &url.prefix)?),
    }
}

/// Syncs a directory, so that the renames in it survive a crash.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// The completion marker: JSON naming the command, this version, when the commit finished,
/// and every output it wrote (`{"tool":"snowfunnel","version":"0.1.0","command":"run",
/// "finished_at":"2026-03-01T06:00:00.000Z","outputs":["out/a.csv",…]}`).
fn marker_content(command: &str, written: &[Place]) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    let outputs: Vec<String> = written.iter().map(ToString::to_string).collect();
    let marker = serde_json::json!({
        "tool": "snowfunnel",
        "version": env!("CARGO_PKG_VERSION"),
        "command": command,
        "finished_at": snowfunnel_parse::format_micros(now),
        "outputs": outputs,
    });
    let mut body = serde_json::to_vec_pretty(&marker).unwrap_or_default();
    body.push(b'\n');
    body
}
