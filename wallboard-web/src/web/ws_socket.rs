//! The WebSocket handshake and the socket, on tokio-tungstenite itself
//! rather than axum's wrapper, for what a connection costs with thousands
//! of clients (docs/architecture.md "WebSocket fan-out"):
//!
//! - the read buffer is [`READ_BUFFER_BYTES`], not tungstenite's 128 KiB,
//!   which it zero-fills on the first read: clients only send small
//!   subscription messages (a longer one still fits, the buffer grows to
//!   `server.ws_max_message_bytes` at most);
//! - a push longer than [`FRAME_BYTES`] goes out as a fragmented message
//!   (RFC 6455 §5.4), one frame at a time: tungstenite copies each frame
//!   into the connection's write buffer, which keeps its largest size, so
//!   whole pushes would leave every connection holding a push's worth of
//!   memory. Frames are slices of the one shared push, not copies.

use std::future::Future;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use futures_util::SinkExt;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

use super::error::ApiError;

/// A server-side WebSocket.
pub(super) type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// Bytes a connection reads into at once.
pub(super) const READ_BUFFER_BYTES: usize = 4 << 10;
/// The longest frame a push is sent in; a longer push is fragmented.
pub(super) const FRAME_BYTES: usize = 16 << 10;

/// A valid WebSocket handshake (HTTP/1.1 `GET` with `Upgrade: websocket`).
pub(super) struct Upgrade {
    key: HeaderValue,
    on_upgrade: OnUpgrade,
}

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let refuse = |why: &str| Err(ApiError::NotWebSocket(why.to_owned()));
        let h = &parts.headers;
        if parts.method != Method::GET {
            return refuse("request method must be `GET`");
        }
        if !header_has(h, &header::CONNECTION, "upgrade") {
            return refuse("`Connection` header did not include 'upgrade'");
        }
        if !header_has(h, &header::UPGRADE, "websocket") {
            return refuse("`Upgrade` header did not include 'websocket'");
        }
        if h.get(header::SEC_WEBSOCKET_VERSION)
            .map(HeaderValue::as_bytes)
            != Some(&b"13"[..])
        {
            return refuse("`Sec-WebSocket-Version` header did not include '13'");
        }
        let Some(key) = h.get(header::SEC_WEBSOCKET_KEY).cloned() else {
            return refuse("`Sec-WebSocket-Key` header missing");
        };
        let Some(on_upgrade) = parts.extensions.remove::<OnUpgrade>() else {
            return refuse("this connection cannot be upgraded (HTTP/1.0?)");
        };
        Ok(Upgrade { key, on_upgrade })
    }
}

/// Whether header `name` lists `token` (case-insensitive, comma-separated).
fn header_has(headers: &HeaderMap, name: &HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

impl Upgrade {
    /// Answers 101 and runs `client` on the socket once the connection is
    /// upgraded. `max_message` bounds what the client may send.
    pub(super) fn on_upgrade<F, Fut>(self, max_message: usize, client: F) -> Response
    where
        F: FnOnce(Socket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let accept = derive_accept_key(self.key.as_bytes());
        let config = config(max_message);
        let on_upgrade = self.on_upgrade;
        tokio::spawn(async move {
            // The client went away during the handshake: nothing to serve.
            let Ok(upgraded) = on_upgrade.await else {
                return;
            };
            let socket = WebSocketStream::from_raw_socket(
                TokioIo::new(upgraded),
                Role::Server,
                Some(config),
            )
            .await;
            client(socket).await;
        });
        Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header(header::CONNECTION, "upgrade")
            .header(header::UPGRADE, "websocket")
            .header(header::SEC_WEBSOCKET_ACCEPT, accept)
            .body(Body::empty())
            .expect("a 101 with valid headers")
    }
}

/// The connection's buffers: small reads, every write straight to the
/// socket (nothing batched behind a push), messages and frames from the
/// client within `max_message`.
fn config(max_message: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_message_size(Some(max_message))
        .max_frame_size(Some(max_message))
}

/// Why a client was let go.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Gone {
    /// It closed, or the connection failed.
    Closed,
    /// A message did not reach it within `ws_send_timeout_s`.
    TooSlow,
}

/// Sends `msg` unless the client has not taken it within `timeout`: a
/// client that does not read must not pin its buffers for ever.
pub(super) async fn send_within<S>(
    socket: &mut S,
    msg: Message,
    timeout: Duration,
) -> Result<(), Gone>
where
    S: futures_util::Sink<Message> + Unpin,
{
    match tokio::time::timeout(timeout, socket.send(msg)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(Gone::Closed),
        Err(_) => Err(Gone::TooSlow),
    }
}

/// Sends the text `push` within `timeout`, in frames of at most
/// [`FRAME_BYTES`]: each is written out before the next is buffered.
pub(super) async fn send_push<S>(
    socket: &mut S,
    push: Utf8Bytes,
    timeout: Duration,
) -> Result<(), Gone>
where
    S: futures_util::Sink<Message> + Unpin,
{
    if push.len() <= FRAME_BYTES {
        return send_within(socket, Message::Text(push), timeout).await;
    }
    let all = async {
        for frame in frames(Bytes::from(push)) {
            socket
                .send(Message::Frame(frame))
                .await
                .map_err(|_| Gone::Closed)?;
        }
        Ok(())
    };
    tokio::time::timeout(timeout, all)
        .await
        .unwrap_or(Err(Gone::TooSlow))
}

/// The frames of a fragmented text message: a text frame, continuations,
/// the last one final. A frame may end inside a UTF-8 sequence; the
/// message as a whole is valid UTF-8, which is what RFC 6455 asks.
fn frames(payload: Bytes) -> impl Iterator<Item = Frame> {
    let len = payload.len();
    (0..len).step_by(FRAME_BYTES).map(move |start| {
        let end = (start + FRAME_BYTES).min(len);
        let opcode = if start == 0 {
            Data::Text
        } else {
            Data::Continue
        };
        Frame::message(payload.slice(start..end), OpCode::Data(opcode), end == len)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_push_is_cut_into_frames_that_join_up_again() {
        let text: String = "档案".repeat(FRAME_BYTES); // 6 bytes each: cuts land inside characters
        let frames: Vec<Frame> = frames(Bytes::from(text.clone())).collect();
        assert_eq!(frames.len(), 6);
        assert!(frames.iter().all(|f| f.payload().len() <= FRAME_BYTES));
        assert_eq!(frames[0].header().opcode, OpCode::Data(Data::Text));
        assert!(frames[1..]
            .iter()
            .all(|f| f.header().opcode == OpCode::Data(Data::Continue)));
        let finals: Vec<bool> = frames.iter().map(|f| f.header().is_final).collect();
        assert_eq!(finals, [false, false, false, false, false, true]);
        let joined: Vec<u8> = frames.iter().flat_map(|f| f.payload().to_vec()).collect();
        assert_eq!(joined, text.as_bytes());
    }
}
