//! The engine alone: applying already-parsed events (a simulated day) to a
//! fresh engine, and reporting. `cargo bench -p aggregator --bench engine`.
// `criterion_group!` generates a public `fn benches` that cannot carry a
// doc comment; a bench binary has no API to document.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use aggregator::{interval_report, live_snapshot, Engine, MetricsConfig, Range};
use ingest::simulate::{SimConfig, Simulator};
use wallboard_events::Event;

const DAY_MS: i64 = 86_400_000;

/// A simulated day; `n` shifts it by whole days and gives its events new ids.
fn day(agents: usize, n: i64) -> Vec<Event<'static>> {
    Simulator::new(SimConfig {
        agents,
        queues: 8,
        hours: 24.0,
        seed: n.unsigned_abs() + 1,
        start_ms: 1_795_392_000_000 + n * DAY_MS,
        ..Default::default()
    })
    .map(|mut e| {
        e.id = format!("d{n}-{}", e.id).into();
        e
    })
    .collect()
}

fn params() -> aggregator::Params {
    MetricsConfig {
        tz: "Asia/Shanghai".into(),
        interval_minutes: 30,
        sl_thresholds_s: vec![10, 20, 30],
        short_abandon_s: 5,
        ..Default::default()
    }
    .validate()
    .unwrap()
}

fn apply(c: &mut Criterion) {
    let events = day(500, 0);
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(events.len() as u64));
    g.sample_size(20);
    // Cold: a fresh engine, every table grows from empty.
    g.bench_function(format!("apply_day_cold_{}_events", events.len()), |b| {
        b.iter(|| {
            let mut engine = Engine::new(params());
            for e in &events {
                black_box(engine.apply(e));
            }
            engine
        });
    });
    // Steady state: the engine has run for two days already (its tables are
    // sized, its dedup generations reused); it takes the third day.
    let mut warm = Engine::new(params());
    for e in day(500, 0).iter().chain(&day(500, 1)) {
        warm.apply(e);
    }
    let third = day(500, 2);
    g.throughput(Throughput::Elements(third.len() as u64));
    g.bench_function(format!("apply_day_steady_{}_events", third.len()), |b| {
        b.iter_batched(
            || warm.clone(),
            |mut engine| {
                for e in &third {
                    black_box(engine.apply(e));
                }
                engine
            },
            criterion::BatchSize::LargeInput,
        );
    });
    let t = warm.tenant("default").unwrap();
    let now = t.max_ts().unwrap();
    g.throughput(Throughput::Elements(1));
    g.bench_function("interval_report_full_day", |b| {
        b.iter(|| interval_report(black_box(t), now, Range::default()));
    });
    g.bench_function("live_snapshot", |b| {
        b.iter(|| live_snapshot(black_box(t), now));
    });
    g.finish();
}

criterion_group!(benches, apply);
criterion_main!(benches);
