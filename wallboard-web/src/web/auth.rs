//! Bearer-token access: read tokens for wallboards, admin tokens for changes.
//! With no token configured at all, access is open (the embedded demo).

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;

/// The `Authorization: Bearer T` token of a request, if any.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    v.strip_prefix("Bearer ").map(|t| t.trim().to_owned())
}

/// Whether `token` may post events: an ingest or admin token (open when no
/// token is configured at all).
pub fn may_ingest(state: &AppState, token: Option<&str>) -> bool {
    let s = &state.config.server;
    if s.read_tokens.is_empty() && s.admin_tokens.is_empty() && s.ingest_tokens.is_empty() {
        return true;
    }
    token.is_some_and(|t| {
        s.ingest_tokens
            .iter()
            .chain(&s.admin_tokens)
            .any(|k| k == t)
    })
}

/// The token a request carries: `Authorization: Bearer T`, or `?token=T`
/// (browsers cannot set headers on a WebSocket).
fn presented(req: &Request) -> Option<String> {
    if req.headers().contains_key(header::AUTHORIZATION) {
        return bearer(req.headers());
    }
    req.uri().query().and_then(|q| {
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "token")
            .map(|(_, v)| v.to_owned())
    })
}

/// Whether `token` may read.
pub fn may_read(state: &AppState, token: Option<&str>) -> bool {
    let s = &state.config.server;
    if s.read_tokens.is_empty() && s.admin_tokens.is_empty() {
        return true;
    }
    token.is_some_and(|t| s.read_tokens.iter().chain(&s.admin_tokens).any(|k| k == t))
}

/// Whether `token` may change things (acknowledge, silence).
pub fn may_admin(state: &AppState, token: Option<&str>) -> bool {
    let s = &state.config.server;
    if s.read_tokens.is_empty() && s.admin_tokens.is_empty() {
        return true;
    }
    token.is_some_and(|t| s.admin_tokens.iter().any(|k| k == t))
}

pub async fn require_admin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if may_admin(&state, presented(&req).as_deref()) {
        next.run(req).await
    } else {
        (StatusCode::FORBIDDEN, "an admin bearer token is required\n").into_response()
    }
}

pub async fn require_read(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if may_read(&state, presented(&req).as_deref()) {
        next.run(req).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "a valid bearer token is required\n",
        )
            .into_response()
    }
}
