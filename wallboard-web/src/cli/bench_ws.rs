//! `wallboard bench ws`: WebSocket fan-out under load, in one process on
//! loopback: the simulator at a fixed event rate through the bus and the
//! writer, and many clients subscribed to the tenant.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use ingest::simulate::{SimConfig, Simulator};
use wallboard::config::AppConfig;
use wallboard::web::{self, AppState};
use wallboard_pipeline::bus::{feed, Bus, Pacing};
use wallboard_pipeline::writer::{self, unix_ms, LogDeadLetters, WriterConfig};
use wallboard_pipeline::Hub;

use super::bench::WsArgs;

pub(super) fn run(a: &WsArgs) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let (w, addr) = start_server().await?;
        feed_day(a, &w)?;
        let probe = Probe::default();
        let clients: Vec<_> = (0..a.clients)
            .map(|_| tokio::spawn(probe.clone().client(format!("ws://{addr}/ws?tenant=bench"))))
            .collect();
        // Let every client connect and get its first snapshot, then measure.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let before = probe.pushes.load(Ordering::Relaxed);
        probe.measuring.store(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_secs(a.seconds)).await;
        probe.measuring.store(0, Ordering::Relaxed);
        let delivered = probe.pushes.load(Ordering::Relaxed) - before;
        print_result(a, delivered, &probe.hist.lock().unwrap());
        for c in clients {
            c.abort();
        }
        Ok(())
    })
}

/// One writer with the default configuration behind a server on loopback.
async fn start_server() -> Result<(writer::Writer, std::net::SocketAddr)> {
    let config = AppConfig::default();
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

/// Events at `rate` per second: a big simulated day, paced.
fn feed_day(a: &WsArgs, w: &writer::Writer) -> Result<()> {
    let sim = Simulator::new(SimConfig {
        agents: 2_000,
        queues: 8,
        hours: 24.0,
        tenant: "bench".into(),
        start_ms: 1_795_392_000_000,
        ..Default::default()
    });
    let take = usize::try_from(a.rate * (a.seconds + 5))?;
    // Pacing is by event time: squeeze the day so `rate` events pass per second.
    let first = 1_795_392_000_000;
    let events: Vec<_> = sim.take(take).collect();
    let span = events.last().map_or(1, |e| e.ts - first).max(1);
    let speed = span as f64 / 1000.0 / (take as f64 / a.rate as f64);
    feed(
        events.into_iter(),
        Bus::new(w.handle.inbox.clone()),
        Pacing {
            live_from: first,
            speed,
        },
    );
    Ok(())
}

/// What the clients measure, shared by all of them.
#[derive(Clone)]
struct Probe {
    hist: Arc<Mutex<Histogram<u64>>>,
    pushes: Arc<AtomicU64>,
    /// 1 while the measured window runs.
    measuring: Arc<AtomicU64>,
}

impl Default for Probe {
    fn default() -> Self {
        let hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("valid bounds");
        Probe {
            hist: Arc::new(Mutex::new(hist)),
            pushes: Arc::default(),
            measuring: Arc::default(),
        }
    }
}

impl Probe {
    /// One subscribed client: counts pushes and, while measuring, their
    /// latency from `server_ms`.
    async fn client(self, url: String) {
        let Ok((mut ws, _)) = tokio_tungstenite::connect_async(url).await else {
            return;
        };
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Text(t) = msg {
                let now = unix_ms();
                // server_ms is the first field: no need to parse it all.
                let Some(sent) = t
                    .split("\"server_ms\":")
                    .nth(1)
                    .and_then(|r| r.split(',').next())
                    .and_then(|v| v.parse::<i64>().ok())
                else {
                    continue;
                };
                self.pushes.fetch_add(1, Ordering::Relaxed);
                if self.measuring.load(Ordering::Relaxed) == 1 {
                    let lat_us = (u64::try_from(now - sent).unwrap_or(0) * 1000).max(1);
                    let _ = self.hist.lock().unwrap().record(lat_us);
                }
            }
        }
    }
}

fn print_result(a: &WsArgs, delivered: u64, h: &Histogram<u64>) {
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{} clients, {} events/s for {} s: {} pushes ({:.1} per client per s), push latency p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        a.clients,
        a.rate,
        a.seconds,
        delivered,
        delivered as f64 / a.clients as f64 / a.seconds as f64,
        ms(0.5),
        ms(0.99),
        h.max() as f64 / 1000.0
    );
}
