//! Numbering the canonical events one source record maps to.

use std::borrow::Cow;
use std::sync::Arc;

use wallboard_events::event::{Event, EventBody, TimestampMs, SCHEMA_VERSION};

/// Appends the events of one source record (a `queue_log` line, an AMI or
/// `FreeSWITCH` event) to `out`, with ids `<base><sep><n>`, `n` counting
/// from 1: the same record always gives the same ids, so reading it again
/// gives duplicates the aggregator drops.
pub struct Emitter<'o> {
    out: &'o mut Vec<Event<'static>>,
    tenant: Arc<str>,
    source: &'static str,
    base: String,
    sep: char,
    ts: TimestampMs,
    n: u32,
}

impl<'o> Emitter<'o> {
    /// Events of `tenant` from `source` (the adapter's `SOURCE`), at `ts`.
    pub fn new(
        out: &'o mut Vec<Event<'static>>,
        tenant: Arc<str>,
        source: &'static str,
        ts: TimestampMs,
        base: String,
        sep: char,
    ) -> Self {
        Emitter {
            out,
            tenant,
            source,
            base,
            sep,
            ts,
            n: 0,
        }
    }

    /// The time of the events (unless pushed with [`Emitter::push_at`]).
    #[must_use]
    pub fn ts(&self) -> TimestampMs {
        self.ts
    }

    /// An emitter for events at another time under another id base.
    pub fn under(&mut self, ts: TimestampMs, base: String) -> Emitter<'_> {
        Emitter {
            out: self.out,
            tenant: self.tenant.clone(),
            source: self.source,
            base,
            sep: self.sep,
            ts,
            n: 0,
        }
    }

    /// An event at the record's time, with the next id.
    pub fn push(&mut self, body: EventBody<'static>) {
        self.push_at(self.ts, body);
    }

    /// An event at another time than the record's, numbered with it.
    pub fn push_at(&mut self, ts: TimestampMs, body: EventBody<'static>) {
        self.n += 1;
        self.out.push(Event {
            v: SCHEMA_VERSION,
            id: Cow::Owned(format!("{}{}{}", self.base, self.sep, self.n)),
            ts,
            tenant: Cow::Owned(self.tenant.to_string()),
            source: Some(Cow::Borrowed(self.source)),
            body,
        });
    }
}
