//! `snowfunnel explain`'s outputs: the waterfall CSV, the terminal tables of one or two rule
//! sets side by side with the rows where they diverge, and a key's story.

use std::fmt::Write as _;
use std::io::{self, Write};

use comfy_table::{CellAlignment, ColumnConstraint, ContentArrangement, Table, Width};
use snowfunnel_engine::{Funnel, KeyFate, KeyStory, Row, Waterfall, WaterfallRow};
use snowfunnel_parse::format_micros;

use crate::CsvCells;
use crate::number::{count_of, grouped, shown_name};
use crate::table::{STYLE, TABLE_WIDTH};
use crate::terminal_text;

/// The least width of the rows' names in the terminal tables.
const LABEL_WIDTH: u16 = 22;

/// The header of `<funnel>.explain.csv`.
pub const EXPLAIN_CSV_HEADER: [&str; 11] = [
    "funnel",
    "experiment",
    "rules",
    "scope",
    "variant",
    "row",
    "description",
    "events",
    "events_removed",
    "keys",
    "keys_removed",
];

/// The name of the explain CSV of funnel `name`.
#[must_use]
pub fn explain_csv_name(name: &str) -> String {
    format!("{name}.explain.csv")
}

/// Writes the waterfalls of one funnel (one per rule set, in the order given) as CSV: per rule
/// set, the rows of all variants together (`scope` `all`, `variant` empty), then each
/// variant's (`scope` `variant`), each in the order the rows apply. Keys are empty on the
/// lines and bad rows (not read), and a variant has no lines or bad rows. Names are text
/// cells written as `cells` says.
///
/// # Errors
/// When writing fails.
pub fn explain_csv(
    waterfalls: &[Waterfall],
    funnel: &Funnel,
    cells: CsvCells,
    out: impl Write,
) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(EXPLAIN_CSV_HEADER)?;
    let text = |s: &str| cells.text(s).into_owned();
    let count = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
    for waterfall in waterfalls {
        let scopes = std::iter::once(None).chain(waterfall.variants.iter().enumerate().map(Some));
        for scope in scopes {
            for row in &waterfall.rows {
                let cell = match scope {
                    None => Some(row.all),
                    Some((v, _)) => row.variants[v],
                };
                let Some(cell) = cell else { continue };
                w.write_record([
                    text(&waterfall.funnel),
                    text(&waterfall.experiment),
                    waterfall.rules.as_str().to_owned(),
                    if scope.is_some() { "variant" } else { "all" }.to_owned(),
                    scope.map(|(_, name)| text(name)).unwrap_or_default(),
                    row.row.id(),
                    text(&row.row.describe(funnel)),
                    cell.events.to_string(),
                    cell.events_removed.to_string(),
                    count(cell.keys),
                    count(cell.keys_removed),
                ])?;
            }
        }
    }
    w.flush()
}

/// The rows of two waterfalls lined up (a row of one rule set only has `None` on the other).
fn lined_up(waterfalls: &[Waterfall]) -> Vec<(Row, Vec<Option<&WaterfallRow>>)> {
    let mut rows: Vec<Row> = waterfalls.iter().flat_map(|w| w.rows.iter().map(|r| r.row)).collect();
    rows.sort_by_key(Row::rank);
    rows.dedup();
    rows.into_iter()
        .map(|row| (row, waterfalls.iter().map(|w| w.rows.iter().find(|r| r.row == row)).collect()))
        .collect()
}

/// Whether a row diverges between two rule sets: it removes keys under one that it does not
/// remove under the other, or it is a row of one of them only and removes events. (Rows of
/// both that remove different numbers of events only because earlier rows left different
/// events are not named: the earlier rows are.)
fn diverges(cells: &[Option<&WaterfallRow>]) -> bool {
    let [a, b] = cells else { return false };
    let keys = |r: &Option<&WaterfallRow>| r.map_or(0, |r| r.all.keys_removed.unwrap_or(0));
    let events = |r: &Option<&WaterfallRow>| r.map_or(0, |r| r.all.events_removed);
    keys(a) != keys(b) || (a.is_none() != b.is_none() && events(a) + events(b) > 0)
}

/// `12,345 (-67)`: what remains, and what the row removed when it removed something.
fn remaining(left: Option<u64>, removed: Option<u64>) -> String {
    match (left, removed) {
        (None, _) => String::new(),
        (Some(left), Some(r)) if r > 0 => format!("{} (-{})", grouped(left), grouped(r)),
        (Some(left), _) => grouped(left),
    }
}

/// A table in the style of the funnel tables, its columns after the first right-aligned.
fn table(header: Vec<String>) -> Table {
    let columns = header.len();
    let mut table = Table::new();
    table.load_style(STYLE);
    table.set_content_arrangement(ContentArrangement::Dynamic);
    table.set_width(TABLE_WIDTH);
    table.set_header(header);
    // The rows' names keep room enough for most on one line; the numbers keep their width.
    if let Some(c) = table.column_mut(0) {
        c.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(LABEL_WIDTH)));
    }
    for column in 1..columns {
        if let Some(c) = table.column_mut(column) {
            c.set_cell_alignment(CellAlignment::Right);
            c.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
    table
}

/// The terminal text of one funnel's waterfalls (one per rule set, side by side): a table of
/// events and keys of all variants together, then one of keys by variant, each count what
/// remains after the row with what it removed in brackets (`-` where a row is not one of a
/// rule set's); with two rule sets, the rows where they diverge are marked `≠` and named
/// below with what each removed. Names are escaped for the terminal.
#[must_use]
pub fn explain_text(waterfalls: &[Waterfall], funnel: &Funnel) -> String {
    let Some(first) = waterfalls.first() else { return String::new() };
    let mut out = String::new();
    let rules: Vec<&str> = waterfalls.iter().map(|w| w.rules.as_str()).collect();
    let _ = writeln!(
        out,
        "Explain funnel {} (experiment {}) under {} rules",
        terminal_text(&first.funnel),
        terminal_text(&first.experiment),
        rules.join(" and ")
    );
    let rows = lined_up(waterfalls);
    let label = |row: Row, cells: &[Option<&WaterfallRow>]| {
        let mark = if waterfalls.len() == 2 && diverges(cells) { "≠ " } else { "" };
        format!("{mark}{}", terminal_text(&row.describe(funnel)))
    };

    let mut header = vec!["all variants\n".to_owned()];
    for rules in &rules {
        header.extend([format!("{rules}\nevents"), "\nkeys".to_owned()]);
    }
    let mut all = table(header);
    for (row, cells) in &rows {
        let mut line = vec![label(*row, cells)];
        for cell in cells {
            match cell {
                Some(r) => line.extend([
                    remaining(Some(r.all.events), Some(r.all.events_removed)),
                    remaining(r.all.keys, r.all.keys_removed),
                ]),
                None => line.extend(["-".to_owned(), "-".to_owned()]),
            }
        }
        all.add_row(line);
    }
    let _ = writeln!(out, "{all}");

    // Keys by variant: every variant of either rule set, in the first's order.
    let mut variants: Vec<&str> = Vec::new();
    for w in waterfalls {
        for v in &w.variants {
            if !variants.contains(&v.as_str()) {
                variants.push(v);
            }
        }
    }
    let mut header = vec!["keys by variant\n".to_owned()];
    for v in &variants {
        for (i, rules) in rules.iter().enumerate() {
            header.push(if i == 0 { format!("{}\n{rules}", shown_name(v)) } else { format!("\n{rules}") });
        }
    }
    let mut by_variant = table(header);
    for (row, cells) in rows.iter().filter(|(row, _)| !matches!(row, Row::Lines | Row::BadRow(_))) {
        let mut line = vec![label(*row, cells)];
        for v in &variants {
            for (cell, w) in cells.iter().zip(waterfalls) {
                let c = cell
                    .and_then(|r| w.variants.iter().position(|name| name == v).and_then(|i| r.variants[i]));
                line.push(match (cell, c) {
                    (None, _) => "-".to_owned(),
                    (Some(_), None) => String::new(),
                    (Some(_), Some(c)) => remaining(c.keys, c.keys_removed),
                });
            }
        }
        by_variant.add_row(line);
    }
    let _ = writeln!(out, "{by_variant}");

    if let [a, b] = rules[..] {
        let diverging: Vec<_> = rows.iter().filter(|(_, cells)| diverges(cells)).collect();
        if diverging.is_empty() {
            let _ = writeln!(out, "{a} and {b} rules remove the same keys at every row.");
        } else {
            let _ = writeln!(out, "Where {a} and {b} rules diverge (all variants):");
        }
        for (row, cells) in diverging {
            let what = |rules: &str, cell: &Option<&WaterfallRow>| match cell {
                None => format!("not a {rules} rule"),
                Some(r) => format!(
                    "{rules} removes {} and {}, {} left",
                    count_of(r.all.events_removed, "event"),
                    count_of(r.all.keys_removed.unwrap_or(0), "key"),
                    count_of(r.all.keys.unwrap_or(0), "key")
                ),
            };
            let _ = writeln!(
                out,
                "  ≠ {}: {}; {}",
                terminal_text(&row.describe(funnel)),
                what(a, &cells[0]),
                what(b, &cells[1])
            );
        }
    }
    out
}

/// What one funnel (that reads the context) did with one event, in a few words: `step 1, 2`,
/// `removed: tracker`, `counted, no step`.
fn event_fate_text(fate: &snowfunnel_engine::EventFate) -> String {
    if let Some(row) = fate.removed {
        return format!("removed: {}", row.id());
    }
    let steps: Vec<String> =
        (0..64).filter(|s| fate.steps & (1 << s) != 0).map(|s| (s + 1).to_string()).collect();
    if steps.is_empty() { "counted, no step".to_owned() } else { format!("step {}", steps.join(", ")) }
}

/// Where a key left a funnel, as a sentence.
fn key_fate_text(fate: &KeyFate, funnel: &Funnel) -> String {
    let variants: Vec<String> = fate.variants.iter().map(|v| shown_name(v).into_owned()).collect();
    let mut text = if fate.in_funnel {
        format!("seen with {}", variants.join(" and "))
    } else {
        format!(
            "no event of experiment {} with this key (as these rules read schemas)",
            terminal_text(&funnel.experiment)
        )
    };
    if !fate.subject.is_empty() {
        let keys: Vec<String> = fate.subject.iter().map(|k| terminal_text(k).into_owned()).collect();
        let _ = write!(text, ", counted as one subject with keys {} (migration_keys)", keys.join(", "));
    }
    let steps = funnel.steps.len();
    match fate.left_at {
        None => {
            let _ = write!(text, "; reached every step ({steps} of {steps}): counted to the end");
        }
        Some(Row::Step(n)) => {
            if n > 0 {
                let _ = write!(text, "; reached step {n} of {steps}");
            }
            let _ = write!(text, "; left at {}", terminal_text(&Row::Step(n).describe(funnel)));
        }
        Some(row) if fate.in_funnel => {
            let _ = write!(text, "; left at {} ({})", row.id(), terminal_text(&row.describe(funnel)));
        }
        Some(_) => {}
    }
    text
}

/// The terminal text of a key's story: its events in time order (time, event, experiment and
/// variant, app_id, tracker, event id, and what each funnel did with it), then where it left
/// each funnel. `funnels` is the plan's funnels, as in [`KeyStory::funnels`].
#[must_use]
pub fn key_story_text(story: &KeyStory, funnels: &[Funnel]) -> String {
    let mut out = String::new();
    let key = terminal_text(&story.key);
    let label = |f: &KeyFate| format!("{} ({})", terminal_text(&f.funnel), f.rules.as_str());
    if story.events.is_empty() {
        let _ = writeln!(out, "Key {key}: no event with an experiment context has this key.");
    } else {
        let events = count_of(story.events.len() as u64, "event");
        let _ = writeln!(out, "Key {key}: {events} with an experiment context, in time order");
    }
    for (n, e) in story.events.iter().enumerate() {
        let what = if e.event == "struct" {
            format!("{} / {}", terminal_text(&e.category), terminal_text(&e.action))
        } else {
            terminal_text(&e.event).into_owned()
        };
        let time = format_micros(e.time).replace('T', " ").replace('Z', "");
        let schema = if e.exact_schema { "" } else { " (schema in other letter case)" };
        let _ = writeln!(
            out,
            "{:>3}. {time}  {what}  {}: {}{schema}",
            n + 1,
            terminal_text(&e.experiment),
            shown_name(&e.variant)
        );
        let _ = writeln!(
            out,
            "     app_id {}, tracker {}, event_id {}",
            shown_name(&e.app_id),
            shown_name(&e.tracker),
            shown_name(&e.event_id)
        );
        let fates: Vec<String> = e
            .funnels
            .iter()
            .zip(&story.funnels)
            .filter(|(fate, _)| fate.counted)
            .map(|(fate, f)| format!("{}: {}", label(f), event_fate_text(fate)))
            .collect();
        if fates.is_empty() {
            let _ = writeln!(out, "     in no funnel: not its experiment, or a schema its rules do not read");
        } else {
            let _ = writeln!(out, "     {}", fates.join("; "));
        }
    }
    for (fate, funnel) in story.funnels.iter().zip(funnels) {
        let _ = writeln!(out, "{}: {}", label(fate), key_fate_text(fate, funnel));
    }
    out
}
