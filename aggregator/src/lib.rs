//! The metric engine: canonical events in, the sums of `metrics.md` out.
//! Pure and incremental: it applies one event at a time, does no I/O and
//! reads no clock, and can report at any moment.

pub mod adherence;
pub mod config;
pub mod dedup;
pub mod engine;
pub mod intern;
pub mod live;
pub mod report;
pub mod rolling;
pub mod sums;
pub mod tenant;
pub mod time;

pub use config::{ConfigError, MetricsConfig, Params};
pub use engine::{Engine, SnapshotError};
pub use live::{live_snapshot, LiveSnapshot};
pub use report::{interval_report, IntervalReport, Range};
pub use tenant::{Applied, EngineStats, ParamsChanged, TenantEngine};
