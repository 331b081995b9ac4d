//! [`Expected`]: what the simulator's own arrival profile expects, per
//! queue, over a span of time; what its forecast is made of (`wallboard
//! simulate --forecast-out`).

use wallboard_events::event::TimestampMs;

use super::arrivals::RATE_STEP_MS;
use super::calls::{ACW, P_ACW};
use super::simulator::Simulator;
use super::SECOND;

/// The simulator's own expectation for one queue over a span of time.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    /// The queue.
    pub queue: String,
    /// Calls the arrival profile expects in the span (before overflows).
    pub calls: f64,
    /// Mean handling time (talk + after-call work), seconds.
    pub aht_s: f64,
}

impl Simulator {
    /// Per queue, the calls its arrival profile expects in `[from, to)`
    /// (the rate integrated over the profile's 5-minute steps, split by
    /// queue share) and the mean handling time its calls are drawn with.
    #[must_use]
    pub fn expected(&self, from: TimestampMs, to: TimestampMs) -> Vec<Expected> {
        let a = &self.arrivals;
        let (from, to) = (from.max(a.start), to.min(a.end));
        let mut calls = 0.0;
        let mut t = from;
        while t < to {
            let step = (t - a.start).div_euclid(RATE_STEP_MS);
            let step_start = a.start + step * RATE_STEP_MS;
            let piece_end = (step_start + RATE_STEP_MS).min(to);
            calls += a.rate(step_start + RATE_STEP_MS / 2) * (piece_end - t) as f64;
            t = piece_end;
        }
        let total: f64 = self.queues.iter().map(|q| q.share).sum();
        self.queues
            .iter()
            .map(|q| Expected {
                queue: q.name.clone(),
                calls: calls * q.share / total,
                aht_s: (q.talk.mean() + P_ACW * ACW.mean()) / SECOND as f64,
            })
            .collect()
    }
}
