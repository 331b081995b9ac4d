//! The aggregator runtime: one writer thread per partition owns that
//! partition's engine (`architecture.md`, principle 3). Records arrive in its
//! inbox from a source (the in-process bus or Kafka); the writer publishes
//! live snapshots through a `watch` channel that readers (WebSocket, REST,
//! metrics, alerts) clone without ever blocking it, and answers report
//! requests between batches.

pub mod bus;
pub mod changelog;
pub mod consumer_errors;
pub mod dead_letter;
pub mod kafka;
pub mod parse_stage;
pub mod snapshot;
pub mod topic_check;
pub mod views;
pub mod writer;

use std::collections::BTreeMap;
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, RwLock};

use serde::Serialize;
use tokio::sync::{oneshot, watch};

use aggregator::freshness::Freshness;
use aggregator::messages::ActiveMessage;
use aggregator::scorecard::{Period, Scorecard, ScorecardError};
use aggregator::sums::{AgentTime, QueueSums};
use aggregator::time::IntervalClock;
use aggregator::{IncompleteInterval, IncompleteReason, IntervalReport, LiveSnapshot, Range};

/// One record of the event log: a canonical event's JSON and where it was.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// Position of the record in its partition's log.
    pub offset: i64,
    /// The record's value: one event as JSON, not yet validated.
    pub payload: &'a [u8],
}

/// Records of one partition in log order.
///
/// The payloads share one buffer, so a batch costs two allocations however
/// many records it holds. One allocation per record, made on the source's
/// thread and freed on the writer's, was what kept catch-up below the
/// writer's speed: the two threads contended for the allocator's arena.
#[derive(Debug, Clone, Default)]
pub struct Records {
    bytes: Vec<u8>,
    /// Each record's offset and where its payload ends in `bytes`.
    ends: Vec<(i64, usize)>,
}

impl Records {
    /// An empty batch with room for `records` records of `bytes` bytes in all.
    #[must_use]
    pub fn with_capacity(records: usize, bytes: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(records),
        }
    }

    /// Appends the record at `offset`.
    pub fn push(&mut self, offset: i64, payload: &[u8]) {
        self.bytes.extend_from_slice(payload);
        self.ends.push((offset, self.bytes.len()));
    }

    /// How many records the batch holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the batch holds no record.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Bytes of payload in the batch.
    #[must_use]
    pub fn payload_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// The records in log order.
    pub fn iter(&self) -> impl Iterator<Item = Record<'_>> {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|&(_, end)| end));
        self.ends
            .iter()
            .zip(starts)
            .map(|(&(offset, end), start)| Record {
                offset,
                payload: &self.bytes[start..end],
            })
    }
}

impl<P: AsRef<[u8]>> FromIterator<(i64, P)> for Records {
    fn from_iter<I: IntoIterator<Item = (i64, P)>>(iter: I) -> Self {
        let mut records = Self::default();
        for (offset, payload) in iter {
            records.push(offset, payload.as_ref());
        }
        records
    }
}

/// Which scorecard is asked for.
#[derive(Debug, Clone)]
pub struct ScorecardRequest {
    /// Tenant.
    pub tenant: String,
    /// Today or the week.
    pub period: Period,
    /// Only the members of this queue.
    pub queue: Option<String>,
}

/// What a partition writer can be asked to do.
pub enum Inbox {
    /// Records in log order.
    Records(Records),
    /// Records in log order, already parsed by the partition's parse stage
    /// (`parse_stage`).
    Parsed(parse_stage::ParsedRecords),
    /// The interval report of a tenant, as `wallboard replay` would print it.
    Report {
        /// Tenant to report on.
        tenant: String,
        /// Intervals to include.
        range: Range,
        /// Where to send it (`None`: the partition has not seen the tenant).
        reply: oneshot::Sender<Option<IntervalReport>>,
    },
    /// The agent scorecard of a tenant (`metrics.md`, "Agent scorecard").
    Scorecard {
        /// Tenant, period and queue asked for.
        request: ScorecardRequest,
        /// Where to send it (`None`: the partition has not seen the tenant).
        reply: oneshot::Sender<Option<Result<Scorecard, ScorecardError>>>,
    },
    /// The running totals of every tenant of the partition (for `/metrics`).
    Totals {
        /// Where to send them.
        reply: oneshot::Sender<Vec<TenantTotals>>,
    },
    /// The log's end offset, for lag (Kafka's high watermark).
    HighWatermark(i64),
    /// The log's first available offset, when it is past the state's next
    /// offset: the records in between are gone (sent before any records).
    LogStartsAt(i64),
    /// Write a snapshot now and stop.
    Stop,
}

/// A tenant's sums since the engine started, per queue and for the tenant.
#[derive(Debug, Clone)]
pub struct TenantTotals {
    /// Tenant name.
    pub tenant: String,
    /// The tenant's service-level thresholds in seconds, the order of the sums' `*_within` arrays.
    pub thresholds_s: Vec<u32>,
    /// Queue name, call sums, member agent time.
    pub queues: Vec<(String, QueueSums, AgentTime)>,
    /// Agent time of the whole tenant (every agent once).
    pub tenant_time: AgentTime,
    /// Queue name, CSAT/QA/repeat sums (`metrics.md`, "CSAT and QA").
    pub quality: Vec<(String, aggregator::quality::QualitySums)>,
    /// Caller contacts and handled calls repeat detection could not track.
    pub repeat_untracked: u64,
}

/// Counters of one partition's pipeline, for `/api/v1/status` and `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PartitionStatus {
    /// Partition number in the event log.
    pub partition: i32,
    /// Events applied to the engine (heartbeats excluded).
    pub applied: u64,
    /// Events dropped as duplicates.
    pub duplicates: u64,
    /// Records rejected and dead-lettered, every reason.
    pub rejected: u64,
    /// Rejected records per reason code (`invalid_field`, `late`, `future`, …).
    pub rejected_by_reason: BTreeMap<String, u64>,
    /// Older than the allowed lateness: counted, dead-lettered, not applied.
    pub late: u64,
    /// `agent_state` events older than the agent's latest, ignored for time.
    pub out_of_order_states: u64,
    /// Outcomes for a queue segment that had already ended, ignored.
    pub ignored_outcomes: u64,
    /// Heartbeats read (`events.md`): counted here only, in no metric.
    pub heartbeats: u64,
    /// Floor messages applied (posts and deletes; `events.md`, "Floor
    /// messages"): counted here only, in no metric.
    pub floor_messages: u64,
    /// Forecasts held or replaced (`events.md`, "Forecasts"); refused
    /// ones are in `rejected_by_reason`, superseded ones only here.
    pub forecasts: u64,
    /// The next offset to read (everything before it is in the state).
    pub next_offset: i64,
    /// The log's end offset, when known.
    pub high_watermark: Option<i64>,
    /// High watermark − next offset, at least 0: records not yet read.
    pub lag: Option<i64>,
    /// Event time of the newest event applied.
    pub last_event_ts: Option<i64>,
    /// Unix ms of the last durable snapshot.
    pub last_snapshot_ms: Option<i64>,
    /// Offset stored with the last durable snapshot.
    pub snapshot_offset: Option<i64>,
    /// How often snapshots are due (`None`: this writer keeps none).
    pub snapshot_interval_ms: Option<i64>,
    /// Unix ms when the state was last known durable: a snapshot including
    /// everything applied was written, or was due and nothing had changed
    /// since the last one. The writer's start until then (an empty or
    /// restored state is durable). `wallboard_snapshot_age_seconds` is the
    /// time since.
    pub durable_ms: i64,
    /// Snapshot writes that failed (disk full, …) since the writer started.
    pub snapshot_failures: u64,
    /// Snapshots refused at start (checksum mismatch, unreadable, older
    /// format, other metric settings): the partition was rebuilt from the log.
    pub snapshots_rejected: u64,
    /// Changelog writes that failed since the writer started.
    pub changelog_failures: u64,
    /// Microseconds the writer waited on an empty inbox since it started
    /// (`wallboard_writer_idle_seconds_total`): during a catch-up, time
    /// the records did not arrive fast enough to keep it busy.
    pub idle_us: u64,
    /// Times the writer found its inbox empty and waited.
    pub idle_waits: u64,
    /// Where the state was restored from.
    pub restored_from: RestoredFrom,
    /// Ranges of records that could not be rebuilt (oldest first).
    pub incomplete: Vec<IncompleteRange>,
}

/// Where a writer's state came from when it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RestoredFrom {
    /// No state: built from the log.
    #[default]
    Nothing,
    /// The local snapshot file.
    File,
    /// The changelog topic.
    Changelog,
}

/// Records `[from_offset, to_offset)` of the partition were gone when its
/// state had to be rebuilt (`architecture.md`, "Never silently partial").
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct IncompleteRange {
    /// The first lost source offset: where the restored state went on from
    /// (0 without one).
    pub from_offset: i64,
    /// The partition's log start when the gap was found: the first offset
    /// read again, so the lost records are those before it.
    pub to_offset: i64,
    /// The newest event time in the state before the gap (none: no state).
    pub newest_ts_before: Option<i64>,
    /// The event time of the first event applied after the gap.
    pub first_ts_after: Option<i64>,
    /// Why the records were gone (`log_truncated`: retention or deleted
    /// records).
    pub reason: IncompleteReason,
}

impl IncompleteRange {
    /// The range in a tenant's intervals: from the start of the interval of
    /// the newest event before the gap to the end of the interval of the
    /// first event after it.
    #[must_use]
    pub fn interval(&self, clock: &IntervalClock) -> IncompleteInterval {
        IncompleteInterval {
            start_ms: self.newest_ts_before.map(|t| clock.interval_of(t).0),
            end_ms: self
                .first_ts_after
                .map(|t| clock.interval_end(clock.interval_of(t))),
            reason: self.reason,
        }
    }
}

impl PartitionStatus {
    /// Whether the state has been durable recently enough: within three
    /// snapshot intervals (always, for a writer that keeps no snapshots).
    #[must_use]
    pub fn durable_at(&self, now_ms: i64) -> bool {
        self.snapshot_interval_ms
            .is_none_or(|every| now_ms - self.durable_ms <= 3 * every)
    }
}

/// What one partition writer publishes.
#[derive(Debug, Clone, Default)]
pub struct PartitionView {
    /// Counters of the writer.
    pub status: PartitionStatus,
    /// Live view of every tenant with an applied event, by tenant.
    pub tenants: BTreeMap<String, Arc<LiveSnapshot>>,
    /// Freshness of every tenant heard from, heartbeat-only ones included.
    pub freshness: BTreeMap<String, Freshness>,
    /// Active floor messages of every tenant that has any, by tenant.
    pub messages: BTreeMap<String, Arc<Vec<ActiveMessage>>>,
    /// Unix ms when this view was published.
    pub published_ms: i64,
}

/// How readers reach one partition's writer.
#[derive(Clone)]
pub struct PartitionHandle {
    /// Partition number in the event log.
    pub partition: i32,
    /// Requests to the partition's writer.
    pub inbox: SyncSender<Inbox>,
    /// The writer's latest published view.
    pub view: watch::Receiver<Arc<PartitionView>>,
}

/// The readers' side of the pipeline: every partition's published view.
/// The set of partitions changes only when Kafka reassigns them; the lock
/// around it is never taken on the per-event path.
#[derive(Clone)]
pub struct Hub {
    partitions: Arc<RwLock<Vec<PartitionHandle>>>,
    /// Bumped after every publish of any partition, to wake readers.
    changed: watch::Receiver<u64>,
}

impl Hub {
    /// Readers over `partitions`, woken by `changed`.
    #[must_use]
    pub fn new(partitions: Vec<PartitionHandle>, changed: watch::Receiver<u64>) -> Self {
        Hub {
            partitions: Arc::new(RwLock::new(partitions)),
            changed,
        }
    }

    fn handles(&self) -> Vec<PartitionHandle> {
        self.partitions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Adds (or replaces) the handle of a partition this instance now owns.
    pub fn attach(&self, handle: PartitionHandle) {
        let mut p = self
            .partitions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        p.retain(|h| h.partition != handle.partition);
        p.push(handle);
        p.sort_by_key(|h| h.partition);
    }

    /// Forgets a partition this instance no longer owns.
    pub fn detach(&self, partition: i32) {
        self.partitions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|h| h.partition != partition);
    }

    /// A receiver that changes whenever any partition publishes.
    #[must_use]
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changed.clone()
    }

    /// The latest live view of `tenant`.
    #[must_use]
    pub fn live(&self, tenant: &str) -> Option<Arc<LiveSnapshot>> {
        self.handles()
            .iter()
            .find_map(|p| p.view.borrow().tenants.get(tenant).cloned())
    }

    /// Tenants with published state, sorted.
    #[must_use]
    pub fn tenants(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .handles()
            .iter()
            .flat_map(|p| p.view.borrow().tenants.keys().cloned().collect::<Vec<_>>())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Every partition's latest published view.
    #[must_use]
    pub fn partition_views(&self) -> Vec<Arc<PartitionView>> {
        self.handles()
            .iter()
            .map(|p| p.view.borrow().clone())
            .collect()
    }

    /// Every partition's status.
    #[must_use]
    pub fn status(&self) -> Vec<PartitionStatus> {
        self.handles()
            .iter()
            .map(|p| p.view.borrow().status.clone())
            .collect()
    }

    /// Every tenant's freshness (heartbeat-only tenants too), by tenant.
    #[must_use]
    pub fn freshness(&self) -> BTreeMap<String, Freshness> {
        self.handles()
            .iter()
            .flat_map(|p| p.view.borrow().freshness.clone())
            .collect()
    }

    /// The active floor messages of `tenant` (`None`: no partition has
    /// any for it).
    #[must_use]
    pub fn messages(&self, tenant: &str) -> Option<Arc<Vec<ActiveMessage>>> {
        self.handles()
            .iter()
            .find_map(|p| p.view.borrow().messages.get(tenant).cloned())
    }

    /// When the newest view was published (Unix ms).
    #[must_use]
    pub fn last_publish_ms(&self) -> Option<i64> {
        self.handles()
            .iter()
            .map(|p| p.view.borrow().published_ms)
            .max()
    }

    /// The running totals of every tenant, from every partition's writer.
    pub async fn totals(&self) -> Vec<TenantTotals> {
        let mut all = Vec::new();
        for p in self.handles() {
            let (reply, rx) = oneshot::channel();
            let inbox = p.inbox.clone();
            let sent =
                tokio::task::spawn_blocking(move || inbox.send(Inbox::Totals { reply })).await;
            if matches!(sent, Ok(Ok(()))) {
                if let Ok(t) = rx.await {
                    all.extend(t);
                }
            }
        }
        all
    }

    /// The interval report of `tenant`, computed by the writer that owns it.
    pub async fn report(&self, tenant: &str, range: Range) -> Option<IntervalReport> {
        let owner = self
            .handles()
            .into_iter()
            .find(|p| p.view.borrow().tenants.contains_key(tenant))?;
        let (reply, rx) = oneshot::channel();
        let inbox = owner.inbox.clone();
        let request = Inbox::Report {
            tenant: tenant.to_owned(),
            range,
            reply,
        };
        // The inbox is bounded; waiting for room must not stall the runtime.
        tokio::task::spawn_blocking(move || inbox.send(request))
            .await
            .ok()?
            .ok()?;
        rx.await.ok().flatten()
    }

    /// The agent scorecard of a tenant, computed by the writer that owns
    /// it (`None`: no partition of this instance has the tenant).
    pub async fn scorecard(
        &self,
        request: ScorecardRequest,
    ) -> Option<Result<Scorecard, ScorecardError>> {
        let owner = self
            .handles()
            .into_iter()
            .find(|p| p.view.borrow().tenants.contains_key(&request.tenant))?;
        let (reply, rx) = oneshot::channel();
        let inbox = owner.inbox.clone();
        let request = Inbox::Scorecard { request, reply };
        // The inbox is bounded; waiting for room must not stall the runtime.
        tokio::task::spawn_blocking(move || inbox.send(request))
            .await
            .ok()?
            .ok()?;
        rx.await.ok().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::Records;

    #[test]
    fn a_batch_gives_back_each_record_whole_and_in_order() {
        let payloads: [&[u8]; 4] = [b"{\"a\":1}", b"", b"x", b"{\"b\":22}"];
        let batch: Records = (40..).zip(payloads).collect();
        assert_eq!(batch.len(), 4);
        assert_eq!(batch.payload_bytes(), 16);
        let back: Vec<(i64, &[u8])> = batch.iter().map(|r| (r.offset, r.payload)).collect();
        assert_eq!(back, (40..).zip(payloads).collect::<Vec<_>>());
        assert!(Records::default().iter().next().is_none());
    }
}
