//! [`SimConfig`]: the parameters of one simulated period.

use wallboard_events::event::DEFAULT_TENANT;

/// Parameters of one simulated period.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Seeds every random choice: the same configuration gives the same events.
    pub seed: u64,
    /// Tenant written on every event.
    pub tenant: String,
    /// Agents on the roster; each works one shift.
    pub agents: usize,
    /// Queues: `sales`, `support`, `billing`, `vip`, then `queue5`, …; at least one.
    pub queues: usize,
    /// Unix ms of the simulated period's start (the first event's time).
    pub start_ms: i64,
    /// Length of the simulated period, in hours.
    pub hours: f64,
    /// Multiplier on arrival rates; 1 keeps agents about 80 % occupied.
    pub load: f64,
    /// Callers, surveys and QA evaluations too (`caller` on `call_queued`,
    /// `survey_result`, `quality_evaluation`); the other events are the
    /// same with or without.
    pub kpis: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 1,
            tenant: DEFAULT_TENANT.to_owned(),
            agents: 12,
            queues: 4,
            // 2026-11-23T08:30:00Z, a Monday: the default 8 h run's clock then
            // matches its virtual business day in UTC.
            start_ms: 1_795_422_600_000,
            hours: 8.0,
            load: 1.0,
            kpis: false,
        }
    }
}
