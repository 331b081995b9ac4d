//! The views topic: every owner publishes its tenants' live views to a
//! compacted topic that every instance reads, so any instance serves any
//! tenant (`architecture.md`, "Every node serves every tenant").
//!
//! This module is the record codec, the newest-wins store the readers fill,
//! the producer and the reader thread. What goes into a view (the live view
//! and alerts as JSON) is the web layer's business.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::Message;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use ingest::kafka::KafkaSettings;

/// The version of the record format.
pub const VERSION: u32 = 1;

/// One tenant's view as the owner published it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewRecord {
    /// Format version ([`VERSION`]).
    pub v: u32,
    /// The tenant (also the record's key).
    pub tenant: String,
    /// The source partition holding the tenant.
    pub partition: i32,
    /// The source partition's next offset the owner's state covers.
    pub next_offset: i64,
    /// The owner's wall clock when it published, Unix ms.
    pub published_ms: i64,
    /// Where the owner serves (`server.advertise_url`).
    pub owner_url: String,
    /// The live view, as `GET /live` answers it.
    pub live: serde_json::Value,
    /// The tenant's active alerts, as `GET /alerts` lists them.
    pub alerts: serde_json::Value,
}

impl ViewRecord {
    /// Whether `self` is newer than `held`: larger (`next_offset`,
    /// `published_ms`). The offset fences a stale owner (see the module docs).
    #[must_use]
    pub fn is_newer_than(&self, held: &ViewRecord) -> bool {
        (self.next_offset, self.published_ms) > (held.next_offset, held.published_ms)
    }
}

/// What one record of the views topic says.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// The tenant's view.
    View(ViewRecord),
    /// A tombstone: forget the tenant's view.
    Forget(String),
}

/// Why a record of the views topic was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViewError {
    /// The record has no key.
    #[error("no key")]
    NoKey,
    /// The key is not UTF-8.
    #[error("key is not UTF-8")]
    KeyNotUtf8,
    /// The value is not a view record.
    #[error("value is not a view record: {0}")]
    NotAView(String),
    /// A version this instance does not read.
    #[error("version {0}, this instance reads version {VERSION}")]
    Version(u32),
    /// The value's tenant is not the key.
    #[error("tenant {tenant:?} differs from the key")]
    TenantMismatch {
        /// The tenant the value names.
        tenant: String,
    },
}

/// Decodes one record of the views topic.
pub fn decode(key: Option<&[u8]>, value: Option<&[u8]>) -> Result<Decoded, ViewError> {
    let key =
        std::str::from_utf8(key.ok_or(ViewError::NoKey)?).map_err(|_| ViewError::KeyNotUtf8)?;
    let Some(value) = value else {
        return Ok(Decoded::Forget(key.to_owned()));
    };
    let rec: ViewRecord =
        serde_json::from_slice(value).map_err(|e| ViewError::NotAView(e.to_string()))?;
    if rec.v != VERSION {
        return Err(ViewError::Version(rec.v));
    }
    if rec.tenant != key {
        return Err(ViewError::TenantMismatch { tenant: rec.tenant });
    }
    Ok(Decoded::View(rec))
}

/// A view held by a reader, numbered in the order it was taken.
#[derive(Debug)]
pub struct HeldView {
    /// The record.
    pub record: ViewRecord,
    /// Unique, increasing per store: tells a new view from one already pushed.
    pub seq: u64,
}

/// Counters of the views topic on this instance (`/metrics`).
#[derive(Debug, Default)]
pub struct ViewCounters {
    /// Records taken (newer than the one held).
    pub received: AtomicU64,
    /// Records refused as bad.
    pub rejected: AtomicU64,
    /// Records this instance published.
    pub published: AtomicU64,
}

/// The newest view per tenant, as read from the views topic.
pub struct RemoteViews {
    topic: String,
    views: RwLock<HashMap<String, Arc<HeldView>>>,
    seq: AtomicU64,
    /// What was received, refused and published.
    pub counters: ViewCounters,
    changed: watch::Sender<u64>,
}

impl RemoteViews {
    /// An empty store for `topic`.
    #[must_use]
    pub fn new(topic: &str) -> Self {
        RemoteViews {
            topic: topic.to_owned(),
            views: RwLock::default(),
            seq: AtomicU64::new(0),
            counters: ViewCounters::default(),
            changed: watch::channel(0).0,
        }
    }

    /// The views topic.
    #[must_use]
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Takes a decoded record: a view newer than the one held, or a
    /// tombstone. True when what is held changed.
    pub fn offer(&self, decoded: Decoded) -> bool {
        let mut views = self
            .views
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let changed = match decoded {
            Decoded::Forget(tenant) => views.remove(&tenant).is_some(),
            Decoded::View(rec) => {
                if views
                    .get(&rec.tenant)
                    .is_some_and(|held| !rec.is_newer_than(&held.record))
                {
                    return false;
                }
                let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
                self.counters.received.fetch_add(1, Ordering::Relaxed);
                views.insert(rec.tenant.clone(), Arc::new(HeldView { record: rec, seq }));
                true
            }
        };
        drop(views);
        if changed {
            self.changed.send_modify(|n| *n += 1);
        }
        changed
    }

    /// The newest view of `tenant`.
    #[must_use]
    pub fn get(&self, tenant: &str) -> Option<Arc<HeldView>> {
        self.views
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(tenant)
            .cloned()
    }

    /// Every tenant held, sorted.
    #[must_use]
    pub fn tenants(&self) -> Vec<String> {
        let mut t: Vec<String> = self
            .views
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .keys()
            .cloned()
            .collect();
        t.sort();
        t
    }

    /// A receiver that changes whenever a view is taken or forgotten.
    #[must_use]
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Counts and logs a bad record.
    pub fn reject(&self, partition: i32, offset: i64, key: Option<&[u8]>, why: &ViewError) {
        self.counters.rejected.fetch_add(1, Ordering::Relaxed);
        let key = key.map(String::from_utf8_lossy);
        tracing::warn!(
            topic = self.topic,
            partition,
            offset,
            key = ?key,
            "views topic: record ignored: {why}"
        );
    }
}

/// Publishes views to the views topic (keyed by tenant, so the default
/// partitioner keeps a tenant's records in order in one partition).
pub struct ViewProducer {
    producer: ThreadedProducer<DefaultProducerContext>,
    topic: String,
}

impl ViewProducer {
    /// A producer for `topic`.
    pub fn new(kafka: &KafkaSettings, topic: &str) -> Result<Self, KafkaError> {
        let producer = kafka
            .client_config(&[
                ("enable.idempotence", "true"),
                ("compression.type", "lz4"),
                ("linger.ms", "5"),
            ])
            .create()?;
        Ok(ViewProducer {
            producer,
            topic: topic.to_owned(),
        })
    }

    /// Queues `record` for sending; the error when it could not be queued
    /// (the caller tries again at its next publish).
    pub fn publish(&self, record: &ViewRecord) -> Result<(), KafkaError> {
        // JSON values and plain fields: serializing cannot fail.
        let json = serde_json::to_vec(record).expect("a view record serializes");
        let r: BaseRecord<'_, str, [u8]> = BaseRecord::to(&self.topic)
            .key(record.tenant.as_str())
            .payload(json.as_slice());
        self.producer.send(r).map_err(|(e, _)| e)
    }

    /// Waits up to `timeout` for what is queued to be sent.
    pub fn flush(&self, timeout: Duration) {
        let _ = self.producer.flush(timeout);
    }
}

/// The reader thread of the views topic.
pub struct ViewReader {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ViewReader {
    /// Reads every partition of the store's topic from the beginning into
    /// `store`, on a thread of its own, until stopped.
    pub fn start(kafka: &KafkaSettings, store: Arc<RemoteViews>) -> Result<Self, KafkaError> {
        let consumer: BaseConsumer = kafka
            .client_config(&[
                // Not in any group: assigned, nothing committed.
                ("group.id", "wallboard-views-reader"),
                ("enable.auto.commit", "false"),
                ("enable.partition.eof", "false"),
                ("fetch.wait.max.ms", "50"),
                crate::kafka::FETCH_QUEUE_BACKOFF,
            ])
            .create()?;
        let md = consumer.fetch_metadata(Some(store.topic()), Duration::from_secs(10))?;
        let mut tpl = TopicPartitionList::new();
        for t in md.topics().iter().filter(|t| t.name() == store.topic()) {
            for p in t.partitions() {
                tpl.add_partition_offset(store.topic(), p.id(), Offset::Beginning)?;
            }
        }
        consumer.assign(&tpl)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("views-reader".into())
            .spawn(move || read(&consumer, &store, &flag))
            .map_err(|e| KafkaError::ClientCreation(e.to_string()))?;
        Ok(ViewReader {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for ViewReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn read(consumer: &BaseConsumer, store: &RemoteViews, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => match decode(m.key(), m.payload()) {
                Ok(d) => {
                    store.offer(d);
                }
                Err(why) => store.reject(m.partition(), m.offset(), m.key(), &why),
            },
            Some(Err(e)) => tracing::warn!(topic = store.topic(), "views topic: {e}"),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(tenant: &str, next_offset: i64, published_ms: i64) -> ViewRecord {
        ViewRecord {
            v: VERSION,
            tenant: tenant.into(),
            partition: 0,
            next_offset,
            published_ms,
            owner_url: "http://a:1".into(),
            live: serde_json::json!({"tenant": tenant}),
            alerts: serde_json::json!([]),
        }
    }

    fn enc(r: &ViewRecord) -> Vec<u8> {
        serde_json::to_vec(r).unwrap()
    }

    #[test]
    fn a_record_round_trips() {
        let r = rec("acme", 7, 1000);
        assert_eq!(decode(Some(b"acme"), Some(&enc(&r))), Ok(Decoded::View(r)));
        assert_eq!(
            decode(Some(b"acme"), None),
            Ok(Decoded::Forget("acme".into()))
        );
    }

    #[test]
    fn bad_records_say_why() {
        let r = rec("acme", 7, 1000);
        assert_eq!(decode(None, Some(&enc(&r))), Err(ViewError::NoKey));
        assert_eq!(
            decode(Some(&[0xff, 0xfe]), Some(&enc(&r))),
            Err(ViewError::KeyNotUtf8)
        );
        assert!(matches!(
            decode(Some(b"acme"), Some(b"{not json")),
            Err(ViewError::NotAView(_))
        ));
        assert_eq!(
            decode(Some(b"other"), Some(&enc(&r))),
            Err(ViewError::TenantMismatch {
                tenant: "acme".into()
            })
        );
        let mut v2 = r;
        v2.v = 2;
        assert_eq!(
            decode(Some(b"acme"), Some(&enc(&v2))),
            Err(ViewError::Version(2))
        );
    }

    #[test]
    fn the_newest_view_wins_whatever_order_it_arrives_in() {
        let store = RemoteViews::new("views");
        assert!(store.offer(Decoded::View(rec("acme", 10, 5000))));
        // A stale owner: an older offset, even with a later wall clock.
        assert!(!store.offer(Decoded::View(rec("acme", 9, 9000))));
        // The same view again is not news.
        assert!(!store.offer(Decoded::View(rec("acme", 10, 5000))));
        assert_eq!(store.get("acme").unwrap().record.next_offset, 10);
        let first = store.get("acme").unwrap().seq;
        // Same offset, later publish (an idle tenant): taken.
        assert!(store.offer(Decoded::View(rec("acme", 10, 6000))));
        assert!(store.get("acme").unwrap().seq > first);
        assert_eq!(store.counters.received.load(Ordering::Relaxed), 2);
        assert!(store.offer(Decoded::Forget("acme".into())));
        assert!(store.get("acme").is_none());
    }

    #[test]
    fn every_change_wakes_the_readers() {
        let store = RemoteViews::new("views");
        let rx = store.changes();
        store.offer(Decoded::View(rec("acme", 1, 1)));
        assert!(rx.has_changed().unwrap());
    }
}
