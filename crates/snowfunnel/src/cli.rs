//! Command-line arguments: one `Args` struct per subcommand.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use snowfunnel_engine::BreakdownField;
use snowfunnel_input::{MAX_LINE_BYTES_LIMIT, Shard};
use snowfunnel_report::CsvCells;

/// Per-variant experiment funnels straight from Snowplow enriched event dumps.
#[derive(Debug, Parser)]
#[command(name = "snowfunnel", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Compute funnels over enriched event files and write one CSV per funnel.
    Run(RunArgs),
    /// Check the experiment data: events, keys, split, days and outages per experiment,
    /// app_ids, duplicated event ids, bad rows; CSV files and a summary of every problem found.
    Validate(ValidateArgs),
    /// Extract the events of experiments: one row per event and experiment context, as CSV or
    /// Parquet.
    Events(EventsArgs),
    /// Merge state files (of sharded or separate runs) and write the same reports as `run`.
    Merge(MergeArgs),
    /// List the experiments in the inputs: their variants, and their events by event,
    /// category, action and label, with counts (to write a funnel file from).
    Experiments(ExperimentsArgs),
    /// Explain the funnels' counts: what each bad-row reason, rule and step removed, events and
    /// keys, per funnel and variant (a waterfall), under each funnel's rules or two rule sets
    /// side by side; or, with --key, one key's events and where it left each funnel.
    Explain(ExplainArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// Funnel definition files (TOML) or directories of `*.toml` files.
    #[arg(long = "funnel", short = 'f', value_name = "PATH", required = true)]
    pub(crate) funnels: Vec<PathBuf>,

    /// Read every input, even those whose key or path dates them outside the funnels'
    /// start..end window (pruning keeps a margin of one day on each side).
    #[arg(long)]
    pub(crate) no_prune: bool,

    #[command(flatten)]
    pub(crate) report: ReportArgs,

    // The shared groups come last: each opens its own help heading, which would otherwise
    // also take the options that follow it.
    #[command(flatten)]
    pub(crate) input: InputArgs,

    #[command(flatten)]
    pub(crate) output: OutputArgs,

    #[command(flatten)]
    pub(crate) state: StateArgs,
}

/// How the funnel reports are computed: the same for `run` and `merge`.
#[derive(Debug, clap::Args)]
pub(crate) struct ReportArgs {
    /// Significance level: a variant's difference from the control is significant when its
    /// Holm-adjusted p-value is below it.
    #[arg(long, value_name = "ALPHA", default_value_t = 0.05, value_parser = parse_level)]
    pub(crate) alpha: f64,

    /// Split each funnel by the UTC day or week (from Monday) of each key's first step-1
    /// event: one block per cohort in the CSV, with a `cohort` column.
    #[arg(long, value_name = "PERIOD")]
    pub(crate) by: Option<CohortArg>,

    /// With --by: each cohort holds the running totals up to and including its period (the
    /// keys whose first step-1 event is on or before its last day), with its own statistics.
    #[arg(long, requires = "by")]
    pub(crate) cumulative: bool,

    /// Also split each funnel by the value of this enriched field (`app_id`, `platform`,
    /// `os_family`, `br_family`, `geo_country`, `dvce_type`, or any field by its name) on each
    /// key's first step-1 event: one block per value in the CSV, with `dimension,value`
    /// columns. Repeatable.
    #[arg(long, value_name = "FIELD", value_parser = parse_breakdown)]
    pub(crate) breakdown: Vec<BreakdownField>,

    /// Exit with code 4, once every output is written, when one of these checks finds a
    /// problem: `empty` (an experiment, step, control or weighted variant that matched nothing),
    /// `srm`, `contamination`, `outage`. Comma-separated or repeatable.
    #[arg(long, value_name = "CHECKS", value_enum, value_delimiter = ',')]
    pub(crate) fail_on: Vec<CheckArg>,

    /// As `--fail-on empty,srm,contamination,outage`.
    #[arg(long)]
    pub(crate) strict: bool,

    /// The reports to write in --out (repeatable or comma-separated): csv (`<funnel>.csv`,
    /// `<funnel>.summary.csv`), json (`<funnel>.json`, `_run.json`), html (`<funnel>.html`,
    /// `_index.html`).
    #[arg(long = "format", value_name = "FORMAT", value_enum, value_delimiter = ',',
          default_values_t = [ReportFormat::Csv, ReportFormat::Json, ReportFormat::Html])]
    pub(crate) formats: Vec<ReportFormat>,
}

/// The checks `--fail-on` can turn into a failed run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CheckArg {
    Empty,
    Srm,
    Contamination,
    Outage,
}

impl ReportArgs {
    /// The checks that fail the run: those of `--fail-on`, or all of them with `--strict`; each
    /// once, in the documented order.
    pub(crate) fn failing_checks(&self) -> Vec<CheckArg> {
        CheckArg::value_variants()
            .iter()
            .copied()
            .filter(|c| self.strict || self.fail_on.contains(c))
            .collect()
    }
}

/// A report format of `run` and `merge`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    /// The funnel CSVs and their checks.
    Csv,
    /// The funnel JSONs and the run summary.
    Json,
    /// A page per funnel and the index page.
    Html,
}

/// State files: runs that continue earlier ones, or that are one shard of a bigger run.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "State and sharding")]
pub(crate) struct StateArgs {
    /// Also write the run's state (key sets, counters, the funnels' fingerprints, the inputs
    /// read) to PATH, a file or `s3://bucket/key`, for `snowfunnel merge` or a later
    /// `--state` run. `{shard}` in PATH becomes the shard index.
    #[arg(long, value_name = "PATH")]
    pub(crate) state_out: Option<PathBuf>,

    /// Incremental run: load the state at PATH (a file or `s3://bucket/key`) if there is one,
    /// read only the inputs it has not counted, write the updated state back to PATH, and
    /// report on everything counted. An input that changed since it was counted is an error.
    #[arg(long, value_name = "PATH", conflicts_with = "state_out")]
    pub(crate) state: Option<PathBuf>,

    /// With --state: ignore the state saved at PATH and count every input again.
    #[arg(long, requires = "state")]
    pub(crate) rebuild: bool,

    /// With --state: list every object under each s3:// prefix. By default, when the keys the
    /// state counted under a prefix sort by date (day partitions or the loader's dated file
    /// names), listing starts after those dated more than 2 days before the newest.
    #[arg(long, requires = "state")]
    pub(crate) full_listing: bool,

    /// Read only the inputs of shard INDEX (0-based) of COUNT, each input in exactly one shard
    /// by a stable hash of its name; write the shard's state with --state-out, and no report.
    #[arg(long, value_name = "INDEX/COUNT", requires = "state_out", conflicts_with_all = ["state", "shard_from_env"])]
    pub(crate) shard: Option<Shard>,

    /// As --shard, with the index from `JOB_COMPLETION_INDEX` (Kubernetes Indexed Job) or
    /// else `AWS_BATCH_JOB_ARRAY_INDEX` (AWS Batch array job), and the count from --shard-count.
    #[arg(long, requires_all = ["shard_count", "state_out"], conflicts_with = "state")]
    pub(crate) shard_from_env: bool,

    /// The number of shards, with --shard-from-env.
    #[arg(long, value_name = "COUNT", requires = "shard_from_env", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) shard_count: Option<u32>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct MergeArgs {
    /// State files (`--state-out` of runs over disjoint inputs): local files or
    /// `s3://bucket/key`; a directory or an `s3://bucket/prefix/` ending in `/` means every
    /// `*.snowfunnel` file under it.
    #[arg(value_name = "STATE", required = true)]
    pub(crate) states: Vec<PathBuf>,

    /// The funnel definitions the states were built for (TOML files or directories).
    #[arg(long = "funnel", short = 'f', value_name = "PATH", required = true)]
    pub(crate) funnels: Vec<PathBuf>,

    #[command(flatten)]
    pub(crate) report: ReportArgs,

    /// Directory (or `s3://bucket/prefix/`) for the CSV reports.
    #[arg(long, value_name = "DIR", default_value = "out", help_heading = "Output")]
    pub(crate) out: PathBuf,

    /// Also write the merged state to PATH (a file or `s3://bucket/key`).
    #[arg(long, value_name = "PATH", help_heading = "Output")]
    pub(crate) state_out: Option<PathBuf>,

    /// Merge the states of some shards of a sharded run only (an intermediate merge, or a
    /// look at early results); without it, a missing shard is an error.
    #[arg(long)]
    pub(crate) allow_missing_shards: bool,

    /// Fail when bad rows exceed this share of the lines of all the states together.
    #[arg(long, value_name = "RATIO", default_value_t = 0.01, value_parser = parse_ratio, help_heading = "Output")]
    pub(crate) max_bad_ratio: f64,

    /// Print nothing on stdout (the CSV files are still written).
    #[arg(long, short = 'q', help_heading = "Output")]
    pub(crate) quiet: bool,

    #[command(flatten)]
    pub(crate) csv: CsvArgs,

    #[command(flatten)]
    pub(crate) s3: S3Args,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ValidateArgs {
    /// Report only this experiment (repeatable; default: every experiment seen). An
    /// experiment named but never seen is reported as a problem.
    #[arg(long = "experiment", short = 'e', value_name = "NAME")]
    pub(crate) experiments: Vec<String>,

    /// The reports to write in --out (repeatable or comma-separated): csv (the four
    /// `validate_*.csv` files), html (`validate.html`).
    #[arg(long = "format", value_name = "FORMAT", value_enum, value_delimiter = ',',
          default_values_t = [ValidateFormat::Csv, ValidateFormat::Html])]
    pub(crate) formats: Vec<ValidateFormat>,

    #[command(flatten)]
    pub(crate) input: InputArgs,

    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// A report format of `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ValidateFormat {
    /// The four CSV files.
    Csv,
    /// The page.
    Html,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ExplainArgs {
    /// Funnel definition files (TOML) or directories of `*.toml` files.
    #[arg(long = "funnel", short = 'f', value_name = "PATH", required = true)]
    pub(crate) funnels: Vec<PathBuf>,

    /// Count under these rule sets, side by side (comma-separated or repeatable, at most two):
    /// `snowfunnel`, `warehouse`. Default: each funnel's own `rules`.
    #[arg(long, value_name = "RULES", value_enum, value_delimiter = ',', num_args = 1..)]
    pub(crate) rules: Vec<RulesArg>,

    /// Tell this context key's story instead: its events with an experiment context, in time
    /// order, what each funnel did with each, and where the key left each funnel. Writes no
    /// file.
    #[arg(long, value_name = "KEY")]
    pub(crate) key: Option<String>,

    /// Read every input, even those whose key or path dates them outside the funnels'
    /// start..end window (as `run --no-prune`).
    #[arg(long)]
    pub(crate) no_prune: bool,

    #[command(flatten)]
    pub(crate) input: InputArgs,

    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// A rule set of `explain --rules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RulesArg {
    /// snowfunnel's rules.
    Snowfunnel,
    /// The rules of GitLab's warehouse models.
    Warehouse,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ExperimentsArgs {
    /// List only this experiment (repeatable; default: every experiment seen).
    #[arg(long = "experiment", short = 'e', value_name = "NAME")]
    pub(crate) experiments: Vec<String>,

    #[command(flatten)]
    pub(crate) input: InputArgs,
}

#[derive(Debug, clap::Args)]
pub(crate) struct EventsArgs {
    /// An experiment to extract (exact name; repeatable).
    #[arg(long = "experiment", short = 'e', value_name = "NAME", required = true)]
    pub(crate) experiments: Vec<String>,

    /// Keep events from this event time on: a UTC date (`2026-03-01`) or timestamp
    /// (`2026-03-01 12:00:00`, `2026-03-01T12:00:00Z`).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub(crate) start: Option<i64>,

    /// Keep events before this event time (exclusive); a date or timestamp as for --start.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub(crate) end: Option<i64>,

    /// Read every input, even those whose key or path dates them outside the --start..--end
    /// window (pruning keeps a margin of one day on each side).
    #[arg(long)]
    pub(crate) no_prune: bool,

    /// Keep the events of one environment (by app_id: see --production-app-id,
    /// --staging-app-id; any other app_id is `other`).
    #[arg(long, value_enum, default_value_t = EnvironmentArg::All)]
    pub(crate) environment: EnvironmentArg,

    /// Keep only events of this app_id (repeatable).
    #[arg(long = "app-id", value_name = "ID")]
    pub(crate) app_ids: Vec<String>,

    /// The app_ids of production (repeatable; replaces the default).
    #[arg(long = "production-app-id", value_name = "ID", default_values_t = ["gitlab".to_owned()])]
    pub(crate) production_app_ids: Vec<String>,

    /// The app_ids of staging (repeatable; replaces the default).
    #[arg(long = "staging-app-id", value_name = "ID", default_values_t = ["gitlab-staging".to_owned()])]
    pub(crate) staging_app_ids: Vec<String>,

    /// Events whose event_id occurs more than once: keep the first in output order, keep
    /// all, or drop every copy.
    #[arg(long, value_enum, default_value_t = DuplicatesArg::First)]
    pub(crate) duplicates: DuplicatesArg,

    // The shared groups come last, as in `run`: each opens its own help heading.
    #[command(flatten)]
    pub(crate) input: InputArgs,

    #[command(flatten)]
    pub(crate) output: EventsOutputArgs,
}

/// What to read and how: the same for every command that reads enriched events.
#[derive(Debug, clap::Args)]
pub(crate) struct InputArgs {
    /// Enriched event files (gzip or plain TSV), directories (read recursively) or
    /// `s3://bucket/prefix` URLs (every object under the prefix).
    #[arg(value_name = "INPUT", required = true)]
    pub(crate) inputs: Vec<PathBuf>,

    /// Read only inputs whose object key or file path matches this glob (repeatable; `*`
    /// also matches `/`).
    #[arg(long, value_name = "GLOB")]
    pub(crate) include: Vec<String>,

    /// Skip inputs whose object key or file path matches this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub(crate) exclude: Vec<String>,

    /// Skip truncated or corrupt gzip files (listed in the summary) instead of failing.
    #[arg(long)]
    pub(crate) skip_corrupt_files: bool,

    /// Worker threads (default: available cores).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) threads: Option<u16>,

    /// A longer line is a bad row (`line_too_long`), skipped without being read into memory.
    /// A size in bytes, with an optional unit (`64KiB`, `1MiB`, `10MB`); at most 1GiB.
    #[arg(long, value_name = "SIZE", default_value = "1MiB", value_parser = parse_max_line)]
    pub(crate) max_line_bytes: usize,

    #[command(flatten)]
    pub(crate) s3: S3Args,
}

/// Where reports go, and the bad-row check: the same for every command that writes reports.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Output")]
pub(crate) struct OutputArgs {
    /// Directory (or `s3://bucket/prefix/`) for the CSV reports.
    #[arg(long, value_name = "DIR", default_value = "out")]
    pub(crate) out: PathBuf,

    #[command(flatten)]
    pub(crate) bad_rows: BadRowsArgs,

    /// Fail when bad rows exceed this share of lines (of the whole run: a shard leaves the
    /// check to `merge`).
    #[arg(long, value_name = "RATIO", default_value_t = 0.01, value_parser = parse_ratio)]
    pub(crate) max_bad_ratio: f64,

    /// Print nothing on stdout (the CSV files are still written).
    #[arg(long, short = 'q')]
    pub(crate) quiet: bool,

    #[command(flatten)]
    pub(crate) csv: CsvArgs,
}

/// Where the events extract goes, and the bad-row check. Not [`OutputArgs`]: the extract is one
/// file or stdout, not a directory of reports, and its summary goes to stderr.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Output")]
pub(crate) struct EventsOutputArgs {
    /// Output file, or `-` for stdout (CSV only). Written to a temporary file and renamed into
    /// place when the extract succeeds.
    #[arg(long, short = 'o', value_name = "FILE", default_value = "-")]
    pub(crate) out: PathBuf,

    /// Output format (default: parquet when --out ends in `.parquet`, else csv).
    #[arg(long, value_enum)]
    pub(crate) format: Option<FormatArg>,

    #[command(flatten)]
    pub(crate) bad_rows: BadRowsArgs,

    /// Fail when bad rows exceed this share of lines.
    #[arg(long, value_name = "RATIO", default_value_t = 0.01, value_parser = parse_ratio)]
    pub(crate) max_bad_ratio: f64,

    /// Print no summary on stderr, and no progress line.
    #[arg(long, short = 'q')]
    pub(crate) quiet: bool,

    #[command(flatten)]
    pub(crate) csv: CsvArgs,
}

/// How CSV text cells holding strings from the data are written: the same for every command
/// that writes CSV (reports, the events extract, the bad-row log).
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Output")]
pub(crate) struct CsvArgs {
    /// Write strings from the data into CSV cells as they are, unprotected against spreadsheet
    /// formulas.
    ///
    /// Without it, a text cell (a name, a label, a raw bad line) that starts with `=`, `+`, `-`,
    /// `@`, a tab, CR or `'` gets a leading `'`, so that spreadsheets do not run it as a formula;
    /// number columns are never changed.
    #[arg(long)]
    pub(crate) raw_csv: bool,
}

impl CsvArgs {
    /// How the writers write text cells.
    pub(crate) fn cells(&self) -> CsvCells {
        if self.raw_csv { CsvCells::Raw } else { CsvCells::Neutralised }
    }
}

/// The bad-row log: the same for every command that reads enriched events.
#[derive(Debug, clap::Args)]
pub(crate) struct BadRowsArgs {
    /// Write the bad rows to this file, in input order: CSV (file, line, reason, detail, raw
    /// line) or Snowplow bad rows (see --bad-rows-format).
    #[arg(long = "bad-rows", value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,

    /// The format of --bad-rows: `csv`, or `snowplow` (one Snowplow `loader_parsing_error`
    /// self-describing JSON per line).
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t = BadRowsFormatArg::Csv)]
    pub(crate) bad_rows_format: BadRowsFormatArg,

    /// Keep only the first bad rows (in input order) that fit in this size in --bad-rows, and
    /// count the others; a size as for --max-line-bytes.
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = parse_bytes)]
    pub(crate) max_bad_rows_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BadRowsFormatArg {
    Csv,
    Snowplow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EnvironmentArg {
    Production,
    Staging,
    Other,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DuplicatesArg {
    First,
    All,
    Drop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FormatArg {
    Csv,
    Parquet,
}

/// Cohort periods.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum CohortArg {
    /// By day.
    Day,
    /// By week, Monday to Sunday.
    Week,
}

/// How to reach S3; the credentials come from the standard AWS chain (environment, profile,
/// SSO, instance or task role).
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "S3")]
pub(crate) struct S3Args {
    /// Endpoint of an S3-compatible store (MinIO, Ceph, R2...); default: AWS, or
    /// `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL` when set.
    #[arg(long, value_name = "URL")]
    pub(crate) endpoint_url: Option<String>,

    /// Address buckets as `endpoint/bucket/key` (most S3-compatible stores need it).
    #[arg(long)]
    pub(crate) s3_path_style: bool,

    /// Region to sign requests for; default: `AWS_REGION`, the profile, else us-east-1.
    #[arg(long, value_name = "REGION")]
    pub(crate) region: Option<String>,

    /// Objects downloaded at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) s3_concurrency: u16,
}

fn parse_time(s: &str) -> Result<i64, String> {
    snowfunnel_parse::parse_date_or_timestamp(s.as_bytes())
        .map_err(|e| format!("{e}: expected a date (YYYY-MM-DD) or a timestamp (YYYY-MM-DD hh:mm:ss)"))
}

/// A size in bytes: a number with an optional unit (`1MiB`, `64 KiB`, `10MB`, `1.5GB`); `k`,
/// `M`, `G` alone are decimal, `Ki`, `Mi`, `Gi` binary.
fn parse_bytes(s: &str) -> Result<u64, String> {
    parse_size::parse_size(s)
        .map_err(|e| format!("{e}: expected a size in bytes such as 4096, 64KiB or 1MiB"))
}

/// `--max-line-bytes`: a size from 1 byte to [`MAX_LINE_BYTES_LIMIT`].
fn parse_max_line(s: &str) -> Result<usize, String> {
    let bytes = parse_bytes(s)?;
    match usize::try_from(bytes) {
        Ok(n @ 1..=MAX_LINE_BYTES_LIMIT) => Ok(n),
        _ => Err(format!("must be from 1 byte to {MAX_LINE_BYTES_LIMIT} (1GiB)")),
    }
}

fn parse_level(s: &str) -> Result<f64, String> {
    let r: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if r > 0.0 && r < 1.0 { Ok(r) } else { Err("must be between 0 and 1, exclusive".into()) }
}

fn parse_breakdown(s: &str) -> Result<BreakdownField, String> {
    BreakdownField::parse(s).map_err(|e| {
        if e.suggestions.is_empty() {
            "no such enriched field (app_id, platform, os_family, br_family, geo_country, dvce_type, ...: \
             any of the 131 field names)"
                .to_owned()
        } else {
            format!("no such enriched field; did you mean {}?", e.suggestions.join(", "))
        }
    })
}

fn parse_ratio(s: &str) -> Result<f64, String> {
    let r: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if (0.0..=1.0).contains(&r) { Ok(r) } else { Err("must be between 0 and 1".into()) }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use snowfunnel_input::DEFAULT_MAX_LINE_BYTES;
    use snowfunnel_report::DEFAULT_MAX_BAD_ROWS_BYTES;

    use super::*;

    #[test]
    fn sizes_take_units_and_the_defaults_are_the_documented_ones() {
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert_eq!(parse_bytes("64 KiB"), Ok(64 << 10));
        assert_eq!(parse_bytes("10MB"), Ok(10_000_000));
        assert!(parse_bytes("ten").is_err());
        assert_eq!(parse_max_line("1GiB"), Ok(MAX_LINE_BYTES_LIMIT));
        assert!(parse_max_line("0").is_err() && parse_max_line("1025MiB").is_err());

        let Command::Validate(args) = Cli::parse_from(["snowfunnel", "validate", "in"]).command else {
            panic!("validate")
        };
        assert_eq!(args.input.max_line_bytes, DEFAULT_MAX_LINE_BYTES);
        assert_eq!(args.output.bad_rows.max_bad_rows_bytes, DEFAULT_MAX_BAD_ROWS_BYTES);
        assert_eq!(args.output.bad_rows.bad_rows_format, BadRowsFormatArg::Csv);
    }

    #[test]
    fn fail_on_takes_lists_and_repeats_and_strict_is_every_check() {
        let parse = |extra: &[&str]| {
            let args = [&["snowfunnel", "run", "-f", "f.toml"], extra, &["in"]].concat();
            let Command::Run(args) = Cli::try_parse_from(args).unwrap().command else { panic!("run") };
            args.report.failing_checks()
        };
        assert!(parse(&[]).is_empty());
        assert_eq!(
            parse(&["--fail-on", "outage,srm", "--fail-on", "empty,srm"]),
            [CheckArg::Empty, CheckArg::Srm, CheckArg::Outage]
        );
        assert_eq!(
            parse(&["--strict"]),
            [CheckArg::Empty, CheckArg::Srm, CheckArg::Contamination, CheckArg::Outage]
        );
        assert!(Cli::try_parse_from(["snowfunnel", "run", "-f", "f", "--fail-on", "typo", "in"]).is_err());
    }
}
