//! Every fuzz target's body over the seed inputs of the repository, on the stable toolchain:
//! the Snowplow fixtures (`shared/fixtures`, beside the repository), generated lines,
//! `testdata/sample`, the funnel files, state files written here, and the inputs of the
//! crashes fuzzing found (`tests/it/regressions/TARGET/`). What `scripts/fuzz.sh` seeds the
//! fuzzer with, so a body that fails on a seed fails here first.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use snowfunnel_engine::{FunnelRecorder, Manifest, ManifestEntry, State, StateFile};
use snowfunnel_fuzz::{TARGETS, plan};
use snowfunnel_gen::{GenConfig, generate};
use snowfunnel_ingest::Ingester;
use snowfunnel_parse::EnrichedEvent;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The files of `dir` (not recursive), sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// The enriched TSV fixtures of `shared/fixtures` (which must be there, as for the parser's
/// conformance tests).
fn fixture_files() -> Vec<PathBuf> {
    let dir = repo().join("../shared/fixtures");
    assert!(dir.is_dir(), "{} not found: shared/ is cloned beside the repository", dir.display());
    let found: Vec<PathBuf> = ["snowplow", "snowplow-more"]
        .iter()
        .flat_map(|sub| files(&dir.join(sub)))
        .filter(|path| path.extension().is_some_and(|e| e == "tsv"))
        .collect();
    assert!(found.len() > 10, "the fixtures are missing");
    found
}

/// Generated lines, good and malformed, of the bundled experiments.
fn generated() -> Vec<Vec<u8>> {
    generate(&GenConfig::new(7, 3_000)).iter().map(|l| l.to_tsv().into_bytes()).collect()
}

fn sample_files() -> Vec<PathBuf> {
    let found = files(&repo().join("testdata/sample"));
    assert!(!found.is_empty(), "testdata/sample is empty");
    found
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).expect("into memory");
    encoder.finish().expect("into memory")
}

#[test]
fn line_seeds() {
    for path in fixture_files() {
        let data = std::fs::read(&path).expect("fixture");
        snowfunnel_fuzz::line(&data);
        for line in data.split(|&b| b == b'\n') {
            snowfunnel_fuzz::line(line);
        }
    }
    let lines = generated();
    assert!(lines.iter().any(|l| EnrichedEvent::parse(l).is_err()), "malformed lines too");
    snowfunnel_fuzz::line(&lines.join(&b'\n'));
    for line in lines.iter().take(200) {
        snowfunnel_fuzz::line(line);
    }
    for bad in [&b""[..], b"\n", b"\n\n", b"\t", b"a\tb\n", b"\r\n"] {
        snowfunnel_fuzz::line(bad);
    }
}

#[test]
fn contexts_seeds() {
    let mut fields = Vec::new();
    for path in fixture_files() {
        for line in std::fs::read(&path).expect("fixture").split(|&b| b == b'\n') {
            if let Ok(event) = EnrichedEvent::parse(line) {
                fields.push(event.contexts().to_vec());
                fields.push(event.unstruct_event().to_vec());
            }
        }
    }
    for line in generated() {
        if let Ok(event) = EnrichedEvent::parse(&line) {
            fields.push(event.contexts().to_vec());
        }
    }
    assert!(fields.iter().any(|f| memchr::memmem::find(f, b"gitlab_experiment").is_some()));
    for field in &fields {
        snowfunnel_fuzz::contexts(field);
    }
    for odd in [
        &br#"{"data":[{"schema":"iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-0","schema":"x","data":{"key":"a","key":"b","experiment":"e","variant":"v"}}]}"#[..],
        br#"{"data":{"gitlab_experiment":1}}"#,
        br#"[{"data":[]}, "gitlab_experiment"]"#,
        b"gitlab_experiment",
        b"",
        b"{}",
    ] {
        snowfunnel_fuzz::contexts(odd);
    }
}

#[test]
fn funnel_toml_seeds() {
    let mut texts: Vec<String> = snowfunnel_fuzz::FUNNEL_FILES.iter().map(|(_, t)| (*t).to_owned()).collect();
    let base = snowfunnel_fuzz::FUNNEL_FILES[0].1;
    texts.push(format!("weights = {{ control = 1, candidate = 3 }}\n{base}"));
    texts.push(format!("order = \"sequential\"\nwindow = \"99999999999d\"\n{base}"));
    texts.push(base.replace("2026-03-01", "2026-02-30"));
    texts.push("experiment = \"e\"\n[[steps]]\nname = \"s\"\n".to_owned());
    texts.push(String::new());
    for text in &texts {
        snowfunnel_fuzz::funnel_toml(text.as_bytes());
    }
    snowfunnel_fuzz::funnel_toml(b"\xff\xfe");
}

#[test]
fn state_file_seeds() {
    let plan = plan();
    let mut state = State::new(plan);
    let mut ingester = Ingester::new(FunnelRecorder::new(plan));
    for line in generated() {
        let _ = ingester.ingest(&mut state, &line);
    }
    assert!(state.distinct_keys() > 100, "a state with keys");
    let mut manifest = Manifest::new();
    manifest
        .insert(ManifestEntry { input: "s3://b/k.gz".into(), size: 12, version: "etag:\"x\"".into() })
        .expect("one entry");
    manifest.set_shard(1, 3);
    let mut file = StateFile { state, manifest };
    let mut bytes = Vec::new();
    file.write(plan, &mut bytes).expect("into memory");
    assert!(StateFile::read(plan, bytes.as_slice()).is_ok());
    snowfunnel_fuzz::state_file(&bytes);
    let mut empty = Vec::new();
    StateFile::new(plan).write(plan, &mut empty).expect("into memory");
    snowfunnel_fuzz::state_file(&empty);
    for cut in [0, 10, 20, 28, bytes.len() / 2, bytes.len() - 1] {
        snowfunnel_fuzz::state_file(&bytes[..cut]);
    }
    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    snowfunnel_fuzz::state_file(&flipped);
    // Files of other funnels and another version.
    for path in files(&repo().join("crates/snowfunnel-engine/tests/it/data")) {
        snowfunnel_fuzz::state_file(&std::fs::read(path).expect("golden state file"));
    }
}

#[test]
fn gzip_seeds() {
    for path in sample_files() {
        let stored = std::fs::read(&path).expect("sample");
        snowfunnel_fuzz::gzip(&stored);
        snowfunnel_fuzz::gzip(&stored[..stored.len() / 3]);
    }
    let lines = generated().join(&b'\n');
    let mut members = gzip(&lines[..lines.len() / 2]);
    members.extend(gzip(&lines[lines.len() / 2..]));
    for data in [&members[..], &lines, b"", b"\x1f", b"\x1f\x8b", &gzip(b""), &gzip(b"a\r\nb")] {
        snowfunnel_fuzz::gzip(data);
    }
}

/// The inputs of the crashes fuzzing found, one directory per target.
#[test]
fn regressions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/regressions");
    assert!(!files(&dir.join("funnel_toml")).is_empty(), "the regression inputs are there");
    for (name, body) in TARGETS {
        let target = dir.join(name);
        if target.is_dir() {
            for path in files(&target) {
                body(&std::fs::read(&path).expect("regression input"));
            }
        }
    }
}

/// Each target has its libFuzzer harness in `fuzz/`, calling its body.
#[test]
fn every_target_has_a_harness() {
    for (name, _) in TARGETS {
        let path = repo().join(format!("fuzz/fuzz_targets/{name}.rs"));
        let harness = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            harness.contains(&format!("snowfunnel_fuzz::{name}(")),
            "{} does not call its body",
            path.display()
        );
    }
    let manifest = std::fs::read_to_string(repo().join("fuzz/Cargo.toml")).expect("fuzz/Cargo.toml");
    let bins = manifest.matches("[[bin]]").count();
    assert_eq!(bins, TARGETS.len(), "fuzz/Cargo.toml declares every target, and only them");
}
