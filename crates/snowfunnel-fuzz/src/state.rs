//! The `state_file` target: state files, read for the fixed plan.

use snowfunnel_engine::{CohortBy, FunnelRecorder, ReportOptions, STATE_MAGIC, State, StateFile};
use snowfunnel_ingest::Ingester;
use snowfunnel_stats::{CompareOptions, compare_funnel};

use crate::plan::{plan, walkthrough_line};

/// Bytes of the head of a state file: magic, version, body length.
const HEAD_LEN: usize = STATE_MAGIC.len() + 4 + 8;

/// Reads `data` as a state file for [`plan`]. When it starts like one, reads it again with
/// its body length and checksum made right, so that the fuzzer reaches the body (a random
/// change almost never keeps a CRC-32). A state that reads goes through what `snowfunnel
/// merge` and incremental runs do with it: reports (with cohorts), statistics, a merge with
/// a state of this run, a merge with its own manifest, writing it back.
///
/// # Panics
/// On a bug, that is when:
/// - reading panics (any bytes must give a state or an error);
/// - a state that reads does not write back to bytes that read into the same state, whose
///   writing gives the same bytes again (what reads is rewritten canonical: sorted, in plan
///   order);
/// - anything panics on the way.
pub fn state_file(data: &[u8]) {
    read_and_use(data);
    if data.starts_with(&STATE_MAGIC) && data.len() >= HEAD_LEN {
        read_and_use(&reframed(data));
    }
}

fn read_and_use(bytes: &[u8]) {
    let plan = plan();
    let Ok(mut file) = StateFile::read(plan, bytes) else { return };

    let report = file.state.report(plan);
    let _ = file
        .state
        .report_with(plan, ReportOptions { cohorts: Some(CohortBy::Day), ..ReportOptions::default() });
    let _ = file
        .state
        .report_with(plan, ReportOptions { cohorts: Some(CohortBy::Week), ..ReportOptions::default() });
    for funnel in &report.funnels {
        let counts: Vec<&[u64]> = funnel.variants.iter().map(|v| v.keys_per_step.as_slice()).collect();
        let control = funnel.variants.iter().position(|v| v.variant == funnel.control);
        compare_funnel(&counts, control, CompareOptions::default()).expect("statistics of engine counts");
    }

    let mut written = Vec::new();
    file.write(plan, &mut written).expect("writing into memory");
    let mut again = StateFile::read(plan, written.as_slice()).expect("a state written reads");
    assert!(again.state.report(plan) == report, "the state written reports as the state read");
    assert!(again.manifest == file.manifest, "the manifest written reads back");
    assert!(again.state.canonical_sets() == file.state.canonical_sets(), "the sets written read back");
    let mut rewritten = Vec::new();
    again.write(plan, &mut rewritten).expect("writing into memory");
    assert!(rewritten == written, "writing what was read gives other bytes");

    // An incremental run merges it into the state of its new inputs.
    let mut state = State::new(plan);
    let _ = Ingester::new(FunnelRecorder::new(plan)).ingest(&mut state, walkthrough_line());
    state.merge(file.state.clone());
    let _ = state.report(plan);
    // Merging it with itself is refused when its manifest or shards would count twice.
    if again.merge(file.clone()).is_ok() {
        assert!(file.manifest.is_empty() && file.manifest.shards().is_none(), "an input counted twice");
        let _ = again.state.report(plan);
    }
}

/// `data` with the body length and the checksum of what it holds after the head.
fn reframed(data: &[u8]) -> Vec<u8> {
    let body = &data[HEAD_LEN..];
    let body = &body[..body.len().saturating_sub(4)];
    let mut out = Vec::with_capacity(HEAD_LEN + body.len() + 4);
    out.extend_from_slice(&data[..HEAD_LEN - 8]);
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(body);
    let checksum = crc32(&out);
    out.extend_from_slice(&checksum.to_le_bytes());
    out
}

/// CRC-32 (IEEE), as the state file's checksum.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(bytes);
    crc.sum()
}
