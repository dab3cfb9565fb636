//! Atomic file output: write to a temporary file in the destination's directory, then rename.
//!
//! Every temporary file of this process is recorded until it is renamed into place or
//! dropped, so that an interrupted run can remove them all ([`remove_temporary_files`]), and
//! its name carries the process's identity (`.snowfunnel-<pid>-<start>-XXXXXX.tmp`), so that a
//! later run can tell the files of a process that is gone from those of one still running
//! ([`remove_stale_temporary_files`]).

use std::collections::HashSet;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

use tempfile::NamedTempFile;

/// The start of every temporary file name.
const TEMP_PREFIX: &str = ".snowfunnel-";
/// The end of every temporary file name.
const TEMP_SUFFIX: &str = ".tmp";
/// A temporary file whose maker cannot be asked whether it is still running (one named by an
/// earlier version, which does not say which process made it; a temporary S3 object, which any
/// machine may have made) is stale once it is this old.
pub const STALE_UNOWNED_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// A file being written; it appears at its destination only on [`AtomicFile::commit`].
/// Dropped without commit, it leaves nothing behind.
pub struct AtomicFile {
    /// `None` once renamed into place.
    temp: Option<NamedTempFile>,
    dest: PathBuf,
}

impl AtomicFile {
    /// Starts writing `dest` (its directory must exist).
    ///
    /// # Errors
    /// When the temporary file cannot be created.
    pub fn create(dest: &Path) -> io::Result<Self> {
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let prefix = format!("{TEMP_PREFIX}{}-", process_tag());
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(TEMP_SUFFIX);
        // Temporary files are private (0600) by default; reports are ordinary files.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
        // Recorded while the registry is held, so that an interrupt sees every file created.
        let mut live = live_files();
        let temp = builder.tempfile_in(dir)?;
        live.insert(temp.path().to_owned());
        Ok(AtomicFile { temp: Some(temp), dest: dest.to_owned() })
    }

    /// The destination path.
    #[must_use]
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Flushes and syncs the content to disk without renaming it into place: a full disk or
    /// any other write error shows here, before anything is committed.
    ///
    /// # Errors
    /// When flushing or syncing fails.
    pub fn finish(&mut self) -> io::Result<()> {
        let temp = self.temp_mut()?;
        temp.flush()?;
        temp.as_file().sync_all()
    }

    /// Flushes, syncs and renames the file into place.
    ///
    /// # Errors
    /// When flushing, syncing or renaming fails.
    pub fn commit(mut self) -> io::Result<()> {
        self.finish()?;
        let mut live = live_files();
        let Some(temp) = self.temp.take() else { return Err(renamed()) };
        let temp_path = temp.path().to_owned();
        match temp.persist(&self.dest) {
            Ok(_) => {
                live.remove(&temp_path);
                Ok(())
            }
            Err(e) => {
                // Still there: removed with the handle, when this is dropped.
                self.temp = Some(e.file);
                Err(e.error)
            }
        }
    }

    fn temp_mut(&mut self) -> io::Result<&mut NamedTempFile> {
        self.temp.as_mut().ok_or_else(renamed)
    }
}

fn renamed() -> io::Error {
    io::Error::other("the file was already renamed into place")
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // Not committed (or the rename failed): the temporary file goes with the handle.
        if let Some(temp) = &self.temp {
            live_files().remove(temp.path());
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.temp_mut()?.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.temp_mut()?.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.temp_mut()?.flush()
    }
}

/// Commits every file, in order. All were fully written before, so a failure here can only
/// come from the file system (a rename); the error names the file.
///
/// # Errors
/// The first file that cannot be committed, with its path.
pub fn commit_all(files: Vec<AtomicFile>) -> Result<(), (PathBuf, io::Error)> {
    for f in files {
        let dest = f.dest.clone();
        f.commit().map_err(|e| (dest, e))?;
    }
    Ok(())
}

/// A new name for a temporary object staged beside its destination where files cannot be
/// created through [`AtomicFile`] (an S3 object): `.snowfunnel-<pid>-<start>-<n>.tmp`, unique
/// in this process, which [`is_temporary_name`] recognises.
#[must_use]
pub fn temporary_name() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{TEMP_PREFIX}{}-{nanos:09}{n}{TEMP_SUFFIX}", process_tag())
}

/// Whether `name` (a file name, or the last part of an S3 key) is one of snowfunnel's
/// temporary names.
#[must_use]
pub fn is_temporary_name(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)
}

/// The start of every temporary name, to list them under a prefix.
pub const TEMPORARY_NAME_PREFIX: &str = TEMP_PREFIX;

/// The temporary files of this process not yet committed or dropped.
fn live_files() -> MutexGuard<'static, HashSet<PathBuf>> {
    static LIVE: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    LIVE.get_or_init(Mutex::default).lock().unwrap_or_else(PoisonError::into_inner)
}

/// Held while a run commits its outputs: [`commit_guard`] hands it out, and
/// [`remove_temporary_files`] waits for it, so that an interrupt never lands between two
/// renames of one commit.
static COMMITTING: Mutex<()> = Mutex::new(());

/// Blocks interrupts' clean-up while held: hold it over the renames that commit a run's
/// outputs, so that they all happen or none.
pub fn commit_guard() -> MutexGuard<'static, ()> {
    COMMITTING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Removes every temporary file this process has not committed, once no commit is under way,
/// and keeps any more from being committed: for an interrupted run about to exit. Returns how
/// many it removed.
pub fn remove_temporary_files() -> usize {
    // Never released: the process exits next.
    std::mem::forget(commit_guard());
    let mut live = live_files();
    let removed = live.iter().filter(|path| std::fs::remove_file(path).is_ok()).count();
    live.clear();
    std::mem::forget(live);
    removed
}

/// Removes the temporary files in `dir` that earlier runs left behind (killed before they
/// could remove them): those named by a process that is no longer running, and those of
/// earlier versions, which do not name their process, once a day old. Files of processes
/// still running (another run writing to the same directory) are left alone. Returns the
/// files removed; a directory that does not exist has none.
///
/// # Errors
/// When `dir` cannot be listed, or a stale file cannot be removed.
pub fn remove_stale_temporary_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let own = process_tag();
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(middle) = name.strip_prefix(TEMP_PREFIX).and_then(|n| n.strip_suffix(TEMP_SUFFIX)) else {
            continue;
        };
        if !entry.file_type()?.is_file() {
            continue;
        }
        let stale = match parse_tag(middle) {
            // This process's own files are live, never stale.
            Some(tag) if tag == own => false,
            Some(tag) => !tag.is_running(),
            None => entry
                .metadata()?
                .modified()
                .ok()
                .and_then(|modified| SystemTime::now().duration_since(modified).ok())
                .is_some_and(|age| age >= STALE_UNOWNED_AFTER),
        };
        if stale {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed.push(entry.path()),
                // Another run cleaned it up first.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    removed.sort();
    Ok(removed)
}

/// Which process made a temporary file: its id, and its start time (in clock ticks since
/// boot, as `/proc/<pid>/stat` gives it, so that a process id used again, as in containers
/// where every run is process 1, is not taken for the one that made the file; 0 where it is
/// not known).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ProcessTag {
    pid: u32,
    start: u64,
}

impl std::fmt::Display for ProcessTag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.pid, self.start)
    }
}

impl ProcessTag {
    /// Whether the process is still running. Where this cannot be known (no `/proc`), it is
    /// taken to be, and its files are left alone.
    fn is_running(self) -> bool {
        if !Path::new("/proc/self/stat").exists() {
            return true;
        }
        match start_time(&format!("/proc/{}/stat", self.pid)) {
            Some(start) => self.start == 0 || start == self.start,
            None => false,
        }
    }
}

/// This process's tag.
fn process_tag() -> ProcessTag {
    static TAG: OnceLock<ProcessTag> = OnceLock::new();
    *TAG.get_or_init(|| ProcessTag {
        pid: std::process::id(),
        start: start_time("/proc/self/stat").unwrap_or(0),
    })
}

/// The start time (field 22) of the process whose `stat` file is at `path`.
fn start_time(path: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count from its end.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_ascii_whitespace().nth(19)?.parse().ok()
}

/// The tag at the start of the middle of a temporary file name (`<pid>-<start>-XXXXXX`).
fn parse_tag(middle: &str) -> Option<ProcessTag> {
    let mut parts = middle.splitn(3, '-');
    let pid = parts.next()?.parse().ok()?;
    let start = parts.next()?.parse().ok()?;
    parts.next()?;
    Some(ProcessTag { pid, start })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn nothing_appears_until_commit() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.csv");
        std::fs::write(&dest, "old").unwrap();
        let mut f = AtomicFile::create(&dest).unwrap();
        f.write_all(b"new").unwrap();
        f.finish().unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "old");
        f.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "new");
        let dropped = AtomicFile::create(&dir.path().join("never.csv")).unwrap();
        drop(dropped);
        assert_eq!(names(dir.path()), vec!["out.csv"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777, 0o644);
        }
    }

    #[test]
    fn temporary_names_carry_the_process_and_are_recorded_until_committed() {
        let dir = tempfile::tempdir().unwrap();
        let f = AtomicFile::create(&dir.path().join("a.csv")).unwrap();
        let temp = f.temp.as_ref().unwrap().path().to_owned();
        let name = temp.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(name.starts_with(&format!(".snowfunnel-{}-", std::process::id())), "{name}");
        assert!(live_files().contains(&temp));
        f.commit().unwrap();
        assert!(!live_files().contains(&temp));
    }

    #[test]
    fn stale_files_of_gone_processes_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let own = AtomicFile::create(&dir.path().join("mine.csv")).unwrap();
        // Process ids above the kernel's maximum (4194304) are never running.
        std::fs::write(dir.path().join(".snowfunnel-4999999-123-abcdef.tmp"), "x").unwrap();
        // A running process (this one) with another start time: its id was used again.
        let reused = format!(".snowfunnel-{}-1-abcdef.tmp", std::process::id());
        std::fs::write(dir.path().join(&reused), "x").unwrap();
        // An earlier version's name, recent: kept.
        std::fs::write(dir.path().join(".snowfunnel-Ab3dEf.tmp"), "x").unwrap();
        std::fs::write(dir.path().join("report.csv"), "x").unwrap();
        let removed = remove_stale_temporary_files(dir.path()).unwrap();
        let removed: Vec<String> =
            removed.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        let mut expected = vec![".snowfunnel-4999999-123-abcdef.tmp".to_owned()];
        if Path::new("/proc/self/stat").exists() {
            expected.push(reused);
            expected.sort();
        }
        assert_eq!(removed, expected);
        let left = names(dir.path());
        assert!(left.contains(
            &own.temp.as_ref().unwrap().path().file_name().unwrap().to_string_lossy().into_owned()
        ));
        assert!(left.contains(&".snowfunnel-Ab3dEf.tmp".to_owned()));
        assert!(left.contains(&"report.csv".to_owned()));
        assert!(remove_stale_temporary_files(&dir.path().join("missing")).unwrap().is_empty());
    }

    #[test]
    fn tags_read_back() {
        let tag = process_tag();
        assert_eq!(parse_tag(&format!("{tag}-x1Y2z3")), Some(tag));
        assert_eq!(parse_tag("Ab3dEf"), None);
        assert!(tag.is_running());
    }
}
