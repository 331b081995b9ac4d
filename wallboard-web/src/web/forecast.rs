//! Forecasts over HTTP (`events.md`, "Forecast files"): an admin posts a
//! tenant's plan as CSV or JSON; every row becomes a `forecast` event sent
//! where this mode's events go (the in-process bus or the Kafka topic), so
//! the engine's snapshot keeps it. `GET` shows today's plan against the
//! day so far, from the published live view.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;

use aggregator::forecast_view::LiveForecast;
use wallboard_events::parse::{identifier_problem, MAX_TENANT_IDENT};
use wallboard_pipeline::writer::unix_ms;

use super::error::ApiError;
use super::ingest::{sink_and_body, store};
use super::{auth, AppState};
use crate::forecast_file::{self, FileFormat, ForecastFileError, Tenant};

/// The forecast routes: today's plan (read), a new plan (admin).
pub(super) fn routes(state: &AppState) -> Router<AppState> {
    let admin = from_fn_with_state(state.clone(), auth::require_admin);
    Router::new()
        .route("/api/v1/tenants/{tenant}/forecast", get(today))
        .route(
            "/api/v1/tenants/{tenant}/forecast",
            post(create).route_layer(admin),
        )
}

#[derive(Serialize)]
struct Accepted<'a> {
    tenant: &'a str,
    /// Forecast events sent, one per row.
    forecasts: usize,
}

#[derive(Serialize)]
struct Today<'a> {
    tenant: &'a str,
    now_ms: i64,
    /// Queue (`*` the tenant) → its live `forecast` (`metrics.md`,
    /// "Forecast vs actual"); queues without a forecast today are absent.
    queues: BTreeMap<&'a str, &'a LiveForecast>,
}

async fn today(
    State(s): State<AppState>,
    Path(tenant): Path<String>,
) -> Result<Response, ApiError> {
    check_tenant(&tenant)?;
    let live = s
        .hub
        .live(&tenant)
        .ok_or_else(|| ApiError::UnknownTenant(tenant.clone()))?;
    let queues = live
        .queues
        .iter()
        .filter_map(|q| q.forecast.as_ref().map(|f| (q.queue.as_str(), f)))
        .collect();
    Ok(Json(Today {
        tenant: &tenant,
        now_ms: live.now_ms,
        queues,
    })
    .into_response())
}

async fn create(
    State(s): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_tenant(&tenant)?;
    let no_sink = "this mode takes no forecasts (no event sink: run serve or demo)";
    let (sink, body) = sink_and_body(&s, body, no_sink).await?;
    let format = format_of(&headers)?;
    // The tenant's own zone and interval (`[[tenants]]`), as the engine
    // will judge the plans.
    let params = s
        .config
        .params_of(&tenant)
        .map_err(|e| ApiError::Unavailable(format!("metric settings: {e}")))?;
    let grid = Tenant {
        tz: params.tz,
        interval_minutes: params.interval_minutes,
    };
    let forecasts = forecast_file::parse(&body, format, grid).map_err(|e| match e {
        ForecastFileError::Row { row, field, reason } => {
            ApiError::InvalidForecast { row, field, reason }
        }
        ForecastFileError::File(why) => ApiError::BadBody(why),
    })?;
    let events = forecast_file::to_events(&tenant, forecasts, unix_ms());
    let n = events.len();
    let payloads = events
        .iter()
        .map(|e| (tenant.clone(), e.to_json().into_bytes()))
        .collect();
    store(sink, payloads).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            tenant: &tenant,
            forecasts: n,
        }),
    )
        .into_response())
}

/// CSV or JSON from `Content-Type`, which is required: neither type can be
/// sent cross-site without a CORS preflight (the CSRF rule of README's
/// "Cross-site requests"), while a body without one can.
fn format_of(headers: &HeaderMap) -> Result<FileFormat, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = ct.split(';').next().unwrap_or_default().trim();
    match essence.to_ascii_lowercase().as_str() {
        "text/csv" => Ok(FileFormat::Csv),
        "application/json" => Ok(FileFormat::Json),
        _ => Err(ApiError::UnsupportedForecastType(ct.to_owned())),
    }
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

/// Forecast vs actual on `/metrics` (`metrics.md`, "Forecast vs actual"):
/// the current interval's plan, and today's volume variance; a series is
/// absent while its value is.
pub(super) fn metrics(f: &super::metrics::Families, s: &AppState) {
    use super::metrics::TQ;
    let calls = f.gauge(
        "wallboard_forecast_calls",
        "calls forecast for the current interval",
        TQ,
    );
    let aht = f.gauge(
        "wallboard_forecast_aht_seconds",
        "AHT forecast for the current interval, seconds",
        TQ,
    );
    let variance = f.gauge(
        "wallboard_forecast_volume_variance_percent",
        "today's offered calls against the calls planned up to now, percent",
        TQ,
    );
    for tenant in s.hub.tenants() {
        let Some(snap) = s.hub.live(&tenant) else {
            continue;
        };
        for q in &snap.queues {
            let Some(fc) = &q.forecast else { continue };
            let l = [tenant.as_str(), q.queue.as_str()];
            if let Some(i) = &fc.interval {
                calls.with_label_values(&l).set(i.forecast_calls);
                if let Some(h) = i.forecast_aht_s {
                    aht.with_label_values(&l).set(h);
                }
            }
            if let Some(v) = fc.today.volume_variance_pct {
                variance.with_label_values(&l).set(v);
            }
        }
    }
}
