//! The engine's side of caller keys, surveys and quality evaluations: each
//! event kind's arm in `apply_body` is one call into here.

use xxhash_rust::xxh3::xxh3_64;

use wallboard_events::{QualityEvaluation, SurveyResult, TimestampMs};

use super::{Applied, TenantEngine};
use crate::intern::{AgentId, QueueId};
use crate::quality::{QualityBucket, QualityState, QualitySums};
use crate::repeat::PendingCall;
use crate::time::{interval_mut, IntervalStart};
use std::collections::BTreeMap;

/// Adds `f` to queue `q`'s and agent `a`'s sums of the interval at `start`
/// (unless it is older than `keep_from`) and to the totals. Returns whether
/// the interval was retained.
fn count(
    (buckets, totals): (
        &mut BTreeMap<IntervalStart, QualityBucket>,
        &mut QualityBucket,
    ),
    keep_from: TimestampMs,
    (start, q, a): (IntervalStart, QueueId, AgentId),
    f: impl Fn(&mut QualitySums),
) -> bool {
    let retained = start.0 >= keep_from;
    if retained {
        interval_mut(buckets, start).update(q, a, &f);
    }
    totals.update(q, a, f);
    retained
}

impl TenantEngine {
    /// The tenant's CSAT, QA and repeat-contact state.
    #[must_use]
    pub fn quality(&self) -> &QualityState {
        &self.quality
    }

    /// Puts back the state of a snapshot (`Engine::from_bytes`).
    pub(crate) fn restore_quality(&mut self, q: QualityState) {
        self.quality = q;
    }

    /// A `call_queued` naming `caller`: a contact, and maybe the repeat of
    /// calls handled before.
    pub(super) fn caller_contact(&mut self, call: &str, caller: Option<&str>, ts: TimestampMs) {
        let Some(caller) = caller else {
            return;
        };
        let keep_from = self.history_from(TimestampMs::MIN);
        let limits = (self.params.repeat_window_ms, self.params.repeat_max_tracked);
        let QualityState {
            buckets,
            totals,
            repeat,
        } = &mut self.quality;
        let keys = (xxh3_64(call.as_bytes()), xxh3_64(caller.as_bytes()));
        repeat.contact(keys, ts, limits, |p| {
            let at = (p.interval, p.queue, p.agent);
            count((buckets, totals), keep_from, at, |s| s.repeat_contacts += 1);
        });
    }

    /// A `call_completed`: eligible when its call has a caller.
    pub(super) fn handled_call(&mut self, call: &str, q: QueueId, a: AgentId, ts: TimestampMs) {
        let interval = self.cursor.locate(&self.clock, ts).0;
        let limits = (self.params.repeat_window_ms, self.params.repeat_max_tracked);
        let pending = PendingCall {
            call: xxh3_64(call.as_bytes()),
            completed: ts,
            interval,
            queue: q,
            agent: a,
        };
        let Some(repeated) = self.quality.repeat.handled(pending, limits) else {
            return;
        };
        let keep_from = self.history_from(TimestampMs::MIN);
        let QualityState {
            buckets, totals, ..
        } = &mut self.quality;
        count((buckets, totals), keep_from, (interval, q, a), |s| {
            s.repeat_eligible += 1;
            s.repeat_contacts += u64::from(repeated);
        });
    }

    /// A `survey_result`, counted in the interval of its `ts`.
    pub(super) fn survey_result(&mut self, s: &SurveyResult<'_>, ts: TimestampMs) -> Applied {
        let at = self.kpi_slot(&s.queue, &s.agent, ts);
        self.count_kpi(at, |sums| sums.add_survey(s));
        Applied::Counted
    }

    /// A `quality_evaluation`, counted in the interval of its `ts`.
    pub(super) fn quality_evaluation(
        &mut self,
        e: &QualityEvaluation<'_>,
        ts: TimestampMs,
    ) -> Applied {
        let at = self.kpi_slot(&e.queue, &e.agent, ts);
        self.count_kpi(at, |sums| sums.add_evaluation(e));
        Applied::Counted
    }

    fn kpi_slot(
        &mut self,
        queue: &str,
        agent: &str,
        ts: TimestampMs,
    ) -> (IntervalStart, QueueId, AgentId) {
        let (q, a) = (self.queue(queue), self.agent_id(agent));
        let start = self.cursor.locate(&self.clock, ts).0;
        // The report lists the engine's intervals: make sure this one is.
        let _ = self.retained_bucket(start);
        (start, q, a)
    }

    fn count_kpi(&mut self, at: (IntervalStart, QueueId, AgentId), f: impl Fn(&mut QualitySums)) {
        let keep_from = self.history_from(TimestampMs::MIN);
        let QualityState {
            buckets, totals, ..
        } = &mut self.quality;
        if !count((buckets, totals), keep_from, at, f) {
            self.stats.beyond_retention += 1;
        }
    }

    /// After every applied event: forgets what repeat detection and the
    /// interval history no longer need.
    pub(super) fn expire_kpi(&mut self) {
        let Some(newest) = self.max_ts else {
            return;
        };
        let (window, grace) = (self.params.repeat_window_ms, self.params.dedup_window_ms);
        self.quality.repeat.expire(newest, window, grace);
        let keep_from = self.history_from(TimestampMs::MIN);
        self.quality.forget_before(IntervalStart(keep_from));
    }
}
