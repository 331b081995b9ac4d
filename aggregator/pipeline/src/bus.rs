//! The in-process bus that replaces Kafka in the embedded default
//! (`architecture.md`, principle 5): events go to the writer as the same
//! JSON records a topic would carry, so they take the same path (parse,
//! validate, dead-letter, apply).

use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wallboard_events::Event;

use crate::{Inbox, Records};

/// Most records handed to the writer at once.
const BATCH: usize = 1024;

/// When events are released: everything up to `live_from` at once (history),
/// then at their event time, `speed` times faster than real time.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// Event time (Unix ms) up to which events are released at once; later ones at their event time.
    pub live_from: i64,
    /// Replay speed: 1.0 is real time, 2.0 twice as fast.
    pub speed: f64,
}

/// The bus's producer side: assigns offsets in the order records reach the
/// writer, so several sources (the simulator, the HTTP ingest) can share it.
/// The writer a bus feeds has stopped: nothing more can be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the writer has stopped")]
pub struct WriterStopped;

/// The lock is taken once per batch by producers, never by the writer.
pub struct Bus {
    state: Mutex<(i64, SyncSender<Inbox>)>,
}

impl Bus {
    /// A bus feeding the writer's `inbox`, offsets starting at 0.
    #[must_use]
    pub fn new(inbox: SyncSender<Inbox>) -> Arc<Self> {
        Arc::new(Bus {
            state: Mutex::new((0, inbox)),
        })
    }

    /// Sends payloads as the next records; waits while the writer is busy.
    pub fn send(&self, payloads: Vec<Vec<u8>>) -> Result<(), WriterStopped> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let first = state.0;
        let records: Records = (first..).zip(payloads).collect();
        // A log's length fits an offset: i64 counts 9.2e18 records.
        state.0 += i64::try_from(records.len()).expect("fewer than 2^63 records");
        state
            .1
            .send(Inbox::Records(records))
            .map_err(|_| WriterStopped)
    }
}

/// Feeds `events` to the bus from a thread of its own; returns when the
/// events run out or the writer is gone.
pub fn feed(
    events: impl Iterator<Item = Event<'static>> + Send + 'static,
    bus: Arc<Bus>,
    pacing: Pacing,
) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("bus-feed".into())
        .spawn(move || {
            let started = Instant::now();
            let mut batch = Vec::with_capacity(BATCH);
            for e in events {
                if e.ts > pacing.live_from {
                    // Live: flush what is ready, then wait for this event's time.
                    if !batch.is_empty() && bus.send(std::mem::take(&mut batch)).is_err() {
                        return;
                    }
                    let due = Duration::from_secs_f64(
                        (e.ts - pacing.live_from) as f64 / 1000.0 / pacing.speed.max(1e-3),
                    );
                    if let Some(wait) = due.checked_sub(started.elapsed()) {
                        std::thread::sleep(wait);
                    }
                }
                batch.push(e.to_json().into_bytes());
                if batch.len() == BATCH && bus.send(std::mem::take(&mut batch)).is_err() {
                    return;
                }
            }
            if !batch.is_empty() {
                let _ = bus.send(batch);
            }
        })
        .expect("spawn bus feeder")
}

/// Sends raw records (e.g. the lines of a JSON Lines file) to the bus, all at
/// once: they take the same path as records from a topic, bad ones included.
pub fn feed_lines(lines: Vec<Vec<u8>>, bus: &Bus) -> Result<(), WriterStopped> {
    let mut lines = lines.into_iter().peekable();
    while lines.peek().is_some() {
        bus.send(lines.by_ref().take(BATCH).collect())?;
    }
    Ok(())
}
