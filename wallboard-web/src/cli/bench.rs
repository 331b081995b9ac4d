//! `wallboard bench`: measurements that criterion cannot make, reported in
//! BENCHMARKS.md with the commands that reproduce them.

use std::time::Instant;

use anyhow::Result;
use clap::{Args, Subcommand};

use aggregator::{Engine, MetricsConfig};
use ingest::simulate::{SimConfig, Simulator};

#[derive(Args, Debug)]
pub(super) struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchWhat,
}

#[derive(Subcommand, Debug)]
pub(super) enum BenchWhat {
    /// Memory of the engine's state after a simulated day.
    Memory(MemoryArgs),
    /// Kafka: consume-and-apply throughput (a full day from the log's start,
    /// as after a restart) and end-to-end latency at a fixed rate.
    Kafka(KafkaArgs),
    /// WebSocket fan-out: many clients on one process while events flow.
    Ws(WsArgs),
}

#[derive(Args, Debug)]
pub(super) struct WsArgs {
    /// WebSocket clients subscribed at once.
    #[arg(long, default_value_t = 1_000)]
    pub clients: usize,
    /// Events per second fed to the aggregator.
    #[arg(long, default_value_t = 10_000)]
    pub rate: u64,
    /// Seconds of the measurement.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Server processes the clients are spread over, each fed the same
    /// simulated day at `rate` (the clients run in this process, so their
    /// memory is not counted as the servers').
    #[arg(long, default_value_t = 1)]
    pub instances: usize,
    /// Simulated tenants, each of `agents` agents (`bench` alone, else
    /// `bench-1`…); the clients are spread over them round-robin.
    #[arg(long, default_value_t = 1)]
    pub tenants: usize,
    /// Agents of each simulated tenant.
    #[arg(long, default_value_t = 2_000)]
    pub agents: usize,
    /// Each client subscribes to one queue of the simulated eight
    /// (round-robin) instead of the whole tenant: smaller pushes, as a
    /// team's board gets.
    #[arg(long)]
    pub per_queue: bool,
    /// Clients ask for full snapshots only (no `delta=1`), as every client
    /// did before deltas; by default they take deltas, as the browser does.
    #[arg(long)]
    pub full_pushes: bool,
    /// Run one server for the bench (it starts itself this way): print its
    /// URL, serve until standard input closes.
    #[arg(long, hide = true)]
    pub serve_only: bool,
}

#[derive(Args, Debug)]
pub(super) struct KafkaArgs {
    /// Bootstrap servers of the broker to measure against.
    #[arg(long, default_value = "127.0.0.1:9092")]
    pub kafka: String,
    /// Agents of the simulated day (1,000 give about 475,000 events).
    #[arg(long, default_value_t = 2_000)]
    pub agents: usize,
    /// Events per second for the latency run.
    #[arg(long, default_value_t = 10_000)]
    pub rate: u64,
    /// Seconds of the latency run.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// How often the writer publishes its view (ms).
    #[arg(long, default_value_t = 50)]
    pub publish_ms: u64,
    /// Partitions of the catch-up topic; the day's agents are split over
    /// one tenant per partition, each tenant chosen so its key lands there.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=64))]
    pub partitions: i32,
    /// Only the catch-up half: no latency run.
    #[arg(long)]
    pub catch_up_only: bool,
    /// A librdkafka property for the consumer only, `KEY=VALUE` (repeatable),
    /// e.g. `max.partition.fetch.bytes=16777216`.
    #[arg(long, value_parser = key_value)]
    pub consumer_property: Vec<(String, String)>,
    /// Also report the CPU time this process (e.g. the broker's JVM) used
    /// during the catch-up (Linux: `/proc/PID/stat`).
    #[arg(long)]
    pub watch_pid: Option<u32>,
    /// Parse records on the writer's thread, as before the parse stage.
    #[arg(long)]
    pub no_parse_stage: bool,
}

fn key_value(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not KEY=VALUE"))?;
    Ok((k.trim().to_owned(), v.trim().to_owned()))
}

#[derive(Args, Debug)]
pub(super) struct MemoryArgs {
    /// Agents of the simulated centre.
    #[arg(long, default_value_t = 10_000)]
    pub agents: usize,
    /// Queues of the simulated centre.
    #[arg(long, default_value_t = 1_000)]
    pub queues: usize,
    /// Interval length in minutes.
    #[arg(long, default_value_t = 30)]
    pub interval: u32,
    /// Simulated hours.
    #[arg(long, default_value_t = 24.0)]
    pub hours: f64,
}

pub(super) fn run(args: BenchArgs) -> Result<()> {
    match args.what {
        BenchWhat::Memory(m) => memory(&m),
        BenchWhat::Kafka(k) => super::bench_kafka::run(&k),
        BenchWhat::Ws(w) => super::bench_ws::run(&w),
    }
}

/// `VmRSS` and `VmHWM` of this process, in KiB.
fn rss_kib() -> (u64, u64) {
    super::bench_ws::os::rss_kib(std::process::id())
}

fn memory(a: &MemoryArgs) -> Result<()> {
    let params = MetricsConfig {
        interval_minutes: a.interval,
        sl_thresholds_s: vec![10, 20, 30],
        ..Default::default()
    }
    .validate()?;
    let (before, _) = rss_kib();
    let mut engine = Engine::new(params);
    let started = Instant::now();
    let mut events = 0u64;
    // Events stream from the simulator straight into the engine: what stays
    // resident is the engine's state (the simulator holds only calls in
    // progress).
    for e in Simulator::new(SimConfig {
        agents: a.agents,
        queues: a.queues,
        hours: a.hours,
        start_ms: 1_795_392_000_000,
        ..Default::default()
    }) {
        engine.apply(&e);
        events += 1;
    }
    let elapsed = started.elapsed();
    let (after, peak) = rss_kib();
    let t = engine.tenant("default").expect("events were applied");
    println!("agents            {}", a.agents);
    println!(
        "queues            {} ({} seen)",
        a.queues,
        t.queue_names().len()
    );
    println!("interval          {} min over {} h", a.interval, a.hours);
    println!(
        "events            {events} in {:.2} s (simulate + apply)",
        elapsed.as_secs_f64()
    );
    println!("intervals         {}", t.buckets().len());
    println!("rss before        {:.1} MiB", before as f64 / 1024.0);
    println!("rss after         {:.1} MiB", after as f64 / 1024.0);
    println!("rss peak          {:.1} MiB", peak as f64 / 1024.0);
    println!(
        "state growth      {:.1} MiB",
        (after.saturating_sub(before)) as f64 / 1024.0
    );
    println!(
        "snapshot size     {:.1} MiB",
        engine.to_bytes().len() as f64 / 1_048_576.0
    );
    Ok(())
}
