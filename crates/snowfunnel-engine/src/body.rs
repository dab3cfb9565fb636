//! The body of a state file: a [`State`], its manifest and what it was built for, as the
//! postcard structs laid out in the docs of [`StateFile`], and their checks on
//! the way back (every key id known, no key, variant, funnel or input twice).

use std::borrow::Cow;

use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};
use serde_bytes::Bytes;
use snowfunnel_parse::{BadReason, BadRows};

use crate::bitmap::BitmapBuilder;
use crate::manifest::{Manifest, ManifestEntry, Shards};
use crate::persist::{StateFile, StateFileError, malformed};
use crate::plan::Plan;
use crate::state::{Counters, ExperimentState, FunnelState, State, VariantSets};
use crate::times::FirstTimes;

#[derive(Serialize, Deserialize)]
pub(crate) struct Header<'a> {
    #[serde(borrow)]
    funnels: Vec<FunnelHeader<'a>>,
    #[serde(borrow)]
    experiments: Vec<&'a str>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct FunnelHeader<'a> {
    name: &'a str,
    fingerprint: [u8; 32],
}

#[derive(Serialize, Deserialize)]
pub(crate) struct Content<'a> {
    manifest: Vec<ManifestEntry>,
    shards: Option<(u32, Vec<u32>)>,
    counters: CountersBody,
    #[serde(borrow)]
    keys: Vec<&'a Bytes>,
    #[serde(borrow)]
    experiments: Vec<ExperimentBody<'a>>,
    #[serde(borrow)]
    funnels: Vec<FunnelBody<'a>>,
}

#[derive(Serialize, Deserialize)]
struct CountersBody {
    lines: u64,
    events: u64,
    bad: Vec<u64>,
    experiment_events: u64,
    experiment_contexts: u64,
    contexts_without_key: u64,
    incomplete_contexts: u64,
}

#[derive(Serialize, Deserialize)]
struct ExperimentBody<'a> {
    contexts: u64,
    #[serde(borrow)]
    variants: Vec<VariantBody<'a>>,
    migrations: Vec<(u32, u32)>,
}

#[derive(Serialize, Deserialize)]
struct VariantBody<'a> {
    name: &'a str,
    #[serde(borrow, with = "serde_bytes")]
    keys: Cow<'a, [u8]>,
}

#[derive(Serialize, Deserialize)]
struct FunnelBody<'a> {
    #[serde(borrow)]
    variants: Vec<VariantBody<'a>>,
    #[serde(borrow)]
    steps: Vec<StepBody<'a>>,
}

#[derive(Serialize, Deserialize)]
struct StepBody<'a> {
    #[serde(borrow, with = "serde_bytes")]
    keys: Cow<'a, [u8]>,
    base: i64,
    offsets: Vec<u64>,
}

pub(crate) fn encode(plan: &Plan, state: &mut State, manifest: &Manifest) -> Vec<u8> {
    assert_eq!(state.funnels.len(), plan.funnels().len(), "a state of another plan");
    assert_eq!(state.experiments.len(), plan.experiments().len(), "a state of another plan");
    let header = Header {
        funnels: plan
            .funnels()
            .iter()
            .map(|f| FunnelHeader { name: &f.name, fingerprint: f.fingerprint() })
            .collect(),
        experiments: plan.experiments().iter().map(String::as_str).collect(),
    };
    let State { keys, counters, experiments, funnels } = state;
    #[allow(clippy::cast_possible_truncation)] // ids are u32 by construction
    let content = Content {
        manifest: manifest.iter().cloned().collect(),
        shards: manifest.shards().map(|s| (s.count(), s.held().collect())),
        counters: CountersBody {
            lines: counters.lines,
            events: counters.events,
            bad: counters.bad.counts().to_vec(),
            experiment_events: counters.experiment_events,
            experiment_contexts: counters.experiment_contexts,
            contexts_without_key: counters.contexts_without_key,
            incomplete_contexts: counters.incomplete_contexts,
        },
        keys: (0..keys.len()).map(|id| Bytes::new(keys.get(id as u32))).collect(),
        experiments: experiments
            .iter_mut()
            .map(|e| {
                let mut migrations: Vec<(u32, u32)> = e.migrations.iter().copied().collect();
                migrations.sort_unstable();
                ExperimentBody {
                    contexts: e.contexts,
                    variants: encode_variants(&mut e.variants),
                    migrations,
                }
            })
            .collect(),
        funnels: funnels
            .iter_mut()
            .map(|f| FunnelBody {
                variants: encode_variants(&mut f.variants),
                steps: f.steps.iter().map(encode_times).collect(),
            })
            .collect(),
    };
    let body = postcard::to_stdvec(&header).expect("encoding into memory cannot fail");
    postcard::to_extend(&content, body).expect("encoding into memory cannot fail")
}

fn encode_variants(sets: &mut VariantSets) -> Vec<VariantBody<'_>> {
    sets.0
        .iter_mut()
        .map(|(name, bitmap)| VariantBody { keys: Cow::Owned(portable(bitmap.finish())), name })
        .collect()
}

fn encode_times(times: &FirstTimes) -> StepBody<'static> {
    let mut pairs: Vec<(u32, i64)> = times.iter().collect();
    pairs.sort_unstable();
    let keys: RoaringBitmap =
        RoaringBitmap::from_sorted_iter(pairs.iter().map(|&(id, _)| id)).expect("sorted");
    let base = pairs.iter().map(|&(_, t)| t).min().unwrap_or(0);
    StepBody {
        keys: Cow::Owned(portable(&keys)),
        base,
        #[allow(clippy::cast_sign_loss)] // t >= base: the difference fits in u64
        offsets: pairs.iter().map(|&(_, t)| t.wrapping_sub(base) as u64).collect(),
    }
}

fn portable(bitmap: &RoaringBitmap) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(bitmap.serialized_size());
    bitmap.serialize_into(&mut bytes).expect("writing into memory cannot fail");
    bytes
}

/// Decodes the body of a state file of format `version` (one [`StateFile::read`] accepts).
pub(crate) fn decode(plan: &Plan, body: &[u8], version: u32) -> Result<StateFile, StateFileError> {
    let (header, rest): (Header<'_>, _) = postcard::take_from_bytes(body).map_err(malformed)?;
    let funnel_at = match_funnels(plan, &header.funnels)?;
    let mut experiment_at = Vec::with_capacity(header.experiments.len());
    for name in &header.experiments {
        let at = plan.experiment_id(name).ok_or_else(|| malformed(format!("unknown experiment {name:?}")))?;
        if experiment_at.contains(&at) {
            return Err(malformed(format!("experiment {name:?} listed twice")));
        }
        experiment_at.push(at);
    }
    if experiment_at.len() != plan.experiments().len() {
        return Err(malformed("the experiments do not match the funnels"));
    }
    let (content, rest): (Content<'_>, _) = postcard::take_from_bytes(rest).map_err(malformed)?;
    if !rest.is_empty() {
        return Err(malformed(format!("{} bytes after the content", rest.len())));
    }

    let mut manifest =
        Manifest::from_entries(content.manifest).map_err(|e| malformed(format!("manifest: {e}")))?;
    if let Some((count, held)) = content.shards {
        let shards =
            Shards::from_parts(count, held).ok_or_else(|| malformed("shards out of range or twice"))?;
        manifest.set_shards(Some(shards));
    }
    let mut state = State::new(plan);
    state.counters = decode_counters(&content.counters, version)?;
    for (id, key) in content.keys.iter().enumerate() {
        if state.keys.intern(key) as usize != id {
            return Err(malformed(format!("key {id} listed twice")));
        }
    }
    let keys = u32::try_from(state.keys.len()).map_err(|_| malformed("more than 2^32 keys"))?;
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
            variants: decode_variants(experiment.variants, keys)?,
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
            variants: decode_variants(funnel.variants, keys)?,
            steps: funnel.steps.into_iter().map(|s| decode_times(&s, keys)).collect::<Result<_, _>>()?,
        };
    }
    Ok(StateFile { state, manifest })
}

/// For each funnel of the file, the index of the plan's funnel of that name, when the two sets
/// of funnels are the same.
fn match_funnels(plan: &Plan, funnels: &[FunnelHeader<'_>]) -> Result<Vec<usize>, StateFileError> {
    let mut at = Vec::with_capacity(funnels.len());
    let (mut differ, mut not_in_plan) = (Vec::new(), Vec::new());
    for header in funnels {
        match plan.funnels().iter().position(|f| f.name == header.name) {
            Some(i) if at.contains(&i) => {
                return Err(malformed(format!("funnel {:?} listed twice", header.name)));
            }
            Some(i) => {
                if plan.funnels()[i].fingerprint() != header.fingerprint {
                    differ.push(header.name.to_owned());
                }
                at.push(i);
            }
            None => not_in_plan.push(header.name.to_owned()),
        }
    }
    let not_in_state: Vec<String> = plan
        .funnels()
        .iter()
        .filter(|f| !funnels.iter().any(|h| h.name == f.name))
        .map(|f| f.name.clone())
        .collect();
    if differ.is_empty() && not_in_state.is_empty() && not_in_plan.is_empty() {
        Ok(at)
    } else {
        Err(StateFileError::DifferentFunnels { differ, not_in_state, not_in_plan })
    }
}

/// The counters; a version 2 file counts every reason but the last, `line_too_long` (0 then:
/// such a line stopped the run).
fn decode_counters(body: &CountersBody, version: u32) -> Result<Counters, StateFileError> {
    let reasons = if version == 2 { BadReason::ALL.len() - 1 } else { BadReason::ALL.len() };
    if body.bad.len() != reasons {
        return Err(malformed(format!("{} bad-row reasons, {reasons} expected", body.bad.len())));
    }
    let mut bad = [0; BadReason::ALL.len()];
    bad[..reasons].copy_from_slice(&body.bad);
    Ok(Counters {
        lines: body.lines,
        events: body.events,
        bad: BadRows::from_counts(bad),
        experiment_events: body.experiment_events,
        experiment_contexts: body.experiment_contexts,
        contexts_without_key: body.contexts_without_key,
        incomplete_contexts: body.incomplete_contexts,
    })
}

/// A portable roaring bitmap of key ids below `keys`.
fn decode_bitmap(bytes: &[u8], keys: u32) -> Result<RoaringBitmap, StateFileError> {
    let bitmap = RoaringBitmap::deserialize_from(bytes).map_err(|e| malformed(format!("bitmap: {e}")))?;
    if bitmap.serialized_size() != bytes.len() {
        return Err(malformed("bytes after a bitmap"));
    }
    if bitmap.max().is_some_and(|max| max >= keys) {
        return Err(malformed("a bitmap holds an unknown key id"));
    }
    Ok(bitmap)
}

fn decode_variants(variants: Vec<VariantBody<'_>>, keys: u32) -> Result<VariantSets, StateFileError> {
    let mut sets = VariantSets::default();
    for variant in variants {
        if sets.0.iter().any(|(name, _)| **name == *variant.name) {
            return Err(malformed(format!("variant {:?} listed twice", variant.name)));
        }
        let bitmap = decode_bitmap(&variant.keys, keys)?;
        sets.0.push((variant.name.into(), BitmapBuilder::from_bitmap(bitmap)));
    }
    Ok(sets)
}

fn decode_times(step: &StepBody<'_>, keys: u32) -> Result<FirstTimes, StateFileError> {
    let ids = decode_bitmap(&step.keys, keys)?;
    if ids.len() != step.offsets.len() as u64 {
        return Err(malformed("not one time per key of a step"));
    }
    let mut times = FirstTimes::with_capacity(step.offsets.len());
    for (id, &offset) in ids.iter().zip(&step.offsets) {
        let time = step.base.checked_add_unsigned(offset).ok_or_else(|| malformed("a time out of range"))?;
        times.push(id, time);
    }
    Ok(times)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::write_framed;
    use crate::{Ingester, parse_funnel};

    const FUNNEL: &str = "experiment = \"exp\"\n[[steps]]\nname = \"one\"\naction = \"a1\"\n[[steps]]\nname = \"two\"\naction = \"a2\"\n";

    /// A plan, and the body of a state with two keys and a migration between them.
    fn body(plan: &Plan) -> Vec<u8> {
        let mut ingester = Ingester::new(plan);
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
        encode(plan, &mut state, &Manifest::new())
    }

    /// The cause of the error of reading `body` changed by `change`.
    fn cause(change: impl FnOnce(&mut Header<'_>, &mut Content<'_>)) -> String {
        let plan = Plan::new(vec![parse_funnel("f.toml", "f", FUNNEL).unwrap()]);
        let body = body(&plan);
        let (mut header, rest): (Header<'_>, _) = postcard::take_from_bytes(&body).unwrap();
        let mut content: Content<'_> = postcard::from_bytes(rest).unwrap();
        change(&mut header, &mut content);
        let body = postcard::to_extend(&content, postcard::to_stdvec(&header).unwrap()).unwrap();
        let mut bytes = Vec::new();
        write_framed(&body, &mut bytes).unwrap();
        match StateFile::read(&plan, bytes.as_slice()) {
            Err(StateFileError::Malformed { cause }) => cause,
            Err(e) => panic!("{e:?}"),
            Ok(_) => panic!("read"),
        }
    }

    #[test]
    fn an_unchanged_body_reads() {
        let plan = Plan::new(vec![parse_funnel("f.toml", "f", FUNNEL).unwrap()]);
        let mut bytes = Vec::new();
        write_framed(&body(&plan), &mut bytes).unwrap();
        let mut file = StateFile::read(&plan, bytes.as_slice()).unwrap();
        assert_eq!(file.state.report(&plan).funnels[0].variants[0].keys_per_step, [1, 1]);
    }

    #[test]
    fn a_body_that_breaks_the_state_invariants_is_malformed() {
        assert_eq!(cause(|_, c| c.keys[1] = c.keys[0]), "key 1 listed twice");
        assert_eq!(
            cause(|_, c| {
                c.keys.pop();
            }),
            "a migration names an unknown key id"
        );
        assert_eq!(
            cause(|_, c| {
                c.keys.pop();
                c.experiments[0].migrations.clear();
            }),
            "a bitmap holds an unknown key id"
        );
        let reasons = BadReason::ALL.len();
        assert_eq!(
            cause(|_, c| c.counters.bad.push(0)),
            format!("{} bad-row reasons, {reasons} expected", reasons + 1)
        );
        assert_eq!(
            cause(|_, c| {
                let twice = VariantBody { name: "control", keys: c.funnels[0].variants[0].keys.clone() };
                c.funnels[0].variants.push(twice);
            }),
            "variant \"control\" listed twice"
        );
        assert!(cause(|_, c| c.funnels[0].variants[0].keys.to_mut().push(0)).contains("bitmap"));
        assert_eq!(
            cause(|_, c| c.funnels[0].variants[0].keys.to_mut()[0] ^= 0xff).split(':').next(),
            Some("bitmap")
        );
        assert_eq!(cause(|_, c| c.funnels[0].steps[1].offsets.push(1)), "not one time per key of a step");
        assert_eq!(
            cause(|_, c| {
                c.funnels[0].steps[1].base = i64::MAX;
                c.funnels[0].steps[1].offsets[0] = 1;
            }),
            "a time out of range"
        );
        assert_eq!(cause(|_, c| drop(c.funnels[0].steps.pop())), "funnel \"f\" has another number of steps");
        assert_eq!(cause(|_, c| drop(c.funnels.pop())), "not one entry per funnel");
        assert_eq!(cause(|_, c| drop(c.experiments.pop())), "not one entry per experiment");
        assert_eq!(cause(|h, _| h.experiments[0] = "other"), "unknown experiment \"other\"");
        assert_eq!(cause(|h, _| h.experiments.push("exp")), "experiment \"exp\" listed twice");
        assert_eq!(
            cause(|h, _| {
                h.experiments.pop();
            }),
            "the experiments do not match the funnels"
        );
        assert_eq!(
            cause(|h, _| h.funnels.push(FunnelHeader { name: "f", fingerprint: h.funnels[0].fingerprint })),
            "funnel \"f\" listed twice"
        );
        let entry = ManifestEntry { input: "x".into(), size: 1, version: "v".into() };
        assert_eq!(
            cause(|_, c| c.manifest = vec![entry.clone(), entry]),
            "manifest: input x would be counted twice"
        );
    }
}
