//! `POST /api/v1/admin/reload` (README, "Reloading the configuration"):
//! what SIGHUP does, answered to the caller. Display settings apply (200,
//! with the keys that changed); a file that changes how state is computed
//! is refused naming the key (409), one that does not load with its error
//! (422); the running configuration stays in both.

use axum::extract::State;
use axum::middleware::from_fn_with_state;
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;

use wallboard_pipeline::writer::unix_ms;

use super::error::ApiError;
use super::AppState;
use crate::reload::{ReloadError, ReloadStatus};

/// The admin routes, behind an admin token.
pub(super) fn routes(state: &AppState) -> Router<AppState> {
    Router::new().route(
        "/api/v1/admin/reload",
        post(reload).route_layer(from_fn_with_state(
            state.clone(),
            super::auth::require_admin,
        )),
    )
}

/// The answer of an applied reload.
#[derive(Serialize)]
struct Reloaded {
    /// Always `true`: a refused reload is a problem document.
    applied: bool,
    /// The keys that changed (as `queues[0].label`), in key order.
    changed: Vec<String>,
    /// Reloads so far, as `/api/v1/status` `config` shows them.
    config: ReloadStatus,
}

async fn reload(State(s): State<AppState>) -> Result<Json<Reloaded>, ApiError> {
    tracing::info!("POST /api/v1/admin/reload: reading the configuration again");
    let shown = s.shown.clone();
    // Reading the file blocks: not on a runtime thread.
    let outcome = tokio::task::spawn_blocking(move || shown.reload_now(unix_ms()))
        .await
        .map_err(|e| ApiError::Unavailable(format!("the reload did not finish: {e}")))?;
    match outcome {
        Ok(changed) => Ok(Json(Reloaded {
            applied: true,
            changed,
            config: s.shown.status(),
        })),
        Err(ReloadError::NeedsRestart(key)) => Err(ApiError::ReloadNeedsRestart(key)),
        Err(e @ ReloadError::Invalid(_)) => Err(ApiError::ReloadInvalid(e.to_string())),
        Err(e @ ReloadError::NoSource) => Err(ApiError::Unavailable(e.to_string())),
    }
}

/// `wallboard_config_reloads_total{result}` (README, "Reloading the
/// configuration"): per instance, SIGHUP and this route alike.
pub(super) fn metrics(f: &super::metrics::Families, s: &AppState) {
    let r = s.shown.status();
    let c = f.counter(
        "wallboard_config_reloads_total",
        "configuration reloads: applied, refused (a key needs a restart), error (the file did not load)",
        &["result"],
    );
    for (result, n) in [
        ("applied", r.applied),
        ("refused", r.refused.saturating_sub(r.invalid)),
        ("error", r.invalid),
    ] {
        c.with_label_values(&[result]).inc_by(n);
    }
}
