//! The REST API (`/api/v1/…`) and health checks.

use std::sync::atomic::Ordering;

use axum::extract::{Path, State};
use axum::http::{header, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum::Json;
use serde::{Deserialize, Serialize};

use aggregator::alerts::Selector;
use aggregator::Range;

use super::access::Access;
use super::error::{ApiError, ApiJson, ApiQuery};
use super::AppState;
use crate::config::QueueTarget;
use wallboard_pipeline::writer::unix_ms;

/// The live view of `tenant`, or the 404 that it has sent nothing.
fn live_of(
    s: &AppState,
    tenant: &str,
) -> Result<std::sync::Arc<aggregator::LiveSnapshot>, ApiError> {
    s.hub
        .live(tenant)
        .ok_or_else(|| ApiError::UnknownTenant(tenant.to_owned()))
}

pub(super) async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready once the pipeline has published a view, while every partition's
/// state is durable (a snapshot within three snapshot intervals).
pub(super) async fn readyz(State(s): State<AppState>) -> Result<&'static str, ApiError> {
    match s.hub.last_publish_ms() {
        Some(ms) if ms > 0 => {}
        // Owning no partition, it serves the other instances' views.
        _ if !super::remote::tenants(&s).is_empty() => {}
        _ => {
            return Err(ApiError::Unavailable(
                "starting: the pipeline has not published a view yet".into(),
            ))
        }
    }
    let now = unix_ms();
    let stale: Vec<String> = s
        .hub
        .status()
        .iter()
        .filter(|p| !p.durable_at(now))
        .map(|p| p.partition.to_string())
        .collect();
    if stale.is_empty() {
        return Ok("ready\n");
    }
    Err(ApiError::Unavailable(format!(
        "not durable: no snapshot of partition {} within three snapshot intervals",
        stale.join(", ")
    )))
}

#[derive(Serialize)]
struct Status {
    server_ms: i64,
    applied: u64,
    duplicates: u64,
    rejected: u64,
    late: u64,
    ws_clients: u64,
    /// Configured queues a visible tenant has not shown yet, once each.
    unseen_queues: Vec<String>,
    /// The same per tenant, checked against the tenant's own queue list.
    unseen_queues_by_tenant: std::collections::BTreeMap<String, Vec<String>>,
    partitions: Vec<wallboard_pipeline::PartitionStatus>,
    /// Configuration reloads (README, "Reloading the configuration").
    config: crate::reload::ReloadStatus,
    /// Per tenant heard of, its freshness (`metrics.md`, "Freshness").
    tenants: std::collections::BTreeMap<String, serde_json::Value>,
    /// The views topic (`architecture.md`, "Every node serves every tenant").
    views: Option<serde_json::Value>,
    /// Topic settings found wrong at start (`architecture.md`, "Topic
    /// settings checked at start"); empty without Kafka.
    topic_warnings: Vec<wallboard_pipeline::topic_check::TopicWarning>,
    /// The Kafka consumer's errors (`architecture.md`, "Consumer errors");
    /// `null` without Kafka.
    consumer: Option<wallboard_pipeline::consumer_errors::ConsumerErrorStatus>,
}

pub(super) async fn status(
    State(s): State<AppState>,
    access: Option<Extension<Access>>,
) -> Json<impl Serialize> {
    let access = access.map(|Extension(a)| a).unwrap_or_default();
    let partitions = s.hub.status();
    let unseen = super::unseen::by_tenant(&s, &access);
    let mut tenants: std::collections::BTreeMap<String, serde_json::Value> =
        super::remote::freshness(&s).into_iter().collect();
    for (t, f) in s.hub.freshness() {
        tenants.insert(t, serde_json::to_value(f).unwrap_or_default());
    }
    Json(Status {
        unseen_queues: super::unseen::flat(&s, &access, &unseen),
        unseen_queues_by_tenant: unseen,
        server_ms: unix_ms(),
        applied: partitions.iter().map(|p| p.applied).sum(),
        duplicates: partitions.iter().map(|p| p.duplicates).sum(),
        rejected: partitions.iter().map(|p| p.rejected).sum(),
        late: partitions.iter().map(|p| p.late).sum(),
        ws_clients: s.ws_clients.load(Ordering::Relaxed),
        partitions,
        tenants: access.filter_map(tenants),
        views: super::remote::status(&s, &access),
        config: s.shown.status(),
        topic_warnings: s
            .cluster
            .as_ref()
            .map(|c| c.topic_warnings.clone())
            .unwrap_or_default(),
        consumer: s
            .cluster
            .as_ref()
            .and_then(|c| c.consumer_errors.as_ref())
            .map(|e| e.status()),
    })
}

pub(super) async fn tenants(
    State(s): State<AppState>,
    access: Option<Extension<Access>>,
) -> Json<Vec<String>> {
    let access = access.map(|Extension(a)| a).unwrap_or_default();
    Json(access.filter(super::remote::tenants(&s)))
}

pub(super) async fn live(
    State(s): State<AppState>,
    Path(tenant): Path<String>,
) -> Result<Response, ApiError> {
    if let Some(v) = super::remote::view(&s, &tenant) {
        return Ok(Json(super::remote::live(&v)).into_response());
    }
    Ok(Json(&*live_of(&s, &tenant)?).into_response())
}

/// A queue's live values with its configured target.
#[derive(Serialize)]
struct QueueWithTarget<'a> {
    #[serde(flatten)]
    live: &'a aggregator::live::QueueLive,
    target: QueueTarget,
}

pub(super) async fn queues(
    State(s): State<AppState>,
    Path(tenant): Path<String>,
) -> Result<Response, ApiError> {
    if let Some(v) = super::remote::view(&s, &tenant) {
        return Ok(Json(super::remote::queues(&s, &v)).into_response());
    }
    let l = live_of(&s, &tenant)?;
    let shown = s.shown.current();
    let rows: Vec<QueueWithTarget> = l
        .queues
        .iter()
        .map(|q| QueueWithTarget {
            live: q,
            target: shown.tenant(&tenant).target_for(q.queue.as_str()),
        })
        .collect();
    Ok(Json(serde_json::json!({ "now_ms": l.now_ms, "queues": rows })).into_response())
}

pub(super) async fn agents(
    State(s): State<AppState>,
    Path(tenant): Path<String>,
) -> Result<Response, ApiError> {
    if let Some(v) = super::remote::view(&s, &tenant) {
        let l = &v.record.live;
        return Ok(
            Json(serde_json::json!({ "now_ms": l["now_ms"], "agents": l["agents"] }))
                .into_response(),
        );
    }
    let l = live_of(&s, &tenant)?;
    Ok(Json(serde_json::json!({ "now_ms": l.now_ms, "agents": l.agents })).into_response())
}

/// `?from=…&to=…`: Unix milliseconds or RFC 3339 each; `from` after `to`
/// is refused.
#[derive(Deserialize)]
pub(super) struct RangeQuery {
    from: Option<super::time_param::TimeParam>,
    to: Option<super::time_param::TimeParam>,
}

impl RangeQuery {
    fn range(&self) -> Result<Range, ApiError> {
        let (from, to) = (self.from.map(|i| i.0), self.to.map(|i| i.0));
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(ApiError::BadQuery(format!(
                    "from ({f} ms) is after to ({t} ms)"
                )));
            }
        }
        Ok(Range { from, to })
    }
}

/// The interval report of `metrics.md`: the same bytes `wallboard replay`
/// prints for the same events.
pub(super) async fn report(
    State(s): State<AppState>,
    Path(tenant): Path<String>,
    ApiQuery(q): ApiQuery<RangeQuery>,
    ApiQuery(f): ApiQuery<crate::report_format::FormatQuery>,
    headers: axum::http::HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let range = q.range()?;
    match s.hub.report(&tenant, range).await {
        Some(r) if f.wants_csv(&headers) => Ok(crate::report_format::csv_response(&r, f.lang)),
        Some(r) => {
            let mut body = serde_json::to_vec_pretty(&r).expect("report serializes");
            body.push(b'\n');
            Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
        }
        None => {
            super::remote::forward(
                &s,
                &tenant,
                Method::GET,
                &path_and_query(&uri),
                &headers,
                None,
            )
            .await
        }
    }
}

fn path_and_query(uri: &Uri) -> String {
    uri.path_and_query()
        .map_or_else(|| uri.path().to_owned(), ToString::to_string)
}

pub(super) async fn alerts(
    State(s): State<AppState>,
    Path(tenant): Path<String>,
) -> Result<Response, ApiError> {
    let rules = s.config.alerts.clone();
    if let Some(v) = super::remote::view(&s, &tenant) {
        return Ok(
            Json(serde_json::json!({ "alerts": v.record.alerts, "rules": rules })).into_response(),
        );
    }
    live_of(&s, &tenant)?;
    Ok(Json(serde_json::json!({ "alerts": s.alerts_of(&tenant), "rules": rules })).into_response())
}

/// Which alert an acknowledgement or a silence is about.
#[derive(Deserialize, Serialize)]
pub(super) struct AlertRef {
    rule: String,
    subject: String,
    /// For a silence: how long.
    minutes: Option<u32>,
}

/// The longest silence, in minutes (a week): a silence is for a shift or an
/// outage, not for ever.
pub(super) const MAX_SILENCE_MINUTES: u32 = 7 * 24 * 60;

impl AlertRef {
    /// 404 unless `rule` names a configured rule (or is `*` where allowed).
    fn check_rule(&self, s: &AppState, wildcard: bool) -> Result<(), ApiError> {
        let any = Selector::from(self.rule.as_str()).is_any();
        let known = (wildcard && any) || s.config.alerts.iter().any(|r| r.name == self.rule);
        if known {
            Ok(())
        } else {
            Err(ApiError::UnknownRule(self.rule.clone()))
        }
    }
}

pub(super) async fn acknowledge(
    State(s): State<AppState>,
    Path(tenant): Path<String>,
    headers: axum::http::HeaderMap,
    uri: Uri,
    ApiJson(r): ApiJson<AlertRef>,
) -> Result<Response, ApiError> {
    r.check_rule(&s, false)?;
    if super::remote::view(&s, &tenant).is_some() {
        return forward_change(&s, &tenant, &uri, &headers, &r).await;
    }
    let found = s
        .alerts
        .engine
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .acknowledge(&tenant, &r.rule, &r.subject);
    if found {
        Ok(Json(serde_json::json!({ "acknowledged": true })).into_response())
    } else {
        Err(ApiError::UnknownAlert {
            rule: r.rule,
            subject: r.subject,
        })
    }
}

pub(super) async fn silence(
    State(s): State<AppState>,
    Path(tenant): Path<String>,
    headers: axum::http::HeaderMap,
    uri: Uri,
    ApiJson(r): ApiJson<AlertRef>,
) -> Result<Response, ApiError> {
    r.check_rule(&s, true)?;
    if super::remote::view(&s, &tenant).is_some() {
        return forward_change(&s, &tenant, &uri, &headers, &r).await;
    }
    let minutes = r.minutes.unwrap_or(60);
    if !(1..=MAX_SILENCE_MINUTES).contains(&minutes) {
        return Err(ApiError::BadBody(format!(
            "minutes is {minutes}; a silence lasts 1 to {MAX_SILENCE_MINUTES} minutes"
        )));
    }
    let until = unix_ms() + i64::from(minutes) * 60_000;
    s.alerts
        .engine
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .silence(&tenant, &r.rule, &r.subject, until);
    Ok(Json(serde_json::json!({ "silenced_until_ms": until })).into_response())
}

/// An acknowledgement or silence of a tenant another instance owns: the
/// alert state is the owner's.
async fn forward_change(
    s: &AppState,
    tenant: &str,
    uri: &Uri,
    headers: &axum::http::HeaderMap,
    r: &AlertRef,
) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(r).expect("an alert reference serializes");
    super::remote::forward(
        s,
        tenant,
        Method::POST,
        &path_and_query(uri),
        headers,
        Some(body),
    )
    .await
}

pub(super) async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
        .into_response()
}
