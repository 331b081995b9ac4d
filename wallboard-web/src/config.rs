//! The service configuration: one typed struct, read from a TOML file and
//! overridden by `WALLBOARD_*` environment variables (nested keys joined by
//! `__`, e.g. `WALLBOARD_KAFKA__BROKERS=host:9092`). Every setting is
//! documented in `deploy/wallboard.example.toml`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use aggregator::alerts::{AlertMetric, AlertRule};
use aggregator::{MetricsConfig, Params};

mod tenants;
pub use tenants::{TenantConfig, TenantView};

/// The whole service configuration (`deploy/wallboard.example.toml` documents every key).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppConfig {
    /// How the numbers are computed (`[metrics]`, `metrics.md` "Parameters").
    pub metrics: MetricsConfig,
    /// HTTP listener, tokens and limits (`[server]`).
    pub server: ServerConfig,
    /// The event log (`[kafka]`).
    pub kafka: KafkaConfig,
    /// Lateness, snapshots and future events (`[pipeline]`).
    pub pipeline: PipelineConfig,
    /// Thresholds of the freshness states (`metrics.md`, "Freshness").
    pub freshness: aggregator::freshness::FreshnessConfig,
    /// Per-queue display settings and targets.
    pub queues: Vec<QueueTarget>,
    /// Alert rules (see `aggregator::alerts`).
    pub alerts: Vec<aggregator::alerts::AlertRule>,
    /// Where alerts are delivered.
    pub channels: Vec<crate::alerting::ChannelConfig>,
    /// The TV wall: paging, agent-state limits, sound (`[display]`).
    pub display: crate::display::DisplayConfig,
    /// Named boards, opened by `/?board=NAME`.
    pub boards: Vec<crate::display::Board>,
    /// Display names and teams of agents, by agent id.
    pub agents: Vec<crate::display::AgentInfo>,
    /// Labels of not-ready reason codes per language.
    pub reasons: Vec<crate::display::ReasonLabel>,
    /// Per-tenant settings (README, "Tenants"); tenants not listed use the
    /// top-level ones.
    pub tenants: Vec<TenantConfig>,
}

/// The `[server]` section: the HTTP listener, access tokens and limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address and port the HTTP server listens on.
    pub listen: SocketAddr,
    /// Bearer tokens that may read (wallboards). With no token of any role
    /// configured: no authentication (the embedded demo); with any, every
    /// role's routes need a token (README, Access).
    pub read_tokens: Vec<String>,
    /// Bearer tokens that may also change configuration (acknowledge, silence).
    pub admin_tokens: Vec<String>,
    /// Bearer tokens that may post events to `/ingest/v1/events`.
    pub ingest_tokens: Vec<String>,
    /// Origins allowed to open the WebSocket besides the server's own host.
    pub allowed_origins: Vec<String>,
    /// How often the live view is republished, at most (ms).
    pub publish_interval_ms: u64,
    /// Fewest milliseconds between two WebSocket pushes to one client.
    pub ws_min_push_interval_ms: u64,
    /// Largest request body (bytes); a larger one is refused with 413.
    pub max_body_bytes: usize,
    /// Most events in one `POST /ingest/v1/events`; more is refused with 413.
    pub max_events_per_request: usize,
    /// Rejected events listed one by one in an ingest answer; the rest are
    /// counted in `rejections_not_listed`.
    pub max_rejections_listed: usize,
    /// Seconds a client has to send a request's headers.
    pub header_timeout_s: u64,
    /// Seconds a client has to send a request's body.
    pub body_timeout_s: u64,
    /// Open connections at most (`WebSockets` included); beyond, a new one
    /// is answered 503 and closed.
    pub max_connections: usize,
    /// Most queues in one WebSocket subscription.
    pub ws_max_queues: usize,
    /// Largest WebSocket message a client may send (bytes).
    pub ws_max_message_bytes: usize,
    /// Seconds a push may take to reach a client before it is dropped as a
    /// slow consumer.
    pub ws_send_timeout_s: u64,
    /// The base URL other instances reach this one at (reports are
    /// forwarded to a tenant's owner there); empty: `http://<listen>`.
    pub advertise_url: String,
}

/// A `[server]` setting that makes no sense.
#[derive(Debug, thiserror::Error)]
#[error("configuration: server.{key} is 0; it must be at least 1 ({why})")]
pub struct ZeroLimit {
    /// The `[server]` key that is 0.
    pub key: &'static str,
    /// What the setting limits, for the message.
    pub why: &'static str,
}

impl ServerConfig {
    /// Refuses limits of 0, which would refuse everything.
    pub fn validate(&self) -> Result<(), ZeroLimit> {
        let limits: [(&'static str, u64, &'static str); 8] = [
            (
                "max_body_bytes",
                self.max_body_bytes as u64,
                "no body would fit",
            ),
            (
                "max_events_per_request",
                self.max_events_per_request as u64,
                "no event would be taken",
            ),
            (
                "header_timeout_s",
                self.header_timeout_s,
                "no request would arrive",
            ),
            (
                "body_timeout_s",
                self.body_timeout_s,
                "no body would arrive",
            ),
            (
                "max_connections",
                self.max_connections as u64,
                "no client could connect",
            ),
            (
                "ws_max_queues",
                self.ws_max_queues as u64,
                "no queue could be subscribed",
            ),
            (
                "ws_max_message_bytes",
                self.ws_max_message_bytes as u64,
                "no subscription would fit",
            ),
            (
                "ws_send_timeout_s",
                self.ws_send_timeout_s,
                "every client would be dropped",
            ),
        ];
        match limits.into_iter().find(|(_, v, _)| *v == 0) {
            Some((key, _, why)) => Err(ZeroLimit { key, why }),
            None => Ok(()),
        }
    }
}

impl ServerConfig {
    /// The base URL other instances reach this one at, without a trailing `/`.
    #[must_use]
    pub fn advertise(&self) -> String {
        if self.advertise_url.is_empty() {
            format!("http://{}", self.listen)
        } else {
            self.advertise_url.trim_end_matches('/').to_owned()
        }
    }

    /// Refuses an `advertise_url` that is not an `http(s)://host[:port]` base.
    fn check_advertise(&self) -> Result<(), (String, String)> {
        let url = &self.advertise_url;
        if url.is_empty() {
            return Ok(());
        }
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"));
        match rest.map(|r| r.trim_end_matches('/')) {
            Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', ' ']) => Ok(()),
            _ => Err((
                "server.advertise_url".into(),
                format!("{url:?} is not a base URL like http://host:8080 (no path)"),
            )),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            read_tokens: Vec::new(),
            admin_tokens: Vec::new(),
            ingest_tokens: Vec::new(),
            allowed_origins: Vec::new(),
            publish_interval_ms: 50,
            ws_min_push_interval_ms: 250,
            max_body_bytes: 1 << 20,
            max_events_per_request: 10_000,
            max_rejections_listed: 100,
            header_timeout_s: 10,
            body_timeout_s: 30,
            max_connections: 1024,
            ws_max_queues: 256,
            ws_max_message_bytes: 64 << 10,
            ws_send_timeout_s: 10,
            advertise_url: String::new(),
        }
    }
}

/// The `[kafka]` section: where canonical events are read from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// Bootstrap brokers, `host:port` comma-separated.
    pub brokers: String,
    /// Topic of canonical events.
    pub topic: String,
    /// Topic rejected records are copied to.
    pub dlq_topic: String,
    /// Consumer group id of the aggregators.
    pub group: String,
    /// Partitions of the topic when this service creates it.
    pub partitions: i32,
    /// Passed to librdkafka as they are: `security.protocol`,
    /// `sasl.mechanisms`, `sasl.username`, `ssl.ca.location`, …
    pub properties: BTreeMap<String, String>,
    /// Compacted topic of the partitions' durable state; empty:
    /// `<topic>-changelog` (`architecture.md`, "State that lives in Kafka").
    pub changelog_topic: String,
    /// Largest chunk of a snapshot in one changelog record.
    pub changelog_chunk_bytes: usize,
    /// How long a silent member keeps its partitions (failover time).
    pub session_timeout_ms: u32,
    /// How often a member tells the group it is alive; at most a third of
    /// `session_timeout_ms`.
    pub heartbeat_interval_ms: u32,
    /// Compacted topic of every tenant's live view; empty: `<topic>-views`
    /// (`architecture.md`, "Every node serves every tenant").
    pub views_topic: String,
}

impl KafkaConfig {
    /// The changelog topic in use.
    #[must_use]
    pub fn changelog(&self) -> String {
        if self.changelog_topic.is_empty() {
            format!("{}-changelog", self.topic)
        } else {
            self.changelog_topic.clone()
        }
    }

    /// The views topic in use.
    #[must_use]
    pub fn views(&self) -> String {
        if self.views_topic.is_empty() {
            format!("{}-views", self.topic)
        } else {
            self.views_topic.clone()
        }
    }

    /// Refuses group and changelog settings that make no sense.
    fn check(&self) -> Result<(), (String, String)> {
        let key = |k: &str| format!("kafka.{k}");
        if self.changelog_chunk_bytes < 1024 {
            return Err((
                key("changelog_chunk_bytes"),
                format!("at least 1024 bytes, got {}", self.changelog_chunk_bytes),
            ));
        }
        if !(1000..=300_000).contains(&self.session_timeout_ms) {
            return Err((
                key("session_timeout_ms"),
                format!("1000 to 300000 ms, got {}", self.session_timeout_ms),
            ));
        }
        let hb = self.heartbeat_interval_ms;
        if hb == 0 || hb.saturating_mul(3) > self.session_timeout_ms {
            return Err((
                key("heartbeat_interval_ms"),
                format!(
                    "1 ms to a third of kafka.session_timeout_ms ({} ms), got {hb}",
                    self.session_timeout_ms
                ),
            ));
        }
        if self.changelog() == self.topic || self.changelog() == self.dlq_topic {
            return Err((
                key("changelog_topic"),
                "must differ from kafka.topic and kafka.dlq_topic".into(),
            ));
        }
        let views = self.views();
        if [&self.topic, &self.dlq_topic, &self.changelog()].contains(&&views) {
            return Err((
                key("views_topic"),
                "must differ from kafka.topic, kafka.dlq_topic and kafka.changelog_topic".into(),
            ));
        }
        Ok(())
    }
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: "127.0.0.1:9092".into(),
            topic: "cti.events".into(),
            dlq_topic: "cti.events.dlq".into(),
            group: "wallboard".into(),
            partitions: 3,
            properties: BTreeMap::new(),
            changelog_topic: String::new(),
            changelog_chunk_bytes: 512 << 10,
            session_timeout_ms: 6000,
            heartbeat_interval_ms: 1000,
            views_topic: String::new(),
        }
    }
}

/// The `[pipeline]` section: lateness, snapshots and future events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// Events older than this behind the tenant's newest event are counted as
    /// late and not applied.
    pub allowed_lateness_s: u64,
    /// Where durable state snapshots (with their Kafka offsets) are kept.
    pub snapshot_dir: PathBuf,
    /// How often a snapshot is written and offsets committed.
    pub snapshot_interval_s: u64,
    /// Live ingest: an event more than this ahead of the server's clock is
    /// dead-lettered as `future` and never moves the tenant's "now".
    pub max_future_s: u64,
}

impl PipelineConfig {
    /// [`Self::max_future_s`] for the writer.
    #[must_use]
    pub fn max_future_ms(&self) -> i64 {
        i64::try_from(self.max_future_s.saturating_mul(1000)).unwrap_or(i64::MAX)
    }
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            allowed_lateness_s: 3600,
            snapshot_dir: PathBuf::from("wallboard-state"),
            snapshot_interval_s: 5,
            max_future_s: 300,
        }
    }
}

/// The service-level variant a queue shows and alerts on.
pub use aggregator::goals::SlVariant;

/// One `[[queues]]` entry: a queue's targets and how the board shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueTarget {
    /// Queue name as in the events.
    pub name: String,
    /// Shown instead of the name, if set.
    pub label: Option<String>,
    /// Service-level variant the queue shows and alerts on.
    pub sl_variant: SlVariant,
    /// Service-level threshold in seconds the queue shows.
    pub sl_threshold_s: u32,
    /// Goal for the service level (green at or above, amber within 5 points).
    pub sl_target: f64,
    /// Waiting calls at or above this are shown red.
    pub max_waiting: Option<u32>,
    /// This queue's short-abandon threshold, if it differs from
    /// `metrics.short_abandon_s`.
    pub short_abandon_s: Option<u32>,

    // ---- The TV wall (README "Boards, paging and colours") ----
    /// Labels per UI language (`en`, `zh-CN`), preferred over `label`.
    pub labels: BTreeMap<String, String>,
    /// Position on the board: lower first; queues without one follow in
    /// `[[queues]]` order, then queues not configured, by name.
    pub order: Option<i32>,
    /// Width of the amber band under `sl_target` (ratio points).
    pub sl_amber: f64,
    /// Colour bands (amber at or above `amber`, red at or above `red`).
    pub waiting: Option<crate::display::Band>,
    /// Colour band of the oldest wait, seconds.
    pub longest_wait_s: Option<crate::display::Band>,
    /// Colour band of the average speed of answer, seconds.
    pub asa_s: Option<crate::display::Band>,
    /// Colour band of the abandon rate (a ratio).
    pub abandon_rate: Option<crate::display::Band>,
}

impl QueueTarget {
    /// What the live view and the report judge this queue's service level by.
    #[must_use]
    pub fn goal(&self) -> aggregator::goals::QueueGoal {
        aggregator::goals::QueueGoal {
            variant: self.sl_variant,
            threshold_s: self.sl_threshold_s,
            target: self.sl_target,
        }
    }
}

impl Default for QueueTarget {
    fn default() -> Self {
        QueueTarget {
            name: String::new(),
            label: None,
            sl_variant: SlVariant::Sl3,
            sl_threshold_s: 20,
            sl_target: 0.8,
            max_waiting: None,
            short_abandon_s: None,
            labels: BTreeMap::new(),
            order: None,
            sl_amber: 0.05,
            waiting: None,
            longest_wait_s: None,
            asa_s: None,
            abandon_rate: None,
        }
    }
}

/// A configuration that cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The configuration could not be read or merged (syntax, types, unknown keys).
    #[error("configuration: {0}")]
    Figment(#[from] Box<figment::Error>),
    /// A `[metrics]` setting makes no sense.
    #[error("configuration{}: {}: {error}", in_file(file.as_deref()), error.key())]
    Metrics {
        /// What is wrong, and the key.
        error: aggregator::ConfigError,
        /// The file it came from, if any.
        file: Option<PathBuf>,
    },
    /// A setting makes no sense.
    #[error("configuration{}: {key}: {message}", in_file(file.as_deref()))]
    Invalid {
        /// The file it came from, if any.
        file: Option<PathBuf>,
        /// The key, with its section.
        key: String,
        /// Why it is refused.
        message: String,
    },
    /// A `[server]` limit is 0.
    #[error(transparent)]
    Server(#[from] ZeroLimit),
    /// A `[freshness]` threshold is 0.
    #[error("configuration: {0}")]
    Freshness(#[from] aggregator::freshness::FreshnessConfigError),
    /// A `[display]` setting makes no sense.
    #[error("configuration: {0}")]
    Display(#[from] crate::display::DisplayError),
}

fn in_file(file: Option<&std::path::Path>) -> String {
    file.as_ref()
        .map(|f| format!(" ({})", f.display()))
        .unwrap_or_default()
}

/// Service-level thresholds above this many seconds are refused as absurd.
pub const MAX_SL_THRESHOLD_S: u32 = 3600;
/// Short-abandon thresholds above this many seconds are refused as absurd.
pub const MAX_SHORT_ABANDON_S: u32 = 600;

fn check_threshold(key: String, t: u32) -> Result<(), (String, String)> {
    if t == 0 || t > MAX_SL_THRESHOLD_S {
        return Err((
            key,
            format!("a service-level threshold is 1 to {MAX_SL_THRESHOLD_S} seconds, got {t}"),
        ));
    }
    Ok(())
}

fn check_short_abandon(key: String, s: u32) -> Result<(), (String, String)> {
    if s > MAX_SHORT_ABANDON_S {
        return Err((
            key,
            format!(
                "a short-abandon threshold is 0 (off) to {MAX_SHORT_ABANDON_S} seconds, got {s}"
            ),
        ));
    }
    Ok(())
}

fn check_target(key: String, target: f64) -> Result<(), (String, String)> {
    if !(0.0..=1.0).contains(&target) {
        let hint = if (1.0..=100.0).contains(&target) {
            format!(", e.g. {} for {target} %", target / 100.0)
        } else {
            ", e.g. 0.8 for 80 %".into()
        };
        return Err((
            key,
            format!("sl_target is a fraction between 0 and 1{hint}, got {target}"),
        ));
    }
    Ok(())
}

/// Refuses a queue list (`[[queues]]`, or a tenant's) that makes no sense;
/// `section` prefixes the keys.
fn check_queues(section: &str, queues: &[QueueTarget]) -> Result<(), (String, String)> {
    let mut names = std::collections::BTreeSet::new();
    for (i, q) in queues.iter().enumerate() {
        let key = |k: &str| format!("{section}[{i}].{k}");
        if q.name.trim().is_empty() {
            return Err((key("name"), "every [[queues]] entry needs a name".into()));
        }
        if !names.insert(q.name.as_str()) {
            return Err((
                key("name"),
                format!("queue {:?} is configured twice", q.name),
            ));
        }
        check_target(key("sl_target"), q.sl_target)?;
        check_threshold(key("sl_threshold_s"), q.sl_threshold_s)?;
        if let Some(s) = q.short_abandon_s {
            check_short_abandon(key("short_abandon_s"), s)?;
        }
    }
    Ok(())
}

/// The sections of the configuration, as environment prefixes.
const SECTIONS: [&str; 5] = ["metrics", "server", "kafka", "pipeline", "freshness"];

impl AppConfig {
    /// Defaults, then `file` (if given), then `WALLBOARD_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Self, LoadError> {
        let mut fig = Figment::from(Serialized::defaults(AppConfig::default()));
        if let Some(f) = file {
            fig = fig.merge(Toml::file_exact(f));
        }
        let config: AppConfig = fig
            .merge(
                // Only WALLBOARD_<SECTION>__<KEY>; other WALLBOARD_* variables
                // (such as WALLBOARD_BIN for the tests) are not settings.
                Env::prefixed("WALLBOARD_")
                    .filter(|k| {
                        let section = k.as_str().split("__").next().unwrap_or_default();
                        k.as_str().contains("__")
                            && SECTIONS.iter().any(|s| s.eq_ignore_ascii_case(section))
                    })
                    .split("__"),
            )
            .extract()
            .map_err(Box::new)?;
        config
            .check()
            .map_err(|(key, message)| LoadError::Invalid {
                file: file.map(Path::to_path_buf),
                key,
                message,
            })?;
        config.server.validate()?;
        config.freshness.validate()?;
        crate::display::validate(&config)?;
        config.params().map_err(|error| LoadError::Metrics {
            error,
            file: file.map(Path::to_path_buf),
        })?;
        Ok(config)
    }

    /// The metric parameters the engine runs with: `[metrics]`, plus every
    /// service-level threshold a queue or an alert rule asks for (so a
    /// queue's `sl_threshold_s = 15` is computed, not shown with another
    /// threshold's value), plus the queues' own short-abandon thresholds.
    pub fn params(&self) -> Result<Params, aggregator::ConfigError> {
        self.params_with(self.metrics.clone(), &self.queues)
    }

    /// What [`AppConfig::params`] is for `tenant`: its own `[[tenants]]`
    /// keys over `[metrics]`, its own queues (or `[[queues]]`), and every
    /// alert rule's threshold (the rules apply to every tenant).
    pub fn params_of(&self, tenant: &str) -> Result<Params, aggregator::ConfigError> {
        let view = self.tenant(tenant);
        self.params_with(view.metrics(), view.queues())
    }

    /// The parameters of every tenant: the default, and each `[[tenants]]`
    /// entry's own.
    pub fn tenant_params(&self) -> Result<aggregator::TenantParams, aggregator::ConfigError> {
        let mut all = aggregator::TenantParams::new(self.params()?);
        for t in &self.tenants {
            all = all.with_tenant(&t.id, self.params_of(&t.id)?);
        }
        Ok(all)
    }

    /// What `tenant` sees of the configuration.
    #[must_use]
    pub fn tenant(&self, tenant: &str) -> TenantView<'_> {
        TenantView::new(self, tenant)
    }

    fn params_with(
        &self,
        mut metrics: MetricsConfig,
        queues: &[QueueTarget],
    ) -> Result<Params, aggregator::ConfigError> {
        let wanted = queues.iter().map(|q| q.sl_threshold_s).chain(
            self.alerts
                .iter()
                .filter(|r| r.metric == AlertMetric::ServiceLevel)
                .map(|r| r.sl_threshold_s),
        );
        metrics.sl_thresholds_s.extend(wanted);
        let mut params = metrics.validate()?;
        params.short_abandon_by_queue = queues
            .iter()
            .filter_map(|q| Some((q.name.clone(), q.short_abandon_s?)))
            .collect();
        params.goals.by_queue = queues.iter().map(|q| (q.name.clone(), q.goal())).collect();
        Ok(params)
    }

    /// What makes no sense beyond what the types say: the key and why.
    fn check(&self) -> Result<(), (String, String)> {
        self.kafka.check()?;
        self.server.check_advertise()?;
        let m = &self.metrics;
        for (i, &t) in m.sl_thresholds_s.iter().enumerate() {
            check_threshold(format!("metrics.sl_thresholds_s[{i}]"), t)?;
        }
        check_short_abandon("metrics.short_abandon_s".into(), m.short_abandon_s)?;
        if u64::from(m.dedup_window_minutes) * 60 < self.pipeline.allowed_lateness_s {
            return Err((
                "metrics.dedup_window_minutes".into(),
                format!(
                    "{} min must cover pipeline.allowed_lateness_s ({} s), or re-sent events older than the window would be counted twice",
                    m.dedup_window_minutes, self.pipeline.allowed_lateness_s
                ),
            ));
        }
        check_queues("queues", &self.queues)?;
        for (i, rule) in self.alerts.iter().enumerate() {
            self.check_rule(i, rule)?;
        }
        tenants::check(self)
    }

    fn check_rule(&self, i: usize, rule: &AlertRule) -> Result<(), (String, String)> {
        let key = |k: &str| format!("alerts[{i}].{k} (rule {:?})", rule.name);
        if !matches!(rule.variant.as_str(), "sl1" | "sl2" | "sl3" | "sl4") {
            return Err((
                key("variant"),
                format!("{:?} is not one of sl1, sl2, sl3, sl4", rule.variant),
            ));
        }
        if rule.metric == AlertMetric::ServiceLevel {
            check_threshold(key("sl_threshold_s"), rule.sl_threshold_s)?;
        }
        if matches!(
            rule.metric,
            AlertMetric::ServiceLevel | AlertMetric::ProjectedServiceLevel
        ) {
            let ratio = |v: f64| (0.0..=1.0).contains(&v);
            if !ratio(rule.threshold) || !rule.clear.is_none_or(ratio) {
                return Err((
                    key("threshold"),
                    format!(
                        "a service level is a fraction 0..1, e.g. 0.8 for 80 %, got {}",
                        rule.threshold
                    ),
                ));
            }
        }
        for ch in &rule.channels {
            if !self.channels.iter().any(|c| &c.name == ch) {
                return Err((
                    key("channels"),
                    format!("channel {ch:?} is not in [[channels]]"),
                ));
            }
        }
        Ok(())
    }

    /// The display settings of `queue` (defaults when not configured).
    #[must_use]
    pub fn target_for(&self, queue: &str) -> QueueTarget {
        self.queues
            .iter()
            .find(|q| q.name == queue)
            .cloned()
            .unwrap_or_else(|| QueueTarget {
                name: queue.to_owned(),
                sl_threshold_s: self.metrics.sl_thresholds_s.first().copied().unwrap_or(20),
                ..Default::default()
            })
    }
}

#[cfg(test)]
// figment::Jail's closures return figment::Error, which is large; not ours to shrink.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_loads_and_documents_every_setting() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/wallboard.example.toml");
        let config = AppConfig::load(Some(&path)).expect("example config loads");
        let text = std::fs::read_to_string(&path).unwrap();
        let defaults = toml::to_string(&AppConfig::default()).unwrap();
        for line in defaults.lines() {
            if let Some((key, _)) = line.split_once(" = ") {
                assert!(
                    text.contains(&format!("{key} ="))
                        || text.contains(&format!("# {key} ="))
                        || text.contains(&format!("[[{key}]]")),
                    "{key} is not documented in the example config"
                );
            }
        }
        assert!(!config.queues.is_empty());
    }

    #[test]
    fn environment_overrides_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("w.toml", "[server]\nlisten = \"127.0.0.1:9000\"\n")?;
            jail.set_env("WALLBOARD_SERVER__LISTEN", "127.0.0.1:9100");
            jail.set_env("WALLBOARD_KAFKA__TOPIC", "other");
            jail.set_env("WALLBOARD_BIN", "/not/a/setting");
            let c = AppConfig::load(Some(Path::new("w.toml"))).unwrap();
            assert_eq!(c.server.listen.port(), 9100);
            assert_eq!(c.kafka.topic, "other");
            Ok(())
        });
    }

    /// Loads `text` as a file and returns the error's message.
    fn refused(text: &str) -> String {
        let mut message = String::new();
        figment::Jail::expect_with(|jail| {
            jail.create_file("w.toml", text)?;
            message = AppConfig::load(Some(Path::new("w.toml")))
                .expect_err("refused")
                .to_string();
            Ok(())
        });
        message
    }

    #[test]
    fn nonsense_is_refused_with_the_key_and_the_file() {
        let cases = [
            (
                "[[queues]]\nname = \"q\"\nsl_target = 75\n",
                "queues[0].sl_target: sl_target is a fraction between 0 and 1, e.g. 0.75 for 75 %",
            ),
            ("[[queues]]\nname = \"q\"\nsl_treshold_s = 15\n", "sl_treshold_s"),
            (
                "[[queues]]\nname = \"q\"\n[[queues]]\nname = \"q\"\n",
                "queues[1].name: queue \"q\" is configured twice",
            ),
            ("[[queues]]\nname = \"\"\n", "queues[0].name"),
            ("[[queues]]\nname = \"q\"\nsl_threshold_s = 0\n", "queues[0].sl_threshold_s"),
            ("[metrics]\nsl_thresholds_s = [20, 86400]\n", "metrics.sl_thresholds_s[1]"),
            ("[metrics]\nshort_abandon_s = 3600\n", "metrics.short_abandon_s"),
            ("[metrics]\ninterval_minutes = 7\n", "metrics.interval_minutes: interval of 7"),
            (
                "[[queues]]\nname = \"q\"\nshort_abandon_s = 9999\n",
                "queues[0].short_abandon_s",
            ),
            (
                "[[alerts]]\nname = \"r\"\nmetric = \"waiting\"\nop = \">\"\nthreshold = 1\nchannels = [\"pager\"]\n",
                "alerts[0].channels (rule \"r\"): channel \"pager\" is not in [[channels]]",
            ),
            (
                "[[alerts]]\nname = \"r\"\nmetric = \"service_level\"\nvariant = \"sl5\"\nop = \"<\"\nthreshold = 0.8\n",
                "alerts[0].variant",
            ),
            (
                "[[alerts]]\nname = \"r\"\nmetric = \"service_level\"\nop = \"<\"\nthreshold = 80\n",
                "alerts[0].threshold",
            ),
        ];
        for (text, want) in cases {
            let got = refused(text);
            assert!(got.contains(want), "{text:?}: {got:?} lacks {want:?}");
            assert!(got.contains("w.toml"), "{got:?} names the file");
        }
    }

    #[test]
    fn every_threshold_asked_for_is_computed() {
        let config: AppConfig = toml::from_str(
            r#"
            [metrics]
            sl_thresholds_s = [20]
            [[queues]]
            name = "q"
            sl_threshold_s = 15
            short_abandon_s = 5
            [[alerts]]
            name = "r"
            metric = "service_level"
            sl_threshold_s = 30
            op = "<"
            threshold = 0.8
            [[alerts]]
            name = "w"
            metric = "waiting"
            sl_threshold_s = 99
            op = ">"
            threshold = 3
            "#,
        )
        .unwrap();
        let params = config.params().unwrap();
        assert_eq!(params.thresholds_s, vec![15, 20, 30]);
        assert_eq!(params.short_abandon_s_for("q"), 5);
        assert_eq!(params.short_abandon_s_for("other"), 0);
    }

    #[test]
    fn unknown_keys_and_bad_metrics_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("a.toml", "[server]\nlisten_on = \"x\"\n")?;
            assert!(AppConfig::load(Some(Path::new("a.toml"))).is_err());
            jail.create_file("c.toml", "[pipeline]\nallowed_lateness_s = 86400\n")?;
            let e = AppConfig::load(Some(Path::new("c.toml"))).unwrap_err();
            assert!(e.to_string().contains("must cover"), "{e}");
            jail.create_file("d.toml", "[server]\nmax_connections = 0\n")?;
            let e = AppConfig::load(Some(Path::new("d.toml"))).unwrap_err();
            assert!(e.to_string().contains("server.max_connections is 0"), "{e}");
            jail.create_file("f.toml", "[freshness]\nquiet_after_s = 0\n")?;
            let e = AppConfig::load(Some(Path::new("f.toml"))).unwrap_err();
            assert!(e.to_string().contains("freshness.quiet_after_s"), "{e}");
            jail.create_file("b.toml", "[metrics]\ninterval_minutes = 7\n")?;
            let e = AppConfig::load(Some(Path::new("b.toml"))).unwrap_err();
            assert!(e.to_string().contains("interval of 7 minutes"));
            Ok(())
        });
    }

    #[test]
    fn views_and_advertise_settings_that_make_no_sense_are_refused() {
        let m = refused("[server]\nadvertise_url = \"10.0.0.7:8080\"\n");
        assert!(m.contains("server.advertise_url"), "{m}");
        let m = refused("[server]\nadvertise_url = \"http://h:1/wallboard\"\n");
        assert!(m.contains("server.advertise_url"), "{m}");
        let m = refused("[kafka]\ntopic = \"t\"\nviews_topic = \"t-changelog\"\n");
        assert!(m.contains("kafka.views_topic"), "{m}");
        let c = AppConfig::default();
        assert_eq!(c.kafka.views(), "cti.events-views");
        assert_eq!(c.server.advertise(), "http://127.0.0.1:8080");
    }
}
