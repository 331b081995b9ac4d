//! `wallboard bench kafka`: the pipeline against a real broker.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use tokio::sync::watch;

use aggregator::MetricsConfig;
use ingest::kafka::{ensure_topic, KafkaSettings, Publisher};
use ingest::simulate::{SimConfig, Simulator};
use wallboard_pipeline::kafka::{self, SourceConfig};
use wallboard_pipeline::writer::WriterConfig;
use wallboard_pipeline::Hub;

use super::bench::KafkaArgs;

/// The producer's settings and the consumer's (with `--consumer-property`).
pub(super) struct Brokers {
    pub producer: KafkaSettings,
    pub consumer: KafkaSettings,
}

pub(super) fn run(a: &KafkaArgs) -> Result<()> {
    let producer = KafkaSettings::new(&a.kafka);
    let mut consumer = producer.clone();
    consumer
        .properties
        .extend(a.consumer_property.iter().cloned());
    let brokers = Brokers { producer, consumer };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let stamp = std::process::id();
    super::bench_catchup::run(&rt, &brokers, a, stamp)?;
    if a.catch_up_only {
        return Ok(());
    }
    live_latency(&rt, &brokers, a, stamp)
}

/// Send times of the events produced so far, in order.
type SentTimes = Arc<Mutex<Vec<Instant>>>;

/// 2. Events produced at a steady rate; latency from send to the first
///    published view that includes them.
fn live_latency(
    rt: &tokio::runtime::Runtime,
    brokers: &Brokers,
    a: &KafkaArgs,
    stamp: u32,
) -> Result<()> {
    let topic = format!("bench-live-{stamp}");
    rt.block_on(ensure_topic(&brokers.producer, &topic, 1))?;
    let (hub, source) = consume(&brokers.consumer, &topic, a)?;
    wait_for_assignment(&hub)?;
    let total = a.rate * a.seconds;
    let sent: SentTimes = Arc::new(Mutex::new(Vec::with_capacity(usize::try_from(total)?)));
    let producer = spawn_producer(brokers.producer.clone(), topic, a.rate, total, sent.clone());
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut seen = 0u64;
    let mut changes = hub.changes();
    let deadline = Instant::now() + Duration::from_secs(a.seconds + 60);
    while seen < total && Instant::now() < deadline {
        rt.block_on(async {
            let _ = tokio::time::timeout(Duration::from_millis(500), changes.changed()).await;
        });
        let visible = taken(&hub);
        let now = Instant::now();
        let sent = sent.lock().unwrap();
        while seen < visible.min(sent.len() as u64) {
            let at = usize::try_from(seen).expect("below sent.len()");
            let us = now.duration_since(sent[at]).as_micros().max(1);
            hist.record(u64::try_from(us).unwrap_or(u64::MAX))?;
            seen += 1;
        }
    }
    producer.join().expect("producer thread")?;
    source.stop()?;
    print_latency(a, &hist);
    Ok(())
}

/// Produces `total` events at `rate` per second, noting each send time.
fn spawn_producer(
    settings: KafkaSettings,
    topic: String,
    rate: u64,
    total: u64,
    sent: SentTimes,
) -> std::thread::JoinHandle<Result<()>> {
    std::thread::spawn(move || -> Result<()> {
        let publisher = Publisher::new(&settings)?;
        // A new idempotent producer first acquires its producer id: warm
        // it up so the run measures the steady state, not that handshake.
        publisher.send(&format!("{topic}.warmup"), "warmup", b"{}", &[])?;
        publisher.flush(Duration::from_secs(30))?;
        let start = Instant::now();
        for (i, e) in day("bench", 2_000)
            .take(usize::try_from(total).unwrap_or(usize::MAX))
            .enumerate()
        {
            let due = start + Duration::from_secs_f64(i as f64 / rate as f64);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            sent.lock().unwrap().push(Instant::now());
            publisher.send(&topic, &e.tenant, e.to_json().as_bytes(), &[])?;
        }
        publisher.flush(Duration::from_secs(60))?;
        Ok(())
    })
}

fn print_latency(a: &KafkaArgs, hist: &Histogram<u64>) {
    let ms = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "latency at {} events/s for {} s (publish every {} ms): p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms over {} events",
        a.rate,
        a.seconds,
        a.publish_ms,
        ms(0.5),
        ms(0.9),
        ms(0.99),
        ms(0.999),
        hist.max() as f64 / 1000.0,
        hist.len()
    );
}

/// A simulated day of `tenant`'s contact centre.
pub(super) fn day(tenant: &str, agents: usize) -> Simulator {
    Simulator::new(SimConfig {
        agents,
        queues: 8,
        hours: 24.0,
        tenant: tenant.into(),
        start_ms: 1_795_392_000_000,
        ..Default::default()
    })
}

pub(super) fn consume(
    settings: &KafkaSettings,
    topic: &str,
    a: &KafkaArgs,
) -> Result<(Hub, kafka::Source)> {
    let (tx, rx) = watch::channel(0);
    let hub = Hub::new(Vec::new(), rx);
    let source = kafka::start(
        SourceConfig {
            kafka: settings.clone(),
            topic: topic.to_owned(),
            dlq_topic: format!("{topic}.dlq"),
            group: format!("{topic}-group"),
            changelog: None,
            session_timeout_ms: 6000,
            heartbeat_interval_ms: 1000,
            writer: WriterConfig {
                partition: 0,
                params: MetricsConfig::default().validate()?.into(),
                allowed_lateness_ms: i64::MAX / 4,
                max_future_ms: None,
                publish_interval: Duration::from_millis(a.publish_ms),
                snapshot_interval: Duration::from_secs(3600),
                snapshots: None,
                freshness: aggregator::freshness::FreshnessConfig::default(),
            },
            parse_stage: !a.no_parse_stage,
        },
        hub.clone(),
        tx,
    )
    .context("start the consumer")?;
    Ok((hub, source))
}

/// Records every writer has taken (applied or not).
fn taken(hub: &Hub) -> u64 {
    hub.status()
        .iter()
        .map(|p| u64::try_from(p.next_offset).unwrap_or(0))
        .sum()
}

fn wait_for_assignment(hub: &Hub) -> Result<()> {
    let end = Instant::now() + Duration::from_secs(60);
    while hub.status().is_empty() {
        anyhow::ensure!(Instant::now() < end, "no partition assigned");
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}
