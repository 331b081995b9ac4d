//! Reloading the configuration file on SIGHUP or `POST
//! /api/v1/admin/reload` (README, "Reloading the configuration"). Only settings that change what the board shows apply
//! without a restart; a file that changes anything else, or does not load,
//! is refused as a whole and the running configuration stays.

use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;

use crate::config::{AppConfig, QueueTarget};

/// What reloads did, for `/api/v1/status` (`config`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ReloadStatus {
    /// Reloads whose display settings were applied.
    pub applied: u64,
    /// Reloads refused (the file did not load, or it changed a setting that
    /// needs a restart); the running configuration was kept.
    pub refused: u64,
    /// Of the `refused`, those whose file did not load.
    pub invalid: u64,
    /// When the last reload was tried (Unix ms).
    pub last_ms: Option<i64>,
    /// Why the last reload was refused; `None` once one is applied.
    pub last_error: Option<String>,
}

/// The configuration the board is shown with: the one the service started
/// with, then each reload that was applied.
pub struct Shown {
    current: watch::Sender<Arc<AppConfig>>,
    status: Mutex<ReloadStatus>,
    loader: Mutex<Option<Loader>>,
}

impl std::fmt::Debug for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shown")
            .field("current", &self.current)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// Reads the configuration again: the file with the command line's flags
/// on top, as at start.
pub type Loader = Arc<dyn Fn() -> Result<AppConfig, String> + Send + Sync>;

/// Why a reload was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReloadError {
    /// The file did not load (syntax, unknown key, a value that makes no sense).
    #[error("configuration not reloaded, the running one is kept: {0}")]
    Invalid(String),
    /// The file changes a setting that only a restart applies.
    #[error("configuration not reloaded, the running one is kept: {0} changed, and it needs a restart (it decides how state is computed or how the service runs)")]
    NeedsRestart(String),
    /// Nothing to read the configuration from (a server started without
    /// a loader, as the in-process tests run it); nothing was counted.
    #[error("this server has no configuration source to reload")]
    NoSource,
}

impl Shown {
    /// Shows `config` until a reload replaces it.
    #[must_use]
    pub fn new(config: Arc<AppConfig>) -> Self {
        Shown {
            current: watch::Sender::new(config),
            status: Mutex::default(),
            loader: Mutex::default(),
        }
    }

    /// Where [`Shown::reload_now`] reads the configuration from.
    pub fn set_loader(&self, load: Loader) {
        *self.loader.lock().unwrap_or_else(PoisonError::into_inner) = Some(load);
    }

    /// Reads the configuration again with the loader and reloads it (as
    /// SIGHUP does); the changed keys when applied. Blocks on the file.
    pub fn reload_now(&self, now_ms: i64) -> Result<Vec<String>, ReloadError> {
        let load = self
            .loader
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or(ReloadError::NoSource)?;
        self.reload(load(), now_ms)
    }

    /// The configuration in force now.
    #[must_use]
    pub fn current(&self) -> Arc<AppConfig> {
        self.current.borrow().clone()
    }

    /// Resolves whenever a reload is applied.
    #[must_use]
    pub fn subscribe(&self) -> watch::Receiver<Arc<AppConfig>> {
        self.current.subscribe()
    }

    /// What reloads did so far.
    #[must_use]
    pub fn status(&self) -> ReloadStatus {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Applies `loaded` (the file read again) if it differs from the
    /// running configuration in display settings only, and gives the keys
    /// that changed (as `queues[0].label`); logs either way.
    pub fn reload(
        &self,
        loaded: Result<AppConfig, String>,
        now_ms: i64,
    ) -> Result<Vec<String>, ReloadError> {
        let outcome = loaded.map_err(ReloadError::Invalid).and_then(|new| {
            match needs_restart(&self.current(), &new) {
                Some(key) => Err(ReloadError::NeedsRestart(key)),
                None => Ok(new),
            }
        });
        let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        status.last_ms = Some(now_ms);
        match outcome {
            Ok(new) => {
                status.applied += 1;
                status.last_error = None;
                let changed = differences(&self.current(), &new);
                self.current.send_replace(Arc::new(new));
                tracing::info!(
                    "configuration reloaded: display settings applied ({})",
                    changed.join(", ")
                );
                Ok(changed)
            }
            Err(e) => {
                status.refused += 1;
                status.invalid += u64::from(matches!(e, ReloadError::Invalid(_)));
                status.last_error = Some(e.to_string());
                tracing::warn!("{e}");
                Err(e)
            }
        }
    }
}

/// The first key (as `tenants[1].tz`) in which `new` differs from `old`
/// outside the display settings, if any.
#[must_use]
pub fn needs_restart(old: &AppConfig, new: &AppConfig) -> Option<String> {
    let value =
        |c: &AppConfig| serde_json::to_value(computed(c)).expect("a configuration serializes");
    first_difference(&value(old), &value(new), "")
}

/// `config` without the settings a reload may change: `[display]`,
/// `[[boards]]`, `[[agents]]`, `[[reasons]]` (and a tenant's own boards
/// and agents), and each queue's labels,
/// order and colour bands (its name, variant, threshold, target and
/// short-abandon decide what is computed, so they stay).
fn computed(config: &AppConfig) -> AppConfig {
    let mut c = config.clone();
    c.display = crate::display::DisplayConfig::default();
    c.boards.clear();
    c.agents.clear();
    c.reasons.clear();
    c.queues.iter_mut().for_each(strip_display);
    for t in &mut c.tenants {
        t.boards = None;
        t.agents = None;
        t.queues.iter_mut().flatten().for_each(strip_display);
    }
    c
}

fn strip_display(q: &mut QueueTarget) {
    *q = QueueTarget {
        name: std::mem::take(&mut q.name),
        sl_variant: q.sl_variant,
        sl_threshold_s: q.sl_threshold_s,
        sl_target: q.sl_target,
        short_abandon_s: q.short_abandon_s,
        ..QueueTarget::default()
    };
}

/// Every key (as `queues[0].label`) whose value differs between `old` and
/// `new`, in key order.
#[must_use]
pub fn differences(old: &AppConfig, new: &AppConfig) -> Vec<String> {
    let value = |c: &AppConfig| serde_json::to_value(c).expect("a configuration serializes");
    let mut out = Vec::new();
    collect_differences(&value(old), &value(new), "", &mut out);
    out
}

fn collect_differences(old: &Value, new: &Value, path: &str, out: &mut Vec<String>) {
    let or_null = |v: Option<&Value>| v.cloned().unwrap_or(Value::Null);
    match (old, new) {
        (Value::Object(before), Value::Object(after)) => {
            let keys: std::collections::BTreeSet<&String> =
                before.keys().chain(after.keys()).collect();
            for key in keys {
                let (was, now) = (or_null(before.get(key)), or_null(after.get(key)));
                collect_differences(&was, &now, &child_key(path, key), out);
            }
        }
        (Value::Array(before), Value::Array(after)) => {
            for i in 0..before.len().max(after.len()) {
                let (was, now) = (or_null(before.get(i)), or_null(after.get(i)));
                collect_differences(&was, &now, &format!("{path}[{i}]"), out);
            }
        }
        _ if old != new => out.push(path.to_owned()),
        _ => {}
    }
}

fn child_key(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn first_difference(old: &Value, new: &Value, path: &str) -> Option<String> {
    let child = |key: &str| child_key(path, key);
    let or_null = |v: Option<&Value>| v.cloned().unwrap_or(Value::Null);
    match (old, new) {
        (Value::Object(before), Value::Object(after)) => {
            let keys: std::collections::BTreeSet<&String> =
                before.keys().chain(after.keys()).collect();
            keys.into_iter().find_map(|key| {
                let (was, now) = (or_null(before.get(key)), or_null(after.get(key)));
                first_difference(&was, &now, &child(key))
            })
        }
        (Value::Array(before), Value::Array(after)) => {
            (0..before.len().max(after.len())).find_map(|i| {
                let (was, now) = (or_null(before.get(i)), or_null(after.get(i)));
                first_difference(&was, &now, &format!("{path}[{i}]"))
            })
        }
        _ => (old != new).then(|| path.to_owned()),
    }
}

/// Reloads on every SIGHUP with `load` (the file read again, with the
/// command line's flags on top, as at start), for as long as the runtime runs.
/// The same `load` serves `POST /api/v1/admin/reload`.
pub fn reload_on_sighup<F>(shown: Arc<Shown>, load: F)
where
    F: Fn() -> Result<AppConfig, String> + Send + Sync + 'static,
{
    use tokio::signal::unix::{signal, SignalKind};
    shown.set_loader(Arc::new(load));
    let mut hangups = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("configuration reload on SIGHUP unavailable: {e}");
            return;
        }
    };
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            tracing::info!("SIGHUP: reading the configuration again");
            let _ = shown.reload_now(wallboard_pipeline::writer::unix_ms());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> AppConfig {
        toml::from_str(text).unwrap()
    }

    const BASE: &str = "[metrics]\ntz = \"UTC\"\n[[queues]]\nname = \"q\"\nlabel = \"Old\"\n\
                        [[tenants]]\nid = \"t\"\ntz = \"Asia/Shanghai\"\n";

    #[test]
    fn display_settings_apply_and_the_rest_is_refused_by_key() {
        let shown = Shown::new(Arc::new(config(BASE)));
        let mut changes = shown.subscribe();
        let relabelled = BASE.replace("Old", "New") + "[[boards]]\nname = \"b\"\n";
        let changed = shown.reload(Ok(config(&relabelled)), 1).unwrap();
        assert_eq!(changed, ["boards[0]", "queues[0].label"]);
        assert!(changes.has_changed().unwrap());
        changes.mark_unchanged();
        assert_eq!(shown.current().queues[0].label.as_deref(), Some("New"));
        assert_eq!(shown.current().boards[0].name, "b");

        let moved = relabelled.replace("Asia/Shanghai", "Asia/Tokyo");
        let e = shown.reload(Ok(config(&moved)), 2).unwrap_err();
        assert_eq!(e, ReloadError::NeedsRestart("tenants[0].tz".into()));
        let slower = relabelled.replace("label = \"New\"", "label = \"New\"\nsl_threshold_s = 30");
        let e = shown.reload(Ok(config(&slower)), 3).unwrap_err();
        assert_eq!(
            e,
            ReloadError::NeedsRestart("queues[0].sl_threshold_s".into())
        );
        let e = shown
            .reload(Err("tenants[0].tz: unknown time zone".into()), 4)
            .unwrap_err();
        assert!(e.to_string().contains("unknown time zone"), "{e}");
        // Nothing refused was applied.
        assert!(!changes.has_changed().unwrap());
        assert_eq!(
            shown.current().tenants[0].tz.as_deref(),
            Some("Asia/Shanghai")
        );
        let status = shown.status();
        assert_eq!(
            (
                status.applied,
                status.refused,
                status.invalid,
                status.last_ms
            ),
            (1, 3, 1, Some(4))
        );
        assert!(status.last_error.unwrap().contains("running one is kept"));
    }

    #[test]
    fn adding_a_queue_or_a_tenant_needs_a_restart() {
        let old = config(BASE);
        let more = config(&(BASE.to_owned() + "[[queues]]\nname = \"r\"\n"));
        assert_eq!(needs_restart(&old, &more).as_deref(), Some("queues[1]"));
        let tenant = config(&(BASE.to_owned() + "[[tenants]]\nid = \"u\"\n"));
        assert_eq!(needs_restart(&old, &tenant).as_deref(), Some("tenants[1]"));
        assert_eq!(needs_restart(&old, &config(BASE)), None);
    }
}
