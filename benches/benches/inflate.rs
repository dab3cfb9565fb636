//! The floor: inflating the sample with flate2 (zlib-rs) into a reused 1 MiB buffer, nothing else.

use std::hint::black_box;
use std::io::Read;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flate2::bufread::MultiGzDecoder;
use snowfunnel_benches::Sample;

fn inflate(c: &mut Criterion) {
    let sample = Sample::new();
    let mut group = c.benchmark_group("inflate");
    group.throughput(Throughput::Bytes(sample.plain.len() as u64));
    let mut buf = vec![0u8; 1 << 20];
    group.bench_function("flate2_zlib_rs", |b| {
        b.iter(|| {
            let mut decoder = MultiGzDecoder::new(&sample.gzip[..]);
            let mut total = 0;
            loop {
                let n = decoder.read(&mut buf).expect("valid gzip");
                if n == 0 {
                    break;
                }
                total += n;
            }
            black_box(total)
        });
    });
    group.finish();
}

criterion_group!(benches, inflate);
criterion_main!(benches);
