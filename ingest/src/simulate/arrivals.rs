//! The arrival process: callers as a piecewise Poisson process whose rate
//! follows the planned staffing, tilted towards the demand curve.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::Exp1;
use wallboard_events::event::TimestampMs;

use super::agents::{Activity, Agent};
use super::calls::{ACW, P_ACW, RING};
use super::period::{demand_at_hour, Period};
use super::queues::QueueProfile;
use super::sample::saturating_ms;
use super::{HOUR, MINUTE};

/// Occupancy the arrival rate is sized for at `load` 1, over the whole period.
/// A little above the 70–85 % target: abandons and ring-no-answers eat some.
const TARGET_OCCUPANCY: f64 = 0.82;
/// How far arrivals lean from the staffing plan (0) towards the demand curve
/// (1). In between, staffing keeps occupancy sane while the curve still makes
/// peaks busier than troughs, as real plans never fit demand exactly.
const DEMAND_TILT: f64 = 0.5;
/// Arrival rates are constant over steps this long (piecewise Poisson).
const RATE_STEP_MS: i64 = 5 * MINUTE;

/// The arrival process: Poisson with a rate constant over [`RATE_STEP_MS`]
/// steps, proportional to the agents planned on `work` and tilted by demand.
pub(super) struct Arrivals {
    pub(super) start: TimestampMs,
    pub(super) end: TimestampMs,
    /// Agents planned on `work` from each time on, sorted by time.
    pub(super) planned: Vec<(TimestampMs, u32)>,
    pub(super) first_hour: f64,
    /// Calls per ms per planned agent, demand tilt included except its level.
    pub(super) rate_per_agent: f64,
    /// Divides the tilt so that it averages 1 over planned agent time.
    pub(super) tilt_norm: f64,
    /// Time of the last arrival, unrounded.
    pub(super) clock: f64,
}

impl Arrivals {
    pub(super) fn new(
        period: &Period,
        agents: &[Agent],
        queues: &[QueueProfile],
        load: f64,
    ) -> Self {
        let planned = planned_staffing(agents);
        let handle_ms = mean_handle_ms(queues);
        let rate_per_agent = if load.is_finite() && load > 0.0 {
            load * TARGET_OCCUPANCY / handle_ms
        } else {
            0.0
        };
        let mut arrivals = Arrivals {
            start: period.start,
            end: period.end,
            planned,
            first_hour: period.first_hour,
            rate_per_agent,
            tilt_norm: 1.0,
            clock: period.start as f64,
        };
        arrivals.tilt_norm = arrivals.mean_tilt();
        arrivals
    }

    /// The tilt averaged over planned agent time (1 when nobody works).
    fn mean_tilt(&self) -> f64 {
        let (mut agents, mut tilted) = (0.0, 0.0);
        let mut t = self.start;
        while t < self.end {
            let n = f64::from(self.planned_at(t + RATE_STEP_MS / 2));
            agents += n;
            tilted += n * self.tilt(t + RATE_STEP_MS / 2);
            t += RATE_STEP_MS;
        }
        if tilted > 0.0 {
            tilted / agents
        } else {
            1.0
        }
    }

    fn tilt(&self, t: TimestampMs) -> f64 {
        let hour = self.first_hour + (t - self.start) as f64 / HOUR as f64;
        demand_at_hour(hour.rem_euclid(24.0)).powf(DEMAND_TILT)
    }

    fn planned_at(&self, t: TimestampMs) -> u32 {
        match self.planned.partition_point(|&(at, _)| at <= t) {
            0 => 0,
            i => self.planned[i - 1].1,
        }
    }

    /// Calls per ms during the step that contains `t`.
    pub(super) fn rate(&self, step_middle: TimestampMs) -> f64 {
        let agents = f64::from(self.planned_at(step_middle));
        self.rate_per_agent * agents * self.tilt(step_middle) / self.tilt_norm
    }

    /// The next arrival time, or None when the period is over. Within a step
    /// the gap is exponential; a gap that crosses the step's end is redrawn
    /// from there, which is exact since the process is memoryless.
    pub(super) fn next(&mut self, rng: &mut ChaCha8Rng) -> Option<TimestampMs> {
        let mut t = self.clock;
        loop {
            // Compared as a time, not a step: the last step may be cut short.
            if t >= self.end as f64 {
                return None;
            }
            let step = saturating_ms(((t - self.start as f64) / RATE_STEP_MS as f64).floor());
            let step_start = self.start + step * RATE_STEP_MS;
            let step_end = (step_start + RATE_STEP_MS).min(self.end) as f64;
            let rate = self.rate(step_start + RATE_STEP_MS / 2);
            if rate > 0.0 {
                let arrival = t + rng.sample::<f64, _>(Exp1) / rate;
                if arrival < step_end {
                    self.clock = arrival;
                    return Some(saturating_ms(arrival.floor()));
                }
            }
            t = step_end;
        }
    }
}

/// Agents scheduled on `work` as a step function: (from, count) at every
/// change.
fn planned_staffing(agents: &[Agent]) -> Vec<(TimestampMs, u32)> {
    let mut changes: Vec<(TimestampMs, i32)> = agents
        .iter()
        .filter_map(|a| a.shift.as_ref())
        .flat_map(|s| s.segments.iter())
        .filter(|s| s.activity == Activity::Work)
        .flat_map(|s| [(s.start, 1), (s.end, -1)])
        .collect();
    changes.sort_unstable();
    let mut count: i32 = 0;
    let mut steps: Vec<(TimestampMs, u32)> = Vec::new();
    for (at, delta) in changes {
        count += delta;
        let value = u32::try_from(count).unwrap_or(0);
        match steps.last_mut() {
            Some(last) if last.0 == at => last.1 = value,
            _ => steps.push((at, value)),
        }
    }
    steps
}

/// Mean time an agent spends per call (ring, talk, after-call work),
/// weighted by queue share.
fn mean_handle_ms(queues: &[QueueProfile]) -> f64 {
    let total: f64 = queues.iter().map(|q| q.share).sum();
    queues
        .iter()
        .map(|q| q.share * (RING.mean() + q.talk.mean() + P_ACW * ACW.mean()))
        .sum::<f64>()
        / total
}
