//! Accepting connections within limits: at most `server.max_connections`
//! open at once (a WebSocket holds its connection's slot until it closes;
//! one more is answered 503 and closed), headers within
//! `server.header_timeout_s` (else the connection is closed), HTTP/1.1 with
//! upgrades for the WebSocket. Bodies have their own timeout where they are
//! read.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tower_service::Service;

use super::error::ApiError;
use super::AppState;

/// A connection's place among `max_connections`; requests carry it (as an
/// extension) so a WebSocket can keep it for as long as it lives.
#[derive(Clone)]
pub(super) struct ConnectionSlot(#[allow(dead_code)] Arc<OwnedSemaphorePermit>);

/// Serves `app` on `listener` until `shutdown` resolves, then lets open
/// requests finish (idle connections are closed at once, the others
/// within the longer of the header and body timeouts).
pub(super) async fn serve(
    listener: TcpListener,
    state: AppState,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = &state.config.server;
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let header_timeout = Duration::from_secs(limits.header_timeout_s);
    // Every connection task holds a receiver: closed() resolves when the
    // last has finished.
    let (stopping, stop) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait, not spin.
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            state
                .http
                .refused_connections
                .fetch_add(1, Ordering::Relaxed);
            tokio::spawn(refuse(stream, limits.max_connections));
            continue;
        };
        // A push longer than a frame is several writes: Nagle's algorithm
        // would hold each behind the client's delayed ACK of the one before.
        let _ = stream.set_nodelay(true);
        let slot = ConnectionSlot(Arc::new(slot));
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(slot.clone());
            app.clone().call(req)
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            tokio::pin!(conn);
            // A client that goes away or is too slow ends here; nothing to do.
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = stop.wait_for(|s| *s) => conn.as_mut().graceful_shutdown(),
            }
            let _ = conn.await;
        });
    }
    drop(listener);
    drop(stop);
    let _ = stopping.send(true);
    // A request still arriving has its timeouts; a client that does not
    // read its answer has none, so stopping does not wait for it for ever.
    let grace = Duration::from_secs(limits.header_timeout_s.max(limits.body_timeout_s));
    if tokio::time::timeout(grace, stopping.closed())
        .await
        .is_err()
    {
        tracing::warn!(
            "stopping: {} connections still open after {} s; closing them",
            stopping.receiver_count(),
            grace.as_secs()
        );
    }
    Ok(())
}

/// Answers a connection beyond the limit with 503 and closes it.
async fn refuse(mut stream: TcpStream, limit: usize) {
    let problem = ApiError::Unavailable(format!(
        "the server has {limit} connections open, its limit (server.max_connections); retry later"
    ));
    let body = serde_json::to_string(&problem.problem()).expect("a problem serializes");
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: {}\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n",
        super::error::PROBLEM_JSON,
        body.len()
    );
    let write = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.shutdown().await
    };
    // A client that does not read even this is not waited for.
    let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
}
