//! The in-process bus that replaces Kafka in the embedded default
//! (`architecture.md`, principle 5): events go to the writer as the same
//! JSON records a topic would carry, so they take the same path (parse,
//! validate, dead-letter, apply).

use std::sync::mpsc::SyncSender;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ingest::Event;

use super::{Inbox, Record};

/// Most records handed to the writer at once.
const BATCH: usize = 1024;

/// When events are released: everything up to `live_from` at once (history),
/// then at their event time, `speed` times faster than real time.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    pub live_from: i64,
    pub speed: f64,
}

/// Feeds `events` into a writer's inbox from a thread of its own; returns when
/// the events run out or the writer is gone.
pub fn feed(
    events: impl Iterator<Item = Event<'static>> + Send + 'static,
    inbox: SyncSender<Inbox>,
    pacing: Pacing,
    first_offset: i64,
) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("bus-feed".into())
        .spawn(move || {
            let started = Instant::now();
            let mut batch = Vec::with_capacity(BATCH);
            for (offset, e) in (first_offset..).zip(events) {
                if e.ts > pacing.live_from {
                    // Live: flush what is ready, then wait for this event's time.
                    if !batch.is_empty()
                        && inbox
                            .send(Inbox::Records(std::mem::take(&mut batch)))
                            .is_err()
                    {
                        return;
                    }
                    let due = Duration::from_secs_f64(
                        (e.ts - pacing.live_from) as f64 / 1000.0 / pacing.speed.max(1e-3),
                    );
                    if let Some(wait) = due.checked_sub(started.elapsed()) {
                        std::thread::sleep(wait);
                    }
                }
                batch.push(Record {
                    offset,
                    payload: e.to_json().into_bytes(),
                });
                if batch.len() == BATCH
                    && inbox
                        .send(Inbox::Records(std::mem::take(&mut batch)))
                        .is_err()
                {
                    return;
                }
            }
            if !batch.is_empty() {
                let _ = inbox.send(Inbox::Records(batch));
            }
        })
        .expect("spawn bus feeder")
}

/// Sends raw records (e.g. the lines of a JSON Lines file) to a writer, all at
/// once: they take the same path as records from a topic, bad ones included.
pub fn feed_lines(lines: Vec<Vec<u8>>, inbox: &SyncSender<Inbox>) -> Result<(), String> {
    let mut offsets = 0..;
    for chunk in lines.chunks(BATCH) {
        let records = chunk
            .iter()
            .zip(&mut offsets)
            .map(|(payload, offset)| Record {
                offset,
                payload: payload.clone(),
            })
            .collect();
        inbox
            .send(Inbox::Records(records))
            .map_err(|_| "the writer has stopped".to_owned())?;
    }
    Ok(())
}
