//! The outputs of `snowfunnel events`: the extract rows as CSV (RFC 4180 quoting) or Parquet,
//! with the same columns.
//!
//! Parquet columns are typed: `event_time` a UTC millisecond timestamp, `se_value` a nullable
//! Float64 (null when empty), every other column a non-null UTF-8 string (empty when the field
//! is). Strings are dictionary-encoded (but `event_id`, unique by nature), pages are
//! zstd-compressed, and rows are buffered in batches of [`PARQUET_BATCH_ROWS`] and row groups
//! of [`PARQUET_ROW_GROUP_ROWS`], so memory is bounded whatever the row count. Both formats
//! replace invalid UTF-8 with U+FFFD.
//!
//! In CSV, every string column (all but `event_time`, `environment` and the number
//! `se_value`) is a text cell from the data, neutralised against spreadsheet formulas as
//! [`CsvCells`] says. Parquet is typed data read by programs, not a spreadsheet: its strings
//! are written as they are.

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, StringBuilder, TimestampMillisecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use snowfunnel_extract::{COLUMNS, ExtractRow};
use snowfunnel_parse::format_micros;

use crate::CsvCells;

/// Rows per Arrow batch handed to the Parquet writer.
pub const PARQUET_BATCH_ROWS: usize = 8192;
/// Rows per Parquet row group.
pub const PARQUET_ROW_GROUP_ROWS: usize = 128 * 1024;
/// The zstd level of Parquet pages.
const ZSTD_LEVEL: i32 = 3;

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventsFormat {
    /// CSV with a header line.
    Csv,
    /// Parquet.
    Parquet,
}

/// Writes extract rows in one format.
pub enum EventsWriter<W: Write + Send> {
    /// CSV, its string cells written as the [`CsvCells`] say.
    Csv(Box<csv::Writer<W>>, CsvCells),
    /// Parquet.
    Parquet(Box<ParquetRows<W>>),
}

impl<W: Write + Send> EventsWriter<W> {
    /// Starts writing `out` (for CSV, writes the header); `cells` says how CSV string cells are
    /// written (Parquet strings are always written as they are).
    ///
    /// # Errors
    /// When writing fails.
    pub fn new(format: EventsFormat, cells: CsvCells, out: W) -> io::Result<Self> {
        Ok(match format {
            EventsFormat::Csv => {
                let mut writer = csv::Writer::from_writer(out);
                writer.write_record(COLUMNS)?;
                EventsWriter::Csv(Box::new(writer), cells)
            }
            EventsFormat::Parquet => EventsWriter::Parquet(Box::new(ParquetRows::new(out)?)),
        })
    }

    /// Writes one row.
    ///
    /// # Errors
    /// When writing fails.
    pub fn write(&mut self, row: &ExtractRow<'_>) -> io::Result<()> {
        match self {
            EventsWriter::Csv(writer, cells) => {
                let time = format_micros(row.event_time_micros);
                // A number (the extract makes a line whose `se_value` does not parse a bad row):
                // never marked, so that `-2` stays a number.
                let se_value = text(row.se_value);
                let cell = |bytes| cells.text(text(bytes));
                let fields: [&str; COLUMNS.len()] = [
                    &*cell(row.event_id),
                    &*cell(row.experiment),
                    &*cell(row.variant),
                    &*cell(row.context_key),
                    &time,
                    &*cell(row.app_id),
                    row.environment.name(),
                    &*cell(row.event),
                    &*cell(row.se_category),
                    &*cell(row.se_action),
                    &*cell(row.se_label),
                    &*cell(row.se_property),
                    &se_value,
                    &*cell(row.page_urlpath),
                    &*cell(row.unstruct_schema),
                    &*cell(row.context_schema_version),
                    &*cell(row.migration_keys),
                ];
                writer.write_record(fields).map_err(csv_io_error)
            }
            EventsWriter::Parquet(writer) => writer.write(row),
        }
    }

    /// Flushes everything (for Parquet, the last row group and the footer) and returns `out`.
    ///
    /// # Errors
    /// When writing fails.
    pub fn finish(self) -> io::Result<W> {
        match self {
            EventsWriter::Csv(writer, _) => writer.into_inner().map_err(csv::IntoInnerError::into_error),
            EventsWriter::Parquet(writer) => writer.finish(),
        }
    }
}

fn text(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// The Arrow schema of the Parquet output.
#[must_use]
pub fn parquet_schema() -> SchemaRef {
    let fields: Vec<Field> = COLUMNS
        .iter()
        .map(|&name| match name {
            "event_time" => {
                Field::new(name, DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())), false)
            }
            "se_value" => Field::new(name, DataType::Float64, true),
            _ => Field::new(name, DataType::Utf8, false),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// Rows buffered into Arrow arrays, a batch at a time, into an Arrow Parquet writer.
pub struct ParquetRows<W: Write + Send> {
    writer: ArrowWriter<W>,
    schema: SchemaRef,
    strings: Vec<StringBuilder>,
    time: TimestampMillisecondBuilder,
    se_value: Float64Builder,
    rows: usize,
}

/// Number of string columns.
const STRING_COLUMNS: usize = COLUMNS.len() - 2;

impl<W: Write + Send> ParquetRows<W> {
    fn new(out: W) -> io::Result<Self> {
        let schema = parquet_schema();
        let properties = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(ZSTD_LEVEL).map_err(parquet_error)?))
            .set_max_row_group_row_count(Some(PARQUET_ROW_GROUP_ROWS))
            .set_dictionary_enabled(true)
            .set_column_dictionary_enabled(ColumnPath::from("event_id"), false)
            .build();
        let writer =
            ArrowWriter::try_new(out, Arc::clone(&schema), Some(properties)).map_err(parquet_error)?;
        Ok(ParquetRows {
            writer,
            schema,
            strings: (0..STRING_COLUMNS).map(|_| StringBuilder::new()).collect(),
            time: TimestampMillisecondBuilder::new().with_timezone("UTC"),
            se_value: Float64Builder::new(),
            rows: 0,
        })
    }

    fn write(&mut self, row: &ExtractRow<'_>) -> io::Result<()> {
        let strings = [
            row.event_id,
            row.experiment,
            row.variant,
            row.context_key,
            row.app_id,
            row.environment.name().as_bytes(),
            row.event,
            row.se_category,
            row.se_action,
            row.se_label,
            row.se_property,
            row.page_urlpath,
            row.unstruct_schema,
            row.context_schema_version,
            row.migration_keys,
        ];
        for (builder, value) in self.strings.iter_mut().zip(strings) {
            builder.append_value(text(value));
        }
        self.time.append_value(row.event_time_micros.div_euclid(1000));
        self.se_value.append_option(row.se_value_number);
        self.rows += 1;
        if self.rows == PARQUET_BATCH_ROWS {
            self.flush_batch()?;
        }
        Ok(())
    }

    fn flush_batch(&mut self) -> io::Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut strings = self.strings.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef);
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(COLUMNS.len());
        for &name in &COLUMNS {
            columns.push(match name {
                "event_time" => Arc::new(self.time.finish()),
                "se_value" => Arc::new(self.se_value.finish()),
                _ => strings.next().ok_or_else(|| io::Error::other("string column missing"))?,
            });
        }
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), columns).map_err(io::Error::other)?;
        self.writer.write(&batch).map_err(parquet_error)?;
        self.rows = 0;
        Ok(())
    }

    fn finish(mut self) -> io::Result<W> {
        self.flush_batch()?;
        self.writer.into_inner().map_err(parquet_error)
    }
}

/// A CSV writer's error as the IO error it is, its kind kept (a closed stdout stays a broken
/// pipe, which ends `snowfunnel events … | head` quietly).
fn csv_io_error(e: csv::Error) -> io::Error {
    if e.is_io_error()
        && let csv::ErrorKind::Io(io) = e.into_kind()
    {
        return io;
    }
    io::Error::other("CSV writer error")
}

fn parquet_error(e: parquet::errors::ParquetError) -> io::Error {
    match e {
        parquet::errors::ParquetError::External(inner) => match inner.downcast::<io::Error>() {
            Ok(io) => *io,
            Err(other) => io::Error::other(other),
        },
        other => io::Error::other(other),
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, TimestampMillisecondType};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::basic::Encoding;
    use snowfunnel_extract::Environment;

    use super::*;

    fn row(i: usize) -> (String, String) {
        (format!("id-{i}"), format!("k{}", i % 7))
    }

    fn write_rows(format: EventsFormat, n: usize) -> Vec<u8> {
        let mut writer = EventsWriter::new(format, CsvCells::default(), Vec::new()).unwrap();
        for i in 0..n {
            let (id, key) = row(i);
            let value = i.to_string();
            writer
                .write(&ExtractRow {
                    event_id: id.as_bytes(),
                    experiment: b"exp",
                    variant: if i % 2 == 0 { b"control" } else { b"candidate" },
                    context_key: key.as_bytes(),
                    event_time_micros: 1_772_368_496_789_999 + i as i64 * 1000,
                    app_id: b"gitlab",
                    environment: Environment::Production,
                    event: b"struct",
                    se_category: b"cat,with \"quotes\"",
                    se_action: b"act",
                    se_label: b"",
                    se_property: b"line\nbreak",
                    se_value: if i % 3 == 0 { b"" } else { value.as_bytes() },
                    se_value_number: if i % 3 == 0 { None } else { Some(i as f64) },
                    page_urlpath: b"/p",
                    unstruct_schema: b"",
                    context_schema_version: b"1-0-3",
                    migration_keys: b"a;b",
                })
                .unwrap();
        }
        writer.finish().unwrap()
    }

    #[test]
    fn csv_has_the_columns_and_quotes_per_rfc_4180() {
        let text = String::from_utf8(write_rows(EventsFormat::Csv, 1)).unwrap();
        assert_eq!(
            text,
            "event_id,experiment,variant,context_key,event_time,app_id,environment,event,se_category,\
             se_action,se_label,se_property,se_value,page_urlpath,unstruct_schema,context_schema_version,\
             migration_keys\n\
             id-0,exp,control,k0,2026-03-01T12:34:56.789Z,gitlab,production,struct,\"cat,with \"\"quotes\"\"\",\
             act,,\"line\nbreak\",,/p,,1-0-3,a;b\n"
        );
    }

    #[test]
    fn parquet_reads_back_typed_across_batches() {
        let n = PARQUET_BATCH_ROWS + 5;
        let bytes = write_rows(EventsFormat::Parquet, n);
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&bytes).unwrap();
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        assert_eq!(builder.schema().as_ref(), parquet_schema().as_ref());
        let metadata = builder.metadata().clone();
        let group = metadata.row_group(0);
        assert!(matches!(group.column(0).compression(), Compression::ZSTD(_)));
        let dictionary = |c: usize| group.column(c).encodings().any(|e| e == Encoding::RLE_DICTIONARY);
        assert!(!dictionary(0), "event_id is unique: no dictionary");
        assert!(dictionary(1) && dictionary(2) && dictionary(5), "strings are dictionary-encoded");
        let mut seen = 0;
        for batch in builder.build().unwrap() {
            let batch = batch.unwrap();
            let ids = batch.column(0).as_string::<i32>();
            let times = batch.column(4).as_primitive::<TimestampMillisecondType>();
            let values = batch.column(12).as_primitive::<Float64Type>();
            for r in 0..batch.num_rows() {
                let i = seen + r;
                assert_eq!(ids.value(r), row(i).0);
                assert_eq!(times.value(r), 1_772_368_496_789 + i as i64);
                assert_eq!(values.is_null(r), i % 3 == 0);
                if i % 3 != 0 {
                    assert_eq!(values.value(r), i as f64);
                }
            }
            seen += batch.num_rows();
        }
        assert_eq!(seen, n);
    }

    #[test]
    fn csv_string_cells_are_neutralised_numbers_and_parquet_are_not() {
        let row = ExtractRow {
            event_id: b"=id",
            experiment: b"=cmd|' /C calc'!A0",
            variant: b"+1",
            context_key: b"-k",
            event_time_micros: 1_772_368_496_789_999,
            app_id: b"@app",
            environment: Environment::Other,
            event: b"\tstruct",
            se_category: b"\rcat",
            se_action: b"'act",
            se_label: b"@SUM(1)",
            se_property: b"-p",
            se_value: b"-2",
            se_value_number: Some(-2.0),
            page_urlpath: b"=/p",
            unstruct_schema: b"+s",
            context_schema_version: b"-1-0-3",
            migration_keys: b"=a;b",
        };
        let write = |format, cells| {
            let mut writer = EventsWriter::new(format, cells, Vec::new()).unwrap();
            writer.write(&row).unwrap();
            writer.finish().unwrap()
        };
        let cells = |csv: Vec<u8>| -> Vec<String> {
            let mut reader = csv::Reader::from_reader(csv.as_slice());
            reader.records().next().unwrap().unwrap().iter().map(str::to_owned).collect()
        };
        let raw = [
            "=id",
            "=cmd|' /C calc'!A0",
            "+1",
            "-k",
            "2026-03-01T12:34:56.789Z",
            "@app",
            "other",
            "\tstruct",
            "\rcat",
            "'act",
            "@SUM(1)",
            "-p",
            "-2",
            "=/p",
            "+s",
            "-1-0-3",
            "=a;b",
        ];
        let neutralised: Vec<String> = raw
            .iter()
            .enumerate()
            .map(|(i, v)| if [4, 6, 12].contains(&i) { (*v).to_owned() } else { format!("'{v}") })
            .collect();
        assert_eq!(cells(write(EventsFormat::Csv, CsvCells::Neutralised)), neutralised);
        assert_eq!(cells(write(EventsFormat::Csv, CsvCells::Raw)), raw);
        // Parquet is typed data: strings as they are, whatever `cells` says.
        let mut parquet = tempfile::tempfile().unwrap();
        parquet.write_all(&write(EventsFormat::Parquet, CsvCells::Neutralised)).unwrap();
        let batch = ParquetRecordBatchReaderBuilder::try_new(parquet).unwrap().build().unwrap().next();
        let batch = batch.unwrap().unwrap();
        assert_eq!(batch.column(1).as_string::<i32>().value(0), "=cmd|' /C calc'!A0");
        assert_eq!(batch.column(10).as_string::<i32>().value(0), "@SUM(1)");
    }
}
