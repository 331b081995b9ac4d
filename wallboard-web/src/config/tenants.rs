//! `[[tenants]]`: per-tenant settings (README, "Tenants"). A tenant listed
//! here computes with its own time zone, interval, thresholds and
//! short-abandon (each key not set inherits `[metrics]`), shows its own
//! queues and boards (a list of its own replaces the top-level list, it does
//! not merge with it), names its own agents (`agents`, the same rule), and
//! may have read tokens that see only it. Tenants
//! not listed use the top-level settings.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use aggregator::MetricsConfig;

use super::QueueTarget;
use crate::display::{AgentInfo, Board};

/// One `[[tenants]]` entry.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenantConfig {
    /// The tenant id, as in the events' `tenant`.
    pub id: String,
    /// IANA time zone of the tenant's centre (default: `metrics.tz`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tz: Option<String>,
    /// Reporting interval length in minutes (default: `metrics.interval_minutes`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_minutes: Option<u32>,
    /// Service-level thresholds in seconds (default: `metrics.sl_thresholds_s`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sl_thresholds_s: Option<Vec<u32>>,
    /// Short-abandon threshold in seconds (default: `metrics.short_abandon_s`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short_abandon_s: Option<u32>,
    /// The tenant's queues; when given, they replace the top-level `[[queues]]`
    /// for this tenant (an empty list: no queue configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queues: Option<Vec<QueueTarget>>,
    /// The tenant's boards; when given, they replace the top-level `[[boards]]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boards: Option<Vec<Board>>,
    /// How the tenant's agents are shown; when given, they replace the
    /// top-level `[[agents]]` for this tenant (an empty list: ids only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agents: Option<Vec<AgentInfo>>,
    /// Bearer tokens that may read this tenant only (README, "Access").
    pub read_tokens: Vec<String>,
}

impl TenantConfig {
    /// `[metrics]` with this tenant's own keys on top.
    #[must_use]
    pub fn metrics(&self, base: &MetricsConfig) -> MetricsConfig {
        let mut m = base.clone();
        if let Some(tz) = &self.tz {
            m.tz.clone_from(tz);
        }
        if let Some(i) = self.interval_minutes {
            m.interval_minutes = i;
        }
        if let Some(t) = &self.sl_thresholds_s {
            m.sl_thresholds_s.clone_from(t);
        }
        if let Some(s) = self.short_abandon_s {
            m.short_abandon_s = s;
        }
        m
    }
}

/// What one tenant sees: its own settings where it has them, else the
/// top-level ones.
#[derive(Debug, Clone, Copy)]
pub struct TenantView<'a> {
    config: &'a super::AppConfig,
    own: Option<&'a TenantConfig>,
}

impl<'a> TenantView<'a> {
    pub(super) fn new(config: &'a super::AppConfig, tenant: &str) -> Self {
        TenantView {
            config,
            own: config.tenants.iter().find(|t| t.id == tenant),
        }
    }

    /// The tenant's `[[tenants]]` entry, if it has one.
    #[must_use]
    pub fn own(&self) -> Option<&'a TenantConfig> {
        self.own
    }

    /// The tenant's metric settings.
    #[must_use]
    pub fn metrics(&self) -> MetricsConfig {
        match self.own {
            Some(t) => t.metrics(&self.config.metrics),
            None => self.config.metrics.clone(),
        }
    }

    /// The tenant's queues: its own list, else `[[queues]]`.
    #[must_use]
    pub fn queues(&self) -> &'a [QueueTarget] {
        self.own
            .and_then(|t| t.queues.as_deref())
            .unwrap_or(&self.config.queues)
    }

    /// The tenant's boards: its own list, else `[[boards]]`.
    #[must_use]
    pub fn boards(&self) -> &'a [Board] {
        self.own
            .and_then(|t| t.boards.as_deref())
            .unwrap_or(&self.config.boards)
    }

    /// The tenant's agent names: its own list, else `[[agents]]`.
    #[must_use]
    pub fn agents(&self) -> &'a [AgentInfo] {
        self.own
            .and_then(|t| t.agents.as_deref())
            .unwrap_or(&self.config.agents)
    }

    /// The display settings of `queue` (defaults at the tenant's first
    /// threshold when not configured).
    #[must_use]
    pub fn target_for(&self, queue: &str) -> QueueTarget {
        self.queues()
            .iter()
            .find(|q| q.name == queue)
            .cloned()
            .unwrap_or_else(|| QueueTarget {
                name: queue.to_owned(),
                sl_threshold_s: self
                    .metrics()
                    .sl_thresholds_s
                    .first()
                    .copied()
                    .unwrap_or(20),
                ..Default::default()
            })
    }
}

/// What makes no sense in `[[tenants]]`: the key and why.
pub(super) fn check(config: &super::AppConfig) -> Result<(), (String, String)> {
    let mut ids = BTreeSet::new();
    for (i, t) in config.tenants.iter().enumerate() {
        let key = |k: &str| format!("tenants[{i}].{k}");
        if t.id.trim().is_empty() {
            return Err((key("id"), "every [[tenants]] entry needs an id".into()));
        }
        if !ids.insert(t.id.as_str()) {
            return Err((key("id"), format!("tenant {:?} is configured twice", t.id)));
        }
        for (j, &s) in t.sl_thresholds_s.iter().flatten().enumerate() {
            super::check_threshold(key(&format!("sl_thresholds_s[{j}]")), s)?;
        }
        if let Some(s) = t.short_abandon_s {
            super::check_short_abandon(key("short_abandon_s"), s)?;
        }
        if let Some(queues) = &t.queues {
            super::check_queues(&key("queues"), queues)?;
        }
        if t.read_tokens.iter().any(|r| r.trim().is_empty()) {
            return Err((key("read_tokens"), "a token must not be empty".into()));
        }
        // The same rules as the top-level keys, named under this tenant.
        let mut shown = config.clone();
        shown.queues = TenantView::new(config, &t.id).queues().to_vec();
        shown.boards = TenantView::new(config, &t.id).boards().to_vec();
        crate::display::validate(&shown).map_err(|e| (format!("tenants[{i}]"), e.to_string()))?;
        config
            .params_of(&t.id)
            .map_err(|e| (key(e.key().trim_start_matches("metrics.")), e.to_string()))?;
    }
    Ok(())
}

impl super::AppConfig {
    /// Whether any tenant has read tokens of its own (which closes the
    /// server to requests without a token, as `[server]` tokens do).
    #[must_use]
    pub fn has_tenant_tokens(&self) -> bool {
        self.tenants.iter().any(|t| !t.read_tokens.is_empty())
    }
}

#[cfg(test)]
// figment::Jail's closures return figment::Error, which is large; not ours to shrink.
#[allow(clippy::result_large_err)]
mod tests {
    use std::path::Path;

    use super::super::AppConfig;

    fn load(text: &str) -> Result<AppConfig, String> {
        let mut got = Err(String::new());
        figment::Jail::expect_with(|jail| {
            jail.create_file("w.toml", text)?;
            got = AppConfig::load(Some(Path::new("w.toml"))).map_err(|e| e.to_string());
            Ok(())
        });
        got
    }

    #[test]
    fn a_tenants_keys_are_checked_as_the_top_level_ones_and_named() {
        let cases = [
            (
                "[[tenants]]\nid = \"a\"\ntz = \"Mars/Olympus\"\n",
                "tenants[0].tz: unknown time zone",
            ),
            (
                "[[tenants]]\nid = \"a\"\n[[tenants]]\nid = \"b\"\ninterval_minutes = 7\n",
                "tenants[1].interval_minutes: interval of 7",
            ),
            (
                "[[tenants]]\nid = \"a\"\n[[tenants]]\nid = \"a\"\n",
                "tenants[1].id: tenant \"a\" is configured twice",
            ),
            ("[[tenants]]\nid = \" \"\n", "tenants[0].id"),
            (
                "[[tenants]]\nid = \"a\"\nsl_thresholds_s = [0]\n",
                "tenants[0].sl_thresholds_s[0]",
            ),
            (
                "[[tenants]]\nid = \"a\"\nshort_abandon_s = 9999\n",
                "tenants[0].short_abandon_s",
            ),
            (
                "[[tenants]]\nid = \"a\"\n[[tenants.queues]]\nname = \"q\"\nsl_target = 80\n",
                "tenants[0].queues[0].sl_target",
            ),
            (
                "[[tenants]]\nid = \"a\"\n[[tenants.boards]]\nname = \"b\"\npage_s = 1\n",
                "tenants[0]: boards: b.page_s",
            ),
            (
                "[[tenants]]\nid = \"a\"\ntime_zone = \"UTC\"\n",
                "time_zone",
            ),
            (
                "[[tenants]]\nid = \"a\"\nread_tokens = [\"\"]\n",
                "tenants[0].read_tokens",
            ),
        ];
        for (text, want) in cases {
            let got = load(text).expect_err(text);
            assert!(got.contains(want), "{text:?}: {got:?} lacks {want:?}");
            assert!(got.contains("w.toml"), "{got:?} names the file");
        }
    }

    #[test]
    fn unset_keys_inherit_metrics_and_own_lists_replace_the_top_level_ones() {
        let c = load(
            "[metrics]\ntz = \"Asia/Shanghai\"\ninterval_minutes = 15\nshort_abandon_s = 5\n\
             [[queues]]\nname = \"top\"\nsl_threshold_s = 30\n\
             [[tenants]]\nid = \"ny\"\ntz = \"America/New_York\"\n\
             [[tenants.queues]]\nname = \"own\"\nsl_threshold_s = 45\n\
             [[tenants]]\nid = \"plain\"\n",
        )
        .unwrap();
        let ny = c.params_of("ny").unwrap();
        assert_eq!(
            (ny.tz.name(), ny.interval_minutes, ny.short_abandon_s),
            ("America/New_York", 15, 5)
        );
        // Its own queue's threshold is computed; the top-level queue's is not.
        assert_eq!(ny.thresholds_s, vec![20, 45]);
        assert_eq!(c.tenant("ny").queues()[0].name, "own");
        assert_eq!(c.tenant("plain").queues()[0].name, "top");
        assert_eq!(c.tenant("unlisted").queues()[0].name, "top");
        let all = c.tenant_params().unwrap();
        assert_eq!(all.of("unlisted").tz.name(), "Asia/Shanghai");
        assert_eq!(all.of("plain").thresholds_s, vec![20, 30]);
        assert_eq!(all.of("ny").tz.name(), "America/New_York");
    }
}
