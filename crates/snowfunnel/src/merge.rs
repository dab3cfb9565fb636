//! `snowfunnel merge`: state files of runs over disjoint inputs in, the reports of all of them
//! together out, as `run` writes them.

use std::time::Instant;

use anyhow::Context;

use snowfunnel_engine::{Plan, StateFile};
use snowfunnel_report::RunTotals;

use crate::cli::MergeArgs;
use crate::exit::{ExitCodeExt, Failure, USAGE};
use crate::funnels::load_funnels;
use crate::outputs::Outputs;
use crate::reports::{Destination, report, report_files};
use crate::session::{check_bad_ratio, check_outputs, s3_options};
use crate::state_files;
use crate::store::{Place, Store};

/// The file name ending of state files, for directories and prefixes given to `merge`.
pub(crate) const STATE_SUFFIX: &str = ".snowfunnel";

pub(crate) fn merge(args: &MergeArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let plan = Plan::new(load_funnels(&args.funnels).exit_code(USAGE)?)
        .with_breakdowns(args.report.breakdown.clone());
    plan.check_rules().exit_code(USAGE)?;
    let store = Store::new(s3_options(&args.s3));
    let out = Place::parse(&args.out).exit_code(USAGE)?;
    let state_out = args.state_out.as_deref().map(Place::parse).transpose().exit_code(USAGE)?;
    if let Some(place) = &state_out {
        place.check_file().exit_code(USAGE)?;
    }
    let mut outputs = Outputs::new(&store);
    check_outputs(&mut outputs, Some(&out), &report_files(&plan, &args.report.formats)?, None)?;
    if let Some(place) = &state_out {
        outputs.check(place).context("--state-out")?;
    }
    let places = store.expand(&args.states, STATE_SUFFIX)?;

    // Each state is read into the merged one as it arrives: memory holds one state, not two.
    let mut merged = StateFile::new(&plan);
    for place in &places {
        merged = state_files::load_merged(&store, &plan, place, merged)?;
    }
    let remedy = "their inputs would be missing from the reports; merge every shard's state (after every \
                  shard succeeded), or pass --allow-missing-shards";
    let shards = state_files::check_shards(&merged.manifest, args.allow_missing_shards, remedy)?;
    let c = merged.state.counters();
    let consequence = if state_out.is_some() { "no report or state written" } else { "no report written" };
    if let Err(e) = check_bad_ratio(c.lines, c.bad.by_reason(), args.max_bad_ratio, consequence) {
        return Err(outputs.fail_bad_data(e));
    }

    let mut notes = Vec::new();
    notes.extend(shards.map(|shards| ("shards", shards)));
    if let Some(place) = &state_out {
        state_files::stage(&mut outputs, &plan, place, &mut merged)?;
        notes.push(("state", format!("{place} ({} inputs counted)", merged.manifest.len())));
    }
    let totals = RunTotals {
        files: merged.manifest.len() as u64,
        stored_bytes: merged.manifest.iter().map(|e| e.size).sum(),
        merged_states: places.len() as u64,
        elapsed: started.elapsed(),
        ..RunTotals::default()
    };
    let destination =
        Destination { command: "merge", out: &out, quiet: args.quiet, cells: args.csv.cells(), notes };
    report(&plan, &mut merged.state, &totals, &args.report, outputs, &destination)
}
