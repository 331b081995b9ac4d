//! The changelog topic: every partition's durable state in a compacted
//! Kafka topic, so any instance can take a partition over without its local
//! files (`architecture.md`, "State that lives in Kafka").
//!
//! A snapshot (the bytes of its file) is cut into chunks keyed
//! `p<partition>/s<slot>/c<index>`, followed by a manifest keyed
//! `p<partition>/manifest`. Snapshots alternate between two slots, so a
//! write that dies half-way only damages the slot no manifest names, and
//! compaction (newest value per key) always keeps a complete set.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::{ClientContext, Message};
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use ingest::kafka::KafkaSettings;

/// How long a snapshot waits for the broker to acknowledge its records.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a restore may take to read a changelog partition.
const RESTORE_TIMEOUT: Duration = Duration::from_secs(60);

/// Topic settings of the changelog: compacted, and rolled often so the
/// active segment (never compacted) stays small.
const TOPIC_CONFIG: [(&str, &str); 3] = [
    ("cleanup.policy", "compact"),
    ("segment.ms", "600000"),
    ("min.cleanable.dirty.ratio", "0.1"),
];

/// Why what a changelog partition holds is not a snapshot to restore.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    /// The newest manifest is not valid JSON of a manifest.
    #[error("unreadable manifest: {0}")]
    Manifest(String),
    /// A chunk the manifest names is not in the partition (this key).
    #[error("chunk {0} of the manifest is missing")]
    MissingChunk(String),
    /// The joined chunks differ from the manifest's length or checksum.
    #[error(
        "chunks of slot {slot} do not match the manifest ({bytes} bytes, xxh3 {xxh3}; manifest {manifest_bytes} bytes, xxh3 {manifest_xxh3})"
    )]
    Mismatch {
        /// The slot the manifest names.
        slot: u8,
        /// Bytes joined.
        bytes: usize,
        /// Checksum of the joined bytes.
        xxh3: String,
        /// Bytes the manifest announces.
        manifest_bytes: usize,
        /// Checksum the manifest announces.
        manifest_xxh3: String,
    },
}

/// Why a changelog snapshot was refused at restore.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// The partition holds no complete snapshot.
    #[error(transparent)]
    Unusable(#[from] Unusable),
    /// The joined bytes are not a snapshot this build reads.
    #[error(transparent)]
    Decode(#[from] std::io::Error),
}

/// Why one snapshot was not written to the changelog.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The producer refused a record (its key).
    #[error("{key}: {source}")]
    Send {
        /// Key of the record.
        key: String,
        /// What the Kafka client reported.
        #[source]
        source: KafkaError,
    },
    /// The manifest could not be encoded.
    #[error(transparent)]
    Manifest(#[from] serde_json::Error),
    /// The broker did not acknowledge every record in time.
    #[error("not acknowledged: {0}")]
    NotAcknowledged(#[source] KafkaError),
    /// A record's delivery failed.
    #[error("a record was not delivered")]
    NotDelivered,
}

/// Why a partition writes no snapshot to the changelog at all.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Unavailable {
    /// The changelog could not be read at assignment, so which slot is
    /// safe to overwrite is unknown.
    #[error("not read at assignment ({0})")]
    NotRead(ChangelogError),
    /// No producer could be created for it.
    #[error("no producer: {0}")]
    NoProducer(KafkaError),
}

/// Why a snapshot was not kept in the changelog
/// ([`crate::writer::WriterHooks::persist`]).
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// Writing this snapshot failed.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The partition writes no snapshot to the changelog.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// The retention the source topic needs (`architecture.md`, "Retention").
pub const MIN_RETENTION_MS: i64 = 7 * 86_400_000;

/// Why the changelog topic could not be set up or read
/// (`architecture.md`, "State that lives in Kafka").
#[derive(Debug, Clone, thiserror::Error)]
pub enum ChangelogError {
    /// The broker or client refused an operation on the changelog.
    #[error("changelog {topic}: {source}")]
    Kafka {
        /// The changelog topic (`kafka.changelog_topic`).
        topic: String,
        /// What the Kafka client reported.
        #[source]
        source: KafkaError,
    },
    /// A restore did not reach the partition's end offset within 60 s.
    #[error(
        "changelog {topic} partition {partition}: not read to its end within {RESTORE_TIMEOUT:?}"
    )]
    Timeout {
        /// The changelog topic (`kafka.changelog_topic`).
        topic: String,
        /// The changelog (and source) partition being restored.
        partition: i32,
    },
    /// What a changelog partition holds cannot be used as a snapshot.
    #[error("changelog {topic} partition {partition}: {why}")]
    Invalid {
        /// The changelog topic (`kafka.changelog_topic`).
        topic: String,
        /// The changelog (and source) partition that was read.
        partition: i32,
        /// What is wrong with it, for the log.
        why: String,
    },
    /// An existing changelog topic has fewer partitions than the source
    /// topic, so source partition *p* would have no changelog partition *p*.
    #[error("changelog {topic} has {have} partitions, the source topic {need}: its partitions would not match")]
    Partitions {
        /// The changelog topic (`kafka.changelog_topic`).
        topic: String,
        /// The changelog topic's partition count.
        have: usize,
        /// The source topic's partition count.
        need: usize,
    },
}

/// The record written after a snapshot's chunks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version of the manifest, `1`.
    pub v: u32,
    /// The slot (`0` or `1`) whose chunks hold this snapshot.
    pub slot: u8,
    /// How many chunks (`c0` up to `c<chunks-1>`) the snapshot was cut into.
    pub chunks: usize,
    /// Length of the whole snapshot file, in bytes.
    pub bytes: usize,
    /// xxh3-64 of the whole snapshot, 16 hex digits.
    pub xxh3: String,
    /// The source offset the snapshot's state goes on from.
    pub next_offset: i64,
    /// When the snapshot was taken, Unix epoch milliseconds.
    pub taken_ms: i64,
}

fn chunk_key(partition: i32, slot: u8, index: usize) -> String {
    format!("p{partition}/s{slot}/c{index}")
}

fn manifest_key(partition: i32) -> String {
    format!("p{partition}/manifest")
}

/// What a changelog partition holds, read to its end.
#[derive(Debug, Default)]
pub struct Latest {
    /// The newest readable manifest (`None`: none, or unreadable).
    pub manifest: Option<Manifest>,
    /// The manifest's snapshot bytes, checked against it; or why not.
    pub snapshot: Option<Result<Vec<u8>, Unusable>>,
    /// Highest chunk count seen per slot (for tombstones of stale chunks).
    pub chunks_seen: [usize; 2],
}

/// Joins the newest values per key into the newest complete snapshot.
#[must_use]
pub fn assemble<S: BuildHasher>(partition: i32, values: &HashMap<String, Vec<u8>, S>) -> Latest {
    let mut latest = Latest::default();
    for slot in 0..2u8 {
        let prefix = format!("p{partition}/s{slot}/c");
        latest.chunks_seen[slot as usize] = values
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix)?.parse::<usize>().ok())
            .map(|i| i + 1)
            .max()
            .unwrap_or(0);
    }
    let Some(raw) = values.get(&manifest_key(partition)) else {
        return latest;
    };
    let manifest: Manifest = match serde_json::from_slice(raw) {
        Ok(m) => m,
        Err(e) => {
            latest.snapshot = Some(Err(Unusable::Manifest(e.to_string())));
            return latest;
        }
    };
    latest.snapshot = Some(join_chunks(partition, &manifest, values));
    latest.manifest = Some(manifest);
    latest
}

fn join_chunks<S: BuildHasher>(
    partition: i32,
    m: &Manifest,
    values: &HashMap<String, Vec<u8>, S>,
) -> Result<Vec<u8>, Unusable> {
    let mut bytes = Vec::with_capacity(m.bytes);
    for i in 0..m.chunks {
        let key = chunk_key(partition, m.slot, i);
        let chunk = values.get(&key).ok_or(Unusable::MissingChunk(key))?;
        bytes.extend_from_slice(chunk);
    }
    let sum = format!("{:016x}", xxh3_64(&bytes));
    if bytes.len() != m.bytes || sum != m.xxh3 {
        return Err(Unusable::Mismatch {
            slot: m.slot,
            bytes: bytes.len(),
            xxh3: sum,
            manifest_bytes: m.bytes,
            manifest_xxh3: m.xxh3.clone(),
        });
    }
    Ok(bytes)
}

/// Reads changelog partition `partition` to its end offset (taken when the
/// read starts), keeping the newest value per key.
pub fn read_latest(
    kafka: &KafkaSettings,
    topic: &str,
    partition: i32,
) -> Result<Latest, ChangelogError> {
    let err = |source| ChangelogError::Kafka {
        topic: topic.to_owned(),
        source,
    };
    let consumer: BaseConsumer = kafka
        .client_config(&[
            ("group.id", "wallboard-changelog-restore"),
            ("enable.auto.commit", "false"),
            ("enable.partition.eof", "false"),
            crate::kafka::FETCH_QUEUE_BACKOFF,
        ])
        .create()
        .map_err(err)?;
    let (low, high) = consumer
        .fetch_watermarks(topic, partition, Duration::from_secs(10))
        .map_err(err)?;
    let mut values: HashMap<String, Vec<u8>> = HashMap::new();
    if high > low {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topic, partition, Offset::Offset(low))
            .map_err(err)?;
        consumer.assign(&tpl).map_err(err)?;
        read_until(&consumer, high, &mut values).map_err(|e| match e {
            Some(e) => err(e),
            None => ChangelogError::Timeout {
                topic: topic.to_owned(),
                partition,
            },
        })?;
    }
    Ok(assemble(partition, &values))
}

/// Polls until the record before `high` was read; `None`: timed out.
fn read_until(
    consumer: &BaseConsumer,
    high: i64,
    values: &mut HashMap<String, Vec<u8>>,
) -> Result<(), Option<KafkaError>> {
    let deadline = Instant::now() + RESTORE_TIMEOUT;
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                let key = String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned();
                match m.payload() {
                    Some(p) => values.insert(key, p.to_vec()),
                    None => values.remove(&key),
                };
                if m.offset() >= high - 1 {
                    return Ok(());
                }
            }
            Some(Err(e)) => return Err(Some(e)),
            None => {
                // Compaction leaves holes: the end may be past the last record.
                let pos = consumer.position().ok().and_then(|tpl| {
                    tpl.elements().first().and_then(|e| match e.offset() {
                        Offset::Offset(o) => Some(o),
                        _ => None,
                    })
                });
                if pos.is_some_and(|o| o >= high) {
                    return Ok(());
                }
            }
        }
    }
    Err(None)
}

/// The first available offset of a source partition (after retention or
/// deleted records).
pub fn log_start(kafka: &KafkaSettings, topic: &str, partition: i32) -> Result<i64, KafkaError> {
    let consumer: BaseConsumer = kafka
        .client_config(&[("group.id", "wallboard-changelog-restore")])
        .create()?;
    let (low, _) = consumer.fetch_watermarks(topic, partition, Duration::from_secs(10))?;
    Ok(low)
}

/// Counts deliveries that failed.
#[derive(Default, Clone)]
struct Failures(Arc<AtomicU64>);

impl ClientContext for Failures {}

impl ProducerContext for Failures {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, (): ()) {
        if let Err((e, _)) = result {
            self.0.fetch_add(1, Ordering::Relaxed);
            tracing::error!("changelog delivery failed: {e}");
        }
    }
}

/// Writes one partition's snapshots to the changelog.
pub struct ChangelogWriter {
    producer: ThreadedProducer<Failures>,
    failures: Failures,
    topic: String,
    partition: i32,
    chunk_bytes: usize,
    /// The slot the newest manifest names (the next write uses the other).
    current: Option<u8>,
    chunks_seen: [usize; 2],
}

impl ChangelogWriter {
    /// A writer that goes on from what `latest` found in the partition.
    pub fn new(
        kafka: &KafkaSettings,
        topic: &str,
        partition: i32,
        chunk_bytes: usize,
        latest: &Latest,
    ) -> Result<Self, KafkaError> {
        let failures = Failures::default();
        let max = (chunk_bytes + (64 << 10)).max(1_000_000).to_string();
        let producer = kafka
            .client_config(&[
                ("enable.idempotence", "true"),
                ("acks", "all"),
                ("compression.type", "lz4"),
                ("linger.ms", "5"),
                ("message.max.bytes", &max),
            ])
            .create_with_context(failures.clone())?;
        Ok(ChangelogWriter {
            producer,
            failures,
            topic: topic.to_owned(),
            partition,
            chunk_bytes,
            current: latest.manifest.as_ref().map(|m| m.slot),
            chunks_seen: latest.chunks_seen,
        })
    }

    /// Writes `snapshot` (the bytes of a snapshot file) and waits until the
    /// broker has acknowledged all of it.
    pub fn write(
        &mut self,
        snapshot: &[u8],
        next_offset: i64,
        taken_ms: i64,
    ) -> Result<(), WriteError> {
        let slot = match self.current {
            Some(0) => 1,
            _ => 0,
        };
        let failed = self.failures.0.load(Ordering::Relaxed);
        let chunks: Vec<&[u8]> = snapshot.chunks(self.chunk_bytes).collect();
        for (i, c) in chunks.iter().enumerate() {
            self.send(&chunk_key(self.partition, slot, i), Some(c))?;
        }
        // Chunks of a larger, earlier snapshot in this slot: deleted.
        for i in chunks.len()..self.chunks_seen[slot as usize] {
            self.send(&chunk_key(self.partition, slot, i), None)?;
        }
        let manifest = Manifest {
            v: 1,
            slot,
            chunks: chunks.len(),
            bytes: snapshot.len(),
            xxh3: format!("{:016x}", xxh3_64(snapshot)),
            next_offset,
            taken_ms,
        };
        let json = serde_json::to_vec(&manifest)?;
        self.send(&manifest_key(self.partition), Some(&json))?;
        self.producer
            .flush(WRITE_TIMEOUT)
            .map_err(WriteError::NotAcknowledged)?;
        if self.failures.0.load(Ordering::Relaxed) != failed {
            return Err(WriteError::NotDelivered);
        }
        self.current = Some(slot);
        self.chunks_seen[slot as usize] = chunks.len();
        Ok(())
    }

    fn send(&self, key: &str, payload: Option<&[u8]>) -> Result<(), WriteError> {
        let mut record: BaseRecord<'_, str, [u8]> = BaseRecord::to(&self.topic)
            .key(key)
            .partition(self.partition);
        if let Some(p) = payload {
            record = record.payload(p);
        }
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err((source, _)) => {
                    return Err(WriteError::Send {
                        key: key.to_owned(),
                        source,
                    })
                }
            }
        }
    }
}

/// Creates the changelog topic (compacted, as many partitions as the
/// source) unless it exists; refuses one with fewer partitions.
pub async fn ensure_topic(
    kafka: &KafkaSettings,
    topic: &str,
    partitions: usize,
) -> Result<(), ChangelogError> {
    let err = |source| ChangelogError::Kafka {
        topic: topic.to_owned(),
        source,
    };
    let admin: AdminClient<DefaultClientContext> =
        kafka.client_config(&[]).create().map_err(err)?;
    // Kafka counts partitions in an i32: more cannot be created.
    let count = i32::try_from(partitions).map_err(|_| {
        err(KafkaError::AdminOpCreation(format!(
            "{partitions} partitions: more than a topic can have"
        )))
    })?;
    let mut new = NewTopic::new(topic, count, TopicReplication::Fixed(-1));
    for (k, v) in TOPIC_CONFIG {
        new = new.set(k, v);
    }
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    for r in admin.create_topics([&new], &opts).await.map_err(err)? {
        match r {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => return Err(err(KafkaError::AdminOp(code))),
        }
    }
    let have = settled_partition_count(kafka, topic, partitions)
        .await
        .map_err(err)?;
    if have < partitions {
        return Err(ChangelogError::Partitions {
            topic: topic.to_owned(),
            have,
            need: partitions,
        });
    }
    Ok(())
}

/// How many partitions `topic` has, waiting up to 15 s for at least
/// `expected` (a topic just created takes a moment to show them).
pub async fn settled_partition_count(
    kafka: &KafkaSettings,
    topic: &str,
    expected: usize,
) -> Result<usize, KafkaError> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let have = partition_count(kafka, topic)?;
        if have >= expected || Instant::now() >= deadline {
            return Ok(have);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How many partitions `topic` has.
pub fn partition_count(kafka: &KafkaSettings, topic: &str) -> Result<usize, KafkaError> {
    let consumer: BaseConsumer = kafka.client_config(&[]).create()?;
    let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    Ok(md
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .map_or(0, |t| t.partitions().len()))
}

/// The topic's `retention.ms` (`-1`: forever), if the broker tells it.
pub async fn retention_ms(kafka: &KafkaSettings, topic: &str) -> Result<Option<i64>, KafkaError> {
    let admin: AdminClient<DefaultClientContext> = kafka.client_config(&[]).create()?;
    let spec = ResourceSpecifier::Topic(topic);
    let results = admin
        .describe_configs([&spec], &AdminOptions::new())
        .await?;
    Ok(results
        .into_iter()
        .filter_map(Result::ok)
        .find_map(|r| r.get("retention.ms")?.value.as_deref()?.parse().ok()))
}

/// Whether a topic's retention keeps what recovery needs.
#[must_use]
pub fn retention_is_enough(retention_ms: i64) -> bool {
    !(0..MIN_RETENTION_MS).contains(&retention_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values a compacted partition ends with after `records`.
    fn compacted(records: &[(String, Option<Vec<u8>>)]) -> HashMap<String, Vec<u8>> {
        let mut m = HashMap::new();
        for (k, v) in records {
            match v {
                Some(v) => m.insert(k.clone(), v.clone()),
                None => m.remove(k),
            };
        }
        m
    }

    /// The records [`ChangelogWriter::write`] sends, without a broker.
    fn records(
        snapshot: &[u8],
        slot: u8,
        chunk: usize,
        stale: usize,
    ) -> Vec<(String, Option<Vec<u8>>)> {
        let chunks: Vec<&[u8]> = snapshot.chunks(chunk).collect();
        let mut out: Vec<(String, Option<Vec<u8>>)> = chunks
            .iter()
            .enumerate()
            .map(|(i, c)| (chunk_key(3, slot, i), Some(c.to_vec())))
            .collect();
        out.extend((chunks.len()..stale).map(|i| (chunk_key(3, slot, i), None)));
        let m = Manifest {
            v: 1,
            slot,
            chunks: chunks.len(),
            bytes: snapshot.len(),
            xxh3: format!("{:016x}", xxh3_64(snapshot)),
            next_offset: i64::try_from(snapshot.len()).unwrap(),
            taken_ms: 1,
        };
        out.push((manifest_key(3), Some(serde_json::to_vec(&m).unwrap())));
        out
    }

    #[test]
    fn the_newest_complete_snapshot_is_assembled() {
        let a = vec![1u8; 5000];
        let b: Vec<u8> = (0..=255u8).cycle().take(2500).collect();
        let mut log = records(&a, 0, 1024, 0);
        log.extend(records(&b, 1, 1024, 0));
        let latest = assemble(3, &compacted(&log));
        assert_eq!(latest.snapshot, Some(Ok(b)));
        assert_eq!(latest.chunks_seen, [5, 3]);
    }

    #[test]
    fn a_write_cut_off_before_its_manifest_leaves_the_previous_one_whole() {
        let a = vec![7u8; 3000];
        let b = vec![9u8; 4000];
        let mut log = records(&a, 0, 1024, 0);
        let mut next = records(&b, 1, 1024, 0);
        next.truncate(2); // died after two of four chunks
        log.extend(next);
        let latest = assemble(3, &compacted(&log));
        assert_eq!(latest.snapshot, Some(Ok(a)));
    }

    #[test]
    fn chunks_that_do_not_match_the_manifest_are_refused() {
        let a = vec![7u8; 3000];
        let mut log = records(&a, 0, 1024, 0);
        log[1].1 = Some(vec![8u8; 1024]);
        let latest = assemble(3, &compacted(&log));
        let err = latest.snapshot.unwrap().unwrap_err();
        assert!(
            err.to_string().contains("do not match the manifest"),
            "{err}"
        );
        let mut log = records(&a, 0, 1024, 0);
        log.remove(2);
        let err = assemble(3, &compacted(&log)).snapshot.unwrap().unwrap_err();
        assert!(
            err.to_string()
                .contains("p3/s0/c2 of the manifest is missing"),
            "{err}"
        );
    }

    #[test]
    fn a_smaller_snapshot_deletes_the_stale_chunks_of_its_slot() {
        let big = vec![1u8; 5000];
        let small = vec![2u8; 1500];
        let mut log = records(&big, 0, 1024, 0);
        log.extend(records(&small, 1, 1024, 0));
        log.extend(records(&small, 0, 1024, 5));
        let values = compacted(&log);
        assert!(!values.contains_key("p3/s0/c2"));
        let latest = assemble(3, &values);
        assert_eq!(latest.snapshot, Some(Ok(small)));
        assert_eq!(latest.chunks_seen, [2, 2]);
    }

    #[test]
    fn retention_rule() {
        assert!(retention_is_enough(-1));
        assert!(retention_is_enough(MIN_RETENTION_MS));
        assert!(!retention_is_enough(86_400_000));
    }
}
