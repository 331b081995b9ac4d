//! `wallboard simulate`: writes a simulated contact centre's events as JSON
//! Lines on stdout.

use std::io::{self, BufWriter, Write};

use anyhow::{Context, Result};
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use clap::Args;

use ingest::queue_log::QueueLogWriter;
use ingest::simulate::{SimConfig, Simulator};

#[derive(Args, Debug, Clone)]
pub(super) struct SimulateArgs {
    /// Agents on shift over the day.
    #[arg(long, default_value_t = 12)]
    pub agents: usize,
    /// Queues (sales, support, billing, vip, queue5, …).
    #[arg(long, default_value_t = 4)]
    pub queues: usize,
    /// Simulated hours, centred on the business day (24: a whole day).
    #[arg(long, default_value_t = 8.0)]
    pub hours: f64,
    /// Multiplier on call arrival rates.
    #[arg(long, default_value_t = 1.0)]
    pub load: f64,
    /// Add caller keys (with repeat callers), post-call surveys and QA
    /// evaluations (`docs/metrics.md`, "Repeat contacts and FCR", "CSAT
    /// and QA"); every other event stays the same.
    #[arg(long)]
    pub kpis: bool,
    /// Seed: the same seed gives the same trace.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Tenant of the events.
    #[arg(long, default_value = "acme")]
    pub tenant: String,
    /// IANA time zone of the centre.
    #[arg(long, default_value = "UTC")]
    pub tz: String,
    /// Local date of the simulated day (YYYY-MM-DD).
    #[arg(long, default_value = "2026-11-23")]
    pub date: String,
    /// What to write on stdout: canonical events, or the `queue_log` Asterisk
    /// would have written for the same day (whole seconds, no after-call
    /// work, members as `PJSIP/<agent>`).
    #[arg(long, value_enum, default_value_t = OutputFormat::Jsonl)]
    pub format: OutputFormat,
    /// Publish to Kafka (bootstrap servers) instead of writing to stdout.
    #[arg(long, value_name = "HOST:PORT")]
    pub kafka: Option<String>,
    /// With --kafka: the topic to publish to (dead letters to `<topic>.dlq`).
    #[arg(long, default_value = "cti.events", value_name = "T")]
    pub topic: String,
    /// With --kafka: simulated time runs this many times faster than real
    /// time; 0 publishes as fast as possible.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OutputFormat {
    Jsonl,
    QueueLog,
}

impl SimulateArgs {
    /// The simulator configuration: the period is centred on 12:30 local time.
    pub(super) fn sim_config(&self) -> Result<SimConfig> {
        let tz: Tz = self
            .tz
            .parse()
            .map_err(|_| anyhow::anyhow!("unknown time zone {:?}", self.tz))?;
        let date = NaiveDate::parse_from_str(&self.date, "%Y-%m-%d")
            .with_context(|| format!("--date {:?} is not YYYY-MM-DD", self.date))?;
        let midnight = tz
            .from_local_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight exists"))
            .earliest()
            .context("local midnight does not exist in that zone")?;
        let offset_h = (12.5 - self.hours / 2.0).max(0.0);
        // In 0..=12.5 h: the milliseconds fit an i64 exactly.
        #[allow(clippy::cast_possible_truncation)]
        let offset_ms = (offset_h * 3_600_000.0).round() as i64;
        anyhow::ensure!(self.hours > 0.0, "--hours must be positive");
        anyhow::ensure!(
            self.agents > 0 && self.queues > 0,
            "--agents and --queues must be positive"
        );
        Ok(SimConfig {
            seed: self.seed,
            tenant: self.tenant.clone(),
            agents: self.agents,
            queues: self.queues,
            start_ms: midnight.timestamp_millis() + offset_ms,
            hours: self.hours,
            load: self.load,
            kpis: self.kpis,
        })
    }
}

pub(super) fn run(args: &SimulateArgs) -> Result<()> {
    let sim = Simulator::new(args.sim_config()?);
    if let Some(brokers) = &args.kafka {
        return publish(sim, brokers, args);
    }
    let mut out = BufWriter::with_capacity(1 << 20, io::stdout().lock());
    if args.format == OutputFormat::QueueLog {
        let mut w = QueueLogWriter::new("PJSIP/");
        sim.for_each(|e| w.push(&e));
        for line in w.finish() {
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        return Ok(());
    }
    for e in sim {
        serde_json::to_writer(&mut out, &e)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// Publishes the simulation to Kafka, paced at `speed` times real time.
fn publish(sim: Simulator, brokers: &str, args: &SimulateArgs) -> Result<()> {
    let mut sink = super::ingest::OutputArgs {
        kafka: Some(brokers.to_owned()),
        jsonl: None,
        topic: args.topic.clone(),
        dlq_topic: format!("{}.dlq", args.topic),
        partitions: 3,
        property: Vec::new(),
    }
    .open()?;
    let started = std::time::Instant::now();
    let mut first_ts = None;
    for e in sim {
        let t0 = *first_ts.get_or_insert(e.ts);
        if args.speed > 0.0 {
            let due = std::time::Duration::from_secs_f64((e.ts - t0) as f64 / 1000.0 / args.speed);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        sink.event(&e)?;
    }
    sink.flush()?;
    eprintln!("simulate: {} events published to {}", sink.sent, args.topic);
    Ok(())
}
