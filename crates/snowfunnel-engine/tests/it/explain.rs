//! `explain`: on generated data that exercises every rule (trackers, localhost pages, page
//! views, empty app_ids and derived times, 1970 times, schemas in capitals, copies within and
//! across months, keys with two variants, migration keys, other experiments, events without
//! contexts), under both rule sets at once: the waterfall's last rows are the funnel's counts,
//! each row's counts follow from the row before, partitions merge into the same waterfall, and
//! every key's story agrees with the waterfall.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use snowfunnel_engine::{Explain, Explained, Plan, Removed, Row, Waterfall, parse_funnel};
use snowfunnel_ingest::{Ingester, Job};

use crate::warehouse::{Ev, MID_MONTH, Rng, STEPS, generated};

/// The funnel under both rule sets, in one plan (as `explain --rules snowfunnel,warehouse`).
fn plan(order: &str) -> Plan {
    let funnel = |rules: &str| {
        let text = format!("experiment = \"exp\"\nrules = \"{rules}\"\n{MID_MONTH}\n{order}\n{STEPS}");
        parse_funnel("f.toml", "f", &text).unwrap()
    };
    Plan::new(vec![funnel("snowfunnel"), funnel("warehouse")])
}

/// `generated`'s events, with some migration keys, contexts of another experiment and events
/// without contexts.
fn events(seed: u64) -> Vec<Ev> {
    let mut events = generated(seed);
    let mut rng = Rng(seed.rotate_left(17) | 1);
    for e in &mut events {
        match rng.below(16) {
            0 => e.contexts[0].3.push(format!("k{}", rng.below(40))),
            1 => e.experiment = "other".into(),
            2 => e.contexts.clear(),
            _ => {}
        }
    }
    events
}

fn explain(plan: &Plan, parts: &[&[Ev]], key: Option<&str>) -> Explained {
    let job = Explain::new(plan, key.map(str::as_bytes));
    let mut ingester: Ingester<_> = job.ingester();
    let mut whole = job.state();
    for part in parts {
        let mut state = job.state();
        for e in *part {
            let _ = ingester.ingest(&mut state, e.tsv().as_bytes());
        }
        <Explain<'_> as Job>::merge(&mut whole, state);
    }
    whole.finish(plan, key.map(str::as_bytes))
}

/// Checks one waterfall against its funnel's report and against itself.
fn check(waterfall: &Waterfall, explained: &Explained, f: usize) -> Result<(), TestCaseError> {
    let report = &explained.report.funnels[f];
    let counters = &explained.report.counters;
    let rows = &waterfall.rows;
    prop_assert_eq!(rows[0].row, Row::Lines);
    prop_assert_eq!(rows[0].all.events, counters.lines);
    for pair in rows.windows(2) {
        let (before, after) = (&pair[0], &pair[1]);
        prop_assert_eq!(after.all.events + after.all.events_removed, before.all.events, "{:?}", after.row);
        if let (Some(b), Some(a), Some(r)) = (before.all.keys, after.all.keys, after.all.keys_removed) {
            // From the migration row on, keys are subjects: some keys go without leaving.
            prop_assert_eq!(a + r, b, "{:?}", after.row);
        }
        for (b, a) in before.variants.iter().zip(&after.variants) {
            if let (Some(b), Some(a)) = (b, a) {
                prop_assert_eq!(a.events + a.events_removed, b.events);
                prop_assert_eq!(a.keys.unwrap() + a.keys_removed.unwrap(), b.keys.unwrap());
            }
        }
    }
    let last_bad = rows.iter().rposition(|r| matches!(r.row, Row::Lines | Row::BadRow(_))).unwrap();
    let first_rule = &rows[last_bad + 1];
    prop_assert_eq!(first_rule.all.events + first_rule.all.events_removed, counters.events);
    // The last rows are the report's counts, variant by variant.
    let steps = report.step_names.len();
    for counts in &report.variants {
        let v = waterfall.variants.iter().position(|name| *name == counts.variant).unwrap();
        for (s, keys) in counts.keys_per_step.iter().enumerate() {
            let row = &rows[rows.len() - steps + s];
            prop_assert_eq!(row.row, Row::Step(s));
            prop_assert_eq!(row.variants[v].unwrap().keys, Some(*keys), "{} step {}", counts.variant, s + 1);
        }
        // The row before step 1: the exposed keys.
        let exposed = rows[rows.len() - steps - 1].variants[v].unwrap().keys;
        prop_assert_eq!(exposed, counts.exposed);
    }
    // Variants the report lists have all of their keys here; the others kept none.
    for (v, name) in waterfall.variants.iter().enumerate() {
        if !report.variants.iter().any(|c| c.variant == *name) {
            prop_assert_eq!(rows.last().unwrap().variants[v].unwrap().keys, Some(0));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn the_waterfall_ends_in_the_funnel_counts_and_merges_exactly(seed in any::<u64>(), files in 2usize..5) {
        let events = events(seed);
        for order in ["", "order = \"sequential\"\nwindow = \"1d\""] {
            let plan = plan(order);
            let whole = explain(&plan, &[&events], None);
            for (f, waterfall) in whole.waterfalls.iter().enumerate() {
                check(waterfall, &whole, f)?;
            }
            // The report is run's, whatever the job.
            let mut state = snowfunnel_engine::State::new(&plan);
            let mut ingester = Ingester::new(snowfunnel_engine::FunnelRecorder::new(&plan));
            for e in &events {
                let _ = ingester.ingest(&mut state, e.tsv().as_bytes());
            }
            prop_assert_eq!(&state.report(&plan), &whole.report);
            // Files of any split, copies of an event in different ones.
            let mut parts: Vec<Vec<Ev>> = vec![Vec::new(); files];
            let mut rng = Rng(seed | 1);
            for e in &events {
                parts[rng.below(files as u64) as usize].push(e.clone());
            }
            let parts: Vec<&[Ev]> = parts.iter().map(Vec::as_slice).collect();
            prop_assert_eq!(explain(&plan, &parts, None).waterfalls, whole.waterfalls);
        }
    }
}

#[test]
fn every_rule_removes_something_on_the_generated_data() {
    let events = events(7);
    let explained = explain(&plan(""), &[&events], None);
    for waterfall in &explained.waterfalls {
        for row in &waterfall.rows {
            let removes = row.all.events_removed > 0 || row.all.keys_removed.is_some_and(|k| k > 0);
            let removes_nothing_here = matches!(row.row, Row::Lines | Row::BadRow(_) | Row::AppIds);
            assert!(
                removes || removes_nothing_here,
                "{:?} under {:?} removed nothing",
                row.row,
                waterfall.rules
            );
        }
    }
}

#[test]
fn every_key_story_agrees_with_the_waterfall() {
    let events = events(11);
    let plan = plan("");
    let explained = explain(&plan, &[&events], None);
    let keys: BTreeSet<&str> = events.iter().flat_map(|e| e.contexts.iter().map(|c| c.1.as_str())).collect();
    // Per funnel: keys that left at each row (subjects, once, from the migration row on), and
    // the keys and subjects that passed every per-event row.
    let mut left: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); 2];
    let mut subjects_left: Vec<BTreeMap<String, BTreeSet<String>>> = vec![BTreeMap::new(); 2];
    for key in keys {
        let story = explain(&plan, &[&events], Some(key)).story.unwrap();
        assert_eq!(story.key, key);
        // Its events, in time order, each with the key.
        assert!(story.events.windows(2).all(|w| w[0].time <= w[1].time));
        let with_key = events.iter().filter(|e| e.contexts.iter().any(|c| c.1 == key)).count();
        assert!(story.events.len() >= with_key, "{key}");
        for (f, fate) in story.funnels.iter().enumerate() {
            if !fate.in_funnel {
                // Never read by this funnel's rules (a schema in capitals only, under ours).
                assert_eq!(fate.left_at, Some(Row::Experiment));
                continue;
            }
            let Some(row) = fate.left_at else {
                subjects_left[f]
                    .entry("completed".into())
                    .or_default()
                    .insert(fate.subject.first().cloned().unwrap_or(key.into()));
                continue;
            };
            let later = matches!(row, Row::Step(_) | Row::Rule(Removed::ConflictingKey));
            if later {
                let subject = fate.subject.first().cloned().unwrap_or(key.into());
                subjects_left[f].entry(row.id()).or_default().insert(subject);
            } else {
                *left[f].entry(row.id()).or_default() += 1;
            }
            // A key that counts somewhere reached what its fate says, with one of its events
            // matching each step it reached.
            if let Row::Step(n) = row {
                assert_eq!(fate.steps_reached, n);
            }
        }
    }
    for (f, waterfall) in explained.waterfalls.iter().enumerate() {
        for row in &waterfall.rows {
            let removed = row.all.keys_removed.unwrap_or(0);
            match row.row {
                Row::Lines | Row::BadRow(_) | Row::MigrationKeys => {}
                Row::Step(_) | Row::Rule(Removed::ConflictingKey) => {
                    let story = subjects_left[f].get(&row.row.id()).map_or(0, |s| s.len() as u64);
                    assert_eq!(story, removed, "{:?} under {:?}", row.row, waterfall.rules);
                }
                _ => {
                    let story = left[f].get(&row.row.id()).copied().unwrap_or(0);
                    assert_eq!(story, removed, "{:?} under {:?}", row.row, waterfall.rules);
                }
            }
        }
        let completed = subjects_left[f].get("completed").map_or(0, |s| s.len() as u64);
        assert_eq!(Some(completed), waterfall.rows.last().unwrap().all.keys, "{:?}", waterfall.rules);
    }
}
