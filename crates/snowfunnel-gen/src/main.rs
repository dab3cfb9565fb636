//! `snowfunnel-gen`: writes a generated dataset of enriched events to a directory.
//!
//! Exit codes: 0 success, 1 a run error (bad configuration, IO), 2 bad arguments.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Parser;
use snowfunnel_gen::{
    AVERAGE_LINE_BYTES, DatasetStats, DatasetWriter, GenConfig, Generator, LineCounts, date_micros,
};

/// Write deterministic, realistic GitLab Snowplow enriched events (TSV, gzip by default).
#[derive(Debug, Parser)]
#[command(name = "snowfunnel-gen", version)]
struct Args {
    /// Seed: the same seed and options always give the same files.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Number of lines (malformed lines and duplicates included).
    #[arg(long, required_unless_present = "size", conflicts_with = "size")]
    events: Option<usize>,
    /// Approximate uncompressed size instead of a line count, e.g. 1.5GB, 200MB, 2GiB.
    #[arg(long, value_parser = parse_size)]
    size: Option<u64>,
    /// Number of files to split the lines into.
    #[arg(long, default_value_t = 1)]
    files: usize,
    /// Write plain `.tsv` files instead of gzip.
    #[arg(long)]
    plain: bool,
    /// Output directory (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// First day of the time range, YYYY-MM-DD (UTC).
    #[arg(long, default_value = "2026-03-01")]
    start: String,
    /// Length of the time range in days.
    #[arg(long, default_value_t = 14)]
    days: u32,
    /// Distinct context keys per experiment (default: the number of lines / 20, at least 50).
    #[arg(long)]
    keys_per_experiment: Option<usize>,
    /// Share of good events that carry an experiment context.
    #[arg(long, default_value_t = 0.25)]
    experiment_share: f64,
    /// Share of keys in another shape than lowercase hex: a UUID, uppercase hex or a decimal id.
    #[arg(long, default_value_t = 0.0)]
    other_key_share: f64,
    /// Bare lines: only the fields a consumer of experiments reads (about a third of the size).
    #[arg(long)]
    bare: bool,
    /// gzip compression level, 0 to 9 (1 is several times faster to write).
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(0..=9))]
    gzip_level: u32,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("snowfunnel-gen: {error:#}");
            ExitCode::from(1)
        }
    }
}

fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let events = match (args.events, args.size) {
        (Some(events), _) => events,
        (None, Some(bytes)) => usize::try_from(bytes / AVERAGE_LINE_BYTES).context("--size is too large")?,
        (None, None) => bail!("give --events or --size"),
    };
    let config = GenConfig {
        seed: args.seed,
        events,
        start_micros: parse_date(&args.start).with_context(|| format!("reading --start {:?}", args.start))?,
        span_days: args.days,
        keys_per_experiment: args.keys_per_experiment.unwrap_or(0),
        experiment_share: args.experiment_share,
        other_key_share: args.other_key_share,
        bare_lines: args.bare,
        ..GenConfig::default()
    };
    config.validate().context("checking the configuration")?;
    let counts = LineCounts::for_config(&config);

    let started = Instant::now();
    let stats = write(&config, args).with_context(|| format!("writing to {}", args.out.display()))?;
    println!(
        "wrote {} lines ({} events incl. {} duplicates, {} experiment events; {} malformed) to {} files in {}: \
         {} uncompressed, {} on disk, {:.1}s",
        stats.lines,
        stats.events,
        counts.duplicates,
        counts.experiment_events,
        stats.malformed,
        stats.files.len(),
        args.out.display(),
        human_bytes(stats.bytes_uncompressed),
        human_bytes(stats.bytes_written),
        started.elapsed().as_secs_f64(),
    );
    Ok(ExitCode::SUCCESS)
}

/// Generates the lines of `config` into `args.out`, as [`snowfunnel_gen::write_dataset_streaming`]
/// does, at the asked gzip level.
fn write(config: &GenConfig, args: &Args) -> std::io::Result<DatasetStats> {
    std::fs::create_dir_all(&args.out)?;
    let mut generator = Generator::new(config);
    let mut writer = DatasetWriter::new(&args.out, generator.counts().lines, args.files, !args.plain)
        .with_gzip_level(args.gzip_level);
    while let Some(window) = generator.next_window() {
        for line in &window {
            writer.push(line)?;
        }
    }
    writer.finish()
}

/// `1.5GB` (powers of 1000), `2GiB` (powers of 1024) or a plain byte count.
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| format!("not a size: {text:?}"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" | "t" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!("unknown size unit {other:?} (use B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)"));
        }
    };
    Ok((number * scale) as u64)
}

/// Unix microseconds of midnight UTC of a `YYYY-MM-DD` date.
fn parse_date(text: &str) -> anyhow::Result<i64> {
    let parts: Vec<&str> = text.split('-').collect();
    let [year, month, day] = parts.as_slice() else { bail!("expected YYYY-MM-DD") };
    let (year, month, day): (i64, u32, u32) = (year.parse()?, month.parse()?, day.parse()?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        bail!("no such date");
    }
    Ok(date_micros(year, month, day))
}

fn human_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000_000 => format!("{:.2} GB", b as f64 / 1e9),
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("1.5GB"), Ok(1_500_000_000));
        assert_eq!(parse_size("2GiB"), Ok(2 * 1024 * 1024 * 1024));
        assert_eq!(parse_size("300 MB"), Ok(300_000_000));
        assert_eq!(parse_size("42"), Ok(42));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("3 parsecs").is_err());
    }

    #[test]
    fn dates_parse() {
        assert_eq!(parse_date("2026-03-01").unwrap(), 1_772_323_200_000_000);
        assert!(parse_date("2026-13-01").is_err());
        assert!(parse_date("yesterday").is_err());
    }
}
