//! Which event times a tenant's engine accepts (`events.md`, "Event time
//! limits"). An event far from the others must never become the tenant's
//! "now": every later event would be late, and accrual up to it would be
//! unbounded. Pure: judged against event time only (the wall-clock check of
//! live ingest is the pipeline writer's).

use wallboard_events::event::TS_LIMIT_MS;
use wallboard_events::{DeadLetterCode, TimestampMs};

/// How many events a tenant must have applied before its watermark is
/// trusted to judge others: the first events of a tenant may be the wrong
/// ones (one 1975 line before a day of 2026 lines must not make the day
/// "far ahead").
pub const TRUSTED_AFTER_EVENTS: u64 = 100;

/// Why an event's time was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimeRejection {
    /// The time is before 1970 or after 9999 (`events.md`, "Event time limits").
    #[error("event time {ts} is outside 0..{TS_LIMIT_MS} (Unix epoch milliseconds, 1970 to 9999)")]
    OutOfRange {
        /// The event's `ts`, UTC ms.
        ts: TimestampMs,
    },
    /// More than `max_ahead_hours` ahead of the tenant's newest event.
    #[error("event time {ts} is {ahead_ms} ms ahead of the tenant's newest event, more than metrics.max_ahead_hours allows")]
    FarAhead {
        /// The event's `ts`, UTC ms.
        ts: TimestampMs,
        /// How far it is ahead of the tenant's newest event, milliseconds.
        ahead_ms: i64,
    },
}

impl TimeRejection {
    /// Every code [`TimeRejection::code`] gives.
    pub const CODES: &'static [DeadLetterCode] =
        &[DeadLetterCode::TsOutOfRange, DeadLetterCode::FarAhead];

    /// A short stable code for counters and dead-letter headers.
    #[must_use]
    pub fn code(&self) -> DeadLetterCode {
        match self {
            TimeRejection::OutOfRange { .. } => DeadLetterCode::TsOutOfRange,
            TimeRejection::FarAhead { .. } => DeadLetterCode::FarAhead,
        }
    }
}

/// Judges `ts` against a tenant's watermark (its newest event time) after
/// `applied` events.
pub fn check(
    ts: TimestampMs,
    watermark: Option<TimestampMs>,
    applied: u64,
    max_ahead_ms: i64,
) -> Result<(), TimeRejection> {
    if !(0..TS_LIMIT_MS).contains(&ts) {
        return Err(TimeRejection::OutOfRange { ts });
    }
    match watermark {
        Some(w) if applied >= TRUSTED_AFTER_EVENTS && ts - w > max_ahead_ms => {
            Err(TimeRejection::FarAhead {
                ts,
                ahead_ms: ts - w,
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn far_ahead_of_a_trusted_watermark_is_rejected() {
        let w = Some(1_795_424_400_000);
        let t = 1_795_424_400_000 + 8 * DAY;
        assert_eq!(check(t, w, 10, 7 * DAY), Ok(()), "not trusted yet");
        assert_eq!(
            check(t, w, TRUSTED_AFTER_EVENTS, 7 * DAY)
                .unwrap_err()
                .code(),
            "far_ahead"
        );
        // A weekend (or a week) between events is not far ahead.
        assert_eq!(check(t, w, TRUSTED_AFTER_EVENTS, 8 * DAY), Ok(()));
        // Late events are the pipeline's business, not this check's.
        assert_eq!(check(0, w, TRUSTED_AFTER_EVENTS, DAY), Ok(()));
    }

    #[test]
    fn times_outside_the_contract_are_rejected_whatever_the_watermark() {
        for ts in [i64::MIN, -1, TS_LIMIT_MS, i64::MAX] {
            assert_eq!(
                check(ts, None, 0, DAY).unwrap_err().code(),
                "ts_out_of_range"
            );
        }
        assert_eq!(check(TS_LIMIT_MS - 1, None, 0, DAY), Ok(()));
    }
}
