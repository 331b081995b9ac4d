//! The simulator's forecast of its own day (`wallboard simulate
//! --forecast-out`, and what `wallboard demo` publishes): per queue and
//! interval of the tenant's grid, the calls its arrival profile expects
//! with ±15 % of seeded noise (a plan is never exact, so the board shows a
//! variance), its mean handling time, and the agents Erlang C requires for
//! the default goal (80 % within the first SL threshold).

use std::borrow::Cow;
use std::fmt::Write;

use aggregator::staffing::Demand;
use aggregator::time::IntervalClock;
use ingest::simulate::Simulator;
use wallboard_events::Forecast;

/// How far the plan may be off the profile: ±15 %.
const NOISE: f64 = 0.15;

/// The service-level goal the plan is staffed for.
#[derive(Debug, Clone, Copy)]
pub struct Goal {
    /// Threshold, seconds.
    pub threshold_s: u32,
    /// Target share, 0..1.
    pub target: f64,
}

/// The forecast of `sim` for the intervals of `clock` overlapping
/// `[from, to)`; `seed` varies the noise.
#[must_use]
pub fn plan(
    sim: &Simulator,
    clock: &IntervalClock,
    (from, to): (i64, i64),
    goal: Goal,
    seed: u64,
) -> Vec<Forecast<'static>> {
    let mut out = Vec::new();
    let mut start = clock.interval_of(from);
    let minutes = u32::try_from(clock.len_ms() / 60_000).expect("interval lengths are small");
    while start.0 < to {
        let end = clock.interval_end(start);
        for (q, e) in sim.expected(start.0, end).into_iter().enumerate() {
            let calls = round1(e.calls * (1.0 + NOISE * (2.0 * unit(seed, start.0, q) - 1.0)));
            let demand = Demand {
                calls,
                interval_s: (end - start.0) as f64 / 1000.0,
                aht_s: e.aht_s,
                threshold_s: f64::from(goal.threshold_s),
                target: goal.target,
            };
            out.push(Forecast {
                queue: Cow::Owned(e.queue),
                start_ms: start.0,
                interval_minutes: minutes,
                calls,
                aht_s: e.aht_s.round(),
                required_agents: Some(f64::from(demand.required_agents())),
                scheduled_agents: None,
                version: Some(Cow::Borrowed("simulator")),
            });
        }
        start = aggregator::time::IntervalStart(end);
    }
    out
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// A number in `[0, 1)` from `(seed, start, queue)`: splitmix64.
fn unit(seed: u64, start: i64, queue: usize) -> f64 {
    let mut z = seed
        ^ start.cast_unsigned().rotate_left(17)
        ^ (queue as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// The forecast as a CSV file of `events.md`, "Forecast files" (`start`
/// in RFC 3339 with the zone's offset).
#[must_use]
pub fn to_csv(forecasts: &[Forecast<'_>], clock: &IntervalClock) -> String {
    let mut s = String::from("queue,start,interval_minutes,calls,aht_s,required_agents,version\n");
    for f in forecasts {
        let agents = f.required_agents.map(|a| a.to_string()).unwrap_or_default();
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{}",
            f.queue,
            clock.local_rfc3339(f.start_ms),
            f.interval_minutes,
            f.calls,
            f.aht_s,
            agents,
            f.version.as_deref().unwrap_or_default()
        );
    }
    s
}

#[cfg(test)]
// Exact: the numbers compared are small binary fractions.
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;
    use crate::forecast_file::{parse, FileFormat, Tenant};
    use ingest::simulate::SimConfig;

    #[test]
    fn the_plan_follows_the_profile_with_noise_and_reads_back() {
        let cfg = SimConfig::default();
        let sim = Simulator::new(cfg.clone());
        let clock = IntervalClock::new(chrono_tz::UTC, 30);
        let span = (cfg.start_ms, cfg.start_ms + 8 * 3_600_000);
        let goal = Goal {
            threshold_s: 20,
            target: 0.8,
        };
        let plan = plan(&sim, &clock, span, goal, 1);
        assert_eq!(plan.len(), 16 * 4, "16 half hours × 4 queues");
        let expected: f64 = sim.expected(span.0, span.1).iter().map(|e| e.calls).sum();
        let planned: f64 = plan.iter().map(|f| f.calls).sum();
        assert!(
            (planned / expected - 1.0).abs() < NOISE,
            "{planned} vs {expected}"
        );
        assert!(plan.iter().any(|f| f.required_agents.unwrap() > 0.0));
        let csv = to_csv(&plan, &clock);
        let tenant = Tenant {
            tz: chrono_tz::UTC,
            interval_minutes: 30,
        };
        assert_eq!(
            parse(csv.as_bytes(), FileFormat::Csv, tenant).unwrap(),
            plan
        );
    }
}
