//! The mergeable sums every metric is a ratio of (`architecture.md`,
//! principle 1). They add across intervals, queues, partitions and instances;
//! ratios are only formed when a report is written.
//!
//! Merging saturates instead of wrapping: with durations bounded by
//! `wallboard_events::event::MAX_DURATION_MS` no real sum comes near `u64::MAX`, and if one
//! ever did, a pinned maximum is less wrong than a small number.

use serde::{Deserialize, Serialize};

use wallboard_events::{AgentState, BlockedReason, DequeueReason};

/// Most service-level thresholds one tenant may configure.
pub const MAX_THRESHOLDS: usize = 8;

/// Call counts and sums of one queue (or a whole tenant) over some time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueSums {
    /// `call_queued` events (arrivals).
    pub entered: u64,
    /// Segments ended by `call_answered` with a known wait.
    pub answered: u64,
    /// Segments ended by `call_abandoned` with a known wait, not short.
    pub abandoned: u64,
    /// Abandons with a wait under the short-abandon threshold.
    pub short_abandoned: u64,
    /// Segments ended by `call_dequeued`, any reason.
    pub dequeued: u64,
    /// Dequeued segments per reason, indexed in the order of `DequeueReason::ALL`.
    pub dequeued_by_reason: [u64; 6],
    /// Answered or abandoned segments whose wait is unknown.
    pub wait_unknown: u64,
    /// Per configured threshold, in the order of the config.
    pub answered_within: [u64; MAX_THRESHOLDS],
    /// Per configured threshold, in the order of the config: abandoned with wait ≤ T·1000 ms.
    pub abandoned_within: [u64; MAX_THRESHOLDS],
    /// Σ wait of answered segments, milliseconds (numerator of ASA).
    pub answer_wait_ms: u64,
    /// Σ wait of abandoned (non-short) segments, milliseconds.
    pub abandon_wait_ms: u64,
    /// Largest wait among answered and abandoned segments.
    pub max_wait_ms: Option<u64>,
    /// `call_completed` events.
    pub handled: u64,
    /// Σ `talk_ms` of completed calls (hold included).
    pub talk_ms: u64,
    /// Σ `hold_ms` of completed calls.
    pub hold_ms: u64,
    /// Σ `acw_ms` (after-call work) of completed calls.
    pub acw_ms: u64,
    /// Completed calls with `transferred: true`.
    pub transferred: u64,
    /// `call_blocked` events: never part of `offered`.
    pub blocked: u64,
    /// By reason, in the order of `BlockedReason::ALL`.
    pub blocked_by_reason: [u64; BLOCKED_REASONS],
}

/// How many blocked reasons there are (`BlockedReason::ALL`).
pub const BLOCKED_REASONS: usize = 5;

impl QueueSums {
    /// answered + abandoned + dequeued + `wait_unknown` (short abandons excluded).
    #[must_use]
    pub fn offered(&self) -> u64 {
        self.answered + self.abandoned + self.dequeued + self.wait_unknown
    }

    /// Adds `o` into `self`, saturating.
    pub fn add(&mut self, o: &QueueSums) {
        self.entered = self.entered.saturating_add(o.entered);
        self.answered = self.answered.saturating_add(o.answered);
        self.abandoned = self.abandoned.saturating_add(o.abandoned);
        self.short_abandoned = self.short_abandoned.saturating_add(o.short_abandoned);
        self.dequeued = self.dequeued.saturating_add(o.dequeued);
        add_arrays(&mut self.dequeued_by_reason, &o.dequeued_by_reason);
        self.wait_unknown = self.wait_unknown.saturating_add(o.wait_unknown);
        add_arrays(&mut self.answered_within, &o.answered_within);
        add_arrays(&mut self.abandoned_within, &o.abandoned_within);
        self.answer_wait_ms = self.answer_wait_ms.saturating_add(o.answer_wait_ms);
        self.abandon_wait_ms = self.abandon_wait_ms.saturating_add(o.abandon_wait_ms);
        self.max_wait_ms = max_opt(self.max_wait_ms, o.max_wait_ms);
        self.handled = self.handled.saturating_add(o.handled);
        self.talk_ms = self.talk_ms.saturating_add(o.talk_ms);
        self.hold_ms = self.hold_ms.saturating_add(o.hold_ms);
        self.acw_ms = self.acw_ms.saturating_add(o.acw_ms);
        self.transferred = self.transferred.saturating_add(o.transferred);
        self.blocked = self.blocked.saturating_add(o.blocked);
        add_arrays(&mut self.blocked_by_reason, &o.blocked_by_reason);
    }

    /// Counts one `call_blocked` event refused for `reason` (`metrics.md`,
    /// "Blocked calls").
    pub fn count_blocked(&mut self, reason: BlockedReason) {
        self.blocked += 1;
        self.blocked_by_reason[blocked_index(reason)] += 1;
    }

    /// The calls blocked for `reason` (a share of `blocked`).
    #[must_use]
    pub fn blocked_for(&self, reason: BlockedReason) -> u64 {
        self.blocked_by_reason[blocked_index(reason)]
    }

    /// Counts one segment dequeued for `reason`.
    pub fn count_dequeued(&mut self, reason: DequeueReason) {
        self.dequeued += 1;
        self.dequeued_by_reason[reason_index(reason)] += 1;
    }

    /// Segments dequeued for `reason`.
    #[must_use]
    pub fn dequeued_for(&self, reason: DequeueReason) -> u64 {
        self.dequeued_by_reason[reason_index(reason)]
    }

    /// Records a known wait of an answered or (non-short) abandoned segment.
    pub fn note_wait(&mut self, wait_ms: u64) {
        self.max_wait_ms = max_opt(self.max_wait_ms, Some(wait_ms));
    }
}

fn reason_index(r: DequeueReason) -> usize {
    DequeueReason::ALL
        .iter()
        .position(|&x| x == r)
        .expect("every reason is listed")
}

fn blocked_index(r: BlockedReason) -> usize {
    BlockedReason::ALL
        .iter()
        .position(|&x| x == r)
        .expect("every reason is listed")
}

fn add_arrays<const N: usize>(a: &mut [u64; N], b: &[u64; N]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x = x.saturating_add(*y);
    }
}

fn max_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Agent time by state and against the schedule, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentTime {
    /// Time in any state but `logged_out`.
    pub staffed_ms: u64,
    /// Time `available`.
    pub available_ms: u64,
    /// Time `ringing`, `on_call` or `acw`.
    pub busy_ms: u64,
    /// Time `not_ready`.
    pub not_ready_ms: u64,
    /// Time covered by schedule segments.
    pub scheduled_ms: u64,
    /// Scheduled time in a state the activity allows.
    pub adherent_ms: u64,
    /// Time scheduled as work (the denominator of conformance).
    pub work_scheduled_ms: u64,
}

impl AgentTime {
    /// Adds `ms` spent in `state`.
    pub fn add_state(&mut self, state: AgentState, ms: u64) {
        if !state.is_staffed() {
            return;
        }
        self.staffed_ms = self.staffed_ms.saturating_add(ms);
        match state {
            AgentState::Available => self.available_ms = self.available_ms.saturating_add(ms),
            AgentState::NotReady => self.not_ready_ms = self.not_ready_ms.saturating_add(ms),
            s if s.is_busy() => self.busy_ms = self.busy_ms.saturating_add(ms),
            _ => {}
        }
    }

    /// Adds `ms` of scheduled time.
    pub fn add_scheduled(&mut self, ms: u64, adherent: bool, work: bool) {
        self.scheduled_ms = self.scheduled_ms.saturating_add(ms);
        if adherent {
            self.adherent_ms = self.adherent_ms.saturating_add(ms);
        }
        if work {
            self.work_scheduled_ms = self.work_scheduled_ms.saturating_add(ms);
        }
    }

    /// Adds `o` into `self`, saturating.
    pub fn add(&mut self, o: &AgentTime) {
        self.staffed_ms = self.staffed_ms.saturating_add(o.staffed_ms);
        self.available_ms = self.available_ms.saturating_add(o.available_ms);
        self.busy_ms = self.busy_ms.saturating_add(o.busy_ms);
        self.not_ready_ms = self.not_ready_ms.saturating_add(o.not_ready_ms);
        self.scheduled_ms = self.scheduled_ms.saturating_add(o.scheduled_ms);
        self.adherent_ms = self.adherent_ms.saturating_add(o.adherent_ms);
        self.work_scheduled_ms = self.work_scheduled_ms.saturating_add(o.work_scheduled_ms);
    }

    /// Time in a working state (available or busy).
    #[must_use]
    pub fn working_ms(&self) -> u64 {
        self.available_ms + self.busy_ms
    }
}

/// What one agent did in one interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentSums {
    /// The agent's state and schedule time.
    pub time: AgentTime,
    /// `call_completed` events of the agent.
    pub handled: u64,
    /// Σ `talk_ms` of the agent's completed calls, milliseconds.
    pub talk_ms: u64,
    /// Σ `acw_ms` of the agent's completed calls, milliseconds.
    pub acw_ms: u64,
}

impl AgentSums {
    /// Adds `o` into `self`, saturating.
    pub fn add(&mut self, o: &AgentSums) {
        self.time.add(&o.time);
        self.handled = self.handled.saturating_add(o.handled);
        self.talk_ms = self.talk_ms.saturating_add(o.talk_ms);
        self.acw_ms = self.acw_ms.saturating_add(o.acw_ms);
    }
}

/// `num / den`, or `None` ("no data") when the denominator is 0.
#[must_use]
pub fn ratio(num: u64, den: u64) -> Option<f64> {
    (den != 0).then(|| num as f64 / den as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_saturates_instead_of_wrapping() {
        let big = QueueSums {
            answered: u64::MAX - 1,
            answer_wait_ms: u64::MAX - 5,
            answered_within: [u64::MAX; MAX_THRESHOLDS],
            ..Default::default()
        };
        let mut total = big.clone();
        total.add(&big);
        assert_eq!(total.answered, u64::MAX);
        assert_eq!(total.answer_wait_ms, u64::MAX);
        assert_eq!(total.answered_within[0], u64::MAX);
        let mut t = AgentTime {
            busy_ms: u64::MAX,
            ..Default::default()
        };
        t.add(&AgentTime {
            busy_ms: 7,
            ..Default::default()
        });
        assert_eq!(t.busy_ms, u64::MAX);
    }

    #[test]
    fn blocked_calls_count_by_reason_and_not_as_offered() {
        assert_eq!(BlockedReason::ALL.len(), BLOCKED_REASONS);
        let mut q = QueueSums::default();
        q.count_blocked(BlockedReason::Full);
        q.count_blocked(BlockedReason::Full);
        q.count_blocked(BlockedReason::Closed);
        assert_eq!((q.blocked, q.offered(), q.entered), (3, 0, 0));
        assert_eq!(q.blocked_for(BlockedReason::Full), 2);
        assert_eq!(q.blocked_for(BlockedReason::Closed), 1);
        let mut total = q.clone();
        total.add(&q);
        assert_eq!(total.blocked, 6);
        assert_eq!(total.blocked_for(BlockedReason::Full), 4);
    }
}
