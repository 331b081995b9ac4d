//! `wallboard ingest`: publishes canonical events to Kafka.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use ingest::event::DEFAULT_TENANT;
use ingest::jsonl::{parse_line, Line, LineReader};
use ingest::kafka::{ensure_topic, KafkaSettings, Publisher};

#[derive(Args, Debug)]
pub struct IngestArgs {
    #[command(subcommand)]
    pub source: IngestSource,
}

#[derive(Subcommand, Debug)]
pub enum IngestSource {
    /// Publish a JSON Lines file (or `-` for stdin) of canonical events.
    Jsonl(JsonlArgs),
}

#[derive(Args, Debug)]
pub struct JsonlArgs {
    pub input: PathBuf,
    #[command(flatten)]
    pub target: KafkaTarget,
    /// Publish every line as it is, valid or not (to exercise the
    /// aggregator's dead-letter path). By default invalid lines go to the
    /// dead-letter topic with their reason, never to the events topic.
    #[arg(long)]
    pub no_validate: bool,
}

/// Where events are published.
#[derive(Args, Debug, Clone)]
pub struct KafkaTarget {
    /// Kafka bootstrap servers.
    #[arg(long, value_name = "HOST:PORT")]
    pub kafka: String,
    #[arg(long, default_value = "cti.events", value_name = "T")]
    pub topic: String,
    #[arg(long, default_value = "cti.events.dlq", value_name = "T")]
    pub dlq_topic: String,
    /// Partitions of the topic if it must be created.
    #[arg(long, default_value_t = 3)]
    pub partitions: i32,
    /// librdkafka property for your cluster (repeat): `-X security.protocol=SASL_SSL`.
    #[arg(short = 'X', value_name = "KEY=VALUE")]
    pub property: Vec<String>,
}

impl KafkaTarget {
    pub fn settings(&self) -> Result<KafkaSettings> {
        let mut s = KafkaSettings::new(&self.kafka);
        for p in &self.property {
            let (k, v) = p
                .split_once('=')
                .with_context(|| format!("-X {p:?} is not KEY=VALUE"))?;
            s.properties.insert(k.to_owned(), v.to_owned());
        }
        Ok(s)
    }

    /// A publisher, with the topics created if missing.
    pub fn publisher(&self) -> Result<Publisher> {
        let settings = self.settings()?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        for t in [&self.topic, &self.dlq_topic] {
            rt.block_on(ensure_topic(&settings, t, self.partitions))
                .with_context(|| format!("cannot create topic {t} on {}", self.kafka))?;
        }
        Ok(Publisher::new(&settings)?)
    }
}

pub fn run(args: IngestArgs) -> Result<()> {
    match args.source {
        IngestSource::Jsonl(a) => jsonl(a),
    }
}

fn jsonl(args: JsonlArgs) -> Result<()> {
    let input: Box<dyn BufRead> = if args.input.as_os_str() == "-" {
        Box::new(BufReader::with_capacity(1 << 20, io::stdin().lock()))
    } else {
        let f = File::open(&args.input)
            .with_context(|| format!("cannot open {}", args.input.display()))?;
        Box::new(BufReader::with_capacity(1 << 20, f))
    };
    let publisher = args.target.publisher()?;
    if args.no_validate {
        return publish_raw(input, &publisher, &args.target);
    }
    let (mut sent, mut rejected) = (0u64, 0u64);
    let mut lines = LineReader::new(input);
    while let Some(line) = lines.next_line()? {
        let bytes = match &line {
            Line::Text(_, b) => *b,
            Line::TooLong(..) => &[][..],
        };
        match parse_line(&line) {
            Ok(e) => {
                publisher.send(&args.target.topic, &e.tenant, bytes, &[])?;
                sent += 1;
            }
            Err(r) => {
                rejected += 1;
                eprintln!("ingest: rejected {r}");
                let reason = r.error.to_string();
                let line_no = r.line.to_string();
                publisher.send(
                    &args.target.dlq_topic,
                    DEFAULT_TENANT,
                    bytes,
                    &[
                        ("wallboard-reason", &reason),
                        ("wallboard-code", r.error.code()),
                        ("wallboard-source-line", &line_no),
                    ],
                )?;
            }
        }
    }
    publisher.flush(Duration::from_secs(60))?;
    let failed = publisher.failed();
    eprintln!(
        "ingest: {sent} events published to {}, {rejected} rejected to {}, {failed} deliveries failed",
        args.target.topic, args.target.dlq_topic
    );
    anyhow::ensure!(failed == 0, "{failed} records were not delivered");
    Ok(())
}

/// Publishes every non-blank line as it is, oversize ones included.
fn publish_raw(
    mut input: Box<dyn BufRead>,
    publisher: &Publisher,
    target: &KafkaTarget,
) -> Result<()> {
    let mut line = Vec::new();
    let mut sent = 0u64;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        let tenant = ingest::parse_event(text)
            .map(|e| e.tenant.into_owned())
            .unwrap_or_else(|_| DEFAULT_TENANT.to_owned());
        publisher.send(&target.topic, &tenant, text, &[])?;
        sent += 1;
    }
    publisher.flush(Duration::from_secs(60))?;
    eprintln!(
        "ingest: {sent} lines published unvalidated to {}",
        target.topic
    );
    anyhow::ensure!(
        publisher.failed() == 0,
        "{} records were not delivered",
        publisher.failed()
    );
    Ok(())
}
