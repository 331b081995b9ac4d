//! The HTTP server: the embedded wallboard UI, the WebSocket push, the REST
//! API, health checks.

mod api;
mod assets;
mod auth;
mod ingest;
mod metrics;
mod ws;

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use aggregator::alerts::{ActiveAlert, AlertEngine};
use aggregator::LiveSnapshot;
use axum::extract::ws::Utf8Bytes;

use axum::routing::{get, post};
use axum::Router;

use crate::alerting::{self, Alerts};
use crate::config::AppConfig;
use aggregator::pipeline::Hub;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub hub: Hub,
    pub config: Arc<AppConfig>,
    pub ws_clients: Arc<AtomicU64>,
    /// The last WebSocket push per (tenant, queues), with the snapshot it was
    /// made from.
    pub push_cache: Arc<Mutex<PushCache>>,
    pub alerts: Alerts,
    /// Where `POST /ingest/v1/events` sends what it accepts.
    pub ingest: Option<IngestSink>,
}

pub use ingest::IngestSink;

/// See [`AppState::push_cache`].
pub type PushCache =
    HashMap<(String, String), (Arc<LiveSnapshot>, Arc<Vec<ActiveAlert>>, Utf8Bytes)>;

impl AppState {
    /// The state of a running server; starts alert evaluation (call it
    /// inside the runtime).
    pub fn new(hub: Hub, config: AppConfig) -> Self {
        let alerts = alerting::start(
            AlertEngine::new(config.alerts.clone()),
            config.channels.clone(),
            hub.clone(),
        );
        AppState {
            hub,
            config: Arc::new(config),
            ws_clients: Arc::new(AtomicU64::new(0)),
            push_cache: Arc::default(),
            alerts,
            ingest: None,
        }
    }

    /// Accepts events over HTTP into `sink`.
    pub fn with_ingest(mut self, sink: IngestSink) -> Self {
        self.ingest = Some(sink);
        self
    }

    /// Active alerts of one tenant.
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

/// Serves the application on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
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
            post(api::acknowledge).route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                auth::require_admin,
            )),
        )
        .route(
            "/api/v1/tenants/{tenant}/alerts/silence",
            post(api::silence).route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                auth::require_admin,
            )),
        )
        .route("/ws", get(ws::upgrade))
        .route("/metrics", get(metrics::metrics))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_read,
        ));
    Router::new()
        .merge(api)
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/ingest/v1/events", post(ingest::events))
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .merge(assets::routes())
        .with_state(state)
}
