//! The Kafka source: a consumer-group member that hands each assigned
//! partition's records to that partition's writer.
//!
//! No loss, no double counting: when a partition is assigned, its writer
//! restores the partition's snapshot and the partition is assigned *at the
//! offset stored in it* (or the log's beginning without one), so the state
//! and the position in the log always match. Offsets are committed to Kafka
//! only after a snapshot including them is durable; the commit is for
//! monitoring (lag) and for other tools, the snapshot is what recovery uses.
//! Snapshots live in local files and in the changelog topic
//! (`changelog.rs`): an instance that takes over a partition restores it
//! from the newer of the two and reads on from its offset. When the log no
//! longer holds the records after that offset, the writer is told where
//! the log starts and marks the gap (`architecture.md`, "Never silently
//! partial").
//!
//! Assignment is cooperative (`cooperative-sticky`): a rebalance hands over
//! only the partitions that move, incrementally, so the others' writers
//! never stop.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, RebalanceProtocol};
use rdkafka::error::KafkaError;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, Message};
use tokio::sync::watch;

use ingest::kafka::{KafkaSettings, Publisher};
use wallboard_events::DeadLetterCode;

use crate::changelog::{self, ChangelogWriter, PersistError, Refused, Unavailable};
use crate::consumer_errors::ConsumerErrors;
use crate::dead_letter::DeadLetter;
use crate::parse_stage::{self, Stage};
use crate::snapshot;
use crate::writer::{self, Remote, Writer, WriterConfig, WriterHooks};
use crate::{Hub, Inbox, Record, Records};

/// Most records handed to a writer at once.
const BATCH: usize = 2048;

/// Most payload bytes handed to a writer at once (events are ~200 bytes;
/// an odd large one only ends its batch early).
const BATCH_BYTES: usize = 512 * 1024;

/// Records wait at most this long in a batch before the writer gets them,
/// so a steady trickle is not held back until a batch fills.
const MAX_BATCH_DELAY: Duration = Duration::from_millis(5);

/// Batches a partition's parse stage holds before the source waits.
const STAGE_CAPACITY: usize = 16;

/// librdkafka's `fetch.queue.backoff.ms` for every consumer that catches
/// up on a log. Its default (1,000 ms since librdkafka 2.4) pauses a
/// partition's fetching for a whole second each time the local queue
/// reaches `queued.min.messages`; a catch-up drains that queue in a tenth
/// of that, so the writer sat idle most of the second (BENCHMARKS.md,
/// "Catch-up on a quiet machine": 0.34–0.50 M events/s on one partition
/// with the default, 0.81–0.97 M with 20 ms). 20 ms stays under the 50 ms publish interval.
/// A `[kafka.properties]` setting still wins.
pub(crate) const FETCH_QUEUE_BACKOFF: (&str, &str) = ("fetch.queue.backoff.ms", "20");

/// How often the log's end offsets are fetched, for lag.
const WATERMARK_EVERY: Duration = Duration::from_secs(2);

/// What the consumer needs to know.
#[derive(Clone)]
pub struct SourceConfig {
    /// Brokers and client settings.
    pub kafka: KafkaSettings,
    /// Topic of canonical events.
    pub topic: String,
    /// Dead-letter topic.
    pub dlq_topic: String,
    /// Consumer group id.
    pub group: String,
    /// The changelog topic and its chunk size; `None`: local files only.
    pub changelog: Option<ChangelogConfig>,
    /// `session.timeout.ms` of the group: a member silent this long is
    /// dead and its partitions move (`kafka.session_timeout_ms`,
    /// `architecture.md`, "Failover").
    pub session_timeout_ms: u32,
    /// `heartbeat.interval.ms` of the group, at most a third of the session
    /// timeout (`kafka.heartbeat_interval_ms`, `architecture.md`, "Failover").
    pub heartbeat_interval_ms: u32,
    /// Settings of every partition's writer (the partition is filled in).
    pub writer: WriterConfig,
    /// Parse records on a thread of their own per partition
    /// (`parse_stage`), not on the writer's: `true` everywhere but in
    /// `bench kafka --no-parse-stage`.
    pub parse_stage: bool,
}

/// Where the partitions' state is kept in Kafka.
#[derive(Clone)]
pub struct ChangelogConfig {
    /// The compacted changelog topic (`kafka.changelog_topic`, default
    /// `<topic>-changelog`).
    pub topic: String,
    /// Most bytes of a snapshot per changelog record
    /// (`kafka.changelog_chunk_bytes`, default 524288).
    pub chunk_bytes: usize,
}

/// How long a snapshot waits for the dead-letter topic to confirm.
const DLQ_CONFIRM_TIMEOUT: Duration = Duration::from_secs(5);

/// Most bytes of dead letters held unconfirmed: beyond it the writer waits
/// for the dead-letter topic (its lag grows) rather than lose one.
const MAX_UNCONFIRMED_BYTES: usize = 64 << 20;

/// Sends dead letters to the dead-letter topic and records durable offsets.
/// Each dead letter is kept until the topic has confirmed it (and sent
/// again after a failed delivery), so no snapshot passes one that could
/// still be lost.
struct KafkaHooks {
    partition: i32,
    dlq: Arc<Publisher>,
    dlq_topic: String,
    commits: Arc<Mutex<BTreeMap<i32, i64>>>,
    unconfirmed: Vec<DeadLetter>,
    unconfirmed_bytes: usize,
    /// The publisher's failed deliveries when last confirmed.
    failed_seen: u64,
    /// `Err`: the changelog could not be read at assignment, so which slot
    /// is safe to overwrite is unknown: nothing is written (and each
    /// snapshot counts a changelog failure).
    changelog: Result<Option<ChangelogWriter>, Unavailable>,
}

impl KafkaHooks {
    fn send(&self, d: &DeadLetter) {
        let headers: Vec<(&str, &str)> = d.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Err(e) = self.dlq.send(&self.dlq_topic, &d.key, &d.payload, &headers) {
            tracing::error!(partition = self.partition, "dead letter not sent: {e}");
        }
    }

    /// Waits for every dead letter sent so far. A timeout answers `false`
    /// (they are still queued in the producer); a failed delivery of this
    /// publisher also sends them all again. Copies that were delivered may
    /// then be repeated: a duplicate dead letter is better than a lost one.
    fn confirm(&mut self) -> bool {
        if self.unconfirmed.is_empty() {
            return true;
        }
        let flushed = self.dlq.flush(DLQ_CONFIRM_TIMEOUT);
        let failed = self.dlq.failed();
        if flushed.is_ok() && failed == self.failed_seen {
            self.unconfirmed.clear();
            self.unconfirmed_bytes = 0;
            return true;
        }
        tracing::error!(
            partition = self.partition,
            pending = self.unconfirmed.len(),
            "dead letters not confirmed yet ({flushed:?})"
        );
        if failed != self.failed_seen {
            self.failed_seen = failed;
            for d in &self.unconfirmed {
                self.send(d);
            }
        }
        false
    }
}

impl WriterHooks for KafkaHooks {
    fn dead_letter(&mut self, record: Record<'_>, code: DeadLetterCode, reason: &str) {
        let d = DeadLetter::new(self.partition, record, code, reason);
        self.send(&d);
        self.unconfirmed_bytes += d.size();
        self.unconfirmed.push(d);
        while self.unconfirmed_bytes > MAX_UNCONFIRMED_BYTES && !self.confirm() {}
    }

    fn dead_letters_durable(&mut self) -> bool {
        self.confirm()
    }

    fn snapshot_written(&mut self, next_offset: i64) {
        self.commits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(self.partition, next_offset);
    }

    fn persist(
        &mut self,
        bytes: &[u8],
        next_offset: i64,
        taken_ms: i64,
    ) -> Result<(), PersistError> {
        match &mut self.changelog {
            Ok(Some(c)) => Ok(c.write(bytes, next_offset, taken_ms)?),
            Ok(None) => Ok(()),
            Err(e) => Err(e.clone().into()),
        }
    }
}

/// The consumer's context: owns the writers of the assigned partitions.
struct Ctx {
    cfg: SourceConfig,
    hub: Hub,
    changed: watch::Sender<u64>,
    dlq: Arc<Publisher>,
    commits: Arc<Mutex<BTreeMap<i32, i64>>>,
    writers: Mutex<BTreeMap<i32, Writer>>,
    /// The parse stage in front of each writer, when `parse_stage`.
    stages: Mutex<BTreeMap<i32, Stage>>,
    /// Bumped on every assignment change.
    generation: AtomicU64,
    errors: Arc<ConsumerErrors>,
}

impl ClientContext for Ctx {
    /// Client-wide errors (no broker reachable, authentication, …) are
    /// counted with the consumer's own.
    fn error(&self, error: KafkaError, reason: &str) {
        tracing::error!("librdkafka: {error}: {reason}");
        self.errors.record(&format!("{error}: {reason}"));
    }
}

impl ConsumerContext for Ctx {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let partitions: Vec<i32> = tpl
                    .elements()
                    .iter()
                    .map(rdkafka::topic_partition_list::TopicPartitionListElem::partition)
                    .collect();
                for p in partitions {
                    let start = self.start_writer(p);
                    let offset = if start > 0 {
                        Offset::Offset(start)
                    } else {
                        Offset::Beginning
                    };
                    if let Err(e) = tpl.set_partition_offset(&self.cfg.topic, p, offset) {
                        tracing::error!(partition = p, "cannot set start offset: {e}");
                    }
                    tracing::info!(partition = p, start, "partition assigned");
                }
                let done = match consumer.rebalance_protocol() {
                    RebalanceProtocol::Cooperative => consumer.incremental_assign(tpl),
                    _ => consumer.assign(tpl),
                };
                if let Err(e) = done {
                    tracing::error!("assign failed: {e}");
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                for e in tpl.elements() {
                    self.stop_writer(e.partition());
                    tracing::info!(partition = e.partition(), "partition revoked");
                }
                let done = match consumer.rebalance_protocol() {
                    RebalanceProtocol::Cooperative => consumer.incremental_unassign(tpl),
                    _ => consumer.unassign(),
                };
                if let Err(e) = done {
                    tracing::error!("unassign failed: {e}");
                }
            }
            other => tracing::error!("rebalance error: {other:?}"),
        }
        self.generation.fetch_add(1, Ordering::Release);
    }
}

impl Ctx {
    /// Reads the partition's changelog: the newest snapshot there and a
    /// writer that goes on from it.
    fn changelog(&self, partition: i32) -> (Remote, Result<Option<ChangelogWriter>, Unavailable>) {
        let Some(c) = &self.cfg.changelog else {
            return (None, Ok(None));
        };
        let latest = match changelog::read_latest(&self.cfg.kafka, &c.topic, partition) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(partition, "changelog not read, using local state only: {e}");
                return (None, Err(Unavailable::NotRead(e)));
            }
        };
        let remote = latest.snapshot.as_ref().map(|r| match r {
            Ok(b) => snapshot::decode(b, &c.topic).map_err(Refused::from),
            Err(e) => Err(e.clone().into()),
        });
        let writer =
            ChangelogWriter::new(&self.cfg.kafka, &c.topic, partition, c.chunk_bytes, &latest)
                .map(Some)
                .map_err(Unavailable::NoProducer);
        (remote, writer)
    }

    /// Starts the writer of `partition`; returns the offset it resumes from.
    fn start_writer(&self, partition: i32) -> i64 {
        self.stop_writer(partition);
        let (remote, changelog) = self.changelog(partition);
        let hooks = KafkaHooks {
            partition,
            dlq: self.dlq.clone(),
            dlq_topic: self.cfg.dlq_topic.clone(),
            commits: self.commits.clone(),
            unconfirmed: Vec::new(),
            unconfirmed_bytes: 0,
            failed_seen: self.dlq.failed(),
            changelog,
        };
        let w = writer::spawn_restored(
            WriterConfig {
                partition,
                ..self.cfg.writer.clone()
            },
            Box::new(hooks),
            self.changed.clone(),
            remote,
        );
        let mut start = w.start_offset;
        match changelog::log_start(&self.cfg.kafka, &self.cfg.topic, partition) {
            Ok(low) if low > start => {
                // Sent before any record: the writer marks the gap first.
                let _ = w.handle.inbox.send(Inbox::LogStartsAt(low));
                start = low;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(partition, "log start unknown: {e}"),
        }
        if self.cfg.parse_stage {
            let stage = parse_stage::spawn(partition, w.handle.inbox.clone(), STAGE_CAPACITY);
            lock(&self.stages).insert(partition, stage);
        }
        self.hub.attach(w.handle.clone());
        self.writers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(partition, w);
        start
    }

    /// Stops a writer: it writes its final snapshot first.
    fn stop_writer(&self, partition: i32) {
        let w = self
            .writers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&partition);
        let stage = lock(&self.stages).remove(&partition);
        if let Some(w) = w {
            self.hub.detach(partition);
            // Through the stage, if any, so the records it holds go first.
            let inbox = stage.as_ref().map_or(&w.handle.inbox, |s| &s.inbox);
            let _ = inbox.send(Inbox::Stop);
            let _ = w.thread.join();
        }
        if let Some(s) = stage {
            drop(s.inbox);
            let _ = s.thread.join();
        }
    }

    /// Where the source sends each partition's records: its parse stage,
    /// or its writer.
    fn inboxes(&self) -> HashMap<i32, SyncSender<Inbox>> {
        let stages = lock(&self.stages);
        if !stages.is_empty() {
            return stages.iter().map(|(p, s)| (*p, s.inbox.clone())).collect();
        }
        drop(stages);
        self.writers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(p, w)| (*p, w.handle.inbox.clone()))
            .collect()
    }
}

/// How often and how long the source waited on a writer whose inbox was
/// full: back-pressure, the writer is the slower side.
#[derive(Debug, Default)]
pub struct Backpressure {
    waits: AtomicU64,
    waited_us: AtomicU64,
}

impl Backpressure {
    /// Batches that found their writer's inbox full.
    #[must_use]
    pub fn waits(&self) -> u64 {
        self.waits.load(Ordering::Relaxed)
    }

    /// Time spent waiting for room in full inboxes.
    #[must_use]
    pub fn waited(&self) -> Duration {
        Duration::from_micros(self.waited_us.load(Ordering::Relaxed))
    }

    /// Hands `msg` to `inbox`, waiting (and counting the wait) when it is full.
    fn send(&self, inbox: &SyncSender<Inbox>, msg: Inbox) -> Result<(), ()> {
        match inbox.try_send(msg) {
            Ok(()) => Ok(()),
            Err(TrySendError::Disconnected(_)) => Err(()),
            Err(TrySendError::Full(msg)) => {
                let since = Instant::now();
                let sent = inbox.send(msg).map_err(|_| ());
                let us = u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX);
                self.waits.fetch_add(1, Ordering::Relaxed);
                self.waited_us.fetch_add(us, Ordering::Relaxed);
                sent
            }
        }
    }
}

/// A running Kafka source.
pub struct Source {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
    backpressure: Arc<Backpressure>,
    errors: Arc<ConsumerErrors>,
}

impl Source {
    /// The consumer's errors so far, shared (`/api/v1/status` `consumer`).
    #[must_use]
    pub fn errors(&self) -> Arc<ConsumerErrors> {
        self.errors.clone()
    }

    /// How much the source has waited on full writer inboxes so far.
    #[must_use]
    pub fn backpressure(&self) -> &Backpressure {
        &self.backpressure
    }

    /// Stops consuming; every writer writes a final snapshot.
    pub fn stop(self) -> Result<(), KafkaError> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().map_err(|_| KafkaError::Canceled)
    }
}

/// Joins the consumer group and starts feeding writers, publishing their
/// views into `hub`.
pub fn start(
    cfg: SourceConfig,
    hub: Hub,
    changed: watch::Sender<u64>,
) -> Result<Source, KafkaError> {
    let dlq = Arc::new(Publisher::new(&cfg.kafka)?);
    let ctx = Ctx {
        hub,
        changed,
        dlq,
        commits: Arc::new(Mutex::new(BTreeMap::new())),
        writers: Mutex::new(BTreeMap::new()),
        stages: Mutex::new(BTreeMap::new()),
        generation: AtomicU64::new(0),
        errors: Arc::new(ConsumerErrors::default()),
        cfg: cfg.clone(),
    };
    let consumer: BaseConsumer<Ctx> = cfg
        .kafka
        .client_config(&[
            ("group.id", &cfg.group),
            ("partition.assignment.strategy", "cooperative-sticky"),
            ("session.timeout.ms", &cfg.session_timeout_ms.to_string()),
            (
                "heartbeat.interval.ms",
                &cfg.heartbeat_interval_ms.to_string(),
            ),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("auto.offset.reset", "earliest"),
            ("enable.partition.eof", "false"),
            ("fetch.max.bytes", "52428800"),
            ("queued.min.messages", "200000"),
            FETCH_QUEUE_BACKOFF,
        ])
        .create_with_context(ctx)?;
    consumer.subscribe(&[&cfg.topic])?;
    let errors = consumer.context().errors.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let backpressure = Arc::new(Backpressure::default());
    let bp = backpressure.clone();
    let thread = std::thread::Builder::new()
        .name("kafka-source".into())
        .spawn(move || consume(&consumer, &cfg.topic, &stop2, &bp))
        .expect("spawn kafka source");
    Ok(Source {
        stop,
        thread,
        backpressure,
        errors,
    })
}

fn consume(consumer: &BaseConsumer<Ctx>, topic: &str, stop: &AtomicBool, bp: &Backpressure) {
    let mut generation = u64::MAX;
    let mut inboxes: HashMap<i32, SyncSender<Inbox>> = HashMap::new();
    let mut batches: HashMap<i32, Records> = HashMap::new();
    let mut last_watermarks = Instant::now().checked_sub(WATERMARK_EVERY).unwrap();
    let mut last_flush = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let msg = consumer.poll(Duration::from_millis(100));
        let g = consumer.context().generation.load(Ordering::Acquire);
        if g != generation {
            flush_all(&mut batches, &inboxes, bp);
            inboxes = consumer.context().inboxes();
            generation = g;
        }
        match msg {
            Some(Ok(m)) => {
                let batch = batches.entry(m.partition()).or_insert_with(new_batch);
                batch.push(m.offset(), m.payload().unwrap_or_default());
                if batch.len() >= BATCH || batch.payload_bytes() >= BATCH_BYTES {
                    flush(m.partition(), batch, &inboxes, bp);
                }
                if last_flush.elapsed() >= MAX_BATCH_DELAY {
                    flush_all(&mut batches, &inboxes, bp);
                    last_flush = Instant::now();
                }
                continue;
            }
            Some(Err(e)) => {
                tracing::warn!("consumer: {e}");
                consumer.context().errors.record(&e);
            }
            None => {}
        }
        // Nothing more right now: hand over what was read.
        flush_all(&mut batches, &inboxes, bp);
        last_flush = Instant::now();
        commit(consumer, topic, CommitMode::Async);
        if last_watermarks.elapsed() >= WATERMARK_EVERY {
            last_watermarks = Instant::now();
            for (p, inbox) in &inboxes {
                if let Ok((_, high)) = consumer.fetch_watermarks(topic, *p, Duration::from_secs(1))
                {
                    let _ = inbox.send(Inbox::HighWatermark(high));
                }
            }
        }
    }
    flush_all(&mut batches, &inboxes, bp);
    let partitions: Vec<i32> = inboxes.keys().copied().collect();
    for p in partitions {
        consumer.context().stop_writer(p);
    }
    commit(consumer, topic, CommitMode::Sync);
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn new_batch() -> Records {
    Records::with_capacity(BATCH, BATCH_BYTES)
}

fn flush(
    partition: i32,
    batch: &mut Records,
    inboxes: &HashMap<i32, SyncSender<Inbox>>,
    bp: &Backpressure,
) {
    if batch.is_empty() {
        return;
    }
    let records = std::mem::replace(batch, new_batch());
    if let Some(inbox) = inboxes.get(&partition) {
        // A writer that is gone lost its partition: its new owner reads
        // these records again from its own snapshot.
        let _ = bp.send(inbox, Inbox::Records(records));
    } else {
        tracing::debug!(partition, "records of an unassigned partition dropped");
    }
}

fn flush_all(
    batches: &mut HashMap<i32, Records>,
    inboxes: &HashMap<i32, SyncSender<Inbox>>,
    bp: &Backpressure,
) {
    for (p, b) in batches.iter_mut() {
        flush(*p, b, inboxes, bp);
    }
}

/// Commits the offsets of the snapshots written since the last commit.
fn commit(consumer: &BaseConsumer<Ctx>, topic: &str, mode: CommitMode) {
    let pending = std::mem::take(
        &mut *consumer
            .context()
            .commits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    if pending.is_empty() {
        return;
    }
    let mut tpl = TopicPartitionList::new();
    for (p, next) in &pending {
        if tpl
            .add_partition_offset(topic, *p, Offset::Offset(*next))
            .is_err()
        {
            return;
        }
    }
    if let Err(e) = consumer.commit(&tpl, mode) {
        tracing::warn!("offset commit failed (the snapshot is what counts): {e}");
    }
}
