//! The REST API (`/api/v1/…`) and health checks.

use std::sync::atomic::Ordering;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use aggregator::Range;

use super::AppState;
use crate::config::QueueTarget;
use aggregator::pipeline::writer::unix_ms;

fn not_found(what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({ "error": format!("{what} not found") })),
    )
        .into_response()
}

pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready once the pipeline has published a view.
pub async fn readyz(State(s): State<AppState>) -> Response {
    match s.hub.last_publish_ms() {
        Some(ms) if ms > 0 => "ready\n".into_response(),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "starting\n").into_response(),
    }
}

#[derive(Serialize)]
struct Status {
    server_ms: i64,
    applied: u64,
    duplicates: u64,
    rejected: u64,
    late: u64,
    ws_clients: u64,
    partitions: Vec<aggregator::pipeline::PartitionStatus>,
    /// Per tenant heard of, its freshness (`metrics.md`, "Freshness").
    tenants: std::collections::BTreeMap<String, aggregator::freshness::Freshness>,
}

pub async fn status(State(s): State<AppState>) -> Json<impl Serialize> {
    let partitions = s.hub.status();
    Json(Status {
        server_ms: unix_ms(),
        applied: partitions.iter().map(|p| p.applied).sum(),
        duplicates: partitions.iter().map(|p| p.duplicates).sum(),
        rejected: partitions.iter().map(|p| p.rejected).sum(),
        late: partitions.iter().map(|p| p.late).sum(),
        ws_clients: s.ws_clients.load(Ordering::Relaxed),
        partitions,
        tenants: s.hub.freshness(),
    })
}

pub async fn tenants(State(s): State<AppState>) -> Json<Vec<String>> {
    Json(s.hub.tenants())
}

pub async fn live(State(s): State<AppState>, Path(tenant): Path<String>) -> Response {
    match s.hub.live(&tenant) {
        Some(l) => Json(&*l).into_response(),
        None => not_found("tenant"),
    }
}

/// A queue's live values with its configured target.
#[derive(Serialize)]
struct QueueWithTarget<'a> {
    #[serde(flatten)]
    live: &'a aggregator::live::QueueLive,
    target: QueueTarget,
}

pub async fn queues(State(s): State<AppState>, Path(tenant): Path<String>) -> Response {
    let Some(l) = s.hub.live(&tenant) else {
        return not_found("tenant");
    };
    let rows: Vec<QueueWithTarget> = l
        .queues
        .iter()
        .map(|q| QueueWithTarget {
            live: q,
            target: s.config.target_for(&q.queue),
        })
        .collect();
    Json(serde_json::json!({ "now_ms": l.now_ms, "queues": rows })).into_response()
}

pub async fn agents(State(s): State<AppState>, Path(tenant): Path<String>) -> Response {
    match s.hub.live(&tenant) {
        Some(l) => {
            Json(serde_json::json!({ "now_ms": l.now_ms, "agents": l.agents })).into_response()
        }
        None => not_found("tenant"),
    }
}

#[derive(Deserialize)]
pub struct RangeQuery {
    from: Option<i64>,
    to: Option<i64>,
}

/// The interval report of `metrics.md`: the same bytes `wallboard replay`
/// prints for the same events.
pub async fn report(
    State(s): State<AppState>,
    Path(tenant): Path<String>,
    Query(q): Query<RangeQuery>,
) -> Response {
    let range = Range {
        from: q.from,
        to: q.to,
    };
    match s.hub.report(&tenant, range).await {
        Some(r) => {
            let mut body = serde_json::to_vec_pretty(&r).expect("report serializes");
            body.push(b'\n');
            ([(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        None => not_found("tenant"),
    }
}

pub async fn alerts(State(s): State<AppState>, Path(tenant): Path<String>) -> Response {
    if s.hub.live(&tenant).is_none() {
        return not_found("tenant");
    }
    let rules = s.config.alerts.clone();
    Json(serde_json::json!({ "alerts": s.alerts_of(&tenant), "rules": rules })).into_response()
}

/// Which alert an acknowledgement or a silence is about.
#[derive(Deserialize)]
pub struct AlertRef {
    rule: String,
    subject: String,
    /// For a silence: how long.
    minutes: Option<u32>,
}

pub async fn acknowledge(
    State(s): State<AppState>,
    Path(tenant): Path<String>,
    Json(r): Json<AlertRef>,
) -> Response {
    let found = s
        .alerts
        .engine
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .acknowledge(&tenant, &r.rule, &r.subject);
    if found {
        Json(serde_json::json!({ "acknowledged": true })).into_response()
    } else {
        not_found("alert")
    }
}

pub async fn silence(
    State(s): State<AppState>,
    Path(tenant): Path<String>,
    Json(r): Json<AlertRef>,
) -> Response {
    let until = unix_ms() + i64::from(r.minutes.unwrap_or(60)) * 60_000;
    s.alerts
        .engine
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .silence(&tenant, &r.rule, &r.subject, until);
    Json(serde_json::json!({ "silenced_until_ms": until })).into_response()
}

pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
        .into_response()
}
