//! The engine of one partition: routes each event to its tenant's engine.

use std::sync::Arc;

use hashbrown::HashMap;

use ingest::Event;

use crate::config::Params;
use crate::tenant::{Applied, TenantEngine};

/// All tenants seen by one writer.
#[derive(Debug, Clone)]
pub struct Engine {
    params: Arc<Params>,
    tenants: HashMap<Box<str>, TenantEngine>,
}

impl Engine {
    pub fn new(params: Params) -> Self {
        Engine {
            params: Arc::new(params),
            tenants: HashMap::new(),
        }
    }

    /// Applies one event to its tenant's engine (created on first sight).
    pub fn apply(&mut self, e: &Event<'_>) -> Applied {
        if let Some(t) = self.tenants.get_mut(&*e.tenant) {
            return t.apply(e);
        }
        let mut t = TenantEngine::new(&e.tenant, self.params.clone());
        let applied = t.apply(e);
        self.tenants.insert(e.tenant.as_ref().into(), t);
        applied
    }

    pub fn tenant(&self, name: &str) -> Option<&TenantEngine> {
        self.tenants.get(name)
    }

    /// Tenant names, sorted.
    pub fn tenant_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.tenants.keys().map(|k| &**k).collect();
        names.sort_unstable();
        names
    }

    pub fn params(&self) -> &Params {
        &self.params
    }
}
