//! The mergeable sums every metric is a ratio of (`architecture.md`,
//! principle 1). They add across intervals, queues, partitions and instances;
//! ratios are only formed when a report is written.

use serde::{Deserialize, Serialize};

use ingest::{AgentState, DequeueReason};

/// Most service-level thresholds one tenant may configure.
pub const MAX_THRESHOLDS: usize = 8;

/// Call counts and sums of one queue (or a whole tenant) over some time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueSums {
    pub entered: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub short_abandoned: u64,
    pub dequeued: u64,
    pub dequeued_by_reason: [u64; 6],
    pub wait_unknown: u64,
    /// Per configured threshold, in the order of the config.
    pub answered_within: [u64; MAX_THRESHOLDS],
    pub abandoned_within: [u64; MAX_THRESHOLDS],
    pub answer_wait_ms: u64,
    pub abandon_wait_ms: u64,
    /// Largest wait among answered and abandoned segments.
    pub max_wait_ms: Option<u64>,
    pub handled: u64,
    pub talk_ms: u64,
    pub hold_ms: u64,
    pub acw_ms: u64,
    pub transferred: u64,
}

impl QueueSums {
    /// answered + abandoned + dequeued + wait_unknown (short abandons excluded).
    pub fn offered(&self) -> u64 {
        self.answered + self.abandoned + self.dequeued + self.wait_unknown
    }

    pub fn add(&mut self, o: &QueueSums) {
        self.entered += o.entered;
        self.answered += o.answered;
        self.abandoned += o.abandoned;
        self.short_abandoned += o.short_abandoned;
        self.dequeued += o.dequeued;
        add_arrays(&mut self.dequeued_by_reason, &o.dequeued_by_reason);
        self.wait_unknown += o.wait_unknown;
        add_arrays(&mut self.answered_within, &o.answered_within);
        add_arrays(&mut self.abandoned_within, &o.abandoned_within);
        self.answer_wait_ms += o.answer_wait_ms;
        self.abandon_wait_ms += o.abandon_wait_ms;
        self.max_wait_ms = max_opt(self.max_wait_ms, o.max_wait_ms);
        self.handled += o.handled;
        self.talk_ms += o.talk_ms;
        self.hold_ms += o.hold_ms;
        self.acw_ms += o.acw_ms;
        self.transferred += o.transferred;
    }

    pub fn count_dequeued(&mut self, reason: DequeueReason) {
        self.dequeued += 1;
        self.dequeued_by_reason[reason_index(reason)] += 1;
    }

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

fn add_arrays<const N: usize>(a: &mut [u64; N], b: &[u64; N]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
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
    pub staffed_ms: u64,
    pub available_ms: u64,
    pub busy_ms: u64,
    pub not_ready_ms: u64,
    pub scheduled_ms: u64,
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
        self.staffed_ms += ms;
        match state {
            AgentState::Available => self.available_ms += ms,
            AgentState::NotReady => self.not_ready_ms += ms,
            s if s.is_busy() => self.busy_ms += ms,
            _ => {}
        }
    }

    /// Adds `ms` of scheduled time.
    pub fn add_scheduled(&mut self, ms: u64, adherent: bool, work: bool) {
        self.scheduled_ms += ms;
        if adherent {
            self.adherent_ms += ms;
        }
        if work {
            self.work_scheduled_ms += ms;
        }
    }

    pub fn add(&mut self, o: &AgentTime) {
        self.staffed_ms += o.staffed_ms;
        self.available_ms += o.available_ms;
        self.busy_ms += o.busy_ms;
        self.not_ready_ms += o.not_ready_ms;
        self.scheduled_ms += o.scheduled_ms;
        self.adherent_ms += o.adherent_ms;
        self.work_scheduled_ms += o.work_scheduled_ms;
    }

    /// Time in a working state (available or busy).
    pub fn working_ms(&self) -> u64 {
        self.available_ms + self.busy_ms
    }
}

/// What one agent did in one interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentSums {
    pub time: AgentTime,
    pub handled: u64,
    pub talk_ms: u64,
    pub acw_ms: u64,
}

impl AgentSums {
    pub fn add(&mut self, o: &AgentSums) {
        self.time.add(&o.time);
        self.handled += o.handled;
        self.talk_ms += o.talk_ms;
        self.acw_ms += o.acw_ms;
    }
}

/// `num / den`, or `None` ("no data") when the denominator is 0.
pub fn ratio(num: u64, den: u64) -> Option<f64> {
    (den != 0).then(|| num as f64 / den as f64)
}
