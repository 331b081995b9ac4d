//! Publishing canonical events to Kafka: an idempotent producer (`acks=all`,
//! compressed) keyed by tenant (`events.md`, "Partitioning"), creating the
//! topic when it is missing.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;

/// Where and how to publish.
#[derive(Debug, Clone)]
pub struct KafkaSettings {
    /// Bootstrap brokers, `host:port` comma-separated.
    pub brokers: String,
    /// Passed to librdkafka as they are (security, SASL, TLS, …).
    pub properties: BTreeMap<String, String>,
}

impl KafkaSettings {
    /// Settings for `brokers`, with no extra properties.
    #[must_use]
    pub fn new(brokers: &str) -> Self {
        KafkaSettings {
            brokers: brokers.to_owned(),
            properties: BTreeMap::new(),
        }
    }

    /// A librdkafka configuration with the brokers and the pass-through
    /// properties applied last, so a user's setting wins.
    #[must_use]
    pub fn client_config(&self, defaults: &[(&str, &str)]) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers);
        for (k, v) in defaults {
            c.set(*k, *v);
        }
        for (k, v) in &self.properties {
            c.set(k, v);
        }
        c
    }
}

/// Counts deliveries that failed after librdkafka's own retries.
#[derive(Default)]
pub struct DeliveryCounter {
    failed: Arc<AtomicU64>,
}

impl ClientContext for DeliveryCounter {}

impl ProducerContext for DeliveryCounter {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, (): ()) {
        if let Err((e, _)) = result {
            self.failed.fetch_add(1, Ordering::Relaxed);
            tracing::error!("delivery failed: {e}");
        }
    }
}

/// An idempotent, compressing producer.
pub struct Publisher {
    producer: ThreadedProducer<DeliveryCounter>,
    failed: Arc<AtomicU64>,
}

/// A record's headers, e.g. the reason of a dead letter.
pub type Headers<'a> = &'a [(&'a str, &'a str)];

impl Publisher {
    /// A producer for `settings`; fails when librdkafka refuses them.
    pub fn new(settings: &KafkaSettings) -> Result<Self, KafkaError> {
        let counter = DeliveryCounter::default();
        let failed = counter.failed.clone();
        let producer = settings
            .client_config(&[
                ("enable.idempotence", "true"),
                ("acks", "all"),
                ("compression.type", "lz4"),
                ("linger.ms", "5"),
                ("batch.num.messages", "10000"),
                ("queue.buffering.max.messages", "500000"),
            ])
            .create_with_context(counter)?;
        Ok(Publisher { producer, failed })
    }

    /// Sends one record; waits for room when the local queue is full.
    pub fn send(
        &self,
        topic: &str,
        key: &str,
        payload: &[u8],
        headers: Headers<'_>,
    ) -> Result<(), KafkaError> {
        let mut record = BaseRecord::to(topic).key(key).payload(payload);
        if !headers.is_empty() {
            let mut h = OwnedHeaders::new_with_capacity(headers.len());
            for (k, v) in headers {
                h = h.insert(Header {
                    key: k,
                    value: Some(v.as_bytes()),
                });
            }
            record = record.headers(h);
        }
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    // Back-pressure: let the background thread drain the queue.
                    record = r;
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err((e, _)) => return Err(e),
            }
        }
    }

    /// Waits until everything sent so far is acknowledged (or failed).
    pub fn flush(&self, timeout: Duration) -> Result<(), KafkaError> {
        self.producer.flush(timeout)
    }

    /// Deliveries that failed so far.
    #[must_use]
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }
}

/// Creates `topic` with `partitions` unless it exists.
pub async fn ensure_topic(
    settings: &KafkaSettings,
    topic: &str,
    partitions: i32,
) -> Result<(), KafkaError> {
    let admin: AdminClient<DefaultClientContext> = settings.client_config(&[]).create()?;
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(-1));
    let results = admin
        .create_topics(
            [&new],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
        )
        .await?;
    for r in results {
        match r {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((t, code)) => {
                return Err(KafkaError::AdminOp(code)).inspect_err(|_| {
                    tracing::error!("cannot create topic {t}: {code}");
                })
            }
        }
    }
    Ok(())
}
