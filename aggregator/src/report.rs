//! The interval report of `metrics.md` (schema `wallboard.interval-report.v1`):
//! rows per (queue, interval) and (agent, interval), ratios formed from the
//! sums only here.

use std::collections::BTreeMap;

use serde::Serialize;

use wallboard_events::{BlockedReason, DequeueReason, TimestampMs};

use crate::intern::{AgentId, DenseId, QueueId};
use crate::quality_report::{KpiFields, Pending};
use crate::scope::QueueScope;
use crate::sums::{ratio, AgentSums, AgentTime, QueueSums};
use crate::tenant::{Bucket, TenantEngine};
use crate::time::IntervalStart;

/// Schema tag of the interval report, `metrics.md` "The interval report".
pub const SCHEMA: &str = "wallboard.interval-report.v1";

/// One tenant's interval report (`metrics.md` "The interval report"): queue and agent rows per interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntervalReport {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// Tenant the report is for.
    pub tenant: String,
    /// IANA time zone the intervals are aligned to.
    pub tz: String,
    /// Interval length in minutes (5, 10, 15, 20, 30 or 60).
    pub interval_minutes: u32,
    /// Service-level thresholds in seconds the rows carry `answered_within`, `abandoned_within` and `sl` for.
    pub sl_thresholds_s: Vec<u32>,
    /// Tenant-wide short-abandon threshold in seconds (0: off).
    pub short_abandon_s: u32,
    /// Queues with their own short-abandon threshold (absent when none).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub short_abandon_by_queue_s: BTreeMap<String, u32>,
    /// Per queue (`*`: the tenant), by name: rows that met the queue's goal
    /// (`metrics.md`, "Intraday attainment").
    pub attainment: BTreeMap<String, crate::attainment::Attainment>,
    /// Event-time ranges whose rows may miss events (absent when none:
    /// `metrics.md`, "The interval report").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<IncompleteInterval>,
    /// Rows per (queue, interval), the tenant-wide `*` row first in each interval.
    pub queues: Vec<QueueRow>,
    /// Rows per (agent, interval) where the agent was staffed, scheduled or completed a call.
    pub agents: Vec<AgentRow>,
}

/// Why rows may miss events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncompleteReason {
    /// The state was rebuilt from a log whose first records were deleted.
    LogTruncated,
}

/// A range of event time whose rows may miss events; `None`: unbounded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncompleteInterval {
    /// Start (Unix epoch ms) of the interval holding the newest event before
    /// the gap; `None`: no restored state, everything before `end_ms`.
    pub start_ms: Option<TimestampMs>,
    /// End (Unix epoch ms) of the interval holding the first event after the
    /// gap; `None`: open, no event applied since (`architecture.md`, "Never
    /// silently partial").
    pub end_ms: Option<TimestampMs>,
    /// Why events may be missing.
    pub reason: IncompleteReason,
}

impl IncompleteInterval {
    /// Whether it overlaps the intervals `range` selects.
    #[must_use]
    pub fn overlaps(&self, range: &Range) -> bool {
        let starts_before_end = match (self.start_ms, range.to) {
            (Some(s), Some(to)) => s < to,
            _ => true,
        };
        let ends_after_start = match (self.end_ms, range.from) {
            (Some(e), Some(from)) => e > from,
            _ => true,
        };
        starts_before_end && ends_after_start
    }
}

/// The four service-level variants at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SlVariants {
    /// Variant 1: (answered + abandoned within T) / (answered + abandoned); `None` with no calls.
    pub sl1: Option<f64>,
    /// Variant 2: answered within T / answered; abandons ignored.
    pub sl2: Option<f64>,
    /// Variant 3: answered within T / (answered + abandoned); every abandon missed.
    pub sl3: Option<f64>,
    /// Variant 4: answered within T / (answered + abandoned − abandoned within T).
    pub sl4: Option<f64>,
}

impl SlVariants {
    /// With A answered, B abandoned, and those within the threshold.
    #[must_use]
    pub fn compute(a: u64, b: u64, a_within: u64, b_within: u64) -> Self {
        SlVariants {
            sl1: ratio(a_within + b_within, a + b),
            sl2: ratio(a_within, a),
            sl3: ratio(a_within, a + b),
            sl4: ratio(a_within, a + b - b_within),
        }
    }
}

/// One (queue, interval) row of the report; `metrics.md` "Queue metrics", "Handling metrics", "Agent time metrics" and "Schedule adherence" define every field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueRow {
    /// The queue, or `*` for the whole tenant.
    pub queue: QueueScope,
    /// Interval start, UTC milliseconds since the epoch (inclusive).
    pub start_ms: TimestampMs,
    /// Interval end, UTC milliseconds since the epoch (exclusive).
    pub end_ms: TimestampMs,
    /// Interval's local start in RFC 3339 with a numeric offset.
    pub start: String,
    /// `call_queued` events in the interval (arrivals).
    pub entered: u64,
    /// Answered + abandoned + dequeued + wait-unknown segments (short abandons excluded).
    pub offered: u64,
    /// Segments ended by `call_answered` with a known wait.
    pub answered: u64,
    /// Segments ended by `call_abandoned` with a known wait, not short.
    pub abandoned: u64,
    /// Abandons with a wait under the short-abandon threshold.
    pub short_abandoned: u64,
    /// Segments ended by `call_dequeued`, any reason.
    pub dequeued: u64,
    /// Dequeued segments per reason (the reason's wire name).
    pub dequeued_by_reason: BTreeMap<&'static str, u64>,
    /// Answered or abandoned segments whose wait is unknown.
    pub wait_unknown: u64,
    /// Answered segments with wait ≤ T·1000 ms, keyed by threshold T in seconds.
    pub answered_within: BTreeMap<String, u64>,
    /// Abandoned segments with wait ≤ T·1000 ms, keyed by threshold T in seconds.
    pub abandoned_within: BTreeMap<String, u64>,
    /// The four service-level variants, keyed by threshold T in seconds.
    pub sl: BTreeMap<String, SlVariants>,
    /// Average speed of answer: Σ wait of answered / answered, in milliseconds.
    pub asa_ms: Option<f64>,
    /// Average wait of abandoned segments, in milliseconds.
    pub avg_abandon_ms: Option<f64>,
    /// Longest wait among answered and abandoned segments, in milliseconds.
    pub max_wait_ms: Option<u64>,
    /// Answered / offered.
    pub answer_rate: Option<f64>,
    /// Abandoned / offered.
    pub abandon_rate: Option<f64>,
    /// `call_completed` events for this queue.
    pub handled: u64,
    /// Σ talk time of completed calls in milliseconds (hold included).
    pub talk_ms: u64,
    /// Σ hold time of completed calls in milliseconds.
    pub hold_ms: u64,
    /// Σ after-call work of completed calls in milliseconds.
    pub acw_ms: u64,
    /// Average handling time: (Σ talk + Σ ACW) / handled, in milliseconds.
    pub aht_ms: Option<f64>,
    /// Completed calls that were transferred.
    pub transferred: u64,
    /// Members' time in any state but `logged_out`, milliseconds.
    pub staffed_ms: u64,
    /// Members' time `available`, milliseconds.
    pub available_ms: u64,
    /// Members' time `ringing`, `on_call` or `acw`, milliseconds.
    pub busy_ms: u64,
    /// Members' time `not_ready`, milliseconds.
    pub not_ready_ms: u64,
    /// Busy / (busy + available).
    pub occupancy: Option<f64>,
    /// Busy / staffed.
    pub utilization: Option<f64>,
    /// Members' time covered by schedule segments, milliseconds.
    pub scheduled_ms: u64,
    /// Members' scheduled time spent in a state the activity allows, milliseconds.
    pub adherent_ms: u64,
    /// Adherent / scheduled.
    pub adherence: Option<f64>,
    /// Calls the queue refused: only on rows that have some (`metrics.md`,
    /// "Blocked calls"), so reports without them keep their shape.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<Blocked>,
    /// Repeat contacts, CSAT and QA: each group only on rows that have it
    /// (`metrics.md`, "Repeat contacts and FCR", "CSAT and QA").
    #[serde(flatten)]
    pub kpi: KpiFields,
}

/// `blocked` and `blocked_by_reason` of a queue row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Blocked {
    /// `call_blocked` events of the row: calls the queue refused, not part
    /// of `offered` (`metrics.md`, "Blocked calls").
    pub blocked: u64,
    /// The same by `reason` (`full`, `no_agents`, …); reasons with 0 are
    /// left out.
    pub blocked_by_reason: BTreeMap<&'static str, u64>,
}

impl Blocked {
    /// The blocked calls of `q`, if there are any.
    #[must_use]
    pub fn of(q: &QueueSums) -> Option<Self> {
        (q.blocked > 0).then(|| Blocked {
            blocked: q.blocked,
            blocked_by_reason: BlockedReason::ALL
                .iter()
                .filter(|&&r| q.blocked_for(r) > 0)
                .map(|&r| (r.as_str(), q.blocked_for(r)))
                .collect(),
        })
    }
}

/// One (agent, interval) row of the report; fields as in [`QueueRow`], for one agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentRow {
    /// Agent id.
    pub agent: String,
    /// Interval start, UTC milliseconds since the epoch (inclusive).
    pub start_ms: TimestampMs,
    /// Interval end, UTC milliseconds since the epoch (exclusive).
    pub end_ms: TimestampMs,
    /// Time in any state but `logged_out`, milliseconds.
    pub staffed_ms: u64,
    /// Time `available`, milliseconds.
    pub available_ms: u64,
    /// Time `ringing`, `on_call` or `acw`, milliseconds.
    pub busy_ms: u64,
    /// Time `not_ready`, milliseconds.
    pub not_ready_ms: u64,
    /// Busy / (busy + available).
    pub occupancy: Option<f64>,
    /// Busy / staffed.
    pub utilization: Option<f64>,
    /// `call_completed` events of this agent.
    pub handled: u64,
    /// (Σ talk + Σ ACW) / handled, in milliseconds.
    pub aht_ms: Option<f64>,
    /// Time covered by schedule segments, milliseconds.
    pub scheduled_ms: u64,
    /// Scheduled time spent in a state the activity allows, milliseconds.
    pub adherent_ms: u64,
    /// Adherent / scheduled.
    pub adherence: Option<f64>,
    /// Time `available`/`ringing`/`on_call`/`acw` / time scheduled as work.
    pub conformance: Option<f64>,
    /// Repeat contacts, CSAT and QA of the agent, as on queue rows.
    #[serde(flatten)]
    pub kpi: KpiFields,
}

/// The interval a row belongs to.
#[derive(Debug, Clone)]
pub struct RowInterval {
    /// Start, UTC milliseconds since the epoch (inclusive).
    pub start_ms: TimestampMs,
    /// End, UTC milliseconds since the epoch (exclusive).
    pub end_ms: TimestampMs,
    /// Local start in RFC 3339 with a numeric offset.
    pub start: String,
}

impl QueueRow {
    /// A row from a queue's call sums and its members' time.
    #[must_use]
    pub fn new(
        queue: &QueueScope,
        at: &RowInterval,
        thresholds_s: &[u32],
        q: &QueueSums,
        t: &AgentTime,
    ) -> Self {
        QueueRow {
            queue: queue.clone(),
            start_ms: at.start_ms,
            end_ms: at.end_ms,
            start: at.start.clone(),
            entered: q.entered,
            offered: q.offered(),
            answered: q.answered,
            abandoned: q.abandoned,
            short_abandoned: q.short_abandoned,
            dequeued: q.dequeued,
            dequeued_by_reason: DequeueReason::ALL
                .iter()
                .filter(|&&r| q.dequeued_for(r) > 0)
                .map(|&r| (r.as_str(), q.dequeued_for(r)))
                .collect(),
            wait_unknown: q.wait_unknown,
            answered_within: per_threshold(thresholds_s, &q.answered_within),
            abandoned_within: per_threshold(thresholds_s, &q.abandoned_within),
            sl: sl_by_threshold(thresholds_s, q),
            asa_ms: ratio(q.answer_wait_ms, q.answered),
            avg_abandon_ms: ratio(q.abandon_wait_ms, q.abandoned),
            max_wait_ms: q.max_wait_ms,
            answer_rate: ratio(q.answered, q.offered()),
            abandon_rate: ratio(q.abandoned, q.offered()),
            handled: q.handled,
            talk_ms: q.talk_ms,
            hold_ms: q.hold_ms,
            acw_ms: q.acw_ms,
            aht_ms: ratio(q.talk_ms + q.acw_ms, q.handled),
            transferred: q.transferred,
            staffed_ms: t.staffed_ms,
            available_ms: t.available_ms,
            busy_ms: t.busy_ms,
            not_ready_ms: t.not_ready_ms,
            occupancy: ratio(t.busy_ms, t.busy_ms + t.available_ms),
            utilization: ratio(t.busy_ms, t.staffed_ms),
            scheduled_ms: t.scheduled_ms,
            adherent_ms: t.adherent_ms,
            adherence: ratio(t.adherent_ms, t.scheduled_ms),
            blocked: Blocked::of(q),
            kpi: KpiFields::default(),
        }
    }

    /// Whether `metrics.md` lists this row: something happened in it.
    fn has_data(q: &QueueSums, t: &AgentTime) -> bool {
        q.entered > 0
            || q.offered() > 0
            || q.blocked > 0
            || q.short_abandoned > 0
            || q.handled > 0
            || t.staffed_ms > 0
            || t.scheduled_ms > 0
    }
}

impl AgentRow {
    /// A row from an agent's sums in one interval.
    #[must_use]
    pub fn new(agent: &str, at: &RowInterval, s: &AgentSums) -> Self {
        let t = &s.time;
        AgentRow {
            agent: agent.to_owned(),
            start_ms: at.start_ms,
            end_ms: at.end_ms,
            staffed_ms: t.staffed_ms,
            available_ms: t.available_ms,
            busy_ms: t.busy_ms,
            not_ready_ms: t.not_ready_ms,
            occupancy: ratio(t.busy_ms, t.busy_ms + t.available_ms),
            utilization: ratio(t.busy_ms, t.staffed_ms),
            handled: s.handled,
            aht_ms: ratio(s.talk_ms + s.acw_ms, s.handled),
            scheduled_ms: t.scheduled_ms,
            adherent_ms: t.adherent_ms,
            adherence: ratio(t.adherent_ms, t.scheduled_ms),
            conformance: ratio(t.working_ms(), t.work_scheduled_ms),
            kpi: KpiFields::default(),
        }
    }

    fn has_data(s: &AgentSums) -> bool {
        s.time.staffed_ms > 0 || s.time.scheduled_ms > 0 || s.handled > 0
    }
}

/// Counts per threshold, keyed by the threshold in seconds as a string.
fn per_threshold(thresholds_s: &[u32], counts: &[u64]) -> BTreeMap<String, u64> {
    thresholds_s
        .iter()
        .zip(counts)
        .map(|(t, c)| (t.to_string(), *c))
        .collect()
}

/// The four service-level variants at every threshold.
#[must_use]
pub fn sl_by_threshold(thresholds_s: &[u32], q: &QueueSums) -> BTreeMap<String, SlVariants> {
    thresholds_s
        .iter()
        .enumerate()
        .map(|(i, t)| {
            (
                t.to_string(),
                SlVariants::compute(
                    q.answered,
                    q.abandoned,
                    q.answered_within[i],
                    q.abandoned_within[i],
                ),
            )
        })
        .collect()
}

/// Which intervals a report covers: those starting in `[from, to)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Range {
    /// First interval start included (UTC ms); `None`: from the oldest kept.
    pub from: Option<TimestampMs>,
    /// Interval starts from here on are excluded (UTC ms); `None`: up to the newest.
    pub to: Option<TimestampMs>,
}

impl Range {
    fn contains(&self, start: TimestampMs) -> bool {
        self.from.is_none_or(|f| start >= f) && self.to.is_none_or(|t| start < t)
    }
}

/// The report of `engine` as it stands at `now`.
#[must_use]
pub fn interval_report(engine: &TenantEngine, now: TimestampMs, range: Range) -> IntervalReport {
    let now = crate::tenant::clamp_ts(now);
    let params = engine.params();
    let clock = engine.clock();
    let buckets = engine.buckets_at(now);
    let mut queues = Vec::new();
    let mut agents = Vec::new();
    // Rows sort by queue (or agent) name within an interval.
    let mut queue_order: Vec<(QueueId, &str)> = engine.queue_names().iter().collect();
    queue_order.sort_by(|a, b| a.1.cmp(b.1));
    let mut agent_order: Vec<(AgentId, &str)> = engine.agent_names().iter().collect();
    agent_order.sort_by(|a, b| a.1.cmp(b.1));
    // Never a row for an interval outside the history kept.
    let history_from = engine.history_from(now);
    let rows = buckets.range(IntervalStart(history_from)..);
    let pending = Pending::at(engine, now);
    let no_kpi = crate::quality::QualityBucket::default();
    for (start, b) in rows.filter(|(s, _)| range.contains(s.0)) {
        let at = row_interval(engine, *start);
        let kpi = engine.quality().buckets.get(start).unwrap_or(&no_kpi);
        let total = tenant_sums(b);
        let (total_kpi, total_pending) = (kpi.tenant(), pending.tenant(*start));
        if QueueRow::has_data(&total, &b.tenant_time) || !total_kpi.is_empty() {
            let mut row = QueueRow::new(
                &QueueScope::All,
                &at,
                &params.thresholds_s,
                &total,
                &b.tenant_time,
            );
            row.kpi = KpiFields::of(&total_kpi, total_pending);
            queues.push(row);
        }
        for &(q, name) in &queue_order {
            let sums = b.queues.get(q.index()).cloned().unwrap_or_default();
            let time = b.queue_time.get(q.index()).copied().unwrap_or_default();
            let q_kpi = kpi.queue(q);
            if QueueRow::has_data(&sums, &time) || !q_kpi.is_empty() {
                let mut row = QueueRow::new(
                    &QueueScope::from(name),
                    &at,
                    &params.thresholds_s,
                    &sums,
                    &time,
                );
                row.kpi = KpiFields::of(&q_kpi, pending.queue(*start, q));
                queues.push(row);
            }
        }
        for &(a, name) in &agent_order {
            let a_kpi = kpi.agent(a);
            let s = b.agents.get(a.index()).copied().unwrap_or_default();
            if AgentRow::has_data(&s) || !a_kpi.is_empty() {
                let mut row = AgentRow::new(name, &at, &s);
                row.kpi = KpiFields::of(&a_kpi, pending.agent(*start, a));
                agents.push(row);
            }
        }
    }
    IntervalReport {
        schema: SCHEMA,
        tenant: engine.name().to_owned(),
        tz: clock.tz().name().to_owned(),
        interval_minutes: params.interval_minutes,
        sl_thresholds_s: params.thresholds_s.clone(),
        short_abandon_s: params.short_abandon_s,
        short_abandon_by_queue_s: params.short_abandon_by_queue.clone(),
        attainment: crate::attainment::of_report(&queues, &params.goals, now),
        incomplete: Vec::new(),
        queues,
        agents,
    }
}

/// The whole tenant's call sums in one interval: the sum over its queues.
#[must_use]
pub fn tenant_sums(b: &Bucket) -> QueueSums {
    let mut total = QueueSums::default();
    for q in &b.queues {
        total.add(q);
    }
    total
}

fn row_interval(engine: &TenantEngine, start: IntervalStart) -> RowInterval {
    let clock = engine.clock();
    RowInterval {
        start_ms: start.0,
        end_ms: clock.interval_end(start),
        start: clock.local_rfc3339(start.0),
    }
}
