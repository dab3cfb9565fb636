//! The body of a state file (the current version): a [`State`], its manifest and what it was
//! built for, laid out in the docs of [`StateFile`], written and read one value at a time, and
//! the checks on the way back (every key id known, no key, variant, funnel or input twice).
//!
//! Reading streams: the keys are interned as they come, the bitmaps and times go straight
//! into the state. A state read into another one ([`StateFile::read_merged`]) translates its
//! key ids as it goes, so a merge never holds a second state.

use std::io::{self, Read, Write};

use roaring::RoaringBitmap;
use snowfunnel_ingest::Counters;
use snowfunnel_keys::{BitmapBuilder, KeyRecord};
use snowfunnel_parse::{BadReason, BadRows};

use super::manifest::{Manifest, ManifestEntry, MergeError, Shards};
use super::wire::{Wire, WireError, WireReader, WireWriter, bad};
use super::{StateFile, StateFileError, malformed};
use crate::breakdown::{FirstValues, MAX_BREAKDOWN_VALUE_BYTES, ValueNames};
use crate::dedup::{Dedup, EventAt, Seen};
use crate::plan::Plan;
use crate::state::{State, VariantSets};
use crate::times::FirstTimes;

/// Writes the body of `state` and `manifest` for `plan`. Pending batches must be finished
/// ([`prepare`]) first, so that it can run twice: once to count the bytes, once to write them.
pub(crate) fn encode<W: Write>(
    plan: &Plan,
    state: &State,
    manifest: &Manifest,
    migrations: &[Vec<(u32, u32)>],
    out: &mut WireWriter<W>,
) -> io::Result<()> {
    assert_eq!(state.funnels.len(), plan.funnels().len(), "a state of another plan");
    assert_eq!(state.experiments.len(), plan.experiments().len(), "a state of another plan");
    // The header.
    out.len(plan.funnels().len())?;
    for funnel in plan.funnels() {
        out.str(&funnel.name)?;
        out.raw(&funnel.fingerprint())?;
    }
    out.len(plan.experiments().len())?;
    for experiment in plan.experiments() {
        out.str(experiment)?;
    }
    out.len(plan.breakdowns.len())?;
    for field in &plan.breakdowns {
        out.str(field.name())?;
    }
    // The manifest and the shards.
    out.len(manifest.len())?;
    for entry in manifest.iter() {
        out.str(&entry.input)?;
        out.varint(entry.size)?;
        out.str(&entry.version)?;
    }
    out.option(manifest.shards().is_some())?;
    if let Some(shards) = manifest.shards() {
        out.varint(u64::from(shards.count()))?;
        out.len(shards.held().len())?;
        for index in shards.held() {
            out.varint(u64::from(index))?;
        }
    }
    // The counters.
    let c = &state.counters;
    out.varint(c.lines)?;
    out.varint(c.events)?;
    out.len(c.bad.counts().len())?;
    for count in c.bad.counts() {
        out.varint(count)?;
    }
    for value in [c.experiment_events, c.experiment_contexts, c.contexts_without_key, c.incomplete_contexts] {
        out.varint(value)?;
    }
    // The keys.
    {
        let keys = state.keys.lock();
        out.len(keys.len())?;
        for id in 0..keys.len() {
            #[allow(clippy::cast_possible_truncation)] // ids are u32 by construction
            let record = keys.record(id as u32);
            out.raw(&[record.tag()])?;
            if KeyRecord::payload_len(record.tag()).is_none() {
                out.len(record.payload().len())?;
            }
            out.raw(record.payload())?;
        }
    }
    // The experiments and the funnels.
    out.len(state.experiments.len())?;
    for (experiment, migrations) in state.experiments.iter().zip(migrations) {
        out.varint(experiment.contexts)?;
        encode_variants(&experiment.variants, out)?;
        out.len(migrations.len())?;
        for &(older, current) in migrations {
            out.varint(u64::from(older))?;
            out.varint(u64::from(current))?;
        }
    }
    out.len(state.funnels.len())?;
    for funnel in &state.funnels {
        encode_variants(&funnel.variants, out)?;
        out.len(funnel.steps.len())?;
        for step in &funnel.steps {
            encode_times(step, out)?;
        }
    }
    // The breakdowns (version 4 on).
    assert_eq!(state.values.len(), plan.breakdowns.len(), "a state of another plan");
    for (b, values) in state.values.iter().enumerate() {
        out.len(values.0.len())?;
        for (hash, value) in &values.0 {
            out.raw(&hash.to_le_bytes())?;
            out.bytes(value)?;
        }
        for funnel in &state.funnels {
            encode_firsts(&funnel.firsts[b], out)?;
        }
    }
    // The events held for the duplicate rule (version 5 on).
    for funnel in &state.funnels {
        encode_dedup(&funnel.dedup, out)?;
    }
    Ok(())
}

/// A funnel's events held for the warehouse's duplicate rule: its variant names, then each
/// event in ascending (month, id) order.
fn encode_dedup<W: Write>(dedup: &Dedup, out: &mut WireWriter<W>) -> io::Result<()> {
    out.len(dedup.variants.len())?;
    for name in &dedup.variants {
        out.str(name)?;
    }
    let mut events: Vec<(&EventAt, &Seen)> = dedup.events.iter().collect();
    events.sort_unstable_by_key(|(at, _)| **at);
    out.len(events.len())?;
    for (&(month, high, low), seen) in events {
        out.signed(i64::from(month))?;
        out.raw(&high.to_le_bytes())?;
        out.raw(&low.to_le_bytes())?;
        out.raw(&[seen.count])?;
        if seen.count != 1 {
            continue;
        }
        out.varint(u64::from(seen.key))?;
        out.varint(u64::from(seen.variant))?;
        out.varint(seen.steps)?;
        out.signed(seen.time)?;
        out.option(seen.accepted)?;
        let more = dedup.more.get(&(month, high, low)).map_or(&[][..], Vec::as_slice);
        out.len(more.len())?;
        for &(key, variant) in more {
            out.varint(u64::from(key))?;
            out.varint(u64::from(variant))?;
        }
    }
    Ok(())
}

fn encode_firsts<W: Write>(firsts: &FirstValues, out: &mut WireWriter<W>) -> io::Result<()> {
    let mut entries: Vec<(u32, (i64, u64))> = firsts.0.iter().map(|(&id, &first)| (id, first)).collect();
    entries.sort_unstable();
    let base = entries.iter().map(|(_, (t, _))| *t).min().unwrap_or(0);
    out.signed(base)?;
    out.len(entries.len())?;
    for (id, (time, hash)) in entries {
        out.varint(u64::from(id))?;
        #[allow(clippy::cast_sign_loss)] // time >= base: the difference fits in u64
        out.varint(time.wrapping_sub(base) as u64)?;
        out.raw(&hash.to_le_bytes())?;
    }
    Ok(())
}

/// Finishes the pending batches of `state`, and returns each experiment's migrations, sorted.
pub(crate) fn prepare(state: &mut State) -> Vec<Vec<(u32, u32)>> {
    for experiment in &mut state.experiments {
        experiment.variants.0.iter_mut().for_each(|(_, b)| {
            b.finish();
        });
    }
    for funnel in &mut state.funnels {
        funnel.variants.0.iter_mut().for_each(|(_, b)| {
            b.finish();
        });
        funnel.steps.iter_mut().for_each(FirstTimes::flush);
    }
    state
        .experiments
        .iter()
        .map(|e| {
            let mut pairs: Vec<(u32, u32)> = e.migrations.iter().copied().collect();
            pairs.sort_unstable();
            pairs
        })
        .collect()
}

fn encode_variants<W: Write>(sets: &VariantSets, out: &mut WireWriter<W>) -> io::Result<()> {
    out.len(sets.0.len())?;
    for (name, bitmap) in &sets.0 {
        out.str(name)?;
        encode_bitmap(bitmap.finished(), out)?;
    }
    Ok(())
}

fn encode_bitmap<W: Write>(bitmap: &RoaringBitmap, out: &mut WireWriter<W>) -> io::Result<()> {
    out.len(bitmap.serialized_size())?;
    bitmap.serialize_into(out)
}

fn encode_times<W: Write>(times: &FirstTimes, out: &mut WireWriter<W>) -> io::Result<()> {
    encode_bitmap(&times.keys(), out)?;
    let base = times.iter().map(|(_, t)| t).min().unwrap_or(0);
    out.signed(base)?;
    out.len(times.len())?;
    for (_, time) in times.iter() {
        #[allow(clippy::cast_sign_loss)] // time >= base: the difference fits in u64
        out.varint(time.wrapping_sub(base) as u64)?;
    }
    Ok(())
}

/// For each funnel of the file, the index of the plan's funnel of that name, when the two sets
/// of funnels are the same.
pub(crate) fn match_funnels<'a>(
    plan: &Plan,
    funnels: impl Iterator<Item = (&'a str, [u8; 32])> + Clone,
) -> Result<Vec<usize>, StateFileError> {
    let mut at = Vec::new();
    let (mut differ, mut not_in_plan) = (Vec::new(), Vec::new());
    for (name, fingerprint) in funnels.clone() {
        match plan.funnels().iter().position(|f| f.name == name) {
            Some(i) if at.contains(&i) => {
                return Err(malformed(format!("funnel {name:?} listed twice")));
            }
            Some(i) => {
                if plan.funnels()[i].fingerprint() != fingerprint {
                    differ.push(name.to_owned());
                }
                at.push(i);
            }
            None => not_in_plan.push(name.to_owned()),
        }
    }
    let not_in_state: Vec<String> = plan
        .funnels()
        .iter()
        .filter(|f| !funnels.clone().any(|(name, _)| name == f.name))
        .map(|f| f.name.clone())
        .collect();
    if differ.is_empty() && not_in_state.is_empty() && not_in_plan.is_empty() {
        Ok(at)
    } else {
        Err(StateFileError::DifferentFunnels { differ, not_in_state, not_in_plan })
    }
}

/// For each experiment of the file, the index of the plan's experiment of that name.
pub(crate) fn match_experiments<'a>(
    plan: &Plan,
    names: impl Iterator<Item = &'a str>,
) -> Result<Vec<usize>, StateFileError> {
    let mut experiment_at = Vec::new();
    for name in names {
        let at = plan.experiment_id(name).ok_or_else(|| malformed(format!("unknown experiment {name:?}")))?;
        if experiment_at.contains(&at) {
            return Err(malformed(format!("experiment {name:?} listed twice")));
        }
        experiment_at.push(at);
    }
    if experiment_at.len() != plan.experiments().len() {
        return Err(malformed("the experiments do not match the funnels"));
    }
    Ok(experiment_at)
}

/// The counters from lines, events, experiment events, experiment contexts, contexts without
/// key and incomplete contexts, and the bad rows per reason.
pub(crate) fn decode_counters(fields: [u64; 6], bad: &[u64]) -> Result<Counters, StateFileError> {
    let counts = bad.try_into().map_err(|_| {
        malformed(format!("{} bad-row reasons, {} expected", bad.len(), BadReason::ALL.len()))
    })?;
    let [lines, events, experiment_events, experiment_contexts, contexts_without_key, incomplete_contexts] =
        fields;
    Ok(Counters {
        lines,
        events,
        bad: BadRows::from_counts(counts),
        experiment_events,
        experiment_contexts,
        contexts_without_key,
        incomplete_contexts,
    })
}

/// Reads a body into `into`: an empty state file ([`StateFile::new`]), or, when `merging`, one
/// the read state merges into (its manifest first, so that an input in both is an error before
/// anything else changes; a later error leaves `into` half merged, for the caller to drop).
pub(crate) fn decode<R: Read>(
    plan: &Plan,
    version: u32,
    wire: &mut WireReader<R>,
    into: &mut StateFile,
    merging: bool,
) -> Wire<()> {
    // The header.
    let mut funnels = Vec::new();
    for _ in 0..wire.len()? {
        let name = wire.string()?;
        let mut fingerprint = [0u8; 32];
        wire.exact(&mut fingerprint)?;
        funnels.push((name, fingerprint));
    }
    let funnel_at = match_funnels(plan, funnels.iter().map(|(name, f)| (name.as_str(), *f)))?;
    let mut experiments = Vec::new();
    for _ in 0..wire.len()? {
        experiments.push(wire.string()?);
    }
    let experiment_at = match_experiments(plan, experiments.iter().map(String::as_str))?;
    // The breakdown fields (version 4 on): each of the plan's must be there; the others are
    // read past and dropped.
    let mut held: Vec<String> = Vec::new();
    if version >= 4 {
        for _ in 0..wire.len()? {
            let name = wire.string()?;
            if held.contains(&name) {
                return bad(format!("breakdown {name:?} listed twice"));
            }
            held.push(name);
        }
    }
    let breakdown_at: Vec<Option<usize>> =
        held.iter().map(|name| plan.breakdowns.iter().position(|f| f.name() == name)).collect();
    check_breakdowns(plan, &held)?;
    held.sort_unstable();
    match &into.state.held {
        Some(before) if merging && *before != held => {
            return Err(WireError::Merge(MergeError::DifferentBreakdowns {
                before: before.clone(),
                this: held,
            }));
        }
        _ => into.state.held = Some(held),
    }

    // The manifest and the shards.
    let mut entries = Vec::new();
    for _ in 0..wire.len()? {
        let (input, size, version) = (wire.string()?, wire.varint()?, wire.string()?);
        entries.push(ManifestEntry { input, size, version });
    }
    let mut manifest = match Manifest::from_entries(entries) {
        Ok(manifest) => manifest,
        Err(e) => return bad(format!("manifest: {e}")),
    };
    if wire.option()? {
        let count = wire.varint_u32()?;
        let mut held = Vec::new();
        for _ in 0..wire.len()? {
            held.push(wire.varint_u32()?);
        }
        let Some(shards) = Shards::from_parts(count, held) else {
            return bad("shards out of range or twice");
        };
        manifest.set_shards(Some(shards));
    }
    if merging {
        into.manifest.merge(manifest).map_err(WireError::Merge)?;
    } else {
        into.manifest = manifest;
    }

    // The counters.
    let (lines, events) = (wire.varint()?, wire.varint()?);
    let reasons = wire.len()?;
    let mut bad_rows = Vec::new();
    for _ in 0..reasons {
        let count = wire.varint()?;
        if bad_rows.len() < BadReason::ALL.len() {
            bad_rows.push(count);
        }
    }
    if reasons != BadReason::ALL.len() as u64 {
        return bad(format!("{reasons} bad-row reasons, {} expected", BadReason::ALL.len()));
    }
    let rest = [wire.varint()?, wire.varint()?, wire.varint()?, wire.varint()?];
    let counters = decode_counters([lines, events, rest[0], rest[1], rest[2], rest[3]], &bad_rows)?;
    into.state.counters.add(&counters);

    let remap = decode_keys(wire, &into.state, merging)?;
    let keys = remap.keys;
    let at = |id: u32| remap.at(id);

    let state = &mut into.state;
    if wire.len()? != experiment_at.len() as u64 {
        return bad("not one entry per experiment");
    }
    for &e in &experiment_at {
        let experiment = &mut state.experiments[e];
        experiment.contexts = experiment.contexts.saturating_add(wire.varint()?);
        decode_variants(wire, keys, &mut experiment.variants, merging, &at)?;
        for _ in 0..wire.len()? {
            let (older, current) = (wire.varint_u32()?, wire.varint_u32()?);
            if older >= keys || current >= keys {
                return bad("a migration names an unknown key id");
            }
            experiment.migrations.insert((at(older), at(current)));
        }
    }
    if wire.len()? != funnel_at.len() as u64 {
        return bad("not one entry per funnel");
    }
    for &f in &funnel_at {
        let funnel = &mut state.funnels[f];
        decode_variants(wire, keys, &mut funnel.variants, merging, &at)?;
        if wire.len()? != funnel.steps.len() as u64 {
            return bad(format!("funnel {:?} has another number of steps", plan.funnels()[f].name));
        }
        for step in &mut funnel.steps {
            let ids = decode_bitmap(wire, keys)?;
            let base = wire.signed()?;
            if wire.len()? != ids.len() {
                return bad("not one time per key of a step");
            }
            for id in &ids {
                let Some(time) = base.checked_add_unsigned(wire.varint()?) else {
                    return bad("a time out of range");
                };
                if merging { step.push(at(id), time) } else { step.push_last(id, time) }
            }
            step.flush();
        }
    }
    // The breakdowns, in the file's order.
    let mut dropped = ValueNames::default();
    let mut dropped_firsts = FirstValues::default();
    for at_plan in breakdown_at {
        let values = match at_plan {
            Some(b) => &mut state.values[b],
            None => {
                dropped.0.clear();
                &mut dropped
            }
        };
        let mut previous = None;
        for _ in 0..wire.len()? {
            let hash = wire.u64_le()?;
            if previous.is_some_and(|p| p >= hash) {
                return bad("breakdown values not in ascending hash order");
            }
            previous = Some(hash);
            let mut value = Vec::new();
            wire.bytes_into(&mut value)?;
            if value.len() > MAX_BREAKDOWN_VALUE_BYTES {
                return bad("a breakdown value longer than its limit");
            }
            values.insert(hash, &value);
        }
        for &f in &funnel_at {
            let firsts = match at_plan {
                Some(b) => &mut state.funnels[f].firsts[b],
                None => {
                    dropped_firsts.0.clear();
                    &mut dropped_firsts
                }
            };
            let base = wire.signed()?;
            let mut previous = None;
            for _ in 0..wire.len()? {
                let id = wire.varint_u32()?;
                if id >= keys {
                    return bad("a breakdown names an unknown key id");
                }
                if previous.is_some_and(|p| p >= id) {
                    return bad("breakdown keys not in ascending order");
                }
                previous = Some(id);
                let Some(time) = base.checked_add_unsigned(wire.varint()?) else {
                    return bad("a time out of range");
                };
                let hash = wire.u64_le()?;
                firsts.push(at(id), time, hash);
            }
        }
    }
    // The events held for the duplicate rule (version 5 on).
    if version >= 5 {
        for &f in &funnel_at {
            let def = &plan.funnels()[f];
            let dedup = &mut state.funnels[f].dedup;
            let held = decode_dedup(wire, keys, def.steps.len(), dedup, &at)?;
            if held && !def.rules.drops_duplicates() {
                return bad(format!("funnel {:?} holds events under the rules of another", def.name));
            }
        }
    }
    Ok(())
}

/// Reads a funnel's events held for the duplicate rule into `dedup`; whether there were any.
fn decode_dedup<R: Read>(
    wire: &mut WireReader<R>,
    keys: u32,
    steps: usize,
    dedup: &mut Dedup,
    at: &impl Fn(u32) -> u32,
) -> Wire<bool> {
    let mut variants: Vec<Box<str>> = Vec::new();
    for _ in 0..wire.len()? {
        let name = wire.string()?;
        if variants.iter().any(|v| **v == *name) {
            return bad(format!("variant {name:?} listed twice"));
        }
        variants.push(name.into());
    }
    let key = |wire: &mut WireReader<R>| -> Wire<u32> {
        let key = wire.varint_u32()?;
        if key >= keys {
            return bad("an event names an unknown key id");
        }
        Ok(at(key))
    };
    let variant = |wire: &mut WireReader<R>| -> Wire<Box<str>> {
        let v = wire.varint()?;
        match usize::try_from(v).ok().and_then(|v| variants.get(v)) {
            Some(name) => Ok(name.clone()),
            None => bad("an event names an unknown variant"),
        }
    };
    let mut previous = None;
    let count = wire.len()?;
    for _ in 0..count {
        let Ok(month) = i32::try_from(wire.signed()?) else { return bad("a month out of range") };
        let event = (month, wire.u64_le()?, wire.u64_le()?);
        if previous.is_some_and(|p| p >= event) {
            return bad("events not in ascending order");
        }
        previous = Some(event);
        let seen_count = wire.byte()?;
        if seen_count == 2 {
            let twice = Seen { time: 0, steps: 0, key: 0, variant: 0, count: 2, accepted: false };
            dedup.absorb(event, twice, "", []);
            continue;
        }
        if seen_count != 1 {
            return bad(format!("an event seen {seen_count} times"));
        }
        let (first, name) = (key(wire)?, variant(wire)?);
        let steps_matched = wire.varint()?;
        if steps < 64 && steps_matched >> steps != 0 {
            return bad("an event matches steps the funnel does not have");
        }
        let time = wire.signed()?;
        let accepted = wire.option()?;
        let mut more = Vec::new();
        for _ in 0..wire.len()? {
            more.push((key(wire)?, variant(wire)?));
        }
        let seen = Seen { time, steps: steps_matched, key: first, variant: 0, count: 1, accepted };
        dedup.absorb(event, seen, &name, more);
    }
    Ok(count > 0)
}

/// Every breakdown field of `plan` must be among those a state file `held`.
pub(crate) fn check_breakdowns(plan: &Plan, held: &[String]) -> Result<(), StateFileError> {
    match plan.breakdowns.iter().find(|f| !held.iter().any(|h| h == f.name())) {
        Some(missing) => {
            Err(StateFileError::MissingBreakdown { field: missing.name().to_owned(), held: held.to_vec() })
        }
        None => Ok(()),
    }
}

/// The key ids of the file translated into the state's.
struct Remap {
    /// Keys in the file.
    keys: u32,
    /// Per file id, the state's id; empty when they are the same.
    ids: Vec<u32>,
}

impl Remap {
    #[inline]
    fn at(&self, id: u32) -> u32 {
        if self.ids.is_empty() { id } else { self.ids[id as usize] }
    }
}

/// Reads the keys into the state's dictionary: with the same ids into an empty one, or
/// translated when merging.
fn decode_keys<R: Read>(wire: &mut WireReader<R>, state: &State, merging: bool) -> Wire<Remap> {
    let count = wire.len()?;
    let mut dict = state.keys.lock();
    let mut ids = Vec::new();
    // Which of the state's keys the file named, to find one named twice.
    let mut named: Vec<u64> = Vec::new();
    let mut payload = Vec::new();
    for at in 0..count {
        let Ok(next) = u32::try_from(at) else { return bad("more than 2^32 keys") };
        let tag = wire.byte()?;
        let len = match KeyRecord::payload_len(tag) {
            Some(len) => len as u64,
            None => wire.len()?,
        };
        payload.clear();
        wire.append(len, &mut payload)?;
        let Some(record) = KeyRecord::checked(tag, &payload) else {
            return bad(format!("key {next} is not stored as its canonical record"));
        };
        let id = dict.intern_record(record);
        let twice = if merging {
            let (word, bit) = (id as usize / 64, id % 64);
            if word >= named.len() {
                named.resize(word + 1, 0);
            }
            let twice = named[word] & (1 << bit) != 0;
            named[word] |= 1 << bit;
            ids.push(id);
            twice
        } else {
            id != next
        };
        if twice {
            return bad(format!("key {next} listed twice"));
        }
    }
    let Ok(keys) = u32::try_from(count) else { return bad("more than 2^32 keys") };
    Ok(Remap { keys, ids })
}

/// A portable roaring bitmap of key ids below `keys`.
fn decode_bitmap<R: Read>(wire: &mut WireReader<R>, keys: u32) -> Wire<RoaringBitmap> {
    let len = wire.len()?;
    let mut bytes = wire.sub_reader(len);
    let bitmap = match RoaringBitmap::deserialize_from(&mut bytes) {
        Ok(bitmap) => bitmap,
        Err(e) if bytes.failed() => return Err(WireError::Io(e)),
        Err(_) if bytes.ended() => return Err(WireError::End),
        Err(e) => return bad(format!("bitmap: {e}")),
    };
    if bytes.left() != 0 {
        return bad("bytes after a bitmap");
    }
    if bitmap.max().is_some_and(|max| max >= keys) {
        return bad("a bitmap holds an unknown key id");
    }
    Ok(bitmap)
}

fn decode_variants<R: Read>(
    wire: &mut WireReader<R>,
    keys: u32,
    sets: &mut VariantSets,
    merging: bool,
    at: &impl Fn(u32) -> u32,
) -> Wire<()> {
    let mut names: Vec<String> = Vec::new();
    for _ in 0..wire.len()? {
        let name = wire.string()?;
        if names.contains(&name) {
            return bad(format!("variant {name:?} listed twice"));
        }
        let bitmap = decode_bitmap(wire, keys)?;
        if merging {
            let builder = sets.entry(&name);
            for id in &bitmap {
                builder.push(at(id));
            }
        } else {
            sets.0.push((name.as_str().into(), BitmapBuilder::from_bitmap(bitmap)));
        }
        names.push(name);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use snowfunnel_ingest::Ingester;

    use crate::{FunnelRecorder, parse_funnel};

    const FUNNEL: &str = "experiment = \"exp\"\n[[steps]]\nname = \"one\"\naction = \"a1\"\n[[steps]]\nname = \"two\"\naction = \"a2\"\n";
    /// 2026-03-01 10:00:00 UTC.
    const TIME: i64 = 1_772_359_200_000_000;

    fn plan() -> Plan {
        Plan::new(vec![parse_funnel("f.toml", "f", FUNNEL).unwrap()])
    }

    /// A state with two keys and a migration between them, by ingesting lines.
    fn ingested(plan: &Plan) -> StateFile {
        let mut ingester = Ingester::new(FunnelRecorder::new(plan));
        let mut state = State::new(plan);
        for (action, key, older) in [("a1", "k1", ""), ("a2", "k2", ",\"migration_keys\":[\"k1\"]")] {
            let mut fields = vec![String::new(); snowfunnel_parse::FIELD_COUNT];
            fields[snowfunnel_parse::fields::COLLECTOR_TSTAMP] = "2026-03-01 10:00:00".into();
            fields[snowfunnel_parse::fields::SE_ACTION] = action.into();
            fields[snowfunnel_parse::fields::CONTEXTS] = format!(
                r#"{{"data":[{{"schema":"iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-0","data":{{"experiment":"exp","key":"{key}","variant":"control"{older}}}}}]}}"#
            );
            ingester.ingest(&mut state, fields.join("\t").as_bytes()).unwrap();
        }
        assert_eq!(state.distinct_keys(), 2);
        StateFile { state, manifest: Manifest::new() }
    }

    fn bitmap(ids: &[u32]) -> Vec<u8> {
        let mut bytes = Vec::new();
        ids.iter().copied().collect::<RoaringBitmap>().serialize_into(&mut bytes).unwrap();
        bytes
    }

    /// The body of [`ingested`], part by part, to break one part at a time.
    struct Parts {
        funnels: Vec<(&'static str, [u8; 32])>,
        experiments: Vec<&'static str>,
        manifest: Vec<(&'static str, u64, &'static str)>,
        bad: Vec<u64>,
        /// `(tag, payload)`.
        keys: Vec<(u8, Vec<u8>)>,
        variants: Vec<(&'static str, Vec<u8>)>,
        migrations: Vec<(u32, u32)>,
        funnel_variants: Vec<(&'static str, Vec<u8>)>,
        /// `(keys, base, offsets)`.
        steps: Vec<(Vec<u8>, i64, Vec<u64>)>,
        /// Funnel entries written (the one above, repeated).
        funnel_entries: usize,
        /// Experiment entries written (the one above, repeated).
        experiment_entries: usize,
    }

    impl Parts {
        fn new(plan: &Plan) -> Parts {
            Parts {
                funnels: vec![("f", plan.funnels()[0].fingerprint())],
                experiments: vec!["exp"],
                manifest: Vec::new(),
                bad: vec![0; BadReason::ALL.len()],
                keys: vec![(2, b"k1".to_vec()), (2, b"k2".to_vec())],
                variants: vec![("control", bitmap(&[0, 1]))],
                migrations: vec![(0, 1)],
                funnel_variants: vec![("control", bitmap(&[0, 1]))],
                steps: vec![(bitmap(&[0]), TIME, vec![0]), (bitmap(&[1]), TIME, vec![0])],
                funnel_entries: 1,
                experiment_entries: 1,
            }
        }

        fn body(&self) -> Vec<u8> {
            let mut w = WireWriter::new(Vec::new());
            let variants = |w: &mut WireWriter<Vec<u8>>, variants: &[(&str, Vec<u8>)]| {
                w.len(variants.len()).unwrap();
                for (name, keys) in variants {
                    w.str(name).unwrap();
                    w.bytes(keys).unwrap();
                }
            };
            w.len(self.funnels.len()).unwrap();
            for (name, fingerprint) in &self.funnels {
                w.str(name).unwrap();
                w.raw(fingerprint).unwrap();
            }
            w.len(self.experiments.len()).unwrap();
            self.experiments.iter().for_each(|e| w.str(e).unwrap());
            // No breakdown fields.
            w.len(0).unwrap();
            w.len(self.manifest.len()).unwrap();
            for (input, size, version) in &self.manifest {
                w.str(input).unwrap();
                w.varint(*size).unwrap();
                w.str(version).unwrap();
            }
            w.option(false).unwrap();
            for value in [2, 2] {
                w.varint(value).unwrap();
            }
            w.len(self.bad.len()).unwrap();
            self.bad.iter().for_each(|&b| w.varint(b).unwrap());
            for value in [2, 2, 0, 0] {
                w.varint(value).unwrap();
            }
            w.len(self.keys.len()).unwrap();
            for (tag, payload) in &self.keys {
                w.raw(&[*tag]).unwrap();
                if KeyRecord::payload_len(*tag).is_none() {
                    w.len(payload.len()).unwrap();
                }
                w.raw(payload).unwrap();
            }
            w.len(self.experiment_entries).unwrap();
            for _ in 0..self.experiment_entries {
                w.varint(2).unwrap();
                variants(&mut w, &self.variants);
                w.len(self.migrations.len()).unwrap();
                for &(a, b) in &self.migrations {
                    w.varint(u64::from(a)).unwrap();
                    w.varint(u64::from(b)).unwrap();
                }
            }
            w.len(self.funnel_entries).unwrap();
            for _ in 0..self.funnel_entries {
                variants(&mut w, &self.funnel_variants);
                w.len(self.steps.len()).unwrap();
                for (keys, base, offsets) in &self.steps {
                    w.bytes(keys).unwrap();
                    w.signed(*base).unwrap();
                    w.len(offsets.len()).unwrap();
                    offsets.iter().for_each(|&o| w.varint(o).unwrap());
                }
            }
            // No events held for the duplicate rule: no variants, no events, per funnel.
            for _ in 0..self.funnel_entries {
                w.len(0).unwrap();
                w.len(0).unwrap();
            }
            w.into_inner()
        }
    }

    /// `body` framed as a state file of the current version, with a checksum that holds.
    fn framed(body: &[u8]) -> Vec<u8> {
        let mut bytes = crate::STATE_MAGIC.to_vec();
        bytes.extend_from_slice(&crate::STATE_FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
        bytes.extend_from_slice(body);
        let checksum = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&checksum.to_le_bytes());
        bytes
    }

    /// The cause of the error of reading the parts changed by `change`.
    fn cause(change: impl FnOnce(&mut Parts)) -> String {
        let plan = plan();
        let mut parts = Parts::new(&plan);
        change(&mut parts);
        match StateFile::read(&plan, framed(&parts.body()).as_slice()) {
            Err(StateFileError::Malformed { cause }) => cause,
            Err(e) => panic!("{e:?}"),
            Ok(_) => panic!("read"),
        }
    }

    #[test]
    fn the_parts_are_what_the_writer_writes() {
        let plan = plan();
        let mut written = Vec::new();
        ingested(&plan).write(&plan, &mut written).unwrap();
        assert_eq!(framed(&Parts::new(&plan).body()), written);
        let mut read = StateFile::read(&plan, written.as_slice()).unwrap();
        assert_eq!(read.state.report(&plan).funnels[0].variants[0].keys_per_step, [1, 1]);
    }

    #[test]
    fn a_body_that_breaks_the_state_invariants_is_malformed() {
        assert_eq!(cause(|p| p.keys[1] = p.keys[0].clone()), "key 1 listed twice");
        assert_eq!(cause(|p| p.keys[1] = (2, b"ab".to_vec())), "key 1 is not stored as its canonical record");
        assert_eq!(cause(|p| p.keys[0] = (0xc0, Vec::new())), "key 0 is not stored as its canonical record");
        assert_eq!(
            cause(|p| {
                p.keys.pop();
            }),
            "a bitmap holds an unknown key id"
        );
        assert_eq!(
            cause(|p| {
                p.keys.pop();
                p.variants[0].1 = bitmap(&[0]);
            }),
            "a migration names an unknown key id"
        );
        let reasons = BadReason::ALL.len();
        assert_eq!(cause(|p| p.bad.push(0)), format!("{} bad-row reasons, {reasons} expected", reasons + 1));
        assert_eq!(
            cause(|p| p.funnel_variants.push(("control", bitmap(&[1])))),
            "variant \"control\" listed twice"
        );
        assert!(cause(|p| p.funnel_variants[0].1.push(0)).contains("bitmap"));
        assert_eq!(cause(|p| p.funnel_variants[0].1[0] ^= 0xff).split(':').next(), Some("bitmap"));
        assert_eq!(cause(|p| p.steps[1].2.push(1)), "not one time per key of a step");
        assert_eq!(
            cause(|p| {
                p.steps[1].1 = i64::MAX;
                p.steps[1].2[0] = 1;
            }),
            "a time out of range"
        );
        assert_eq!(cause(|p| drop(p.steps.pop())), "funnel \"f\" has another number of steps");
        assert_eq!(cause(|p| p.funnel_entries = 0), "not one entry per funnel");
        assert_eq!(cause(|p| p.experiment_entries = 2), "not one entry per experiment");
        assert_eq!(cause(|p| p.experiments[0] = "other"), "unknown experiment \"other\"");
        assert_eq!(cause(|p| p.experiments.push("exp")), "experiment \"exp\" listed twice");
        assert_eq!(
            cause(|p| {
                p.experiments.pop();
            }),
            "the experiments do not match the funnels"
        );
        assert_eq!(cause(|p| p.funnels.push(p.funnels[0])), "funnel \"f\" listed twice");
        assert_eq!(
            cause(|p| p.manifest = vec![("x", 1, "v"), ("x", 1, "v")]),
            "manifest: input x would be counted twice"
        );
    }

    #[test]
    fn a_state_read_into_another_merges_with_it() {
        let plan = plan();
        let mut bytes = Vec::new();
        let mut original = ingested(&plan);
        original.manifest.insert(ManifestEntry { input: "b".into(), size: 1, version: "v".into() }).unwrap();
        original.write(&plan, &mut bytes).unwrap();
        // A state that already holds k2 (as id 0) and another key.
        let mut other = Parts::new(&plan);
        other.keys = vec![(2, b"k2".to_vec()), (4, b"zzzz".to_vec())];
        other.manifest = vec![("a", 1, "v")];
        let into = StateFile::read(&plan, framed(&other.body()).as_slice()).unwrap();
        let mut merged = into.clone();
        merged.merge(StateFile::read(&plan, bytes.as_slice()).unwrap()).unwrap();
        let mut read = into.clone().read_merged(&plan, bytes.as_slice()).unwrap();
        assert_eq!(read.manifest, merged.manifest);
        assert_eq!(read.state.canonical_sets(), merged.state.canonical_sets());
        assert_eq!(read.state.report(&plan), merged.state.report(&plan));
        // The same input twice is an error, as with merge.
        let twice = read.read_merged(&plan, bytes.as_slice()).err().unwrap();
        assert_eq!(twice.to_string(), "input b would be counted twice");
        // An empty state takes the one read as it is.
        let mut alone = StateFile::new(&plan).read_merged(&plan, bytes.as_slice()).unwrap();
        assert_eq!(alone.state.canonical_sets(), original.state.canonical_sets());
    }
}
