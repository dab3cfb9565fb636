//! The inputs of a run: local paths and `s3://` prefixes resolved into one list of files and
//! objects, selected by globs and pruned by date, and the means to open each.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use snowfunnel_s3::{S3Options, S3Session, S3Url};

use crate::open::ReadCounter;
use crate::{
    DEFAULT_MAX_LINE_BYTES, DateWindow, InputError, InputFile, Location, Selection, Shard, Source,
    list_inputs,
};

/// How to find inputs, and read them.
#[derive(Debug, Clone)]
pub struct InputOptions {
    /// `--include` / `--exclude`.
    pub selection: Selection,
    /// The run's event-time window, when every funnel has one and pruning is on.
    pub window: Option<DateWindow>,
    /// How to reach S3 (used only when an argument is an `s3://` URL).
    pub s3: S3Options,
    /// The shard of a sharded run: only its inputs are read.
    pub shard: Option<Shard>,
    /// A session to list and read S3 inputs with, shared with the run's other S3 work (state
    /// files, reports); without one, a session is connected with `s3` when an input is on S3.
    pub session: Option<Arc<S3Session>>,
    /// Lines longer than this are handed out as [`crate::Line::TooLong`] (default
    /// [`DEFAULT_MAX_LINE_BYTES`]).
    pub max_line_bytes: usize,
    /// Prefixes to list only after a key (an incremental run's [`crate::listing_start`]):
    /// the objects up to it are not listed at all.
    pub list_after: Vec<(S3Url, String)>,
}

impl Default for InputOptions {
    fn default() -> Self {
        InputOptions {
            selection: Selection::default(),
            window: None,
            s3: S3Options::default(),
            shard: None,
            session: None,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            list_after: Vec::new(),
        }
    }
}

/// Every file and object a run reads, in order: local files (as [`list_inputs`] lists them),
/// then S3 objects, prefix by prefix in the order given, each sorted by key; each input once.
pub struct Inputs {
    files: Vec<InputFile>,
    deselected: u64,
    pruned: u64,
    other_shards: u64,
    s3: Option<Arc<S3Session>>,
    read_bytes: ReadCounter,
    max_line_bytes: usize,
}

impl Inputs {
    /// Lists the inputs `args` name: local files and directories (see [`list_inputs`]) and
    /// `s3://bucket/prefix` URLs (every object under the prefix, or after the key
    /// `options.list_after` gives for it), then keeps those that
    /// `options.selection` selects, `options.window` does not prune and that are in
    /// `options.shard`. A shard may be left with no input.
    ///
    /// # Errors
    /// [`InputError::NotFound`] and [`InputError::Read`] for local paths;
    /// [`InputError::S3`] for an invalid URL, missing credentials, a missing bucket, denied
    /// access, an unreachable endpoint or a prefix without objects.
    pub fn resolve(args: &[PathBuf], options: &InputOptions) -> Result<Inputs, InputError> {
        let (urls, paths): (Vec<&PathBuf>, Vec<&PathBuf>) =
            args.iter().partition(|arg| arg.to_str().is_some_and(S3Url::is_s3));
        let urls: Vec<S3Url> =
            urls.iter().filter_map(|url| url.to_str()).map(S3Url::parse).collect::<Result<_, _>>()?;
        let paths: Vec<PathBuf> = paths.into_iter().cloned().collect();
        let mut listed = list_inputs(&paths)?;
        let s3 = match (urls.is_empty(), &options.session) {
            (true, _) => None,
            (false, Some(session)) => Some(Arc::clone(session)),
            (false, None) => Some(Arc::new(S3Session::connect(options.s3.clone())?)),
        };
        if let Some(session) = &s3 {
            let mut seen = std::collections::HashSet::new();
            for url in &urls {
                let start = options.list_after.iter().find(|(u, _)| u == url).map(|(_, key)| key.as_str());
                let objects = session.list_after(url, start)?;
                let new = objects.into_iter().filter(|o| seen.insert((o.bucket.clone(), o.key.clone())));
                listed.extend(new.map(InputFile::s3));
            }
        }

        let mut inputs = Inputs {
            files: Vec::new(),
            deselected: 0,
            pruned: 0,
            other_shards: 0,
            s3,
            read_bytes: Arc::new(AtomicU64::new(0)),
            max_line_bytes: options.max_line_bytes,
        };
        for file in listed {
            let key = file.key();
            if !options.selection.selects(&key) {
                inputs.deselected += 1;
            } else if options.window.is_some_and(|window| !window.keeps(&key)) {
                inputs.pruned += 1;
            } else if options.shard.is_some_and(|shard| !shard.holds(&file.to_string())) {
                inputs.other_shards += 1;
            } else {
                inputs.files.push(file);
            }
        }
        Ok(inputs)
    }

    /// The inputs to read.
    #[must_use]
    pub fn files(&self) -> &[InputFile] {
        &self.files
    }

    /// Inputs left out by `--include` / `--exclude`.
    #[must_use]
    pub fn deselected(&self) -> u64 {
        self.deselected
    }

    /// Inputs left out because their dates fall outside the window.
    #[must_use]
    pub fn pruned(&self) -> u64 {
        self.pruned
    }

    /// Inputs left to the other shards of a sharded run.
    #[must_use]
    pub fn other_shards(&self) -> u64 {
        self.other_shards
    }

    /// Keeps only the inputs for which `keep` is true (an incremental run drops those it
    /// counted before); returns how many were dropped.
    pub fn retain(&mut self, keep: impl FnMut(&InputFile) -> bool) -> usize {
        let before = self.files.len();
        self.files.retain(keep);
        before - self.files.len()
    }

    /// Stored bytes read so far by every source opened here.
    #[must_use]
    pub fn read_bytes(&self) -> u64 {
        self.read_bytes.load(Ordering::Relaxed)
    }

    /// Opens `file`. An S3 object starts downloading at once, in the background, up to the
    /// client's concurrency; its bytes reach the source's reader through a bounded buffer.
    /// Read each source to its end (or drop it) before waiting on sources opened later.
    ///
    /// # Errors
    /// [`InputError::Read`] when a local file cannot be opened.
    pub fn open(&self, file: &InputFile) -> Result<Source, InputError> {
        let source = match (&file.location, &self.s3) {
            (Location::S3(object), Some(session)) => Source::from_reader(file.clone(), session.open(object)),
            _ => Source::open(file)?,
        };
        Ok(source.counting(Arc::clone(&self.read_bytes)).max_line_bytes(self.max_line_bytes))
    }
}
