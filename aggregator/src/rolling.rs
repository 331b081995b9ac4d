//! The sliding "last N minutes" view of a queue's call sums, kept in
//! buckets of 10 s (`metrics.md`, "Real-time values").

use serde::{Deserialize, Serialize};

use wallboard_events::TimestampMs;

use crate::sums::QueueSums;

/// Width of one bucket of the rolling window.
pub const BUCKET_MS: i64 = 10_000;

/// A ring of 10-second buckets covering the rolling window.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RollingWindow {
    /// (bucket number = ts / 10 s, sums) per ring position.
    slots: Vec<(i64, QueueSums)>,
}

impl RollingWindow {
    /// An empty window of `window_minutes`, in buckets of 10 s.
    #[must_use]
    pub fn new(window_minutes: u32) -> Self {
        let buckets = (i64::from(window_minutes) * 60_000 / BUCKET_MS).max(1);
        // Only a 32-bit target can overflow (config allows 8640 buckets);
        // saturated, the allocation below fails, as for any ring too big.
        let n = usize::try_from(buckets).unwrap_or(usize::MAX);
        RollingWindow {
            slots: vec![(i64::MIN, QueueSums::default()); n],
        }
    }

    /// The bucket for an event at `ts`, unless `ts` is already out of the
    /// window seen from `newest` (the latest event time).
    pub fn bucket(&mut self, ts: TimestampMs, newest: TimestampMs) -> Option<&mut QueueSums> {
        let n = self.len();
        let b = ts.div_euclid(BUCKET_MS);
        if b <= newest.div_euclid(BUCKET_MS) - n {
            return None;
        }
        let i = usize::try_from(b.rem_euclid(n)).expect("rem_euclid is in 0..n");
        let slot = &mut self.slots[i];
        if slot.0 != b {
            if slot.0 > b {
                // The position holds newer data: this event is too old.
                return None;
            }
            *slot = (b, QueueSums::default());
        }
        Some(&mut slot.1)
    }

    /// How many buckets the ring has.
    fn len(&self) -> i64 {
        i64::try_from(self.slots.len()).expect("a Vec holds at most isize::MAX items")
    }

    /// The sums of the window ending at `now`.
    #[must_use]
    pub fn sum_at(&self, now: TimestampMs) -> QueueSums {
        let n = self.len();
        let last = now.div_euclid(BUCKET_MS);
        let mut total = QueueSums::default();
        for (b, s) in &self.slots {
            if *b > last - n && *b <= last {
                total.add(s);
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_buckets_fall_out_of_the_window() {
        let mut w = RollingWindow::new(1); // six 10 s buckets
        w.bucket(0, 0).unwrap().entered += 1;
        w.bucket(15_000, 15_000).unwrap().entered += 2;
        assert_eq!(w.sum_at(20_000).entered, 3);
        assert_eq!(w.sum_at(60_000).entered, 2);
        assert_eq!(w.sum_at(70_000).entered, 0);
        // Reusing a ring position clears what it held.
        w.bucket(60_000, 60_000).unwrap().entered += 4;
        assert_eq!(w.sum_at(60_000).entered, 6);
        assert!(w.bucket(0, 60_000).is_none());
    }
}
