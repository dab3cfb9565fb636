//! The engine: key interning, bitmap building, and the whole in-memory path (lines in, report out).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use snowfunnel_benches::{FUNNEL, Sample};
use snowfunnel_engine::{FunnelRecorder, Plan, State, parse_funnel};
use snowfunnel_ingest::Ingester;
use snowfunnel_keys::{BitmapBuilder, KeyDict};

fn engine(c: &mut Criterion) {
    let sample = Sample::new();
    let lines: Vec<&[u8]> = sample.lines().collect();
    let plan = Plan::new(vec![parse_funnel("bench.toml", "bench", FUNNEL).expect("valid funnel")]);

    let mut group = c.benchmark_group("end_to_end_in_memory");
    group.throughput(Throughput::Bytes(sample.plain.len() as u64));
    group.bench_function("ingest_and_report", |b| {
        let mut ingester = Ingester::new(FunnelRecorder::new(&plan));
        b.iter(|| {
            let mut state = State::new(&plan);
            for line in &lines {
                let _ = ingester.ingest(&mut state, line);
            }
            black_box(state.report(&plan))
        });
    });
    group.finish();

    let keys: Vec<String> =
        (0..100_000u64).map(|i| format!("{:064x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15))).collect();
    let mut group = c.benchmark_group("keys");
    group.throughput(Throughput::Elements(keys.len() as u64 * 2));
    group.bench_function("intern_new_then_known", |b| {
        b.iter(|| {
            let mut dict = KeyDict::default();
            for k in keys.iter().chain(&keys) {
                black_box(dict.intern(k.as_bytes()));
            }
        });
    });
    group.bench_function("bitmap_build", |b| {
        b.iter(|| {
            let mut bitmap = BitmapBuilder::default();
            for i in 0..200_000u32 {
                bitmap.push(i.wrapping_mul(2_654_435_761) % 100_000);
            }
            black_box(bitmap.finish().len())
        });
    });
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
