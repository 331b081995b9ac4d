//! The reconnection policy of the network adapters: exponential back-off.

use std::time::Duration;

/// Waits between connection attempts: `min` first, doubling up to `max`,
/// back to `min` once a session was established (a server that accepts us
/// and then drops the connection is retried as slowly as one that refuses).
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    /// A back-off whose first wait is `min` and whose longest is `max`.
    #[must_use]
    pub fn new(min: Duration, max: Duration) -> Self {
        Backoff {
            min,
            max,
            next: min,
        }
    }

    /// After a session that got as far as logging in: start again at `min`.
    pub fn reset(&mut self) {
        self.next = self.min;
    }

    /// The wait before the next attempt; the one after it doubles.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_max_and_resets() {
        let ms = Duration::from_millis;
        let mut b = Backoff::new(ms(500), ms(1500));
        let waits: Vec<_> = (0..4).map(|_| b.next_delay()).collect();
        assert_eq!(waits, [ms(500), ms(1000), ms(1500), ms(1500)]);
        b.reset();
        assert_eq!(b.next_delay(), ms(500));
    }
}
