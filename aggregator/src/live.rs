//! The wallboard's "now" (`metrics.md`, "Real-time values"): per queue the
//! calls waiting, the oldest wait, member agents by state, and the current
//! interval, rolling window and today so far; per agent its state, since
//! when, its call and its adherence. Built from the engine without copying
//! its interval store.

use std::collections::BTreeMap;

use serde::Serialize;

use wallboard_events::{AgentState, TimestampMs};

use crate::attainment::{Attainment, IntervalSl};
use crate::freshness::Freshness;
use crate::intern::{DenseId, QueueId};
use crate::quality_report::Whose;
use crate::report::{sl_by_threshold, QueueRow, RowInterval, SlVariants};
use crate::scope::QueueScope;
use crate::staffing_live::{QueueStaffing, StaffingInputs};
use crate::sums::{AgentTime, QueueSums};
use crate::tenant::{agent_pieces, TenantEngine};
use crate::time::{IntervalCursor, IntervalStart};

/// The whole tenant's live view at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveSnapshot {
    /// Tenant the snapshot is of.
    pub tenant: String,
    /// IANA time zone of the centre (times on the wallboard are shown in it).
    pub tz: String,
    /// The engine's "now" the snapshot is taken at, UTC milliseconds.
    pub now_ms: TimestampMs,
    /// Start of the interval containing now, UTC ms.
    pub interval_start_ms: TimestampMs,
    /// End of the interval containing now, UTC ms (exclusive).
    pub interval_end_ms: TimestampMs,
    /// Local midnight that starts today in the tenant's zone, UTC ms.
    pub day_start_ms: TimestampMs,
    /// Length of the rolling window, minutes.
    pub rolling_window_minutes: u32,
    /// Service-level thresholds in seconds the rows carry.
    pub sl_thresholds_s: Vec<u32>,
    /// `*` (the whole tenant) first, then queues by name.
    pub queues: Vec<QueueLive>,
    /// Agents by name.
    pub agents: Vec<AgentLiveRow>,
    /// How fresh the data is (`metrics.md`, "Freshness"): attached by the
    /// partition writer, which reads the wall clock; `None` from the engine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freshness: Option<Freshness>,
    /// Active floor messages (`metrics.md`, "Floor messages"): attached by
    /// the partition writer at its wall clock; empty from the engine.
    pub messages: Vec<crate::messages::ActiveMessage>,
    /// Ranges whose numbers may miss events (`metrics.md`, "The interval
    /// report", `incomplete`): attached by the partition writer; absent
    /// when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<crate::IncompleteInterval>,
}

/// Member agents of a queue (or all agents) by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AgentsByState {
    /// Agents `logged_out`.
    pub logged_out: u32,
    /// Agents `available`.
    pub available: u32,
    /// Agents `ringing`.
    pub ringing: u32,
    /// Agents `on_call`.
    pub on_call: u32,
    /// Agents in after-call work.
    pub acw: u32,
    /// Agents `not_ready`.
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
    #[must_use]
    pub fn staffed(&self) -> u32 {
        self.available + self.ringing + self.on_call + self.acw + self.not_ready
    }
}

/// Live values of one queue, or of the whole tenant (`*`), per `metrics.md` "Real-time values".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueLive {
    /// The queue, or `*` for the whole tenant.
    pub queue: QueueScope,
    /// Segments started and not ended.
    pub waiting: u64,
    /// Now − start of the oldest waiting segment, milliseconds; `None` when none waits.
    pub oldest_wait_ms: Option<u64>,
    /// Member agents by state.
    pub agents: AgentsByState,
    /// The current interval so far.
    pub interval: QueueRow,
    /// The last `rolling_window_minutes` (call metrics only).
    pub rolling: QueueRow,
    /// Today so far (local day).
    pub today: QueueRow,
    /// Service level per interval of today, oldest first.
    pub intraday: Vec<IntradayPoint>,
    /// Agents needed for the goal now, and what is staffed
    /// (`metrics.md`, "Live staffing").
    pub staffing: QueueStaffing,
    /// Today's intervals that met the goal (`metrics.md`, "Intraday
    /// attainment").
    pub attainment: Attainment,
    /// Repeat contacts of the last day whose outcome is known (`metrics.md`,
    /// "Real-time values"); absent without eligible calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fcr_known: Option<crate::quality_report::RepeatFields>,
    /// The plan against today so far (`metrics.md`, "Forecast vs
    /// actual"); absent when the queue has no forecast today.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forecast: Option<crate::forecast_view::LiveForecast>,
}

/// One interval of the intraday strip.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntradayPoint {
    /// Interval start, UTC ms.
    pub start_ms: TimestampMs,
    /// Offered calls of the interval (as `offered` in metrics.md).
    pub offered: u64,
    /// Abandoned calls of the interval (as `abandoned` in metrics.md).
    pub abandoned: u64,
    /// The four service-level variants, keyed by threshold in seconds.
    pub sl: BTreeMap<String, SlVariants>,
    /// The interval's forecast calls, when it has a forecast (`metrics.md`,
    /// "Forecast vs actual").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forecast_calls: Option<f64>,
}

impl IntradayPoint {
    fn new(start: TimestampMs, q: &QueueSums, thresholds: &[u32]) -> Self {
        IntradayPoint {
            start_ms: start,
            offered: q.offered(),
            abandoned: q.abandoned,
            sl: sl_by_threshold(thresholds, q),
            forecast_calls: None,
        }
    }
}

/// Live state of one agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentLiveRow {
    /// Agent id.
    pub agent: String,
    /// Current state's wire name (`available`, `on_call`, …).
    pub state: &'static str,
    /// Not-ready reason of the current state, if any.
    pub reason: Option<String>,
    /// When the current state began (null: never signed in).
    pub since_ms: Option<TimestampMs>,
    /// Call named by the agent's latest `agent_state`, if any.
    pub call: Option<String>,
    /// Queues the agent is a member of.
    pub queues: Vec<String>,
    /// The activity planned now, if any.
    pub activity: Option<String>,
    /// Whether the current state is allowed by the planned activity (null:
    /// nothing planned now).
    pub adherent: Option<bool>,
    /// Since when the agent has been out of adherence, if it is.
    pub out_of_adherence_since_ms: Option<TimestampMs>,
    /// Today's CSAT, QA and repeat contacts (`metrics.md`, "Agent
    /// scorecard"); absent without surveys, evaluations or eligible calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub today: Option<crate::scorecard::AgentToday>,
}

/// Sums of one queue (or the tenant) over a period.
#[derive(Default, Clone)]
struct Period {
    calls: QueueSums,
    time: AgentTime,
}

/// Today's and the current interval's sums and the intraday points, per
/// queue index, the whole tenant at index `nq`.
struct Day {
    today: Vec<Period>,
    current: Vec<Period>,
    intraday: Vec<Vec<IntradayPoint>>,
}

/// Where in time the live view stands.
struct Moment {
    now: TimestampMs,
    interval: IntervalStart,
    interval_end: TimestampMs,
    day_start: TimestampMs,
}

/// The live view of `engine` at `now` (no earlier than its latest event).
#[must_use]
pub fn live_snapshot(engine: &TenantEngine, now: TimestampMs) -> LiveSnapshot {
    let clock = engine.clock();
    let params = engine.params();
    let interval = clock.interval_of(now);
    let at = Moment {
        now,
        interval,
        interval_end: clock.interval_end(interval),
        day_start: clock.day_of(now),
    };
    let mut day = sum_day(engine, &at);
    let by_state = accrue_open_states(engine, &at, &mut day);
    LiveSnapshot {
        tenant: engine.name().to_owned(),
        tz: clock.tz().name().to_owned(),
        now_ms: now,
        interval_start_ms: interval.0,
        interval_end_ms: at.interval_end,
        day_start_ms: at.day_start,
        rolling_window_minutes: params.rolling_window_minutes,
        sl_thresholds_s: params.thresholds_s.clone(),
        queues: queue_rows(engine, &at, day, &by_state),
        agents: agent_rows(engine, now, at.day_start),
        freshness: None,
        messages: Vec::new(),
        incomplete: Vec::new(),
    }
}

/// Sums today's intervals from the engine's store, without copying it.
fn sum_day(engine: &TenantEngine, at: &Moment) -> Day {
    let thresholds = &engine.params().thresholds_s;
    let nq = engine.queue_names().len();
    let mut day = Day {
        today: vec![Period::default(); nq + 1],
        current: vec![Period::default(); nq + 1],
        intraday: vec![Vec::new(); nq + 1],
    };
    for (start, b) in engine.buckets().range(IntervalStart(at.day_start)..) {
        let is_current = *start == at.interval;
        let mut all = QueueSums::default();
        let none = QueueSums::default();
        for (i, points) in day.intraday.iter_mut().enumerate().take(nq) {
            let q = b.queues.get(i).unwrap_or(&none);
            all.add(q);
            points.push(IntradayPoint::new(start.0, q, thresholds));
        }
        day.intraday[nq].push(IntradayPoint::new(start.0, &all, thresholds));
        for (i, q) in b.queues.iter().enumerate() {
            for p in [Some(&mut day.today), is_current.then_some(&mut day.current)]
                .into_iter()
                .flatten()
            {
                p[i].calls.add(q);
                p[nq].calls.add(q);
            }
        }
        for (i, t) in b.queue_time.iter().enumerate() {
            day.today[i].time.add(t);
            if is_current {
                day.current[i].time.add(t);
            }
        }
        day.today[nq].time.add(&b.tenant_time);
        if is_current {
            day.current[nq].time.add(&b.tenant_time);
        }
    }
    day
}

/// Counts the agents by state and accrues their open states up to now,
/// without touching the engine.
fn accrue_open_states(engine: &TenantEngine, at: &Moment, day: &mut Day) -> Vec<AgentsByState> {
    let clock = engine.clock();
    let nq = engine.queue_names().len();
    let mut cursor = IntervalCursor::default();
    let mut by_state = vec![AgentsByState::default(); nq + 1];
    for ag in engine.agents() {
        by_state[nq].count(ag.state);
        for q in &ag.queues {
            by_state[q.index()].count(ag.state);
        }
        if at.now <= ag.accrued_to {
            continue;
        }
        let from = ag.accrued_to.max(at.day_start);
        agent_pieces(clock, &mut cursor, ag, from, at.now, |start, piece| {
            let cur = start == at.interval;
            for i in ag.queues.iter().map(|q| q.index()).chain([nq]) {
                day.today[i].time.add_piece(piece);
                if cur {
                    day.current[i].time.add_piece(piece);
                }
            }
        });
    }
    by_state
}

/// What one queue's (or the tenant's) live row is built from.
struct QueueParts {
    waiting: u64,
    oldest: Option<TimestampMs>,
    agents: AgentsByState,
    rolling: Period,
}

/// `*` first, then the queues by name.
fn queue_rows(
    engine: &TenantEngine,
    at: &Moment,
    mut day: Day,
    by_state: &[AgentsByState],
) -> Vec<QueueLive> {
    let nq = engine.queue_names().len();
    let mut order: Vec<(QueueId, &str)> = engine.queue_names().iter().collect();
    order.sort_by(|a, b| a.1.cmp(b.1));
    let mut all = QueueParts {
        waiting: 0,
        oldest: None,
        agents: by_state[nq],
        rolling: Period::default(),
    };
    let mut per_queue = Vec::with_capacity(nq);
    for &(q, name) in &order {
        let parts = QueueParts {
            waiting: engine.waiting_count(q) as u64,
            oldest: engine.waiting(q).next(),
            agents: by_state[q.index()],
            rolling: Period {
                calls: engine.rolling_sums(q, at.now),
                time: AgentTime::default(),
            },
        };
        all.rolling.calls.add(&parts.rolling.calls);
        all.waiting += parts.waiting;
        all.oldest = match (all.oldest, parts.oldest) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        per_queue.push(queue_live(
            engine,
            at,
            &QueueScope::from(name),
            &parts,
            &mut day,
            q.index(),
        ));
    }
    let mut queues = Vec::with_capacity(nq + 1);
    queues.push(queue_live(engine, at, &QueueScope::All, &all, &mut day, nq));
    queues.extend(per_queue);
    queues
}

/// One queue's live row, with its staffing and attainment.
fn queue_live(
    engine: &TenantEngine,
    at: &Moment,
    scope: &QueueScope,
    parts: &QueueParts,
    day: &mut Day,
    i: usize,
) -> QueueLive {
    let clock = engine.clock();
    let params = engine.params();
    let row = |from: TimestampMs, to: TimestampMs, p: &Period| {
        let interval = RowInterval {
            start_ms: from,
            end_ms: to,
            start: clock.local_rfc3339(from),
        };
        QueueRow::new(scope, &interval, &params.thresholds_s, &p.calls, &p.time)
    };
    let rolling_from = at.now - i64::from(params.rolling_window_minutes) * 60_000;
    let rolling = row(rolling_from, at.now, &parts.rolling);
    let mut today = row(at.day_start, at.now, &day.today[i]);
    let whose = if i < engine.queue_names().len() {
        Whose::Queue(QueueId::from_index(i))
    } else {
        Whose::Tenant
    };
    today.kpi = crate::quality_report::live_today(engine, whose, at.day_start, at.now);
    let mut intraday = std::mem::take(&mut day.intraday[i]);
    let book = engine.forecasts();
    if !book.is_empty() {
        for p in &mut intraday {
            p.forecast_calls = book.plan(scope.as_str(), p.start_ms).map(|plan| plan.calls);
        }
    }
    let goal = params.goals.of(scope.as_str());
    let staffing = QueueStaffing::derive(&StaffingInputs {
        goal,
        window_minutes: params.rolling_window_minutes,
        rolling: &rolling,
        today: &today,
        agents: &parts.agents,
    });
    let closed = intraday.iter().map(|p| IntervalSl {
        end_ms: clock.interval_end(IntervalStart(p.start_ms)),
        sl: &p.sl,
    });
    let attainment = Attainment::of(goal, closed, at.now, &today.sl);
    let interval = row(at.interval.0, at.interval_end, &day.current[i]);
    let forecast = crate::forecast_view::live(
        book,
        scope.as_str(),
        &crate::forecast_view::LiveMoment {
            now: at.now,
            interval_start: at.interval.0,
            interval_end: at.interval_end,
            day_start: at.day_start,
            day_end: clock.day_of(at.day_start + 30 * 3_600_000),
        },
        &interval,
        &today,
    );
    QueueLive {
        queue: scope.clone(),
        waiting: parts.waiting,
        // An oldest call queued after now (a clock skew) waits 0 ms.
        oldest_wait_ms: parts.oldest.map(|t| u64::try_from(at.now - t).unwrap_or(0)),
        agents: parts.agents,
        interval,
        rolling,
        today,
        intraday,
        staffing,
        attainment,
        fcr_known: crate::quality_report::fcr_known(engine, whose, at.now),
        forecast,
    }
}

fn agent_rows(
    engine: &TenantEngine,
    now: TimestampMs,
    day_start: TimestampMs,
) -> Vec<AgentLiveRow> {
    let today = crate::scorecard::agents_today(engine, day_start, now);
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
                today: today.get(id.index()).copied().flatten(),
            }
        })
        .collect();
    rows.sort_by(|a, b| a.agent.cmp(&b.agent));
    rows
}
