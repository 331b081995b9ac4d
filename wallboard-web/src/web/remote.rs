//! Tenants this instance does not own, served from the views topic, and
//! requests only the owner can answer, forwarded to it (`architecture.md`,
//! "Every node serves every tenant"). Handlers look at the instance's own
//! partitions first and come here only for a tenant they do not have.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderName, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio_tungstenite::tungstenite::Utf8Bytes;

use wallboard_pipeline::views::HeldView;
use wallboard_pipeline::writer::unix_ms;

use super::error::ApiError;
use super::push_cache::Lease;
use super::AppState;

/// Marks a request one instance forwarded to another: never forwarded again.
pub(super) const FORWARDED: &str = "x-wallboard-forwarded";

/// The view of `tenant` from the views topic, when this instance's own
/// partitions do not have the tenant.
pub(super) fn view(s: &AppState, tenant: &str) -> Option<Arc<HeldView>> {
    if s.hub.live(tenant).is_some() {
        return None;
    }
    s.cluster.as_ref()?.views.get(tenant)
}

/// Where a view from the topic came from, and how old it is.
#[derive(Serialize)]
pub(super) struct Origin<'a> {
    owner_url: &'a str,
    partition: i32,
    published_ms: i64,
    age_ms: i64,
}

pub(super) fn origin(v: &HeldView) -> Origin<'_> {
    Origin {
        owner_url: &v.record.owner_url,
        partition: v.record.partition,
        published_ms: v.record.published_ms,
        age_ms: (unix_ms() - v.record.published_ms).max(0),
    }
}

/// `GET /live` of a view from the topic: the owner's live view and its
/// `origin`.
pub(super) fn live(v: &HeldView) -> Value {
    let mut live = v.record.live.clone();
    if let Value::Object(m) = &mut live {
        m.insert(
            "origin".into(),
            serde_json::to_value(origin(v)).unwrap_or_default(),
        );
    }
    live
}

/// `GET /queues` of a view from the topic: each queue with its target.
pub(super) fn queues(s: &AppState, v: &HeldView) -> Value {
    let live = &v.record.live;
    // The tenant's own queue list and the reloaded labels, as for an owned tenant.
    let shown = s.shown.current();
    let queue_rows: Vec<Value> = rows(live, "queues")
        .iter()
        .map(|q| {
            let mut row = q.clone();
            let name = q.get("queue").and_then(Value::as_str).unwrap_or_default();
            let target = shown.tenant(&v.record.tenant).target_for(name);
            let target = serde_json::to_value(target).unwrap_or_default();
            if let Value::Object(m) = &mut row {
                m.insert("target".into(), target);
            }
            row
        })
        .collect();
    serde_json::json!({ "now_ms": live["now_ms"], "queues": queue_rows })
}

/// Every tenant this instance serves: its own and the views topic's.
pub(super) fn tenants(s: &AppState) -> Vec<String> {
    let mut all = s.hub.tenants();
    if let Some(c) = &s.cluster {
        all.extend(c.views.tenants());
        all.sort();
        all.dedup();
    }
    all
}

/// The `views` object of `/api/v1/status` (`None` without a views topic),
/// naming only the tenants `access` sees.
pub(super) fn status(s: &AppState, access: &super::access::Access) -> Option<Value> {
    use std::sync::atomic::Ordering::Relaxed;
    let c = s.cluster.as_ref()?;
    let tenants: Map<String, Value> = c
        .views
        .tenants()
        .iter()
        .filter(|t| access.sees(t))
        .filter_map(|t| view(s, t).map(|v| (t.clone(), serde_json::to_value(origin(&v)).ok())))
        .filter_map(|(t, o)| Some((t, o?)))
        .collect();
    Some(serde_json::json!({
        "topic": c.views.topic(),
        "tenants": tenants,
        "received": c.views.counters.received.load(Relaxed),
        "rejected": c.views.counters.rejected.load(Relaxed),
        "published": c.views.counters.published.load(Relaxed),
    }))
}

/// The freshness of every tenant served from the views topic.
pub(super) fn freshness(s: &AppState) -> Vec<(String, Value)> {
    let Some(c) = &s.cluster else {
        return Vec::new();
    };
    c.views
        .tenants()
        .iter()
        .filter_map(|t| {
            let f = view(s, t)?.record.live.get("freshness")?.clone();
            Some((t.clone(), f))
        })
        .collect()
}

/// The WebSocket push of a view from the topic, filtered to `queues`, or
/// `None` when this client already had this view (a view is pushed once:
/// a dead owner's tenants go stale on the board).
pub(super) fn push(
    s: &AppState,
    lease: &Lease,
    v: &HeldView,
    queues: &[String],
) -> Option<Utf8Bytes> {
    if !lease.first_push_of(v.seq) {
        return None;
    }
    let live = &v.record.live;
    let shown = s.shown.current();
    let targets: Vec<_> = rows(live, "queues")
        .iter()
        .filter_map(|q| q.get("queue")?.as_str())
        .map(|q| shown.tenant(&v.record.tenant).target_for(q))
        .collect();
    let push = serde_json::json!({
        "type": "snapshot",
        "server_ms": unix_ms(),
        "tenant": v.record.tenant,
        "snapshot": filtered(live, queues),
        "targets": targets,
        "alerts": v.record.alerts,
        "origin": origin(v),
    });
    Some(Utf8Bytes::from(push.to_string()))
}

fn rows<'a>(live: &'a Value, key: &str) -> &'a [Value] {
    live.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The live view restricted to `queues`, as `ws.rs` filters a local one.
fn filtered(live: &Value, queues: &[String]) -> Value {
    let wanted = |q: &str| queues.is_empty() || q == "*" || queues.iter().any(|w| w == q);
    let mut out = Map::new();
    for key in [
        "tz",
        "now_ms",
        "interval_start_ms",
        "interval_end_ms",
        "day_start_ms",
        "rolling_window_minutes",
        "sl_thresholds_s",
        "freshness",
        "messages",
    ] {
        out.insert(key.into(), live.get(key).cloned().unwrap_or(Value::Null));
    }
    if let Some(i) = live.get("incomplete") {
        out.insert("incomplete".into(), i.clone());
    }
    let queue_rows = rows(live, "queues")
        .iter()
        .filter(|q| q.get("queue").and_then(Value::as_str).is_some_and(wanted))
        .cloned()
        .collect();
    out.insert("queues".into(), Value::Array(queue_rows));
    let agent_rows = rows(live, "agents")
        .iter()
        .filter(|a| {
            queues.is_empty()
                || rows(a, "queues")
                    .iter()
                    .any(|q| q.as_str().is_some_and(wanted))
        })
        .cloned()
        .collect();
    out.insert("agents".into(), Value::Array(agent_rows));
    Value::Object(out)
}

/// Headers a forwarded request takes along.
const PASSED: [HeaderName; 4] = [
    header::ACCEPT,
    header::ACCEPT_LANGUAGE,
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
];

/// Forwards a request about `tenant`, which this instance does not own, to
/// the owner its view names; the owner's answer is the answer. 404 when no
/// view names the tenant; 503 (with `Retry-After`) when the owner is
/// unknown, unreachable, or the request was already forwarded once.
pub(super) async fn forward(
    s: &AppState,
    tenant: &str,
    method: Method,
    path_and_query: &str,
    headers: &HeaderMap,
    body: Option<Vec<u8>>,
) -> Result<Response, ApiError> {
    let Some(v) = view(s, tenant) else {
        return Err(ApiError::UnknownTenant(tenant.to_owned()));
    };
    let cluster = s.cluster.as_ref().expect("a view comes from a cluster");
    let owner = &v.record.owner_url;
    if headers.contains_key(FORWARDED) {
        return Err(ApiError::OwnerUnavailable(format!(
            "tenant {tenant}: forwarded here, but this instance does not own it either \
             (its view names {owner}); retry when the partitions have settled"
        )));
    }
    if *owner == cluster.advertise_url {
        return Err(ApiError::OwnerUnavailable(format!(
            "tenant {tenant}: its partition is moving to another instance"
        )));
    }
    let url = format!("{owner}{path_and_query}");
    let mut req = cluster.client.request(method, &url).header(FORWARDED, "1");
    for h in &PASSED {
        if let Some(value) = headers.get(h) {
            req = req.header(h, value);
        }
    }
    if let Some(b) = body {
        req = req.body(b);
    }
    let unreachable = |e: reqwest::Error| {
        ApiError::OwnerUnavailable(format!(
            "tenant {tenant}: its owner {owner} did not answer: {e}"
        ))
    };
    let resp = req.send().await.map_err(unreachable)?;
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let kept: Vec<_> = [
        header::CONTENT_TYPE,
        header::CONTENT_DISPOSITION,
        header::RETRY_AFTER,
    ]
    .into_iter()
    .filter_map(|h| Some((h.clone(), resp.headers().get(&h)?.clone())))
    .collect();
    let bytes = resp.bytes().await.map_err(unreachable)?;
    let mut out = (status, Body::from(bytes)).into_response();
    out.headers_mut().extend(kept);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Cluster;
    use crate::config::AppConfig;
    use axum::extract::State;
    use wallboard_pipeline::views::{Decoded, RemoteViews, ViewRecord, VERSION};
    use wallboard_pipeline::Hub;

    /// A server that owns no partition and holds one view of `acme` from
    /// the instance at `http://other:1`.
    fn state() -> AppState {
        let views = Arc::new(RemoteViews::new("t-views"));
        views.offer(Decoded::View(ViewRecord {
            v: VERSION,
            tenant: "acme".into(),
            partition: 3,
            next_offset: 10,
            published_ms: unix_ms() - 1500,
            owner_url: "http://other:1".into(),
            live: serde_json::json!({"tenant": "acme", "now_ms": 5,
                "queues": [{"queue": "*"}, {"queue": "sales"}, {"queue": "vip"}],
                "agents": [{"agent": "a1", "queues": ["vip"]}]}),
            alerts: serde_json::json!([]),
        }));
        let (_, changed) = tokio::sync::watch::channel(0);
        AppState::new(Hub::new(Vec::new(), changed), AppConfig::default())
            .with_cluster(Cluster::new(views, "http://me:2".into()))
    }

    #[tokio::test]
    async fn a_tenant_of_another_instance_is_served_with_its_origin() {
        let s = state();
        assert_eq!(tenants(&s), ["acme"]);
        let v = view(&s, "acme").expect("the view");
        let l = live(&v);
        assert_eq!(l["origin"]["owner_url"], "http://other:1");
        assert_eq!(l["origin"]["partition"], 3);
        assert!(l["origin"]["age_ms"].as_i64().unwrap() >= 1500);
        // Ready: it can serve, though it owns nothing.
        assert!(super::super::api::readyz(State(s.clone())).await.is_ok());
    }

    #[tokio::test]
    async fn a_view_is_pushed_once_and_filtered_to_the_subscription() {
        let s = state();
        let v = view(&s, "acme").unwrap();
        let lease = s.push_cache.lease(
            super::super::push_cache::SubscriptionKey::of("acme", &[], true),
            true,
        );
        let text = push(&s, &lease, &v, &["sales".into()]).expect("first push");
        let p: Value = serde_json::from_str(&text).unwrap();
        let queues: Vec<_> = rows(&p["snapshot"], "queues")
            .iter()
            .map(|q| q["queue"].clone())
            .collect();
        assert_eq!(queues, ["*", "sales"]);
        assert_eq!(rows(&p["snapshot"], "agents").len(), 0, "a1 is in vip only");
        assert_eq!(p["origin"]["owner_url"], "http://other:1");
        assert!(push(&s, &lease, &v, &[]).is_none(), "the same view again");
    }

    #[tokio::test]
    async fn a_forwarded_request_is_not_forwarded_again() {
        let s = state();
        let mut h = HeaderMap::new();
        h.insert(FORWARDED, "1".parse().unwrap());
        let e = forward(
            &s,
            "acme",
            Method::GET,
            "/api/v1/tenants/acme/report",
            &h,
            None,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, ApiError::OwnerUnavailable(_)), "{e}");
        let resp = e.into_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "2");
        let e = forward(&s, "nobody", Method::GET, "/x", &HeaderMap::new(), None)
            .await
            .unwrap_err();
        assert!(matches!(e, ApiError::UnknownTenant(_)), "{e}");
    }
}
