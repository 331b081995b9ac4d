//! `GET /ws`: a client subscribes to a tenant and a set of queues, gets a full
//! snapshot, then updates coalesced to at most one per push interval. A slow
//! client always skips to the latest state: nothing is queued per client.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::time::{interval, Instant, MissedTickBehavior};

use aggregator::alerts::ActiveAlert;
use aggregator::LiveSnapshot;

use super::AppState;
use crate::config::QueueTarget;
use aggregator::pipeline::writer::unix_ms;

/// How often the server pings, and how long it waits for any sign of life.
const PING_EVERY: Duration = Duration::from_secs(15);
const DEAD_AFTER: Duration = Duration::from_secs(45);

#[derive(Deserialize, Default, Clone)]
pub struct Subscription {
    tenant: Option<String>,
    /// Comma-separated queue names; empty: all queues.
    queues: Option<String>,
}

pub async fn upgrade(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(sub): Query<Subscription>,
    ws: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&s, &headers) {
        return (StatusCode::FORBIDDEN, "origin not allowed\n").into_response();
    }
    ws.on_upgrade(move |socket| client(socket, s, sub))
}

/// A browser's `Origin` must be this server's own host or an allowed one.
/// Clients that send no `Origin` (not browsers) are let through.
fn origin_allowed(s: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if s.config.server.allowed_origins.iter().any(|o| o == origin) {
        return true;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host)
}

#[derive(Serialize)]
struct Push<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    server_ms: i64,
    tenant: &'a str,
    snapshot: Option<Filtered<'a>>,
    targets: Vec<QueueTarget>,
    /// Alerts firing now, for the banner.
    alerts: Vec<ActiveAlert>,
}

/// A snapshot restricted to the subscribed queues.
#[derive(Serialize)]
struct Filtered<'a> {
    tz: &'a str,
    now_ms: i64,
    interval_start_ms: i64,
    interval_end_ms: i64,
    day_start_ms: i64,
    rolling_window_minutes: u32,
    sl_thresholds_s: &'a [u32],
    queues: Vec<&'a aggregator::live::QueueLive>,
    agents: Vec<&'a aggregator::live::AgentLiveRow>,
}

fn filtered<'a>(snap: &'a LiveSnapshot, queues: &[String]) -> Filtered<'a> {
    let wanted = |q: &str| queues.is_empty() || q == "*" || queues.iter().any(|w| w == q);
    Filtered {
        tz: &snap.tz,
        now_ms: snap.now_ms,
        interval_start_ms: snap.interval_start_ms,
        interval_end_ms: snap.interval_end_ms,
        day_start_ms: snap.day_start_ms,
        rolling_window_minutes: snap.rolling_window_minutes,
        sl_thresholds_s: &snap.sl_thresholds_s,
        queues: snap.queues.iter().filter(|q| wanted(&q.queue)).collect(),
        agents: snap
            .agents
            .iter()
            .filter(|a| queues.is_empty() || a.queues.iter().any(|q| wanted(q)))
            .collect(),
    }
}

/// The push for a tenant and a set of queues. Serialized once per published
/// snapshot and subscription, however many clients share them: the bytes
/// are reference-counted.
fn push_text(s: &AppState, tenant: &str, queues: &[String]) -> Utf8Bytes {
    let snap = s.hub.live(tenant);
    let active = s.alerts.active.borrow().clone();
    let key = (tenant.to_owned(), queues.join(","));
    if let Some(sn) = &snap {
        let cache = s.push_cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((cached, alerts, text)) = cache.get(&key) {
            if Arc::ptr_eq(cached, sn) && Arc::ptr_eq(alerts, &active) {
                return text.clone();
            }
        }
    }
    let push = Push {
        kind: "snapshot",
        server_ms: unix_ms(),
        tenant,
        snapshot: snap.as_deref().map(|sn| filtered(sn, queues)),
        targets: snap
            .as_deref()
            .map(|sn| {
                sn.queues
                    .iter()
                    .map(|q| s.config.target_for(&q.queue))
                    .collect()
            })
            .unwrap_or_default(),
        alerts: active
            .iter()
            .filter(|a| a.tenant == tenant)
            .cloned()
            .collect(),
    };
    let text = Utf8Bytes::from(serde_json::to_string(&push).expect("push serializes"));
    if let Some(sn) = snap {
        let mut cache = s.push_cache.lock().unwrap_or_else(|e| e.into_inner());
        // Subscriptions are few (one per wallboard layout); keep it bounded anyway.
        if cache.len() > 1024 {
            cache.clear();
        }
        cache.insert(key, (sn, active, text.clone()));
    }
    text
}

/// Client → server: change the subscription.
#[derive(Deserialize)]
struct ClientMessage {
    #[serde(rename = "type")]
    kind: String,
    tenant: Option<String>,
    queues: Option<Vec<String>>,
}

struct ClientGuard(Arc<std::sync::atomic::AtomicU64>);

impl Drop for ClientGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn client(mut socket: WebSocket, s: AppState, sub: Subscription) {
    s.ws_clients.fetch_add(1, Ordering::Relaxed);
    let _guard = ClientGuard(s.ws_clients.clone());
    let mut tenant = sub
        .tenant
        .filter(|t| !t.is_empty())
        .or_else(|| s.hub.tenants().into_iter().next());
    let mut queues: Vec<String> = sub
        .queues
        .unwrap_or_default()
        .split(',')
        .filter(|q| !q.is_empty())
        .map(str::to_owned)
        .collect();
    let mut changes = s.hub.changes();
    let min_gap = Duration::from_millis(s.config.server.ws_min_push_interval_ms);
    let mut ping = interval(PING_EVERY);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    let mut last_push: Option<Instant> = None;
    // Before any snapshot: how to lay it out (colours, order, boards).
    let display = serde_json::to_string(&crate::display::DisplayPush::new(&s.config))
        .expect("display serializes");
    if socket.send(Message::Text(display.into())).await.is_err() {
        return;
    }
    // The first push is the full snapshot; later ones follow changes.
    let mut pending = true;

    loop {
        if pending {
            if let Some(t) = last_push
                .map(|t| t + min_gap)
                .filter(|t| *t > Instant::now())
            {
                // Coalesce: wait out the gap; whatever changes meanwhile is
                // folded into the next push.
                tokio::select! {
                    _ = tokio::time::sleep_until(t) => {}
                    msg = socket.recv() => {
                        if !handle_incoming(msg, &mut tenant, &mut queues, &mut last_heard) { return; }
                    }
                }
                continue;
            }
            if tenant.is_none() {
                tenant = s.hub.tenants().into_iter().next();
            }
            let Some(t) = tenant.clone() else {
                pending = false;
                continue;
            };
            let text = push_text(&s, &t, &queues);
            if socket.send(Message::Text(text)).await.is_err() {
                return;
            }
            last_push = Some(Instant::now());
            pending = false;
        }
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() { return; }
                pending = true;
            }
            msg = socket.recv() => {
                if !handle_incoming(msg, &mut tenant, &mut queues, &mut last_heard) { return; }
                pending = true;
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > DEAD_AFTER { return; }
                if socket.send(Message::Ping(Default::default())).await.is_err() { return; }
            }
        }
    }
}

/// Handles one message from the client; false when the connection is over.
fn handle_incoming(
    msg: Option<Result<Message, axum::Error>>,
    tenant: &mut Option<String>,
    queues: &mut Vec<String>,
    last_heard: &mut Instant,
) -> bool {
    let Some(Ok(msg)) = msg else {
        return false;
    };
    *last_heard = Instant::now();
    match msg {
        Message::Text(text) => {
            if let Ok(m) = serde_json::from_str::<ClientMessage>(&text) {
                if m.kind == "subscribe" {
                    if let Some(t) = m.tenant {
                        *tenant = Some(t);
                    }
                    *queues = m.queues.unwrap_or_default();
                }
            }
            true
        }
        Message::Close(_) => false,
        _ => true,
    }
}
