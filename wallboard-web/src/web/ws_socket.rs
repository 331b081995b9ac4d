//! The WebSocket handshake and the socket, on tokio-tungstenite itself
//! rather than axum's wrapper, for what a connection costs with thousands
//! of clients (docs/architecture.md "WebSocket fan-out"):
//!
//! - the read buffer is [`READ_BUFFER_BYTES`], not tungstenite's 128 KiB,
//!   which it zero-fills on the first read: clients only send small
//!   subscription messages (a longer one still fits, the buffer grows to
//!   `server.ws_max_message_bytes` at most);
//! - text messages (pushes, the display message, refusals) are written by
//!   [`send_text`] itself, one unfragmented frame straight from the shared
//!   bytes: tungstenite copies every message into the connection's write
//!   buffer, which keeps its largest size, so every connection would hold
//!   its largest push for ever. tungstenite writes only control frames.

use std::future::Future;
use std::io::IoSlice;
use std::time::Duration;

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use futures_util::SinkExt;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

use super::error::ApiError;

/// A server-side WebSocket.
pub(super) type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// Bytes a connection reads into at once.
pub(super) const READ_BUFFER_BYTES: usize = 4 << 10;

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

/// Sends the text `text` within `timeout` as one frame written from the
/// shared bytes themselves, after whatever tungstenite had queued (a pong):
/// nothing of it is copied into the connection's buffers.
pub(super) async fn send_text(
    socket: &mut Socket,
    text: Utf8Bytes,
    timeout: Duration,
) -> Result<(), Gone> {
    let all = async {
        socket.flush().await.map_err(|_| Gone::Closed)?;
        write_text_frame(socket.get_mut(), text.as_bytes())
            .await
            .map_err(|_| Gone::Closed)
    };
    tokio::time::timeout(timeout, all)
        .await
        .unwrap_or(Err(Gone::TooSlow))
}

/// The header of an unmasked, final text frame of `len` bytes (RFC 6455
/// §5.2: the length in 7 bits, or 126 and 16 bits, or 127 and 64 bits),
/// and how many of its bytes are used.
fn text_header(len: usize) -> ([u8; 10], usize) {
    let mut head = [0u8; 10];
    head[0] = 0x81; // FIN, text
    match (u8::try_from(len), u16::try_from(len)) {
        (Ok(n), _) if n < 126 => {
            head[1] = n;
            (head, 2)
        }
        (_, Ok(n)) => {
            head[1] = 126;
            head[2..4].copy_from_slice(&n.to_be_bytes());
            (head, 4)
        }
        _ => {
            head[1] = 127;
            head[2..10].copy_from_slice(&(len as u64).to_be_bytes());
            (head, 10)
        }
    }
}

/// Writes `payload` as one text frame: header and payload in the same
/// vectored writes, so that with `TCP_NODELAY` the header does not go out
/// in a segment of its own.
async fn write_text_frame<W: AsyncWrite + Unpin>(
    io: &mut W,
    payload: &[u8],
) -> std::io::Result<()> {
    let (header, used) = text_header(payload.len());
    let (mut head, mut body) = (&header[..used], payload);
    while !head.is_empty() || !body.is_empty() {
        let n = io
            .write_vectored(&[IoSlice::new(head), IoSlice::new(body)])
            .await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        let from_head = n.min(head.len());
        head = &head[from_head..];
        body = &body[n - from_head..];
    }
    io.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;

    /// A socket that takes at most `per_write` bytes per write.
    struct Trickle {
        got: Vec<u8>,
        per_write: usize,
    }

    impl AsyncWrite for Trickle {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            let n = buf.len().min(self.per_write);
            self.got.extend_from_slice(&buf[..n]);
            Poll::Ready(Ok(n))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn a_text_frame_is_what_tungstenite_would_write_however_the_socket_takes_it() {
        // Each length form: 7 bits, 16 bits, 64 bits; cut writes land
        // inside the header and inside characters.
        for len in [0, 125, 126, 65_535, 65_536, 300_000] {
            let text: String = "档".repeat(len / 3) + &"x".repeat(len % 3);
            let mut expected = Vec::new();
            Frame::message(text.clone().into_bytes(), OpCode::Data(Data::Text), true)
                .format(&mut expected)
                .unwrap();
            for per_write in [1, 3, 7, 1 << 20] {
                let mut socket = Trickle {
                    got: Vec::new(),
                    per_write,
                };
                write_text_frame(&mut socket, text.as_bytes())
                    .await
                    .unwrap();
                assert_eq!(socket.got, expected, "{len} bytes, {per_write} per write");
            }
        }
    }
}
