//! The metric engine: canonical events in, the sums of `metrics.md` out.
//! The engine modules are pure and incremental: they apply one event at a
//! time, do no I/O, read no clock, and can report at any moment. `pipeline`
//! is the runtime around them (writers, snapshots, sources).

pub mod adherence;
pub mod alerts;
pub mod config;
pub mod dedup;
pub mod engine;
pub mod freshness;
pub mod intern;
pub mod live;
pub mod pipeline;
pub mod plausible;
pub mod report;
pub mod rolling;
pub mod staffing;
pub mod sums;
pub mod tenant;
pub mod time;

pub use config::{ConfigError, MetricsConfig, Params};
pub use engine::{Engine, SnapshotError};
pub use live::{live_snapshot, LiveSnapshot};
pub use report::{interval_report, IncompleteInterval, IncompleteReason, IntervalReport, Range};
pub use tenant::{Applied, EngineStats, ParamsChanged, TenantEngine};
