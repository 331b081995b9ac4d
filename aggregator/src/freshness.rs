//! Freshness (`metrics.md`, "Freshness"): is a tenant's "now" really now?
//! Per tenant the wall time its last event arrived, per source the wall
//! time it was last heard from, whether it sends heartbeats and what its
//! latest heartbeat said about its upstream. Pure: the caller passes the
//! wall clock (the partition writer reads it; the engine never does).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use wallboard_events::{TimestampMs, Upstream};

/// Most sources tracked per tenant; more are only counted (a hostile feed
/// must not grow the map without bound).
pub const MAX_SOURCES: usize = 32;

/// The `[freshness]` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FreshnessConfig {
    /// No event for longer than this: not `live` any more.
    pub quiet_after_s: u64,
    /// A heartbeat source silent for longer than this: `feed_lost`.
    pub feed_lost_after_s: u64,
    /// The newest event older than this (wall clock minus event time): `old_data`.
    pub old_data_after_s: u64,
}

impl Default for FreshnessConfig {
    fn default() -> Self {
        FreshnessConfig {
            quiet_after_s: 60,
            feed_lost_after_s: 45,
            old_data_after_s: 300,
        }
    }
}

/// A `[freshness]` setting that makes no sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("freshness.{key} is 0; it must be at least 1 (seconds)")]
pub struct FreshnessConfigError {
    /// The `[freshness]` key that is 0.
    pub key: &'static str,
}

impl FreshnessConfig {
    /// Refuses a threshold of 0, naming its key.
    pub fn validate(&self) -> Result<(), FreshnessConfigError> {
        for (key, v) in [
            ("quiet_after_s", self.quiet_after_s),
            ("feed_lost_after_s", self.feed_lost_after_s),
            ("old_data_after_s", self.old_data_after_s),
        ] {
            if v == 0 {
                return Err(FreshnessConfigError { key });
            }
        }
        Ok(())
    }
}

/// The tenant's freshness state, most serious first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FreshnessState {
    /// A source is `feed_lost`, or no event arrived for more than `feed_lost_after_s` and no source sends heartbeats.
    FeedLost,
    /// A source is `reconnecting` (its upstream is down).
    Reconnecting,
    /// The newest event is older than `old_data_after_s`.
    OldData,
    /// An event arrived within `quiet_after_s`.
    Live,
    /// No recent events, but the feed is known healthy (heartbeats) or not yet lost.
    Quiet,
}

/// One source's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceState {
    /// Heard from recently and upstream not down.
    Ok,
    /// Its latest heartbeat reports the upstream `down`.
    Reconnecting,
    /// It sends heartbeats and has been silent for more than `feed_lost_after_s`.
    FeedLost,
}

/// One source as the live view shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceFreshness {
    /// The `source` name of its events and heartbeats.
    pub source: String,
    /// Wall time of its last event or heartbeat, Unix ms.
    pub last_heard_ms: TimestampMs,
    /// ⌊(W − `last_heard_ms`) / 1000⌋, seconds.
    pub silent_s: u64,
    /// Whether it ever sent a heartbeat.
    pub heartbeats: bool,
    /// Upstream state of its latest heartbeat (`None` before the first).
    pub upstream: Option<Upstream>,
    /// Its state, per `metrics.md` "Freshness".
    pub state: SourceState,
}

/// The `freshness` object of a tenant's live view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Freshness {
    /// The tenant's state, the first of `metrics.md` "Freshness" that holds.
    pub state: FreshnessState,
    /// Largest `ts` of the tenant's applied events (heartbeats excluded), UTC ms.
    pub newest_event_ts: Option<TimestampMs>,
    /// ⌊(W − `newest_event_ts`) / 1000⌋, at least 0, seconds.
    pub newest_event_age_s: Option<u64>,
    /// Wall time the last event (not a heartbeat) was taken by the writer, Unix ms.
    pub last_event_ms: Option<TimestampMs>,
    /// ⌊(W − `last_event_ms`) / 1000⌋, seconds.
    pub quiet_s: Option<u64>,
    /// The `quiet_after_s` setting, seconds.
    pub quiet_after_s: u64,
    /// The `feed_lost_after_s` setting, seconds.
    pub feed_lost_after_s: u64,
    /// The `old_data_after_s` setting, seconds.
    pub old_data_after_s: u64,
    /// Sources by name, at most 32.
    pub sources: Vec<SourceFreshness>,
    /// Sources seen beyond the 32 kept.
    pub untracked_sources: u64,
}

#[derive(Debug, Clone)]
struct SourceTrack {
    last_heard_ms: TimestampMs,
    heartbeats: bool,
    upstream: Option<Upstream>,
}

#[derive(Debug, Clone, Default)]
struct TenantTrack {
    last_event_ms: Option<TimestampMs>,
    sources: BTreeMap<String, SourceTrack>,
    untracked_sources: u64,
}

impl TenantTrack {
    /// The entry of `source`, created on first sight while there is room.
    fn source(&mut self, source: &str, wall_ms: TimestampMs) -> Option<&mut SourceTrack> {
        if !self.sources.contains_key(source) {
            if self.sources.len() >= MAX_SOURCES {
                self.untracked_sources += 1;
                return None;
            }
            self.sources.insert(
                source.to_owned(),
                SourceTrack {
                    last_heard_ms: wall_ms,
                    heartbeats: false,
                    upstream: None,
                },
            );
        }
        self.sources.get_mut(source)
    }
}

/// What the writer heard, per tenant and source, in wall time.
#[derive(Debug, Clone, Default)]
pub struct FreshnessTracker {
    tenants: BTreeMap<String, TenantTrack>,
}

/// Whole seconds from `from` to `to`, at least 0.
fn secs_between(from: TimestampMs, to: TimestampMs) -> u64 {
    u64::try_from(to.saturating_sub(from)).unwrap_or(0) / 1000
}

impl FreshnessTracker {
    fn tenant(&mut self, tenant: &str) -> &mut TenantTrack {
        // Look up before inserting: no allocation per event in steady state.
        if !self.tenants.contains_key(tenant) {
            self.tenants
                .insert(tenant.to_owned(), TenantTrack::default());
        }
        self.tenants.get_mut(tenant).expect("just inserted")
    }

    /// Every tenant heard from.
    pub fn tenants(&self) -> impl Iterator<Item = &str> {
        self.tenants.keys().map(String::as_str)
    }

    /// An event (not a heartbeat) of `tenant` arrived at `wall_ms`.
    pub fn event(&mut self, tenant: &str, source: Option<&str>, wall_ms: TimestampMs) {
        let t = self.tenant(tenant);
        t.last_event_ms = Some(wall_ms);
        if let Some(s) = source.and_then(|s| t.source(s, wall_ms)) {
            s.last_heard_ms = wall_ms;
        }
    }

    /// A heartbeat of `source` arrived at `wall_ms`.
    pub fn heartbeat(
        &mut self,
        tenant: &str,
        source: &str,
        upstream: Upstream,
        wall_ms: TimestampMs,
    ) {
        if let Some(s) = self.tenant(tenant).source(source, wall_ms) {
            s.last_heard_ms = wall_ms;
            s.heartbeats = true;
            s.upstream = Some(upstream);
        }
    }

    /// The freshness of `tenant` at `wall_ms`, given its newest event time.
    #[must_use]
    pub fn view(
        &self,
        tenant: &str,
        newest_event_ts: Option<TimestampMs>,
        wall_ms: TimestampMs,
        cfg: &FreshnessConfig,
    ) -> Freshness {
        let empty = TenantTrack::default();
        let t = self.tenants.get(tenant).unwrap_or(&empty);
        let sources: Vec<SourceFreshness> = t
            .sources
            .iter()
            .map(|(name, s)| source_view(name, s, wall_ms, cfg))
            .collect();
        let newest_event_age_s = newest_event_ts.map(|ts| secs_between(ts, wall_ms));
        let quiet_s = t.last_event_ms.map(|ms| secs_between(ms, wall_ms));
        Freshness {
            state: tenant_state(&sources, newest_event_age_s, quiet_s, cfg),
            newest_event_ts,
            newest_event_age_s,
            last_event_ms: t.last_event_ms,
            quiet_s,
            quiet_after_s: cfg.quiet_after_s,
            feed_lost_after_s: cfg.feed_lost_after_s,
            old_data_after_s: cfg.old_data_after_s,
            sources,
            untracked_sources: t.untracked_sources,
        }
    }
}

fn source_view(
    name: &str,
    s: &SourceTrack,
    wall_ms: TimestampMs,
    cfg: &FreshnessConfig,
) -> SourceFreshness {
    let silent_s = secs_between(s.last_heard_ms, wall_ms);
    let state = if s.heartbeats && silent_s > cfg.feed_lost_after_s {
        SourceState::FeedLost
    } else if s.upstream == Some(Upstream::Down) {
        SourceState::Reconnecting
    } else {
        SourceState::Ok
    };
    SourceFreshness {
        source: name.to_owned(),
        last_heard_ms: s.last_heard_ms,
        silent_s,
        heartbeats: s.heartbeats,
        upstream: s.upstream,
        state,
    }
}

/// The table of `metrics.md`, "Freshness": the first row that holds.
fn tenant_state(
    sources: &[SourceFreshness],
    newest_event_age_s: Option<u64>,
    quiet_s: Option<u64>,
    cfg: &FreshnessConfig,
) -> FreshnessState {
    let any = |st: SourceState| sources.iter().any(|s| s.state == st);
    let heartbeats = sources.iter().any(|s| s.heartbeats);
    let recent_event = quiet_s.is_some_and(|q| q <= cfg.quiet_after_s);
    let old = newest_event_age_s.is_some_and(|a| a > cfg.old_data_after_s);
    if any(SourceState::FeedLost) {
        FreshnessState::FeedLost
    } else if any(SourceState::Reconnecting) {
        FreshnessState::Reconnecting
    } else if old && (recent_event || !heartbeats) {
        FreshnessState::OldData
    } else if recent_event {
        FreshnessState::Live
    } else if heartbeats {
        FreshnessState::Quiet
    } else if quiet_s.is_none_or(|q| q > cfg.feed_lost_after_s) {
        FreshnessState::FeedLost
    } else {
        FreshnessState::Quiet
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: FreshnessConfig = FreshnessConfig {
        quiet_after_s: 60,
        feed_lost_after_s: 45,
        old_data_after_s: 300,
    };
    const T0: TimestampMs = 1_763_888_400_000;
    const DAY_MS: TimestampMs = 86_400_000;

    fn state(
        t: &FreshnessTracker,
        newest: Option<TimestampMs>,
        wall: TimestampMs,
    ) -> FreshnessState {
        t.view("acme", newest, wall, &CFG).state
    }

    #[test]
    fn events_arriving_now_are_live_and_then_quiet_with_a_heartbeat() {
        let mut t = FreshnessTracker::default();
        t.event("acme", Some("asterisk-ami"), T0);
        t.heartbeat("acme", "asterisk-ami", Upstream::Up, T0);
        assert_eq!(state(&t, Some(T0), T0 + 1_000), FreshnessState::Live);
        // No calls for two minutes, heartbeats keep coming: a quiet queue.
        t.heartbeat("acme", "asterisk-ami", Upstream::Up, T0 + 110_000);
        let v = t.view("acme", Some(T0), T0 + 120_000, &CFG);
        assert_eq!(v.state, FreshnessState::Quiet);
        assert_eq!(v.quiet_s, Some(120));
        assert_eq!(v.sources[0].silent_s, 10);
        assert_eq!(v.sources[0].state, SourceState::Ok);
    }

    #[test]
    fn a_source_that_stops_heartbeating_is_a_lost_feed() {
        let mut t = FreshnessTracker::default();
        t.heartbeat("acme", "asterisk-queue-log", Upstream::Up, T0);
        t.event("acme", Some("asterisk-queue-log"), T0);
        assert_eq!(state(&t, Some(T0), T0 + 45_999), FreshnessState::Live);
        let v = t.view("acme", Some(T0), T0 + 46_000, &CFG);
        assert_eq!(v.state, FreshnessState::FeedLost);
        assert_eq!(v.sources[0].state, SourceState::FeedLost);
        assert_eq!(v.sources[0].silent_s, 46);
    }

    #[test]
    fn upstream_down_is_reconnecting_until_the_heartbeats_stop() {
        let mut t = FreshnessTracker::default();
        t.heartbeat("acme", "asterisk-ami", Upstream::Down, T0);
        assert_eq!(state(&t, None, T0 + 1_000), FreshnessState::Reconnecting);
        assert_eq!(state(&t, None, T0 + 46_000), FreshnessState::FeedLost);
        t.heartbeat("acme", "asterisk-ami", Upstream::Up, T0 + 50_000);
        assert_eq!(state(&t, None, T0 + 51_000), FreshnessState::Quiet);
    }

    #[test]
    fn an_old_day_replayed_now_is_old_data_never_live() {
        let mut t = FreshnessTracker::default();
        let old = T0 - 7 * DAY_MS;
        t.event("acme", Some("simulator"), T0);
        let v = t.view("acme", Some(old), T0 + 1_000, &CFG);
        assert_eq!(v.state, FreshnessState::OldData);
        assert_eq!(v.newest_event_age_s, Some(7 * 86_400 + 1));
        // Also with a healthy heartbeat: the events arriving are still old.
        t.heartbeat("acme", "simulator", Upstream::Up, T0);
        assert_eq!(state(&t, Some(old), T0 + 1_000), FreshnessState::OldData);
        // After the replay, heartbeats say the feed is fine: quiet.
        t.heartbeat("acme", "simulator", Upstream::Up, T0 + 100_000);
        assert_eq!(state(&t, Some(old), T0 + 101_000), FreshnessState::Quiet);
    }

    #[test]
    fn without_heartbeats_silence_becomes_a_lost_feed() {
        let mut t = FreshnessTracker::default();
        t.event("acme", None, T0);
        assert_eq!(state(&t, Some(T0), T0 + 60_000), FreshnessState::Live);
        assert_eq!(state(&t, Some(T0), T0 + 61_000), FreshnessState::FeedLost);
        // A restored tenant (no arrival seen yet) with recent data.
        let fresh = FreshnessTracker::default();
        assert_eq!(
            state(&fresh, Some(T0), T0 + 1_000),
            FreshnessState::FeedLost
        );
        assert_eq!(
            state(&fresh, Some(T0), T0 + 400_000),
            FreshnessState::OldData
        );
    }

    #[test]
    fn sources_are_bounded_and_counted() {
        let mut t = FreshnessTracker::default();
        for i in 0..MAX_SOURCES + 3 {
            t.event("acme", Some(&format!("s{i}")), T0);
        }
        let v = t.view("acme", Some(T0), T0, &CFG);
        assert_eq!(v.sources.len(), MAX_SOURCES);
        assert_eq!(v.untracked_sources, 3);
    }

    #[test]
    fn zero_thresholds_are_refused_with_the_key() {
        let cfg = FreshnessConfig {
            feed_lost_after_s: 0,
            ..Default::default()
        };
        assert_eq!(
            cfg.validate().unwrap_err().to_string(),
            "freshness.feed_lost_after_s is 0; it must be at least 1 (seconds)"
        );
        assert!(FreshnessConfig::default().validate().is_ok());
    }
}
