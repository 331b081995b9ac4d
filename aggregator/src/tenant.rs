//! The metric engine of one tenant: applies canonical events one at a time
//! and keeps, per interval, the sums of `metrics.md`, plus the live state
//! (waiting calls, agents and their plans). Pure: no I/O, no clock.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use hashbrown::HashMap;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use wallboard_events::{
    AgentState, BlockedReason, DequeueReason, Event, EventBody, ScheduleSegment, TimestampMs,
};

use crate::adherence::{default_rule, Allowed, Plan, Planned};
use crate::config::{AllowedEntry, Params};
use crate::dedup::Dedup;
use crate::intern::{slot, AgentId, CodeId, DenseId, Interner, QueueId};
use crate::plausible::{self, TimeRejection};
use crate::rolling::RollingWindow;
use crate::sums::{AgentSums, AgentTime, QueueSums};
use crate::time::{for_each_piece, interval_mut, IntervalClock, IntervalCursor, IntervalStart};

mod handling;
mod kpi;

/// The sums of one interval.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Bucket {
    /// Call sums by queue.
    pub queues: Vec<QueueSums>,
    /// Agent time by queue, summed over the queue's members at each moment.
    pub queue_time: Vec<AgentTime>,
    /// Agent time of the whole tenant (every agent once).
    pub tenant_time: AgentTime,
    /// Per agent.
    pub agents: Vec<AgentSums>,
    /// Per agent: hold time and transfers (the scorecard's). Outside the
    /// serde state: snapshotted as its own section (`Engine::to_bytes`).
    #[serde(skip)]
    pub handling: Vec<crate::handling::AgentHandling>,
}

/// A call's visit to a queue, keyed by a hash of the call id and the queue.
type SegmentKey = (u64, QueueId);

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Segment {
    queued_ts: Option<TimestampMs>,
    open: bool,
    /// When the segment started (if open) or ended.
    ts: TimestampMs,
}

/// What an agent is doing now, and what is planned for it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AgentLive {
    /// Current state (from the latest `agent_state`).
    pub state: AgentState,
    /// Not-ready reason code of the current state, if any.
    pub reason: Option<CodeId>,
    /// The call named by the latest `agent_state` (empty: none). A reused
    /// buffer, so a state change does not allocate.
    pub call: String,
    /// When the current state began (`None`: never seen an `agent_state`).
    pub since: Option<TimestampMs>,
    /// Time has been accounted up to here.
    pub accrued_to: TimestampMs,
    /// Queues the agent is a member of (from `agent_queues`).
    pub queues: Vec<QueueId>,
    /// The agent's schedule.
    pub plan: Plan,
    /// Start of the current out-of-adherence stretch as of `accrued_to`
    /// (see [`Plan::carry_stretch`]).
    pub out_since: Option<TimestampMs>,
}

impl AgentLive {
    /// Since when the agent has been out of adherence at `now` (`None`: in
    /// adherence, or nothing planned at `now`). `now` is at or after
    /// `accrued_to`.
    #[must_use]
    pub fn out_of_adherence_since(&self, now: TimestampMs) -> Option<TimestampMs> {
        let from = self.accrued_to.max(self.since.unwrap_or(TimestampMs::MIN));
        self.plan.carry_stretch(
            self.out_since,
            from,
            now.saturating_add(1),
            self.state,
            self.reason,
        )
    }
}

impl Default for AgentLive {
    fn default() -> Self {
        AgentLive {
            state: AgentState::LoggedOut,
            reason: None,
            call: String::new(),
            since: None,
            accrued_to: TimestampMs::MIN,
            queues: Vec::new(),
            plan: Plan::default(),
            out_since: None,
        }
    }
}

/// How one event was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// It changed the sums or the live state.
    Counted,
    /// Same tenant and id as an earlier event: dropped.
    Duplicate,
    /// An `agent_state` older than the agent's latest: ignored for time.
    OutOfOrderState,
    /// An outcome for a queue segment that had already ended: ignored.
    SegmentAlreadyEnded,
    /// Its time is not accepted (`events.md`, "Event time limits"): not
    /// applied at all, "now" does not move.
    TimeRejected(TimeRejection),
    /// A heartbeat: counted nowhere, not deduplicated, time unchanged.
    Heartbeat,
    /// A floor message, kept by [`crate::Engine`]'s message boards (a
    /// tenant's engine ignores it): counted nowhere, time unchanged.
    FloorMessage(crate::messages::MessageOutcome),
    /// A forecast, held by the tenant's forecast book (`events.md`,
    /// "Forecasts"): counted nowhere, time unchanged.
    Forecast(crate::forecast::ForecastOutcome),
}

/// Counters of what the engine did with its input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineStats {
    /// Events applied: time accepted and not a duplicate (heartbeats excluded).
    pub applied: u64,
    /// Events dropped as duplicates (same tenant and id).
    pub duplicates: u64,
    /// `agent_state` events older than the agent's latest, ignored for time.
    pub out_of_order_states: u64,
    /// Outcomes for a queue segment that had already ended, ignored.
    pub ignored_outcomes: u64,
    /// Waiting segments dropped because nothing ended them within a day.
    pub stale_waiting_dropped: u64,
    /// Events whose time was not accepted.
    #[serde(default)]
    pub time_rejected: u64,
    /// Call events applied to the totals only: their interval is older than
    /// the history kept (`history_days` before the newest event).
    #[serde(default)]
    pub beyond_retention: u64,
    /// Intervals dropped from the history because they fell out of it.
    #[serde(default)]
    pub intervals_expired: u64,
}

/// How long a segment may wait before it is presumed lost.
const MAX_WAIT_MS: i64 = 24 * 3_600_000;

/// The engine of one tenant. Its state serializes for durable snapshots;
/// the parameters are not part of it (they come from the configuration, and
/// [`TenantEngine::rebind`] checks that a snapshot was made under the same).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TenantEngine {
    name: Box<str>,
    /// What the sums were computed under (see [`Params::fingerprint`]).
    fingerprint: String,
    #[serde(skip)]
    params: Arc<Params>,
    #[serde(skip)]
    clock: IntervalClock,
    #[serde(skip)]
    cursor: IntervalCursor,
    queue_names: Interner<QueueId>,
    agent_names: Interner<AgentId>,
    codes: Interner<CodeId>,
    buckets: BTreeMap<IntervalStart, Bucket>,
    /// Everything since the engine started, never dropped: the monotonic
    /// counters of `/metrics` (agent time as of each agent's last change).
    totals: Bucket,
    segments: HashMap<SegmentKey, Segment>,
    /// Per queue: waiting segments by start.
    waiting: Vec<BTreeSet<(TimestampMs, u64)>>,
    /// Per queue: the rolling window of call sums.
    rolling: Vec<RollingWindow>,
    agents: Vec<AgentLive>,
    dedup: Dedup,
    stats: EngineStats,
    max_ts: Option<TimestampMs>,
    /// Ended segments by the time they ended, oldest first, to forget them
    /// after the dedup window without scanning the whole map. (A repeated
    /// outcome older than that is late for the pipeline anyway.)
    expiry: VecDeque<(TimestampMs, SegmentKey)>,
    /// When waiting segments were last checked for being lost.
    stale_checked: TimestampMs,
    /// Reused buffer for schedule events.
    #[serde(skip)]
    planned_buf: Vec<Planned>,
    /// CSAT, QA and repeat contacts: snapshotted apart, after the engine's
    /// own state, so snapshots without it still load (`Engine::to_bytes`).
    #[serde(skip)]
    quality: crate::quality::QualityState,
    /// The newest forecast per queue and interval. Outside the serde
    /// state: [`crate::Engine::to_bytes`] appends it after the engine, so
    /// snapshots without it still load.
    #[serde(skip)]
    forecasts: crate::forecast::ForecastBook,
}

/// A snapshot that cannot be used with the current configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tenant {tenant:?}: snapshot was made with other metric settings ({snapshot}), now {now}")]
pub struct ParamsChanged {
    /// Tenant of the snapshot.
    pub tenant: String,
    /// Fingerprint of the metric settings the snapshot was made with.
    pub snapshot: String,
    /// Fingerprint of the current metric settings.
    pub now: String,
}

impl TenantEngine {
    /// An empty engine for tenant `name` with `params`.
    #[must_use]
    pub fn new(name: &str, params: Arc<Params>) -> Self {
        TenantEngine {
            name: name.into(),
            fingerprint: params.fingerprint(),
            clock: IntervalClock::new(params.tz, params.interval_minutes),
            cursor: IntervalCursor::default(),
            dedup: Dedup::new(params.dedup_window_ms),
            params,
            queue_names: Interner::default(),
            agent_names: Interner::default(),
            codes: Interner::default(),
            buckets: BTreeMap::new(),
            totals: Bucket::default(),
            segments: HashMap::new(),
            waiting: Vec::new(),
            rolling: Vec::new(),
            agents: Vec::new(),
            stats: EngineStats::default(),
            max_ts: None,
            expiry: VecDeque::new(),
            stale_checked: TimestampMs::MIN,
            planned_buf: Vec::new(),
            quality: crate::quality::QualityState::default(),
            forecasts: crate::forecast::ForecastBook::default(),
        }
    }

    /// Attaches the parameters to an engine restored from a snapshot.
    pub fn rebind(&mut self, params: Arc<Params>) -> Result<(), ParamsChanged> {
        let now = params.fingerprint();
        if now != self.fingerprint {
            return Err(ParamsChanged {
                tenant: self.name.to_string(),
                snapshot: self.fingerprint.clone(),
                now,
            });
        }
        self.clock = IntervalClock::new(params.tz, params.interval_minutes);
        self.cursor = IntervalCursor::default();
        self.params = params;
        Ok(())
    }

    /// Tenant name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Metric parameters in force.
    #[must_use]
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Interval clock of the tenant's zone and interval length.
    #[must_use]
    pub fn clock(&self) -> &IntervalClock {
        &self.clock
    }

    /// Counters of what the engine did with its input so far.
    #[must_use]
    pub fn stats(&self) -> EngineStats {
        self.stats
    }

    /// See [`crate::Engine::prefetch`].
    pub fn prefetch_id(&self, id: &str) {
        self.dedup.prefetch(xxh3_64(id.as_bytes()));
    }

    /// The largest `ts` of the events taken so far.
    #[must_use]
    pub fn max_ts(&self) -> Option<TimestampMs> {
        self.max_ts
    }

    /// Queue names by id.
    #[must_use]
    pub fn queue_names(&self) -> &Interner<QueueId> {
        &self.queue_names
    }

    /// Agent names by id.
    #[must_use]
    pub fn agent_names(&self) -> &Interner<AgentId> {
        &self.agent_names
    }

    /// Reason and activity codes by id.
    #[must_use]
    pub fn codes(&self) -> &Interner<CodeId> {
        &self.codes
    }

    /// Interval buckets kept, by interval start.
    #[must_use]
    pub fn buckets(&self) -> &BTreeMap<IntervalStart, Bucket> {
        &self.buckets
    }

    /// Sums since the engine started (restored with its snapshots).
    #[must_use]
    pub fn totals(&self) -> &Bucket {
        &self.totals
    }

    /// Live state of agent `id`.
    #[must_use]
    pub fn agent(&self, id: AgentId) -> &AgentLive {
        &self.agents[id.index()]
    }

    /// Every agent's live state, by id.
    #[must_use]
    pub fn agents(&self) -> &[AgentLive] {
        &self.agents
    }

    /// The rolling window of queue `q` summed at `now`.
    #[must_use]
    pub fn rolling_sums(&self, q: QueueId, now: TimestampMs) -> QueueSums {
        self.rolling
            .get(q.index())
            .map(|r| r.sum_at(now))
            .unwrap_or_default()
    }

    /// Waiting segments of a queue, oldest first (start time, call hash).
    pub fn waiting(&self, q: QueueId) -> impl Iterator<Item = TimestampMs> + '_ {
        self.waiting
            .get(q.index())
            .into_iter()
            .flat_map(|w| w.iter().map(|&(ts, _)| ts))
    }

    /// Segments of queue `q` waiting now.
    pub fn waiting_count(&self, q: QueueId) -> usize {
        self.waiting.get(q.index()).map_or(0, BTreeSet::len)
    }

    /// Applies one event of this tenant.
    pub fn apply(&mut self, e: &Event<'_>) -> Applied {
        match e.body {
            EventBody::Heartbeat { .. } => return Applied::Heartbeat,
            EventBody::FloorMessage(_) => {
                return Applied::FloorMessage(crate::messages::MessageOutcome::NotActive)
            }
            EventBody::Forecast(ref f) => return Applied::Forecast(self.apply_forecast(f, e.ts)),
            _ => {}
        }
        if let Err(refused) = self.admit(e) {
            return refused;
        }
        self.stats.applied += 1;
        self.max_ts = Some(self.max_ts.map_or(e.ts, |m| m.max(e.ts)));
        self.expire_segments();
        let outcome = self.apply_body(e);
        self.expire_kpi();
        match outcome {
            Applied::OutOfOrderState => self.stats.out_of_order_states += 1,
            Applied::SegmentAlreadyEnded => self.stats.ignored_outcomes += 1,
            _ => {}
        }
        outcome
    }

    /// Refuses (and counts) an event whose time is implausible or whose id
    /// was seen before.
    fn admit(&mut self, e: &Event<'_>) -> Result<(), Applied> {
        // Before the dedup check: a far time must not even rotate its window.
        let trust = self.stats.applied;
        if let Err(r) = plausible::check(e.ts, self.max_ts, trust, self.params.max_ahead_ms) {
            self.stats.time_rejected += 1;
            return Err(Applied::TimeRejected(r));
        }
        if !self.dedup.first_sighting(xxh3_64(e.id.as_bytes()), e.ts) {
            self.stats.duplicates += 1;
            return Err(Applied::Duplicate);
        }
        Ok(())
    }

    /// Applies an admitted event's body to the sums and the open state.
    ///
    /// A table: one arm per kind, each handing the kind's fields to the
    /// kind's own method (keep new arms to one call).
    fn apply_body(&mut self, e: &Event<'_>) -> Applied {
        let ts = e.ts;
        match &e.body {
            EventBody::CallQueued {
                call,
                queue,
                caller,
                ..
            } => self.queued_with_caller(call, queue, caller.as_deref(), ts),
            EventBody::CallAnswered {
                call,
                queue,
                wait_ms,
                ..
            } => self.call_ended(call, queue, ts, *wait_ms, Outcome::Answered),
            EventBody::CallAbandoned {
                call,
                queue,
                wait_ms,
            } => self.call_ended(call, queue, ts, *wait_ms, Outcome::Abandoned),
            EventBody::CallDequeued {
                call,
                queue,
                reason,
                wait_ms,
            } => self.call_ended(call, queue, ts, *wait_ms, Outcome::Dequeued(*reason)),
            EventBody::CallBlocked { queue, reason, .. } => self.call_blocked(queue, *reason, ts),
            EventBody::CallCompleted {
                call,
                queue,
                agent,
                talk_ms,
                hold_ms,
                acw_ms,
                transferred,
            } => {
                let h = Handled::new(*talk_ms, *hold_ms, *acw_ms, *transferred);
                self.call_completed(call, queue, agent, ts, h)
            }
            EventBody::AgentState {
                agent,
                state,
                reason,
                call,
            } => self.agent_state_event(agent, ts, *state, reason.as_deref(), call.as_deref()),
            EventBody::AgentQueues { agent, queues } => self.agent_queues(agent, queues, ts),
            EventBody::Schedule {
                agent,
                from_ms,
                to_ms,
                segments,
            } => self.schedule(agent, ts, *from_ms, *to_ms, segments),
            EventBody::SurveyResult(s) => self.survey_result(s, ts),
            EventBody::QualityEvaluation(q) => self.quality_evaluation(q, ts),
            // Returned by `apply` before the duplicate check.
            EventBody::Heartbeat { .. } | EventBody::FloorMessage(_) | EventBody::Forecast(_) => {
                Applied::Heartbeat
            }
        }
    }

    /// A blocked call: not a segment, counted in its interval, nothing waits.
    fn call_blocked(&mut self, queue: &str, reason: BlockedReason, ts: TimestampMs) -> Applied {
        let q = self.queue(queue);
        self.update_queue(q, ts, |qs, _| qs.count_blocked(reason));
        Applied::Counted
    }

    /// A handled call: its times in the queue's and the agent's sums, and
    /// its caller's repeat-contact window.
    fn call_completed(
        &mut self,
        call: &str,
        queue: &str,
        agent: &str,
        ts: TimestampMs,
        h: Handled,
    ) -> Applied {
        let q = self.queue(queue);
        let a = self.agent_id(agent);
        let tr = u64::from(h.transferred);
        self.update_queue(q, ts, |qs, _| {
            qs.handled += 1;
            qs.talk_ms += h.talk_ms;
            qs.hold_ms += h.hold_ms;
            qs.acw_ms += h.acw_ms;
            qs.transferred += tr;
        });
        let start = self.cursor.locate(&self.clock, ts).0;
        if let Some(b) = self.retained_bucket(start) {
            let ag = slot(&mut b.agents, a);
            ag.handled += 1;
            ag.talk_ms += h.talk_ms;
            ag.acw_ms += h.acw_ms;
            let hd = slot(&mut b.handling, a);
            hd.hold_ms += h.hold_ms;
            hd.transferred += tr;
        }
        self.handled_call(call, q, a, ts);
        Applied::Counted
    }

    /// A queued call, and its caller's contact for repeat detection.
    fn queued_with_caller(
        &mut self,
        call: &str,
        queue: &str,
        caller: Option<&str>,
        ts: TimestampMs,
    ) -> Applied {
        let applied = self.call_queued(call, queue, ts);
        self.caller_contact(call, caller, ts);
        applied
    }

    /// An `agent_state` event: interns the names, then [`Self::agent_state`].
    fn agent_state_event(
        &mut self,
        agent: &str,
        ts: TimestampMs,
        state: AgentState,
        reason: Option<&str>,
        call: Option<&str>,
    ) -> Applied {
        let a = self.agent_id(agent);
        let reason = reason.map(|r| self.codes.intern(r));
        self.agent_state(a, ts, state, reason, call)
    }

    /// An `agent_queues` event: the agent's memberships from now on.
    fn agent_queues<Q: AsRef<str>>(
        &mut self,
        agent: &str,
        queues: &[Q],
        ts: TimestampMs,
    ) -> Applied {
        let a = self.agent_id(agent);
        self.accrue_agent(a, ts);
        let mut ids = std::mem::take(&mut self.agents[a.index()].queues);
        ids.clear();
        for q in queues {
            let q = self.queue(q.as_ref());
            if !ids.contains(&q) {
                ids.push(q);
            }
        }
        self.agents[a.index()].queues = ids;
        Applied::Counted
    }

    /// Holds a forecast (`events.md`, "Forecasts"), checked against the
    /// tenant's interval grid and history.
    fn apply_forecast(
        &mut self,
        f: &wallboard_events::Forecast<'_>,
        ts: TimestampMs,
    ) -> crate::forecast::ForecastOutcome {
        let grid = crate::forecast::Grid {
            clock: &self.clock,
            keep_from: self.history_from(TimestampMs::MIN),
        };
        self.forecasts.apply(f, ts, grid)
    }

    /// The forecasts held (`events.md`, "Forecasts").
    #[must_use]
    pub fn forecasts(&self) -> &crate::forecast::ForecastBook {
        &self.forecasts
    }

    /// Replaces the forecasts held (restoring a snapshot).
    pub fn restore_forecasts(&mut self, book: crate::forecast::ForecastBook) {
        self.forecasts = book;
    }

    fn queue(&mut self, name: &str) -> QueueId {
        let q = self.queue_names.intern(name);
        if q.index() == self.rolling.len() {
            self.rolling
                .push(RollingWindow::new(self.params.rolling_window_minutes));
            self.waiting.push(BTreeSet::new());
        }
        q
    }

    fn agent_id(&mut self, name: &str) -> AgentId {
        let a = self.agent_names.intern(name);
        slot(&mut self.agents, a);
        a
    }

    /// Applies `update` to queue `q`'s sums for an event at `ts`: in its
    /// interval and in the rolling window.
    fn update_queue(
        &mut self,
        q: QueueId,
        ts: TimestampMs,
        update: impl Fn(&mut QueueSums, &Params),
    ) {
        let start = self.cursor.locate(&self.clock, ts).0;
        let retained = start.0 >= self.history_from(TimestampMs::MIN);
        let params = &*self.params;
        if retained {
            update(
                slot(&mut interval_mut(&mut self.buckets, start).queues, q),
                params,
            );
        } else {
            self.stats.beyond_retention += 1;
        }
        update(slot(&mut self.totals.queues, q), params);
        let newest = self.max_ts.unwrap_or(ts);
        if let Some(r) = self.rolling[q.index()].bucket(ts, newest) {
            update(r, params);
        }
    }

    /// Where history is kept from: `history_ms` before the newest event (or
    /// `now`, if later). Nothing older gets an interval, so memory is bounded
    /// by the retention whatever the event times.
    #[must_use]
    pub fn history_from(&self, now: TimestampMs) -> TimestampMs {
        self.max_ts
            .map_or(now, |m| m.max(now))
            .saturating_sub(self.params.history_ms)
    }

    /// The bucket of the interval at `start`, unless it is older than the
    /// history kept.
    fn retained_bucket(&mut self, start: IntervalStart) -> Option<&mut Bucket> {
        (start.0 >= self.history_from(TimestampMs::MIN))
            .then(|| interval_mut(&mut self.buckets, start))
    }

    fn call_queued(&mut self, call: &str, queue: &str, ts: TimestampMs) -> Applied {
        let q = self.queue(queue);
        let h = xxh3_64(call.as_bytes());
        self.update_queue(q, ts, |s, _| s.entered += 1);
        let prev = self.segments.insert(
            (h, q),
            Segment {
                queued_ts: Some(ts),
                open: true,
                ts,
            },
        );
        let waiting = &mut self.waiting[q.index()];
        if let Some(Segment {
            open: true, ts: t, ..
        }) = prev
        {
            waiting.remove(&(t, h));
        }
        waiting.insert((ts, h));
        Applied::Counted
    }

    fn call_ended(
        &mut self,
        call: &str,
        queue: &str,
        ts: TimestampMs,
        wait_ms: Option<u64>,
        outcome: Outcome,
    ) -> Applied {
        let q = self.queue(queue);
        let h = xxh3_64(call.as_bytes());
        let queued_ts = match self.segments.get_mut(&(h, q)) {
            Some(seg) if !seg.open => return Applied::SegmentAlreadyEnded,
            Some(seg) => {
                self.waiting[q.index()].remove(&(seg.ts, h));
                seg.open = false;
                seg.ts = ts;
                seg.queued_ts
            }
            None => {
                self.segments.insert(
                    (h, q),
                    Segment {
                        queued_ts: None,
                        open: false,
                        ts,
                    },
                );
                None
            }
        };
        self.expiry.push_back((ts, (h, q)));
        let wait = wait_ms.or_else(|| queued_ts.map(|t0| u64::try_from(ts - t0).unwrap_or(0)));
        let short_ms = u64::from(self.params.short_abandon_s_for(queue)) * 1000;
        self.update_queue(q, ts, |qs, params| match (outcome, wait) {
            (Outcome::Dequeued(reason), _) => qs.count_dequeued(reason),
            (Outcome::Answered | Outcome::Abandoned, None) => qs.wait_unknown += 1,
            (Outcome::Answered, Some(w)) => {
                qs.answered += 1;
                qs.answer_wait_ms += w;
                qs.note_wait(w);
                for (i, &t) in params.thresholds_s.iter().enumerate() {
                    qs.answered_within[i] += u64::from(w <= u64::from(t) * 1000);
                }
            }
            (Outcome::Abandoned, Some(w)) if w < short_ms => qs.short_abandoned += 1,
            (Outcome::Abandoned, Some(w)) => {
                qs.abandoned += 1;
                qs.abandon_wait_ms += w;
                qs.note_wait(w);
                for (i, &t) in params.thresholds_s.iter().enumerate() {
                    qs.abandoned_within[i] += u64::from(w <= u64::from(t) * 1000);
                }
            }
        });
        Applied::Counted
    }

    fn agent_state(
        &mut self,
        a: AgentId,
        ts: TimestampMs,
        state: AgentState,
        reason: Option<CodeId>,
        call: Option<&str>,
    ) -> Applied {
        if self.agents[a.index()].since.is_some_and(|s| ts < s) {
            return Applied::OutOfOrderState;
        }
        self.accrue_agent(a, ts);
        let ag = &mut self.agents[a.index()];
        // A new state starts a new stretch (carried from `ts` on).
        ag.out_since = None;
        ag.state = state;
        ag.reason = if state == AgentState::NotReady {
            reason
        } else {
            None
        };
        ag.call.clear();
        ag.call.push_str(call.unwrap_or_default());
        ag.since = Some(ts);
        Applied::Counted
    }

    fn schedule(
        &mut self,
        agent: &str,
        ts: TimestampMs,
        from: TimestampMs,
        to: TimestampMs,
        segments: &[ScheduleSegment<'_>],
    ) -> Applied {
        let a = self.agent_id(agent);
        // Time up to the event is accounted against the plan in force then;
        // the new plan applies from here on.
        self.accrue_agent(a, ts);
        let mut planned = std::mem::take(&mut self.planned_buf);
        planned.clear();
        for s in segments {
            let activity = self.codes.intern(&s.activity);
            planned.push(Planned {
                start: s.start_ms,
                end: s.end_ms,
                activity,
                allowed: self.rule_for(&s.activity, activity),
            });
        }
        self.agents[a.index()].plan.replace(from, to, &planned);
        self.planned_buf = planned;
        Applied::Counted
    }

    fn rule_for(&mut self, activity: &str, code: CodeId) -> Allowed {
        let Some(entries) = self.params.adherence.get(activity) else {
            return default_rule(activity, code);
        };
        let mut states = Vec::new();
        let mut reason = None;
        for e in entries {
            match e {
                AllowedEntry::State(s) => states.push(*s),
                AllowedEntry::NotReadyReason(r) => reason = Some(r.clone()),
            }
        }
        let mut allowed = Allowed::states(&states);
        if let Some(r) = reason {
            allowed = allowed.with_not_ready_reason(self.codes.intern(&r));
        }
        allowed
    }

    /// Accounts the agent's time up to `to` (if it is ahead).
    fn accrue_agent(&mut self, a: AgentId, to: TimestampMs) {
        let keep_from = self.history_from(to);
        let ag = &mut self.agents[a.index()];
        if to <= ag.accrued_to {
            return;
        }
        let totals = &mut self.totals;
        // Time before the history kept goes to the totals in one piece.
        let from = ag.accrued_to.max(keep_from.min(to));
        agent_lump(ag, ag.accrued_to, from, |piece| {
            add_piece(totals, a, ag, piece);
        });
        let buckets = &mut self.buckets;
        agent_pieces(
            &self.clock,
            &mut self.cursor,
            ag,
            from,
            to,
            |start, piece| {
                add_piece(interval_mut(buckets, start), a, ag, piece);
                add_piece(totals, a, ag, piece);
            },
        );
        ag.out_since = ag
            .plan
            .carry_stretch(ag.out_since, ag.accrued_to, to, ag.state, ag.reason);
        ag.accrued_to = to;
        ag.plan.forget_before(to);
    }

    /// The interval sums as they stand at `now`: the closed sums plus every
    /// agent's current state and plan accounted up to `now`.
    #[must_use]
    pub fn buckets_at(&self, now: TimestampMs) -> BTreeMap<IntervalStart, Bucket> {
        let now = clamp_ts(now);
        let keep_from = self.history_from(now);
        // Only the history kept before `now`: a "now" far past the data must
        // not add a full history to the intervals already held.
        let first = self.clock.interval_of(keep_from);
        let mut buckets: BTreeMap<IntervalStart, Bucket> = self
            .buckets
            .range(first..)
            .map(|(k, b)| (*k, b.clone()))
            .collect();
        let mut cursor = self.cursor.clone();
        for (i, ag) in self.agents.iter().enumerate() {
            if now > ag.accrued_to {
                accrue(
                    &self.clock,
                    &mut cursor,
                    &mut buckets,
                    AgentId::from_index(i),
                    ag,
                    ag.accrued_to.max(keep_from),
                    now,
                );
            }
        }
        buckets
    }

    /// Forgets segments that ended longer than the dedup window ago (a
    /// repeated outcome after that counts as one with an unknown wait), and,
    /// once per interval, presumes lost the calls that have waited a day.
    fn expire_segments(&mut self) {
        let Some(now) = self.max_ts else {
            return;
        };
        let horizon = now.saturating_sub(self.params.dedup_window_ms);
        while let Some(&(ts, key)) = self.expiry.front() {
            if ts >= horizon {
                break;
            }
            self.expiry.pop_front();
            // The segment may have started again since: then it stays.
            if self
                .segments
                .get(&key)
                .is_some_and(|s| !s.open && s.ts == ts)
            {
                self.segments.remove(&key);
            }
        }
        if now < self.stale_checked.saturating_add(self.clock.len_ms()) {
            return;
        }
        self.stale_checked = now;
        // Interval history older than the retention is dropped.
        let keep_from = IntervalStart(now.saturating_sub(self.params.history_ms));
        if self
            .buckets
            .first_key_value()
            .is_some_and(|(k, _)| *k < keep_from)
        {
            let kept = self.buckets.split_off(&keep_from);
            self.stats.intervals_expired += (self.buckets.len()) as u64;
            self.buckets = kept;
        }
        let lost = now - MAX_WAIT_MS;
        for (q, waiting) in self.waiting.iter_mut().enumerate() {
            while let Some(&(ts, h)) = waiting.first() {
                if ts >= lost {
                    break;
                }
                waiting.pop_first();
                self.segments.remove(&(h, QueueId::from_index(q)));
                self.stats.stale_waiting_dropped += 1;
            }
        }
    }
}

/// `t` moved into the times events may have, so interval arithmetic on a
/// caller's "now" (`replay --until`) cannot overflow.
#[must_use]
pub fn clamp_ts(t: TimestampMs) -> TimestampMs {
    t.clamp(0, wallboard_events::event::TS_LIMIT_MS - 1)
}

/// The times of a handled call (`call_completed`).
#[derive(Debug, Clone, Copy)]
struct Handled {
    talk_ms: u64,
    hold_ms: u64,
    acw_ms: u64,
    transferred: bool,
}

impl Handled {
    fn new(talk_ms: u64, hold_ms: u64, acw_ms: u64, transferred: bool) -> Self {
        Self {
            talk_ms,
            hold_ms,
            acw_ms,
            transferred,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Answered,
    Abandoned,
    Dequeued(DequeueReason),
}

/// A stretch of one agent's time inside one interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    /// `ms` spent in a state.
    State(AgentState, u64),
    /// `ms` of scheduled time, in adherence or not, scheduled as work or not.
    Planned {
        /// Scheduled milliseconds.
        ms: u64,
        /// Whether the state was allowed by the activity.
        adherent: bool,
        /// Whether the activity is work (counts for conformance).
        work: bool,
    },
}

impl AgentTime {
    /// Adds one piece of time to the sums it belongs to.
    pub fn add_piece(&mut self, p: Piece) {
        match p {
            Piece::State(state, ms) => self.add_state(state, ms),
            Piece::Planned { ms, adherent, work } => self.add_scheduled(ms, adherent, work),
        }
    }
}

/// Cuts `[from, to)` of an agent, in its current state and plan, into
/// pieces per interval.
pub fn agent_pieces(
    clock: &IntervalClock,
    cursor: &mut IntervalCursor,
    ag: &AgentLive,
    from: TimestampMs,
    to: TimestampMs,
    mut f: impl FnMut(IntervalStart, Piece),
) {
    if ag.state.is_staffed() {
        // An agent seen for the first time has no earlier state time.
        let from = from.max(ag.since.unwrap_or(to));
        for_each_piece(clock, cursor, from, to, |start, ms| {
            f(start, Piece::State(ag.state, piece_ms(ms)));
        });
    }
    for p in ag.plan.overlapping(from, to) {
        let adherent = p.allowed.allows(ag.state, ag.reason);
        let work = p.allowed.is_work();
        for_each_piece(clock, cursor, p.start, p.end, |start, ms| {
            f(
                start,
                Piece::Planned {
                    ms: piece_ms(ms),
                    adherent,
                    work,
                },
            );
        });
    }
}

/// The length of a piece of time cut by [`for_each_piece`] or from a
/// non-empty `[from, to)`: always positive.
fn piece_ms(ms: i64) -> u64 {
    u64::try_from(ms).expect("pieces are cut only from non-empty ranges")
}

/// The pieces of `[from, to)` of an agent, in its current state and plan,
/// without cutting them into intervals (for the totals only).
fn agent_lump(ag: &AgentLive, from: TimestampMs, to: TimestampMs, mut f: impl FnMut(Piece)) {
    if from >= to {
        return;
    }
    if ag.state.is_staffed() {
        let from = from.max(ag.since.unwrap_or(to));
        if from < to {
            f(Piece::State(ag.state, piece_ms(to - from)));
        }
    }
    for p in ag.plan.overlapping(from, to) {
        f(Piece::Planned {
            // Parsed segments end after they start; one that does not
            // (built by hand) plans no time.
            ms: u64::try_from(p.end - p.start).unwrap_or(0),
            adherent: p.allowed.allows(ag.state, ag.reason),
            work: p.allowed.is_work(),
        });
    }
}

/// Accounts `[from, to)` of agent `a` into `buckets`: its own sums, the
/// tenant's, and those of every queue it is a member of.
fn accrue(
    clock: &IntervalClock,
    cursor: &mut IntervalCursor,
    buckets: &mut BTreeMap<IntervalStart, Bucket>,
    a: AgentId,
    ag: &AgentLive,
    from: TimestampMs,
    to: TimestampMs,
) {
    agent_pieces(clock, cursor, ag, from, to, |start, piece| {
        add_piece(interval_mut(buckets, start), a, ag, piece);
    });
}

/// Adds a piece of agent `a`'s time to `b`: its own sums, the tenant's, and
/// those of every queue it is a member of.
fn add_piece(b: &mut Bucket, a: AgentId, ag: &AgentLive, piece: Piece) {
    slot(&mut b.agents, a).time.add_piece(piece);
    b.tenant_time.add_piece(piece);
    for &q in &ag.queues {
        slot(&mut b.queue_time, q).add_piece(piece);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallboard_events::parse_event_str;

    fn apply(t: &mut TenantEngine, lines: &[&str]) -> Vec<Applied> {
        lines
            .iter()
            .map(|l| t.apply(&parse_event_str(l).unwrap()))
            .collect()
    }

    #[test]
    fn segments_are_forgotten_a_day_after_they_end() {
        let params = Params::default();
        let window = params.dedup_window_ms;
        let mut t = TenantEngine::new("t", Arc::new(params));
        let got = apply(
            &mut t,
            &[
                r#"{"v":1,"id":"1","ts":0,"kind":"call_queued","call":"c","queue":"q"}"#,
                r#"{"v":1,"id":"2","ts":1000,"kind":"call_queued","call":"w","queue":"q"}"#,
                r#"{"v":1,"id":"3","ts":5000,"kind":"call_abandoned","call":"c","queue":"q"}"#,
                r#"{"v":1,"id":"4","ts":6000,"kind":"call_abandoned","call":"c","queue":"q"}"#,
            ],
        );
        assert_eq!(got[3], Applied::SegmentAlreadyEnded);
        assert_eq!(t.waiting_count(QueueId(0)), 1);
        let later = format!(
            r#"{{"v":1,"id":"5","ts":{},"kind":"call_abandoned","call":"c","queue":"q"}}"#,
            window + 5001
        );
        // After the dedup window the ended segment is forgotten; the waiting
        // call is still waiting.
        assert_eq!(apply(&mut t, &[&later]), vec![Applied::Counted]);
        assert_eq!(t.waiting_count(QueueId(0)), 1);
        // After a day, the call that never left the queue is presumed lost.
        let day = format!(
            r#"{{"v":1,"id":"6","ts":{},"kind":"agent_state","agent":"a","state":"available"}}"#,
            MAX_WAIT_MS + 1001
        );
        apply(&mut t, &[&day]);
        assert_eq!(t.waiting_count(QueueId(0)), 0);
        assert_eq!(t.stats().stale_waiting_dropped, 1);
        assert!(t.segments.len() <= 1);
    }

    #[test]
    fn a_queue_may_have_its_own_short_abandon_threshold() {
        let mut params = Params::default();
        params.short_abandon_by_queue.insert("q1".into(), 5);
        let mut t = TenantEngine::new("t", Arc::new(params));
        let abandon = |id: u32, queue: &str| {
            format!(
                r#"{{"v":1,"id":"{id}","ts":9000,"kind":"call_abandoned","call":"c{id}","queue":"{queue}","wait_ms":3000}}"#
            )
        };
        apply(&mut t, &[&abandon(1, "q1"), &abandon(2, "q2")]);
        let b = t.buckets().values().next().unwrap();
        let q = |name| &b.queues[t.queue_names().get(name).unwrap().index()];
        assert_eq!((q("q1").short_abandoned, q("q1").abandoned), (1, 0));
        assert_eq!((q("q2").short_abandoned, q("q2").abandoned), (0, 1));
    }

    #[test]
    fn interval_history_is_kept_for_its_retention_only() {
        let params = Params::default();
        let keep = params.history_ms;
        let mut t = TenantEngine::new("t", Arc::new(params));
        let at = |id: u32, ts: i64| {
            format!(
                r#"{{"v":1,"id":"{id}","ts":{ts},"kind":"call_queued","call":"c{id}","queue":"q"}}"#
            )
        };
        apply(&mut t, &[&at(1, 0), &at(2, keep - 1)]);
        assert_eq!(t.buckets().len(), 2);
        apply(&mut t, &[&at(3, keep + 3_600_000)]);
        let starts: Vec<i64> = t.buckets().keys().map(|k| k.0).collect();
        assert!(
            starts.iter().all(|&s| s > 0),
            "the oldest interval is gone: {starts:?}"
        );
        assert_eq!(starts.len(), 2);
    }
}
