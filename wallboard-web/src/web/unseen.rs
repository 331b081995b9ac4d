//! `unseen_queues` of `/api/v1/status` (README, "Status"): the queues
//! configured for a tenant that its live view has not shown yet. Each
//! tenant is checked against its own list (`[[tenants]]` `queues`, else the
//! top-level `[[queues]]`), and only the tenants the token sees are named.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::access::Access;
use super::AppState;

/// The queues each visible tenant has not shown yet, by tenant (tenants
/// with none left out). The tenants are those heard of (this instance's
/// and the views topic's) and those listed in `[[tenants]]`.
pub(super) fn by_tenant(s: &AppState, access: &Access) -> BTreeMap<String, Vec<String>> {
    let mut tenants: BTreeSet<String> = super::remote::tenants(s).into_iter().collect();
    tenants.extend(s.config.tenants.iter().map(|t| t.id.clone()));
    tenants
        .into_iter()
        .filter(|t| access.sees(t))
        .filter_map(|t| {
            let seen = seen_queues(s, &t);
            let unseen: Vec<String> = s
                .config
                .tenant(&t)
                .queues()
                .iter()
                .filter(|q| !seen.contains(&q.name))
                .map(|q| q.name.clone())
                .collect();
            (!unseen.is_empty()).then_some((t, unseen))
        })
        .collect()
}

/// The flat `unseen_queues`: every queue unseen by some visible tenant,
/// once, in the order of `by_tenant`; with a `[server]` token, also the
/// top-level `[[queues]]` while no tenant that uses them has been heard of
/// (nothing has shown them yet).
pub(super) fn flat(
    s: &AppState,
    access: &Access,
    by_tenant: &BTreeMap<String, Vec<String>>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |q: &String| {
        if !out.contains(q) {
            out.push(q.clone());
        }
    };
    by_tenant.values().flatten().for_each(&mut push);
    let uses_top_level = |t: &String| s.config.tenant(t).own().is_none_or(|o| o.queues.is_none());
    let heard_top_level = super::remote::tenants(s).iter().any(uses_top_level);
    if matches!(access, Access::All) && !heard_top_level {
        s.config.queues.iter().map(|q| &q.name).for_each(push);
    }
    out
}

/// The queues `tenant`'s live view (own or from the views topic) has.
fn seen_queues(s: &AppState, tenant: &str) -> BTreeSet<String> {
    if let Some(live) = s.hub.live(tenant) {
        return live
            .queues
            .iter()
            .map(|q| q.queue.as_str().to_owned())
            .collect();
    }
    let Some(view) = super::remote::view(s, tenant) else {
        return BTreeSet::new();
    };
    view.record.live["queues"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|q| q.get("queue").and_then(Value::as_str).map(str::to_owned))
        .collect()
}
