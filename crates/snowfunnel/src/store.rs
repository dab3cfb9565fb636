//! Where reports and state files go, and where state files come from: a local path or an
//! `s3://bucket/key` URL, behind one interface. S3 is connected to at first use only.

use std::cell::OnceCell;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Result, bail};
use snowfunnel_input::{Location, list_inputs};
use snowfunnel_s3::{S3Options, S3Session, S3Url};

use crate::outputs::check_key;

/// A file or directory named on the command line: local, or on S3 (a key, or a key prefix
/// for a directory).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// A local path.
    Local(PathBuf),
    /// An S3 object key, or a key prefix standing for a directory.
    S3(S3Url),
}

impl Place {
    /// `s3://bucket/key` (or prefix) URLs are S3; anything else is a local path.
    pub(crate) fn parse(arg: &Path) -> Result<Place> {
        match arg.to_str() {
            Some(url) if S3Url::is_s3(url) => Ok(Place::S3(S3Url::parse(url)?)),
            _ => Ok(Place::Local(arg.to_owned())),
        }
    }

    /// The file `name` in this directory (an S3 prefix gets a `/` first unless it ends in one
    /// or is empty).
    pub(crate) fn join(&self, name: &str) -> Place {
        match self {
            Place::Local(dir) => Place::Local(dir.join(name)),
            Place::S3(url) => {
                let sep = if url.prefix.is_empty() || url.prefix.ends_with('/') { "" } else { "/" };
                Place::S3(S3Url { bucket: url.bucket.clone(), prefix: format!("{}{sep}{name}", url.prefix) })
            }
        }
    }

    /// Checks that this can name a file to write: not an S3 bucket or folder, not a local
    /// directory. Called before a run's work, so that a bad path does not waste it.
    pub(crate) fn check_file(&self) -> Result<()> {
        match self {
            Place::S3(url) => check_key(url),
            Place::Local(path) if path.is_dir() => bail!("{}: is a directory, not a file", path.display()),
            Place::Local(_) => Ok(()),
        }
    }

    /// Whether this names a directory rather than a file: a local directory, or an S3 prefix
    /// that is empty or ends in `/`.
    fn is_dir(&self) -> bool {
        match self {
            Place::Local(path) => path.is_dir(),
            Place::S3(url) => url.prefix.is_empty() || url.prefix.ends_with('/'),
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Local(path) => path.display().fmt(f),
            Place::S3(url) => url.fmt(f),
        }
    }
}

/// Reads and writes [`Place`]s, connecting to S3 at first use.
pub(crate) struct Store {
    options: S3Options,
    s3: OnceCell<Arc<S3Session>>,
}

impl Store {
    /// A store that reaches S3 with `options` when it needs to.
    pub(crate) fn new(options: S3Options) -> Store {
        Store { options, s3: OnceCell::new() }
    }

    fn s3(&self) -> Result<&Arc<S3Session>> {
        if let Some(session) = self.s3.get() {
            return Ok(session);
        }
        let session = Arc::new(S3Session::connect(self.options.clone())?);
        Ok(self.s3.get_or_init(|| session))
    }

    /// The run's S3 session, connected now if it was not yet: for reading inputs with the
    /// same client (and credentials, resolved once) as state files and reports.
    pub(crate) fn session(&self) -> Result<Arc<S3Session>> {
        self.s3().map(Arc::clone)
    }

    /// The S3 options sessions are connected with.
    pub(crate) fn options(&self) -> &S3Options {
        &self.options
    }

    /// The content of the file at `place` as it is read (an S3 object as it downloads), or
    /// `None` when there is no such file: for a state file, decoded as it arrives.
    pub(crate) fn open(&self, place: &Place) -> Result<Option<Box<dyn Read>>> {
        match place {
            Place::Local(path) => match std::fs::File::open(path) {
                Ok(file) => Ok(Some(Box::new(file))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(anyhow::Error::new(e).context(format!("reading {}", path.display()))),
            },
            Place::S3(url) => {
                check_key(url)?;
                let s3 = self.s3()?;
                Ok(s3
                    .head(&url.bucket, &url.prefix)?
                    .map(|object| Box::new(s3.open(&object)) as Box<dyn Read>))
            }
        }
    }

    /// The files `args` name, for `merge`: a file stands for itself; a local directory or an
    /// S3 prefix ending in `/` for every file under it whose name ends in `suffix`, in sorted
    /// order.
    pub(crate) fn expand(&self, args: &[PathBuf], suffix: &str) -> Result<Vec<Place>> {
        let mut places = Vec::new();
        for arg in args {
            let place = Place::parse(arg)?;
            if !place.is_dir() {
                places.push(place);
                continue;
            }
            let before = places.len();
            match &place {
                Place::Local(dir) => {
                    for file in list_inputs(std::slice::from_ref(dir))? {
                        if let Location::Local(path) = file.location
                            && path.to_string_lossy().ends_with(suffix)
                        {
                            places.push(Place::Local(path));
                        }
                    }
                }
                Place::S3(url) => {
                    for object in self.s3()?.list(url)? {
                        if object.key.ends_with(suffix) {
                            let url = S3Url { bucket: object.bucket, prefix: object.key };
                            places.push(Place::S3(url));
                        }
                    }
                }
            }
            if places.len() == before {
                bail!("no *{suffix} files under {place}");
            }
        }
        Ok(places)
    }
}
