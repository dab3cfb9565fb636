//! A tiny harness: a temp workspace, enriched lines built by hand, and a way to run the binary.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output};

use flate2::Compression;
use flate2::write::GzEncoder;

pub(crate) const FUNNEL: &str = r#"
experiment = "exp"
[[steps]]
name = "Viewed"
action = "view"
[[steps]]
name = "Clicked"
action = "click"
"#;

/// A temporary directory with `funnels/`, `in/` and `out/` paths.
pub(crate) struct Workspace {
    pub(crate) dir: tempfile::TempDir,
}

impl Workspace {
    pub(crate) fn new() -> Self {
        let ws = Workspace { dir: tempfile::tempdir().unwrap() };
        std::fs::create_dir_all(ws.path("funnels")).unwrap();
        std::fs::create_dir_all(ws.path("in")).unwrap();
        ws.write("funnels/exp_funnel.toml", FUNNEL.as_bytes());
        ws
    }

    /// Replaces the test funnel with the project's own `funnels/`, which the generator's data
    /// fits.
    pub(crate) fn use_repo_funnels(&self) {
        std::fs::remove_dir_all(self.path("funnels")).unwrap();
        std::fs::create_dir_all(self.path("funnels")).unwrap();
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../funnels");
        for entry in std::fs::read_dir(repo).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, self.path("funnels").join(path.file_name().unwrap())).unwrap();
        }
    }

    /// Runs `snowfunnel <args>` in the workspace.
    pub(crate) fn snowfunnel(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_snowfunnel"))
            .current_dir(self.dir.path())
            .args(args)
            .output()
            .unwrap()
    }

    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub(crate) fn write(&self, rel: &str, data: &[u8]) -> PathBuf {
        let p = self.path(rel);
        std::fs::write(&p, data).unwrap();
        p
    }

    pub(crate) fn write_gz(&self, rel: &str, lines: &[String]) -> PathBuf {
        self.write(rel, &gzip(&join_lines(lines)))
    }

    /// Runs `snowfunnel run --funnel funnels <args>` in the workspace, with `--out out` unless
    /// `args` name another.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        let default_out: &[&str] = if args.contains(&"--out") { &[] } else { &["--out", "out"] };
        Command::new(env!("CARGO_BIN_EXE_snowfunnel"))
            .current_dir(self.dir.path())
            .args(["run", "--funnel", "funnels"])
            .args(default_out)
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs `snowfunnel validate <args>` in the workspace, with `--out out` unless `args` name
    /// another.
    pub(crate) fn validate(&self, args: &[&str]) -> Output {
        let default_out: &[&str] = if args.contains(&"--out") { &[] } else { &["--out", "out"] };
        Command::new(env!("CARGO_BIN_EXE_snowfunnel"))
            .current_dir(self.dir.path())
            .arg("validate")
            .args(default_out)
            .args(args)
            .output()
            .unwrap()
    }

    pub(crate) fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    pub(crate) fn out_files(&self) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(self.path("out")) else { return Vec::new() };
        let mut names: Vec<String> =
            dir.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }
}

pub(crate) fn join_lines(lines: &[String]) -> Vec<u8> {
    lines.iter().flat_map(|l| format!("{l}\n").into_bytes()).collect()
}

pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A struct event with one experiment context of experiment `exp`.
pub(crate) fn event(action: &str, key: &str, variant: &str) -> String {
    let mut f = vec![String::new(); snowfunnel_parse::FIELD_COUNT];
    f[0] = "gitlab".into();
    f[3] = "2026-03-01 10:00:00.000".into();
    f[5] = "struct".into();
    f[6] = format!("{action}-{key}");
    f[54] = action.into();
    f[52] = format!(
        r#"{{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{{"schema":"iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-0","data":{{"experiment":"exp","key":"{key}","variant":"{variant}"}}}}]}}"#
    );
    f.join("\t")
}

/// `n` good events: keys k0..k(n-1), all viewed, every other one clicked.
pub(crate) fn good_events(n: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for i in 0..n {
        let variant = if i % 3 == 0 { "candidate" } else { "control" };
        lines.push(event("view", &format!("k{i}"), variant));
        if i % 2 == 0 {
            lines.push(event("click", &format!("k{i}"), variant));
        }
    }
    lines
}

/// A CSV's rows as maps of column to cell.
pub(crate) fn csv_rows(csv: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    reader
        .records()
        .map(|r| header.iter().cloned().zip(r.unwrap().iter().map(str::to_owned)).collect())
        .collect()
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub(crate) fn assert_exit(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "stdout:\n{}\nstderr:\n{}", stdout(o), stderr(o));
}

/// `1234567` as `1,234,567`, as the summary prints counts.
pub(crate) fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
