//! `snowfunnel run`: definitions and inputs in, funnel CSVs, tables and a summary out; with
//! state files, one shard of a bigger run or the next step of an incremental one.

use std::io::Write;
use std::time::{Instant, SystemTime};

use snowfunnel_engine::{Funnels, Plan, StateFile};
use snowfunnel_input::DateWindow;
use snowfunnel_report::summary_text;

use crate::cli::RunArgs;
use anyhow::Context;

use crate::exit::{ExitCodeExt, Failure, USAGE};
use crate::funnels::load_funnels;
use crate::outputs::Outputs;
use crate::reports::{Destination, report, report_files};
use crate::session::{BadRowsOut, Done, check_bad_ratio, check_outputs, read, resolve, s3_options};
use crate::state_files;
use crate::store::{Place, Store};

pub(crate) fn run(args: &RunArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let funnels = load_funnels(&args.funnels).exit_code(USAGE)?;
    let plan = Plan::new(funnels).with_breakdowns(args.report.breakdown.clone());
    plan.check_rules().exit_code(USAGE)?;
    let store = Store::new(s3_options(&args.input.s3));
    let out = Place::parse(&args.output.out).exit_code(USAGE)?;
    let shard = state_files::shard(&args.state)?;
    let state_out = state_files::state_out(&args.state, shard)?;
    // Every output is checked before anything is read; a shard writes no report.
    let mut outputs = Outputs::new(&store);
    let report_out = if shard.is_none() { Some(&out) } else { None };
    check_outputs(
        &mut outputs,
        report_out,
        &report_files(&plan, &args.report.formats)?,
        args.output.bad_rows.file.as_deref(),
    )?;
    if let Some(place) = &state_out {
        outputs.check(place).context("--state-out")?;
    }
    // The previous state comes first: one that cannot be used fails before any input is read.
    let previous = match (&args.state.state, &state_out) {
        (Some(_), Some(place)) if !args.state.rebuild => state_files::load(&store, &plan, place)?,
        _ => None,
    };
    if let Some(previous) = &previous {
        let remedy = "a shard's state cannot seed an incremental run (it would stay partial for good): \
                      merge every shard's state first and use the merged state";
        state_files::check_shards(&previous.manifest, false, remedy)?;
    }
    let had_previous = previous.is_some();

    let window =
        if args.no_prune { None } else { plan.time_window().map(|(start, end)| DateWindow { start, end }) };
    let list_after = match &previous {
        Some(previous) if !args.state.full_listing => {
            state_files::listing_starts(&args.input.inputs, &previous.manifest, SystemTime::now())
        }
        _ => Vec::new(),
    };
    let listing_notes: Vec<String> = list_after
        .iter()
        .map(|(url, key)| format!("{url} after {key} (--full-listing lists every object)"))
        .collect();
    let mut inputs = resolve(&args.input, &store, window, "the funnels' window", shard, list_after)?;
    let counted_before = match (&previous, &args.state.state) {
        (Some(previous), Some(path)) => state_files::skip_counted(&mut inputs, &previous.manifest, path)?,
        _ => 0,
    };
    let cells = args.output.csv.cells();
    let bad_rows = BadRowsOut { args: &args.output.bad_rows, cells };
    // The run's keys go into the previous state's dictionary: the two merge without
    // translating ids, and memory holds each key once.
    let job = Funnels::new(&plan, previous.as_ref().map(|p| &p.state));
    let Done { state, mut totals, read } =
        read(&job, &inputs, &args.input, bad_rows, &mut outputs, args.output.quiet, started)?;
    drop(job);
    totals.counted_before = counted_before;
    let mut state = StateFile { state, manifest: state_files::manifest(&inputs, &read)? };
    let nothing_new = state.manifest.is_empty();
    if let Some(shard) = shard {
        state.manifest.set_shard(shard.index(), shard.count());
    }
    if let Some(mut previous) = previous {
        previous.merge(state)?;
        state = previous;
    } else if nothing_new && args.state.state.is_some() {
        // Not even a state to start from: nothing was counted, and there is nothing to report.
        return Err(anyhow::anyhow!("no input read, and no state yet at the --state path").into());
    }

    // The bad-row check is on the lines of the whole run: a shard's share is checked by
    // `merge`, so that a sharded run fails exactly when a single run would.
    if shard.is_none() {
        let c = state.state.counters();
        let consequence =
            if state_out.is_some() { "no report or state written" } else { "no report written" };
        if let Err(e) = check_bad_ratio(c.lines, c.bad.by_reason(), args.output.max_bad_ratio, consequence) {
            return Err(outputs.fail_bad_data(e));
        }
    }

    let mut notes: Vec<(&str, String)> = listing_notes.into_iter().map(|note| ("listed", note)).collect();
    if let Some(place) = &state_out {
        // An incremental run that found nothing new leaves the state as it was.
        if had_previous && nothing_new {
            notes.push(("state", format!("{place} unchanged: no new input")));
        } else {
            state_files::stage(&mut outputs, &plan, place, &mut state)?;
            notes.push(("state", format!("{place} ({} inputs counted)", state.manifest.len())));
        }
    }
    totals.elapsed = started.elapsed();
    if let Some(shard) = shard {
        // A shard's counts are a part, not the answer: the reports come from `merge`. Its
        // state, written last, says it is done.
        outputs.commit("run")?;
        if !args.output.quiet {
            let summary = summary_text(&state.state.report(&plan), &totals);
            let mut stdout = std::io::stdout().lock();
            write!(stdout, "Shard {shard}: {summary}")?;
            for (label, note) in &notes {
                writeln!(stdout, "  {label:<18} {note}")?;
            }
            writeln!(stdout, "  {:<18} none for a shard: `snowfunnel merge` the shards' states", "reports")?;
            stdout.flush()?;
        }
        return Ok(());
    }
    let destination = Destination { command: "run", out: &out, quiet: args.output.quiet, cells, notes };
    report(&plan, &mut state.state, &totals, &args.report, outputs, &destination)
}
