//! Shared input for the criterion benchmarks: a generated, GitLab-shaped sample of enriched
//! events, in memory, plain and gzip, so every benchmark measures the same bytes.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use snowfunnel_gen::{GenConfig, generate};

/// The funnel of the benchmarks: the walkthrough experiment of the generated sample, four steps.
pub const FUNNEL: &str = r#"
experiment = "pipeline_editor_walkthrough"
[[steps]]
name = "Viewed editor"
category = "projects:ci:editor"
action = "view_editor"
[[steps]]
name = "Clicked walkthrough"
action = "click_walkthrough"
[[steps]]
name = "Committed"
event = "unstruct"
[[steps]]
name = "Succeeded"
action = "pipeline_succeeded"
"#;

/// Lines in the benchmark sample (about 33 MB uncompressed).
pub const SAMPLE_LINES: usize = 20_000;

/// The benchmark sample: newline-terminated enriched lines, and the same bytes gzip-compressed.
pub struct Sample {
    /// Plain TSV.
    pub plain: Vec<u8>,
    /// The same data, gzip (level 6, as the S3 loader writes).
    pub gzip: Vec<u8>,
}

impl Sample {
    /// Generates the sample (seed 1, default generator settings).
    ///
    /// # Panics
    /// Never in practice: compressing into memory cannot fail.
    #[must_use]
    pub fn new() -> Self {
        let mut plain = Vec::new();
        for line in generate(&GenConfig::new(1, SAMPLE_LINES)) {
            line.write_tsv(&mut plain);
            plain.push(b'\n');
        }
        let mut encoder = GzEncoder::new(Vec::new(), Compression::new(6));
        encoder.write_all(&plain).expect("in-memory gzip");
        let gzip = encoder.finish().expect("in-memory gzip");
        Sample { plain, gzip }
    }

    /// The lines, without their newlines.
    pub fn lines(&self) -> impl Iterator<Item = &[u8]> {
        self.plain.split(|&b| b == b'\n').filter(|l| !l.is_empty())
    }
}

impl Default for Sample {
    fn default() -> Self {
        Self::new()
    }
}
