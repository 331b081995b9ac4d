//! The single writer of one partition: validates and applies records in
//! order, dead-letters what it cannot apply, publishes live snapshots, and
//! writes durable snapshots with the offset they include.

use std::collections::BTreeMap;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

use aggregator::freshness::{FreshnessConfig, FreshnessTracker};
use aggregator::intern::DenseId;
use aggregator::messages::MessageOutcome;
use aggregator::{interval_report, live_snapshot, Applied, Engine};
use wallboard_events::{
    parse_event, DeadLetterCode, Event, EventBody, EventError, FloorMessage, Forecast, Upstream,
};

use crate::changelog::{PersistError, Refused};
use crate::snapshot::{self, SnapshotStore, Stored};
use crate::{
    Inbox, IncompleteRange, PartitionHandle, PartitionStatus, PartitionView, Record, RestoredFrom,
};
use aggregator::IncompleteReason;

/// How many batches or requests may queue up in a writer's inbox.
const INBOX_CAPACITY: usize = 64;

/// Every view is republished at least this often, since time moves on.
const MAX_PUBLISH_GAP: Duration = Duration::from_secs(1);

/// Every code a writer dead-letters an event with, but `late` (which has its
/// own counter): `/metrics` starts each at zero.
pub fn rejection_codes() -> impl Iterator<Item = &'static str> {
    wallboard_events::EventError::CODES
        .iter()
        .chain(aggregator::plausible::TimeRejection::CODES)
        .chain(&[DeadLetterCode::Future, DeadLetterCode::MessagesFull])
        .chain(aggregator::forecast::REJECTION_CODES)
        .map(|c| c.as_str())
}

/// Settings of one writer.
#[derive(Clone)]
pub struct WriterConfig {
    /// Partition the writer owns.
    pub partition: i32,
    /// Metric parameters of every tenant (`[[tenants]]` may have their own).
    pub params: aggregator::TenantParams,
    /// How far behind a tenant's newest event an event may be and still be applied, milliseconds.
    pub allowed_lateness_ms: i64,
    /// Live ingest only (`serve`, `demo`): an event more than this ahead of
    /// the wall clock is dead-lettered as `future` (`events.md`, "Event time
    /// limits"). `None` for sources whose events may be anywhere in time.
    pub max_future_ms: Option<i64>,
    /// How often the live view is published.
    pub publish_interval: Duration,
    /// How often a snapshot is due.
    pub snapshot_interval: Duration,
    /// Where snapshots are kept (`None`: no snapshots).
    pub snapshots: Option<SnapshotStore>,
    /// Thresholds of the tenants' freshness states.
    pub freshness: FreshnessConfig,
}

/// What the source of records wants to hear from its writer.
pub trait WriterHooks: Send + 'static {
    /// A record that could not be applied (`code` is a stable reason code).
    fn dead_letter(&mut self, record: Record<'_>, code: DeadLetterCode, reason: &str);
    /// Whether every dead letter so far is durable (confirmed by the
    /// dead-letter topic). Asked before each snapshot: a snapshot passing a
    /// dead letter that could still be lost is not written.
    fn dead_letters_durable(&mut self) -> bool {
        true
    }
    /// A snapshot including everything before `next_offset` is durable.
    fn snapshot_written(&mut self, _next_offset: i64) {}
    /// Keeps a snapshot's bytes elsewhere too (the changelog topic).
    fn persist(
        &mut self,
        _snapshot: &[u8],
        _next_offset: i64,
        _taken_ms: i64,
    ) -> Result<(), PersistError> {
        Ok(())
    }
}

/// Logs dead letters (the in-process bus has no dead-letter topic).
pub struct LogDeadLetters;

impl WriterHooks for LogDeadLetters {
    fn dead_letter(&mut self, record: Record<'_>, code: DeadLetterCode, reason: &str) {
        let code = code.as_str();
        tracing::warn!(offset = record.offset, code, "rejected event: {reason}");
    }
}

/// A running writer.
pub struct Writer {
    /// How readers reach the writer.
    pub handle: PartitionHandle,
    /// The thread the writer runs on.
    pub thread: JoinHandle<()>,
    /// Where the source must start reading: the snapshot's next offset.
    pub start_offset: i64,
}

/// Starts the writer of `cfg.partition`, restoring its snapshot if any.
#[must_use]
pub fn spawn(
    cfg: WriterConfig,
    hooks: Box<dyn WriterHooks>,
    changed: watch::Sender<u64>,
) -> Writer {
    spawn_restored(cfg, hooks, changed, None)
}

/// A snapshot found outside the local directory (the changelog), or why
/// the one there was refused.
pub type Remote = Option<Result<Stored, Refused>>;

/// Starts the writer of `cfg.partition` from the newer of its local
/// snapshot and `remote` (the local file wins a tie: no bytes to fetch).
#[must_use]
pub fn spawn_restored(
    cfg: WriterConfig,
    hooks: Box<dyn WriterHooks>,
    changed: watch::Sender<u64>,
    remote: Remote,
) -> Writer {
    let (engine, status) = restore(&cfg, remote);
    let partition = cfg.partition;
    let start_offset = status.next_offset;
    let (view_tx, view_rx) = watch::channel(Arc::new(PartitionView {
        status: status.clone(),
        ..Default::default()
    }));
    let (inbox, rx) = sync_channel(INBOX_CAPACITY);
    let mut state = State {
        cfg,
        engine,
        status,
        hooks,
        view: view_tx,
        changed,
        clocks: BTreeMap::new(),
        freshness: FreshnessTracker::default(),
        dirty: true,
        last_publish: Instant::now().checked_sub(MAX_PUBLISH_GAP).unwrap(),
        last_snapshot: Instant::now(),
        snapshot_offset: start_offset,
        wall_ms: unix_ms(),
    };
    let thread = std::thread::Builder::new()
        .name(format!("writer-{partition}"))
        .spawn(move || {
            state.run(&rx);
            // The inbox closes as soon as the writer is done, before its
            // state is dropped.
            drop(rx);
        })
        .expect("spawn writer thread");
    Writer {
        handle: PartitionHandle {
            partition,
            inbox,
            view: view_rx,
        },
        thread,
        start_offset,
    }
}

fn restore(cfg: &WriterConfig, remote: Remote) -> (Engine, PartitionStatus) {
    let (engine, mut status) = restore_snapshot(cfg, remote);
    status.durable_ms = unix_ms();
    status.snapshot_interval_ms = cfg
        .snapshots
        .as_ref()
        .map(|_| millis_i64(cfg.snapshot_interval));
    (engine, status)
}

/// The local snapshot, or why there is none usable.
fn local_snapshot(cfg: &WriterConfig) -> std::io::Result<Option<Stored>> {
    match &cfg.snapshots {
        None => Ok(None),
        Some(store) => store.read(cfg.partition),
    }
}

fn restore_snapshot(cfg: &WriterConfig, remote: Remote) -> (Engine, PartitionStatus) {
    let mut rejected = 0;
    let mut refused = |what: &str, e: &dyn std::fmt::Display| {
        // Never trusted: a wrong offset would skip or recount records.
        tracing::error!(partition = cfg.partition, "{what} snapshot refused: {e}");
        rejected += 1;
    };
    let local = local_snapshot(cfg).unwrap_or_else(|e| {
        refused("local", &e);
        None
    });
    let remote = remote.and_then(|r| r.map_err(|e| refused("changelog", &e)).ok());
    let chosen = match (local, remote) {
        (Some(l), Some(r)) if r.next_offset > l.next_offset => Some((r, RestoredFrom::Changelog)),
        (Some(l), _) => Some((l, RestoredFrom::File)),
        (None, Some(r)) => Some((r, RestoredFrom::Changelog)),
        (None, None) => None,
    };
    let fresh = |rejected: u64| {
        (
            Engine::new(cfg.params.clone()),
            PartitionStatus {
                partition: cfg.partition,
                snapshots_rejected: rejected,
                ..Default::default()
            },
        )
    };
    let Some((stored, from)) = chosen else {
        return fresh(rejected);
    };
    match Engine::from_bytes(&stored.engine, cfg.params.clone()) {
        Ok(engine) => {
            let mut status = PartitionStatus {
                partition: cfg.partition,
                next_offset: stored.next_offset,
                last_snapshot_ms: Some(stored.taken_ms),
                snapshot_offset: Some(stored.next_offset),
                snapshots_rejected: rejected,
                restored_from: from,
                incomplete: stored.incomplete,
                ..Default::default()
            };
            status.restore_counters(&stored.counters);
            status.last_event_ts = engine
                .tenant_names()
                .iter()
                .filter_map(|n| engine.tenant(n)?.max_ts())
                .max();
            tracing::info!(
                partition = cfg.partition,
                next_offset = stored.next_offset,
                ?from,
                "restored snapshot"
            );
            (engine, status)
        }
        Err(e) => {
            tracing::warn!(
                partition = cfg.partition,
                "snapshot not reusable, replaying the log: {e}"
            );
            fresh(rejected + 1)
        }
    }
}

impl PartitionStatus {
    fn counters(&self) -> Vec<(String, u64)> {
        let mut c = vec![
            ("applied".to_owned(), self.applied),
            ("duplicates".to_owned(), self.duplicates),
            ("rejected".to_owned(), self.rejected),
            ("late".to_owned(), self.late),
            ("out_of_order_states".to_owned(), self.out_of_order_states),
            ("ignored_outcomes".to_owned(), self.ignored_outcomes),
            ("floor_messages".to_owned(), self.floor_messages),
            ("forecasts".to_owned(), self.forecasts),
        ];
        c.extend(
            self.rejected_by_reason
                .iter()
                .map(|(k, v)| (format!("rejected:{k}"), *v)),
        );
        c
    }

    fn restore_counters(&mut self, counters: &[(String, u64)]) {
        for (k, v) in counters {
            match k.as_str() {
                "applied" => self.applied = *v,
                "duplicates" => self.duplicates = *v,
                "rejected" => self.rejected = *v,
                "late" => self.late = *v,
                "out_of_order_states" => self.out_of_order_states = *v,
                "ignored_outcomes" => self.ignored_outcomes = *v,
                "floor_messages" => self.floor_messages = *v,
                "forecasts" => self.forecasts = *v,
                other => {
                    if let Some(reason) = other.strip_prefix("rejected:") {
                        self.rejected_by_reason.insert(reason.to_owned(), *v);
                    }
                }
            }
        }
    }
}

struct State {
    cfg: WriterConfig,
    engine: Engine,
    status: PartitionStatus,
    hooks: Box<dyn WriterHooks>,
    view: watch::Sender<Arc<PartitionView>>,
    changed: watch::Sender<u64>,
    /// Per tenant: its newest event time and when that was seen, so the
    /// live view's "now" moves on with the wall clock between events.
    clocks: BTreeMap<String, (i64, Instant)>,
    /// When each tenant and source was last heard from (wall clock).
    freshness: FreshnessTracker,
    dirty: bool,
    last_publish: Instant,
    last_snapshot: Instant,
    snapshot_offset: i64,
    /// The wall clock when the current batch arrived.
    wall_ms: i64,
}

impl State {
    fn run(&mut self, rx: &Receiver<Inbox>) {
        loop {
            // Until the next publish is due: soon when something changed,
            // else at the latest republish. Never zero, or an idle writer
            // would spin.
            let next = if self.dirty {
                self.cfg.publish_interval
            } else {
                MAX_PUBLISH_GAP
            };
            let mut wait = next.saturating_sub(self.last_publish.elapsed());
            if self.cfg.snapshots.is_some() {
                // An idle writer still confirms durability on time.
                let due = self.cfg.snapshot_interval;
                wait = wait.min(due.saturating_sub(self.last_snapshot.elapsed()));
            }
            let wait = wait.max(Duration::from_millis(1));
            match self.receive(rx, wait) {
                Ok(Inbox::Records(records)) => {
                    self.wall_ms = unix_ms();
                    for r in records.iter() {
                        self.take(r);
                    }
                }
                Ok(Inbox::Parsed(parsed)) => {
                    self.wall_ms = unix_ms();
                    for (r, event) in parsed.iter() {
                        self.take_parsed(r, event);
                    }
                }
                Ok(Inbox::Report {
                    tenant,
                    range,
                    reply,
                }) => {
                    let report = self.engine.tenant(&tenant).map(|t| {
                        let now = t.max_ts().unwrap_or(0);
                        let mut r = interval_report(t, now, range);
                        r.incomplete = self
                            .status
                            .incomplete
                            .iter()
                            .map(|i| i.interval(t.clock()))
                            .filter(|i| i.overlaps(&range))
                            .collect();
                        r
                    });
                    let _ = reply.send(report);
                }
                Ok(Inbox::Scorecard { request: r, reply }) => {
                    let card = self.engine.tenant(&r.tenant).map(|t| {
                        let now = t.max_ts().unwrap_or(0);
                        aggregator::scorecard::scorecard(t, now, r.period, r.queue.as_deref())
                    });
                    let _ = reply.send(card);
                }
                Ok(Inbox::Totals { reply }) => {
                    let _ = reply.send(self.totals());
                }
                Ok(Inbox::HighWatermark(hw)) => {
                    self.status.high_watermark = Some(hw);
                    self.dirty = true;
                }
                Ok(Inbox::LogStartsAt(start)) => self.log_starts_at(start),
                Ok(Inbox::Stop) | Err(RecvTimeoutError::Disconnected) => {
                    self.write_snapshot();
                    self.publish();
                    return;
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            let since = self.last_publish.elapsed();
            if (self.dirty && since >= self.cfg.publish_interval) || since >= MAX_PUBLISH_GAP {
                self.publish();
            }
            if self.last_snapshot.elapsed() >= self.cfg.snapshot_interval {
                self.write_snapshot();
            }
        }
    }

    /// The next message, waiting at most `wait`; time spent waiting on an
    /// empty inbox is counted as idle (`PartitionStatus::idle_us`).
    fn receive(&mut self, rx: &Receiver<Inbox>, wait: Duration) -> Result<Inbox, RecvTimeoutError> {
        match rx.try_recv() {
            Ok(m) => Ok(m),
            Err(TryRecvError::Disconnected) => Err(RecvTimeoutError::Disconnected),
            Err(TryRecvError::Empty) => {
                let since = Instant::now();
                let m = rx.recv_timeout(wait);
                let waited = u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX);
                self.status.idle_us = self.status.idle_us.saturating_add(waited);
                self.status.idle_waits += 1;
                m
            }
        }
    }

    /// Validates and applies one record.
    fn take(&mut self, r: Record<'_>) {
        if self.advance(r.offset) {
            self.take_event(r, &parse_event(r.payload));
        }
    }

    /// Applies one record the parse stage has parsed.
    fn take_parsed(&mut self, r: Record<'_>, parsed: &Result<Event<'_>, EventError>) {
        if self.advance(r.offset) {
            self.take_event(r, parsed);
        }
    }

    /// Moves the next offset past `offset`; `false` if that record is
    /// already in the state (redelivered after a restore).
    fn advance(&mut self, offset: i64) -> bool {
        if offset < self.status.next_offset {
            return false;
        }
        self.status.next_offset = offset + 1;
        self.dirty = true;
        true
    }

    /// Validates and applies one parsed record.
    fn take_event(&mut self, r: Record<'_>, parsed: &Result<Event<'_>, EventError>) {
        let event = match parsed {
            Ok(e) => e,
            Err(e) => return self.reject(r, e.code(), &e.to_string()),
        };
        match &event.body {
            EventBody::Heartbeat { upstream } => return self.heartbeat(event, *upstream),
            EventBody::FloorMessage(m) => return self.floor_message(r, event, m),
            EventBody::Forecast(f) => return self.forecast(r, event, f),
            _ => {}
        }
        if let Some(max) = self.cfg.max_future_ms {
            if event.ts > self.wall_ms.saturating_add(max) {
                let reason = format!(
                    "event time {} is {} ms ahead of this server's clock, more than pipeline.max_future_s allows",
                    event.ts,
                    event.ts - self.wall_ms
                );
                return self.reject(r, DeadLetterCode::Future, &reason);
            }
        }
        if let Some(newest) = self
            .engine
            .tenant(&event.tenant)
            .and_then(aggregator::TenantEngine::max_ts)
        {
            if event.ts < newest - self.cfg.allowed_lateness_ms {
                self.status.late += 1;
                let reason = format!(
                    "event time {} is {} ms behind the tenant's newest event, more than the allowed lateness",
                    event.ts,
                    newest - event.ts
                );
                self.hooks.dead_letter(r, DeadLetterCode::Late, &reason);
                return;
            }
        }
        match self.engine.apply(event) {
            Applied::Counted => self.status.applied += 1,
            Applied::Duplicate => self.status.duplicates += 1,
            Applied::OutOfOrderState => self.status.out_of_order_states += 1,
            Applied::SegmentAlreadyEnded => self.status.ignored_outcomes += 1,
            Applied::TimeRejected(why) => return self.reject(r, why.code(), &why.to_string()),
            Applied::Heartbeat => self.status.heartbeats += 1,
            Applied::FloorMessage(_) => self.status.floor_messages += 1,
            Applied::Forecast(_) => self.status.forecasts += 1,
        }
        self.freshness
            .event(&event.tenant, event.source.as_deref(), self.wall_ms);
        let ts = event.ts;
        if let Some(gap) = self.status.incomplete.last_mut() {
            gap.first_ts_after.get_or_insert(ts);
        }
        self.status.last_event_ts = Some(self.status.last_event_ts.map_or(ts, |m| m.max(ts)));
        match self.clocks.get_mut(&*event.tenant) {
            Some(c) if ts > c.0 => *c = (ts, Instant::now()),
            Some(_) => {}
            None => {
                self.clocks
                    .insert(event.tenant.to_string(), (ts, Instant::now()));
            }
        }
    }

    /// The records from the state's next offset to `start` are gone: mark
    /// the range and read on from `start`.
    fn log_starts_at(&mut self, start: i64) {
        let from = self.status.next_offset;
        if start <= from {
            return;
        }
        tracing::warn!(
            partition = self.cfg.partition,
            from_offset = from,
            to_offset = start,
            "records {from}..{start} are no longer in the log: their intervals are marked incomplete"
        );
        self.status.incomplete.push(IncompleteRange {
            from_offset: from,
            to_offset: start,
            newest_ts_before: self.status.last_event_ts,
            first_ts_after: None,
            reason: IncompleteReason::LogTruncated,
        });
        self.status.next_offset = start;
        self.dirty = true;
    }

    /// Counts a record that cannot be applied and dead-letters it.
    fn reject(&mut self, r: Record<'_>, code: DeadLetterCode, reason: &str) {
        self.status.rejected += 1;
        *self
            .status
            .rejected_by_reason
            .entry(code.as_str().to_owned())
            .or_default() += 1;
        self.hooks.dead_letter(r, code, reason);
    }

    /// A heartbeat: only freshness hears of it (`events.md`, "Heartbeats").
    fn heartbeat(&mut self, event: &Event<'_>, upstream: Upstream) {
        self.status.heartbeats += 1;
        // The parser requires a source on heartbeats.
        if let Some(source) = &event.source {
            self.freshness
                .heartbeat(&event.tenant, source, upstream, self.wall_ms);
        }
    }

    /// A floor message: only the tenant's message board hears of it
    /// (`events.md`, "Floor messages"); a full board refuses a new one.
    fn floor_message(&mut self, r: Record<'_>, event: &Event<'_>, m: &FloorMessage<'_>) {
        if self.engine.apply(event) == Applied::FloorMessage(MessageOutcome::Full) {
            let reason = format!(
                "tenant {:?} already has {} active floor messages; message {:?} not posted",
                &*event.tenant,
                aggregator::messages::MAX_ACTIVE_MESSAGES,
                &*m.message
            );
            return self.reject(r, DeadLetterCode::MessagesFull, &reason);
        }
        self.status.floor_messages += 1;
    }

    /// A forecast: only the tenant's forecast book hears of it
    /// (`events.md`, "Forecasts"); one off the grid, too old or beyond the
    /// cap is refused.
    fn forecast(&mut self, r: Record<'_>, event: &Event<'_>, f: &Forecast<'_>) {
        let Applied::Forecast(outcome) = self.engine.apply(event) else {
            return;
        };
        if let Some(code) = outcome.dead_letter() {
            let reason = format!(
                "tenant {:?}: forecast of queue {:?} for {} refused ({code}, docs/events.md \"Forecasts\")",
                &*event.tenant, &*f.queue, f.start_ms
            );
            return self.reject(r, code, &reason);
        }
        self.status.forecasts += 1;
    }

    fn totals(&self) -> Vec<crate::TenantTotals> {
        self.engine
            .tenant_names()
            .into_iter()
            .filter_map(|name| self.engine.tenant(name))
            .map(|t| {
                let b = t.totals();
                crate::TenantTotals {
                    tenant: t.name().to_owned(),
                    thresholds_s: t.params().thresholds_s.clone(),
                    queues: t
                        .queue_names()
                        .iter()
                        .map(|(q, name)| {
                            (
                                name.to_owned(),
                                b.queues.get(q.index()).cloned().unwrap_or_default(),
                                b.queue_time.get(q.index()).copied().unwrap_or_default(),
                            )
                        })
                        .collect(),
                    tenant_time: b.tenant_time,
                    quality: t
                        .queue_names()
                        .iter()
                        .map(|(q, name)| (name.to_owned(), t.quality().totals.queue(q)))
                        .collect(),
                    repeat_untracked: t.quality().repeat.untracked(),
                }
            })
            .collect()
    }

    fn publish(&mut self) {
        let wall = unix_ms();
        let mut tenants = BTreeMap::new();
        for name in self.engine.tenant_names() {
            let Some(t) = self.engine.tenant(name) else {
                continue;
            };
            let now = match self.clocks.get(name) {
                Some((ts, seen)) => ts + millis_i64(seen.elapsed()),
                None => t.max_ts().unwrap_or(0),
            };
            let mut snap = live_snapshot(t, now);
            snap.messages = self.engine.messages(name, wall);
            snap.incomplete = self
                .status
                .incomplete
                .iter()
                .map(|i| i.interval(t.clock()))
                .collect();
            snap.freshness = Some(
                self.freshness
                    .view(name, t.max_ts(), wall, &self.cfg.freshness),
            );
            tenants.insert(name.to_owned(), Arc::new(snap));
        }
        // Every tenant heard of, with events or only heartbeats.
        let freshness = self
            .freshness
            .tenants()
            .chain(self.engine.tenant_names())
            .map(|name| {
                let newest = self
                    .engine
                    .tenant(name)
                    .and_then(aggregator::TenantEngine::max_ts);
                let view = self.freshness.view(name, newest, wall, &self.cfg.freshness);
                (name.to_owned(), view)
            })
            .collect();
        let messages = self
            .engine
            .message_tenants()
            .map(|name| (name.to_owned(), Arc::new(self.engine.messages(name, wall))))
            .collect();
        self.status.lag = self
            .status
            .high_watermark
            .map(|hw| (hw - self.status.next_offset).max(0));
        self.view.send_replace(Arc::new(PartitionView {
            status: self.status.clone(),
            tenants,
            freshness,
            messages,
            published_ms: wall,
        }));
        self.changed.send_modify(|v| *v += 1);
        self.dirty = false;
        self.last_publish = Instant::now();
    }

    fn write_snapshot(&mut self) {
        self.last_snapshot = Instant::now();
        let Some(store) = &self.cfg.snapshots else {
            return;
        };
        // Readers see the durability (or its failure) at once.
        self.dirty = true;
        if self.status.next_offset == self.snapshot_offset && self.status.last_snapshot_ms.is_some()
        {
            // Nothing new since the last one: the state is still durable.
            self.status.durable_ms = unix_ms();
            return;
        }
        if !self.hooks.dead_letters_durable() {
            self.status.snapshot_failures += 1;
            tracing::error!(
                partition = self.cfg.partition,
                "snapshot postponed: dead letters not confirmed by the dead-letter topic"
            );
            return;
        }
        let stored = Stored {
            next_offset: self.status.next_offset,
            taken_ms: unix_ms(),
            engine: self.engine.to_bytes(),
            counters: self.status.counters(),
            incomplete: self.status.incomplete.clone(),
        };
        let written = snapshot::encode(&stored).and_then(|bytes| {
            store.write_bytes(self.cfg.partition, &bytes)?;
            Ok(bytes)
        });
        let bytes = match written {
            Ok(b) => b,
            Err(e) => {
                self.status.snapshot_failures += 1;
                tracing::error!(partition = self.cfg.partition, "snapshot failed: {e}");
                return;
            }
        };
        self.snapshot_offset = stored.next_offset;
        self.status.last_snapshot_ms = Some(stored.taken_ms);
        self.status.snapshot_offset = Some(stored.next_offset);
        self.status.durable_ms = stored.taken_ms;
        self.hooks.snapshot_written(stored.next_offset);
        if let Err(e) = self
            .hooks
            .persist(&bytes, stored.next_offset, stored.taken_ms)
        {
            self.status.changelog_failures += 1;
            tracing::error!(
                partition = self.cfg.partition,
                "changelog write failed: {e}"
            );
        }
    }
}

/// Wall-clock Unix milliseconds (for status only; the engine never reads it).
#[must_use]
pub fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, millis_i64)
}

/// `d` in whole milliseconds, saturating at `i64::MAX` (292 million years).
fn millis_i64(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aggregator::Params;
    use std::sync::Mutex;

    /// Keeps the codes of the dead letters.
    struct Recorded(Arc<Mutex<Vec<(i64, String)>>>);

    impl WriterHooks for Recorded {
        fn dead_letter(&mut self, record: Record<'_>, code: DeadLetterCode, _reason: &str) {
            self.0
                .lock()
                .unwrap()
                .push((record.offset, code.as_str().to_owned()));
        }
    }

    fn queued(offset: i64, ts: i64) -> (i64, String) {
        let payload = format!(
            r#"{{"v":1,"id":"e{offset}","ts":{ts},"kind":"call_queued","call":"c{offset}","queue":"q"}}"#
        );
        (offset, payload)
    }

    fn config(snapshots: Option<SnapshotStore>) -> WriterConfig {
        WriterConfig {
            partition: 0,
            params: Params::default().into(),
            allowed_lateness_ms: 3_600_000,
            max_future_ms: Some(300_000),
            freshness: FreshnessConfig::default(),
            publish_interval: Duration::from_millis(10),
            snapshot_interval: Duration::from_secs(3600),
            snapshots,
        }
    }

    /// Sends `records` and waits until the writer has taken them.
    fn run(records: Vec<(i64, String)>, hooks: Recorded) -> PartitionStatus {
        let (changed, _rx) = watch::channel(0);
        let w = spawn(config(None), Box::new(hooks), changed);
        let records = records.into_iter().collect();
        w.handle.inbox.send(Inbox::Records(records)).unwrap();
        w.handle.inbox.send(Inbox::Stop).unwrap();
        w.thread.join().unwrap();
        let status = w.handle.view.borrow().status.clone();
        status
    }

    #[test]
    fn an_event_years_ahead_of_the_clock_is_dead_lettered_and_moves_nothing() {
        let now = unix_ms();
        let far = now + 4 * 365 * 86_400_000;
        let dead = Arc::new(Mutex::new(Vec::new()));
        let records = vec![queued(0, now - 2000), queued(1, far), queued(2, now - 1000)];
        let status = run(records, Recorded(dead.clone()));
        assert_eq!(*dead.lock().unwrap(), vec![(1, "future".to_owned())]);
        // Had it moved "now", the event after it would have been late.
        assert_eq!((status.applied, status.late, status.rejected), (2, 0, 1));
        assert_eq!(status.rejected_by_reason.get("future"), Some(&1));
        assert_eq!(status.last_event_ts, Some(now - 1000));
    }

    fn forecast(offset: i64, ts: i64, start_ms: i64) -> (i64, String) {
        let payload = format!(
            r#"{{"v":1,"id":"f{offset}","ts":{ts},"kind":"forecast","queue":"q","start_ms":{start_ms},"interval_minutes":30,"calls":3,"aht_s":100}}"#
        );
        (offset, payload)
    }

    #[test]
    fn forecasts_are_held_and_one_off_the_grid_is_dead_lettered() {
        let now = unix_ms();
        let grid = now - now.rem_euclid(1_800_000);
        let dead = Arc::new(Mutex::new(Vec::new()));
        // Published a week ago: a plan is not checked against the lateness.
        let week = 7 * 86_400_000;
        let records = vec![
            queued(0, now - 1000),
            forecast(1, now - week, grid),
            forecast(2, now, grid + 60_000),
        ];
        let status = run(records, Recorded(dead.clone()));
        assert_eq!(
            *dead.lock().unwrap(),
            vec![(2, "forecast_misaligned".to_owned())]
        );
        assert_eq!((status.applied, status.forecasts, status.late), (1, 1, 0));
        assert_eq!(
            status.rejected_by_reason.get("forecast_misaligned"),
            Some(&1)
        );
        // It moved no time: the newest event is the call's.
        assert_eq!(status.last_event_ts, Some(now - 1000));
    }

    #[test]
    fn a_snapshot_with_one_flipped_bit_is_refused_and_the_partition_rebuilt() {
        let dir = std::env::temp_dir().join(format!("wb-writer-bit-{}", std::process::id()));
        let store = SnapshotStore::new(&dir, "t");
        let stored = Stored {
            next_offset: 72080,
            taken_ms: 1,
            engine: Engine::new(Params::default()).to_bytes(),
            counters: vec![],
            incomplete: vec![],
        };
        store.write(0, &stored).unwrap();
        let start = |store: &SnapshotStore| {
            let (changed, _rx) = watch::channel(0);
            let w = spawn(
                config(Some(store.clone())),
                Box::new(LogDeadLetters),
                changed,
            );
            let status = w.handle.view.borrow().status.clone();
            drop(w.handle);
            w.thread.join().unwrap();
            (w.start_offset, status.snapshots_rejected)
        };
        assert_eq!(start(&store), (72080, 0));
        let path = dir.join("t-0.snapshot");
        let mut bytes = std::fs::read(&path).unwrap();
        // A bit of the stored offset (postcard varint right after the magic
        // and the checksum): 72080 would read as another offset.
        bytes[16] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(start(&store), (0, 1), "rebuilt from the log's beginning");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn waits_on_an_empty_inbox_are_counted_as_idle() {
        let (changed, _rx) = watch::channel(0);
        let w = spawn(config(None), Box::new(LogDeadLetters), changed);
        let mut view = w.handle.view.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        // Nothing was sent: the writer's first wait found its inbox empty,
        // and its first publish says so.
        let status = rt
            .block_on(view.wait_for(|v| v.status.idle_waits > 0))
            .unwrap()
            .status
            .clone();
        assert!(status.idle_us > 0, "{status:?}");
        w.handle.inbox.send(Inbox::Stop).unwrap();
        w.thread.join().unwrap();
    }

    /// Dead letters that are never confirmed.
    struct Unconfirmed;

    impl WriterHooks for Unconfirmed {
        fn dead_letter(&mut self, _: Record<'_>, _: DeadLetterCode, _: &str) {}
        fn dead_letters_durable(&mut self) -> bool {
            false
        }
    }

    #[test]
    fn no_snapshot_passes_a_dead_letter_that_is_not_durable() {
        let dir = std::env::temp_dir().join(format!("wb-writer-dlq-{}", std::process::id()));
        let store = SnapshotStore::new(&dir, "t");
        let (changed, _rx) = watch::channel(0);
        let w = spawn(config(Some(store.clone())), Box::new(Unconfirmed), changed);
        let bad = std::iter::once((0, b"not json")).collect();
        w.handle.inbox.send(Inbox::Records(bad)).unwrap();
        w.handle.inbox.send(Inbox::Stop).unwrap();
        w.thread.join().unwrap();
        let status = w.handle.view.borrow().status.clone();
        assert_eq!(status.rejected, 1);
        assert!(store.read(0).unwrap().is_none(), "no snapshot past it");
        assert_eq!(status.snapshot_failures, 1);
        std::fs::remove_dir_all(dir).ok();
    }

    fn stored(next_offset: i64) -> Stored {
        Stored {
            next_offset,
            taken_ms: 1,
            engine: Engine::new(Params::default()).to_bytes(),
            counters: vec![],
            incomplete: vec![],
        }
    }

    /// Starts a writer, lets it restore, stops it: where it would resume.
    fn restored(store: &SnapshotStore, remote: Remote) -> PartitionStatus {
        let (changed, _rx) = watch::channel(0);
        let w = spawn_restored(
            config(Some(store.clone())),
            Box::new(LogDeadLetters),
            changed,
            remote,
        );
        let status = w.handle.view.borrow().status.clone();
        drop(w.handle);
        w.thread.join().unwrap();
        status
    }

    #[test]
    fn the_newer_of_the_local_file_and_the_changelog_is_restored() {
        let dir = std::env::temp_dir().join(format!("wb-writer-remote-{}", std::process::id()));
        let store = SnapshotStore::new(&dir, "t");
        let s = restored(&store, Some(Ok(stored(40))));
        assert_eq!(
            (s.next_offset, s.restored_from),
            (40, RestoredFrom::Changelog)
        );
        store.write(0, &stored(90)).unwrap();
        let s = restored(&store, Some(Ok(stored(90))));
        assert_eq!((s.next_offset, s.restored_from), (90, RestoredFrom::File));
        let s = restored(&store, Some(Ok(stored(120))));
        assert_eq!(
            (s.next_offset, s.restored_from),
            (120, RestoredFrom::Changelog)
        );
        let s = restored(
            &store,
            Some(Err(crate::changelog::Unusable::MissingChunk(
                "p0/s0/c0".into(),
            )
            .into())),
        );
        assert_eq!(s.snapshots_rejected, 1);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_log_that_starts_past_the_state_marks_the_gap_in_status_and_report() {
        let (changed, _rx) = watch::channel(0);
        let w = spawn(config(None), Box::new(LogDeadLetters), changed);
        let ts = unix_ms() - 60_000;
        w.handle.inbox.send(Inbox::LogStartsAt(1000)).unwrap();
        // Records before the log start are never read again.
        let records = [queued(1000, ts), queued(1001, ts + 1)];
        w.handle
            .inbox
            .send(Inbox::Records(records.into_iter().collect()))
            .unwrap();
        let (reply, rx) = tokio::sync::oneshot::channel();
        let range = crate::Range {
            from: None,
            to: None,
        };
        w.handle
            .inbox
            .send(Inbox::Report {
                tenant: wallboard_events::event::DEFAULT_TENANT.into(),
                range,
                reply,
            })
            .unwrap();
        let report = rx.blocking_recv().unwrap().expect("the default tenant");
        w.handle.inbox.send(Inbox::Stop).unwrap();
        w.thread.join().unwrap();
        let status = w.handle.view.borrow().status.clone();
        let gap = IncompleteRange {
            from_offset: 0,
            to_offset: 1000,
            newest_ts_before: None,
            first_ts_after: Some(ts),
            reason: IncompleteReason::LogTruncated,
        };
        assert_eq!(status.incomplete, vec![gap]);
        assert_eq!(status.applied, 2);
        let clock = aggregator::time::IntervalClock::new(chrono_tz::UTC, 30);
        let end = clock.interval_end(clock.interval_of(ts));
        assert_eq!(report.incomplete.len(), 1);
        assert_eq!(
            (report.incomplete[0].start_ms, report.incomplete[0].end_ms),
            (None, Some(end))
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["incomplete"][0]["reason"], "log_truncated");
    }
}
