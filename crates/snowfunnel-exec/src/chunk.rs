//! One chunk of lines through a job's ingester, bad rows to the run's log.

use snowfunnel_ingest::{Counted, Ingester, Recorder};
use snowfunnel_input::{Chunk, InputFile, Line};
use snowfunnel_parse::RowError;
use snowfunnel_report::BadRowWriter;

use crate::{ExecError, Options};

/// Feeds every line of `chunk` (of the input at `file`) into `state`, logging bad rows, then
/// ends the chunk.
pub(crate) fn ingest_chunk<S: Counted, R: Recorder<S>>(
    ingester: &mut Ingester<R>,
    state: &mut S,
    file: usize,
    chunk: &Chunk,
    log: &mut BadRowLogger<'_>,
) -> Result<(), ExecError> {
    chunk.for_each_line(|number, line| match line {
        Line::Whole(line) => {
            if let Err(e) = ingester.ingest(state, line) {
                log.push(file, number, &e, line);
            }
        }
        Line::TooLong { start, bytes } => {
            let e = RowError::LineTooLong { bytes, limit: log.max_line_bytes, kept: start.len() as u64 };
            ingester.reject(state, &e);
            log.push(file, number, &e, start);
        }
    });
    log.end_chunk()?;
    ingester.end_chunk(state, file, chunk.first_line).map_err(ExecError::Job)
}

/// A thread's bad-row logging, if asked for: rows go to the run's log a chunk at a time.
pub(crate) struct BadRowLogger<'a> {
    files: &'a [InputFile],
    writer: Option<BadRowWriter<'a>>,
    /// The input of the rows being logged, and its name.
    name: Option<(usize, String)>,
    max_line_bytes: u64,
    /// The first row that could not be logged, for the end of the chunk.
    error: Option<std::io::Error>,
}

impl<'a> BadRowLogger<'a> {
    pub(crate) fn new(options: &Options<'a>, files: &'a [InputFile]) -> Self {
        let writer = options.bad_rows.map(|log| log.writer());
        BadRowLogger { files, writer, name: None, max_line_bytes: options.max_line_bytes, error: None }
    }

    /// Logs line `line_number` of the input at `file`, rejected for `error`.
    fn push(&mut self, file: usize, line_number: u64, error: &RowError, line: &[u8]) {
        let Some(writer) = &mut self.writer else { return };
        if self.name.as_ref().is_none_or(|(at, _)| *at != file) {
            self.name = Some((file, self.files[file].to_string()));
        }
        let name = self.name.as_ref().map_or("", |(_, name)| name.as_str());
        if let Err(e) = writer.push(file, name, line_number, error, line) {
            self.error.get_or_insert(e);
        }
    }

    /// Hands the chunk's rows over to the run's log.
    fn end_chunk(&mut self) -> Result<(), ExecError> {
        if let Some(e) = self.error.take() {
            return Err(ExecError::BadRows(e));
        }
        if let Some(writer) = &mut self.writer {
            writer.flush().map_err(ExecError::BadRows)?;
        }
        Ok(())
    }
}
