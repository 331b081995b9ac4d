//! Interval arithmetic on the centre's local clock: which interval an instant
//! belongs to, where "today" starts, and how an interval's start is written.
//!
//! Intervals follow `metrics.md`: the interval of `t` starts at
//! `t − ((t + offset(t)) mod L)`, so they align to local midnight in the
//! zone and a fall-back day has two intervals at the same local time.

use std::collections::BTreeMap;

use chrono::{DateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use wallboard_events::TimestampMs;

/// The start of a reporting interval, Unix epoch milliseconds (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IntervalStart(pub TimestampMs);

/// The value of the interval at `start` in `map`, made if missing.
///
/// Nearly every event falls in the newest interval, and that one is found
/// by walking the tree's right edge instead of searching it: this is on the
/// engine's hottest path (every call outcome and every piece of agent time).
pub fn interval_mut<V: Default>(
    map: &mut BTreeMap<IntervalStart, V>,
    start: IntervalStart,
) -> &mut V {
    if map
        .last_key_value()
        .is_some_and(|(newest, _)| *newest == start)
    {
        map.values_mut()
            .next_back()
            .expect("the newest interval was found just above")
    } else {
        map.entry(start).or_default()
    }
}

/// Interval lengths allowed by `metrics.md`.
pub const ALLOWED_INTERVAL_MINUTES: [u32; 6] = [5, 10, 15, 20, 30, 60];

/// Maps instants to intervals in one time zone at one interval length.
#[derive(Debug, Clone)]
pub struct IntervalClock {
    tz: Tz,
    len_ms: i64,
}

impl Default for IntervalClock {
    fn default() -> Self {
        IntervalClock::new(Tz::UTC, 30)
    }
}

impl IntervalClock {
    /// `minutes` must be one of [`ALLOWED_INTERVAL_MINUTES`] (checked by the config).
    #[must_use]
    pub fn new(tz: Tz, minutes: u32) -> Self {
        IntervalClock {
            tz,
            len_ms: i64::from(minutes) * 60_000,
        }
    }

    /// The centre's time zone.
    #[must_use]
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// Interval length, milliseconds.
    #[must_use]
    pub fn len_ms(&self) -> i64 {
        self.len_ms
    }

    /// The zone's UTC offset in force at `t`, in milliseconds.
    #[must_use]
    pub fn offset_ms(&self, t: TimestampMs) -> i64 {
        match DateTime::<Utc>::from_timestamp_millis(t) {
            Some(utc) => {
                let off = self.tz.offset_from_utc_datetime(&utc.naive_utc());
                i64::from(off.fix().local_minus_utc()) * 1000
            }
            None => 0,
        }
    }

    /// The start of the interval containing `t`.
    #[must_use]
    pub fn interval_of(&self, t: TimestampMs) -> IntervalStart {
        IntervalStart(t - (t + self.offset_ms(t)).rem_euclid(self.len_ms))
    }

    /// The end of the interval that starts at `start` (exclusive).
    #[must_use]
    pub fn interval_end(&self, start: IntervalStart) -> TimestampMs {
        start.0 + self.len_ms
    }

    /// The start of the local day containing `t` (local midnight).
    #[must_use]
    pub fn day_of(&self, t: TimestampMs) -> TimestampMs {
        t - (t + self.offset_ms(t)).rem_euclid(86_400_000)
    }

    /// `start` as RFC 3339 local time with a numeric offset, e.g.
    /// `2026-11-23T09:00:00+08:00` (UTC is written `+00:00`).
    #[must_use]
    pub fn local_rfc3339(&self, t: TimestampMs) -> String {
        match DateTime::<Utc>::from_timestamp_millis(t) {
            Some(utc) => utc
                .with_timezone(&self.tz)
                .format("%Y-%m-%dT%H:%M:%S%:z")
                .to_string(),
            None => t.to_string(),
        }
    }
}

/// Remembers the last interval looked up, so a stream of events in the same
/// interval pays for one time-zone lookup, not one per event.
#[derive(Debug, Clone, Default)]
pub struct IntervalCursor {
    start: TimestampMs,
    end: TimestampMs,
}

impl IntervalCursor {
    /// The interval containing `t` and its end.
    pub fn locate(
        &mut self,
        clock: &IntervalClock,
        t: TimestampMs,
    ) -> (IntervalStart, TimestampMs) {
        if t >= self.start && t < self.end {
            return (IntervalStart(self.start), self.end);
        }
        let start = clock.interval_of(t);
        let end = clock.interval_end(start);
        // Only cache an interval with one offset throughout: across a DST
        // transition inside it, the formula must be evaluated per instant.
        if clock.offset_ms(start.0) == clock.offset_ms(end - 1) {
            self.start = start.0;
            self.end = end;
        } else {
            self.end = self.start;
        }
        (start, end)
    }
}

/// Splits `[from, to)` at interval boundaries, calling `f(interval, piece_ms)`.
pub fn for_each_piece(
    clock: &IntervalClock,
    cursor: &mut IntervalCursor,
    from: TimestampMs,
    to: TimestampMs,
    mut f: impl FnMut(IntervalStart, i64),
) {
    let mut t = from;
    while t < to {
        let (start, end) = cursor.locate(clock, t);
        // `end` is always after `t`; guard against a zone whose offset change
        // would put the next interval's start before `t`.
        let stop = end.max(t + 1).min(to);
        f(start, stop - t);
        t = stop;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn utc_intervals_are_aligned_and_half_open() {
        let c = IntervalClock::new(Tz::UTC, 15);
        let t = 1_795_424_400_000; // 2026-11-23T09:00:00Z
        assert_eq!(c.interval_of(t), IntervalStart(t));
        assert_eq!(c.interval_of(t - 1), IntervalStart(t - 15 * 60_000));
        assert_eq!(c.local_rfc3339(t), "2026-11-23T09:00:00+00:00");
    }

    #[test]
    fn half_hour_offsets_align_to_local_midnight() {
        let c = IntervalClock::new(chrono_tz::Asia::Kolkata, 60);
        // 2026-11-23T00:00:00+05:30 is 2026-11-22T18:30:00Z.
        let midnight = 1_795_372_200_000;
        assert_eq!(
            c.interval_of(midnight + 59 * 60_000),
            IntervalStart(midnight)
        );
        assert_eq!(c.local_rfc3339(midnight), "2026-11-23T00:00:00+05:30");
        assert_eq!(c.day_of(midnight + 5 * H), midnight);
    }

    #[test]
    fn fall_back_day_has_two_one_oclock_intervals() {
        let c = IntervalClock::new(chrono_tz::America::New_York, 60);
        // 2026-11-01: 02:00 EDT falls back to 01:00 EST at 06:00Z.
        let first = 1_793_509_200_000; // 05:00Z = 01:00 EDT
        let second = first + H; // 06:00Z = 01:00 EST
        assert_eq!(c.interval_of(first + 1), IntervalStart(first));
        assert_eq!(c.interval_of(second + 1), IntervalStart(second));
        assert_eq!(c.local_rfc3339(first), "2026-11-01T01:00:00-04:00");
        assert_eq!(c.local_rfc3339(second), "2026-11-01T01:00:00-05:00");
    }

    #[test]
    fn pieces_cut_exactly_at_boundaries() {
        let c = IntervalClock::new(Tz::UTC, 30);
        let mut cur = IntervalCursor::default();
        let mut pieces = vec![];
        for_each_piece(&c, &mut cur, 10 * 60_000, 75 * 60_000, |s, ms| {
            pieces.push((s.0, ms));
        });
        assert_eq!(
            pieces,
            vec![
                (0, 20 * 60_000),
                (30 * 60_000, 30 * 60_000),
                (60 * 60_000, 15 * 60_000)
            ]
        );
    }
}
