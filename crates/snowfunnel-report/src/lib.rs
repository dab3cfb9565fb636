//! The output side: turns a [`snowfunnel_engine::RunReport`], the funnel results computed from
//! it ([`snowfunnel_stats::FunnelResult`]) or an events extract into what people and their tools
//! read. It computes nothing: every number it writes comes computed, so two outputs of the same
//! funnel never disagree.
//!
//! - [`funnel_csv`]: the per-funnel CSV for growth PMs (a fixed column contract), statistics
//!   included;
//! - [`funnel_table`] and [`summary_text`]: readable terminal output; [`progress_line`] for
//!   long runs;
//! - [`funnel_json`] and [`run_json`]: the same numbers as JSON, in a versioned schema
//!   ([`JSON_SCHEMA_VERSION`]);
//! - [`funnel_html`], [`index_html`] and [`validate_html`]: self-contained HTML pages (inline
//!   CSS and SVG charts, no script, a Content-Security-Policy that loads nothing), every
//!   string escaped by the templates;
//! - [`summary_csv`], [`checks_line`] and [`check_warnings`]: sample ratio mismatch and
//!   contamination, the checks that say whether a funnel can be trusted; empty matches with the
//!   closest names seen, and outages, as warnings;
//! - [`explain_csv`], [`explain_text`] and [`key_story_text`]: `snowfunnel explain`'s
//!   waterfalls (what each bad-row reason, rule and step removed) and a key's story;
//! - [`experiments_text`]: the experiments, variants and event kinds of the inputs;
//! - [`validate_events_csv`], [`validate_days_csv`], [`validate_app_ids_csv`],
//!   [`validate_summary_csv`] and [`validate_text`]: the data validation report;
//! - [`BadRowLog`]: the bad rows of a run, as CSV or Snowplow bad rows: the first ones in input
//!   order within a size cap, whatever the thread count;
//! - for `snowfunnel events`: [`RowSpool`] keeps each worker's extract records (memory, then a
//!   temporary file) as [`Segment`]s until [`EventsWriter`] writes their rows, as CSV or Parquet,
//!   in input order; [`events_summary_text`] sums it up;
//! - [`CsvCells`] and [`terminal_text`]: strings from the data (and names from funnel files) are
//!   untrusted wherever they are written: CSV text cells are neutralised against spreadsheet
//!   formulas (unless raw cells are asked for), terminal text has its control characters
//!   escaped;
//! - [`AtomicFile`] and [`commit_all`]: every output is written to a temporary file beside its
//!   destination and renamed into place only when the run succeeded, so no reader ever sees a
//!   half-written report.

mod atomic;
mod bad_rows;
mod checks;
mod csv_out;
mod events_out;
mod experiments_out;
mod explain_out;
mod html;
mod json;
mod number;
mod progress;
mod spool;
mod summary;
mod table;
#[cfg(test)]
mod testing;
mod untrusted;
mod validate_out;
mod verdict;

pub use atomic::{
    AtomicFile, STALE_UNOWNED_AFTER, TEMPORARY_NAME_PREFIX, commit_all, commit_guard, is_temporary_name,
    remove_stale_temporary_files, remove_temporary_files, temporary_name,
};
pub use bad_rows::{
    BAD_ROWS_HEADER, BadRowFormat, BadRowLog, BadRowWriter, BadRowsWritten, DEFAULT_MAX_BAD_ROWS_BYTES,
    LOADER_PARSING_ERROR, Processor,
};
pub use checks::{RunWarnings, SUMMARY_CSV_HEADER, check_warnings, checks_line, summary_csv};
pub use csv_out::{
    BREAKDOWN_COLUMNS, COHORT_COLUMN, EXPOSED_STEP_NAME, FUNNEL_CSV_HEADER, funnel_csv, funnel_csv_blocks,
};
pub use events_out::{
    EventsFormat, EventsWriter, PARQUET_BATCH_ROWS, PARQUET_ROW_GROUP_ROWS, ParquetRows, parquet_schema,
};
pub use experiments_out::experiments_text;
pub use explain_out::{EXPLAIN_CSV_HEADER, explain_csv, explain_csv_name, explain_text, key_story_text};
pub use html::{CONTENT_SECURITY_POLICY, INDEX_HTML, VALIDATE_HTML, funnel_html, index_html, validate_html};
pub use json::{
    JSON_SCHEMA_VERSION, LIFT_INTERVAL_METHOD, LIFT_SEQUENCE_METHOD, RunStamp, Window, funnel_json,
    lift_interval_method, run_json,
};
pub use progress::{Progress, progress_line};
pub use spool::{RowSpool, SPOOL_MEMORY_BYTES, Segment};
pub use summary::{EventsSummary, RunTotals, events_summary_text, summary_text};
pub use table::funnel_table;
pub use untrusted::{CsvCells, list_name, terminal_text};
pub use validate_out::{
    VALIDATE_APP_IDS_HEADER, VALIDATE_DAYS_HEADER, VALIDATE_EVENTS_HEADER, VALIDATE_SUMMARY_HEADER,
    problem_text, validate_app_ids_csv, validate_days_csv, validate_events_csv, validate_summary_csv,
    validate_text,
};
pub use verdict::{Tone, Verdict, level_pct, no_verdict, verdicts, verdicts_heading};
