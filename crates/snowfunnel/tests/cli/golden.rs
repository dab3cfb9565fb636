//! The README's main command on the bundled sample gives the golden CSVs, JSONs and HTML pages
//! (stamped with a fixed time by `SOURCE_DATE_EPOCH`), and the sample is
//! exactly what the project's generator makes (regenerate both with `scripts/gen-testdata.sh`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{assert_exit, stdout};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sorted_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn main_job_on_testdata_gives_the_golden_csvs() {
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_snowfunnel"))
        .current_dir(repo())
        .env("SOURCE_DATE_EPOCH", crate::browser::AS_OF)
        .args(["run", "--funnel", "funnels/", "--out"])
        .arg(out.path())
        .arg("testdata/sample/")
        .output()
        .unwrap();
    assert_exit(&o, 0);
    let golden = sorted_files(&repo().join("testdata/golden"));
    let mut written = sorted_files(out.path());
    assert_eq!(written.first().and_then(|p| p.file_name()), Some("_SUCCESS".as_ref()), "completion marker");
    written.remove(0);
    let names = |v: &[PathBuf]| v.iter().map(|p| p.file_name().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(names(&written), names(&golden));
    for (w, g) in written.iter().zip(&golden) {
        assert_eq!(
            std::fs::read_to_string(w).unwrap(),
            std::fs::read_to_string(g).unwrap(),
            "{}",
            g.display()
        );
    }
    let summary = stdout(&o);
    assert!(summary.contains("lines              6,000"), "{summary}");
    assert!(summary.contains("bad lines          12 (0.20% of lines)"), "{summary}");
}

#[test]
fn explain_on_testdata_gives_the_golden_waterfalls_which_end_in_the_golden_counts() {
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_snowfunnel"))
        .current_dir(repo())
        .args(["explain", "--quiet", "--funnel", "funnels/", "--rules", "snowfunnel,warehouse", "--out"])
        .arg(out.path())
        .arg("testdata/sample/")
        .output()
        .unwrap();
    assert_exit(&o, 0);
    let golden = sorted_files(&repo().join("testdata/golden-explain"));
    let written = sorted_files(out.path());
    let names = |v: &[PathBuf]| v.iter().map(|p| p.file_name().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(names(&written), names(&golden));
    for (w, g) in written.iter().zip(&golden) {
        let text = std::fs::read_to_string(w).unwrap();
        assert_eq!(text, std::fs::read_to_string(g).unwrap(), "{}", g.display());
        // Under snowfunnel's rules, each variant's step rows are the golden funnel CSV's keys.
        let name = g.file_name().unwrap().to_str().unwrap().trim_end_matches(".explain.csv");
        let counts = std::fs::read_to_string(repo().join(format!("testdata/golden/{name}.csv"))).unwrap();
        let mut expected: Vec<(String, String, String)> = csv::Reader::from_reader(counts.as_bytes())
            .records()
            .map(|r| r.unwrap())
            .map(|r| (r[2].to_owned(), format!("step:{}", &r[3]), r[5].to_owned()))
            .collect();
        let mut found: Vec<(String, String, String)> = csv::Reader::from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap())
            .filter(|r| &r[2] == "snowfunnel" && &r[3] == "variant" && r[5].starts_with("step:"))
            .map(|r| (r[4].to_owned(), r[5].to_owned(), r[9].to_owned()))
            .collect();
        expected.sort();
        found.sort();
        assert_eq!(found, expected, "{name}");
    }
}

#[test]
fn testdata_is_what_the_generator_makes() {
    let dir = tempfile::tempdir().unwrap();
    // The settings of scripts/gen-testdata.sh.
    let config = snowfunnel_gen::GenConfig::new(2026, 6000);
    snowfunnel_gen::write_dataset_streaming(&config, dir.path(), 3, true).unwrap();
    let made = sorted_files(dir.path());
    let bundled = sorted_files(&repo().join("testdata/sample"));
    assert_eq!(made.len(), bundled.len());
    for (m, b) in made.iter().zip(&bundled) {
        assert_eq!(m.file_name(), b.file_name());
        assert!(std::fs::read(m).unwrap() == std::fs::read(b).unwrap(), "{} differs", b.display());
    }
}
