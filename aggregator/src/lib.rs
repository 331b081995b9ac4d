//! The metric engine: canonical events in, the sums of `metrics.md` out.
//! The engine modules are pure and incremental: they apply one event at a
//! time, do no I/O, read no clock, and can report at any moment. The runtime
//! around them (writers, snapshots, sources) is the `wallboard-pipeline`
//! crate; this crate's manifest has no I/O, async or Kafka dependency.

pub mod adherence;
pub mod alerts;
pub mod attainment;
pub mod config;
pub mod dedup;
pub mod engine;
pub mod erlang_a;
pub mod forecast;
pub mod forecast_view;
pub mod freshness;
pub mod goals;
pub mod handling;
pub mod intern;
pub mod live;
pub mod messages;
pub mod plausible;
pub mod quality;
pub mod quality_report;
pub mod repeat;
pub mod report;
pub mod rolling;
pub mod scope;
pub mod scorecard;
pub mod staffing;
pub mod staffing_live;
pub mod sums;
pub mod tenant;
pub mod tenant_params;
pub mod time;

pub use config::{ConfigError, MetricsConfig, Params};
pub use engine::{Engine, SnapshotError};
pub use live::{live_snapshot, LiveSnapshot};
pub use report::{interval_report, IncompleteInterval, IncompleteReason, IntervalReport, Range};
pub use scope::QueueScope;
pub use tenant::{Applied, EngineStats, ParamsChanged, TenantEngine};
pub use tenant_params::TenantParams;
