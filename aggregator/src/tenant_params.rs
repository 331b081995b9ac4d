//! Metric parameters per tenant (`metrics.md`, "Parameters"): one default
//! set, and the tenants that have their own (`[[tenants]]` of the service).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::Params;

/// The parameters each tenant's engine computes with: a tenant listed in
/// `by_tenant` uses its own, every other tenant the default.
#[derive(Debug, Clone, Default)]
pub struct TenantParams {
    default: Arc<Params>,
    by_tenant: BTreeMap<Box<str>, Arc<Params>>,
}

impl TenantParams {
    /// Every tenant with `default`, until [`TenantParams::with_tenant`].
    #[must_use]
    pub fn new(default: Params) -> Self {
        TenantParams {
            default: Arc::new(default),
            by_tenant: BTreeMap::new(),
        }
    }

    /// `tenant` computes with `params` instead of the default.
    #[must_use]
    pub fn with_tenant(mut self, tenant: &str, params: Params) -> Self {
        self.by_tenant.insert(tenant.into(), Arc::new(params));
        self
    }

    /// The parameters of `tenant`.
    #[must_use]
    pub fn of(&self, tenant: &str) -> &Arc<Params> {
        self.by_tenant.get(tenant).unwrap_or(&self.default)
    }

    /// The parameters of tenants without their own.
    #[must_use]
    pub fn default_params(&self) -> &Params {
        &self.default
    }

    /// Tenants with their own parameters, sorted.
    pub fn own(&self) -> impl Iterator<Item = (&str, &Params)> {
        self.by_tenant.iter().map(|(k, v)| (&**k, &**v))
    }
}

impl From<Params> for TenantParams {
    fn from(default: Params) -> Self {
        TenantParams::new(default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MetricsConfig;

    #[test]
    fn a_listed_tenant_has_its_own_and_the_others_the_default() {
        let shanghai = MetricsConfig {
            tz: "Asia/Shanghai".into(),
            ..Default::default()
        };
        let p =
            TenantParams::new(Params::default()).with_tenant("sh", shanghai.validate().unwrap());
        assert_eq!(p.of("sh").tz.name(), "Asia/Shanghai");
        assert_eq!(p.of("other").tz.name(), "UTC");
        assert_eq!(p.own().map(|(t, _)| t).collect::<Vec<_>>(), ["sh"]);
    }
}
