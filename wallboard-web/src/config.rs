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

use aggregator::MetricsConfig;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppConfig {
    pub metrics: MetricsConfig,
    pub server: ServerConfig,
    pub kafka: KafkaConfig,
    pub pipeline: PipelineConfig,
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Bearer tokens that may read (wallboards). Empty with no admin tokens:
    /// no authentication (the embedded demo).
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
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    pub brokers: String,
    pub topic: String,
    pub dlq_topic: String,
    pub group: String,
    /// Partitions of the topic when this service creates it.
    pub partitions: i32,
    /// Passed to librdkafka as they are: `security.protocol`,
    /// `sasl.mechanisms`, `sasl.username`, `ssl.ca.location`, …
    pub properties: BTreeMap<String, String>,
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
        }
    }
}

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
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            allowed_lateness_s: 3600,
            snapshot_dir: PathBuf::from("wallboard-state"),
            snapshot_interval_s: 5,
        }
    }
}

/// The service-level variant a queue shows and alerts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SlVariant {
    Sl1,
    Sl2,
    #[default]
    Sl3,
    Sl4,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueTarget {
    pub name: String,
    /// Shown instead of the name, if set.
    pub label: Option<String>,
    pub sl_variant: SlVariant,
    pub sl_threshold_s: u32,
    /// Goal for the service level (green at or above, amber within 5 points).
    pub sl_target: f64,
    /// Waiting calls at or above this are shown red.
    pub max_waiting: Option<u32>,

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
    pub longest_wait_s: Option<crate::display::Band>,
    pub asa_s: Option<crate::display::Band>,
    pub abandon_rate: Option<crate::display::Band>,
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
    #[error("configuration: {0}")]
    Figment(#[from] Box<figment::Error>),
    #[error("configuration: {0}")]
    Metrics(#[from] aggregator::ConfigError),
    #[error("configuration: metrics.dedup_window_minutes ({window} min) must cover pipeline.allowed_lateness_s ({lateness} s), or re-sent events older than the window would be counted twice")]
    DedupShorterThanLateness { window: u32, lateness: u64 },
    #[error("configuration: alert rule {rule:?} names channel {channel:?}, which is not in [[channels]]")]
    UnknownChannel { rule: String, channel: String },
    #[error("configuration: {0}")]
    Display(#[from] crate::display::DisplayError),
}

/// The sections of the configuration, as environment prefixes.
const SECTIONS: [&str; 4] = ["metrics", "server", "kafka", "pipeline"];

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
        config.metrics.validate()?;
        for rule in &config.alerts {
            for ch in &rule.channels {
                if !config.channels.iter().any(|c| &c.name == ch) {
                    return Err(LoadError::UnknownChannel {
                        rule: rule.name.clone(),
                        channel: ch.clone(),
                    });
                }
            }
        }
        crate::display::validate(&config)?;
        if u64::from(config.metrics.dedup_window_minutes) * 60 < config.pipeline.allowed_lateness_s
        {
            return Err(LoadError::DedupShorterThanLateness {
                window: config.metrics.dedup_window_minutes,
                lateness: config.pipeline.allowed_lateness_s,
            });
        }
        Ok(config)
    }

    /// The display settings of `queue` (defaults when not configured).
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

    #[test]
    fn unknown_keys_and_bad_metrics_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("a.toml", "[server]\nlisten_on = \"x\"\n")?;
            assert!(AppConfig::load(Some(Path::new("a.toml"))).is_err());
            jail.create_file("c.toml", "[pipeline]\nallowed_lateness_s = 86400\n")?;
            let e = AppConfig::load(Some(Path::new("c.toml"))).unwrap_err();
            assert!(e.to_string().contains("must cover"), "{e}");
            jail.create_file("b.toml", "[metrics]\ninterval_minutes = 7\n")?;
            let e = AppConfig::load(Some(Path::new("b.toml"))).unwrap_err();
            assert!(e.to_string().contains("interval of 7 minutes"));
            Ok(())
        });
    }
}
