//! `wallboard bench kafka`, first half: a simulated day in the log, then a
//! cold consumer catches up on all of it, over one or more partitions.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};

use ingest::kafka::{ensure_topic, KafkaSettings, Publisher};
use wallboard_pipeline::{Hub, PartitionStatus};

use super::bench::KafkaArgs;
use super::bench_kafka::{consume, day, Brokers};
use super::proc_cpu;

/// One tenant per partition, each named so that librdkafka's default
/// partitioner (`consistent_random`: CRC-32 of the key modulo the
/// partition count) puts it on its own partition. One partition keeps the
/// historical tenant `bench`.
fn tenants(partitions: i32) -> Vec<String> {
    if partitions == 1 {
        return vec!["bench".to_owned()];
    }
    (0..partitions)
        .map(|p| {
            (0..u32::MAX)
                .map(|i| format!("bench-{i}"))
                .find(|t| partition_of(t, partitions) == p)
                .expect("some name lands on every partition")
        })
        .collect()
}

fn partition_of(key: &str, partitions: i32) -> i32 {
    let n = u32::try_from(partitions).expect("at least one partition");
    i32::try_from(crc32fast::hash(key.as_bytes()) % n).expect("below the partition count")
}

/// Publishes the day, `agents` split evenly over the tenants; returns the
/// records per partition as the broker counts them.
fn publish_day(
    rt: &tokio::runtime::Runtime,
    settings: &KafkaSettings,
    topic: &str,
    a: &KafkaArgs,
) -> Result<Vec<i64>> {
    rt.block_on(ensure_topic(settings, topic, a.partitions))?;
    let publisher = Publisher::new(settings)?;
    let tenants = tenants(a.partitions);
    let each = (a.agents / tenants.len()).max(1);
    for t in &tenants {
        for e in day(t, each) {
            publisher.send(topic, &e.tenant, e.to_json().as_bytes(), &[])?;
        }
    }
    publisher.flush(Duration::from_secs(120))?;
    let probe: BaseConsumer = settings
        .client_config(&[("group.id", &format!("{topic}-probe"))])
        .create()?;
    let counts = (0..a.partitions)
        .map(|p| {
            let (low, high) = probe.fetch_watermarks(topic, p, Duration::from_secs(10))?;
            Ok(high - low)
        })
        .collect::<Result<Vec<i64>>>()?;
    if let Some(p) = counts.iter().position(|&c| c == 0) {
        anyhow::bail!("partition {p} got no records: tenant keys do not spread as expected");
    }
    Ok(counts)
}

/// One partition's catch-up as sampled from its published status.
#[derive(Default, Clone, Copy)]
struct Progress {
    first: Option<Instant>,
    done: Option<Instant>,
    idle_us_first: u64,
    idle_us_done: u64,
}

impl Progress {
    fn update(&mut self, st: &PartitionStatus, target: i64, now: Instant) {
        if self.first.is_none() && st.next_offset > 0 {
            self.first = Some(now);
            self.idle_us_first = st.idle_us;
        }
        if self.done.is_none() && st.next_offset >= target {
            self.done = Some(now);
            self.idle_us_done = st.idle_us;
        }
    }

    fn seconds(&self) -> f64 {
        match (self.first, self.done) {
            (Some(f), Some(d)) => d.duration_since(f).as_secs_f64(),
            _ => f64::NAN,
        }
    }

    fn idle_s(&self) -> f64 {
        self.idle_us_done.saturating_sub(self.idle_us_first) as f64 / 1e6
    }
}

/// CPU seconds used so far, by thread name and of the watched process.
fn cpu(a: &KafkaArgs) -> (BTreeMap<String, f64>, Option<f64>) {
    (proc_cpu::threads(), a.watch_pid.and_then(proc_cpu::process))
}

/// 1. A full simulated day in the log, then a cold consumer reads it all:
///    the catch-up after a restart, and the sustained consume-and-apply rate.
pub(super) fn run(
    rt: &tokio::runtime::Runtime,
    brokers: &Brokers,
    a: &KafkaArgs,
    stamp: u32,
) -> Result<()> {
    let topic = format!("bench-day-{stamp}");
    let counts = publish_day(rt, &brokers.producer, &topic, a)?;
    let n: i64 = counts.iter().sum();
    let (hub, source) = consume(&brokers.consumer, &topic, a)?;
    let mut progress = vec![Progress::default(); counts.len()];
    // Timed from the first record taken: joining the group is not consuming.
    wait_until(&hub, Duration::from_secs(120), |s| {
        s.iter().any(|p| p.next_offset > 0)
    })?;
    let (cpu0, watched0) = cpu(a);
    let end = Instant::now() + Duration::from_secs(600);
    while progress.iter().any(|p| p.done.is_none()) {
        anyhow::ensure!(Instant::now() < end, "timed out");
        let now = Instant::now();
        for st in hub.status() {
            let p = usize::try_from(st.partition).context("partition")?;
            progress[p].update(&st, counts[p], now);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let (cpu1, watched1) = cpu(a);
    let waits = (
        source.backpressure().waits(),
        source.backpressure().waited(),
    );
    source.stop()?;
    let first = progress
        .iter()
        .filter_map(|p| p.first)
        .min()
        .context("first")?;
    let done = progress
        .iter()
        .filter_map(|p| p.done)
        .max()
        .context("done")?;
    let elapsed = done.duration_since(first).as_secs_f64();
    print_total(a, n, elapsed);
    let tenants = tenants(a.partitions);
    for (p, (pr, count)) in progress.iter().zip(&counts).enumerate() {
        println!(
            "  partition {p} ({}): {count} events in {:.2} s: {:.0} events/s; writer idle {:.2} s",
            tenants[p],
            pr.seconds(),
            *count as f64 / pr.seconds(),
            pr.idle_s()
        );
    }
    println!(
        "  source waited on a full writer inbox {} times, {:.2} s in all",
        waits.0,
        waits.1.as_secs_f64()
    );
    print_cpu(&cpu0, &cpu1, watched0.zip(watched1), elapsed);
    Ok(())
}

fn print_total(a: &KafkaArgs, n: i64, elapsed: f64) {
    let over = if a.partitions == 1 {
        String::new()
    } else {
        format!(" over {} partitions", a.partitions)
    };
    // The one-partition line is quoted in BENCHMARKS.md: keep its format.
    println!(
        "catch-up: {n} events of a {}-agent day{over} consumed and applied in {elapsed:.2} s: {:.0} events/s",
        a.agents,
        n as f64 / elapsed
    );
}

fn print_cpu(
    before: &BTreeMap<String, f64>,
    after: &BTreeMap<String, f64>,
    watched: Option<(f64, f64)>,
    elapsed: f64,
) {
    let mut line = String::from("  CPU during catch-up, share of one core:");
    for (name, s) in after {
        let used = s - before.get(name).copied().unwrap_or(0.0);
        if used / elapsed >= 0.01 {
            let _ = write!(line, " {name} {:.0} %,", 100.0 * used / elapsed);
        }
    }
    if let Some((b, a)) = watched {
        let _ = write!(line, " watched process {:.0} %", 100.0 * (a - b) / elapsed);
    }
    println!("{}", line.trim_end_matches(','));
}

fn wait_until(hub: &Hub, limit: Duration, done: impl Fn(&[PartitionStatus]) -> bool) -> Result<()> {
    let end = Instant::now() + limit;
    while !done(&hub.status()) {
        anyhow::ensure!(Instant::now() < end, "timed out");
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{partition_of, tenants};

    #[test]
    fn every_partition_gets_its_own_tenant() {
        assert_eq!(tenants(1), ["bench"]);
        for n in [2, 3, 4, 6, 12] {
            let t = tenants(n);
            let parts: Vec<i32> = t.iter().map(|t| partition_of(t, n)).collect();
            assert_eq!(parts, (0..n).collect::<Vec<_>>(), "{t:?}");
        }
    }
}
