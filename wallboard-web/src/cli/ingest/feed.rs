//! The publish-and-flush loop every `wallboard ingest` adapter shares:
//! what a source produced goes to the [`Sink`] (events, dead letters with
//! their origin), heartbeats say whether the source is connected, and what
//! was published is made durable every second and on each disconnection.
//! Each adapter supplies only its source and its translator.

use std::time::{Duration, Instant};

use anyhow::Result;

use ingest::adapter::{Output, Skipped, Stats};
use ingest::queue_log::LineError;
use wallboard_events::{Event, Upstream};

use super::heartbeat::Heartbeats;
use super::{Sink, Skip};

/// How often what was published is made durable (and on every
/// disconnection, and at the end).
pub(super) const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// An adapter's output, on its way to the sink.
pub(super) struct Feed<'s> {
    pub sink: &'s mut Sink,
    /// Prefix of dead-letter origins: `ami:HOST:PORT`, a file name, ….
    origin: String,
    /// None for an import, which ends when its file does.
    heartbeats: Option<Heartbeats>,
    /// What the last heartbeat said; `None` before the first one.
    upstream: Option<Upstream>,
    last_flush: Instant,
}

impl<'s> Feed<'s> {
    pub(super) fn new(sink: &'s mut Sink, origin: String, heartbeats: Option<Heartbeats>) -> Self {
        Feed {
            sink,
            origin,
            heartbeats,
            upstream: None,
            last_flush: Instant::now(),
        }
    }

    /// How often [`Feed::tick`] should be called.
    pub(super) fn tick_every(&self) -> Duration {
        let beat = self
            .heartbeats
            .as_ref()
            .map_or(FLUSH_EVERY, Heartbeats::every);
        // A quarter: a due heartbeat or flush is at most that late.
        FLUSH_EVERY.min(beat) / 4
    }

    /// Publishes one report of a network client.
    pub(super) fn output(&mut self, o: Output) -> Result<()> {
        match o {
            Output::Event(e) => self.event(&e),
            Output::Skipped(s) => self.skipped(&s),
            // The clients log (dis)connections themselves.
            Output::Connected { .. } => self.upstream(Upstream::Up),
            Output::Disconnected { .. } => {
                // Make durable what came before.
                self.flush()?;
                self.upstream(Upstream::Down)
            }
            Output::Tick => self.tick(),
        }
    }

    pub(super) fn event(&mut self, e: &Event<'_>) -> Result<()> {
        self.sink.event(e)
    }

    /// A dead letter from `<origin>#<msgno>`.
    fn skipped(&mut self, s: &Skipped) -> Result<()> {
        self.sink.skipped(&Skip {
            raw: &s.raw,
            code: s.code,
            reason: &s.reason,
            origin: &format!("{}#{}", self.origin, s.msgno),
        })
    }

    /// A `queue_log` line that could not be used: from `<origin>:<line>`.
    pub(super) fn skipped_line(&mut self, raw: &[u8], e: &LineError) -> Result<()> {
        self.sink.skipped(&Skip {
            raw,
            code: e.problem.code(),
            reason: &e.problem.to_string(),
            origin: &format!("{}:{}", self.origin, e.line),
        })
    }

    /// The source is (dis)connected: a heartbeat says so at once, the
    /// first time and whenever it changes (`adapters.md`, "Heartbeats").
    pub(super) fn upstream(&mut self, now: Upstream) -> Result<()> {
        if self.upstream == Some(now) {
            return Ok(());
        }
        self.upstream = Some(now);
        match &mut self.heartbeats {
            Some(h) => h.send(self.sink, now),
            None => Ok(()),
        }
    }

    /// A heartbeat if one is due.
    pub(super) fn beat(&mut self) -> Result<()> {
        match &mut self.heartbeats {
            // Down until the source says it is connected.
            Some(h) => h.tick(self.sink, self.upstream.unwrap_or(Upstream::Down)),
            None => Ok(()),
        }
    }

    /// Time passed: a heartbeat when one is due, a flush every second.
    pub(super) fn tick(&mut self) -> Result<()> {
        self.beat()?;
        if self.last_flush.elapsed() >= FLUSH_EVERY {
            self.flush()?;
        }
        Ok(())
    }

    pub(super) fn flush(&mut self) -> Result<()> {
        self.last_flush = Instant::now();
        self.sink.flush()
    }
}

/// How a network adapter's closing line names its totals.
pub(super) struct Wording {
    pub ignored: &'static str,
    pub skipped: &'static str,
    pub reconnects: &'static str,
}

/// The closing line of a network adapter's run, on stderr.
pub(super) fn summary(sink: &Sink, stats: &Stats, w: &Wording) {
    eprintln!(
        "ingest: {} events published to {}, {} {}, {} {}, {} {}",
        sink.sent,
        sink.describe(),
        stats.ignored,
        w.ignored,
        sink.skipped,
        w.skipped,
        stats.reconnects,
        w.reconnects
    );
}
