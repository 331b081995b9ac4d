//! The metric parameters of a tenant (`metrics.md`, "Parameters").

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use wallboard_events::AgentState;

use crate::sums::MAX_THRESHOLDS;
use crate::time::ALLOWED_INTERVAL_MINUTES;

/// How a tenant's numbers are computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// IANA time zone of the centre.
    pub tz: String,
    /// Reporting interval length in minutes: 5, 10, 15, 20, 30 or 60.
    pub interval_minutes: u32,
    /// Service-level thresholds in seconds.
    pub sl_thresholds_s: Vec<u32>,
    /// Abandons with a wait under this are short abandons; 0 switches it off.
    pub short_abandon_s: u32,
    /// Length of the sliding "last N minutes" view, 1 to 1440 minutes.
    pub rolling_window_minutes: u32,
    /// Activity code → states in adherence, overriding the defaults of
    /// `events.md`. Each entry is a state (`available`, `not_ready`, …) or
    /// `not_ready:REASON`.
    pub adherence: BTreeMap<String, Vec<String>>,
    /// How long (event time) event ids and ended queue segments are
    /// remembered, to drop re-sent events. Must cover the pipeline's allowed
    /// lateness: anything older is late, never applied, so never counted twice.
    pub dedup_window_minutes: u32,
    /// Days of interval history kept (reports and "today" need at least 1).
    pub history_days: u32,
    /// Once a tenant has applied enough events to be trusted, an event more
    /// than this many hours ahead of its newest one is rejected as
    /// `far_ahead` (`events.md`, "Event time limits"). Longer than any gap
    /// a real log has (nights, weekends, holidays).
    pub max_ahead_hours: u32,
    /// W of "Repeat contacts and FCR" (`metrics.md`): a call again within
    /// this many hours of a handled call makes it a repeat; 1 to 168.
    pub repeat_window_hours: u32,
    /// The most caller contacts and pending handled calls a tenant keeps
    /// for repeat detection (its memory bound).
    pub repeat_max_tracked: u32,
    /// p of "Agent scorecard" (`metrics.md`): a value more than p % of the
    /// team median on its bad side is flagged; 1 to 100.
    pub scorecard_flag_pct: u32,
}

/// Default W of repeat contacts: a day.
pub const DEFAULT_REPEAT_WINDOW_HOURS: u32 = 24;

/// Bounds of `repeat_max_tracked`.
pub const REPEAT_TRACKED_RANGE: std::ops::RangeInclusive<u32> = 1000..=50_000_000;

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            tz: "UTC".into(),
            interval_minutes: 30,
            sl_thresholds_s: vec![20],
            short_abandon_s: 0,
            rolling_window_minutes: 15,
            adherence: BTreeMap::new(),
            dedup_window_minutes: 120,
            history_days: 7,
            max_ahead_hours: 7 * 24,
            repeat_window_hours: DEFAULT_REPEAT_WINDOW_HOURS,
            repeat_max_tracked: 1_000_000,
            scorecard_flag_pct: 20,
        }
    }
}

/// A configuration that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `tz` is not an IANA zone name.
    #[error("unknown time zone {0:?} (expected an IANA name such as Asia/Shanghai)")]
    UnknownTz(String),
    /// `interval_minutes` is not one of the allowed lengths.
    #[error("interval of {0} minutes is not one of 5, 10, 15, 20, 30, 60")]
    Interval(u32),
    /// Fewer than one or more than `MAX_THRESHOLDS` distinct thresholds.
    #[error(
        "at least one and at most {MAX_THRESHOLDS} service-level thresholds are needed, got {0}"
    )]
    ThresholdCount(usize),
    /// `rolling_window_minutes` outside 1..=1440.
    #[error("rolling window of {0} minutes must be between 1 and 1440")]
    RollingWindow(u32),
    /// An `adherence` entry is neither a state nor `not_ready:REASON`.
    #[error("adherence rule for {activity:?}: {entry:?} is not a state or not_ready:REASON")]
    AdherenceRule {
        /// The activity code of the rule.
        activity: String,
        /// The entry that does not parse.
        entry: String,
    },
    /// `dedup_window_minutes` is 0.
    #[error("dedup window must be at least 1 minute")]
    DedupWindow,
    /// `history_days` is 0.
    #[error("history must keep at least 1 day")]
    History,
    /// `max_ahead_hours` outside 1..=`MAX_AHEAD_HOURS`.
    #[error("metrics.max_ahead_hours must be between 1 and {MAX_AHEAD_HOURS} (a year), got {0}")]
    MaxAhead(u32),
    /// `repeat_window_hours` outside 1..=168.
    #[error("metrics.repeat_window_hours must be between 1 and 168 (7 days), got {0}")]
    RepeatWindow(u32),
    /// `repeat_max_tracked` outside [`REPEAT_TRACKED_RANGE`].
    #[error("metrics.repeat_max_tracked must be between 1000 and 50000000, got {0}")]
    RepeatTracked(u32),
    /// `scorecard_flag_pct` outside 1..=100.
    #[error("metrics.scorecard_flag_pct must be between 1 and 100 (percent), got {0}")]
    ScorecardFlag(u32),
}

impl ConfigError {
    /// The `[metrics]` key the error is about.
    #[must_use]
    pub fn key(&self) -> &'static str {
        match self {
            ConfigError::UnknownTz(_) => "metrics.tz",
            ConfigError::Interval(_) => "metrics.interval_minutes",
            ConfigError::ThresholdCount(_) => "metrics.sl_thresholds_s",
            ConfigError::RollingWindow(_) => "metrics.rolling_window_minutes",
            ConfigError::AdherenceRule { .. } => "metrics.adherence",
            ConfigError::DedupWindow => "metrics.dedup_window_minutes",
            ConfigError::History => "metrics.history_days",
            ConfigError::MaxAhead(_) => "metrics.max_ahead_hours",
            ConfigError::RepeatWindow(_) => "metrics.repeat_window_hours",
            ConfigError::RepeatTracked(_) => "metrics.repeat_max_tracked",
            ConfigError::ScorecardFlag(_) => "metrics.scorecard_flag_pct",
        }
    }
}
/// Largest `max_ahead_hours`: a year.
pub const MAX_AHEAD_HOURS: u32 = 366 * 24;

/// One allowed-state entry of an adherence override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedEntry {
    /// Time in this agent state is adherent.
    State(AgentState),
    /// Time `not_ready` with this reason code is adherent.
    NotReadyReason(String),
}

/// A validated [`MetricsConfig`].
#[derive(Debug, Clone)]
pub struct Params {
    /// The centre's time zone.
    pub tz: Tz,
    /// Reporting interval length in minutes.
    pub interval_minutes: u32,
    /// Sorted, without repeats.
    pub thresholds_s: Vec<u32>,
    /// Short-abandon threshold in seconds for queues without their own (0: off).
    pub short_abandon_s: u32,
    /// Length of the rolling window, minutes.
    pub rolling_window_minutes: u32,
    /// Activity code → allowed-state overrides.
    pub adherence: BTreeMap<String, Vec<AllowedEntry>>,
    /// How long event ids and ended segments are remembered, milliseconds of event time.
    pub dedup_window_ms: i64,
    /// Interval history kept before the newest event, milliseconds.
    pub history_ms: i64,
    /// Queues whose short-abandon threshold differs from `short_abandon_s`
    /// (from the service's `[[queues]]` settings).
    pub short_abandon_by_queue: BTreeMap<String, u32>,
    /// See [`MetricsConfig::max_ahead_hours`]; it decides which events are
    /// taken, not how they are summed, so it is not in the fingerprint.
    pub max_ahead_ms: i64,
    /// Each queue's service-level goal (from `[[queues]]`; the default at
    /// the first configured threshold). Not in the fingerprint either.
    pub goals: crate::goals::Goals,
    /// W of repeat contacts, milliseconds (in the fingerprint when not the
    /// default).
    pub repeat_window_ms: i64,
    /// The most repeat-detection entries kept per tenant; decides what is
    /// tracked, not how it is summed, so not in the fingerprint.
    pub repeat_max_tracked: usize,
    /// See [`MetricsConfig::scorecard_flag_pct`]; only read when a
    /// scorecard is asked for, so not in the fingerprint.
    pub scorecard_flag_pct: u32,
}

impl MetricsConfig {
    /// Checks every setting, naming the key of the first that makes no sense.
    pub fn validate(&self) -> Result<Params, ConfigError> {
        let tz: Tz = self
            .tz
            .parse()
            .map_err(|_| ConfigError::UnknownTz(self.tz.clone()))?;
        if !ALLOWED_INTERVAL_MINUTES.contains(&self.interval_minutes) {
            return Err(ConfigError::Interval(self.interval_minutes));
        }
        let mut thresholds = self.sl_thresholds_s.clone();
        thresholds.sort_unstable();
        thresholds.dedup();
        if thresholds.is_empty() || thresholds.len() > MAX_THRESHOLDS {
            return Err(ConfigError::ThresholdCount(thresholds.len()));
        }
        if !(1..=1440).contains(&self.rolling_window_minutes) {
            return Err(ConfigError::RollingWindow(self.rolling_window_minutes));
        }
        if self.dedup_window_minutes == 0 {
            return Err(ConfigError::DedupWindow);
        }
        if self.history_days == 0 {
            return Err(ConfigError::History);
        }
        if !(1..=MAX_AHEAD_HOURS).contains(&self.max_ahead_hours) {
            return Err(ConfigError::MaxAhead(self.max_ahead_hours));
        }
        if !(1..=168).contains(&self.repeat_window_hours) {
            return Err(ConfigError::RepeatWindow(self.repeat_window_hours));
        }
        if !REPEAT_TRACKED_RANGE.contains(&self.repeat_max_tracked) {
            return Err(ConfigError::RepeatTracked(self.repeat_max_tracked));
        }
        if !(1..=100).contains(&self.scorecard_flag_pct) {
            return Err(ConfigError::ScorecardFlag(self.scorecard_flag_pct));
        }
        let mut adherence = BTreeMap::new();
        for (activity, entries) in &self.adherence {
            let parsed = entries
                .iter()
                .map(|e| parse_entry(e))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| ConfigError::AdherenceRule {
                    activity: activity.clone(),
                    entry: entries
                        .iter()
                        .find(|e| parse_entry(e).is_none())
                        .cloned()
                        .unwrap_or_default(),
                })?;
            adherence.insert(activity.clone(), parsed);
        }
        Ok(Params {
            tz,
            interval_minutes: self.interval_minutes,
            thresholds_s: thresholds,
            short_abandon_s: self.short_abandon_s,
            rolling_window_minutes: self.rolling_window_minutes,
            adherence,
            dedup_window_ms: i64::from(self.dedup_window_minutes) * 60_000,
            history_ms: i64::from(self.history_days) * 86_400_000,
            short_abandon_by_queue: BTreeMap::new(),
            max_ahead_ms: i64::from(self.max_ahead_hours) * 3_600_000,
            // The first threshold as written, as the web's default target.
            goals: crate::goals::Goals::with_threshold(self.sl_thresholds_s[0]),
            repeat_window_ms: i64::from(self.repeat_window_hours) * 3_600_000,
            repeat_max_tracked: usize::try_from(self.repeat_max_tracked).unwrap_or(usize::MAX),
            scorecard_flag_pct: self.scorecard_flag_pct,
        })
    }
}

fn parse_entry(e: &str) -> Option<AllowedEntry> {
    match e.split_once(':') {
        Some(("not_ready", reason)) if !reason.is_empty() => {
            Some(AllowedEntry::NotReadyReason(reason.to_owned()))
        }
        Some(_) => None,
        None => AgentState::from_str(e).map(AllowedEntry::State),
    }
}

impl Params {
    /// Everything the engine's stored sums depend on, as text: a snapshot
    /// made under other settings cannot be reused.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        let mut f = format!(
            "tz={} interval={} sl={:?} short={} rolling={} adherence={:?}",
            self.tz.name(),
            self.interval_minutes,
            self.thresholds_s,
            self.short_abandon_s,
            self.rolling_window_minutes,
            self.adherence
        );
        if !self.short_abandon_by_queue.is_empty() {
            write!(f, " short_by_queue={:?}", self.short_abandon_by_queue)
                .expect("writing to a String cannot fail");
        }
        // Only when not the default, so snapshots made before it still match.
        let default_w = i64::from(DEFAULT_REPEAT_WINDOW_HOURS) * 3_600_000;
        if self.repeat_window_ms != default_w {
            write!(f, " repeat_window_ms={}", self.repeat_window_ms)
                .expect("writing to a String cannot fail");
        }
        f
    }

    /// The short-abandon threshold of `queue`, in seconds.
    #[must_use]
    pub fn short_abandon_s_for(&self, queue: &str) -> u32 {
        if self.short_abandon_by_queue.is_empty() {
            return self.short_abandon_s;
        }
        self.short_abandon_by_queue
            .get(queue)
            .copied()
            .unwrap_or(self.short_abandon_s)
    }
}

impl Default for Params {
    fn default() -> Self {
        MetricsConfig::default()
            .validate()
            .expect("the defaults are valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_what_metrics_md_does_not_allow() {
        let bad = |f: fn(&mut MetricsConfig)| {
            let mut c = MetricsConfig::default();
            f(&mut c);
            c.validate().unwrap_err().to_string()
        };
        assert!(bad(|c| c.tz = "Mars/Olympus".into()).contains("unknown time zone"));
        assert!(bad(|c| c.interval_minutes = 7).contains("not one of"));
        assert!(bad(|c| c.sl_thresholds_s = vec![]).contains("thresholds"));
        assert!(bad(|c| {
            c.adherence.insert("work".into(), vec!["dancing".into()]);
        })
        .contains("\"dancing\""));
        assert!(bad(|c| c.max_ahead_hours = 0).contains("max_ahead_hours"));
        assert!(bad(|c| c.scorecard_flag_pct = 0).contains("scorecard_flag_pct"));
        assert!(bad(|c| c.scorecard_flag_pct = 101).contains("between 1 and 100"));
    }

    #[test]
    fn thresholds_are_sorted_and_unique() {
        let c = MetricsConfig {
            sl_thresholds_s: vec![30, 10, 30],
            ..Default::default()
        };
        assert_eq!(c.validate().unwrap().thresholds_s, vec![10, 30]);
    }
}
