//! `GET /ws`: a client subscribes to a tenant and a set of queues, gets a full
//! snapshot, then the subscription's versions, at most one per push
//! interval (with `delta=1`, as deltas: docs/architecture.md, "WebSocket
//! fan-out"). A slow client always skips to the latest version: nothing is
//! queued per client, and one that has not taken a push within
//! `server.ws_send_timeout_s` is dropped (and counted). A subscription names
//! at most `server.ws_max_queues` queues, and no client message may exceed
//! `server.ws_max_message_bytes`.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::Extension;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::time::{interval, Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::access::Access;
use super::conn::ConnectionSlot;
use super::error::{ApiError, ApiQuery};
use super::push::Board;
use super::push_cache::{Base, Inputs, Next, SubscriptionKey};
use super::ws_socket::{send_text, send_within, Gone, Socket, Upgrade};
use super::AppState;

/// What reading the socket gives.
type WsResult<T> = Result<T, tokio_tungstenite::tungstenite::Error>;

/// How often the server pings, and how long it waits for any sign of life.
const PING_EVERY: Duration = Duration::from_secs(15);
const DEAD_AFTER: Duration = Duration::from_secs(45);

#[derive(Deserialize, Default, Clone)]
pub(super) struct Subscription {
    tenant: Option<String>,
    /// Comma-separated queue names; empty: all queues.
    queues: Option<String>,
    /// `1`: deltas after the first snapshot; `0` (the default): snapshots.
    delta: Option<DeltaFlag>,
}

/// The `delta` parameter: anything but `0` or `1` is refused (400).
#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
enum DeltaFlag {
    #[serde(rename = "0")]
    Off,
    #[serde(rename = "1")]
    On,
}

pub(super) async fn upgrade(
    State(s): State<AppState>,
    headers: HeaderMap,
    ApiQuery(sub): ApiQuery<Subscription>,
    slot: Option<Extension<ConnectionSlot>>,
    access: Option<Extension<Access>>,
    ws: Upgrade,
) -> Result<Response, ApiError> {
    let access = access.map(|Extension(a)| a).unwrap_or_default();
    if let Some(t) = sub.tenant.as_deref().filter(|t| !access.sees(t)) {
        return Err(ApiError::UnknownTenant(t.to_owned()));
    }
    if !origin_allowed(&s, &headers) {
        return Err(ApiError::Forbidden(
            "this Origin may not open the WebSocket (server.allowed_origins)".into(),
        ));
    }
    let queues: Vec<String> = sub
        .queues
        .unwrap_or_default()
        .split(',')
        .filter(|q| !q.is_empty())
        .map(str::to_owned)
        .collect();
    check_queues(&s, &queues).map_err(|e| ApiError::BadQuery(e.to_string()))?;
    let max = s.config.server.ws_max_message_bytes;
    let deltas = sub.delta == Some(DeltaFlag::On);
    Ok(ws.on_upgrade(max, move |socket| async move {
        // The connection's slot is held for as long as the WebSocket lives.
        let _slot = slot;
        let sub = Current {
            tenant: sub.tenant.filter(|t| !t.is_empty()),
            queues,
            deltas,
            lease: None,
            held: None,
            access,
        };
        client(socket, s, sub).await;
    }))
}

/// A subscription naming more queues than `server.ws_max_queues`.
#[derive(Debug, thiserror::Error)]
#[error("{asked} queues in one subscription; at most {max} (server.ws_max_queues)")]
struct TooManyQueues {
    asked: usize,
    max: usize,
}

/// A subscription names at most `ws_max_queues` queues.
fn check_queues(s: &AppState, queues: &[String]) -> Result<(), TooManyQueues> {
    let max = s.config.server.ws_max_queues;
    if queues.len() > max {
        s.http
            .ws_refused_subscriptions
            .fetch_add(1, Ordering::Relaxed);
        return Err(TooManyQueues {
            asked: queues.len(),
            max,
        });
    }
    Ok(())
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

/// What a client is to do next.
enum Due {
    /// Send this; the client then holds the version (none: a push that is
    /// not a version of the subscription, so the next one is full).
    Send(Utf8Bytes, Option<Base>),
    /// Ask again at this time: the subscription's next version is due.
    At(Instant),
    /// Nothing new; wait for a change.
    Nothing,
}

/// The client's next push: from the views topic for a tenant of another
/// instance (once per view), else its subscription's latest version.
fn next_push(s: &AppState, sub: &mut Current, tenant: &str, now: Instant) -> Due {
    let (queues, deltas) = (&sub.queues, sub.deltas);
    let lease = sub.lease.get_or_insert_with(|| {
        s.push_cache
            .lease(SubscriptionKey::of(tenant, queues, deltas), deltas)
    });
    if let Some(v) = super::remote::view(s, tenant) {
        return super::remote::push(s, lease, &v, queues)
            .map_or(Due::Nothing, |t| Due::Send(t, None));
    }
    let alerts = s.alerts.active.borrow().clone();
    let board = Board { tenant, queues };
    let Some(snapshot) = s.hub.live(tenant) else {
        return Due::Send(board.without_snapshot(&alerts), None);
    };
    let inputs = Inputs {
        snapshot,
        alerts,
        shown: s.shown.current(),
    };
    let gap = Duration::from_millis(s.config.server.ws_min_push_interval_ms);
    match lease.next(inputs, sub.held.as_ref(), now, gap, &board) {
        Next::Send { text, held } => Due::Send(text, Some(held)),
        Next::WaitUntil(t) => Due::At(t),
        Next::UpToDate => Due::Nothing,
    }
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

/// What a client's message asks for.
enum Incoming {
    Nothing,
    Subscribe {
        tenant: Option<String>,
        queues: Vec<String>,
    },
    Closed,
}

/// A refusal sent to the client; its subscription stays as it was.
#[derive(Serialize)]
struct Refusal {
    #[serde(rename = "type")]
    kind: &'static str,
    detail: String,
}

async fn client(mut socket: Socket, s: AppState, sub: Current) {
    s.ws_clients.fetch_add(1, Ordering::Relaxed);
    let _guard = ClientGuard(s.ws_clients.clone());
    let gone = serve_client(&mut socket, &s, sub).await;
    if gone == Gone::TooSlow {
        s.http.ws_slow_consumers.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            "WebSocket client dropped: a push did not reach it within {} s",
            s.config.server.ws_send_timeout_s
        );
    }
}

/// What a client is subscribed to, its hold on the push cache and the
/// version of it the client has.
struct Current {
    tenant: Option<String>,
    queues: Vec<String>,
    /// Whether the client takes deltas (`delta=1`).
    deltas: bool,
    lease: Option<super::push_cache::Lease>,
    /// The subscription's version the client was sent last (`None`:
    /// none, or a push that was not a version: its next push is full).
    held: Option<Base>,
    /// The tenants the client's token may see.
    access: Access,
}

impl Current {
    /// The subscribed tenant, else the first one the client may see.
    fn resolve_tenant(&mut self, s: &AppState) -> Option<String> {
        if self.tenant.is_none() {
            self.tenant = self
                .access
                .filter(super::remote::tenants(s))
                .into_iter()
                .next();
        }
        self.tenant.clone()
    }
}

/// Sends `detail` as `{"type": "error"}`; the subscription stays as it was.
async fn refuse(socket: &mut Socket, s: &AppState, detail: String) -> Result<bool, Gone> {
    let refusal = Refusal {
        kind: "error",
        detail,
    };
    let text = serde_json::to_string(&refusal).expect("a refusal serializes");
    let timeout = Duration::from_secs(s.config.server.ws_send_timeout_s);
    send_text(socket, text.into(), timeout).await?;
    Ok(false)
}

/// The layout message for a client of `tenant` (its queues and boards).
async fn send_display(socket: &mut Socket, s: &AppState, tenant: Option<&str>) -> Result<(), Gone> {
    let shown = s.shown.current();
    let display = serde_json::to_string(&crate::display::DisplayPush::of_tenant(&shown, tenant))
        .expect("display serializes");
    let timeout = Duration::from_secs(s.config.server.ws_send_timeout_s);
    send_text(socket, display.into(), timeout).await
}

/// Handles one message from the client: true when its subscription changed.
async fn on_message(
    socket: &mut Socket,
    s: &AppState,
    msg: Option<WsResult<Message>>,
    sub: &mut Current,
) -> Result<bool, Gone> {
    match incoming(msg) {
        Incoming::Closed => Err(Gone::Closed),
        Incoming::Nothing => Ok(false),
        Incoming::Subscribe { tenant, queues } => {
            if let Err(detail) = check_queues(s, &queues) {
                return refuse(socket, s, detail.to_string()).await;
            }
            if let Some(t) = tenant.as_deref().filter(|t| !sub.access.sees(t)) {
                // Worded as for a tenant that has sent nothing: ids do not leak.
                return refuse(socket, s, ApiError::UnknownTenant(t.to_owned()).to_string()).await;
            }
            if let Some(t) = tenant.filter(|t| sub.tenant.as_ref() != Some(t)) {
                send_display(socket, s, Some(&t)).await?;
                sub.tenant = Some(t);
            }
            sub.queues = queues;
            // Another subscription: its versions start with a full snapshot.
            sub.lease = None;
            sub.held = None;
            Ok(true)
        }
    }
}

async fn serve_client(socket: &mut Socket, s: &AppState, mut sub: Current) -> Gone {
    sub.resolve_tenant(s);
    let mut changes = s.hub.changes();
    let mut reloads = s.shown.subscribe();
    let min_gap = Duration::from_millis(s.config.server.ws_min_push_interval_ms);
    let send_timeout = Duration::from_secs(s.config.server.ws_send_timeout_s);
    let mut ping = interval(PING_EVERY);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    // Before any snapshot: how to lay it out (colours, order, boards).
    if let Err(gone) = send_display(socket, s, sub.tenant.as_deref()).await {
        return gone;
    }
    // Something may be new: ask. The first push is the full snapshot.
    let mut pending = true;
    // Not before: the subscription's next version, or (after a push that
    // is not a version) this client's own push interval.
    let mut not_before: Option<Instant> = None;

    loop {
        if pending {
            if let Some(t) = not_before.filter(|t| *t > Instant::now()) {
                // Coalesce: wait out the gap; whatever changes meanwhile is
                // folded into the next push.
                tokio::select! {
                    () = tokio::time::sleep_until(t) => {}
                    msg = socket.next() => {
                        last_heard = Instant::now();
                        match on_message(socket, s, msg, &mut sub).await {
                            Err(gone) => return gone,
                            Ok(changed) => pending |= changed,
                        }
                    }
                }
                continue;
            }
            let Some(t) = sub.resolve_tenant(s) else {
                pending = false;
                continue;
            };
            // The push below covers every publish so far.
            changes.mark_unchanged();
            match next_push(s, &mut sub, &t, Instant::now()) {
                Due::Send(text, held) => {
                    if let Err(gone) = send_text(socket, text, send_timeout).await {
                        return gone;
                    }
                    not_before = held.is_none().then(|| Instant::now() + min_gap);
                    sub.held = held;
                    pending = false;
                }
                Due::At(t) => not_before = Some(t),
                Due::Nothing => pending = false,
            }
            continue;
        }
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() { return Gone::Closed; }
                pending = true;
            }
            Ok(()) = reloads.changed() => {
                // New labels, colours or boards: the layout again, then a push.
                if let Err(gone) = send_display(socket, s, sub.tenant.as_deref()).await {
                    return gone;
                }
                pending = true;
            }
            msg = socket.next() => {
                last_heard = Instant::now();
                match on_message(socket, s, msg, &mut sub).await {
                    Err(gone) => return gone,
                    Ok(changed) => pending |= changed,
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > DEAD_AFTER { return Gone::Closed; }
                if let Err(gone) = send_within(socket, Message::Ping(Bytes::default()), send_timeout).await {
                    return gone;
                }
            }
        }
    }
}

/// What one message from the client asks for.
fn incoming(msg: Option<WsResult<Message>>) -> Incoming {
    let Some(Ok(msg)) = msg else {
        return Incoming::Closed;
    };
    match msg {
        Message::Text(text) => match serde_json::from_str::<ClientMessage>(&text) {
            Ok(m) if m.kind == "subscribe" => Incoming::Subscribe {
                tenant: m.tenant,
                queues: m.queues.unwrap_or_default(),
            },
            _ => Incoming::Nothing,
        },
        Message::Close(_) => Incoming::Closed,
        _ => Incoming::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// A client that never reads: its socket never takes another message.
    struct NeverReads;

    impl futures_util::Sink<Message> for NeverReads {
        type Error = ();
        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), ()>> {
            Poll::Pending
        }
        fn start_send(self: Pin<&mut Self>, _: Message) -> Result<(), ()> {
            Ok(())
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), ()>> {
            Poll::Pending
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), ()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn a_client_that_never_reads_is_let_go_after_the_timeout() {
        let sent = send_within(
            &mut NeverReads,
            Message::Text("push".into()),
            Duration::from_millis(20),
        )
        .await;
        assert_eq!(sent, Err(Gone::TooSlow));
    }
}
