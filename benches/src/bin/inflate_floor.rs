//! `snowfunnel-inflate-floor [--threads N] [--lines] FILE...`: the project's own inflate-only floor.
//!
//! Inflates every file with the decoder snowfunnel uses (`flate2::bufread::MultiGzDecoder`, zlib-rs
//! backend with runtime CPU feature detection) over a 256 KiB `BufReader`, reading into one reused
//! 1 MiB buffer per thread, and prints the total number of decompressed bytes. Nothing else: no
//! line splitting, no parsing. `scripts/bench.sh` compares snowfunnel's CPU time against this
//! one's on the same files.
//!
//! With `--lines`, files are read through snowfunnel's own input path instead
//! (`snowfunnel_input::Source`: the same decoder, cut into 1 MiB chunks of whole lines, each line
//! handed out), still without parsing: the difference from the floor is what the input path
//! costs on top of inflating.
//!
//! Files are spread over `N` threads (default: available cores) the way snowfunnel spreads them:
//! the largest first, each thread taking the next file from a shared index.
//!
//! Exit codes: 0 success, 1 a file could not be read or is not valid gzip, 2 bad arguments.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::bufread::MultiGzDecoder;
use snowfunnel_input::{Chunk, InputError, InputFile, Source};

/// Capacity of the buffered reader under the decoder (compressed bytes per read from the file).
const READ_BUFFER: usize = 256 * 1024;
/// Size of the reused output buffer (decompressed bytes per `read`).
const OUTPUT_BUFFER: usize = 1024 * 1024;

const USAGE: &str = "usage: snowfunnel-inflate-floor [--threads N] [--lines] FILE...";

/// How each file is read.
#[derive(Clone, Copy)]
enum Mode {
    /// Inflate into a reused buffer, nothing else.
    Inflate,
    /// snowfunnel's input path: chunks of whole lines, each line handed out.
    Lines,
}

/// What the command line asks for.
struct Args {
    threads: usize,
    mode: Mode,
    files: Vec<PathBuf>,
}

fn main() -> ExitCode {
    if std::env::args().skip(1).any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("snowfunnel-inflate-floor: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match read_all(&args) {
        Ok(total) => {
            println!("{total}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("snowfunnel-inflate-floor: {message}");
            ExitCode::from(1)
        }
    }
}

/// `--threads N` (or `--threads=N`), `--lines` and the files, in order.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut threads = None;
    let mut mode = Mode::Inflate;
    let mut files = Vec::new();
    while let Some(arg) = args.next() {
        let value = if arg == "--threads" {
            Some(args.next().ok_or("--threads needs a value")?)
        } else {
            arg.strip_prefix("--threads=").map(str::to_owned)
        };
        if let Some(value) = value {
            let n: usize = value.parse().map_err(|_| format!("--threads: not a number: {value:?}"))?;
            if n == 0 {
                return Err("--threads must be at least 1".into());
            }
            threads = Some(n);
        } else if arg == "--lines" {
            mode = Mode::Lines;
        } else if arg.starts_with('-') {
            return Err(format!("unknown option {arg:?}"));
        } else {
            files.push(PathBuf::from(arg));
        }
    }
    if files.is_empty() {
        return Err("no input file".into());
    }
    let threads = match threads {
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
    };
    Ok(Args { threads, mode, files })
}

/// Reads `args.files` on `args.threads` threads, largest first; returns the decompressed bytes.
fn read_all(args: &Args) -> Result<u64, String> {
    let mut sized = Vec::with_capacity(args.files.len());
    for path in &args.files {
        let size = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?.len();
        sized.push((size, path.as_path()));
    }
    sized.sort_by_key(|&(size, _)| std::cmp::Reverse(size));
    let next = AtomicUsize::new(0);
    let workers = args.threads.clamp(1, sized.len());
    let results: Vec<Result<u64, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut buf = vec![0u8; OUTPUT_BUFFER];
                    let mut chunk = Chunk::new();
                    let mut total = 0u64;
                    while let Some(&(size, path)) = sized.get(next.fetch_add(1, Ordering::Relaxed)) {
                        total += match args.mode {
                            Mode::Inflate => {
                                inflate_file(path, &mut buf).map_err(|e| format!("{}: {e}", path.display()))
                            }
                            // Its errors name the file already.
                            Mode::Lines => read_lines(path, size, &mut chunk).map_err(|e| e.to_string()),
                        }?;
                    }
                    Ok(total)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a worker thread panicked".into())))
            .collect()
    });
    results.into_iter().sum()
}

/// Inflates one file into `buf` (overwritten on every read); returns its decompressed size.
fn inflate_file(path: &Path, buf: &mut [u8]) -> std::io::Result<u64> {
    let file = File::open(path)?;
    let mut decoder = MultiGzDecoder::new(BufReader::with_capacity(READ_BUFFER, file));
    let mut total = 0u64;
    loop {
        match decoder.read(buf) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n as u64,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Reads one file through snowfunnel's input path into `chunk`, handing out every line; returns
/// its decompressed size.
fn read_lines(path: &Path, size: u64, chunk: &mut Chunk) -> Result<u64, InputError> {
    let mut source = Source::open(&InputFile::local(path, size))?;
    let mut line_bytes = 0u64;
    while source.fill(chunk)? {
        chunk.for_each_line(|_, line| line_bytes += line.kept().len() as u64);
    }
    std::hint::black_box(line_bytes);
    Ok(source.stats().bytes)
}
