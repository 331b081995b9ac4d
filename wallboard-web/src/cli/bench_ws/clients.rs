//! The bench's WebSocket clients: each subscribes (to deltas unless
//! `--full-pushes`) and records, for every push, the time from the server's stamp (`server_ms`,
//! set when the push is serialized, once per subscription) to its receipt.
//! Servers and clients run on the same machine, so they share the clock.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use hdrhistogram::Histogram;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use wallboard_pipeline::writer::unix_ms;

/// Histograms the clients record into, so that they do not all wait for one lock.
const SHARDS: usize = 16;
/// Connections being opened at once: more overflow the servers' accept queues.
const CONNECTING: usize = 128;
/// Attempts at opening one connection.
const ATTEMPTS: u32 = 5;

/// What the clients measure, shared by all of them.
#[derive(Clone)]
pub(super) struct Probe {
    shards: Arc<Vec<Mutex<Histogram<u64>>>>,
    /// Pushes received (all of them, measured or not).
    pub pushes: Arc<AtomicU64>,
    /// Bytes of the pushes received.
    pub bytes: Arc<AtomicU64>,
    /// Of the pushes received, deltas.
    pub deltas: Arc<AtomicU64>,
    /// Clients that have had their first push.
    pub ready: Arc<AtomicU64>,
    /// Clients whose connection could not be opened.
    pub failed: Arc<AtomicU64>,
    /// Clients whose connection ended before the bench did.
    pub lost: Arc<AtomicU64>,
    /// True while the measured window runs.
    pub measuring: Arc<AtomicBool>,
    connecting: Arc<Semaphore>,
}

impl Default for Probe {
    fn default() -> Self {
        let hist = || {
            Mutex::new(Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("valid bounds"))
        };
        Probe {
            shards: Arc::new((0..SHARDS).map(|_| hist()).collect()),
            pushes: Arc::default(),
            bytes: Arc::default(),
            deltas: Arc::default(),
            ready: Arc::default(),
            failed: Arc::default(),
            lost: Arc::default(),
            measuring: Arc::default(),
            connecting: Arc::new(Semaphore::new(CONNECTING)),
        }
    }
}

impl Probe {
    /// The latencies recorded in the measured window (µs), all clients together.
    pub(super) fn histogram(&self) -> Histogram<u64> {
        let mut all = self.shards[0].lock().expect("no client panics").clone();
        for s in &self.shards[1..] {
            all.add(&*s.lock().expect("no client panics"))
                .expect("same bounds");
        }
        all
    }

    /// Client number `n` of `url`: connects (a few attempts, a bounded number
    /// at once), then counts pushes until the bench ends.
    pub(super) async fn client(self, n: usize, url: String) {
        let config = WebSocketConfig::default()
            .read_buffer_size(8 << 10)
            .write_buffer_size(0);
        let mut ws = None;
        for attempt in 0..ATTEMPTS {
            let permit = self.connecting.acquire().await.expect("never closed");
            let opened =
                tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), true)
                    .await;
            drop(permit);
            match opened {
                Ok((s, _)) => {
                    ws = Some(s);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200 << attempt)).await,
            }
        }
        let Some(mut ws) = ws else {
            self.failed.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let mut first = true;
        while let Some(Ok(msg)) = ws.next().await {
            let Message::Text(t) = msg else { continue };
            let now = unix_ms();
            let Some(sent) = server_ms(&t) else { continue };
            if std::mem::take(&mut first) {
                self.ready.fetch_add(1, Ordering::Relaxed);
            }
            self.pushes.fetch_add(1, Ordering::Relaxed);
            self.bytes.fetch_add(t.len() as u64, Ordering::Relaxed);
            if t.starts_with(r#"{"type":"delta""#) {
                self.deltas.fetch_add(1, Ordering::Relaxed);
            }
            if self.measuring.load(Ordering::Relaxed) {
                let lat_us = (u64::try_from(now - sent).unwrap_or(0) * 1000).max(1);
                let _ = self.shards[n % SHARDS]
                    .lock()
                    .expect("no client panics")
                    .record(lat_us);
            }
        }
        self.lost.fetch_add(1, Ordering::Relaxed);
    }
}

/// A push's `server_ms`, read without parsing the rest (it comes first).
fn server_ms(text: &str) -> Option<i64> {
    text.split("\"server_ms\":")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|v| v.parse().ok())
}
