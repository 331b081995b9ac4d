//! Where `wallboard ingest` sends what an adapter produced: canonical events
//! to Kafka (skipped input to the dead-letter topic, with its reason), or as
//! JSON Lines to a file or stdout (skipped input reported on stderr) to look
//! at an adapter's output or pipe it into `wallboard replay -`.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;

use ingest::kafka::{ensure_topic, KafkaSettings, Publisher};
use wallboard_events::event::{Event, DEFAULT_TENANT};
use wallboard_events::DeadLetterCode;

/// The output flags shared by every `wallboard ingest` adapter.
#[derive(Args, Debug, Clone)]
#[group(skip)]
pub(crate) struct OutputArgs {
    /// Kafka bootstrap servers to publish to.
    #[arg(
        long,
        value_name = "HOST:PORT",
        required_unless_present = "jsonl",
        conflicts_with = "jsonl"
    )]
    pub kafka: Option<String>,
    /// Write the events as JSON Lines to FILE (`-` for stdout) instead.
    #[arg(long, value_name = "FILE")]
    pub jsonl: Option<PathBuf>,
    /// Kafka topic the canonical events are published to.
    #[arg(long, default_value = "cti.events", value_name = "T")]
    pub topic: String,
    /// Kafka topic for input that cannot be used (dead letters, with the reason in headers).
    #[arg(long, default_value = "cti.events.dlq", value_name = "T")]
    pub dlq_topic: String,
    /// Partitions of the topic if it must be created.
    #[arg(long, default_value_t = 3)]
    pub partitions: i32,
    /// librdkafka property for your cluster (repeat): `-X security.protocol=SASL_SSL`.
    #[arg(short = 'X', value_name = "KEY=VALUE", value_parser = crate::cli::kafka_property)]
    pub property: Vec<(String, String)>,
}

impl OutputArgs {
    /// Opens the output: a Kafka publisher with its topics created if
    /// missing, or the JSON Lines file.
    pub(crate) fn open(&self) -> Result<Sink> {
        let kind = if let Some(brokers) = &self.kafka {
            let mut settings = KafkaSettings::new(brokers);
            settings.properties.extend(self.property.iter().cloned());
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            for t in [&self.topic, &self.dlq_topic] {
                rt.block_on(ensure_topic(&settings, t, self.partitions))
                    .with_context(|| format!("cannot create topic {t} on {brokers}"))?;
            }
            SinkKind::Kafka(Publisher::new(&settings)?)
        } else {
            let path = self.jsonl.clone().unwrap_or_else(|| "-".into());
            let w: Box<dyn Write + Send> = if path.as_os_str() == "-" {
                Box::new(io::stdout())
            } else {
                Box::new(
                    File::create(&path)
                        .with_context(|| format!("cannot create {}", path.display()))?,
                )
            };
            SinkKind::Lines(BufWriter::with_capacity(1 << 16, w))
        };
        Ok(Sink {
            kind,
            topic: self.topic.clone(),
            dlq_topic: self.dlq_topic.clone(),
            sent: 0,
            skipped: 0,
            heartbeats: 0,
            json: Vec::with_capacity(512),
        })
    }
}

enum SinkKind {
    Kafka(Publisher),
    Lines(BufWriter<Box<dyn Write + Send>>),
}

/// An opened output; counts what went through it.
pub(crate) struct Sink {
    kind: SinkKind,
    topic: String,
    dlq_topic: String,
    /// Events published.
    pub sent: u64,
    /// Input records skipped (dead-lettered or reported).
    pub skipped: u64,
    /// Heartbeats published (not counted in `sent`).
    pub heartbeats: u64,
    json: Vec<u8>,
}

/// Why an input record was skipped, for the dead-letter copy.
pub(crate) struct Skip<'a> {
    /// The record as it was read.
    pub raw: &'a [u8],
    /// Stable machine-readable reason (`wallboard-code` header).
    pub code: DeadLetterCode,
    /// What was wrong, for people.
    pub reason: &'a str,
    /// Where it came from: `file:line`, `ami:host:port`, ….
    pub origin: &'a str,
}

impl Sink {
    /// Publishes one event (keyed by tenant, `events.md`) after checking it
    /// as the aggregator will: an event an adapter made from odd input that
    /// the aggregator would reject is dead-lettered here, with the reason,
    /// instead of being counted as sent.
    pub(crate) fn event(&mut self, e: &Event<'_>) -> Result<()> {
        self.json.clear();
        serde_json::to_writer(&mut self.json, e).expect("events always serialize");
        // Reuse one buffer for every event.
        let json = std::mem::take(&mut self.json);
        let r = match wallboard_events::parse_event(&json) {
            Ok(_) => self.raw_event(&e.tenant, &json),
            Err(err) => self.skipped(&Skip {
                raw: &json,
                code: err.code(),
                reason: &format!("the adapter made an invalid event: {err}"),
                origin: &format!("event {}", e.id),
            }),
        };
        self.json = json;
        r
    }

    /// Publishes a heartbeat (`events.md`): counted apart from the events.
    pub(crate) fn heartbeat(&mut self, e: &Event<'_>) -> Result<()> {
        let before = self.sent;
        self.event(e)?;
        if self.sent > before {
            self.sent = before;
            self.heartbeats += 1;
        }
        Ok(())
    }

    /// Publishes the bytes of an already valid event.
    pub(crate) fn raw_event(&mut self, tenant: &str, json: &[u8]) -> Result<()> {
        match &mut self.kind {
            SinkKind::Kafka(p) => p.send(&self.topic, tenant, json, &[])?,
            SinkKind::Lines(w) => {
                w.write_all(json)?;
                w.write_all(b"\n")?;
            }
        }
        self.sent += 1;
        Ok(())
    }

    /// Records input that was skipped: a dead letter with its reason on
    /// Kafka, always a line on stderr.
    pub(crate) fn skipped(&mut self, s: &Skip<'_>) -> Result<()> {
        self.skipped += 1;
        eprintln!("ingest: skipped {}: {}", s.origin, s.reason);
        if let SinkKind::Kafka(p) = &self.kind {
            p.send(
                &self.dlq_topic,
                DEFAULT_TENANT,
                s.raw,
                &[
                    ("wallboard-reason", s.reason),
                    ("wallboard-code", s.code.as_str()),
                    ("wallboard-origin", s.origin),
                ],
            )?;
        }
        Ok(())
    }

    /// Makes everything sent so far durable (acknowledged by Kafka, or
    /// written out); call it before checkpointing a source position.
    pub(crate) fn flush(&mut self) -> Result<()> {
        match &mut self.kind {
            SinkKind::Kafka(p) => {
                p.flush(Duration::from_secs(60))?;
                let failed = p.failed();
                anyhow::ensure!(failed == 0, "{failed} records were not delivered");
            }
            SinkKind::Lines(w) => w.flush()?,
        }
        Ok(())
    }

    /// Where events go, for the closing summary.
    pub(crate) fn describe(&self) -> String {
        match &self.kind {
            SinkKind::Kafka(_) => format!("Kafka topic {}", self.topic),
            SinkKind::Lines(_) => "JSON Lines".to_owned(),
        }
    }
}
