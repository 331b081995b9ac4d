//! Staffing from Erlang C or Erlang A (`docs/metrics.md`, "Staffing (Erlang
//! C)" and "Erlang A"): the probability of waiting, service level, ASA,
//! occupancy and trunk load for a number of agents, and the fewest agents
//! that reach a service-level target. Pure arithmetic on `f64`, stable for
//! thousands of agents: the Erlang B recursion replaces the factorials of
//! the textbook formula.

use serde::Serialize;

use crate::erlang_a::Palm;

/// The queueing model a prediction is made with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Model {
    /// Callers wait until answered (M/M/n).
    ErlangC,
    /// Callers hang up after an exponential patience of this mean, seconds
    /// (M/M/n+M).
    ErlangA {
        /// Mean patience in seconds.
        patience_s: f64,
    },
}

/// Offered traffic and the service-level goal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Demand {
    /// Calls expected in the interval.
    pub calls: f64,
    /// Length of the interval, seconds.
    pub interval_s: f64,
    /// Average handle time, seconds.
    pub aht_s: f64,
    /// Service-level threshold T, seconds.
    pub threshold_s: f64,
    /// Service-level goal, a fraction 0..1 (e.g. 0.8).
    pub target: f64,
}

/// What Erlang C predicts for one number of agents.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Prediction {
    /// Number of agents the prediction is for.
    pub agents: u32,
    /// Probability that a call waits at all.
    pub p_wait: f64,
    /// Share of calls answered within the threshold.
    pub service_level: f64,
    /// Average speed of answer over all calls, seconds (`None`: the queue
    /// grows without bound, agents ≤ traffic).
    pub asa_s: Option<f64>,
    /// Traffic / agents, at most 1.
    pub occupancy: f64,
    /// Calls in service plus calls waiting, Erlangs (`None`: unbounded).
    pub trunk_erlangs: Option<f64>,
    /// Erlang A only: the share of callers who hang up before an answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_abandon: Option<f64>,
}

impl Demand {
    /// Offered traffic A = calls × AHT / interval, in Erlangs.
    #[must_use]
    pub fn traffic(&self) -> f64 {
        if self.interval_s <= 0.0 {
            return 0.0;
        }
        self.calls * self.aht_s / self.interval_s
    }

    /// Erlang C's prediction with `agents` agents.
    #[must_use]
    pub fn with_agents(&self, agents: u32) -> Prediction {
        let a = self.traffic();
        let n = f64::from(agents);
        if n <= a || agents == 0 {
            return Prediction {
                agents,
                p_wait: if a > 0.0 { 1.0 } else { 0.0 },
                service_level: if a > 0.0 { 0.0 } else { 1.0 },
                asa_s: (a <= 0.0).then_some(0.0),
                occupancy: if a > 0.0 { 1.0 } else { 0.0 },
                trunk_erlangs: (a <= 0.0).then_some(0.0),
                p_abandon: None,
            };
        }
        let c = erlang_c(agents, a);
        let spare = n - a;
        let service_level = if self.aht_s > 0.0 {
            1.0 - c * (-spare * self.threshold_s / self.aht_s).exp()
        } else {
            1.0
        };
        Prediction {
            agents,
            p_wait: c,
            service_level: service_level.clamp(0.0, 1.0),
            asa_s: Some(c * self.aht_s / spare),
            occupancy: a / n,
            trunk_erlangs: Some(a + c * a / spare),
            p_abandon: None,
        }
    }

    /// The prediction of `model` with `agents` agents.
    #[must_use]
    pub fn predict(&self, model: Model, agents: u32) -> Prediction {
        match model {
            Model::ErlangC => self.with_agents(agents),
            Model::ErlangA { patience_s } => self.erlang_a(patience_s, agents),
        }
    }

    /// Erlang A with callers of mean patience `patience_s`.
    fn erlang_a(&self, patience_s: f64, agents: u32) -> Prediction {
        let a = self.traffic();
        if a <= 0.0 || self.aht_s <= 0.0 || patience_s <= 0.0 {
            return Prediction {
                p_abandon: Some(0.0),
                ..self.with_agents(agents)
            };
        }
        let palm = Palm {
            lambda: a / self.aht_s,
            mu: 1.0 / self.aht_s,
            theta: 1.0 / patience_s,
        };
        let p = palm.predict(agents, self.threshold_s);
        // Abandoned calls are not handled: only the rest loads the agents.
        let carried = a * (1.0 - p.p_abandon);
        Prediction {
            agents,
            p_wait: p.p_wait,
            service_level: p.service_level,
            asa_s: p.asa_s,
            occupancy: if agents == 0 {
                0.0
            } else {
                (carried / f64::from(agents)).min(1.0)
            },
            trunk_erlangs: Some(carried + p.queue_len),
            p_abandon: Some(p.p_abandon),
        }
    }

    /// The fewest agents whose predicted service level under `model`
    /// reaches the target.
    #[must_use]
    pub fn required_agents_for(&self, model: Model) -> u32 {
        let Model::ErlangA { .. } = model else {
            return self.required_agents();
        };
        // Erlang A's service level is never below Erlang C's, and grows
        // with the agents: bisect below Erlang C's answer.
        let (mut lo, mut hi) = (0, self.required_agents());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.predict(model, mid).service_level >= self.target {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        hi
    }

    /// The fewest agents whose predicted service level reaches the target.
    #[must_use]
    pub fn required_agents(&self) -> u32 {
        let a = self.traffic();
        if a <= 0.0 {
            return 0;
        }
        // Erlang C needs more agents than Erlangs; start just above.
        let mut n = saturating_u32(a.floor()).saturating_add(1);
        // The square-root staffing rule bounds the search: far fewer steps
        // than this are ever needed for a target below 1.
        let limit = n.saturating_add(saturating_u32(10.0 * a.sqrt()) + 100);
        while n < limit && self.with_agents(n).service_level < self.target {
            n += 1;
        }
        n
    }
}

/// Agents to schedule so that `agents` are on the phones when a share
/// `shrinkage` (0..1) of paid time is lost to breaks, training, absence.
#[must_use]
pub fn with_shrinkage(agents: u32, shrinkage: f64) -> u32 {
    if !(0.0..1.0).contains(&shrinkage) {
        return agents;
    }
    saturating_u32((f64::from(agents) / (1.0 - shrinkage)).ceil())
}

/// `x` without its fraction as a `u32`: 0 below 0 (and for NaN),
/// `u32::MAX` above it.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn saturating_u32(x: f64) -> u32 {
    // Clamped to 0..=u32::MAX here (a NaN stays NaN, and casts to 0): the
    // cast only drops the fraction.
    x.clamp(0.0, f64::from(u32::MAX)) as u32
}

/// Erlang C: the probability that a call waits, with `n` agents and `a`
/// Erlangs of traffic (`n > a`), from Erlang B's recursion
/// `B(k) = a·B(k−1) / (k + a·B(k−1))` and `C = n·B / (n − a·(1 − B))`.
#[must_use]
pub fn erlang_c(n: u32, a: f64) -> f64 {
    if a <= 0.0 {
        return 0.0;
    }
    if f64::from(n) <= a {
        return 1.0;
    }
    let mut b = 1.0;
    for k in 1..=n {
        b = a * b / (f64::from(k) + a * b);
    }
    let n = f64::from(n);
    n * b / (n - a * (1.0 - b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demand(calls: f64, minutes: f64, aht_s: f64, threshold_s: f64) -> Demand {
        Demand {
            calls,
            interval_s: minutes * 60.0,
            aht_s,
            threshold_s,
            target: 0.8,
        }
    }

    fn close(got: f64, want: f64, tol: f64) {
        assert!((got - want).abs() <= tol, "{got} is not {want} ± {tol}");
    }

    /// The worked example published with the Erlang C formula by Westbay
    /// Engineers: 360 calls per half hour, 4 minutes each, 55 agents,
    /// 15 s: 48 Erlangs, occupancy 87.3 %, P(wait) 23.87 %, ASA 8.18 s,
    /// service level 84.6 %.
    #[test]
    fn the_published_worked_example() {
        let d = demand(360.0, 30.0, 240.0, 15.0);
        close(d.traffic(), 48.0, 1e-12);
        let p = d.with_agents(55);
        close(p.occupancy, 0.8727, 1e-4);
        close(p.p_wait, 0.2387, 1e-4);
        close(p.asa_s.unwrap(), 8.18, 5e-3);
        close(p.service_level, 0.846, 5e-4);
    }

    /// Values from an exact evaluation of the textbook formula (rational
    /// arithmetic, factorials and all) for 10 Erlangs.
    #[test]
    fn agrees_with_the_factorial_formula() {
        let d = demand(100.0, 30.0, 180.0, 20.0);
        close(erlang_c(11, 10.0), 0.682_118_204_689_332_4, 1e-12);
        close(erlang_c(13, 10.0), 0.285_270_453_036_492_95, 1e-12);
        close(
            d.with_agents(13).service_level,
            0.795_594_788_417_783_1,
            1e-12,
        );
        assert_eq!(d.required_agents(), 14);
    }

    /// A thousand Erlangs: no factorial overflow, and the answer of a
    /// 60-digit decimal evaluation (1011 agents, SL 81.38 %, ASA 10.34 s).
    #[test]
    fn large_centres_are_computed_without_overflow() {
        let d = Demand {
            calls: 1000.0 * 1800.0 / 180.0,
            ..demand(0.0, 30.0, 180.0, 20.0)
        };
        close(d.traffic(), 1000.0, 1e-9);
        assert_eq!(d.required_agents(), 1011);
        let p = d.with_agents(1011);
        close(p.p_wait, 0.632_109_174_689_952_5, 1e-9);
        close(p.service_level, 0.813_796_548_392_463_6, 1e-9);
        close(p.asa_s.unwrap(), 10.343_604_676_744_677, 1e-7);
    }

    #[test]
    fn too_few_agents_and_no_traffic_are_answered_plainly() {
        let d = demand(100.0, 30.0, 180.0, 20.0);
        let p = d.with_agents(10);
        assert_eq!((p.p_wait, p.service_level, p.asa_s), (1.0, 0.0, None));
        let idle = demand(0.0, 30.0, 180.0, 20.0);
        assert_eq!(idle.required_agents(), 0);
        close(idle.with_agents(3).service_level, 1.0, 0.0);
        assert_eq!(with_shrinkage(14, 0.3), 20);
        assert_eq!(with_shrinkage(14, 0.0), 14);
    }
}
