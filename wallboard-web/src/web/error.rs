//! The one error shape of the HTTP API: every 4xx and 5xx is an
//! `application/problem+json` document (RFC 9457) with a `type` naming the
//! kind of problem, its `title`, the `status` and a `detail` a person can act
//! on. Handlers return `Result<_, ApiError>`; extractors that can fail come in
//! the `Api…` wrappers below so their rejections take the same shape.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::AppState;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Everything the API can answer with instead of what was asked for.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 404: no route has this path.
    #[error("no route {method} {path}; see /api/v1/openapi.json for the routes")]
    UnknownRoute {
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
    },
    /// 405: the path exists, the method does not.
    #[error("{path} does not take {method}; see /api/v1/openapi.json for its methods")]
    MethodNotAllowed {
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
    },
    /// 404: the tenant has sent no events.
    #[error("no tenant {0:?}: it has sent no events (GET /api/v1/tenants lists them)")]
    UnknownTenant(String),
    /// 404: no alert rule of that name is configured.
    #[error("no alert rule {0:?} is configured ([[alerts]] in the configuration)")]
    UnknownRule(String),
    /// 404: the rule has no alert for that subject.
    #[error("rule {rule:?} has no alert for subject {subject:?} (GET …/alerts lists them)")]
    UnknownAlert {
        /// The rule's name.
        rule: String,
        /// The queue (or `*`) or agent asked for.
        subject: String,
    },
    /// 404: no embedded UI file of that name.
    #[error("no asset {0:?}")]
    UnknownAsset(String),
    /// 400: a query parameter is missing or invalid.
    #[error("bad query: {0}")]
    BadQuery(String),
    /// 400: the request body does not parse.
    #[error("bad request body: {0}")]
    BadBody(String),
    /// 400: a WebSocket route was asked without a valid upgrade.
    #[error("not a WebSocket handshake: {0}")]
    NotWebSocket(String),
    /// 401: no token, or an unknown one.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 403: the token's role may not use the route, or the WebSocket `Origin` is not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 413: the body is over `server.max_body_bytes`.
    #[error("the body is larger than the {limit} bytes allowed (server.max_body_bytes)")]
    PayloadTooLarge {
        /// The limit, bytes.
        limit: usize,
    },
    /// 413: more events than `server.max_events_per_request`.
    #[error("{events} events in one request; at most {limit} are allowed (server.max_events_per_request)")]
    TooManyEvents {
        /// Events in the request.
        events: usize,
        /// The limit.
        limit: usize,
    },
    /// 415: the body's media type is neither JSON nor NDJSON.
    #[error("a POST body must be application/json or application/x-ndjson, not {0:?}")]
    UnsupportedMediaType(String),
    /// 408: the body did not arrive within `server.body_timeout_s`.
    #[error("the body did not arrive within {0} s (server.body_timeout_s)")]
    BodyTimeout(u64),
    /// 503: not ready (no view published yet, a partition not durable) or at `server.max_connections`.
    #[error("{0}")]
    Unavailable(String),
    /// 503 with `Retry-After: 2`: only the tenant's owner can answer, and
    /// it is unknown or unreachable (`architecture.md`, "Every node serves
    /// every tenant").
    #[error("{0}")]
    OwnerUnavailable(String),
    /// 422: a field of the body is well-formed but not acceptable.
    #[error("field `{field}`: {reason}")]
    InvalidField {
        /// The field, as named in the body.
        field: &'static str,
        /// Why it is refused.
        reason: String,
    },
    #[error("tenant {tenant:?} already has {limit} active floor messages, the most allowed; delete one (DELETE …/messages/{{id}}) or wait for one to expire")]
    /// 409: the tenant already has the most active floor messages.
    MessagesFull {
        /// The tenant.
        tenant: String,
        /// The most active messages a tenant may have.
        limit: usize,
    },
    /// 404: no active floor message has this id.
    #[error("no active floor message {0:?} (GET …/messages lists them)")]
    UnknownMessage(String),
    /// 422: a row of a posted forecast file is not acceptable.
    #[error("row {row}, field {field}: {reason}")]
    InvalidForecast {
        /// The row, from 1 (the first data row).
        row: usize,
        /// The column at fault.
        field: String,
        /// Why it is refused.
        reason: String,
    },
    /// 415: a forecast body that is neither CSV nor JSON.
    #[error("a forecast must be text/csv or application/json, not {0:?}")]
    UnsupportedForecastType(String),
    /// 409: a reload changes this key, which needs a restart.
    #[error("configuration not reloaded, the running one is kept: {0} changed, and it needs a restart (it decides how state is computed or how the service runs)")]
    ReloadNeedsRestart(String),
    /// 422: the configuration file does not load (the loading error).
    #[error("{0}")]
    ReloadInvalid(String),
}

impl ApiError {
    /// The HTTP status of the error.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        use ApiError::{
            BadBody, BadQuery, BodyTimeout, Forbidden, InvalidField, MessagesFull,
            MethodNotAllowed, NotWebSocket, OwnerUnavailable, PayloadTooLarge, TooManyEvents,
            Unauthorized, Unavailable, UnknownAlert, UnknownAsset, UnknownMessage, UnknownRoute,
            UnknownRule, UnknownTenant, UnsupportedMediaType,
        };
        use ApiError::{
            InvalidForecast, ReloadInvalid, ReloadNeedsRestart, UnsupportedForecastType,
        };
        match self {
            UnknownRoute { .. } | UnknownTenant(_) | UnknownRule(_) | UnknownAlert { .. } => {
                StatusCode::NOT_FOUND
            }
            UnknownAsset(_) | UnknownMessage(_) => StatusCode::NOT_FOUND,
            InvalidField { .. } | InvalidForecast { .. } | ReloadInvalid(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            MessagesFull { .. } | ReloadNeedsRestart(_) => StatusCode::CONFLICT,
            MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            BadQuery(_) | BadBody(_) | NotWebSocket(_) => StatusCode::BAD_REQUEST,
            Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Forbidden(_) => StatusCode::FORBIDDEN,
            PayloadTooLarge { .. } | TooManyEvents { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            UnsupportedMediaType(_) | UnsupportedForecastType(_) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Unavailable(_) | OwnerUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The problem type's short name: `type` is `urn:wallboard:problem:NAME`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        use ApiError::{
            BadBody, BadQuery, BodyTimeout, Forbidden, InvalidField, MessagesFull,
            MethodNotAllowed, NotWebSocket, OwnerUnavailable, PayloadTooLarge, TooManyEvents,
            Unauthorized, Unavailable, UnknownAlert, UnknownAsset, UnknownMessage, UnknownRoute,
            UnknownRule, UnknownTenant, UnsupportedMediaType,
        };
        use ApiError::{
            InvalidForecast, ReloadInvalid, ReloadNeedsRestart, UnsupportedForecastType,
        };
        match self {
            UnknownRoute { .. } => "unknown-route",
            MethodNotAllowed { .. } => "method-not-allowed",
            UnknownTenant(_) => "unknown-tenant",
            UnknownRule(_) => "unknown-rule",
            UnknownAlert { .. } => "unknown-alert",
            UnknownAsset(_) => "unknown-asset",
            BadQuery(_) => "bad-query",
            BadBody(_) => "bad-body",
            NotWebSocket(_) => "not-a-websocket",
            Unauthorized(_) => "unauthorized",
            Forbidden(_) => "forbidden",
            PayloadTooLarge { .. } => "payload-too-large",
            TooManyEvents { .. } => "too-many-events",
            UnsupportedMediaType(_) | UnsupportedForecastType(_) => "unsupported-media-type",
            BodyTimeout(_) => "body-timeout",
            Unavailable(_) | OwnerUnavailable(_) => "unavailable",
            InvalidField { .. } => "invalid-field",
            MessagesFull { .. } => "messages-full",
            UnknownMessage(_) => "unknown-message",
            InvalidForecast { .. } => "invalid-forecast",
            ReloadNeedsRestart(_) => "needs-restart",
            ReloadInvalid(_) => "invalid-configuration",
        }
    }

    /// The RFC 9457 document of this error.
    #[must_use]
    pub fn problem(&self) -> Problem {
        let status = self.status();
        Problem {
            kind: format!("urn:wallboard:problem:{}", self.kind()),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: self.to_string(),
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize)]
pub struct Problem {
    /// `urn:wallboard:problem:NAME`, naming the kind of error.
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's canonical reason phrase.
    pub title: &'static str,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong, in words, for this request.
    pub detail: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&self.problem()).expect("a problem serializes");
        let mut resp = (status, body).into_response();
        let headers = resp.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if matches!(self, ApiError::Unauthorized(_)) {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if matches!(self, ApiError::OwnerUnavailable(_)) {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        }
        resp
    }
}

/// `Query<T>` whose rejection is a problem document.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e: QueryRejection| ApiError::BadQuery(e.body_text()))
    }
}

/// `Json<T>` whose rejection is a problem document.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|j| ApiJson(j.0))
            .map_err(|e| match e {
                JsonRejection::MissingJsonContentType(_) => {
                    ApiError::UnsupportedMediaType(content_type)
                }
                JsonRejection::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    ApiError::PayloadTooLarge {
                        limit: state.config.server.max_body_bytes,
                    }
                }
                other => ApiError::BadBody(other.body_text()),
            })
    }
}
