//! The engine of one partition: routes each event to its tenant's engine.

use std::sync::Arc;

use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

use wallboard_events::{Event, EventBody, TimestampMs};

use crate::config::Params;
use crate::forecast::ForecastBook;
use crate::messages::{ActiveMessage, MessageBoard};
use crate::tenant::{Applied, ParamsChanged, TenantEngine};

/// All tenants seen by one writer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Engine {
    #[serde(skip)]
    params: Arc<Params>,
    tenants: HashMap<Box<str>, TenantEngine>,
    /// Floor messages by tenant (`events.md`, "Floor messages"): apart
    /// from the tenants' engines, since a message never creates a tenant.
    messages: HashMap<Box<str>, MessageBoard>,
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
    /// An engine with no tenants yet, computing with `params`.
    #[must_use]
    pub fn new(params: Params) -> Self {
        Engine {
            params: Arc::new(params),
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
        let mut t = TenantEngine::new(&e.tenant, self.params.clone());
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
    /// then (when any tenant holds forecasts) the tenants' forecasts, a
    /// section older snapshots end without.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = postcard::to_stdvec(self).expect("engine state always serializes");
        let mut books: Vec<(&str, &ForecastBook)> = self
            .tenants
            .iter()
            .filter(|(_, t)| !t.forecasts().is_empty())
            .map(|(name, t)| (&**name, t.forecasts()))
            .collect();
        if !books.is_empty() {
            books.sort_unstable_by_key(|(name, _)| *name);
            bytes.extend(postcard::to_stdvec(&books).expect("forecasts always serialize"));
        }
        bytes
    }

    /// An engine restored from [`Engine::to_bytes`], under `params`.
    pub fn from_bytes(bytes: &[u8], params: Params) -> Result<Self, SnapshotError> {
        let (mut engine, rest): (Engine, _) = postcard::take_from_bytes(bytes)?;
        if !rest.is_empty() {
            let books: Vec<(String, ForecastBook)> = postcard::from_bytes(rest)?;
            for (name, book) in books {
                if let Some(t) = engine.tenants.get_mut(name.as_str()) {
                    t.restore_forecasts(book);
                }
            }
        }
        engine.params = Arc::new(params);
        for t in engine.tenants.values_mut() {
            t.rebind(engine.params.clone())?;
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

    /// The validated metric parameters every tenant uses.
    #[must_use]
    pub fn params(&self) -> &Params {
        &self.params
    }
}
