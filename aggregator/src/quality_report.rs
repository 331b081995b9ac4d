//! The report fields of repeat contacts, CSAT and QA (`metrics.md`,
//! "Repeat contacts and FCR", "CSAT and QA"): each group only on rows that
//! have its data, so reports without it keep their shape.

use std::collections::BTreeMap;

use serde::Serialize;

use wallboard_events::TimestampMs;

use crate::intern::{AgentId, QueueId};
use crate::quality::QualitySums;
use crate::sums::ratio;
use crate::tenant::TenantEngine;
use crate::time::IntervalStart;

/// The repeat-contact, CSAT and QA fields of a queue or agent row.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KpiFields {
    /// Present when `repeat_eligible` is not 0.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<RepeatFields>,
    /// Present when `surveys` is not 0.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub csat: Option<CsatFields>,
    /// Present when `qa_evaluations` is not 0.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub qa: Option<QaFields>,
}

/// Repeat contacts and FCR of a row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RepeatFields {
    /// Handled calls with a caller key.
    pub repeat_eligible: u64,
    /// Of them, repeat contacts found so far.
    pub repeat_contacts: u64,
    /// Of them, neither repeat contacts nor past their window at "now".
    pub repeat_pending: u64,
    /// `repeat_contacts / repeat_eligible`; `None` while any is pending.
    pub repeat_rate: Option<f64>,
    /// `1 − repeat_rate`.
    pub fcr: Option<f64>,
}

/// CSAT of a row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CsatFields {
    /// `survey_result` events.
    pub surveys: u64,
    /// Of them, top-box answers.
    pub csat_top_box: u64,
    /// `csat_top_box / surveys`.
    pub csat: Option<f64>,
    /// Mean normalised score, 0–100.
    pub csat_mean: Option<f64>,
}

/// QA of a row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QaFields {
    /// `quality_evaluation` events.
    pub qa_evaluations: u64,
    /// Of them, fatal ones.
    pub qa_fatal: u64,
    /// Mean score, 0–100, fatal ones counting 0.
    pub qa_score: Option<f64>,
}

impl KpiFields {
    /// The fields of sums `s` with `pending` calls still pending.
    #[must_use]
    pub fn of(s: &QualitySums, pending: u64) -> Self {
        let repeat_rate = if pending > 0 {
            None
        } else {
            ratio(s.repeat_contacts, s.repeat_eligible)
        };
        KpiFields {
            repeat: (s.repeat_eligible > 0).then_some(RepeatFields {
                repeat_eligible: s.repeat_eligible,
                repeat_contacts: s.repeat_contacts,
                repeat_pending: pending,
                repeat_rate,
                fcr: repeat_rate.map(|r| 1.0 - r),
            }),
            csat: (s.surveys > 0).then(|| CsatFields {
                surveys: s.surveys,
                csat_top_box: s.csat_top_box,
                csat: ratio(s.csat_top_box, s.surveys),
                csat_mean: ratio(s.csat_score_micros, s.surveys).map(|m| m / 1e6),
            }),
            qa: (s.qa_evaluations > 0).then(|| QaFields {
                qa_evaluations: s.qa_evaluations,
                qa_fatal: s.qa_fatal,
                qa_score: ratio(s.qa_score_sum, s.qa_evaluations),
            }),
        }
    }
}

/// Pending calls at a report's "now", per interval and queue or agent.
#[derive(Debug, Default)]
pub struct Pending {
    queues: BTreeMap<(IntervalStart, QueueId), u64>,
    agents: BTreeMap<(IntervalStart, AgentId), u64>,
    tenant: BTreeMap<IntervalStart, u64>,
}

impl Pending {
    /// The calls of `engine` pending at `now`.
    #[must_use]
    pub fn at(engine: &TenantEngine, now: TimestampMs) -> Self {
        let mut p = Pending::default();
        let window = engine.params().repeat_window_ms;
        for c in engine.quality().repeat.pending_at(now, window) {
            *p.queues.entry((c.interval, c.queue)).or_default() += 1;
            *p.agents.entry((c.interval, c.agent)).or_default() += 1;
            *p.tenant.entry(c.interval).or_default() += 1;
        }
        p
    }

    /// Pending calls of queue `q` in the interval at `start`.
    #[must_use]
    pub fn queue(&self, start: IntervalStart, q: QueueId) -> u64 {
        self.queues.get(&(start, q)).copied().unwrap_or(0)
    }

    /// Pending calls of agent `a` in the interval at `start`.
    #[must_use]
    pub fn agent(&self, start: IntervalStart, a: AgentId) -> u64 {
        self.agents.get(&(start, a)).copied().unwrap_or(0)
    }

    /// Pending calls of the whole tenant in the interval at `start`.
    #[must_use]
    pub fn tenant(&self, start: IntervalStart) -> u64 {
        self.tenant.get(&start).copied().unwrap_or(0)
    }
}

/// Whose sums: one queue, or the whole tenant.
#[derive(Debug, Clone, Copy)]
pub enum Whose {
    /// One queue.
    Queue(QueueId),
    /// Every queue of the tenant.
    Tenant,
}

/// The sums of `whose` over the intervals starting in `[from, to)`.
#[must_use]
pub fn sums_between(
    engine: &TenantEngine,
    whose: Whose,
    from: TimestampMs,
    to: TimestampMs,
) -> QualitySums {
    let mut total = QualitySums::default();
    if from >= to {
        return total;
    }
    for b in engine
        .quality()
        .buckets
        .range(IntervalStart(from)..IntervalStart(to))
        .map(|(_, b)| b)
    {
        total.add(&match whose {
            Whose::Queue(q) => b.queue(q),
            Whose::Tenant => b.tenant(),
        });
    }
    total
}

/// The live view's fields of `whose` today (`metrics.md`, "Real-time
/// values"): today's sums, calls still pending at `now` counted.
#[must_use]
pub fn live_today(
    engine: &TenantEngine,
    whose: Whose,
    day_start: TimestampMs,
    now: TimestampMs,
) -> KpiFields {
    let sums = sums_between(engine, whose, day_start, TimestampMs::MAX);
    let window = engine.params().repeat_window_ms;
    let pending = engine
        .quality()
        .repeat
        .pending_at(now, window)
        .filter(|p| p.interval.0 >= day_start)
        .filter(|p| match whose {
            Whose::Queue(q) => p.queue == q,
            Whose::Tenant => true,
        })
        .count() as u64;
    KpiFields::of(&sums, pending)
}

/// The repeat fields of the last known day of `whose`: the intervals that
/// start at or after `now − W − 24 h` and end at or before `now − W`, whose
/// outcome is known (none pending). `None` when they have no eligible call.
#[must_use]
pub fn fcr_known(engine: &TenantEngine, whose: Whose, now: TimestampMs) -> Option<RepeatFields> {
    let window = engine.params().repeat_window_ms;
    let clock = engine.clock();
    let known_until = now.saturating_sub(window);
    // The first interval that does not end by `known_until` is excluded.
    let to = clock.interval_of(known_until).0;
    let from = known_until.saturating_sub(86_400_000);
    let sums = sums_between(engine, whose, from, to);
    KpiFields::of(&sums, 0).repeat
}
