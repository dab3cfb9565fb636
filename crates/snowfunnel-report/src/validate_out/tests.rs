//! The validation outputs on one hand-built report: the CSV contracts, the problems the
//! summary names, and hostile names through every output.

use std::io;

use snowfunnel_parse::{BadReason, BadRows, MICROS_PER_DAY};
use snowfunnel_validate::{
    AppIdReport, Counters, DayReport, Duplicates, EventKindReport, ExperimentReport, Outage, Problem,
    ValidationReport, VariantSplit,
};

use super::{
    problem_text, validate_app_ids_csv, validate_days_csv, validate_events_csv, validate_summary_csv,
    validate_text,
};
use crate::{CsvCells, RunTotals};

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
                DayReport { day, events: 30, keys: 8, events_by_variant: vec![16, 14], outage: false },
                DayReport { day: day + 1, events: 0, keys: 0, events_by_variant: vec![0, 0], outage: true },
                DayReport { day: day + 2, events: 0, keys: 0, events_by_variant: vec![0, 0], outage: true },
                DayReport { day: day + 3, events: 10, keys: 4, events_by_variant: vec![6, 4], outage: false },
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
    assert!(
        summary.ends_with(
            "duplicate_events,,,2,0.0500,,true\nduplicated_event_ids,,,1,0.0263,,true\n\
         contexts_without_key,,,1,0.0200,,true\nincomplete_contexts,,,0,0.0000,,false\n\
         experiment_events,a/b,,40,,,false\n\
         variant_keys,a/b,control,5,0.5556,0.7389,false\nvariant_keys,a/b,candidate,4,0.4444,0.7389,false\n\
         conflicting_keys,a/b,,1,0.1000,,true\noutage_days,a/b,2026-03-02..2026-03-03,2,,,true\n"
        ),
        "{summary}"
    );
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
        text.contains("10; by variant (keys of one variant only): control 5 (55.56%), candidate 4 (44.44%)"),
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
    csv::Reader::from_reader(csv).records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect()
}

#[test]
fn keys_by_variant_splits_back_whatever_the_names() {
    for cells in [CsvCells::Neutralised, CsvCells::Raw] {
        let mut out = Vec::new();
        validate_events_csv(&hostile(), cells, &mut out).unwrap();
        let row = &records(&out)[0];
        assert_eq!(row[0], if cells == CsvCells::Raw { "=HYPERLINK(\"x\")" } else { "'=HYPERLINK(\"x\")" });
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
