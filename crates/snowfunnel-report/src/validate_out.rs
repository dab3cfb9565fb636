//! The validation report's outputs: four CSV files with fixed headers (later versions may
//! append columns, never reorder them) and the readable summary naming every problem found.

use std::fmt::Write as _;
use std::io::{self, Write};

use snowfunnel_parse::{BadReason, format_micros};
use snowfunnel_validate::{MICROS_PER_DAY, Outage, Problem, UNEVEN_SPLIT_ALERT, ValidationReport};

use crate::number::{grouped, p_value, percent, rate, shown_name};
use crate::summary::{summary_line, write_bad_rows_log, write_inputs};
use crate::{CsvCells, RunTotals, list_name, terminal_text};

/// The header of `validate_events.csv`: one row per experiment and event kind.
pub const VALIDATE_EVENTS_HEADER: [&str; 11] = [
    "experiment",
    "event",
    "category",
    "action",
    "label",
    "events",
    "keys",
    "first_seen",
    "last_seen",
    "keys_by_variant",
    "share_by_variant",
];

/// The header of `validate_days.csv`: one row per experiment and day.
pub const VALIDATE_DAYS_HEADER: [&str; 5] = ["experiment", "day", "events", "keys", "outage"];

/// The header of `validate_app_ids.csv`: one row per experiment and `app_id`.
pub const VALIDATE_APP_IDS_HEADER: [&str; 6] =
    ["experiment", "app_id", "events", "event_share", "keys", "key_share"];

/// The header of `validate_summary.csv`: one row per check (and item of a check).
pub const VALIDATE_SUMMARY_HEADER: [&str; 7] =
    ["check", "experiment", "item", "count", "share", "p_value", "problem"];

/// A day since the epoch as `YYYY-MM-DD`.
fn date(day: i64) -> String {
    let mut s = format_micros(day.saturating_mul(MICROS_PER_DAY));
    s.truncate(s.find('T').unwrap_or(s.len()));
    s
}

#[allow(clippy::cast_precision_loss)]
fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Writes `validate_events.csv`: per experiment (by name) and event kind (most events first),
/// events, distinct keys, first and last event time (ISO 8601 UTC, milliseconds), and the keys
/// of every variant of the experiment as `variant=keys` pairs joined by `;` (control first, then
/// by name, the same order on every row of an experiment) with their shares (4 decimals). In
/// the pairs, variant names are percent-encoded as [`list_name`] says, so the lists split back
/// whatever the names. Every text cell is written as `cells` says.
///
/// # Errors
/// When writing fails.
pub fn validate_events_csv(report: &ValidationReport, cells: CsvCells, out: impl Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(VALIDATE_EVENTS_HEADER)?;
    for e in &report.experiments {
        for k in &e.event_kinds {
            let total: u64 = k.keys_by_variant.iter().sum();
            let pairs = |value: &dyn Fn(u64) -> String| {
                e.variants
                    .iter()
                    .zip(&k.keys_by_variant)
                    .map(|(v, &keys)| format!("{}={}", list_name(&v.variant), value(keys)))
                    .collect::<Vec<_>>()
                    .join(";")
            };
            let shares = if total == 0 { String::new() } else { pairs(&|keys| rate(share(keys, total))) };
            w.write_record([
                &*cells.text(e.experiment.as_str()),
                &*cells.text(k.event.as_str()),
                &*cells.text(k.category.as_str()),
                &*cells.text(k.action.as_str()),
                &*cells.text(k.label.as_str()),
                &k.events.to_string(),
                &k.keys.to_string(),
                &format_micros(k.first_seen),
                &format_micros(k.last_seen),
                &*cells.text(pairs(&|keys| keys.to_string())),
                &*cells.text(shares),
            ])?;
        }
    }
    w.flush()
}

/// Writes `validate_days.csv`: per experiment, every day (UTC, by event time) from the first
/// to the last day seen with its events and distinct keys; a day without events in between is
/// a possible outage (`outage` true). Zero-event runs longer than
/// [`snowfunnel_validate::MAX_LISTED_GAP_DAYS`] are not listed day by day (the summary names
/// them). The experiment name is written as `cells` says.
///
/// # Errors
/// When writing fails.
pub fn validate_days_csv(report: &ValidationReport, cells: CsvCells, out: impl Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(VALIDATE_DAYS_HEADER)?;
    for e in &report.experiments {
        for d in &e.days {
            w.write_record([
                &*cells.text(e.experiment.as_str()),
                &date(d.day),
                &d.events.to_string(),
                &d.keys.to_string(),
                if d.outage { "true" } else { "false" },
            ])?;
        }
    }
    w.flush()
}

/// Writes `validate_app_ids.csv`: per experiment and `app_id` (most events first), events and
/// their share of the experiment's events, distinct keys and their share of its keys. The
/// experiment and the `app_id` are written as `cells` says.
///
/// # Errors
/// When writing fails.
pub fn validate_app_ids_csv(report: &ValidationReport, cells: CsvCells, out: impl Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(VALIDATE_APP_IDS_HEADER)?;
    for e in &report.experiments {
        for a in &e.app_ids {
            w.write_record([
                &*cells.text(e.experiment.as_str()),
                &*cells.text(a.app_id.as_str()),
                &a.events.to_string(),
                &rate(share(a.events, e.events)),
                &a.keys.to_string(),
                &rate(share(a.keys, e.keys)),
            ])?;
        }
    }
    w.flush()
}

/// Writes `validate_summary.csv`: every check, one row each (a row per bad-row reason and
/// per variant), `problem` true where the summary names a problem. See the README for the
/// checks. The `experiment` and `item` cells (a variant name, say) are written as `cells` says.
///
/// # Errors
/// When writing fails.
pub fn validate_summary_csv(report: &ValidationReport, cells: CsvCells, out: impl Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(VALIDATE_SUMMARY_HEADER)?;
    let mut row = |check: &str,
                   experiment: &str,
                   item: &str,
                   count: u64,
                   share: Option<f64>,
                   p: Option<f64>,
                   problem: bool| {
        w.write_record([
            check,
            &*cells.text(experiment),
            &*cells.text(item),
            &count.to_string(),
            &rate(share),
            &p_value(p),
            if problem { "true" } else { "false" },
        ])
    };
    let c = &report.counters;
    row("lines", "", "", c.lines, None, None, false)?;
    for reason in BadReason::ALL {
        let n = c.bad[reason];
        row("bad_rows", "", reason.code(), n, share(n, c.lines), None, n > 0)?;
    }
    let d = &report.duplicates;
    row(
        "duplicate_events",
        "",
        "",
        d.extra_copies(),
        share(d.extra_copies(), d.tracked_events),
        None,
        d.extra_copies() > 0,
    )?;
    row(
        "duplicated_event_ids",
        "",
        "",
        d.duplicated_ids,
        share(d.duplicated_ids, d.distinct_ids),
        None,
        d.duplicated_ids > 0,
    )?;
    let contexts = c.experiment_contexts;
    let without = c.contexts_without_key;
    row("contexts_without_key", "", "", without, share(without, contexts), None, without > 0)?;
    let incomplete = c.incomplete_contexts;
    row("incomplete_contexts", "", "", incomplete, share(incomplete, contexts), None, incomplete > 0)?;
    for e in &report.experiments {
        let name = e.experiment.as_str();
        row("experiment_events", name, "", e.events, None, None, e.events == 0)?;
        let srm_p = e.srm.as_ref().map(|s| s.p_value);
        let uneven = srm_p.is_some_and(|p| p < UNEVEN_SPLIT_ALERT);
        for v in &e.variants {
            row("variant_keys", name, &v.variant, v.exclusive_keys, v.share, srm_p, uneven)?;
        }
        row(
            "conflicting_keys",
            name,
            "",
            e.conflicting_keys,
            share(e.conflicting_keys, e.keys),
            None,
            e.conflicting_keys > 0,
        )?;
        let outage_days: i64 = e.outages.iter().map(Outage::days).sum();
        let ranges: Vec<String> = e.outages.iter().map(outage_range).collect();
        row("outage_days", name, &ranges.join(" "), outage_days.unsigned_abs(), None, None, outage_days > 0)?;
    }
    w.flush()
}

fn outage_range(o: &Outage) -> String {
    if o.days() == 1 { date(o.first_day) } else { format!("{}..{}", date(o.first_day), date(o.last_day)) }
}

/// One problem as a readable line, names escaped for the terminal.
#[must_use]
pub fn problem_text(problem: &Problem) -> String {
    match problem {
        Problem::BadRows { bad, lines, by_reason } => {
            let reasons: Vec<String> =
                by_reason.iter().map(|(r, n)| format!("{} {}", r.code(), grouped(*n))).collect();
            format!(
                "bad rows: {} of {} lines ({}): {}",
                grouped(*bad),
                grouped(*lines),
                percent(*bad, *lines),
                reasons.join(", ")
            )
        }
        Problem::DuplicateEvents { copies, ids, events } => format!(
            "duplicated event ids: {} extra copies of {} event ids ({} of {} experiment events)",
            grouped(*copies),
            grouped(*ids),
            percent(*copies, *events),
            grouped(*events)
        ),
        Problem::ContextsWithoutKey { count, contexts } => format!(
            "experiment contexts without a key: {} of {} ({}), ignored",
            grouped(*count),
            grouped(*contexts),
            percent(*count, *contexts)
        ),
        Problem::IncompleteContexts { count, contexts } => format!(
            "experiment contexts without an experiment or variant: {} of {} ({}), ignored",
            grouped(*count),
            grouped(*contexts),
            percent(*count, *contexts)
        ),
        Problem::NoEvents { experiment } => format!("experiment {}: no events", terminal_text(experiment)),
        Problem::Outages { experiment, outages } => {
            let runs: Vec<String> = outages
                .iter()
                .map(|o| {
                    if o.days() == 1 {
                        outage_range(o)
                    } else {
                        format!("{} ({} days)", outage_range(o), grouped(o.days().unsigned_abs()))
                    }
                })
                .collect();
            format!(
                "experiment {}: possible outage, no events on {}",
                terminal_text(experiment),
                runs.join(", ")
            )
        }
        Problem::UnevenSplit { experiment, variants, chi_square, p_value: p } => {
            let total: u64 = variants.iter().map(|(_, k)| k).sum();
            let split: Vec<String> = variants
                .iter()
                .map(|(v, k)| format!("{} {} ({})", shown_name(v), grouped(*k), percent(*k, total)))
                .collect();
            format!(
                "experiment {}: very uneven split between variants: {} (chi-square {chi_square:.1}, p = {})",
                terminal_text(experiment),
                split.join(", "),
                p_value(Some(*p))
            )
        }
        Problem::ConflictingKeys { experiment, conflicting, keys } => format!(
            "experiment {}: {} of {} keys ({}) seen with several variants",
            terminal_text(experiment),
            grouped(*conflicting),
            grouped(*keys),
            percent(*conflicting, *keys)
        ),
    }
}

/// The readable summary: input totals, a few lines per experiment, and every problem found;
/// names escaped for the terminal.
#[must_use]
pub fn validate_text(report: &ValidationReport, totals: &RunTotals) -> String {
    let c = &report.counters;
    let mut s = String::from("Validation summary\n");
    write_inputs(&mut s, totals);
    let line = summary_line;
    line(&mut s, "lines", grouped(c.lines));
    line(&mut s, "events", grouped(c.events));
    line(
        &mut s,
        "bad lines",
        format!("{} ({} of lines)", grouped(c.bad.total()), percent(c.bad.total(), c.lines)),
    );
    write_bad_rows_log(&mut s, totals);
    line(
        &mut s,
        "experiment events",
        format!("{} ({} contexts)", grouped(c.experiment_events), grouped(c.experiment_contexts)),
    );
    for e in &report.experiments {
        let _ = writeln!(s, "  {}", terminal_text(&e.experiment));
        let seen = match (e.first_seen, e.last_seen) {
            (Some(first), Some(last)) => format!(
                ", {} to {}, {} days",
                format_micros(first),
                format_micros(last),
                grouped(e.days.iter().filter(|d| !d.outage).count() as u64)
            ),
            _ => String::new(),
        };
        line(&mut s, "    events", format!("{}{seen}", grouped(e.events)));
        let exclusive: u64 = e.variants.iter().map(|v| v.exclusive_keys).sum();
        let split: Vec<String> = e
            .variants
            .iter()
            .map(|v| {
                format!(
                    "{} {} ({})",
                    shown_name(&v.variant),
                    grouped(v.exclusive_keys),
                    percent(v.exclusive_keys, exclusive)
                )
            })
            .collect();
        let split = if split.is_empty() { "none".to_owned() } else { split.join(", ") };
        line(
            &mut s,
            "    keys",
            format!("{}; by variant (keys of one variant only): {split}", grouped(e.keys)),
        );
        let apps: Vec<String> = e
            .app_ids
            .iter()
            .map(|a| format!("{} {}", shown_name(&a.app_id), percent(a.events, e.events)))
            .collect();
        if !apps.is_empty() {
            line(&mut s, "    app_ids", apps.join(", "));
        }
    }
    let problems = report.problems();
    if problems.is_empty() {
        s.push_str("No problems found.\n");
    } else {
        let _ = writeln!(s, "Problems ({})", problems.len());
        for p in &problems {
            let _ = writeln!(s, "  - {}", problem_text(p));
        }
    }
    line(&mut s, "elapsed", format!("{:.2} s", totals.elapsed.as_secs_f64()));
    s
}

#[cfg(test)]
mod tests {
    use snowfunnel_validate::{
        AppIdReport, Counters, DayReport, Duplicates, EventKindReport, ExperimentReport, VariantSplit,
    };

    use super::*;
    use snowfunnel_parse::BadRows;

    fn report() -> ValidationReport {
        let day = 20_513; // 2026-03-01
        let mut bad = BadRows::default();
        bad.record(BadReason::FieldCount);
        bad.record(BadReason::FieldCount);
        ValidationReport {
            counters: Counters {
                lines: 100,
                events: 98,
                bad,
                experiment_events: 40,
                experiment_contexts: 50,
                contexts_without_key: 1,
                incomplete_contexts: 0,
            },
            duplicates: Duplicates { tracked_events: 40, distinct_ids: 38, duplicated_ids: 1 },
            experiments: vec![ExperimentReport {
                experiment: "a/b".into(),
                events: 40,
                contexts: 49,
                keys: 10,
                conflicting_keys: 1,
                first_seen: Some(day * MICROS_PER_DAY),
                last_seen: Some((day + 3) * MICROS_PER_DAY + 1_500),
                variants: vec![
                    VariantSplit {
                        variant: "control".into(),
                        keys: 6,
                        exclusive_keys: 5,
                        share: Some(5.0 / 9.0),
                    },
                    VariantSplit {
                        variant: "candidate".into(),
                        keys: 5,
                        exclusive_keys: 4,
                        share: Some(4.0 / 9.0),
                    },
                ],
                srm: sample(),
                event_kinds: vec![EventKindReport {
                    event: "struct".into(),
                    category: "projects:show".into(),
                    action: "view".into(),
                    label: "a, b".into(),
                    events: 40,
                    keys: 10,
                    first_seen: day * MICROS_PER_DAY,
                    last_seen: (day + 3) * MICROS_PER_DAY + 1_500,
                    keys_by_variant: vec![6, 5],
                }],
                days: vec![
                    DayReport { day, events: 30, keys: 8, outage: false },
                    DayReport { day: day + 1, events: 0, keys: 0, outage: true },
                    DayReport { day: day + 2, events: 0, keys: 0, outage: true },
                    DayReport { day: day + 3, events: 10, keys: 4, outage: false },
                ],
                outages: vec![Outage { first_day: day + 1, last_day: day + 2 }],
                app_ids: vec![AppIdReport { app_id: "gitlab".into(), events: 40, keys: 10 }],
            }],
        }
    }

    fn sample() -> Option<snowfunnel_stats::SrmResult> {
        snowfunnel_stats::sample_ratio_mismatch(&[5, 4], None).unwrap()
    }

    fn written(write: fn(&ValidationReport, CsvCells, &mut Vec<u8>) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        write(&report(), CsvCells::default(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_the_contracts() {
        assert_eq!(
            written(|r, c, o| validate_events_csv(r, c, o)),
            "experiment,event,category,action,label,events,keys,first_seen,last_seen,keys_by_variant,share_by_variant\n\
             a/b,struct,projects:show,view,\"a, b\",40,10,2026-03-01T00:00:00.000Z,2026-03-04T00:00:00.001Z,\
             control=6;candidate=5,control=0.5455;candidate=0.4545\n"
        );
        assert_eq!(
            written(|r, c, o| validate_days_csv(r, c, o)),
            "experiment,day,events,keys,outage\n\
             a/b,2026-03-01,30,8,false\na/b,2026-03-02,0,0,true\na/b,2026-03-03,0,0,true\na/b,2026-03-04,10,4,false\n"
        );
        assert_eq!(
            written(|r, c, o| validate_app_ids_csv(r, c, o)),
            "experiment,app_id,events,event_share,keys,key_share\na/b,gitlab,40,1.0000,10,1.0000\n"
        );
        let summary = written(|r, c, o| validate_summary_csv(r, c, o));
        assert!(summary.starts_with(
            "check,experiment,item,count,share,p_value,problem\nlines,,,100,,,false\nbad_rows,,not_tsv,0,0.0000,,false\n\
             bad_rows,,field_count,2,0.0200,,true\n"
        ), "{summary}");
        assert!(summary.ends_with(
            "duplicate_events,,,2,0.0500,,true\nduplicated_event_ids,,,1,0.0263,,true\n\
             contexts_without_key,,,1,0.0200,,true\nincomplete_contexts,,,0,0.0000,,false\n\
             experiment_events,a/b,,40,,,false\n\
             variant_keys,a/b,control,5,0.5556,0.7389,false\nvariant_keys,a/b,candidate,4,0.4444,0.7389,false\n\
             conflicting_keys,a/b,,1,0.1000,,true\noutage_days,a/b,2026-03-02..2026-03-03,2,,,true\n"
        ), "{summary}");
    }

    #[test]
    fn the_summary_names_every_problem() {
        let text = validate_text(&report(), &RunTotals::default());
        let problems: Vec<&str> = text.lines().filter(|l| l.starts_with("  - ")).collect();
        assert_eq!(
            problems,
            [
                "  - bad rows: 2 of 100 lines (2.00%): field_count 2",
                "  - duplicated event ids: 2 extra copies of 1 event ids (5.00% of 40 experiment events)",
                "  - experiment contexts without a key: 1 of 50 (2.00%), ignored",
                "  - experiment a/b: possible outage, no events on 2026-03-02..2026-03-03 (2 days)",
                "  - experiment a/b: 1 of 10 keys (10.00%) seen with several variants",
            ],
            "{text}"
        );
        assert!(
            text.contains(
                "10; by variant (keys of one variant only): control 5 (55.56%), candidate 4 (44.44%)"
            ),
            "{text}"
        );
        let mut clean = report();
        clean.counters = Counters::default();
        clean.duplicates = Duplicates::default();
        clean.experiments.clear();
        assert!(validate_text(&clean, &RunTotals::default()).contains("No problems found.\n"));
    }

    /// The report with hostile names: variants holding the list's separators, a formula, a
    /// newline and terminal escapes.
    fn hostile() -> ValidationReport {
        let mut r = report();
        let e = &mut r.experiments[0];
        e.experiment = "=HYPERLINK(\"x\")".into();
        e.variants[0].variant = "a=b;c%".into();
        e.variants[1].variant = "+1\n\u{1b}[31m".into();
        e.event_kinds[0].label = "@SUM(1)".into();
        e.event_kinds[0].category = "\tcat".into();
        e.app_ids[0].app_id = "-2\u{7}".into();
        r
    }

    fn records(csv: &[u8]) -> Vec<Vec<String>> {
        csv::Reader::from_reader(csv)
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect()
    }

    #[test]
    fn keys_by_variant_splits_back_whatever_the_names() {
        for cells in [CsvCells::Neutralised, CsvCells::Raw] {
            let mut out = Vec::new();
            validate_events_csv(&hostile(), cells, &mut out).unwrap();
            let row = &records(&out)[0];
            assert_eq!(
                row[0],
                if cells == CsvCells::Raw { "=HYPERLINK(\"x\")" } else { "'=HYPERLINK(\"x\")" }
            );
            assert_eq!(row[2], if cells == CsvCells::Raw { "\tcat" } else { "'\tcat" });
            assert_eq!(row[4], if cells == CsvCells::Raw { "@SUM(1)" } else { "'@SUM(1)" });
            assert_eq!(row[9], "a%3Db%3Bc%25=6;+1%0A%1B[31m=5");
            let parse = |list: &str| -> Vec<(String, String)> {
                list.split(';')
                    .map(|pair| {
                        let (name, value) = pair.split_once('=').unwrap();
                        let name = percent_encoding::percent_decode_str(name).decode_utf8().unwrap();
                        (name.into_owned(), value.to_owned())
                    })
                    .collect()
            };
            let pairs = |values: [&str; 2]| {
                vec![
                    ("a=b;c%".to_owned(), values[0].to_owned()),
                    ("+1\n\u{1b}[31m".to_owned(), values[1].to_owned()),
                ]
            };
            assert_eq!(parse(&row[9]), pairs(["6", "5"]));
            assert_eq!(parse(&row[10]), pairs(["0.5455", "0.4545"]));
        }
    }

    #[test]
    fn hostile_names_are_neutralised_in_every_csv() {
        let r = hostile();
        let write = |f: fn(&ValidationReport, CsvCells, &mut Vec<u8>) -> io::Result<()>, cells| {
            let mut out = Vec::new();
            f(&r, cells, &mut out).unwrap();
            records(&out)
        };
        let days = write(|r, c, o| validate_days_csv(r, c, o), CsvCells::Neutralised);
        assert!(days.iter().all(|d| d[0] == "'=HYPERLINK(\"x\")"), "{days:?}");
        let apps = write(|r, c, o| validate_app_ids_csv(r, c, o), CsvCells::Neutralised);
        assert_eq!(apps[0][..3], ["'=HYPERLINK(\"x\")", "'-2\u{7}", "40"]);
        let raw = write(|r, c, o| validate_app_ids_csv(r, c, o), CsvCells::Raw);
        assert_eq!(raw[0][..3], ["=HYPERLINK(\"x\")", "-2\u{7}", "40"]);
        let summary = write(|r, c, o| validate_summary_csv(r, c, o), CsvCells::Neutralised);
        let variants: Vec<&[String]> =
            summary.iter().filter(|row| row[0] == "variant_keys").map(|row| &row[1..4]).collect();
        assert_eq!(variants[0], ["'=HYPERLINK(\"x\")", "a=b;c%", "5"]);
        assert_eq!(variants[1], ["'=HYPERLINK(\"x\")", "'+1\n\u{1b}[31m", "4"]);
    }

    #[test]
    fn the_summary_escapes_control_characters() {
        let text = validate_text(&hostile(), &RunTotals::default());
        assert!(!text.contains(['\u{1b}', '\u{7}']), "{text:?}");
        assert!(text.contains("\n  =HYPERLINK(\"x\")\n"), "{text}");
        assert!(text.contains("a=b;c% 5 (55.56%), +1\\n\\u{1b}[31m 4 (44.44%)"), "{text}");
        assert!(text.contains("app_ids        -2\\u{7} 100.00%"), "{text}");
        let uneven = Problem::UnevenSplit {
            experiment: "e\u{1b}".into(),
            variants: vec![("\u{7}".into(), 1), (String::new(), 1)],
            chi_square: 0.0,
            p_value: 1.0,
        };
        assert_eq!(
            problem_text(&uneven),
            "experiment e\\u{1b}: very uneven split between variants: \\u{7} 1 (50.00%), (empty) 1 (50.00%) \
             (chi-square 0.0, p = 1.0000)"
        );
    }
}
