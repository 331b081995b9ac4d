//! The wallboard UI, embedded in the binary: floors are often offline, so
//! nothing is fetched from a CDN.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::AppState;

/// (path, content type, bytes).
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../ui/app.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../../ui/style.css"),
    ),
    (
        "freshness.js",
        "text/javascript; charset=utf-8",
        include_str!("../../ui/freshness.js"),
    ),
    (
        "freshness.css",
        "text/css; charset=utf-8",
        include_str!("../../ui/freshness.css"),
    ),
    (
        "i18n.js",
        "text/javascript; charset=utf-8",
        include_str!("../../ui/i18n.js"),
    ),
    (
        "layout.js",
        "text/javascript; charset=utf-8",
        include_str!("../../ui/layout.js"),
    ),
    (
        "tilefit.js",
        "text/javascript; charset=utf-8",
        include_str!("../../ui/tilefit.js"),
    ),
    (
        "chart.js",
        "text/javascript; charset=utf-8",
        include_str!("../../ui/chart.js"),
    ),
    (
        "messages.js",
        "text/javascript; charset=utf-8",
        include_str!("../../ui/messages.js"),
    ),
    (
        "scorecard.js",
        "text/javascript; charset=utf-8",
        include_str!("../../ui/scorecard.js"),
    ),
    (
        "scorecard.css",
        "text/css; charset=utf-8",
        include_str!("../../ui/scorecard.css"),
    ),
    // uPlot (MIT, ui/vendor/uPlot.LICENSE), vendored so that nothing is
    // fetched at run time and building needs no Node.
    (
        "vendor/uPlot.iife.min.js",
        "text/javascript; charset=utf-8",
        include_str!("../../ui/vendor/uPlot.iife.min.js"),
    ),
    (
        "vendor/uPlot.min.css",
        "text/css; charset=utf-8",
        include_str!("../../ui/vendor/uPlot.min.css"),
    ),
    (
        "vendor/uPlot.LICENSE",
        "text/plain; charset=utf-8",
        include_str!("../../ui/vendor/uPlot.LICENSE"),
    ),
];

const INDEX: &str = include_str!("../../ui/index.html");

/// The agent scorecard page for team leads (`metrics.md`, "Agent scorecard").
const SCORECARD: &str = include_str!("../../ui/scorecard.html");

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/scorecard.html", get(scorecard))
        .route("/assets/{file}", get(asset))
        .route("/assets/vendor/{file}", get(vendored))
}

async fn vendored(Path(file): Path<String>) -> Response {
    asset(Path(format!("vendor/{file}"))).await
}

async fn index() -> Response {
    page(INDEX)
}

async fn scorecard() -> Response {
    page(SCORECARD)
}

/// An HTML page of the UI, under the same content security policy.
fn page(html: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'",
            ),
        ],
        html,
    )
        .into_response()
}

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, mime, body)) => (
            [
                (header::CONTENT_TYPE, *mime),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *body,
        )
            .into_response(),
        None => super::error::ApiError::UnknownAsset(file).into_response(),
    }
}
