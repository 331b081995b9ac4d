//! Which tenants a request may see (README, "Access"). A `[server]` token
//! sees every tenant; a tenant's own `read_tokens` token sees only the
//! tenants that list it. Any other tenant is answered exactly as one that
//! has sent no events (404 `unknown-tenant`), so a token cannot tell which
//! tenant ids exist.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::config::AppConfig;

/// The tenants a request may see, in its extensions once authorised.
#[derive(Debug, Clone, Default)]
pub(crate) enum Access {
    /// Every tenant: no tokens, or a `[server]` token.
    #[default]
    All,
    /// Only these tenants: a tenant's read token.
    Only(Arc<BTreeSet<String>>),
}

impl Access {
    /// Whether `tenant` is visible.
    pub(crate) fn sees(&self, tenant: &str) -> bool {
        match self {
            Access::All => true,
            Access::Only(set) => set.contains(tenant),
        }
    }

    /// The visible ones of `tenants`, in their order.
    pub(crate) fn filter(&self, tenants: Vec<String>) -> Vec<String> {
        tenants.into_iter().filter(|t| self.sees(t)).collect()
    }

    /// The visible entries of a map by tenant.
    pub(crate) fn filter_map<V>(&self, map: BTreeMap<String, V>) -> BTreeMap<String, V> {
        map.into_iter().filter(|(t, _)| self.sees(t)).collect()
    }
}

/// The tenants whose `read_tokens` hold `token` (every tenant's list is
/// compared, in constant time), or `None` when no tenant's does.
pub(super) fn scope_of(config: &AppConfig, token: &str) -> Option<BTreeSet<String>> {
    let mut seen = BTreeSet::new();
    for t in &config.tenants {
        if super::auth::matches_any(token, t.read_tokens.iter()) {
            seen.insert(t.id.clone());
        }
    }
    (!seen.is_empty()).then_some(seen)
}

/// Runs a read route for a tenant-scoped token: `{tenant}` outside its
/// tenants is 404 `unknown-tenant`; `/metrics`, which names every tenant,
/// is 403.
pub(super) async fn enforce(only: BTreeSet<String>, req: Request, next: Next) -> Response {
    if req.uri().path() == "/metrics" {
        return ApiError::Forbidden(
            "/metrics lists every tenant: it needs a [server] read or admin token, not a tenant's"
                .into(),
        )
        .into_response();
    }
    let (mut parts, body) = req.into_parts();
    let tenant = Path::<BTreeMap<String, String>>::from_request_parts(&mut parts, &())
        .await
        .ok()
        .and_then(|Path(mut p)| p.remove("tenant"));
    if let Some(t) = tenant.filter(|t| !only.contains(t)) {
        return ApiError::UnknownTenant(t).into_response();
    }
    let mut req = Request::from_parts(parts, body);
    req.extensions_mut().insert(Access::Only(Arc::new(only)));
    next.run(req).await
}
