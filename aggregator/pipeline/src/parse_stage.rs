//! A partition's parse stage: a thread between the source and the writer
//! that turns each batch of records into events, so JSON parsing (three
//! quarters of the writer's work per record, BENCHMARKS.md "Catch-up")
//! runs beside the writer instead of on its thread.
//!
//! Order is kept: the stage forwards every message in the order it came.
//! A record that does not parse is passed on with its error, and the writer
//! dead-letters it exactly as it would have (same code, same counter).
//! The events borrow their strings from the batch's shared buffer, which
//! travels with them (`yoke`), so parsing allocates no more than it did on
//! the writer: one vector of events per batch.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use wallboard_events::{parse_event, Event, EventError};
use yoke::{Yoke, Yokeable};

use crate::{Inbox, Record, Records};

/// Each record's parse result, borrowing from the batch.
#[derive(Yokeable)]
struct Parsed<'a> {
    events: Vec<Result<Event<'a>, EventError>>,
}

/// A batch of records with every record parsed.
pub struct ParsedRecords(Yoke<Parsed<'static>, Box<Records>>);

impl ParsedRecords {
    /// Parses every record of `records`.
    #[must_use]
    pub fn parse(records: Records) -> Self {
        Self(Yoke::attach_to_cart(Box::new(records), |r: &Records| {
            Parsed {
                events: r.iter().map(|r| parse_event(r.payload)).collect(),
            }
        }))
    }

    /// Each record in log order with its parse result.
    pub fn iter(&self) -> impl Iterator<Item = (Record<'_>, &Result<Event<'_>, EventError>)> {
        self.0.backing_cart().iter().zip(&self.0.get().events)
    }

    /// How many records the batch holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.get().events.len()
    }

    /// Whether the batch holds no record.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.get().events.is_empty()
    }
}

impl std::fmt::Debug for ParsedRecords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ParsedRecords({} records)", self.len())
    }
}

/// A running parse stage.
pub struct Stage {
    /// Where the source sends the partition's messages.
    pub inbox: SyncSender<Inbox>,
    /// The stage's thread; it ends when its inbox closes or its writer
    /// is gone.
    pub thread: JoinHandle<()>,
}

/// Starts the parse stage of `partition` in front of `writer`, with room
/// for `capacity` messages.
#[must_use]
pub fn spawn(partition: i32, writer: SyncSender<Inbox>, capacity: usize) -> Stage {
    let (inbox, rx) = sync_channel(capacity);
    let thread = std::thread::Builder::new()
        .name(format!("parse-{partition}"))
        .spawn(move || forward(&rx, &writer))
        .expect("spawn parse thread");
    Stage { inbox, thread }
}

fn forward(rx: &Receiver<Inbox>, writer: &SyncSender<Inbox>) {
    for msg in rx {
        let msg = match msg {
            Inbox::Records(r) => Inbox::Parsed(ParsedRecords::parse(r)),
            other => other,
        };
        let stop = matches!(msg, Inbox::Stop);
        if writer.send(msg).is_err() || stop {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{spawn, Inbox, ParsedRecords};
    use std::sync::mpsc::sync_channel;

    #[test]
    fn a_batch_is_parsed_in_order_and_a_bad_record_keeps_its_error() {
        let ok = br#"{"v":1,"id":"c1-q","ts":1763888400000,"kind":"call_queued","call":"c1","queue":"q"}"#;
        let batch = [(7, &ok[..]), (8, b"not json"), (9, ok)]
            .into_iter()
            .collect();
        let parsed = ParsedRecords::parse(batch);
        let got: Vec<(i64, bool)> = parsed.iter().map(|(r, e)| (r.offset, e.is_ok())).collect();
        assert_eq!(got, [(7, true), (8, false), (9, true)]);
        let (r, e) = parsed.iter().nth(1).unwrap();
        assert_eq!(r.payload, b"not json");
        assert_eq!(e.as_ref().unwrap_err().code().as_str(), "not_json");
    }

    #[test]
    fn the_stage_forwards_every_message_in_order_then_stops() {
        let (writer, from_stage) = sync_channel(8);
        let stage = spawn(0, writer, 8);
        let batch = std::iter::once((0, b"{}")).collect();
        stage.inbox.send(Inbox::HighWatermark(5)).unwrap();
        stage.inbox.send(Inbox::Records(batch)).unwrap();
        stage.inbox.send(Inbox::Stop).unwrap();
        stage.thread.join().unwrap();
        let got: Vec<&str> = from_stage
            .try_iter()
            .map(|m| match m {
                Inbox::HighWatermark(5) => "watermark",
                Inbox::Parsed(p) if p.len() == 1 => "parsed",
                Inbox::Stop => "stop",
                _ => "other",
            })
            .collect();
        assert_eq!(got, ["watermark", "parsed", "stop"]);
    }
}
