//! The `gzip` target: the stored bytes of an input, gzip or plain, into lines.

use std::io::{Cursor, Read};

use flate2::bufread::MultiGzDecoder;
use snowfunnel_input::{Chunk, InputFile, Line, Source};

/// Reads `data` as the stored bytes of an input, as the workers do (a [`Source`] over a
/// reader: gzip told by its magic bytes, multi-member gzip inflated whole, lines handed out
/// chunk by chunk), and checks it against an oracle: flate2's multi-member decoder reading all
/// of it at once (or the bytes themselves for plain input).
///
/// # Panics
/// On a bug, that is when:
/// - the lines handed out, each followed by `\n`, are not the content (with a `\n` added at
///   its end when it has none), or are numbered or counted wrong;
/// - the source fails where the oracle reads the content, or reads what the oracle refuses;
/// - a failure of gzip data is not reported as corrupt gzip, or plain input fails;
/// - anything panics on the way.
pub fn gzip(data: &[u8]) {
    let file = InputFile::local("fuzz.gz", data.len() as u64);
    let mut source = Source::from_reader(file, Cursor::new(data.to_vec()));
    let mut chunk = Chunk::new();
    let mut content = Vec::new();
    let mut lines = 0u64;
    // A line over the length limit comes as its start and its length: the content is then
    // checked by its size.
    let mut content_bytes = 0u64;
    let result = loop {
        match source.fill(&mut chunk) {
            Ok(true) => {
                let mut in_chunk = 0;
                chunk.for_each_line(|number, line| {
                    assert_eq!(number, chunk.first_line + in_chunk, "line numbers");
                    in_chunk += 1;
                    match line {
                        Line::Whole(line) => {
                            content.extend_from_slice(line);
                            content_bytes += line.len() as u64;
                        }
                        Line::TooLong { start, bytes } => {
                            assert!(bytes as usize > start.len(), "a long line keeps its start only");
                            content.extend_from_slice(start);
                            content_bytes += bytes;
                        }
                    }
                    content.push(b'\n');
                    content_bytes += 1;
                });
                assert_eq!(in_chunk, chunk.lines, "lines of a chunk");
                assert_eq!(chunk.first_line, lines + 1, "chunks follow each other");
                lines += in_chunk;
            }
            Ok(false) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    let stats = source.stats();
    let gzip = data.starts_with(&[0x1f, 0x8b]);
    assert_eq!(stats.gzip, gzip, "gzip detection");

    let oracle = if gzip {
        let mut inflated = Vec::new();
        MultiGzDecoder::new(data).read_to_end(&mut inflated).map(|_| inflated)
    } else {
        Ok(data.to_vec())
    };
    match (result, oracle) {
        (Ok(()), Ok(mut inflated)) => {
            assert_eq!(stats.bytes, inflated.len() as u64, "bytes inflated");
            assert_eq!(stats.lines, lines, "lines counted");
            if inflated.last().is_some_and(|&b| b != b'\n') {
                inflated.push(b'\n');
            }
            assert_eq!(content_bytes, inflated.len() as u64, "the lines are not the content's size");
            if content.len() == inflated.len() {
                assert!(content == inflated, "the lines are not the content");
            }
        }
        (Err(e), Err(_)) => {
            assert!(e.is_corrupt(), "a gzip failure that is not corrupt gzip: {e}");
            assert!(e.to_string().starts_with("fuzz.gz"), "{e}");
        }
        (Err(e), Ok(_)) => panic!("the source fails where the oracle reads: {e}"),
        (Ok(()), Err(e)) => panic!("the source reads what the oracle refuses: {e}"),
    }
}
