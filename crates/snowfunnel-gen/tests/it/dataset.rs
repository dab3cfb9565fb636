//! Files as the S3 loader writes them, readable back line for line.

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use snowfunnel_gen::{GenConfig, Line, generate, write_dataset, write_dataset_streaming};

/// A fresh empty directory for one test (removed at the start of the next run).
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("snowfunnel-gen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn read_text(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        let mut text = String::new();
        MultiGzDecoder::new(bytes.as_slice()).read_to_string(&mut text).unwrap();
        text
    } else {
        String::from_utf8(bytes).unwrap()
    }
}

fn expected_text(lines: &[Line]) -> String {
    lines.iter().map(|l| l.to_tsv() + "\n").collect()
}

#[test]
fn gzip_files_decompress_to_the_lines() {
    let dir = scratch("gzip");
    let lines = generate(&GenConfig::new(21, 2_000));
    let files = write_dataset(&lines, &dir, 4, true).unwrap();
    assert_eq!(files.len(), 4);
    let text: String = files.iter().map(|f| read_text(f)).collect();
    assert_eq!(text, expected_text(&lines));
    for file in &files {
        let name = file.file_name().unwrap().to_str().unwrap();
        // 2026-03-01-000000-<uuid>.gz
        assert_eq!(name.len(), 17 + 1 + 36 + 3, "{name}");
        assert!(name.starts_with("2026-03-") && name.ends_with(".gz"), "{name}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Writes `config` both ways and checks the files are the same, byte for byte.
fn assert_streaming_matches(name: &str, config: &GenConfig, files: usize, gzip: bool) {
    let (memory, streamed) = (scratch(&format!("{name}-memory")), scratch(&format!("{name}-streamed")));
    let from_memory = write_dataset(&generate(config), &memory, files, gzip).unwrap();
    let stats = write_dataset_streaming(config, &streamed, files, gzip).unwrap();
    assert_eq!(stats.lines, config.events as u64);
    let names =
        |files: &[PathBuf]| files.iter().map(|f| f.file_name().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(names(&from_memory), names(&stats.files));
    for (a, b) in from_memory.iter().zip(&stats.files) {
        assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    }
    let on_disk: u64 = stats.files.iter().map(|f| std::fs::metadata(f).unwrap().len()).sum();
    assert_eq!(stats.bytes_written, on_disk);
    let text: String = stats.files.iter().map(|f| read_text(f)).collect();
    assert_eq!(stats.bytes_uncompressed, text.len() as u64);
    std::fs::remove_dir_all(&memory).unwrap();
    std::fs::remove_dir_all(&streamed).unwrap();
}

#[test]
fn streaming_writes_the_same_files() {
    // Several generator windows, plain text (gzip in a debug build is slow).
    assert_streaming_matches("plain", &GenConfig::new(22, 20_000), 3, false);
    assert_streaming_matches("gzip", &GenConfig::new(22, 1_500), 2, true);
}

#[test]
fn plain_files_and_odd_file_counts() {
    let dir = scratch("plain");
    let lines = generate(&GenConfig::new(23, 5));
    let files = write_dataset(&lines, &dir, 50, false).unwrap();
    assert_eq!(files.len(), 5, "no more files than lines");
    assert!(files.iter().all(|f| f.extension().unwrap() == "tsv"));
    let text: String = files.iter().map(|f| read_text(f)).collect();
    assert_eq!(text, expected_text(&lines));

    let empty = scratch("empty");
    let files = write_dataset(&[], &empty, 0, true).unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(read_text(&files[0]), "");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&empty).unwrap();
}
