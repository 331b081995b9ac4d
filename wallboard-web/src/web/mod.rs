//! The HTTP server: the embedded wallboard UI, the WebSocket push, the REST
//! API, health checks.

mod access;
mod admin;
mod api;
mod assets;
mod auth;
mod conn;
pub mod error;
mod forecast;
mod ingest;
mod messages;
mod metrics;
mod metrics_quality;
mod push;
mod push_cache;
mod remote;
mod scorecard;
mod time_param;
mod unseen;
mod ws;
mod ws_socket;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use aggregator::alerts::{ActiveAlert, AlertEngine};

use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use axum::Router;

use crate::alerting::{self, Alerts};
use crate::config::AppConfig;
use wallboard_pipeline::Hub;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// Every partition's published view.
    pub hub: Hub,
    /// The configuration the service started with.
    pub config: Arc<AppConfig>,
    /// The configuration the board is shown with: `config`, then each
    /// reload applied (display settings only, README "Reloading").
    pub shown: Arc<crate::reload::Shown>,
    /// WebSocket clients connected now.
    pub ws_clients: Arc<AtomicU64>,
    /// The last WebSocket push per subscription, while a client holds it.
    pub push_cache: Arc<PushCache>,
    /// Alert engine, firing alerts and delivery counters.
    pub alerts: Alerts,
    /// Where `POST /ingest/v1/events` sends what it accepts.
    pub ingest: Option<IngestSink>,
    /// What the server's limits refused.
    pub http: Arc<HttpCounters>,
    /// The other instances' views and how to reach them (`serve` only).
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
}

/// Clients refused or dropped by the server's limits (see `/metrics`).
#[derive(Debug, Default)]
pub struct HttpCounters {
    /// Connections beyond `server.max_connections`.
    pub refused_connections: AtomicU64,
    /// WebSocket clients dropped because a push did not reach them within
    /// `server.ws_send_timeout_s`.
    pub ws_slow_consumers: AtomicU64,
    /// WebSocket subscriptions refused (too many queues, message too large).
    pub ws_refused_subscriptions: AtomicU64,
}

pub use ingest::IngestSink;

pub use push_cache::PushCache;

impl AppState {
    /// The state of a running server; starts alert evaluation (call it
    /// inside the runtime).
    #[must_use]
    pub fn new(hub: Hub, config: AppConfig) -> Self {
        let alerts = alerting::start(
            AlertEngine::new(config.alerts.clone()),
            config.channels.clone(),
            hub.clone(),
        );
        let config = Arc::new(config);
        AppState {
            hub,
            shown: Arc::new(crate::reload::Shown::new(config.clone())),
            config,
            ws_clients: Arc::new(AtomicU64::new(0)),
            push_cache: Arc::default(),
            alerts,
            ingest: None,
            http: Arc::default(),
            cluster: None,
        }
    }

    /// Accepts events over HTTP into `sink`.
    #[must_use]
    pub fn with_ingest(mut self, sink: IngestSink) -> Self {
        self.ingest = Some(sink);
        self
    }

    /// Serves the tenants of the other instances too, from their views.
    #[must_use]
    pub fn with_cluster(mut self, cluster: crate::cluster::Cluster) -> Self {
        self.cluster = Some(Arc::new(cluster));
        self
    }

    /// Active alerts of one tenant.
    #[must_use]
    pub fn alerts_of(&self, tenant: &str) -> Vec<ActiveAlert> {
        self.alerts
            .active
            .borrow()
            .iter()
            .filter(|a| a.tenant == tenant)
            .cloned()
            .collect()
    }
}

/// Serves the application on `listener` until `shutdown` resolves, within
/// the connection limits of `[server]`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state.clone());
    conn::serve(listener, state, app, shutdown).await
}

/// The whole application's routes.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/v1/status", get(api::status))
        .route("/api/v1/tenants", get(api::tenants))
        .route("/api/v1/tenants/{tenant}/live", get(api::live))
        .route("/api/v1/tenants/{tenant}/queues", get(api::queues))
        .route("/api/v1/tenants/{tenant}/agents", get(api::agents))
        .route("/api/v1/tenants/{tenant}/report", get(api::report))
        .route("/api/v1/tenants/{tenant}/intervals", get(api::report))
        .route("/api/v1/tenants/{tenant}/alerts", get(api::alerts))
        .route(
            "/api/v1/tenants/{tenant}/alerts/acknowledge",
            post(api::acknowledge)
                .route_layer(from_fn(auth::require_json))
                .route_layer(from_fn_with_state(state.clone(), auth::require_admin)),
        )
        .route(
            "/api/v1/tenants/{tenant}/alerts/silence",
            post(api::silence)
                .route_layer(from_fn(auth::require_json))
                .route_layer(from_fn_with_state(state.clone(), auth::require_admin)),
        )
        .merge(messages::routes(&state))
        .merge(forecast::routes(&state))
        .merge(scorecard::routes())
        .route("/ws", get(ws::upgrade))
        .route("/metrics", get(metrics::metrics))
        .route_layer(from_fn_with_state(state.clone(), auth::require_read));
    Router::new()
        .merge(api)
        .route("/api/v1/openapi.json", get(api::openapi))
        .route(
            "/ingest/v1/events",
            post(ingest::events)
                .route_layer(from_fn(auth::require_json))
                .route_layer(from_fn_with_state(state.clone(), auth::require_ingest)),
        )
        .merge(admin::routes(&state))
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .merge(assets::routes())
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.server.max_body_bytes))
        .with_state(state)
}

async fn unknown_route(method: Method, uri: Uri) -> error::ApiError {
    error::ApiError::UnknownRoute {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

async fn method_not_allowed(method: Method, uri: Uri) -> error::ApiError {
    error::ApiError::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}
