//! The executor: the sample as gzip files on disk, through `snowfunnel_exec::execute` with the
//! funnel engine's job, on one thread and on two (a file per worker with four files; inflate
//! and parse apart with one), as `snowfunnel run` drives it, without the reports.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use snowfunnel_benches::{FUNNEL, Sample};
use snowfunnel_engine::{Funnels, Plan, parse_funnel};
use snowfunnel_exec::{Options, ReadProgress, execute};
use snowfunnel_input::{InputOptions, Inputs};

fn exec(c: &mut Criterion) {
    let sample = Sample::new();
    let dir = tempfile::tempdir().expect("a temporary directory");
    // One file of the whole sample, and four copies of it.
    let one = dir.path().join("one.gz");
    std::fs::write(&one, &sample.gzip).expect("writing the sample");
    let four: Vec<PathBuf> = (0..4)
        .map(|i| {
            let path = dir.path().join(format!("four-{i}.gz"));
            std::fs::write(&path, &sample.gzip).expect("writing the sample");
            path
        })
        .collect();
    let plan = Plan::new(vec![parse_funnel("bench.toml", "bench", FUNNEL).expect("valid funnel")]);

    let mut group = c.benchmark_group("execute");
    group.sample_size(10);
    for (name, paths) in [("one_file", vec![one]), ("four_files", four)] {
        let inputs = Inputs::resolve(&paths, &InputOptions::default()).expect("the sample files");
        group.throughput(Throughput::Bytes(sample.plain.len() as u64 * paths.len() as u64));
        for threads in [1, 2] {
            let options = Options {
                threads,
                bad_rows: None,
                max_line_bytes: 1 << 20,
                skip_corrupt: false,
                open_ahead: 4,
            };
            group.bench_function(format!("{name}/{threads}t"), |b| {
                b.iter(|| {
                    let job = Funnels::new(&plan, None);
                    let out =
                        execute(&job, &inputs, &options, &ReadProgress::default()).expect("a clean run");
                    black_box(out.state.counters().lines)
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, exec);
criterion_main!(benches);
