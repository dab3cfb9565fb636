//! State files in `run` and `merge`: which shard a run is, the previous state of an
//! incremental run and the inputs it already counted, the manifest of what a run read, and
//! reading and writing states wherever they are kept.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow};
use snowfunnel_engine::{
    InputStatus, Manifest, ManifestEntry, MergeError, Plan, ReadMergeError, StateFile, StateFileError,
};
use snowfunnel_input::{InputFile, Inputs, Shard, listing_start};
use snowfunnel_s3::S3Url;

use crate::cli::StateArgs;
use crate::exit::{ExitCodeExt, Failure, USAGE};
use crate::outputs::{Outputs, Role};
use crate::store::{Place, Store};

/// Where `--shard-from-env` looks for the shard index, in this order.
pub(crate) const SHARD_INDEX_VARIABLES: [(&str, &str); 2] = [
    ("JOB_COMPLETION_INDEX", "Kubernetes Indexed Job"),
    ("AWS_BATCH_JOB_ARRAY_INDEX", "AWS Batch array job"),
];

/// What `{shard}` in `--state-out` becomes.
const SHARD_PLACEHOLDER: &str = "{shard}";

/// The shard this run reads: `--shard`, or `--shard-from-env` with `--shard-count`.
pub(crate) fn shard(args: &StateArgs) -> Result<Option<Shard>, Failure> {
    if args.shard.is_some() || !args.shard_from_env {
        return Ok(args.shard);
    }
    let count = args.shard_count.context("--shard-from-env needs --shard-count").exit_code(USAGE)?;
    let Some((variable, value)) = SHARD_INDEX_VARIABLES
        .iter()
        .find_map(|(name, _)| std::env::var(name).ok().map(|value| (*name, value)))
    else {
        let names: Vec<String> =
            SHARD_INDEX_VARIABLES.iter().map(|(n, what)| format!("{n} ({what})")).collect();
        return Err(anyhow!("--shard-from-env: none of {} is set", names.join(", "))).exit_code(USAGE);
    };
    let index: u32 = value
        .trim()
        .parse()
        .map_err(|_| anyhow!("--shard-from-env: {variable}={value:?} is not a shard index"))
        .exit_code(USAGE)?;
    let shard = Shard::new(index, count)
        .with_context(|| format!("--shard-from-env: {variable}={value} with --shard-count {count}"))
        .exit_code(USAGE)?;
    Ok(Some(shard))
}

/// Where the run's state goes: `--state-out` (with `{shard}` replaced by the shard index), or
/// back to `--state`.
pub(crate) fn state_out(args: &StateArgs, shard: Option<Shard>) -> Result<Option<Place>, Failure> {
    let Some(path) = args.state_out.as_ref().or(args.state.as_ref()) else {
        return Ok(None);
    };
    let text = path.to_string_lossy();
    let path = match (text.contains(SHARD_PLACEHOLDER), shard) {
        (true, Some(shard)) => text.replace(SHARD_PLACEHOLDER, &shard.index().to_string()).into(),
        (true, None) => {
            return Err(anyhow!("--state-out {text}: {SHARD_PLACEHOLDER} is only replaced in sharded runs"))
                .exit_code(USAGE);
        }
        (false, _) => path.clone(),
    };
    let place = Place::parse(&path).exit_code(USAGE)?;
    place.check_file().exit_code(USAGE)?;
    Ok(Some(place))
}

/// The state saved at `place`, or `None` when there is none yet.
pub(crate) fn load(store: &Store, plan: &Plan, place: &Place) -> Result<Option<StateFile>, Failure> {
    match store.open(place)? {
        Some(input) => Ok(Some(StateFile::read(plan, input).map_err(|e| read_error(place, e))?)),
        None => Ok(None),
    }
}

/// The state saved at `place`, which must exist, merged into `into` as it is read (so that a
/// merge never holds two whole states).
pub(crate) fn load_merged(
    store: &Store,
    plan: &Plan,
    place: &Place,
    into: StateFile,
) -> Result<StateFile, Failure> {
    let input = store.open(place)?.ok_or_else(|| anyhow!("state file {place}: no such file"))?;
    into.read_merged(plan, input).map_err(|e| match e {
        ReadMergeError::Read(e) => read_error(place, e),
        ReadMergeError::Merge(e @ MergeError::DifferentBreakdowns { .. }) => {
            anyhow::Error::new(e).context(format!("merging {place}")).into()
        }
        ReadMergeError::Merge(e) => anyhow::Error::new(e)
            .context(format!("merging {place}: the states to merge must come from runs over disjoint inputs"))
            .into(),
    })
}

fn read_error(place: &Place, e: StateFileError) -> Failure {
    let hint = match e {
        StateFileError::DifferentFunnels { .. } | StateFileError::UnsupportedVersion { .. } => {
            "; with --state, --rebuild counts every input again for these funnels"
        }
        _ => "",
    };
    anyhow::Error::new(e).context(format!("state file {place}{hint}")).into()
}

/// Stages `state` for `place` in `outputs`, in the current format version: it is written when
/// they are committed, last.
pub(crate) fn stage(
    outputs: &mut Outputs<'_>,
    plan: &Plan,
    place: &Place,
    state: &mut StateFile,
) -> Result<(), Failure> {
    outputs
        .stage_with(Role::State, place.clone(), |out| state.write(plan, out))
        .with_context(|| format!("writing state file {place}"))?;
    Ok(())
}

/// Checks that a state about to be reported on holds every shard of its sharded run, if it
/// comes from one; with `allow_missing`, a partial state passes with a warning; `remedy` ends
/// the error. Returns a line for the summary.
pub(crate) fn check_shards(
    manifest: &Manifest,
    allow_missing: bool,
    remedy: &str,
) -> Result<Option<String>, Failure> {
    let Some(shards) = manifest.shards() else {
        return Ok(None);
    };
    let missing = shards.missing();
    if missing.is_empty() {
        return Ok(Some(format!("all {} of a sharded run", shards.count())));
    }
    let list = missing.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
    let what = format!("{} of {} (missing: {list})", shards.held().len(), shards.count());
    if !allow_missing {
        return Err(anyhow!("the states hold shards {what}: {remedy}").into());
    }
    eprintln!("snowfunnel: warning: the reports cover shards {what} only");
    Ok(Some(format!("{what}: partial")))
}

/// How a manifest records `file`.
pub(crate) fn entry(file: &InputFile) -> ManifestEntry {
    ManifestEntry { input: file.to_string(), size: file.size, version: file.version() }
}

/// The manifest of the inputs read completely (`read`: indexes in `inputs.files()`).
pub(crate) fn manifest(inputs: &Inputs, read: &[usize]) -> Result<Manifest, Failure> {
    Ok(Manifest::from_entries(read.iter().map(|&i| entry(&inputs.files()[i])))?)
}

/// Drops the inputs `counted` already holds, unchanged; returns how many. An input that
/// changed since it was counted is an error: its old events cannot be taken out of the state.
pub(crate) fn skip_counted(inputs: &mut Inputs, counted: &Manifest, state: &Path) -> Result<u64, Failure> {
    for file in inputs.files() {
        let now = entry(file);
        if let InputStatus::Changed { counted } = counted.status(&now) {
            return Err(anyhow!(
                "{file} changed since the state {} counted it (then {} bytes, {}; now {} bytes, {}): \
                 its old events cannot be taken out; run with --rebuild to count every input again",
                state.display(),
                counted.size,
                shown_version(&counted.version),
                now.size,
                shown_version(&now.version)
            )
            .into());
        }
    }
    let dropped = inputs.retain(|file| counted.status(&entry(file)) == InputStatus::New);
    Ok(dropped as u64)
}

/// Where listing each `s3://` input of `inputs` may start for an incremental run whose state
/// counted `counted`, at `now` (see [`listing_start`]): the prefixes whose counted keys sort by
/// date, each with the key to list after.
pub(crate) fn listing_starts(
    inputs: &[PathBuf],
    counted: &Manifest,
    now: SystemTime,
) -> Vec<(S3Url, String)> {
    let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    let mut starts: Vec<(S3Url, String)> = Vec::new();
    for arg in inputs {
        let Some(Ok(url)) = arg.to_str().filter(|arg| S3Url::is_s3(arg)).map(S3Url::parse) else {
            continue;
        };
        if starts.iter().any(|(listed, _)| *listed == url) {
            continue;
        }
        let bucket = format!("s3://{}/", url.bucket);
        let under = url.to_string();
        let keys = counted.under(&under).filter_map(|entry| entry.input.strip_prefix(&bucket));
        if let Some(key) = listing_start(&url.prefix, keys, now) {
            starts.push((url, key));
        }
    }
    starts
}

fn shown_version(version: &str) -> &str {
    if version.is_empty() { "no version" } else { version }
}
