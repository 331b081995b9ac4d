//! One server of the bench (`bench ws --serve-only`, started by the bench
//! itself): the simulator at a fixed rate through the bus and the writer,
//! behind axum on loopback. It prints its WebSocket URL, then serves until
//! its standard input closes (the bench ends, or dies).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;
use std::time::Duration;

use anyhow::Result;
use tokio::sync::watch;

use ingest::simulate::{SimConfig, Simulator};
use wallboard::config::AppConfig;
use wallboard::web::{self, AppState};
use wallboard_events::Event;
use wallboard_pipeline::bus::{feed, Bus, Pacing};
use wallboard_pipeline::writer::{self, LogDeadLetters, WriterConfig};
use wallboard_pipeline::Hub;

use super::super::bench::WsArgs;

/// The simulated day starts here (event time).
const DAY_START_MS: i64 = 1_795_392_000_000;

pub(super) fn serve_only(a: &WsArgs) -> Result<()> {
    wallboard::fd_limit::raise_for(a.clients as u64, "--clients")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let (w, addr) = start_server(a.clients).await?;
        feed_day(a, &w)?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "ws://{addr}/ws")?;
        out.flush()?;
        drop(out);
        // Until the bench closes our stdin (or exits): nothing is read.
        tokio::task::spawn_blocking(|| std::io::copy(&mut std::io::stdin(), &mut std::io::sink()))
            .await??;
        drop(w);
        Ok(())
    })
}

/// One writer with the default configuration (room for `clients`
/// connections) behind a server on loopback.
async fn start_server(clients: usize) -> Result<(writer::Writer, std::net::SocketAddr)> {
    let mut config = AppConfig::default();
    config.server.max_connections = config.server.max_connections.max(clients + 64);
    let (tx, rx) = watch::channel(0);
    let w = writer::spawn(
        WriterConfig {
            partition: 0,
            params: config.metrics.validate()?.into(),
            allowed_lateness_ms: i64::MAX / 4,
            max_future_ms: None,
            publish_interval: Duration::from_millis(config.server.publish_interval_ms),
            snapshot_interval: Duration::from_secs(3600),
            snapshots: None,
            freshness: config.freshness,
        },
        Box::new(LogDeadLetters),
        tx,
    );
    let hub = Hub::new(vec![w.handle.clone()], rx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state = AppState::new(hub, config);
    tokio::spawn(web::serve(listener, state, std::future::pending()));
    Ok((w, addr))
}

/// Events at `rate` per second from two simulated days of `--tenants`
/// tenants (`--agents` agents and 8 queues each), generated as they are
/// fed (nothing is held in memory, so the server's resident memory is the
/// server's). Pacing is by event time: the first 2 s worth of events set
/// how much the day is squeezed.
fn feed_day(a: &WsArgs, w: &writer::Writer) -> Result<()> {
    let mut events = Merged::new(
        (0..a.tenants)
            .map(|i| {
                Simulator::new(SimConfig {
                    seed: i as u64 + 1,
                    agents: a.agents,
                    queues: 8,
                    hours: 48.0,
                    tenant: super::tenant_name(a, i),
                    start_ms: DAY_START_MS,
                    ..Default::default()
                })
            })
            .collect(),
    );
    let probe: Vec<_> = events.by_ref().take(usize::try_from(a.rate * 2)?).collect();
    let span = probe.last().map_or(1, |e| e.ts - DAY_START_MS).max(1);
    let speed = span as f64 / 2_000.0;
    feed(
        probe.into_iter().chain(events),
        Bus::new(w.handle.inbox.clone()),
        Pacing {
            live_from: DAY_START_MS,
            speed,
        },
    );
    Ok(())
}

/// The events of several simulators in event-time order.
struct Merged {
    sims: Vec<Simulator>,
    /// The next event of each simulator, earliest first.
    heads: BinaryHeap<Reverse<Head>>,
}

/// A simulator's next event, ordered by time (then simulator).
struct Head(i64, usize, Event<'static>);

impl PartialEq for Head {
    fn eq(&self, o: &Self) -> bool {
        (self.0, self.1) == (o.0, o.1)
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Head {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.0, self.1).cmp(&(o.0, o.1))
    }
}

impl Merged {
    fn new(mut sims: Vec<Simulator>) -> Self {
        let heads = sims
            .iter_mut()
            .enumerate()
            .filter_map(|(i, s)| s.next().map(|e| Reverse(Head(e.ts, i, e))))
            .collect();
        Merged { sims, heads }
    }
}

impl Iterator for Merged {
    type Item = Event<'static>;

    fn next(&mut self) -> Option<Event<'static>> {
        let Reverse(Head(_, i, e)) = self.heads.pop()?;
        if let Some(n) = self.sims[i].next() {
            self.heads.push(Reverse(Head(n.ts, i, n)));
        }
        Some(e)
    }
}
