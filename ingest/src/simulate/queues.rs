//! The queues: their names, priorities, shares of the calls and the
//! spreads of their talk and wrap-up times.

use super::calls::{TALK_MAX_MS, TALK_MIN_MS, TALK_SIGMA};
use super::sample::Spread;
use super::SECOND;

pub(super) struct QueueProfile {
    pub(super) name: String,
    /// Lower is more urgent.
    pub(super) priority: i64,
    /// Share of arrivals.
    pub(super) share: f64,
    pub(super) talk: Spread,
    pub(super) patience_mean_ms: f64,
    /// Longest wait before overflowing.
    pub(super) overflow_after_ms: i64,
    pub(super) overflow_to: Option<usize>,
}

struct QueueTemplate {
    pub(super) name: &'static str,
    pub(super) priority: i64,
    pub(super) share: f64,
    pub(super) talk_median_s: f64,
    pub(super) patience_mean_s: f64,
    pub(super) overflow_after_s: i64,
    pub(super) overflow_to: &'static str,
}

/// The named queues; VIP callers are the most patient but get the least wait
/// before overflowing to sales.
const NAMED_QUEUES: [QueueTemplate; 4] = [
    QueueTemplate {
        name: "sales",
        priority: 1,
        share: 0.30,
        talk_median_s: 200.0,
        patience_mean_s: 150.0,
        overflow_after_s: 90,
        overflow_to: "support",
    },
    QueueTemplate {
        name: "support",
        priority: 2,
        share: 0.35,
        talk_median_s: 270.0,
        patience_mean_s: 180.0,
        overflow_after_s: 120,
        overflow_to: "billing",
    },
    QueueTemplate {
        name: "billing",
        priority: 2,
        share: 0.20,
        talk_median_s: 220.0,
        patience_mean_s: 150.0,
        overflow_after_s: 100,
        overflow_to: "support",
    },
    QueueTemplate {
        name: "vip",
        priority: 0,
        share: 0.08,
        talk_median_s: 300.0,
        patience_mean_s: 300.0,
        overflow_after_s: 60,
        overflow_to: "sales",
    },
];

/// `queue5` and beyond.
const EXTRA_QUEUE: QueueTemplate = QueueTemplate {
    name: "",
    priority: 3,
    share: 0.07,
    talk_median_s: 240.0,
    patience_mean_s: 150.0,
    overflow_after_s: 120,
    overflow_to: "sales",
};

pub(super) fn queue_profiles(count: usize) -> Vec<QueueProfile> {
    let names: Vec<String> = (0..count)
        .map(|i| match NAMED_QUEUES.get(i) {
            Some(t) => t.name.to_owned(),
            None => format!("queue{}", i + 1),
        })
        .collect();
    (0..count)
        .map(|i| {
            let t = NAMED_QUEUES.get(i).unwrap_or(&EXTRA_QUEUE);
            // The preferred backup queue, else any other one.
            let overflow_to = names
                .iter()
                .position(|n| n == t.overflow_to && *n != names[i])
                .or_else(|| (0..count).find(|&q| q != i));
            QueueProfile {
                name: names[i].clone(),
                priority: t.priority,
                share: t.share,
                talk: Spread::new(
                    t.talk_median_s * SECOND as f64,
                    TALK_SIGMA,
                    TALK_MIN_MS,
                    TALK_MAX_MS,
                ),
                patience_mean_ms: t.patience_mean_s * SECOND as f64,
                overflow_after_ms: t.overflow_after_s * SECOND,
                overflow_to,
            }
        })
        .collect()
}
