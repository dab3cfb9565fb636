//! State files of the versions before the current one, read and upgraded into a [`State`]: a
//! format change never forces a report to count its history again (version 3 is read by the
//! current decoder, as version 4: they are version 5 without breakdowns and without events held
//! for the duplicate rule). Version 2 is version 3
//! with every key as a length-prefixed byte string; version 1 is version 2 without the shards
//! (its states are unsharded). Their bodies are read whole and decoded with postcard, as their
//! builds did; saving the state writes the current version.

use roaring::RoaringBitmap;
use serde::Deserialize;
use serde_bytes::Bytes;
use snowfunnel_ingest::Counters;
use snowfunnel_keys::{BitmapBuilder, KeyRecord};
use snowfunnel_parse::BadReason;

use super::body::{decode_counters, match_experiments, match_funnels};
use super::manifest::{Manifest, ManifestEntry, Shards};
use super::{StateFile, StateFileError, malformed};
use crate::plan::Plan;
use crate::state::{ExperimentState, FunnelState, State, VariantSets};
use crate::times::FirstTimes;

#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow)]
    funnels: Vec<(&'a str, [u8; 32])>,
    #[serde(borrow)]
    experiments: Vec<&'a str>,
}

/// The content of version 2.
#[derive(Deserialize)]
struct Content<'a> {
    manifest: Vec<ManifestEntry>,
    shards: Option<(u32, Vec<u32>)>,
    #[serde(borrow)]
    rest: Rest<'a>,
}

/// The content of version 1: no shards.
#[derive(Deserialize)]
struct ContentV1<'a> {
    manifest: Vec<ManifestEntry>,
    #[serde(borrow)]
    rest: Rest<'a>,
}

/// What follows the manifest (and shards) in both versions.
#[derive(Deserialize)]
struct Rest<'a> {
    counters: CountersBody,
    #[serde(borrow)]
    keys: Vec<&'a Bytes>,
    #[serde(borrow)]
    experiments: Vec<ExperimentBody<'a>>,
    #[serde(borrow)]
    funnels: Vec<FunnelBody<'a>>,
}

#[derive(Deserialize)]
struct CountersBody {
    lines: u64,
    events: u64,
    bad: Vec<u64>,
    experiment_events: u64,
    experiment_contexts: u64,
    contexts_without_key: u64,
    incomplete_contexts: u64,
}

#[derive(Deserialize)]
struct ExperimentBody<'a> {
    contexts: u64,
    #[serde(borrow)]
    variants: Vec<VariantBody<'a>>,
    migrations: Vec<(u32, u32)>,
}

#[derive(Deserialize)]
struct VariantBody<'a> {
    name: &'a str,
    #[serde(borrow)]
    keys: &'a Bytes,
}

#[derive(Deserialize)]
struct FunnelBody<'a> {
    #[serde(borrow)]
    variants: Vec<VariantBody<'a>>,
    #[serde(borrow)]
    steps: Vec<StepBody<'a>>,
}

#[derive(Deserialize)]
struct StepBody<'a> {
    #[serde(borrow)]
    keys: &'a Bytes,
    base: i64,
    offsets: Vec<u64>,
}

/// Decodes the body of a version 1 or 2 state file (its checksum already checked).
pub(crate) fn decode(plan: &Plan, version: u32, body: &[u8]) -> Result<StateFile, StateFileError> {
    let (header, rest): (Header<'_>, _) = postcard::take_from_bytes(body).map_err(malformed)?;
    let names: Vec<(&str, [u8; 32])> = header.funnels;
    let funnel_at = match_funnels(plan, names.iter().map(|&(name, fingerprint)| (name, fingerprint)))?;
    let experiment_at = match_experiments(plan, header.experiments.iter().copied())?;
    let (manifest, shards, rest) = if version == 1 {
        let (content, rest): (ContentV1<'_>, _) = postcard::take_from_bytes(rest).map_err(malformed)?;
        (content.manifest, None, (content.rest, rest))
    } else {
        let (content, rest): (Content<'_>, _) = postcard::take_from_bytes(rest).map_err(malformed)?;
        (content.manifest, content.shards, (content.rest, rest))
    };
    let (content, rest) = rest;
    if !rest.is_empty() {
        return Err(malformed(format!("{} bytes after the content", rest.len())));
    }

    let mut manifest = Manifest::from_entries(manifest).map_err(|e| malformed(format!("manifest: {e}")))?;
    if let Some((count, held)) = shards {
        let shards =
            Shards::from_parts(count, held).ok_or_else(|| malformed("shards out of range or twice"))?;
        manifest.set_shards(Some(shards));
    }
    let mut state = State::new(plan);
    state.forget_names();
    state.counters = counters(&content.counters)?;
    let mut scratch = Vec::new();
    {
        let mut keys = state.keys.lock();
        for (id, key) in content.keys.iter().enumerate() {
            if keys.intern_record(KeyRecord::pack(key, &mut scratch)) as usize != id {
                return Err(malformed(format!("key {id} listed twice")));
            }
        }
    }
    let keys = u32::try_from(state.distinct_keys()).map_err(|_| malformed("more than 2^32 keys"))?;
    if content.experiments.len() != experiment_at.len() {
        return Err(malformed("not one entry per experiment"));
    }
    for (experiment, at) in content.experiments.into_iter().zip(experiment_at) {
        let migrations = experiment.migrations;
        if migrations.iter().any(|&(a, b)| a >= keys || b >= keys) {
            return Err(malformed("a migration names an unknown key id"));
        }
        state.experiments[at] = ExperimentState {
            contexts: experiment.contexts,
            variants: variants(experiment.variants, keys)?,
            migrations: migrations.into_iter().collect(),
        };
    }
    if content.funnels.len() != funnel_at.len() {
        return Err(malformed("not one entry per funnel"));
    }
    for (funnel, at) in content.funnels.into_iter().zip(funnel_at) {
        if funnel.steps.len() != plan.funnels()[at].steps.len() {
            return Err(malformed(format!(
                "funnel {:?} has another number of steps",
                plan.funnels()[at].name
            )));
        }
        state.funnels[at] = FunnelState {
            variants: variants(funnel.variants, keys)?,
            steps: funnel.steps.iter().map(|s| times(s, keys)).collect::<Result<_, _>>()?,
            // Older versions hold no breakdowns, and are not read for a plan with some.
            firsts: Vec::new(),
            // Nor any funnel under the warehouse's rules: their fingerprints are newer.
            dedup: crate::dedup::Dedup::default(),
        };
    }
    Ok(StateFile { state, manifest })
}

fn counters(body: &CountersBody) -> Result<Counters, StateFileError> {
    let fields = [
        body.lines,
        body.events,
        body.experiment_events,
        body.experiment_contexts,
        body.contexts_without_key,
        body.incomplete_contexts,
    ];
    // Versions 1 and 2 predate the last reason, `line_too_long`: such a line stopped the run,
    // so none was counted.
    let mut bad = body.bad.clone();
    if bad.len() + 1 == BadReason::ALL.len() {
        bad.push(0);
    }
    decode_counters(fields, &bad)
}

/// A portable roaring bitmap of key ids below `keys`.
fn bitmap(bytes: &[u8], keys: u32) -> Result<RoaringBitmap, StateFileError> {
    let bitmap = RoaringBitmap::deserialize_from(bytes).map_err(|e| malformed(format!("bitmap: {e}")))?;
    if bitmap.serialized_size() != bytes.len() {
        return Err(malformed("bytes after a bitmap"));
    }
    if bitmap.max().is_some_and(|max| max >= keys) {
        return Err(malformed("a bitmap holds an unknown key id"));
    }
    Ok(bitmap)
}

fn variants(variants: Vec<VariantBody<'_>>, keys: u32) -> Result<VariantSets, StateFileError> {
    let mut sets = VariantSets::default();
    for variant in variants {
        if sets.0.iter().any(|(name, _)| **name == *variant.name) {
            return Err(malformed(format!("variant {:?} listed twice", variant.name)));
        }
        sets.0.push((variant.name.into(), BitmapBuilder::from_bitmap(bitmap(variant.keys, keys)?)));
    }
    Ok(sets)
}

fn times(step: &StepBody<'_>, keys: u32) -> Result<FirstTimes, StateFileError> {
    let ids = bitmap(step.keys, keys)?;
    if ids.len() != step.offsets.len() as u64 {
        return Err(malformed("not one time per key of a step"));
    }
    let mut times = FirstTimes::default();
    for (id, &offset) in ids.iter().zip(&step.offsets) {
        let time = step.base.checked_add_unsigned(offset).ok_or_else(|| malformed("a time out of range"))?;
        times.push_last(id, time);
    }
    times.flush();
    Ok(times)
}
