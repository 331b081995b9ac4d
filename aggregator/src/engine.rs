//! The engine of one partition: routes each event to its tenant's engine.

use std::sync::Arc;

use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

use wallboard_events::{Event, EventBody, TimestampMs};

use crate::config::Params;
use crate::forecast::ForecastBook;
use crate::handling::HandlingHistory;
use crate::messages::{ActiveMessage, MessageBoard};
use crate::quality::QualityState;
use crate::tenant::{Applied, ParamsChanged, TenantEngine};
use crate::tenant_params::TenantParams;

/// All tenants seen by one writer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Engine {
    #[serde(skip)]
    params: TenantParams,
    tenants: HashMap<Box<str>, TenantEngine>,
    /// Floor messages by tenant (`events.md`, "Floor messages"): apart
    /// from the tenants' engines, since a message never creates a tenant.
    messages: HashMap<Box<str>, MessageBoard>,
}

/// The snapshot's extension after the engine's own state: each tenant's
/// [`QualityState`] (only tenants that have one).
#[derive(Serialize)]
struct QualityExtension<'a> {
    tenants: Vec<(&'a str, &'a QualityState)>,
}

impl<'a> QualityExtension<'a> {
    fn of(engine: &'a Engine) -> Self {
        QualityExtension {
            tenants: engine
                .tenants
                .iter()
                .filter(|(_, t)| !t.quality().is_empty())
                .map(|(k, t)| (&**k, t.quality()))
                .collect(),
        }
    }
}

/// [`QualityExtension`] as read back.
#[derive(Deserialize)]
struct QualityExtensionOwned {
    tenants: Vec<(Box<str>, QualityState)>,
}

/// Why a snapshot could not be restored.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The bytes do not decode as an engine snapshot.
    #[error("snapshot is corrupt or from another version: {0}")]
    Decode(#[from] postcard::Error),
    /// The snapshot was made with other metric settings.
    #[error(transparent)]
    ParamsChanged(#[from] ParamsChanged),
}

impl Engine {
    /// An engine with no tenants yet, computing with `params` (one set for
    /// every tenant, or [`TenantParams`] per tenant).
    #[must_use]
    pub fn new(params: impl Into<TenantParams>) -> Self {
        Engine {
            params: params.into(),
            tenants: HashMap::new(),
            messages: HashMap::new(),
        }
    }

    /// Applies one event to its tenant's engine (created on first sight).
    pub fn apply(&mut self, e: &Event<'_>) -> Applied {
        // Before the tenant lookup: a heartbeat never creates a tenant.
        match &e.body {
            EventBody::Heartbeat { .. } => return Applied::Heartbeat,
            EventBody::FloorMessage(m) => {
                let board = self.messages.entry_ref(&*e.tenant).or_default();
                return Applied::FloorMessage(board.apply(m, e.ts));
            }
            _ => {}
        }
        if let Some(t) = self.tenants.get_mut(&*e.tenant) {
            return t.apply(e);
        }
        let mut t = TenantEngine::new(&e.tenant, self.params.of(&e.tenant).clone());
        let applied = t.apply(e);
        self.tenants.insert(e.tenant.as_ref().into(), t);
        applied
    }

    /// A hint that an event of `tenant` with `id` comes next: starts loading
    /// the memory its duplicate check will read. Changes nothing.
    pub fn prefetch(&self, tenant: &str, id: &str) {
        if let Some(t) = self.tenants.get(tenant) {
            t.prefetch_id(id);
        }
    }

    /// The engine's state as bytes, for a durable snapshot: the engine,
    /// then (when some tenant has any) the CSAT, QA and repeat-contact
    /// state ([`QualityExtension`]), then (when any tenant holds forecasts)
    /// the tenants' forecasts, then (when any tenant has some) the
    /// scorecard's per-agent hold and transfer sums. A snapshot with a
    /// later section carries the earlier ones too, empty if need be, so
    /// each section is found by its place. Bytes of a version without these sections are the engine
    /// alone, and still load.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let bytes = postcard::to_stdvec(self).expect("engine state always serializes");
        let ext = QualityExtension::of(self);
        let mut books: Vec<(&str, &ForecastBook)> = self
            .tenants
            .iter()
            .filter(|(_, t)| !t.forecasts().is_empty())
            .map(|(name, t)| (&**name, t.forecasts()))
            .collect();
        let handling = self.handling_section();
        if ext.tenants.is_empty() && books.is_empty() && handling.is_empty() {
            return bytes;
        }
        let mut bytes = postcard::to_extend(&ext, bytes).expect("quality state always serializes");
        if !books.is_empty() || !handling.is_empty() {
            books.sort_unstable_by_key(|(name, _)| *name);
            bytes = postcard::to_extend(&books, bytes).expect("forecasts always serialize");
        }
        if !handling.is_empty() {
            bytes = postcard::to_extend(&handling, bytes).expect("handling sums always serialize");
        }
        bytes
    }

    /// The fourth snapshot section: each tenant's per-agent hold and
    /// transfer sums (`crate::handling`), tenants without any left out.
    fn handling_section(&self) -> Vec<(&str, HandlingHistory)> {
        let mut section: Vec<(&str, HandlingHistory)> = self
            .tenants
            .iter()
            .map(|(name, t)| (&**name, t.handling_history()))
            .filter(|(_, h)| !h.is_empty())
            .collect();
        section.sort_unstable_by_key(|(name, _)| *name);
        section
    }

    /// An engine restored from [`Engine::to_bytes`], under `params`: each
    /// tenant is checked against its own parameters.
    pub fn from_bytes(
        bytes: &[u8],
        params: impl Into<TenantParams>,
    ) -> Result<Self, SnapshotError> {
        let (mut engine, rest): (Engine, &[u8]) = postcard::take_from_bytes(bytes)?;
        if !rest.is_empty() {
            let (ext, rest): (QualityExtensionOwned, &[u8]) = postcard::take_from_bytes(rest)?;
            for (name, q) in ext.tenants {
                if let Some(t) = engine.tenants.get_mut(&*name) {
                    t.restore_quality(q);
                }
            }
            if !rest.is_empty() {
                let (books, rest): (Vec<(String, ForecastBook)>, &[u8]) =
                    postcard::take_from_bytes(rest)?;
                for (name, book) in books {
                    if let Some(t) = engine.tenants.get_mut(name.as_str()) {
                        t.restore_forecasts(book);
                    }
                }
                if !rest.is_empty() {
                    let handling: Vec<(String, HandlingHistory)> = postcard::from_bytes(rest)?;
                    for (name, h) in handling {
                        if let Some(t) = engine.tenants.get_mut(name.as_str()) {
                            t.restore_handling(h);
                        }
                    }
                }
            }
        }
        engine.params = params.into();
        for (name, t) in &mut engine.tenants {
            t.rebind(engine.params.of(name).clone())?;
        }
        Ok(engine)
    }

    /// The engine of tenant `name`, if it has seen an event.
    #[must_use]
    pub fn tenant(&self, name: &str) -> Option<&TenantEngine> {
        self.tenants.get(name)
    }

    /// Tenant names, sorted.
    #[must_use]
    pub fn tenant_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.tenants.keys().map(|k| &**k).collect();
        names.sort_unstable();
        names
    }

    /// The floor messages of `tenant` active at `now` (`metrics.md`,
    /// "Floor messages").
    #[must_use]
    pub fn messages(&self, tenant: &str, now: TimestampMs) -> Vec<ActiveMessage> {
        self.messages
            .get(tenant)
            .map(|b| b.active(now))
            .unwrap_or_default()
    }

    /// Tenants that have floor messages kept (active or not yet dropped).
    pub fn message_tenants(&self) -> impl Iterator<Item = &str> {
        self.messages
            .iter()
            .filter(|(_, b)| !b.is_empty())
            .map(|(k, _)| &**k)
    }

    /// The validated metric parameters of tenants without their own.
    #[must_use]
    pub fn params(&self) -> &Params {
        self.params.default_params()
    }

    /// The metric parameters of `tenant` (its own, or the default).
    #[must_use]
    pub fn params_of(&self, tenant: &str) -> &Arc<Params> {
        self.params.of(tenant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MetricsConfig;
    use wallboard_events::parse_event_str;

    fn params() -> Params {
        MetricsConfig::default().validate().unwrap()
    }

    const TRACE: &[&str] = &[
        r#"{"v":1,"id":"1","ts":1000,"kind":"call_queued","call":"c1","queue":"q","caller":"k"}"#,
        r#"{"v":1,"id":"2","ts":9000,"kind":"call_completed","call":"c1","queue":"q","agent":"a","talk_ms":5000}"#,
        r#"{"v":1,"id":"3","ts":9500,"kind":"survey_result","call":"c1","queue":"q","agent":"a","score":5,"scale_min":1,"scale_max":5}"#,
    ];

    #[test]
    fn quality_state_survives_the_snapshot_and_old_snapshots_still_load() {
        let mut e = Engine::new(params());
        for l in TRACE {
            e.apply(&parse_event_str(l).unwrap());
        }
        let restored = Engine::from_bytes(&e.to_bytes(), params()).unwrap();
        let (before, after) = (
            e.tenant("default").unwrap(),
            restored.tenant("default").unwrap(),
        );
        assert_eq!(after.quality().repeat.len(), before.quality().repeat.len());
        assert_eq!(
            after.quality().repeat.len(),
            2,
            "one contact, one pending call"
        );
        assert_eq!(after.quality().totals.tenant().surveys, 1);
        // The repeat of a call handled before the restart is still found.
        let mut restored = restored;
        let again = r#"{"v":1,"id":"4","ts":20000,"kind":"call_queued","call":"c2","queue":"q","caller":"k"}"#;
        restored.apply(&parse_event_str(again).unwrap());
        let t = restored.tenant("default").unwrap();
        assert_eq!(t.quality().totals.tenant().repeat_contacts, 1);
        // A snapshot of a version without the extension: the engine alone.
        let old = postcard::to_stdvec(&e).unwrap();
        let loaded = Engine::from_bytes(&old, params()).unwrap();
        assert!(loaded.tenant("default").unwrap().quality().is_empty());
        assert_eq!(loaded.tenant("default").unwrap().stats(), before.stats());
    }

    #[test]
    fn agent_hold_and_transfers_survive_the_snapshot() {
        let mut e = Engine::new(params());
        let done = r#"{"v":1,"id":"1","ts":9000,"kind":"call_completed","call":"c1","queue":"q","agent":"a","talk_ms":5000,"hold_ms":1200,"transferred":true}"#;
        e.apply(&parse_event_str(done).unwrap());
        let before = e.tenant("default").unwrap().handling_history();
        assert_eq!(before[0].1[0].hold_ms, 1200);
        assert_eq!(before[0].1[0].transferred, 1);
        let restored = Engine::from_bytes(&e.to_bytes(), params()).unwrap();
        assert_eq!(
            restored.tenant("default").unwrap().handling_history(),
            before
        );
        // Without the section (an older version's bytes): none, still loads.
        let old = postcard::to_stdvec(&e).unwrap();
        let loaded = Engine::from_bytes(&old, params()).unwrap();
        assert!(loaded
            .tenant("default")
            .unwrap()
            .handling_history()
            .is_empty());
    }

    #[test]
    fn an_engine_without_quality_data_writes_the_old_bytes() {
        let mut e = Engine::new(params());
        e.apply(
            &parse_event_str(
                r#"{"v":1,"id":"1","ts":1000,"kind":"call_queued","call":"c1","queue":"q"}"#,
            )
            .unwrap(),
        );
        assert_eq!(e.to_bytes(), postcard::to_stdvec(&e).unwrap());
    }
}
