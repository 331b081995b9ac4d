//! Bearer-token access. Three roles: `read` (wallboards, `/metrics`),
//! `admin` (read, plus acknowledge and silence, plus ingest) and `ingest`
//! (posting events only). With no token configured at all, every route is
//! open (the embedded demo on a floor network); as soon as any token is
//! configured, every role's routes need a token of a role that may use
//! them, so setting only `ingest_tokens` does not leave the admin routes
//! open. The health checks, the page, its assets and the `OpenAPI` document
//! stay open (the page asks for a token).
//!
//! Tokens are compared in constant time: both sides are hashed to a fixed
//! length and compared with `subtle`, every configured token is tried, so
//! neither the position of the first wrong byte nor the token's length
//! shows in the timing.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use super::access;
use super::error::ApiError;
use super::AppState;
use crate::config::ServerConfig;

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Read,
    Admin,
    Ingest,
}

impl Role {
    /// The configured tokens that grant this role.
    fn tokens(self, s: &ServerConfig) -> impl Iterator<Item = &String> {
        let own = match self {
            Role::Read => &s.read_tokens,
            Role::Admin => &s.admin_tokens,
            Role::Ingest => &s.ingest_tokens,
        };
        // Admin tokens grant every role; the admin role is its own list.
        let admin = (self != Role::Admin).then_some(&s.admin_tokens);
        own.iter().chain(admin.into_iter().flatten())
    }
}

/// Whether no token of any role is configured (open access).
fn open(s: &ServerConfig) -> bool {
    s.read_tokens.is_empty() && s.admin_tokens.is_empty() && s.ingest_tokens.is_empty()
}

/// Whether `token` equals one of `tokens`, in time independent of where
/// they differ.
pub(super) fn matches_any<'a>(token: &str, tokens: impl Iterator<Item = &'a String>) -> bool {
    let presented = Sha256::digest(token.as_bytes());
    let mut found = Choice::from(0);
    for t in tokens {
        found |= Sha256::digest(t.as_bytes())
            .as_slice()
            .ct_eq(presented.as_slice());
    }
    found.into()
}

/// Whether a request presenting `token` may use a route that needs `role`.
pub(super) fn allows(s: &ServerConfig, role: Role, token: Option<&str>) -> bool {
    open(s) || token.is_some_and(|t| matches_any(t, role.tokens(s)))
}

/// The `Authorization: Bearer T` token of a request, if any.
pub(super) fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    v.strip_prefix("Bearer ").map(|t| t.trim().to_owned())
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

/// Lets the request through when its token allows `role`: 401 without a
/// valid token of any role, 403 with a valid one of a role that may not.
/// A tenant's read token may read its tenants only ([`access::enforce`]).
async fn require(state: &AppState, role: Role, mut req: Request, next: Next) -> Response {
    let s = &state.config.server;
    let token = presented(&req);
    // Tenants' tokens close the server as `[server]` tokens do.
    let granted = if state.config.has_tenant_tokens() {
        token
            .as_deref()
            .is_some_and(|t| matches_any(t, role.tokens(s)))
    } else {
        allows(s, role, token.as_deref())
    };
    if granted {
        req.extensions_mut().insert(access::Access::All);
        return next.run(req).await;
    }
    let scope = token
        .as_deref()
        .and_then(|t| access::scope_of(&state.config, t));
    if let (Role::Read, Some(only)) = (role, scope.clone()) {
        return access::enforce(only, req, next).await;
    }
    let known = scope.is_some()
        || token.as_deref().is_some_and(|t| {
            [Role::Read, Role::Admin, Role::Ingest]
                .iter()
                .any(|r| matches_any(t, r.tokens(s)))
        });
    let needed = match role {
        Role::Read => "a read or admin bearer token is required",
        Role::Admin => "an admin bearer token is required",
        Role::Ingest => "an ingest or admin bearer token is required",
    };
    if known {
        ApiError::Forbidden(format!(
            "{needed}; this token's role may not use this route"
        ))
        .into_response()
    } else {
        ApiError::Unauthorized(needed).into_response()
    }
}

pub(super) async fn require_read(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    require(&state, Role::Read, req, next).await
}

pub(super) async fn require_admin(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    require(&state, Role::Admin, req, next).await
}

pub(super) async fn require_ingest(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    require(&state, Role::Ingest, req, next).await
}

/// A POST must say its body is JSON or NDJSON. A cross-site form or
/// `fetch` can send `text/plain` without asking; any other type makes the
/// browser ask first (a CORS preflight), which this server never grants, so
/// a page on another site cannot post to a floor network's token-less
/// server.
pub(super) async fn require_json(req: Request, next: Next) -> Response {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if is_json_type(ct) {
        next.run(req).await
    } else {
        ApiError::UnsupportedMediaType(ct.to_owned()).into_response()
    }
}

/// `application/json`, `application/*+json`, or an NDJSON / JSON Lines type.
fn is_json_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "application/json" | "application/x-ndjson" | "application/ndjson" | "application/jsonl"
    ) || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(read: &[&str], admin: &[&str], ingest: &[&str]) -> ServerConfig {
        let v = |t: &[&str]| t.iter().map(std::string::ToString::to_string).collect();
        ServerConfig {
            read_tokens: v(read),
            admin_tokens: v(admin),
            ingest_tokens: v(ingest),
            ..Default::default()
        }
    }

    #[test]
    fn any_configured_token_closes_every_role() {
        let only_ingest = config(&[], &[], &["acd"]);
        for role in [Role::Read, Role::Admin, Role::Ingest] {
            assert!(!allows(&only_ingest, role, None), "{role:?} open");
        }
        assert!(allows(&only_ingest, Role::Ingest, Some("acd")));
        assert!(!allows(&only_ingest, Role::Admin, Some("acd")));
        let none = config(&[], &[], &[]);
        assert!(allows(&none, Role::Admin, None));
    }

    #[test]
    fn admin_tokens_grant_every_role_and_others_only_their_own() {
        let c = config(&["wall"], &["boss"], &["acd"]);
        for role in [Role::Read, Role::Admin, Role::Ingest] {
            assert!(allows(&c, role, Some("boss")));
        }
        assert!(allows(&c, Role::Read, Some("wall")));
        assert!(!allows(&c, Role::Ingest, Some("wall")));
        assert!(!allows(&c, Role::Read, Some("acd")));
        assert!(!allows(&c, Role::Read, Some("wal")));
        assert!(!allows(&c, Role::Read, Some("wall ")));
    }

    #[test]
    fn json_and_ndjson_types_are_the_only_ones_taken() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/x-ndjson",
            "application/problem+json",
        ] {
            assert!(is_json_type(ok), "{ok}");
        }
        for no in [
            "",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ] {
            assert!(!is_json_type(no), "{no}");
        }
    }
}
