//! Where an adapter's receive times come from: the wall clock in
//! production, a fixed or stepped one in tests.

use wallboard_events::event::TimestampMs;

/// A source of the current time, in Unix epoch milliseconds.
pub trait Clock: Send + Sync + 'static {
    /// The time now, Unix epoch milliseconds.
    fn now_ms(&self) -> TimestampMs;
}

/// The wall clock: an adapter reports when it heard of something.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> TimestampMs {
        system_clock()
    }
}

/// A plain function is a clock too (tests pass one in a config).
impl Clock for fn() -> TimestampMs {
    fn now_ms(&self) -> TimestampMs {
        self()
    }
}

/// The system clock, in epoch milliseconds (0 before 1970, saturating
/// far in the future).
#[must_use]
pub fn system_clock() -> TimestampMs {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}
