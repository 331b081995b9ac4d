//! Parsing and validating canonical events (serde_json, borrowing from the
//! input). `cargo bench -p ingest --bench parse`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use ingest::jsonl::{parse_line, LineReader};
use ingest::simulate::{SimConfig, Simulator};

fn parse(c: &mut Criterion) {
    let mut text = Vec::new();
    for e in Simulator::new(SimConfig {
        agents: 200,
        hours: 24.0,
        ..Default::default()
    }) {
        text.extend_from_slice(e.to_json().as_bytes());
        text.push(b'\n');
    }
    let lines = text.iter().filter(|&&b| b == b'\n').count() as u64;
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(lines));
    g.sample_size(20);
    g.bench_function(format!("jsonl_{lines}_events_{}_bytes", text.len()), |b| {
        b.iter(|| {
            let mut reader = LineReader::new(&text[..]);
            let mut ok = 0u64;
            while let Some(line) = reader.next_line().unwrap() {
                ok += u64::from(parse_line(&line).is_ok());
            }
            black_box(ok)
        })
    });
    g.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
