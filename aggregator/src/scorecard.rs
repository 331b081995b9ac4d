//! The agent scorecard of `metrics.md` (schema
//! `wallboard.agent-scorecard.v1`): per agent, its sums over a period
//! (today, or the last 7 local days), the ratios formed once from them, the
//! team's median of each ratio and flags where an agent is far from it.
//! Computed on request, not on the event path.

use std::collections::BTreeMap;

use serde::Serialize;

use wallboard_events::TimestampMs;

use crate::handling::AgentHandling;
use crate::intern::{AgentId, DenseId};
use crate::quality::QualitySums;
use crate::sums::{ratio, AgentSums};
use crate::tenant::TenantEngine;
use crate::time::IntervalStart;

/// Schema tag of the scorecard.
pub const SCHEMA: &str = "wallboard.agent-scorecard.v1";

/// The fewest calls, surveys, evaluations or eligible calls a value needs
/// before it is flagged.
pub const MIN_SAMPLE: u64 = 5;

/// The least time (ms) occupancy's or adherence's denominator needs before
/// it is flagged: an hour.
pub const MIN_TIME_SAMPLE_MS: u64 = 3_600_000;

const DAY_MS: TimestampMs = 86_400_000;

/// Which days a scorecard covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// The tenant's local day so far.
    Today,
    /// The last 7 local days, today included.
    Week,
}

impl Period {
    /// The period of a query parameter's value.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "today" => Some(Period::Today),
            "week" => Some(Period::Week),
            _ => None,
        }
    }

    /// Its wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Today => "today",
            Period::Week => "week",
        }
    }

    /// The local midnight the period starts at, for `now` on `clock`.
    fn start(self, clock: &crate::time::IntervalClock, now: TimestampMs) -> TimestampMs {
        let today = clock.day_of(now);
        match self {
            Period::Today => today,
            // Noon six days back is inside that local day whatever DST does.
            Period::Week => clock.day_of(today - 6 * DAY_MS + DAY_MS / 2),
        }
    }
}

/// Why no scorecard can be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScorecardError {
    /// `?queue=` names no queue of the tenant.
    #[error("queue {0:?} is not a queue of this tenant")]
    UnknownQueue(String),
}

/// One agent's sums over the period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScoreSums {
    /// Calls, talk and ACW and the agent's time.
    pub agent: AgentSums,
    /// Hold and transfers.
    pub handling: AgentHandling,
    /// Surveys, evaluations and repeat contacts.
    pub quality: QualitySums,
    /// Eligible calls still pending at now.
    pub repeat_pending: u64,
}

impl ScoreSums {
    /// Whether the agent has anything in the period.
    #[must_use]
    pub fn has_data(&self) -> bool {
        let t = &self.agent.time;
        t.staffed_ms > 0 || t.scheduled_ms > 0 || self.agent.handled > 0 || !self.quality.is_empty()
    }
}

/// The ratios of a scorecard row (and of the team median).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Ratios {
    /// (Σ talk + Σ ACW) / handled, ms.
    pub aht_ms: Option<f64>,
    /// (Σ talk − Σ hold) / handled, ms.
    pub avg_talk_ms: Option<f64>,
    /// Σ hold / handled, ms.
    pub avg_hold_ms: Option<f64>,
    /// Σ ACW / handled, ms.
    pub avg_acw_ms: Option<f64>,
    /// Transferred / handled.
    pub transfer_rate: Option<f64>,
    /// Busy / (busy + available).
    pub occupancy: Option<f64>,
    /// Adherent / scheduled.
    pub adherence: Option<f64>,
    /// Top box / surveys.
    pub csat: Option<f64>,
    /// Mean normalised survey score, 0–100.
    pub csat_mean: Option<f64>,
    /// Mean evaluation score, 0–100.
    pub qa_score: Option<f64>,
    /// Repeat contacts / eligible; `None` while any is pending.
    pub repeat_rate: Option<f64>,
}

impl Ratios {
    /// The ratios of `s`, each formed once from the period's sums.
    #[must_use]
    pub fn of(s: &ScoreSums) -> Self {
        let a = &s.agent;
        let (t, q) = (&a.time, &s.quality);
        Ratios {
            aht_ms: ratio(a.talk_ms + a.acw_ms, a.handled),
            avg_talk_ms: ratio(a.talk_ms.saturating_sub(s.handling.hold_ms), a.handled),
            avg_hold_ms: ratio(s.handling.hold_ms, a.handled),
            avg_acw_ms: ratio(a.acw_ms, a.handled),
            transfer_rate: ratio(s.handling.transferred, a.handled),
            occupancy: ratio(t.busy_ms, t.busy_ms + t.available_ms),
            adherence: ratio(t.adherent_ms, t.scheduled_ms),
            csat: ratio(q.csat_top_box, q.surveys),
            csat_mean: ratio(q.csat_score_micros, q.surveys).map(|m| m / 1e6),
            qa_score: ratio(q.qa_score_sum, q.qa_evaluations),
            repeat_rate: if s.repeat_pending > 0 {
                None
            } else {
                ratio(q.repeat_contacts, q.repeat_eligible)
            },
        }
    }
}

/// One agent's row: its sums and ratios (`metrics.md`, "Agent scorecard").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentMetrics {
    /// Completed calls.
    pub handled: u64,
    /// Σ talk (hold included), ms.
    pub talk_ms: u64,
    /// Σ hold, ms.
    pub hold_ms: u64,
    /// Σ after-call work, ms.
    pub acw_ms: u64,
    /// Completed calls that were transferred.
    pub transferred: u64,
    /// Time busy, ms.
    pub busy_ms: u64,
    /// Time available, ms.
    pub available_ms: u64,
    /// Time scheduled, ms.
    pub scheduled_ms: u64,
    /// Scheduled time in an allowed state, ms.
    pub adherent_ms: u64,
    /// Survey answers.
    pub surveys: u64,
    /// Of them, top box.
    pub csat_top_box: u64,
    /// Quality evaluations.
    pub qa_evaluations: u64,
    /// Handled calls with a caller.
    pub repeat_eligible: u64,
    /// Of them, repeat contacts so far.
    pub repeat_contacts: u64,
    /// Of them, still pending at now.
    pub repeat_pending: u64,
    /// The ratios.
    #[serde(flatten)]
    pub ratios: Ratios,
}

impl AgentMetrics {
    /// The row of sums `s`.
    #[must_use]
    pub fn of(s: &ScoreSums) -> Self {
        let (a, q) = (&s.agent, &s.quality);
        AgentMetrics {
            handled: a.handled,
            talk_ms: a.talk_ms,
            hold_ms: s.handling.hold_ms,
            acw_ms: a.acw_ms,
            transferred: s.handling.transferred,
            busy_ms: a.time.busy_ms,
            available_ms: a.time.available_ms,
            scheduled_ms: a.time.scheduled_ms,
            adherent_ms: a.time.adherent_ms,
            surveys: q.surveys,
            csat_top_box: q.csat_top_box,
            qa_evaluations: q.qa_evaluations,
            repeat_eligible: q.repeat_eligible,
            repeat_contacts: q.repeat_contacts,
            repeat_pending: s.repeat_pending,
            ratios: Ratios::of(s),
        }
    }
}

/// Which side of the median is bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BadSide {
    High,
    Low,
    Both,
}

/// A flag: the value is too high or too low.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// Above the median by more than p %.
    High,
    /// Below the median by more than p %.
    Low,
}

/// The flaggable ratios, in column order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// `aht_ms`.
    Aht,
    /// `avg_talk_ms`.
    Talk,
    /// `avg_hold_ms`.
    Hold,
    /// `avg_acw_ms`.
    Acw,
    /// `transfer_rate`.
    TransferRate,
    /// `occupancy`.
    Occupancy,
    /// `adherence`.
    Adherence,
    /// `csat`.
    Csat,
    /// `csat_mean`.
    CsatMean,
    /// `qa_score`.
    Qa,
    /// `repeat_rate`.
    RepeatRate,
}

impl Metric {
    /// Every ratio, in the order of the CSV columns.
    pub const ALL: [Metric; 11] = [
        Metric::Aht,
        Metric::Talk,
        Metric::Hold,
        Metric::Acw,
        Metric::TransferRate,
        Metric::Occupancy,
        Metric::Adherence,
        Metric::Csat,
        Metric::CsatMean,
        Metric::Qa,
        Metric::RepeatRate,
    ];

    /// The field's name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Metric::Aht => "aht_ms",
            Metric::Talk => "avg_talk_ms",
            Metric::Hold => "avg_hold_ms",
            Metric::Acw => "avg_acw_ms",
            Metric::TransferRate => "transfer_rate",
            Metric::Occupancy => "occupancy",
            Metric::Adherence => "adherence",
            Metric::Csat => "csat",
            Metric::CsatMean => "csat_mean",
            Metric::Qa => "qa_score",
            Metric::RepeatRate => "repeat_rate",
        }
    }

    /// Its value in `r`.
    #[must_use]
    pub fn get(self, r: &Ratios) -> Option<f64> {
        match self {
            Metric::Aht => r.aht_ms,
            Metric::Talk => r.avg_talk_ms,
            Metric::Hold => r.avg_hold_ms,
            Metric::Acw => r.avg_acw_ms,
            Metric::TransferRate => r.transfer_rate,
            Metric::Occupancy => r.occupancy,
            Metric::Adherence => r.adherence,
            Metric::Csat => r.csat,
            Metric::CsatMean => r.csat_mean,
            Metric::Qa => r.qa_score,
            Metric::RepeatRate => r.repeat_rate,
        }
    }

    fn set(self, r: &mut Ratios, v: Option<f64>) {
        *match self {
            Metric::Aht => &mut r.aht_ms,
            Metric::Talk => &mut r.avg_talk_ms,
            Metric::Hold => &mut r.avg_hold_ms,
            Metric::Acw => &mut r.avg_acw_ms,
            Metric::TransferRate => &mut r.transfer_rate,
            Metric::Occupancy => &mut r.occupancy,
            Metric::Adherence => &mut r.adherence,
            Metric::Csat => &mut r.csat,
            Metric::CsatMean => &mut r.csat_mean,
            Metric::Qa => &mut r.qa_score,
            Metric::RepeatRate => &mut r.repeat_rate,
        } = v;
    }

    fn bad_side(self) -> BadSide {
        match self {
            Metric::Aht
            | Metric::Talk
            | Metric::Hold
            | Metric::Acw
            | Metric::TransferRate
            | Metric::RepeatRate => BadSide::High,
            Metric::Occupancy => BadSide::Both,
            Metric::Adherence | Metric::Csat | Metric::CsatMean | Metric::Qa => BadSide::Low,
        }
    }

    /// Whether `m`'s sample is large enough to flag this metric.
    fn enough(self, m: &AgentMetrics) -> bool {
        match self {
            Metric::Aht | Metric::Talk | Metric::Hold | Metric::Acw | Metric::TransferRate => {
                m.handled >= MIN_SAMPLE
            }
            Metric::Occupancy => m.busy_ms + m.available_ms >= MIN_TIME_SAMPLE_MS,
            Metric::Adherence => m.scheduled_ms >= MIN_TIME_SAMPLE_MS,
            Metric::Csat | Metric::CsatMean => m.surveys >= MIN_SAMPLE,
            Metric::Qa => m.qa_evaluations >= MIN_SAMPLE,
            Metric::RepeatRate => m.repeat_eligible >= MIN_SAMPLE,
        }
    }

    /// The flag of value `v` against median `median` at `pct` percent.
    #[must_use]
    pub fn flag(self, v: f64, median: f64, pct: u32) -> Option<Flag> {
        let p = f64::from(pct) / 100.0;
        let side = self.bad_side();
        if side != BadSide::Low && v > median * (1.0 + p) {
            return Some(Flag::High);
        }
        if side != BadSide::High && v < median * (1.0 - p) {
            return Some(Flag::Low);
        }
        None
    }
}

/// The team's median per field (`metrics.md`, "Agent scorecard").
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct TeamMedian {
    /// Median of `handled` over every listed agent.
    pub handled: Option<f64>,
    /// Median of each ratio over the agents that have one.
    #[serde(flatten)]
    pub ratios: Ratios,
}

/// One agent of the scorecard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentScore {
    /// Agent id.
    pub agent: String,
    /// Sums and ratios.
    #[serde(flatten)]
    pub metrics: AgentMetrics,
    /// Flagged fields by name.
    pub flags: BTreeMap<&'static str, Flag>,
}

/// A tenant's agent scorecard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// Tenant.
    pub tenant: String,
    /// IANA zone the days are local to.
    pub tz: String,
    /// Which days.
    pub period: Period,
    /// The queue whose members are listed, if one was asked for.
    pub queue: Option<String>,
    /// The period's start (a local midnight), UTC ms.
    pub start_ms: TimestampMs,
    /// Now, UTC ms.
    pub end_ms: TimestampMs,
    /// Start of the first interval summed (later than `start_ms` when the
    /// history kept is shorter than the period).
    pub covered_from_ms: TimestampMs,
    /// Whether the history kept is shorter than the period.
    pub truncated: bool,
    /// p of the flags, percent.
    pub flag_pct: u32,
    /// The fewest calls, surveys, evaluations or eligible calls to flag.
    pub min_sample: u64,
    /// The team's median per field.
    pub team_median: TeamMedian,
    /// The agents, by id.
    pub agents: Vec<AgentScore>,
}

/// The median of `values` (order does not matter): the middle one, or the
/// mean of the two middle ones; `None` when empty.
#[must_use]
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some(f64::midpoint(values[n / 2 - 1], values[n / 2])),
    }
}

/// The team median of `rows`.
#[must_use]
pub fn team_median(rows: &[AgentMetrics]) -> TeamMedian {
    let mut ratios = Ratios::default();
    for m in Metric::ALL {
        let values = rows.iter().filter_map(|r| m.get(&r.ratios)).collect();
        m.set(&mut ratios, median(values));
    }
    TeamMedian {
        handled: median(rows.iter().map(|r| r.handled as f64).collect()),
        ratios,
    }
}

/// The flags of `row` against `team` at `pct` percent.
#[must_use]
pub fn flags(row: &AgentMetrics, team: &TeamMedian, pct: u32) -> BTreeMap<&'static str, Flag> {
    Metric::ALL
        .iter()
        .filter(|m| m.enough(row))
        .filter_map(|&m| {
            let (v, med) = (m.get(&row.ratios)?, m.get(&team.ratios)?);
            m.flag(v, med, pct).map(|f| (m.name(), f))
        })
        .collect()
}

/// Where the period's sums start: its start, or the first interval of the
/// history kept when that is later.
fn covered_from(engine: &TenantEngine, start: TimestampMs, now: TimestampMs) -> TimestampMs {
    let history = engine.history_from(now);
    if history <= start {
        return start;
    }
    let clock = engine.clock();
    let i = clock.interval_of(history);
    if i.0 < history {
        clock.interval_end(i)
    } else {
        i.0
    }
}

/// Every agent's sums over the intervals starting in `[from, now]`, by
/// agent id.
#[must_use]
pub fn sums_by_agent(engine: &TenantEngine, from: TimestampMs, now: TimestampMs) -> Vec<ScoreSums> {
    let mut sums = vec![ScoreSums::default(); engine.agent_names().len()];
    let range = IntervalStart(from)..=IntervalStart(now);
    for (_, b) in engine.buckets_at(now).range(range.clone()) {
        for (s, a) in sums.iter_mut().zip(&b.agents) {
            s.agent.add(a);
        }
        for (s, h) in sums.iter_mut().zip(&b.handling) {
            s.handling.add(h);
        }
    }
    for (_, b) in engine.quality().buckets.range(range) {
        for (s, q) in sums.iter_mut().zip(&b.agents) {
            s.quality.add(q);
        }
    }
    let window = engine.params().repeat_window_ms;
    for p in engine.quality().repeat.pending_at(now, window) {
        if p.interval.0 >= from && p.interval.0 <= now {
            if let Some(s) = sums.get_mut(p.agent.index()) {
                s.repeat_pending += 1;
            }
        }
    }
    sums
}

/// The scorecard of `engine` for `period` as it stands at `now`; with
/// `queue`, of the queue's members at now.
pub fn scorecard(
    engine: &TenantEngine,
    now: TimestampMs,
    period: Period,
    queue: Option<&str>,
) -> Result<Scorecard, ScorecardError> {
    let now = crate::tenant::clamp_ts(now);
    let member_of = match queue {
        Some(name) => Some(
            (engine.queue_names().get(name))
                .ok_or_else(|| ScorecardError::UnknownQueue(name.to_owned()))?,
        ),
        None => None,
    };
    let start = period.start(engine.clock(), now);
    let from = covered_from(engine, start, now);
    let sums = sums_by_agent(engine, from, now);
    let mut listed: Vec<(&str, AgentMetrics)> = sums
        .iter()
        .enumerate()
        .map(|(i, s)| (AgentId::from_index(i), s))
        .filter(|(_, s)| s.has_data())
        .filter(|(a, _)| member_of.is_none_or(|q| engine.agent(*a).queues.contains(&q)))
        .map(|(a, s)| (engine.agent_names().name(a), AgentMetrics::of(s)))
        .collect();
    listed.sort_by(|a, b| a.0.cmp(b.0));
    let rows: Vec<AgentMetrics> = listed.iter().map(|(_, m)| m.clone()).collect();
    let team = team_median(&rows);
    let pct = engine.params().scorecard_flag_pct;
    let agents = listed
        .into_iter()
        .map(|(name, metrics)| AgentScore {
            agent: name.to_owned(),
            flags: flags(&metrics, &team, pct),
            metrics,
        })
        .collect();
    Ok(Scorecard {
        schema: SCHEMA,
        tenant: engine.name().to_owned(),
        tz: engine.clock().tz().name().to_owned(),
        period,
        queue: queue.map(str::to_owned),
        start_ms: start,
        end_ms: now,
        covered_from_ms: from,
        truncated: from > start,
        flag_pct: pct,
        min_sample: MIN_SAMPLE,
        team_median: team,
        agents,
    })
}

/// An agent's CSAT, QA and repeat contacts of today on the live view's
/// agent row (`metrics.md`, "Agent scorecard", "Live agent rows").
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AgentToday {
    /// Survey answers today.
    pub surveys: u64,
    /// Top box / surveys.
    pub csat: Option<f64>,
    /// Mean normalised score, 0–100.
    pub csat_mean: Option<f64>,
    /// Quality evaluations today.
    pub qa_evaluations: u64,
    /// Mean evaluation score, 0–100.
    pub qa_score: Option<f64>,
    /// Handled calls with a caller today.
    pub repeat_eligible: u64,
    /// Of them, still pending at now.
    pub repeat_pending: u64,
    /// Repeat contacts / eligible; `None` while any is pending.
    pub repeat_rate: Option<f64>,
}

/// Today's [`AgentToday`] of every agent, by agent id: `None` for an agent
/// without surveys, evaluations or eligible calls today. Reads only the
/// quality sums (no copy of the interval store).
#[must_use]
pub fn agents_today(
    engine: &TenantEngine,
    day_start: TimestampMs,
    now: TimestampMs,
) -> Vec<Option<AgentToday>> {
    let mut sums = vec![ScoreSums::default(); engine.agent_names().len()];
    let range = IntervalStart(day_start)..=IntervalStart(now);
    for (_, b) in engine.quality().buckets.range(range) {
        for (s, q) in sums.iter_mut().zip(&b.agents) {
            s.quality.add(q);
        }
    }
    let window = engine.params().repeat_window_ms;
    for p in engine.quality().repeat.pending_at(now, window) {
        if p.interval.0 >= day_start {
            if let Some(s) = sums.get_mut(p.agent.index()) {
                s.repeat_pending += 1;
            }
        }
    }
    sums.iter()
        .map(|s| {
            let r = Ratios::of(s);
            let q = &s.quality;
            (!q.is_empty()).then_some(AgentToday {
                surveys: q.surveys,
                csat: r.csat,
                csat_mean: r.csat_mean,
                qa_evaluations: q.qa_evaluations,
                qa_score: r.qa_score,
                repeat_eligible: q.repeat_eligible,
                repeat_pending: s.repeat_pending,
                repeat_rate: r.repeat_rate,
            })
        })
        .collect()
}
