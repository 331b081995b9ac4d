//! The Kafka consumer's errors as the operator sees them: how many there
//! have been and the last one, for `/api/v1/status` `consumer` and
//! `wallboard_kafka_consumer_errors_total` (`architecture.md`, "Consumer
//! errors"). An instance that cannot join its group or read its topic
//! otherwise only shows an empty `partitions` list, with the reason in the
//! log alone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::Serialize;

use crate::writer::unix_ms;

/// Errors the consumer has met, shared with whoever reports them.
#[derive(Debug, Default)]
pub struct ConsumerErrors {
    count: AtomicU64,
    last: Mutex<Option<LastError>>,
}

/// The newest error and when it came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastError {
    /// librdkafka's description of it.
    pub error: String,
    /// When it was met, Unix ms.
    pub at_ms: i64,
}

/// What `/api/v1/status` shows under `consumer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsumerErrorStatus {
    /// Errors since start.
    pub errors: u64,
    /// The newest, if any.
    pub last: Option<LastError>,
}

impl ConsumerErrors {
    /// Counts `error` and keeps it as the newest.
    pub fn record(&self, error: &impl std::fmt::Display) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let last = LastError {
            error: error.to_string(),
            at_ms: unix_ms(),
        };
        *self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(last);
    }

    /// Errors since start.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// The count and the newest error.
    #[must_use]
    pub fn status(&self) -> ConsumerErrorStatus {
        let last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        ConsumerErrorStatus {
            errors: self.count(),
            last,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_error_is_kept_and_every_one_counted() {
        let e = ConsumerErrors::default();
        assert_eq!(
            e.status(),
            ConsumerErrorStatus {
                errors: 0,
                last: None
            }
        );
        e.record(&"first");
        e.record(&"Broker: Unknown topic or partition");
        let s = e.status();
        assert_eq!(s.errors, 2);
        let last = s.last.unwrap();
        assert_eq!(last.error, "Broker: Unknown topic or partition");
        assert!(last.at_ms > 0);
    }
}
