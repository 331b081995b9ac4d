//! Parsing and validating canonical events (`serde_json`, borrowing from the
//! input), and translating an Asterisk `queue_log` into them.
//! `cargo bench -p ingest --bench parse`.
// `criterion_group!` generates a public `fn benches` that cannot carry a
// doc comment; a bench binary has no API to document.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use ingest::queue_log::{QueueLogTranslator, QueueLogWriter};
use ingest::simulate::{SimConfig, Simulator};
use wallboard_events::jsonl::{parse_line, LineReader};

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
    let lines = memchr::memchr_iter(b'\n', &text).count() as u64;
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
        });
    });
    g.finish();
}

/// The `queue_log` adapter's translation, lines already read.
fn queue_log(c: &mut Criterion) {
    let mut writer = QueueLogWriter::new("PJSIP/");
    for e in Simulator::new(SimConfig {
        agents: 200,
        hours: 24.0,
        ..Default::default()
    }) {
        writer.push(&e);
    }
    let lines = writer.finish();
    let mut g = c.benchmark_group("queue_log");
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.sample_size(20);
    g.bench_function(format!("translate_{}_lines", lines.len()), |b| {
        let mut out = Vec::new();
        b.iter(|| {
            let mut t = QueueLogTranslator::new("default", "ql-0123456789abcdef");
            let mut events = 0;
            for (i, l) in lines.iter().enumerate() {
                out.clear();
                t.translate(i as u64 + 1, l, &mut out).unwrap();
                events += out.len();
            }
            black_box(events)
        });
    });
    g.finish();
}

criterion_group!(benches, parse, queue_log);
criterion_main!(benches);
