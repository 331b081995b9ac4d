//! The adapters' heartbeats (`events.md`, "Heartbeats"): every
//! `--heartbeat-s` a `heartbeat` event with the adapter's source and whether
//! it is connected to its telephony system, also when no calls happen, so
//! the board tells a lost feed from a quiet queue.

use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;

use wallboard_events::{Event, Upstream};
use wallboard_pipeline::writer::unix_ms;

use super::Sink;

#[derive(Args, Debug, Clone)]
#[group(skip)]
pub(crate) struct HeartbeatArgs {
    /// Seconds between heartbeats: a `heartbeat` event with this adapter's
    /// source and whether it is connected upstream, sent also when no calls
    /// happen. The wallboard shows the feed as lost when they stop.
    #[arg(long, default_value_t = 15, value_name = "S", value_parser = clap::value_parser!(u64).range(1..))]
    pub heartbeat_s: u64,
}

/// When the next heartbeat of one adapter is due.
pub(super) struct Heartbeats {
    tenant: String,
    source: &'static str,
    every: Duration,
    next: Instant,
}

impl Heartbeats {
    /// The first one is due at once: a board learns of the feed on start.
    pub(super) fn new(args: &HeartbeatArgs, tenant: &str, source: &'static str) -> Self {
        Heartbeats {
            tenant: tenant.to_owned(),
            source,
            every: Duration::from_secs(args.heartbeat_s),
            next: Instant::now(),
        }
    }

    pub(super) fn every(&self) -> Duration {
        self.every
    }

    /// Sends a heartbeat if one is due.
    pub(super) fn tick(&mut self, sink: &mut Sink, upstream: Upstream) -> Result<()> {
        if Instant::now() < self.next {
            return Ok(());
        }
        self.send(sink, upstream)
    }

    /// Sends a heartbeat now (e.g. when the upstream connection changes).
    pub(super) fn send(&mut self, sink: &mut Sink, upstream: Upstream) -> Result<()> {
        self.next = Instant::now() + self.every;
        let hb = Event::heartbeat(&self.tenant, self.source, unix_ms(), upstream);
        sink.heartbeat(&hb)?;
        // A heartbeat that waits in a buffer tells nobody anything.
        sink.flush()
    }
}
