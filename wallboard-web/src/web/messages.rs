//! Messages to the floor (README, "Messages to the floor"): an admin posts,
//! lists and deletes a tenant's messages. A post or delete becomes a
//! `floor_message` event (`events.md`, "Floor messages") sent where this
//! mode's events go (the in-process bus or the Kafka topic), so every
//! instance's boards show it and the engine's snapshot keeps it; the
//! answer waits (briefly) until this instance's view shows the change.

use std::borrow::Cow;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use aggregator::messages::{ActiveMessage, MAX_ACTIVE_MESSAGES};
use wallboard_events::parse::{identifier_problem, MAX_IDENT, MAX_TENANT_IDENT};
use wallboard_events::{
    Event, EventBody, FloorMessage, MessageAction, MessagePost, Severity, TimestampMs,
};
use wallboard_pipeline::writer::unix_ms;
use wallboard_pipeline::Hub;

use super::error::{ApiError, ApiJson};
use super::ingest::{sink_of, store};
use super::{auth, AppState};

/// The `source` of the events this API sends.
pub(super) const SOURCE: &str = "wallboard-api";

/// How long an answer waits for this instance's view to show the change.
const VISIBLE_WITHIN: Duration = Duration::from_secs(3);

/// The message routes: list (read), post and delete (admin).
pub(super) fn routes(state: &AppState) -> Router<AppState> {
    let admin = from_fn_with_state(state.clone(), auth::require_admin);
    Router::new()
        .route("/api/v1/tenants/{tenant}/messages", get(list))
        .route(
            "/api/v1/tenants/{tenant}/messages",
            post(create)
                .route_layer(from_fn(auth::require_json))
                .route_layer(admin.clone()),
        )
        .route(
            "/api/v1/tenants/{tenant}/messages/{id}",
            delete(remove).route_layer(admin),
        )
}

/// A message as `POST …/messages` takes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewMessage {
    text: String,
    severity: String,
    #[serde(default)]
    ttl_s: Option<i64>,
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default)]
    queues: Vec<String>,
}

#[derive(Serialize)]
struct Listed<'a> {
    tenant: &'a str,
    messages: &'a [ActiveMessage],
}

async fn list(State(s): State<AppState>, Path(tenant): Path<String>) -> Result<Response, ApiError> {
    check_tenant(&tenant)?;
    let messages = s.hub.messages(&tenant).unwrap_or_default();
    Ok(Json(Listed {
        tenant: &tenant,
        messages: &messages,
    })
    .into_response())
}

async fn create(
    State(s): State<AppState>,
    Path(tenant): Path<String>,
    ApiJson(body): ApiJson<NewMessage>,
) -> Result<Response, ApiError> {
    check_tenant(&tenant)?;
    let now = unix_ms();
    let post = validate(body, now)?;
    let active = s.hub.messages(&tenant).map_or(0, |m| m.len());
    if active >= MAX_ACTIVE_MESSAGES {
        return Err(ApiError::MessagesFull {
            tenant,
            limit: MAX_ACTIVE_MESSAGES,
        });
    }
    let id = new_id(now);
    let message = ActiveMessage {
        id: id.clone(),
        text: post.text.to_string(),
        severity: post.severity,
        posted_ms: now,
        expires_ms: post.expires_ms,
        queues: post
            .queues
            .iter()
            .map(std::string::ToString::to_string)
            .collect(),
    };
    let action = MessageAction::Post(post);
    send(&s, &tenant, &id, action, now).await?;
    let seen = visible(&s.hub, |h| has(h, &tenant, &id)).await;
    let status = if seen {
        StatusCode::CREATED
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(message)).into_response())
}

async fn remove(
    State(s): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    check_tenant(&tenant)?;
    if !has(&s.hub, &tenant, &id) {
        return Err(ApiError::UnknownMessage(id));
    }
    send(&s, &tenant, &id, MessageAction::Delete, unix_ms()).await?;
    visible(&s.hub, |h| !has(h, &tenant, &id)).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn has(hub: &Hub, tenant: &str, id: &str) -> bool {
    hub.messages(tenant)
        .is_some_and(|m| m.iter().any(|m| m.id == id))
}

fn check_tenant(tenant: &str) -> Result<(), ApiError> {
    match identifier_problem(tenant, MAX_TENANT_IDENT) {
        Some(why) => Err(ApiError::InvalidField {
            field: "tenant",
            reason: why,
        }),
        None => Ok(()),
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ApiError {
    ApiError::InvalidField {
        field,
        reason: reason.into(),
    }
}

/// Checks a posted message against `events.md`, "Floor messages", naming
/// the field at fault.
fn validate(body: NewMessage, now: TimestampMs) -> Result<MessagePost<'static>, ApiError> {
    if body.text.trim().is_empty() {
        return Err(invalid("text", "is empty"));
    }
    if let Some(why) = identifier_problem(&body.text, wallboard_events::event::MAX_MESSAGE_TEXT) {
        return Err(invalid("text", why));
    }
    let severity = Severity::from_str(&body.severity).ok_or_else(|| {
        invalid(
            "severity",
            format!(
                "unknown severity {:?} (expected info, warning or critical)",
                body.severity
            ),
        )
    })?;
    let expires_ms = expiry(body.ttl_s, body.expires_at.as_deref(), now)?;
    if body.queues.len() > wallboard_events::event::MAX_MESSAGE_QUEUES {
        return Err(invalid(
            "queues",
            format!(
                "names {} queues, more than {}",
                body.queues.len(),
                wallboard_events::event::MAX_MESSAGE_QUEUES
            ),
        ));
    }
    let mut queues: Vec<Cow<'static, str>> = Vec::with_capacity(body.queues.len());
    for q in body.queues {
        if let Some(why) = identifier_problem(&q, MAX_IDENT) {
            return Err(invalid("queues", format!("queue {q:?} {why}")));
        }
        if !queues.iter().any(|have| *have == q) {
            queues.push(q.into());
        }
    }
    Ok(MessagePost {
        text: body.text.into(),
        severity,
        expires_ms,
        queues,
    })
}

/// `expires_ms` from exactly one of `ttl_s` and `expires_at`.
fn expiry(
    ttl_s: Option<i64>,
    expires_at: Option<&str>,
    now: TimestampMs,
) -> Result<TimestampMs, ApiError> {
    let max_s = wallboard_events::event::MAX_MESSAGE_TTL_MS / 1000;
    let at = match (ttl_s, expires_at) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "expires_at",
                "give either ttl_s or expires_at, not both",
            ))
        }
        (None, None) => return Err(invalid("ttl_s", "is required (or expires_at)")),
        (Some(ttl), None) => {
            if !(1..=max_s).contains(&ttl) {
                return Err(invalid(
                    "ttl_s",
                    format!("{ttl} is not between 1 and {max_s} seconds (7 days)"),
                ));
            }
            return Ok(now + ttl * 1000);
        }
        (None, Some(at)) => chrono::DateTime::parse_from_rfc3339(at)
            .map_err(|e| invalid("expires_at", format!("{at:?} is not RFC 3339: {e}")))?
            .timestamp_millis(),
    };
    if at <= now {
        let at = expires_at.unwrap_or_default();
        return Err(invalid("expires_at", format!("{at} is not in the future")));
    }
    if at - now > wallboard_events::event::MAX_MESSAGE_TTL_MS {
        return Err(invalid("expires_at", "is more than 7 days from now"));
    }
    Ok(at)
}

/// A new message id: the post's time and 64 random bits, so ids of
/// several instances never collide in practice.
fn new_id(now: TimestampMs) -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let random = RandomState::new().hash_one(SEQ.fetch_add(1, Ordering::Relaxed));
    format!("m{now:x}-{random:016x}")
}

/// Sends one `floor_message` event of `tenant` where this mode's events go.
async fn send(
    s: &AppState,
    tenant: &str,
    id: &str,
    action: MessageAction<'static>,
    now: TimestampMs,
) -> Result<(), ApiError> {
    let sink = sink_of(
        s,
        "this mode takes no messages (no event sink: run serve or demo)",
    )?;
    let verb = match action {
        MessageAction::Post(_) => "post",
        MessageAction::Delete => "delete",
    };
    let event = Event {
        v: wallboard_events::event::SCHEMA_VERSION,
        id: format!("msg-{id}-{verb}-{now}").into(),
        ts: now,
        tenant: tenant.to_owned().into(),
        source: Some(SOURCE.into()),
        body: EventBody::FloorMessage(FloorMessage {
            message: id.to_owned().into(),
            action,
        }),
    };
    let json = event.to_json();
    // The parser is the contract: what it refuses is never sent.
    if let Err(e) = wallboard_events::parse_event_str(&json) {
        return Err(ApiError::InvalidField {
            field: e.field().unwrap_or("body"),
            reason: e.to_string(),
        });
    }
    store(sink, vec![(tenant.to_owned(), json.into_bytes())]).await
}

/// Waits until `done` holds for the published views, at most
/// [`VISIBLE_WITHIN`]; whether it did.
async fn visible(hub: &Hub, done: impl Fn(&Hub) -> bool) -> bool {
    let mut changes = hub.changes();
    let wait = async {
        while !done(hub) {
            if changes.changed().await.is_err() {
                return false;
            }
        }
        true
    };
    tokio::time::timeout(VISIBLE_WITHIN, wait)
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> NewMessage {
        serde_json::from_str(json).unwrap()
    }

    fn field_of(r: Result<MessagePost<'static>, ApiError>) -> &'static str {
        match r {
            Err(ApiError::InvalidField { field, .. }) => field,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn nonsense_is_refused_with_the_field_named() {
        let now = 1_800_000_000_000;
        let ok = r#"{"text":"hi","severity":"info","ttl_s":60}"#;
        assert_eq!(validate(body(ok), now).unwrap().expires_ms, now + 60_000);
        for (json, field) in [
            (r#"{"text":"  ","severity":"info","ttl_s":60}"#, "text"),
            (r#"{"text":"a\u0007","severity":"info","ttl_s":60}"#, "text"),
            (r#"{"text":"hi","severity":"loud","ttl_s":60}"#, "severity"),
            (r#"{"text":"hi","severity":"info"}"#, "ttl_s"),
            (r#"{"text":"hi","severity":"info","ttl_s":0}"#, "ttl_s"),
            (r#"{"text":"hi","severity":"info","ttl_s":604801}"#, "ttl_s"),
            (
                r#"{"text":"hi","severity":"info","ttl_s":5,"expires_at":"2030-01-01T00:00:00Z"}"#,
                "expires_at",
            ),
            (
                r#"{"text":"hi","severity":"info","expires_at":"tomorrow"}"#,
                "expires_at",
            ),
            (
                r#"{"text":"hi","severity":"info","expires_at":"2020-01-01T00:00:00Z"}"#,
                "expires_at",
            ),
            (
                r#"{"text":"hi","severity":"info","ttl_s":5,"queues":[""]}"#,
                "queues",
            ),
        ] {
            assert_eq!(field_of(validate(body(json), now)), field, "{json}");
        }
    }

    #[test]
    fn expires_at_is_taken_in_any_offset() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-02T00:00:00Z")
            .unwrap()
            .timestamp_millis();
        let got = expiry(None, Some("2026-12-02T09:00:00+08:00"), now).unwrap();
        assert_eq!(got, now + 3_600_000);
    }
}
