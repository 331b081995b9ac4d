//! `GET /api/v1/tenants/{t}/agents/scorecard` (`metrics.md`, "Agent
//! scorecard"): computed by the partition writer that owns the tenant, or
//! forwarded to the instance that does, like the report.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use aggregator::scorecard::{Period, ScorecardError};
use wallboard_pipeline::ScorecardRequest;

use super::error::{ApiError, ApiQuery};
use super::AppState;

/// The route, read access (the router's `require_read` applies).
pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/tenants/{tenant}/agents/scorecard", get(scorecard))
}

/// `?period=today|week&queue=Q`.
#[derive(Deserialize)]
struct ScorecardQuery {
    period: Option<String>,
    queue: Option<String>,
}

impl ScorecardQuery {
    /// The period asked for (`today` when none), or the 400 naming it.
    fn period(&self) -> Result<Period, ApiError> {
        match self.period.as_deref() {
            None => Ok(Period::Today),
            Some(p) => Period::parse(p).ok_or_else(|| {
                ApiError::BadQuery(format!("period must be today or week, not {p:?}"))
            }),
        }
    }
}

async fn scorecard(
    State(s): State<AppState>,
    Path(tenant): Path<String>,
    ApiQuery(q): ApiQuery<ScorecardQuery>,
    ApiQuery(f): ApiQuery<crate::report_format::FormatQuery>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let request = ScorecardRequest {
        tenant: tenant.clone(),
        period: q.period()?,
        queue: q.queue,
    };
    match s.hub.scorecard(request).await {
        Some(Ok(card)) if f.wants_csv(&headers) => {
            Ok(crate::scorecard_format::csv_response(&card, f.lang))
        }
        Some(Ok(card)) => {
            let mut body = serde_json::to_vec_pretty(&card).expect("scorecard serializes");
            body.push(b'\n');
            Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
        }
        Some(Err(ScorecardError::UnknownQueue(queue))) => Err(ApiError::BadQuery(format!(
            "queue {queue:?} is not a queue of tenant {tenant:?}"
        ))),
        None => {
            let path = uri
                .path_and_query()
                .map_or_else(|| uri.path().to_owned(), ToString::to_string);
            super::remote::forward(&s, &tenant, Method::GET, &path, &headers, None).await
        }
    }
}
