//! `snowfunnel explain`: definitions and inputs in, per funnel a waterfall of what each bad-row
//! reason, rule and step removed (`<funnel>.explain.csv` in --out, and tables on stdout), under
//! each funnel's rules or two rule sets side by side; or, with `--key`, one key's story on
//! stdout and no file.

use std::io::Write;
use std::time::Instant;

use anyhow::Context;
use snowfunnel_engine::{Explain, Funnel, Plan, Rules};
use snowfunnel_input::DateWindow;
use snowfunnel_report::{explain_csv, explain_csv_name, explain_text, key_story_text, terminal_text};

use crate::cli::{ExplainArgs, RulesArg};
use crate::exit::{ExitCodeExt, Failure, USAGE};
use crate::funnels::load_funnels;
use crate::outputs::{Outputs, Role};
use crate::session::{check_bad_ratio, check_outputs, read_all, s3_options};
use crate::store::{Place, Store};

pub(crate) fn explain(args: &ExplainArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let funnels = load_funnels(&args.funnels).exit_code(USAGE)?;
    let rule_sets = rule_sets(&args.rules);
    // Each funnel once per rule set asked for, side by side in one plan: one pass counts all.
    let per_funnel = rule_sets.len().max(1);
    let counted: Vec<Funnel> = if rule_sets.is_empty() {
        funnels.clone()
    } else {
        let mut counted = Vec::new();
        for funnel in &funnels {
            for &rules in &rule_sets {
                let (under, never) = funnel.under(rules);
                for why in never {
                    eprintln!(
                        "snowfunnel: warning: funnel {} under rules = {:?}: {}: the step counts 0 keys",
                        terminal_text(&funnel.name),
                        rules.as_str(),
                        terminal_text(&why)
                    );
                }
                counted.push(under);
            }
        }
        counted
    };
    let plan = Plan::new(counted);
    let store = Store::new(s3_options(&args.input.s3));
    let out = Place::parse(&args.output.out).exit_code(USAGE)?;
    let mut outputs = Outputs::new(&store);
    let files: Vec<String> = if args.key.is_some() {
        Vec::new()
    } else {
        funnels.iter().map(|f| explain_csv_name(&f.name)).collect()
    };
    check_outputs(&mut outputs, Some(&out), &files, args.output.bad_rows.file.as_deref())?;
    let window =
        if args.no_prune { None } else { plan.time_window().map(|(start, end)| DateWindow { start, end }) };
    let key = args.key.as_deref().map(str::as_bytes);
    let job = Explain::new(&plan, key);
    let (state, _) = read_all(&job, &args.input, &args.output, &store, &mut outputs, window, started)?;
    let c = *state.counters();
    let consequence = if args.key.is_some() { "no story told" } else { "no explain CSV written" };
    if let Err(e) = check_bad_ratio(c.lines, c.bad.by_reason(), args.output.max_bad_ratio, consequence) {
        return Err(outputs.fail_bad_data(e));
    }
    let explained = state.finish(&plan, key);

    if let Some(story) = &explained.story {
        outputs.commit("explain")?;
        let mut stdout = std::io::stdout().lock();
        write!(stdout, "{}", key_story_text(story, plan.funnels()))?;
        stdout.flush()?;
        return Ok(());
    }
    let cells = args.output.csv.cells();
    let groups: Vec<_> = funnels.iter().zip(explained.waterfalls.chunks(per_funnel)).collect();
    for (funnel, waterfalls) in &groups {
        let name = explain_csv_name(&funnel.name);
        let mut content = Vec::new();
        explain_csv(waterfalls, funnel, cells, &mut content).with_context(|| format!("writing {name}"))?;
        outputs.stage(Role::Report, out.join(&name), &content)?;
    }
    outputs.commit("explain")?;
    if !args.output.quiet {
        let mut stdout = std::io::stdout().lock();
        for (funnel, waterfalls) in &groups {
            writeln!(stdout, "{}", explain_text(waterfalls, funnel))?;
        }
        let files = if groups.len() == 1 { "file" } else { "files" };
        writeln!(
            stdout,
            "  {:<18} {} explain CSV {files} in {}",
            "wrote",
            groups.len(),
            args.output.out.display()
        )?;
        stdout.flush()?;
    }
    Ok(())
}

/// The rule sets of `--rules`, each once, in the order given.
fn rule_sets(args: &[RulesArg]) -> Vec<Rules> {
    let mut sets = Vec::new();
    for arg in args {
        let rules = match arg {
            RulesArg::Snowfunnel => Rules::Snowfunnel,
            RulesArg::Warehouse => Rules::Warehouse,
        };
        if !sets.contains(&rules) {
            sets.push(rules);
        }
    }
    sets
}
