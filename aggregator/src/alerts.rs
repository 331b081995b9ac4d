//! Alert rules and their evaluation: a rule watches one metric of a queue,
//! the tenant or each agent, fires after its condition has held for `for_s`,
//! resolves only when the value crosses the clear threshold (hysteresis), and
//! notifies at most once per cooldown. Pure: time comes from the caller.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use wallboard_events::TimestampMs;

use crate::freshness::Freshness;
use crate::live::{LiveSnapshot, QueueLive};
use crate::scope::QueueScope;

/// What a rule measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertMetric {
    /// Service level (`variant` at `sl_threshold_s`), a ratio 0..1.
    ServiceLevel,
    /// Calls waiting now.
    Waiting,
    /// Wait of the oldest waiting call, seconds.
    OldestWaitS,
    /// Abandoned / offered, a ratio 0..1.
    AbandonRate,
    /// Average speed of answer, seconds.
    AsaS,
    /// Average handling time, seconds.
    AhtS,
    /// Member agents' busy / (busy + available), a ratio 0..1.
    Occupancy,
    /// Member agents available now.
    AgentsAvailable,
    /// Calls the queue refused in the window (`metrics.md`, "Blocked
    /// calls"); 0 when there were none.
    Blocked,
    /// Per agent: minutes out of adherence so far.
    OutOfAdherenceMinutes,
    /// Per source that sends heartbeats: seconds since it was last heard
    /// from (`metrics.md`, "Freshness"); the subject is the source.
    FeedSilentS,
    /// Agents short of Erlang C's requirement now (`metrics.md`, "Live
    /// staffing"; negative: spare). `window` is ignored.
    StaffingGap,
    /// Agents Erlang C requires now for the queue's goal.
    RequiredAgents,
    /// Service level Erlang C projects at current staffing, a ratio 0..1.
    ProjectedServiceLevel,
    /// Today's CSAT top-box share, a ratio 0..1 (`metrics.md`, "CSAT and
    /// QA"); `window` is ignored.
    Csat,
    /// Today's mean normalised survey score, 0..100; `window` is ignored.
    CsatMean,
    /// Today's mean QA score, 0..100; `window` is ignored.
    QaScore,
    /// FCR of the last known day (`fcr_known`), a ratio 0..1.
    Fcr,
}

/// Which period a queue metric is taken over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// The current interval so far.
    Interval,
    /// The rolling window (last `rolling_window_minutes`).
    #[default]
    Rolling,
    /// Today so far (local day).
    Today,
}

/// How a rule compares the measured value with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    /// Fires while value < threshold (`<`).
    #[serde(rename = "<")]
    Below,
    /// Fires while value ≤ threshold (`<=`).
    #[serde(rename = "<=")]
    AtMost,
    /// Fires while value > threshold (`>`).
    #[serde(rename = ">")]
    Above,
    /// Fires while value ≥ threshold (`>=`).
    #[serde(rename = ">=")]
    AtLeast,
}

impl Comparison {
    fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::Below => value < threshold,
            Comparison::AtMost => value <= threshold,
            Comparison::Above => value > threshold,
            Comparison::AtLeast => value >= threshold,
        }
    }
}

/// One alert rule, as written in the configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// Rule name, shown in the banner and notifications.
    pub name: String,
    /// What the rule measures.
    pub metric: AlertMetric,
    /// A queue, or `*` for the whole tenant (ignored for agent metrics).
    #[serde(default)]
    pub queue: QueueScope,
    /// Period a queue metric is taken over (default: rolling window).
    #[serde(default)]
    pub window: Window,
    /// For `service_level`: `sl1`…`sl4`.
    #[serde(default = "default_variant")]
    pub variant: String,
    /// For `service_level`: the threshold in seconds.
    #[serde(default = "default_sl_threshold")]
    pub sl_threshold_s: u32,
    /// How the value is compared with `threshold`.
    pub op: Comparison,
    /// Value at which the alert fires, in the metric's unit.
    pub threshold: f64,
    /// The value at which a firing alert resolves; default: `threshold`.
    /// E.g. fire below 0.80, clear at or above 0.85.
    pub clear: Option<f64>,
    /// How long the condition must hold before the alert fires.
    #[serde(default)]
    pub for_s: u64,
    /// Severity label passed to channels and the banner (default `warning`).
    #[serde(default = "default_severity")]
    pub severity: String,
    /// Fewest seconds between two notifications of the same alert.
    #[serde(default)]
    pub cooldown_s: u64,
    /// Channel names to notify (the wallboard banner always shows it).
    #[serde(default)]
    pub channels: Vec<String>,
}

fn default_variant() -> String {
    "sl3".into()
}
fn default_sl_threshold() -> u32 {
    20
}
fn default_severity() -> String {
    "warning".into()
}

impl AlertRule {
    /// Whether a firing alert with `value` has cleared.
    fn cleared(&self, value: f64) -> bool {
        !self.op.holds(value, self.clear.unwrap_or(self.threshold))
    }

    /// The rule's value for a queue, if there is data.
    fn queue_value(&self, q: &QueueLive) -> Option<f64> {
        let row = match self.window {
            Window::Interval => &q.interval,
            Window::Rolling => &q.rolling,
            Window::Today => &q.today,
        };
        match self.metric {
            AlertMetric::ServiceLevel => {
                let v = row.sl.get(&self.sl_threshold_s.to_string())?;
                match self.variant.as_str() {
                    "sl1" => v.sl1,
                    "sl2" => v.sl2,
                    "sl4" => v.sl4,
                    _ => v.sl3,
                }
            }
            AlertMetric::Waiting => Some(q.waiting as f64),
            AlertMetric::OldestWaitS => Some(q.oldest_wait_ms.unwrap_or(0) as f64 / 1000.0),
            AlertMetric::AbandonRate => row.abandon_rate,
            AlertMetric::AsaS => row.asa_ms.map(|ms| ms / 1000.0),
            AlertMetric::AhtS => row.aht_ms.map(|ms| ms / 1000.0),
            AlertMetric::Occupancy => row.occupancy,
            AlertMetric::AgentsAvailable => Some(f64::from(q.agents.available)),
            AlertMetric::StaffingGap => q.staffing.gap.map(|g| g as f64),
            AlertMetric::RequiredAgents => q.staffing.required_agents.map(f64::from),
            AlertMetric::ProjectedServiceLevel => q.staffing.projected_sl,
            AlertMetric::Blocked => Some(row.blocked.as_ref().map_or(0, |b| b.blocked) as f64),
            AlertMetric::Csat => q.today.kpi.csat.and_then(|c| c.csat),
            AlertMetric::CsatMean => q.today.kpi.csat.and_then(|c| c.csat_mean),
            AlertMetric::QaScore => q.today.kpi.qa.and_then(|c| c.qa_score),
            AlertMetric::Fcr => q.fcr_known.and_then(|r| r.fcr),
            AlertMetric::OutOfAdherenceMinutes | AlertMetric::FeedSilentS => None,
        }
    }

    /// (subject, value) pairs the rule looks at in one tenant's snapshot.
    fn subjects(&self, snap: &LiveSnapshot) -> Vec<(String, Option<f64>)> {
        if self.metric == AlertMetric::FeedSilentS {
            return snap
                .freshness
                .as_ref()
                .map(feed_silence)
                .unwrap_or_default();
        }
        if self.metric == AlertMetric::OutOfAdherenceMinutes {
            return snap
                .agents
                .iter()
                .map(|a| {
                    let minutes = a
                        .out_of_adherence_since_ms
                        .map_or(0.0, |t| (snap.now_ms - t).max(0) as f64 / 60_000.0);
                    (a.agent.clone(), Some(minutes))
                })
                .collect();
        }
        snap.queues
            .iter()
            .filter(|q| q.queue == self.queue)
            .map(|q| (q.queue.to_string(), self.queue_value(q)))
            .collect()
    }
}

/// (source, seconds silent) of every source that sends heartbeats: only
/// those can be told silent from quiet.
fn feed_silence(f: &Freshness) -> Vec<(String, Option<f64>)> {
    f.sources
        .iter()
        .filter(|s| s.heartbeats)
        .map(|s| (s.source.clone(), Some(s.silent_s as f64)))
        .collect()
}

/// Firing or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// The condition has held for `for_s`: the alert is active.
    Firing,
    /// A firing alert's condition no longer holds (past `clear`).
    Resolved,
}

/// One message to send.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    /// Whether the alert fires or resolves.
    pub status: AlertStatus,
    /// Name of the rule.
    pub rule: String,
    /// Tenant the alert is about.
    pub tenant: String,
    /// The queue (or `*`) or agent the alert is about.
    pub subject: String,
    /// Severity of the rule.
    pub severity: String,
    /// Measured value, in the metric's unit; `None`: no data.
    pub value: Option<f64>,
    /// The rule's threshold.
    pub threshold: f64,
    /// When the alert started firing, UTC ms.
    pub starts_ms: TimestampMs,
    /// When it resolved, UTC ms (`None` while firing).
    pub ends_ms: Option<TimestampMs>,
    /// Channel names to notify.
    pub channels: Vec<String>,
    /// One-line human summary: rule, subject, value and condition.
    pub summary: String,
}

/// An alert that is firing now, for the banner and the API.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActiveAlert {
    /// Name of the rule.
    pub rule: String,
    /// Tenant the alert is about.
    pub tenant: String,
    /// The queue (or `*`) or agent the alert is about.
    pub subject: String,
    /// Severity of the rule.
    pub severity: String,
    /// Measured value, in the metric's unit; `None`: no data.
    pub value: Option<f64>,
    /// The rule's threshold.
    pub threshold: f64,
    /// When it started firing, UTC ms.
    pub since_ms: TimestampMs,
    /// Whether a supervisor acknowledged it.
    pub acknowledged: bool,
    /// One-line human summary: rule, subject, value and condition.
    pub summary: String,
    /// What the rule measures, so a banner can name and format it.
    pub metric: AlertMetric,
    /// Period the value is taken over.
    pub window: Window,
    /// How the value is compared with the threshold.
    pub op: Comparison,
    /// For `service_level`: the variant and threshold.
    pub variant: String,
    /// For `service_level`: the threshold in seconds.
    pub sl_threshold_s: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Pending {
        since: TimestampMs,
    },
    Firing {
        since: TimestampMs,
        value: Option<f64>,
    },
}

#[derive(Debug, Clone, Default)]
struct Track {
    state: Option<State>,
    last_notified: Option<TimestampMs>,
    /// The current firing was announced (so its resolution is too).
    announced: bool,
    acknowledged: bool,
}

/// Key of one alert: rule index, tenant, subject.
type Key = (usize, String, String);

/// Evaluates rules against live snapshots.
#[derive(Debug, Clone, Default)]
pub struct AlertEngine {
    rules: Vec<AlertRule>,
    tracks: BTreeMap<Key, Track>,
    silences: Vec<Silence>,
}

/// Either every name (`*` in the API) or one name: a silence's subject and
/// rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// Every rule, or every subject.
    Any,
    /// The one of this name.
    Only(String),
}

impl Selector {
    /// How [`Selector::Any`] is written.
    pub const ANY: &'static str = "*";

    /// Whether `name` is selected.
    #[must_use]
    pub fn matches(&self, name: &str) -> bool {
        match self {
            Selector::Any => true,
            Selector::Only(only) => only == name,
        }
    }

    /// Whether every name is selected.
    #[must_use]
    pub fn is_any(&self) -> bool {
        matches!(self, Selector::Any)
    }
}

impl From<&str> for Selector {
    fn from(name: &str) -> Self {
        if name == Self::ANY {
            Selector::Any
        } else {
            Selector::Only(name.to_owned())
        }
    }
}

/// Notifications of `rule` about `subject` in `tenant` are held back until
/// `until`.
#[derive(Debug, Clone)]
struct Silence {
    tenant: String,
    subject: Selector,
    rule: Selector,
    until: TimestampMs,
}

impl Silence {
    fn covers(&self, key: &Key, rule: &AlertRule, now: TimestampMs) -> bool {
        self.tenant == key.1
            && self.subject.matches(&key.2)
            && self.rule.matches(&rule.name)
            && now < self.until
    }
}

impl AlertEngine {
    /// An engine evaluating `rules`, with nothing pending or firing.
    #[must_use]
    pub fn new(rules: Vec<AlertRule>) -> Self {
        AlertEngine {
            rules,
            ..Default::default()
        }
    }

    /// The rules, in configuration order.
    #[must_use]
    pub fn rules(&self) -> &[AlertRule] {
        &self.rules
    }

    /// Looks at every rule in every snapshot at `now`; returns what to send.
    pub fn evaluate(&mut self, now: TimestampMs, snapshots: &[&LiveSnapshot]) -> Vec<Notification> {
        let mut out = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            for snap in snapshots {
                for (subject, value) in rule.subjects(snap) {
                    let key = (i, snap.tenant.clone(), subject);
                    let track = self.tracks.entry(key.clone()).or_default();
                    let silenced = self.silences.iter().any(|s| s.covers(&key, rule, now));
                    if let Some(n) = step(rule, track, &key, value, now) {
                        if !silenced {
                            out.push(n);
                        }
                    }
                }
            }
        }
        self.silences.retain(|s| s.until > now);
        out
    }

    /// Alerts firing now.
    #[must_use]
    pub fn active(&self) -> Vec<ActiveAlert> {
        self.tracks
            .iter()
            .filter_map(|((i, tenant, subject), t)| match t.state {
                Some(State::Firing { since, value }) => {
                    let rule = &self.rules[*i];
                    Some(ActiveAlert {
                        rule: rule.name.clone(),
                        tenant: tenant.clone(),
                        subject: subject.clone(),
                        severity: rule.severity.clone(),
                        value,
                        threshold: rule.threshold,
                        since_ms: since,
                        acknowledged: t.acknowledged,
                        summary: summary(rule, subject, value),
                        metric: rule.metric,
                        window: rule.window,
                        op: rule.op,
                        variant: rule.variant.clone(),
                        sl_threshold_s: rule.sl_threshold_s,
                    })
                }
                _ => None,
            })
            .collect()
    }

    /// Acknowledges a firing alert: no more repeats until it resolves.
    pub fn acknowledge(&mut self, tenant: &str, rule: &str, subject: &str) -> bool {
        let mut found = false;
        for ((i, t, s), track) in &mut self.tracks {
            if t == tenant && s == subject && self.rules[*i].name == rule {
                track.acknowledged = true;
                found = true;
            }
        }
        found
    }

    /// Silences notifications of `rule` (or `*`) for `subject` (or `*`)
    /// until `until`; the banner still shows the alert.
    pub fn silence(&mut self, tenant: &str, rule: &str, subject: &str, until: TimestampMs) {
        self.silences.push(Silence {
            tenant: tenant.to_owned(),
            subject: subject.into(),
            rule: rule.into(),
            until,
        });
    }
}

/// An alert another instance had firing, to take over
/// ([`AlertEngine::adopt`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AdoptedAlert {
    /// Name of the rule.
    pub rule: String,
    /// Tenant the alert is about.
    pub tenant: String,
    /// The queue (or `*`) or agent the alert is about.
    pub subject: String,
    /// When it started firing, UTC ms.
    pub since_ms: TimestampMs,
    /// Whether a supervisor acknowledged it.
    #[serde(default)]
    pub acknowledged: bool,
}

impl AlertEngine {
    /// Takes over an alert that the previous owner of the tenant had firing
    /// (and announced): it is firing here too since its `since_ms`, so a
    /// condition that still holds is not notified a second time; it
    /// resolves (and reminds after the cooldown) as if it had fired here
    /// at `now`. False when the rule is unknown or the alert already fires.
    pub fn adopt(&mut self, alert: &AdoptedAlert, now: TimestampMs) -> bool {
        let Some(i) = self.rules.iter().position(|r| r.name == alert.rule) else {
            return false;
        };
        let key = (i, alert.tenant.clone(), alert.subject.clone());
        let track = self.tracks.entry(key).or_default();
        if matches!(track.state, Some(State::Firing { .. })) {
            return false;
        }
        track.state = Some(State::Firing {
            since: alert.since_ms,
            value: None,
        });
        track.announced = true;
        track.last_notified = Some(now);
        track.acknowledged = alert.acknowledged;
        true
    }
}

/// A rule's duration in seconds as milliseconds, saturating: a duration
/// past `i64::MAX` ms (292 million years) never elapses.
fn seconds_to_ms(s: u64) -> i64 {
    i64::try_from(s).map_or(i64::MAX, |s| s.saturating_mul(1000))
}

/// Advances one alert; returns a notification when one is due.
fn step(
    rule: &AlertRule,
    track: &mut Track,
    key: &Key,
    value: Option<f64>,
    now: TimestampMs,
) -> Option<Notification> {
    let cooldown = seconds_to_ms(rule.cooldown_s);
    let due = |t: &Track| t.last_notified.is_none_or(|l| now - l >= cooldown);
    match (track.state, value) {
        // No data: nothing changes (a firing alert stays firing).
        (_, None) => None,
        (None, Some(v)) => {
            if rule.op.holds(v, rule.threshold) {
                track.state = Some(State::Pending { since: now });
                return step(rule, track, key, value, now);
            }
            None
        }
        (Some(State::Pending { since }), Some(v)) => {
            if !rule.op.holds(v, rule.threshold) {
                track.state = None;
                return None;
            }
            if now - since < seconds_to_ms(rule.for_s) {
                return None;
            }
            track.state = Some(State::Firing { since: now, value });
            track.acknowledged = false;
            track.announced = due(track);
            if !track.announced {
                // Fired again within the cooldown of the last message: the
                // banner shows it, no message goes out (no flapping).
                return None;
            }
            track.last_notified = Some(now);
            Some(notification(
                rule,
                key,
                AlertStatus::Firing,
                value,
                now,
                None,
            ))
        }
        (Some(State::Firing { since, .. }), Some(v)) => {
            if rule.cleared(v) {
                track.state = None;
                track.acknowledged = false;
                if !std::mem::take(&mut track.announced) {
                    return None;
                }
                track.last_notified = Some(now);
                return Some(notification(
                    rule,
                    key,
                    AlertStatus::Resolved,
                    value,
                    since,
                    Some(now),
                ));
            }
            track.state = Some(State::Firing { since, value });
            // Announce a firing kept silent by the cooldown once it is over,
            // and remind of an unacknowledged one every cooldown.
            let remind = track.announced && cooldown > 0 && !track.acknowledged;
            if (!track.announced || remind) && due(track) {
                track.announced = true;
                track.last_notified = Some(now);
                return Some(notification(
                    rule,
                    key,
                    AlertStatus::Firing,
                    value,
                    since,
                    None,
                ));
            }
            None
        }
    }
}

fn summary(rule: &AlertRule, subject: &str, value: Option<f64>) -> String {
    let what = match rule.metric {
        AlertMetric::ServiceLevel => format!(
            "{} at {} s",
            rule.variant.to_uppercase(),
            rule.sl_threshold_s
        ),
        m => serde_json::to_value(m)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
    };
    let op = serde_json::to_value(rule.op)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let value = value.map_or("no data".to_owned(), |v| format!("{v:.3}"));
    format!(
        "{}: {subject} {what} is {value} ({op} {})",
        rule.name, rule.threshold
    )
}

fn notification(
    rule: &AlertRule,
    key: &Key,
    status: AlertStatus,
    value: Option<f64>,
    starts: TimestampMs,
    ends: Option<TimestampMs>,
) -> Notification {
    Notification {
        status,
        rule: rule.name.clone(),
        tenant: key.1.clone(),
        subject: key.2.clone(),
        severity: rule.severity.clone(),
        value,
        threshold: rule.threshold,
        starts_ms: starts,
        ends_ms: ends,
        channels: rule.channels.clone(),
        summary: summary(rule, &key.2, value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(toml_rule: &str) -> AlertRule {
        toml::from_str(toml_rule).unwrap()
    }

    /// Feeds `(seconds, value)` steps; returns (seconds, status) of messages.
    fn run(r: &AlertRule, steps: &[(i64, f64)]) -> Vec<(i64, AlertStatus)> {
        let mut track = Track::default();
        let key = (0, "t".to_owned(), "sales".to_owned());
        steps
            .iter()
            .filter_map(|&(s, v)| {
                step(r, &mut track, &key, Some(v), s * 1000).map(|n| (s, n.status))
            })
            .collect()
    }

    const SL: &str = r#"
        name = "sales SL"
        metric = "service_level"
        queue = "sales"
        op = "<"
        threshold = 0.8
        clear = 0.85
        for_s = 120
        cooldown_s = 600
    "#;

    #[test]
    fn an_adopted_alert_is_not_announced_again_and_resolves_normally() {
        let r = rule(SL);
        let mut e = AlertEngine::new(vec![r.clone()]);
        let a = AdoptedAlert {
            rule: "sales SL".into(),
            tenant: "t".into(),
            subject: "sales".into(),
            since_ms: 5_000,
            acknowledged: false,
        };
        assert!(e.adopt(&a, 10_000));
        assert!(!e.adopt(&a, 11_000), "already firing");
        assert!(!e.adopt(
            &AdoptedAlert {
                rule: "other".into(),
                ..a.clone()
            },
            11_000
        ));
        let active = e.active();
        assert_eq!((active.len(), active[0].since_ms), (1, 5_000));
        let key = (0, "t".to_owned(), "sales".to_owned());
        let track = e.tracks.get_mut(&key).unwrap();
        // Still below target: no second "firing" within the cooldown.
        assert_eq!(step(&r, track, &key, Some(0.7), 20_000), None);
        let resolved = step(&r, track, &key, Some(0.9), 30_000).expect("resolves");
        assert_eq!(
            (resolved.status, resolved.starts_ms),
            (AlertStatus::Resolved, 5_000)
        );
    }

    #[test]
    fn fires_only_after_the_condition_held_for_its_duration() {
        let r = rule(SL);
        // Below target from t=0; a blip back up at 60 s restarts the clock.
        let got = run(
            &r,
            &[(0, 0.7), (60, 0.9), (90, 0.7), (180, 0.7), (210, 0.7)],
        );
        assert_eq!(got, vec![(210, AlertStatus::Firing)]);
    }

    #[test]
    fn clears_at_the_clear_threshold_not_at_the_firing_one() {
        let r = rule(SL);
        let got = run(
            &r,
            &[(0, 0.7), (120, 0.7), (130, 0.82), (140, 0.84), (150, 0.85)],
        );
        assert_eq!(
            got,
            vec![(120, AlertStatus::Firing), (150, AlertStatus::Resolved)]
        );
    }

    #[test]
    fn no_flapping_at_the_boundary() {
        let r = rule(SL);
        // Below target for two minutes: it fires. Then it hovers around 0.80
        // without reaching the clear threshold: no resolution, no re-firing,
        // only the reminder once the cooldown is over.
        let mut steps: Vec<(i64, f64)> = (0..=12).map(|i| (i * 10, 0.79)).collect();
        steps.extend((13..80).map(|i| (i * 10, if i % 2 == 0 { 0.79 } else { 0.81 })));
        assert_eq!(
            run(&r, &steps),
            vec![(120, AlertStatus::Firing), (720, AlertStatus::Firing)]
        );
    }

    #[test]
    fn cooldown_spaces_repeats_and_refirings() {
        let r = rule(SL);
        let got = run(
            &r,
            &[
                (0, 0.5),
                (120, 0.5),
                (400, 0.5),
                (720, 0.5),
                (730, 0.9),
                (800, 0.5),
                (920, 0.5),
                (1400, 0.5),
            ],
        );
        // Fires at 120, reminds at 720 (600 s later), resolves at 730; the
        // re-fire at 920 is within the cooldown of 730, so it is announced
        // once the cooldown is over (1400).
        assert_eq!(
            got,
            vec![
                (120, AlertStatus::Firing),
                (720, AlertStatus::Firing),
                (730, AlertStatus::Resolved),
                (1400, AlertStatus::Firing)
            ]
        );
    }

    #[test]
    fn above_thresholds_and_zero_for_fire_at_once() {
        let r = rule(
            r#"
            name = "queue building"
            metric = "waiting"
            op = ">="
            threshold = 5
        "#,
        );
        assert_eq!(r.queue, "*");
        let got = run(&r, &[(0, 4.0), (1, 5.0), (2, 4.0)]);
        assert_eq!(
            got,
            vec![(1, AlertStatus::Firing), (2, AlertStatus::Resolved)]
        );
    }

    #[test]
    fn feed_silence_looks_at_heartbeat_sources_only() {
        use crate::freshness::{FreshnessConfig, FreshnessTracker};
        use wallboard_events::Upstream;
        let mut t = FreshnessTracker::default();
        t.heartbeat("acme", "asterisk-ami", Upstream::Up, 1_000);
        t.event("acme", Some("post-api"), 1_000);
        let f = t.view("acme", Some(1_000), 200_000, &FreshnessConfig::default());
        assert_eq!(
            feed_silence(&f),
            vec![("asterisk-ami".to_owned(), Some(199.0))]
        );
        let r = rule("name='feed'\nmetric='feed_silent_s'\nop='>'\nthreshold=60");
        assert_eq!(r.metric, AlertMetric::FeedSilentS);
        let got = run(&r, &[(0, 10.0), (1, 61.0), (2, 0.0)]);
        assert_eq!(
            got,
            vec![(1, AlertStatus::Firing), (2, AlertStatus::Resolved)]
        );
    }

    #[test]
    fn rules_reject_unknown_keys() {
        let bad: Result<AlertRule, _> =
            toml::from_str("name='x'\nmetric='waiting'\nop='<'\nthreshold=1\nthreshhold=2");
        assert!(bad.is_err());
    }
}
