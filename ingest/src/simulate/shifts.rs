//! Shift schedules: each agent's one shift on quarter hours, with its
//! breaks and lunch (what the `schedule` events publish).

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use wallboard_events::event::TimestampMs;

use super::agents::Activity;
use super::period::{Period, DEMAND_PEAK};
use super::sample::{pick_weighted, saturating_ms};
use super::{HOUR, MINUTE};

/// Workforce-management tools plan in quarter hours.
const SLOT_MS: i64 = 15 * MINUTE;
/// Longest shift, lunch included.
const MAX_SHIFT_MS: i64 = 8 * HOUR + 30 * MINUTE;
/// In short periods shifts are this fraction of the period, so they can
/// still start staggered.
const SHIFT_FRACTION: f64 = 0.85;
/// Shifts end at least this long before the period does, so that agents
/// are seen logging out.
const SHIFT_END_MARGIN_MS: i64 = SLOT_MS;
const BREAK_MS: i64 = 15 * MINUTE;
/// Planned lunch lengths and their odds.
const LUNCH_OPTIONS: [(i64, f64); 3] = [(30 * MINUTE, 0.5), (45 * MINUTE, 0.3), (60 * MINUTE, 0.2)];

#[derive(Debug, Clone)]
pub(super) struct Shift {
    pub(super) start: TimestampMs,
    pub(super) end: TimestampMs,
    /// Work, break, work, lunch, work, break, work, back to back.
    pub(super) segments: Vec<Segment>,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Segment {
    pub(super) start: TimestampMs,
    pub(super) end: TimestampMs,
    pub(super) activity: Activity,
}

/// One agent's shift: length from the period, start drawn from the demand
/// curve so that staffing follows demand.
pub(super) fn plan_shift(rng: &mut ChaCha8Rng, period: &Period) -> Option<Shift> {
    let length = floor_slot(saturating_ms(period.len() as f64 * SHIFT_FRACTION)).min(MAX_SHIFT_MS);
    if length < SLOT_MS {
        return None;
    }
    let last_slot = (period.len() - length - SHIFT_END_MARGIN_MS).max(0) / SLOT_MS;
    let mut start = period.start;
    // Rejection sampling on the demand at the shift's middle; the attempt
    // cap only matters for a pathological curve.
    for _ in 0..256 {
        start = period.start + rng.gen_range(0..=last_slot) * SLOT_MS;
        if rng.gen::<f64>() * DEMAND_PEAK < period.demand(start + length / 2) {
            break;
        }
    }
    let mut segments = Vec::new();
    let mut cursor = start;
    for (offset, duration, activity) in planned_aways(rng, length) {
        segments.push(Segment {
            start: cursor,
            end: start + offset,
            activity: Activity::Work,
        });
        segments.push(Segment {
            start: start + offset,
            end: start + offset + duration,
            activity,
        });
        cursor = start + offset + duration;
    }
    segments.push(Segment {
        start: cursor,
        end: start + length,
        activity: Activity::Work,
    });
    Some(Shift {
        start,
        end: start + length,
        segments,
    })
}

/// Breaks and lunch of a shift as (offset from its start, length, activity),
/// in order. A full shift gets break, lunch, break near a quarter, the middle
/// and three quarters of the way, each jittered by a slot or two; the spacing
/// keeps them apart whatever the jitter.
fn planned_aways(rng: &mut ChaCha8Rng, length: i64) -> Vec<(i64, i64, Activity)> {
    let at = |rng: &mut ChaCha8Rng, fraction: f64, duration: i64, jitter: i64| {
        let centre = saturating_ms(length as f64 * fraction) - duration / 2;
        round_slot(centre) + rng.gen_range(-jitter..=jitter) * SLOT_MS
    };
    if length >= 6 * HOUR {
        let lunch_ms = LUNCH_OPTIONS[pick_weighted(rng, LUNCH_OPTIONS.iter().map(|o| o.1))].0;
        vec![
            (at(rng, 0.25, BREAK_MS, 1), BREAK_MS, Activity::Break),
            (at(rng, 0.5, lunch_ms, 1), lunch_ms, Activity::Lunch),
            (at(rng, 0.78, BREAK_MS, 1), BREAK_MS, Activity::Break),
        ]
    } else if length >= 3 * HOUR {
        vec![(at(rng, 0.5, BREAK_MS, 1), BREAK_MS, Activity::Break)]
    } else {
        Vec::new()
    }
}

fn floor_slot(ms: i64) -> i64 {
    ms.div_euclid(SLOT_MS) * SLOT_MS
}

fn round_slot(ms: i64) -> i64 {
    floor_slot(ms + SLOT_MS / 2)
}
