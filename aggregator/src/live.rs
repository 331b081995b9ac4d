//! The wallboard's "now" (`metrics.md`, "Real-time values"): per queue the
//! calls waiting, the oldest wait, member agents by state, and the current
//! interval, rolling window and today so far; per agent its state, since
//! when, its call and its adherence. Built from the engine without copying
//! its interval store.

use std::collections::BTreeMap;

use serde::Serialize;

use ingest::{AgentState, TimestampMs};

use crate::freshness::Freshness;
use crate::intern::{DenseId, QueueId};
use crate::report::{sl_by_threshold, QueueRow, RowInterval, SlVariants};
use crate::sums::{AgentTime, QueueSums};
use crate::tenant::{agent_pieces, TenantEngine};
use crate::time::IntervalStart;

/// The whole tenant's live view at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveSnapshot {
    pub tenant: String,
    /// IANA time zone of the centre (times on the wallboard are shown in it).
    pub tz: String,
    pub now_ms: TimestampMs,
    pub interval_start_ms: TimestampMs,
    pub interval_end_ms: TimestampMs,
    pub day_start_ms: TimestampMs,
    pub rolling_window_minutes: u32,
    pub sl_thresholds_s: Vec<u32>,
    /// `*` (the whole tenant) first, then queues by name.
    pub queues: Vec<QueueLive>,
    /// Agents by name.
    pub agents: Vec<AgentLiveRow>,
    /// How fresh the data is (`metrics.md`, "Freshness"): attached by the
    /// partition writer, which reads the wall clock; `None` from the engine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freshness: Option<Freshness>,
    /// Ranges whose numbers may miss events (`metrics.md`, "The interval
    /// report", `incomplete`): attached by the partition writer; absent
    /// when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<crate::IncompleteInterval>,
}

/// Member agents of a queue (or all agents) by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AgentsByState {
    pub logged_out: u32,
    pub available: u32,
    pub ringing: u32,
    pub on_call: u32,
    pub acw: u32,
    pub not_ready: u32,
}

impl AgentsByState {
    fn count(&mut self, s: AgentState) {
        *match s {
            AgentState::LoggedOut => &mut self.logged_out,
            AgentState::Available => &mut self.available,
            AgentState::Ringing => &mut self.ringing,
            AgentState::OnCall => &mut self.on_call,
            AgentState::Acw => &mut self.acw,
            AgentState::NotReady => &mut self.not_ready,
        } += 1;
    }

    /// Signed-in agents.
    pub fn staffed(&self) -> u32 {
        self.available + self.ringing + self.on_call + self.acw + self.not_ready
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueLive {
    pub queue: String,
    pub waiting: u64,
    pub oldest_wait_ms: Option<u64>,
    pub agents: AgentsByState,
    /// The current interval so far.
    pub interval: QueueRow,
    /// The last `rolling_window_minutes` (call metrics only).
    pub rolling: QueueRow,
    /// Today so far (local day).
    pub today: QueueRow,
    /// Service level per interval of today, oldest first.
    pub intraday: Vec<IntradayPoint>,
}

/// One interval of the intraday strip.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntradayPoint {
    pub start_ms: TimestampMs,
    pub offered: u64,
    /// Abandoned calls of the interval (as `abandoned` in metrics.md).
    pub abandoned: u64,
    pub sl: BTreeMap<String, SlVariants>,
}

impl IntradayPoint {
    fn new(start: TimestampMs, q: &QueueSums, thresholds: &[u32]) -> Self {
        IntradayPoint {
            start_ms: start,
            offered: q.offered(),
            abandoned: q.abandoned,
            sl: sl_by_threshold(thresholds, q),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentLiveRow {
    pub agent: String,
    pub state: &'static str,
    pub reason: Option<String>,
    /// When the current state began (null: never signed in).
    pub since_ms: Option<TimestampMs>,
    pub call: Option<String>,
    pub queues: Vec<String>,
    /// The activity planned now, if any.
    pub activity: Option<String>,
    /// Whether the current state is allowed by the planned activity (null:
    /// nothing planned now).
    pub adherent: Option<bool>,
    /// Since when the agent has been out of adherence, if it is.
    pub out_of_adherence_since_ms: Option<TimestampMs>,
}

/// Sums of one queue (or the tenant) over a period.
#[derive(Default, Clone)]
struct Period {
    calls: QueueSums,
    time: AgentTime,
}

/// The live view of `engine` at `now` (no earlier than its latest event).
pub fn live_snapshot(engine: &TenantEngine, now: TimestampMs) -> LiveSnapshot {
    let clock = engine.clock();
    let params = engine.params();
    let interval = clock.interval_of(now);
    let interval_end = clock.interval_end(interval);
    let day_start = clock.day_of(now);
    let nq = engine.queue_names().len();
    // Index nq is the whole tenant.
    let mut today = vec![Period::default(); nq + 1];
    let mut current = vec![Period::default(); nq + 1];

    let mut intraday: Vec<Vec<IntradayPoint>> = vec![Vec::new(); nq + 1];
    for (start, b) in engine.buckets().range(IntervalStart(day_start)..) {
        let is_current = *start == interval;
        let mut all = QueueSums::default();
        let none = QueueSums::default();
        for (i, points) in intraday.iter_mut().enumerate().take(nq) {
            let q = b.queues.get(i).unwrap_or(&none);
            all.add(q);
            points.push(IntradayPoint::new(start.0, q, &params.thresholds_s));
        }
        intraday[nq].push(IntradayPoint::new(start.0, &all, &params.thresholds_s));
        for (i, q) in b.queues.iter().enumerate() {
            today[i].calls.add(q);
            today[nq].calls.add(q);
            if is_current {
                current[i].calls.add(q);
                current[nq].calls.add(q);
            }
        }
        for (i, t) in b.queue_time.iter().enumerate() {
            today[i].time.add(t);
            if is_current {
                current[i].time.add(t);
            }
        }
        today[nq].time.add(&b.tenant_time);
        if is_current {
            current[nq].time.add(&b.tenant_time);
        }
    }

    // Open agent states accrue up to now, without touching the engine.
    let mut cursor = Default::default();
    let mut by_state = vec![AgentsByState::default(); nq + 1];
    for ag in engine.agents() {
        by_state[nq].count(ag.state);
        for q in &ag.queues {
            by_state[q.index()].count(ag.state);
        }
        if now <= ag.accrued_to {
            continue;
        }
        let from = ag.accrued_to.max(day_start);
        agent_pieces(clock, &mut cursor, ag, from, now, |start, piece| {
            let cur = start == interval;
            for i in ag.queues.iter().map(|q| q.index()).chain([nq]) {
                today[i].time.add_piece(piece);
                if cur {
                    current[i].time.add_piece(piece);
                }
            }
        });
    }

    let row = |name: &str, from: TimestampMs, to: TimestampMs, p: &Period| {
        let at = RowInterval {
            start_ms: from,
            end_ms: to,
            start: clock.local_rfc3339(from),
        };
        QueueRow::new(name, &at, &params.thresholds_s, &p.calls, &p.time)
    };
    let rolling_from = now - i64::from(params.rolling_window_minutes) * 60_000;
    let mut order: Vec<(QueueId, &str)> = engine.queue_names().iter().collect();
    order.sort_by(|a, b| a.1.cmp(b.1));

    let mut queues = Vec::with_capacity(nq + 1);
    let mut all_rolling = QueueSums::default();
    let mut all_waiting = 0;
    let mut all_oldest: Option<TimestampMs> = None;
    let mut per_queue = Vec::with_capacity(nq);
    for &(q, name) in &order {
        let rolling = Period {
            calls: engine.rolling_sums(q, now),
            time: AgentTime::default(),
        };
        all_rolling.add(&rolling.calls);
        let waiting = engine.waiting_count(q) as u64;
        let oldest = engine.waiting(q).next();
        all_waiting += waiting;
        all_oldest = match (all_oldest, oldest) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let i = q.index();
        per_queue.push(QueueLive {
            queue: name.to_owned(),
            waiting,
            oldest_wait_ms: oldest.map(|t| (now - t).max(0) as u64),
            agents: by_state[i],
            interval: row(name, interval.0, interval_end, &current[i]),
            rolling: row(name, rolling_from, now, &rolling),
            today: row(name, day_start, now, &today[i]),
            intraday: std::mem::take(&mut intraday[i]),
        });
    }
    let all_rolling = Period {
        calls: all_rolling,
        time: AgentTime::default(),
    };
    queues.push(QueueLive {
        queue: "*".into(),
        waiting: all_waiting,
        oldest_wait_ms: all_oldest.map(|t| (now - t).max(0) as u64),
        agents: by_state[nq],
        interval: row("*", interval.0, interval_end, &current[nq]),
        rolling: row("*", rolling_from, now, &all_rolling),
        today: row("*", day_start, now, &today[nq]),
        intraday: std::mem::take(&mut intraday[nq]),
    });
    queues.extend(per_queue);

    LiveSnapshot {
        tenant: engine.name().to_owned(),
        tz: clock.tz().name().to_owned(),
        now_ms: now,
        interval_start_ms: interval.0,
        interval_end_ms: interval_end,
        day_start_ms: day_start,
        rolling_window_minutes: params.rolling_window_minutes,
        sl_thresholds_s: params.thresholds_s.clone(),
        queues,
        agents: agent_rows(engine, now),
        freshness: None,
        incomplete: Vec::new(),
    }
}

fn agent_rows(engine: &TenantEngine, now: TimestampMs) -> Vec<AgentLiveRow> {
    let mut rows: Vec<AgentLiveRow> = engine
        .agent_names()
        .iter()
        .map(|(id, name)| {
            let ag = engine.agent(id);
            let planned = ag.plan.at(now);
            let adherent = planned.map(|p| p.allowed.allows(ag.state, ag.reason));
            let out_since = match adherent {
                Some(false) => ag.out_of_adherence_since(now),
                _ => None,
            };
            AgentLiveRow {
                agent: name.to_owned(),
                state: ag.state.as_str(),
                reason: ag.reason.map(|r| engine.codes().name(r).to_owned()),
                since_ms: ag.since,
                call: (!ag.call.is_empty()).then(|| ag.call.clone()),
                queues: ag
                    .queues
                    .iter()
                    .map(|&q| engine.queue_names().name(q).to_owned())
                    .collect(),
                activity: planned.map(|p| engine.codes().name(p.activity).to_owned()),
                adherent,
                out_of_adherence_since_ms: out_since,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.agent.cmp(&b.agent));
    rows
}
