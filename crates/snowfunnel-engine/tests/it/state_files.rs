//! State files: what is read back reports and merges like what was written, and every way a
//! file can be wrong is an error that says which.

use proptest::prelude::*;
use snowfunnel_engine::{
    CohortBy, Funnel, FunnelRecorder, FunnelReport, Inference, Manifest, ManifestEntry, Plan, ReportOptions,
    RunReport, STATE_FORMAT_VERSION, STATE_MAGIC, State, StateFile, StateFileError, parse_funnel,
};
use snowfunnel_gen::{GenConfig, Line, generate};
use snowfunnel_ingest::Ingester;

use crate::lines::{line, migrated_line};
use crate::reference::{funnel, shape};

const WALKTHROUGH: &str = include_str!("../../../../funnels/pipeline_editor_walkthrough.toml");
const NUDGE: &str = include_str!("../../../../funnels/security_scan_nudge.toml");
const TRIAL: &str = include_str!("../../../../funnels/trial_onboarding_issues.toml");

/// The bundled funnels, and the walkthrough again as a sequential funnel with a window.
fn funnels() -> Vec<Funnel> {
    let sequential =
        format!("name = \"walkthrough_in_order\"\norder = \"sequential\"\nwindow = \"2d\"\n{WALKTHROUGH}");
    vec![
        parse_funnel("walkthrough.toml", "pipeline_editor_walkthrough", WALKTHROUGH).unwrap(),
        parse_funnel("nudge.toml", "security_scan_nudge", NUDGE).unwrap(),
        parse_funnel("trial.toml", "trial_onboarding_issues", TRIAL).unwrap(),
        parse_funnel("in_order.toml", "in_order", &sequential).unwrap(),
    ]
}

fn ingest(plan: &Plan, lines: &[Line]) -> State {
    let mut ingester = Ingester::new(FunnelRecorder::new(plan));
    let mut state = State::new(plan);
    for l in lines {
        let _ = ingester.ingest(&mut state, l.to_tsv().as_bytes());
    }
    state
}

fn entry(input: &str) -> ManifestEntry {
    ManifestEntry { input: input.into(), size: input.len() as u64, version: format!("etag-{input}") }
}

fn state_file(state: State, inputs: &[&str]) -> StateFile {
    StateFile { state, manifest: Manifest::from_entries(inputs.iter().map(|i| entry(i))).unwrap() }
}

fn write(plan: &Plan, file: &mut StateFile) -> Vec<u8> {
    let mut bytes = Vec::new();
    file.write(plan, &mut bytes).unwrap();
    bytes
}

fn by_day(state: &mut State, plan: &Plan) -> RunReport {
    state.report_with(plan, ReportOptions { cohorts: Some(CohortBy::Day), ..ReportOptions::default() })
}

#[test]
fn a_state_read_back_reports_like_the_one_written() {
    let plan = Plan::new(funnels());
    let lines = generate(&GenConfig::new(11, 8_000));
    for lines in [&lines[..], &[]] {
        let mut original = state_file(ingest(&plan, lines), &["s3://bucket/a.gz", "local/b.gz"]);
        let bytes = write(&plan, &mut original);
        assert!(bytes.starts_with(&STATE_MAGIC));
        let mut read = StateFile::read(&plan, bytes.as_slice()).unwrap();
        assert_eq!(read.manifest, original.manifest);
        assert_eq!(read.state.canonical_sets(), original.state.canonical_sets());
        let report = by_day(&mut original.state, &plan);
        assert_eq!(by_day(&mut read.state, &plan), report);
        if !lines.is_empty() {
            let reached_step_2 = |f: &FunnelReport| f.variants.iter().any(|v| v.keys_per_step[1] > 0);
            assert!(report.funnels.iter().all(reached_step_2), "data that exercises the funnels");
        }
        assert_eq!(read.state.distinct_keys(), original.state.distinct_keys());
        // Key ids, variant order, everything: written again, the same bytes.
        assert_eq!(write(&plan, &mut read), bytes);
    }
}

#[test]
fn migrations_survive_the_round_trip() {
    let plan = Plan::new(vec![parse_funnel("f.toml", "f", WALKTHROUGH).unwrap()]);
    let exp = "pipeline_editor_walkthrough";
    let t = "2026-03-02 10:00:00.000";
    let tsv = [
        line("gitlab", t, "view_editor", &[(exp, "a", "control")]),
        migrated_line("gitlab", t, "view_editor", &[(exp, "b", "control", &["a"])]),
        migrated_line("gitlab", t, "view_editor", &[(exp, "c", "candidate", &["b"])]),
    ];
    let mut ingester = Ingester::new(FunnelRecorder::new(&plan));
    let mut state = State::new(&plan);
    for l in &tsv {
        ingester.ingest(&mut state, l.as_bytes()).unwrap();
    }
    let mut original = state_file(state, &[]);
    let mut read = StateFile::read(&plan, write(&plan, &mut original).as_slice()).unwrap();
    let report = read.state.report(&plan);
    assert_eq!((report.experiments[0].keys, report.experiments[0].conflicting_keys), (1, 1));
    assert_eq!(report, original.state.report(&plan));
}

#[test]
fn read_states_merge_like_the_originals() {
    let plan = Plan::new(funnels());
    let lines = generate(&GenConfig::new(5, 6_000));
    let parts: Vec<&[Line]> = lines.chunks(2_000).collect();
    let mut originals = State::new(&plan);
    let mut read = StateFile::new(&plan);
    for (i, part) in parts.iter().enumerate() {
        let state = ingest(&plan, part);
        originals.merge(state.clone());
        let mut file = state_file(state, &[&format!("part-{i}")]);
        let bytes = write(&plan, &mut file);
        read.merge(StateFile::read(&plan, bytes.as_slice()).unwrap()).unwrap();
    }
    let mut whole = ingest(&plan, &lines);
    assert_eq!(read.state.canonical_sets(), originals.canonical_sets());
    assert_eq!(read.state.canonical_sets(), whole.canonical_sets());
    assert_eq!(by_day(&mut read.state, &plan), by_day(&mut whole, &plan));
    let inputs: Vec<&str> = read.manifest.iter().map(|e| e.input.as_str()).collect();
    assert_eq!(inputs, ["part-0", "part-1", "part-2"]);
}

#[test]
fn the_same_input_in_two_states_is_an_error_not_a_double_count() {
    let plan = Plan::new(funnels());
    let lines = generate(&GenConfig::new(3, 2_000));
    let mut a = state_file(ingest(&plan, &lines), &["s3://b/x.gz", "s3://b/y.gz"]);
    let b = state_file(ingest(&plan, &lines), &["s3://b/y.gz"]);
    let before = a.state.report(&plan);
    let e = a.merge(b).unwrap_err();
    assert_eq!(e.to_string(), "input s3://b/y.gz would be counted twice");
    assert_eq!(a.state.report(&plan), before, "nothing merged");
    assert_eq!(a.manifest.len(), 2);
}

#[test]
fn funnels_may_come_in_another_order_and_formatting() {
    let plan = Plan::new(funnels());
    let mut original = state_file(ingest(&plan, &generate(&GenConfig::new(9, 5_000))), &[]);
    let bytes = write(&plan, &mut original);
    let mut reordered = funnels();
    reordered.reverse();
    // The same walkthrough funnel, written differently.
    reordered[3] = parse_funnel(
        "elsewhere.toml",
        "pipeline_editor_walkthrough",
        &format!("# moved and reformatted\ncontrol = \"control\"\norder = \"any\"\n{WALKTHROUGH}"),
    )
    .unwrap();
    let reordered = Plan::new(reordered);
    let mut read = StateFile::read(&reordered, bytes.as_slice()).unwrap();
    let mut got = read.state.report(&reordered);
    let mut want = original.state.report(&plan);
    got.funnels.sort_by(|a, b| a.name.cmp(&b.name));
    want.funnels.sort_by(|a, b| a.name.cmp(&b.name));
    got.experiments.sort_by(|a, b| a.experiment.cmp(&b.experiment));
    want.experiments.sort_by(|a, b| a.experiment.cmp(&b.experiment));
    assert_eq!(got, want);
}

#[test]
fn a_state_is_read_with_another_inference() {
    // `inference` and `sequential_tuning` change the statistics of the report, not what a state
    // counts: a state counted for fixed-horizon funnels is read for sequential ones and back.
    let fixed = funnels();
    let sequential: Vec<Funnel> = funnels()
        .into_iter()
        .enumerate()
        .map(|(i, mut f)| {
            f.inference = Inference::Sequential { tuning: if i % 2 == 0 { 5_000.0 } else { 200.0 } };
            f
        })
        .collect();
    assert_ne!(fixed, sequential);
    let (fixed, sequential) = (Plan::new(fixed), Plan::new(sequential));
    let lines = generate(&GenConfig::new(4, 2_000));
    let mut original = state_file(ingest(&fixed, &lines), &["a.gz"]);
    let bytes = write(&fixed, &mut original);
    let mut read = StateFile::read(&sequential, bytes.as_slice()).unwrap();
    assert_eq!(read.state.report(&sequential), original.state.report(&fixed));
    let again = write(&sequential, &mut read);
    assert_eq!(again, bytes, "the same state, written for either inference");
    StateFile::read(&fixed, again.as_slice()).unwrap();
}

fn read_err(plan: &Plan, bytes: &[u8]) -> StateFileError {
    match StateFile::read(plan, bytes) {
        Ok(_) => panic!("read {} bytes without error", bytes.len()),
        Err(e) => e,
    }
}

#[test]
fn other_funnels_are_an_error_naming_them() {
    let plan = Plan::new(funnels());
    let mut original = state_file(ingest(&plan, &generate(&GenConfig::new(2, 1_000))), &[]);
    let bytes = write(&plan, &mut original);

    let mut changed = funnels();
    let text =
        format!("name = \"walkthrough_in_order\"\norder = \"sequential\"\nwindow = \"3d\"\n{WALKTHROUGH}");
    changed[3] = parse_funnel("in_order.toml", "in_order", &text).unwrap();
    let e = read_err(&Plan::new(changed), &bytes);
    assert!(
        matches!(&e, StateFileError::DifferentFunnels { differ, not_in_state, not_in_plan }
            if differ == &["walkthrough_in_order"] && not_in_state.is_empty() && not_in_plan.is_empty()),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "the state was built for other funnels: \"walkthrough_in_order\" defined differently"
    );

    let mut fewer = funnels();
    fewer.remove(1);
    let mut extra = funnels();
    extra.push(parse_funnel("new.toml", "new_funnel", NUDGE).unwrap());
    let e = read_err(&Plan::new(fewer), &bytes).to_string();
    assert_eq!(
        e,
        "the state was built for other funnels: \"security_scan_nudge\" in the state but not given"
    );
    let e = read_err(&Plan::new(extra), &bytes).to_string();
    assert_eq!(e, "the state was built for other funnels: \"new_funnel\" not in the state");
}

#[test]
fn planning_settings_do_not_change_what_a_state_counts() {
    // `mde` and `denominator` change how the counts are read, not what is counted: a state
    // written with one value is read with another.
    let plan = Plan::new(funnels());
    let lines = generate(&GenConfig::new(2, 1_000));
    let mut original = state_file(ingest(&plan, &lines), &[]);
    let bytes = write(&plan, &mut original);
    let mut planned = funnels();
    let text = format!("mde = 0.05\ndenominator = \"exposed\"\n{WALKTHROUGH}");
    planned[0] = parse_funnel("walkthrough.toml", "pipeline_editor_walkthrough", &text).unwrap();
    let planned = Plan::new(planned);
    let mut read = StateFile::read(&planned, bytes.as_slice()).unwrap();
    assert_eq!(read.state.report(&planned), ingest(&planned, &lines).report(&planned));
}

#[test]
fn not_a_state_file() {
    let plan = Plan::new(funnels());
    for bytes in [&b"\x1f\x8b\x08\x00 gzip"[..], b"experiment = \"x\"\n", b"snowfunnel-statf\x01\0\0\0", b"S"]
    {
        assert!(matches!(read_err(&plan, bytes), StateFileError::NotAStateFile), "{bytes:?}");
    }
    assert_eq!(StateFileError::NotAStateFile.to_string(), "not a snowfunnel state file");
}

/// A small state file, and the funnels it was written for.
fn small() -> (Plan, Vec<u8>) {
    let plan = Plan::new(funnels());
    let mut file = state_file(ingest(&plan, &generate(&GenConfig::new(1, 600))), &["s3://b/one.gz"]);
    let bytes = write(&plan, &mut file);
    (plan, bytes)
}

#[test]
fn another_format_version_is_an_error() {
    let (plan, mut bytes) = small();
    for version in [0, STATE_FORMAT_VERSION + 1, u32::MAX] {
        bytes[16..20].copy_from_slice(&version.to_le_bytes());
        let e = read_err(&plan, &bytes);
        assert!(
            matches!(e, StateFileError::UnsupportedVersion { found, expected } if found == version && expected == STATE_FORMAT_VERSION),
            "{e:?}"
        );
    }
    assert_eq!(
        read_err(&plan, &bytes).to_string(),
        format!(
            "state file format version 4294967295 is not supported: this snowfunnel reads versions 1 to {STATE_FORMAT_VERSION}"
        )
    );
}

#[test]
fn a_file_cut_anywhere_is_truncated() {
    let (plan, bytes) = small();
    assert!(bytes.len() > 1_000, "a state with some content: {} bytes", bytes.len());
    for cut in 0..bytes.len() {
        let e = read_err(&plan, &bytes[..cut]);
        let StateFileError::Truncated { found, expected } = e else { panic!("cut at {cut}: {e:?}") };
        assert_eq!(found, cut as u64);
        assert_eq!(expected, if cut < 28 { 28 } else { bytes.len() as u64 }, "cut at {cut}");
    }
}

#[test]
fn every_flipped_bit_is_caught() {
    let (plan, bytes) = small();
    for at in 0..bytes.len() {
        for bit in 0..8 {
            let mut flipped = bytes.clone();
            flipped[at] ^= 1 << bit;
            let e = read_err(&plan, &flipped);
            let expected = match at {
                0..16 => matches!(e, StateFileError::NotAStateFile),
                // Another version: one this build does not know, or an older one, whose head
                // then fails the checksum.
                16..20 => matches!(
                    e,
                    StateFileError::UnsupportedVersion { .. } | StateFileError::ChecksumMismatch { .. }
                ),
                // The body length: longer than the file is truncated, shorter takes body bytes
                // for the checksum.
                20..28 => {
                    matches!(e, StateFileError::Truncated { .. } | StateFileError::ChecksumMismatch { .. })
                }
                _ => matches!(e, StateFileError::ChecksumMismatch { .. }),
            };
            assert!(expected, "bit {bit} of byte {at}: {e:?}");
        }
    }
}

#[test]
fn random_damage_is_always_an_error() {
    let (plan, bytes) = small();
    // xorshift64: deterministic, and enough to spread the damage.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |below: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % below as u64) as usize
    };
    for _ in 0..2_000 {
        let mut damaged = bytes.clone();
        for _ in 0..=next(8) {
            let at = 28 + next(bytes.len() - 28);
            damaged[at] = next(256) as u8;
        }
        if damaged != bytes {
            assert!(matches!(read_err(&plan, &damaged), StateFileError::ChecksumMismatch { .. }));
        }
    }
}

/// `body` framed as a state file, with a checksum that holds.
fn framed(body: &[u8]) -> Vec<u8> {
    let mut bytes = STATE_MAGIC.to_vec();
    bytes.extend_from_slice(&STATE_FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
    bytes.extend_from_slice(body);
    let checksum = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&checksum.to_le_bytes());
    bytes
}

#[test]
fn a_body_that_does_not_decode_is_malformed() {
    let (plan, bytes) = small();
    let body = &bytes[28..bytes.len() - 4];
    assert_eq!(framed(body), bytes, "framed() frames as the writer does");
    let malformed = |bytes: &[u8]| match read_err(&plan, bytes) {
        StateFileError::Malformed { cause } => cause,
        e => panic!("{e:?}"),
    };
    let mut longer = body.to_vec();
    longer.push(0);
    assert_eq!(malformed(&framed(&longer)), "1 bytes after the content");
    let cut = malformed(&framed(&body[..body.len() - 1]));
    assert_eq!(cut, "the content runs past the end of the body");
    assert_eq!(malformed(&[&bytes[..], b"x"].concat()), "data after the checksum");
    assert_eq!(malformed(&framed(&[])), "the content runs past the end of the body");
    let e = read_err(&plan, &framed(&[1, 0xff, 0xff, 0xff, 0xff, 0x0f])).to_string();
    assert!(e.starts_with("the state file body is malformed: "), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Sharded runs: each shard's state written and read back, all merged, give the report of
    /// one state over everything.
    #[test]
    fn shards_written_read_and_merged_equal_one_run(
        seed in any::<u64>(),
        events in 200usize..2500,
        shapes in proptest::collection::vec(shape(), 1..4),
        shard_of in proptest::collection::vec(0usize..4, 64),
        reverse in any::<bool>(),
    ) {
        let config = GenConfig { keys_per_experiment: events / 15 + 5, ..GenConfig::new(seed, events) };
        let lines = generate(&config);
        let funnels: Vec<Funnel> =
            shapes.iter().enumerate().map(|(i, s)| funnel(&config.experiments, s, i)).collect();
        let plan = Plan::new(funnels);
        // Lines go to shards in runs of 37 (as files would), by the random shard_of.
        let mut shards: Vec<Vec<Line>> = vec![Vec::new(); 4];
        for (i, run) in lines.chunks(37).enumerate() {
            shards[shard_of[i % shard_of.len()]].extend_from_slice(run);
        }
        let mut files: Vec<StateFile> = shards
            .iter()
            .enumerate()
            .map(|(i, lines)| {
                let mut file = state_file(ingest(&plan, lines), &[&format!("shard-{i}")]);
                StateFile::read(&plan, write(&plan, &mut file).as_slice()).unwrap()
            })
            .collect();
        if reverse {
            files.reverse();
        }
        let mut merged = StateFile::new(&plan);
        for file in files {
            merged.merge(file).unwrap();
        }
        let mut whole = ingest(&plan, &lines);
        prop_assert_eq!(by_day(&mut merged.state, &plan), by_day(&mut whole, &plan));
        prop_assert_eq!(merged.state.canonical_sets(), whole.canonical_sets());
        prop_assert_eq!(merged.manifest.len(), 4);
    }
}

/// A small state of every kind of content (two variants, a conflicting key, a migration, a bad
/// row, first times), as a golden file of the current format version.
fn golden_state() -> (Plan, StateFile) {
    let text = "name = \"golden\"\nexperiment = \"exp\"\norder = \"sequential\"\n[[steps]]\nname = \"one\"\naction = \"a1\"\n[[steps]]\nname = \"two\"\naction = \"a2\"\n";
    let plan = Plan::new(vec![parse_funnel("golden.toml", "golden", text).unwrap()]);
    let tsv = [
        line("gitlab", "2026-03-01 10:00:00.000", "a1", &[("exp", "k1", "control")]),
        line("gitlab", "2026-03-01 10:05:00.000", "a2", &[("exp", "k1", "control")]),
        line("gitlab", "2026-03-02 08:00:00.000", "a1", &[("exp", "k2", "candidate")]),
        migrated_line("gitlab", "2026-03-02 09:00:00.000", "a2", &[("exp", "k3", "candidate", &["k2"])]),
        line(
            "gitlab",
            "2026-03-01 11:00:00.000",
            "a1",
            &[("exp", "k4", "control"), ("exp", "k4", "candidate")],
        ),
        "not an event".to_owned(),
    ];
    let mut ingester = Ingester::new(FunnelRecorder::new(&plan));
    let mut state = State::new(&plan);
    for l in &tsv {
        let _ = ingester.ingest(&mut state, l.as_bytes());
    }
    let mut file = state_file(state, &["s3://bucket/2026/03/01/part-0.gz"]);
    file.manifest.set_shard(1, 4);
    (plan, file)
}

const GOLDEN: &str = "tests/it/data/state-v5.snowfunnel";

/// The golden files of the versions before, written from the same state by the builds of their
/// time (version 1 had no shards: its state is unsharded).
const OLDER: [(u32, &str); 4] = [
    (1, "tests/it/data/state-v1.snowfunnel"),
    (2, "tests/it/data/state-v2.snowfunnel"),
    (3, "tests/it/data/state-v3.snowfunnel"),
    (4, "tests/it/data/state-v4.snowfunnel"),
];

fn golden(path: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// The bytes of a state file of `state` whose manifest lists one input, `input`.
pub(crate) fn write_one(plan: &Plan, state: State, input: &str) -> Vec<u8> {
    let entry = ManifestEntry { input: input.into(), size: 1, version: "v".into() };
    let mut file = StateFile { state, manifest: Manifest::from_entries([entry]).unwrap() };
    let mut bytes = Vec::new();
    file.write(plan, &mut bytes).unwrap();
    bytes
}

/// The golden file at `path` (from the crate's directory), written from `bytes` first under
/// `UPDATE_GOLDEN=1`, after checking that `bytes` are what it holds: a change in what is
/// written is a new format version.
pub(crate) fn pinned(path: &str, bytes: &[u8]) -> Vec<u8> {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path), bytes).unwrap();
    }
    let golden = golden(path);
    assert!(
        golden == bytes,
        "the state file format changed: bump STATE_FORMAT_VERSION (see state_file/mod.rs)"
    );
    golden
}

#[test]
fn the_format_is_pinned_by_a_golden_file() {
    assert!(GOLDEN.ends_with(&format!("-v{STATE_FORMAT_VERSION}.snowfunnel")), "one golden file per version");
    let (plan, mut file) = golden_state();
    let bytes = write(&plan, &mut file);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(GOLDEN);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &bytes).unwrap();
    }
    let golden = std::fs::read(&path).unwrap();
    // Files of this version must keep reading as they did...
    let mut read = StateFile::read(&plan, golden.as_slice()).unwrap();
    assert_eq!(read.state.report(&plan), file.state.report(&plan));
    assert_eq!(read.manifest, file.manifest);
    // ...so a change in what is written is a new version: bump STATE_FORMAT_VERSION, keep the
    // golden file of the version before (and read it, see below), and write the new one with
    // UPDATE_GOLDEN=1.
    assert!(
        golden == bytes,
        "the state file format changed: bump STATE_FORMAT_VERSION (see state_file/mod.rs)"
    );
    let report = read.state.report(&plan);
    let counts: Vec<(&str, &[u64])> =
        report.funnels[0].variants.iter().map(|v| (v.variant.as_str(), &v.keys_per_step[..])).collect();
    assert_eq!(counts, [("control", &[1, 1][..]), ("candidate", &[1, 1][..])]);
    assert_eq!(report.counters.bad.total(), 1);
}

/// Keys of every shape a state file stores (hex lowercase and uppercase, packed; raw short and
/// long), pinned by a golden file of their own.
#[test]
fn key_records_are_pinned_by_a_golden_file() {
    let text = "name = \"keys\"\nexperiment = \"exp\"\n[[steps]]\nname = \"one\"\naction = \"a1\"\n";
    let plan = Plan::new(vec![parse_funnel("keys.toml", "keys", text).unwrap()]);
    let long = "x".repeat(70);
    let keys = [
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "9f86d081884c7d659a2feaa0c55ad015",
        "9F86D081884C7D659A2FEAA0C55AD015",
        "123e4567-e89b-12d3-a456-426614174000",
        "1234",
        "abc",
        "",
        long.as_str(),
    ];
    let tsv: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            line("gitlab", &format!("2026-03-01 10:0{i}:00.000"), "a1", &[("exp", key, "control")])
        })
        .collect();
    let mut ingester = Ingester::new(FunnelRecorder::new(&plan));
    let mut state = State::new(&plan);
    for l in &tsv {
        ingester.ingest(&mut state, l.as_bytes()).unwrap();
    }
    let mut file = state_file(state, &[]);
    let golden = pinned(GOLDEN_KEYS, &write(&plan, &mut file));
    let mut read = StateFile::read(&plan, golden.as_slice()).unwrap();
    let mut expected: Vec<Vec<u8>> = keys.iter().map(|k| k.as_bytes().to_vec()).collect();
    expected.sort();
    let sets = read.state.canonical_sets();
    let (_, control) = sets.iter().find(|(name, _)| name == "funnel 0 variant control").unwrap();
    // The empty key is no key: the context is ignored.
    assert_eq!(control, &expected[1..]);
    assert_eq!(read.state.report(&plan), file.state.report(&plan));
}

const GOLDEN_KEYS: &str = "tests/it/data/state-v5-key-shapes.snowfunnel";

#[test]
fn files_of_every_older_version_are_read_and_upgraded() {
    assert_eq!(OLDER.len() as u32, STATE_FORMAT_VERSION - 1, "a golden file of every older version");
    let (plan, mut current) = golden_state();
    let current_bytes = golden(GOLDEN);
    for (version, path) in OLDER {
        let bytes = golden(path);
        assert_eq!(bytes[16..20], version.to_le_bytes(), "{path}");
        let mut read = StateFile::read(&plan, bytes.as_slice()).unwrap();
        // The same counts, times and checks as the state of the current version...
        assert_eq!(by_day(&mut read.state, &plan), by_day(&mut current.state, &plan), "{path}");
        assert_eq!(read.state.canonical_sets(), current.state.canonical_sets(), "{path}");
        let entries = |m: &Manifest| m.iter().cloned().collect::<Vec<_>>();
        assert_eq!(entries(&read.manifest), entries(&current.manifest), "{path}");
        // ...unsharded before version 2...
        assert_eq!(read.manifest.shards().is_none(), version < 2, "{path}");
        if version < 2 {
            read.manifest.set_shard(1, 4);
        }
        // ...and saved in the current version, the same bytes as the golden file: key ids and
        // all.
        let upgraded = write(&plan, &mut read);
        assert_eq!(upgraded[16..20], STATE_FORMAT_VERSION.to_le_bytes());
        assert!(upgraded == current_bytes, "{path} upgraded is not the current golden file");
        // It also merges into a state read before it.
        let other = state_file(State::new(&plan), &["s3://bucket/other.gz"]);
        let mut merged = other.read_merged(&plan, bytes.as_slice()).unwrap();
        assert_eq!(merged.state.report(&plan), current.state.report(&plan), "{path}");
        assert_eq!(merged.manifest.len(), 2);
    }
}
