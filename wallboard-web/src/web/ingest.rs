//! `POST /ingest/v1/events`: canonical events over HTTP, for cloud ACDs and
//! custom integrations. The body is one event, a JSON array of events, or
//! JSON Lines; the answer says, per event, whether it was accepted and why
//! not. Accepted events go where the running mode's events go: the
//! in-process bus (`demo`) or the Kafka topic (`serve`).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use aggregator::pipeline::bus::Bus;
use ingest::kafka::Publisher;
use ingest::parse_event;

use super::auth;
use super::AppState;

/// Where accepted events go.
#[derive(Clone)]
pub enum IngestSink {
    Bus(Arc<Bus>),
    Kafka {
        publisher: Arc<Publisher>,
        topic: String,
    },
}

#[derive(Serialize)]
struct Outcome {
    index: usize,
    id: Option<String>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// The items of a body: a JSON array's elements, one JSON object, or lines.
fn items(body: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let trimmed = body.trim_ascii();
    if trimmed.starts_with(b"[") {
        let values: Vec<serde_json::Value> =
            serde_json::from_slice(trimmed).map_err(|e| format!("not a JSON array: {e}"))?;
        return Ok(values.iter().map(|v| v.to_string().into_bytes()).collect());
    }
    if serde_json::from_slice::<serde_json::Value>(trimmed).is_ok_and(|v| v.is_object()) {
        return Ok(vec![trimmed.to_vec()]);
    }
    Ok(trimmed
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect())
}

pub async fn events(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if !auth::may_ingest(&s, auth::bearer(&headers).as_deref()) {
        return (
            StatusCode::UNAUTHORIZED,
            "an ingest bearer token is required\n",
        )
            .into_response();
    }
    let Some(sink) = s.ingest.clone() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "this mode takes no events over HTTP\n",
        )
            .into_response();
    };
    let items = match items(&body) {
        Ok(i) => i,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({ "error": e })),
            )
                .into_response()
        }
    };
    let mut results = Vec::with_capacity(items.len());
    let mut accepted = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match parse_event(&item) {
            Ok(e) => {
                results.push(Outcome {
                    index,
                    id: Some(e.id.to_string()),
                    status: "accepted",
                    error: None,
                });
                let tenant = e.tenant.to_string();
                accepted.push((tenant, item));
            }
            Err(e) => results.push(Outcome {
                index,
                id: None,
                status: "rejected",
                error: Some(e.to_string()),
            }),
        }
    }
    let n = accepted.len();
    let sent = tokio::task::spawn_blocking(move || -> Result<(), String> {
        match sink {
            IngestSink::Bus(bus) => bus.send(accepted.into_iter().map(|(_, p)| p).collect()),
            IngestSink::Kafka { publisher, topic } => {
                for (tenant, payload) in &accepted {
                    publisher
                        .send(&topic, tenant, payload, &[])
                        .map_err(|e| e.to_string())?;
                }
                publisher
                    .flush(Duration::from_secs(10))
                    .map_err(|e| e.to_string())
            }
        }
    })
    .await;
    if let Err(e) = sent.map_err(|e| e.to_string()).and_then(|r| r) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "error": format!("events not stored: {e}") })),
        )
            .into_response();
    }
    let rejected = results.len() - n;
    let status = if n == 0 && rejected > 0 {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (
        status,
        Json(serde_json::json!({ "accepted": n, "rejected": rejected, "results": results })),
    )
        .into_response()
}
