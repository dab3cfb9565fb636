//! Parsing: cutting a stream into lines, splitting lines into fields with event time, and
//! finding experiment contexts.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use snowfunnel_benches::Sample;
use snowfunnel_input::{Chunk, InputFile, Source};
use snowfunnel_parse::{ContextParser, EnrichedEvent};

fn parse(c: &mut Criterion) {
    let sample = Sample::new();

    // Cutting a stream into chunks of whole lines, and the chunks into lines.
    let mut group = c.benchmark_group("lines");
    group.throughput(Throughput::Bytes(sample.plain.len() as u64));
    group.bench_function("chunk_and_split_lines", |b| {
        let mut chunk = Chunk::new();
        b.iter(|| {
            let file = InputFile::local("sample.tsv", sample.plain.len() as u64);
            let mut source =
                Source::from_reader(file, std::io::Cursor::new(sample.plain.as_slice().to_owned()));
            let mut bytes = 0usize;
            while source.fill(&mut chunk).expect("in memory") {
                chunk.for_each_line(|_, line| bytes += line.kept().len());
            }
            black_box(bytes)
        });
    });
    group.finish();

    let lines: Vec<&[u8]> = sample.lines().collect();
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(sample.plain.len() as u64));
    group.bench_function("split_fields_and_time", |b| {
        b.iter(|| {
            lines.iter().filter_map(|l| EnrichedEvent::parse(l).ok()).map(|e| e.time_micros()).sum::<i64>()
        });
    });
    group.bench_function("split_and_contexts", |b| {
        let mut parser = ContextParser::new();
        b.iter(|| {
            let mut found = 0u64;
            for line in &lines {
                if let Ok(event) = EnrichedEvent::parse(line) {
                    let _ = parser.experiments(event.contexts(), |c| found += c.key.len() as u64);
                }
            }
            black_box(found)
        });
    });
    group.finish();

    // Context extraction alone, over the experiment events' contexts only.
    let contexts: Vec<&[u8]> = lines
        .iter()
        .filter_map(|l| EnrichedEvent::parse(l).ok())
        .map(|e| e.contexts())
        .filter(|c| ContextParser::new().may_have_experiments(c))
        .collect();
    let mut group = c.benchmark_group("contexts");
    group.throughput(Throughput::Bytes(contexts.iter().map(|c| c.len() as u64).sum()));
    group.bench_function("simd_json_experiment_contexts", |b| {
        let mut parser = ContextParser::new();
        b.iter(|| {
            let mut found = 0u64;
            for c in &contexts {
                let _ = parser.experiments(c, |c| found += c.key.len() as u64);
            }
            black_box(found)
        });
    });
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
