//! The simulated period laid over a virtual business day, and the call
//! demand over that day (`DEMAND_CURVE`).

use wallboard_events::event::TimestampMs;

use super::sample::saturating_ms;
use super::HOUR;

/// Relative call demand over a virtual day, as (clock hour, level) knots that
/// are interpolated linearly: night, morning ramp, late-morning peak, lunch
/// dip, afternoon peak, evening tail.
pub(super) const DEMAND_CURVE: [(f64, f64); 17] = [
    (0.0, 0.06),
    (6.0, 0.08),
    (7.0, 0.35),
    (8.0, 0.75),
    (9.0, 1.10),
    (10.0, 1.25),
    (11.0, 1.20),
    (12.0, 0.95),
    (12.75, 0.85),
    (13.5, 1.00),
    (14.5, 1.15),
    (15.5, 1.10),
    (17.0, 0.80),
    (18.0, 0.55),
    (20.0, 0.30),
    (22.0, 0.15),
    (24.0, 0.06),
];
/// The highest level of [`DEMAND_CURVE`], for rejection sampling.
pub(super) const DEMAND_PEAK: f64 = 1.25;
/// Virtual clock hour at the middle of the simulated period.
const PERIOD_MIDDLE_HOUR: f64 = 12.5;

pub(super) struct Period {
    pub(super) start: TimestampMs,
    pub(super) end: TimestampMs,
    /// Virtual clock hour at `start`.
    pub(super) first_hour: f64,
}

impl Period {
    pub(super) fn new(start: TimestampMs, hours: f64) -> Self {
        let hours = if hours.is_finite() && hours > 0.0 {
            hours
        } else {
            0.0
        };
        // Saturating, so an absurd length cannot overflow.
        let length = saturating_ms((hours * HOUR as f64).round());
        Period {
            start,
            end: start.saturating_add(length),
            first_hour: PERIOD_MIDDLE_HOUR - hours / 2.0,
        }
    }

    pub(super) fn len(&self) -> i64 {
        self.end - self.start
    }

    /// Relative call demand at `t`.
    pub(super) fn demand(&self, t: TimestampMs) -> f64 {
        let hour = self.first_hour + (t - self.start) as f64 / HOUR as f64;
        demand_at_hour(hour.rem_euclid(24.0))
    }
}

pub(super) fn demand_at_hour(hour: f64) -> f64 {
    DEMAND_CURVE
        .windows(2)
        .find(|w| hour <= w[1].0)
        .map_or(DEMAND_CURVE[0].1, |w| {
            let ((h0, d0), (h1, d1)) = (w[0], w[1]);
            d0 + (d1 - d0) * (hour - h0) / (h1 - h0)
        })
}
