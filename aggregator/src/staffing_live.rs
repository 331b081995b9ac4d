//! Live staffing of a queue (`metrics.md`, "Live staffing"): Erlang C on the
//! rolling arrival rate and today's AHT, against the members taking calls
//! now. Derived from a live row when the live view is built, never per event.

use serde::Serialize;

use crate::goals::QueueGoal;
use crate::live::AgentsByState;
use crate::report::QueueRow;
use crate::staffing::Demand;

/// A queue's live staffing (`metrics.md`, "Live staffing").
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QueueStaffing {
    /// The goal's service-level threshold in seconds.
    pub threshold_s: u32,
    /// The goal's target service level (0..1).
    pub target: f64,
    /// Length of the rolling window the arrival rate is taken over, minutes.
    pub window_minutes: u32,
    /// Calls that entered the queue in the rolling window.
    pub arrivals: u64,
    /// `arrivals` as an hourly rate.
    pub calls_per_hour: f64,
    /// Today's average handle time in seconds; `None` before a call was handled.
    pub aht_s: Option<f64>,
    /// Offered traffic `λ · AHT` in Erlangs; `None` without an AHT.
    pub traffic_erlangs: Option<f64>,
    /// Agents Erlang C needs for the goal; `None` without an AHT.
    pub required_agents: Option<u32>,
    /// Members signed in (any state but logged out).
    pub staffed: u32,
    /// Members available now.
    pub available: u32,
    /// Members taking calls: available, ringing, on a call or in after-call work.
    pub serving: u32,
    /// `required_agents − serving` (positive: short); `None` with `required_agents`.
    pub gap: Option<i64>,
    /// Erlang C's service level at `serving` agents; `None` without arrivals.
    pub projected_sl: Option<f64>,
    /// Erlang C's average speed of answer at `serving` agents, seconds.
    pub projected_asa_s: Option<f64>,
}

/// What a queue's staffing is computed from.
pub struct StaffingInputs<'a> {
    /// The queue's service-level goal.
    pub goal: &'a QueueGoal,
    /// Length of the rolling window, minutes.
    pub window_minutes: u32,
    /// The rolling window's row (its `entered` are the arrivals).
    pub rolling: &'a QueueRow,
    /// Today's row (its `aht_ms` is the AHT).
    pub today: &'a QueueRow,
    /// The queue's members by state now.
    pub agents: &'a AgentsByState,
}

impl QueueStaffing {
    /// The staffing these inputs call for.
    #[must_use]
    pub fn derive(i: &StaffingInputs) -> Self {
        let arrivals = i.rolling.entered;
        let window_s = f64::from(i.window_minutes) * 60.0;
        let aht_s = i.today.aht_ms.map(|ms| ms / 1000.0);
        let a = i.agents;
        let serving = a.available + a.ringing + a.on_call + a.acw;
        let demand = aht_s.map(|aht_s| Demand {
            calls: arrivals as f64,
            interval_s: window_s,
            aht_s,
            threshold_s: f64::from(i.goal.threshold_s),
            target: i.goal.target,
        });
        let required = demand.map(|d| d.required_agents());
        // No calls arriving: nothing to project (a ratio over no calls).
        let projected = demand
            .filter(|_| arrivals > 0)
            .map(|d| d.with_agents(serving));
        QueueStaffing {
            threshold_s: i.goal.threshold_s,
            target: i.goal.target,
            window_minutes: i.window_minutes,
            arrivals,
            calls_per_hour: arrivals as f64 * 3600.0 / window_s,
            aht_s,
            traffic_erlangs: demand.map(|d| d.traffic()),
            required_agents: required,
            staffed: a.staffed(),
            available: a.available,
            serving,
            gap: required.map(|r| i64::from(r) - i64::from(serving)),
            projected_sl: projected.map(|p| p.service_level),
            projected_asa_s: projected.and_then(|p| p.asa_s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::goals::Goals;
    use crate::report::RowInterval;
    use crate::sums::{AgentTime, QueueSums};

    fn row(entered: u64, handled: u64, talk_ms: u64) -> QueueRow {
        let sums = QueueSums {
            entered,
            handled,
            talk_ms,
            ..Default::default()
        };
        let at = RowInterval {
            start_ms: 0,
            end_ms: 0,
            start: String::new(),
        };
        QueueRow::new(&"q".into(), &at, &[20], &sums, &AgentTime::default())
    }

    #[test]
    fn short_staffing_is_a_positive_gap_and_not_ready_agents_do_not_serve() {
        let goal = Goals::with_threshold(20).default;
        // 100 calls in 15 min at 180 s: 20 Erlangs.
        let (rolling, today) = (row(100, 0, 0), row(0, 10, 1_800_000));
        let agents = AgentsByState {
            available: 3,
            on_call: 15,
            not_ready: 4,
            ..Default::default()
        };
        let s = QueueStaffing::derive(&StaffingInputs {
            goal: &goal,
            window_minutes: 15,
            rolling: &rolling,
            today: &today,
            agents: &agents,
        });
        assert_eq!((s.calls_per_hour, s.aht_s), (400.0, Some(180.0)));
        assert!((s.traffic_erlangs.unwrap() - 20.0).abs() < 1e-12);
        assert_eq!((s.staffed, s.available, s.serving), (22, 3, 18));
        let required = s.required_agents.unwrap();
        assert!(required > 20, "{required}");
        assert_eq!(s.gap, Some(i64::from(required) - 18));
        // 18 agents for 20 Erlangs: the queue grows without bound.
        assert_eq!((s.projected_sl, s.projected_asa_s), (Some(0.0), None));
    }
}
