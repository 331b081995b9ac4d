//! Erlang A (`docs/metrics.md`, "Erlang A") against an independent,
//! brute-force solution of the same birth-and-death queue, an exact special
//! case, and the properties that tie it to Erlang C.

use aggregator::staffing::{Demand, Model};
use proptest::prelude::*;

fn demand(calls: f64, minutes: f64, aht_s: f64, threshold_s: f64) -> Demand {
    Demand {
        calls,
        interval_s: minutes * 60.0,
        aht_s,
        threshold_s,
        target: 0.8,
    }
}

/// M/M/n+M solved the long way: the stationary distribution of a
/// truncated birth-and-death chain, and the offered wait of an arriving
/// caller (PASTA) by uniformization of the chain of callers ahead of it.
struct Brute {
    p_wait: f64,
    p_abandon: f64,
    service_level: f64,
}

fn brute(n: usize, lambda: f64, mu: f64, theta: f64, t_s: f64) -> Brute {
    let states = n + 600;
    // The stationary distribution over the number of callers in the system.
    let mut pi = vec![1.0f64];
    for j in 1..states {
        let out = (j.min(n) as f64) * mu + (j.saturating_sub(n) as f64) * theta;
        pi.push(pi[j - 1] * lambda / out);
    }
    let total: f64 = pi.iter().sum();
    for x in &mut pi {
        *x /= total;
    }
    let p_wait: f64 = pi[n..].iter().sum();
    let queue: f64 = (n..states).map(|j| (j - n) as f64 * pi[j]).sum();
    // Callers ahead: k → k−1 at rate nμ + kθ; from 0, the caller is served.
    let ahead: Vec<f64> = pi[n..].to_vec();
    let rate = |k: usize| n as f64 * mu + k as f64 * theta;
    let top = rate(ahead.len());
    let (mut dist, lt) = (ahead.clone(), top * t_s);
    let mut weight = (-lt).exp();
    let mut still_waiting = weight * dist.iter().sum::<f64>();
    let mut steps = 0.0;
    while steps < lt + 40.0 * lt.sqrt() + 100.0 {
        steps += 1.0;
        let mut next: Vec<f64> = dist
            .iter()
            .enumerate()
            .map(|(k, x)| x * (1.0 - rate(k) / top))
            .collect();
        for k in 1..dist.len() {
            next[k - 1] += dist[k] * rate(k) / top;
        }
        dist = next;
        weight *= lt / steps;
        still_waiting += weight * dist.iter().sum::<f64>();
    }
    Brute {
        p_wait,
        p_abandon: theta * queue / lambda,
        service_level: 1.0 - still_waiting,
    }
}

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: {got} is not {want} ± {tol}"
    );
}

#[test]
fn agrees_with_the_birth_and_death_chain_solved_directly() {
    // 9.5 Erlangs (190 calls per hour, AHT 180 s), 20 s threshold.
    for (agents, patience) in [(8, 60.0), (10, 60.0), (10, 300.0), (12, 120.0), (14, 30.0)] {
        let d = demand(95.0, 30.0, 180.0, 20.0);
        let got = d.predict(
            Model::ErlangA {
                patience_s: patience,
            },
            agents,
        );
        let want = brute(
            agents as usize,
            95.0 / 1800.0,
            1.0 / 180.0,
            1.0 / patience,
            20.0,
        );
        let at = format!("{agents} agents, patience {patience} s");
        close(got.p_wait, want.p_wait, 1e-9, &at);
        close(got.p_abandon.unwrap(), want.p_abandon, 1e-9, &at);
        close(got.service_level, want.service_level, 1e-7, &at);
    }
}

/// With patience equal to the handle time every caller leaves at the same
/// rate, waiting or served: the number in the system is Poisson(A), as in
/// an M/M/∞ queue, so P(wait) = P(N ≥ n) and P(Ab) = E[(N − n)⁺] / A.
#[test]
fn patience_equal_to_aht_is_the_infinite_server_queue() {
    let d = demand(100.0, 30.0, 180.0, 20.0); // A = 10 Erlangs
    let a: f64 = 10.0;
    let poisson = |j: u32| (f64::from(j) * a.ln() - a - ln_factorial(j)).exp();
    for n in [5u32, 10, 13] {
        let p = d.predict(Model::ErlangA { patience_s: 180.0 }, n);
        let at_least: f64 = (n..200).map(poisson).sum();
        let excess: f64 = (n..200).map(|j| f64::from(j - n) * poisson(j)).sum();
        close(p.p_wait, at_least, 1e-12, "P(wait)");
        close(p.p_abandon.unwrap(), excess / a, 1e-12, "P(Ab)");
    }
}

/// ln(j!) = ln Γ(j + 1), summed term by term.
fn ln_factorial(j: u32) -> f64 {
    (1..=j).map(|k| f64::from(k).ln()).sum()
}

#[test]
fn a_thousand_agents_are_computed_without_overflow() {
    let d = Demand {
        calls: 1000.0 * 1800.0 / 180.0,
        ..demand(0.0, 30.0, 180.0, 20.0)
    };
    let c = d.required_agents();
    let a = d.required_agents_for(Model::ErlangA { patience_s: 120.0 });
    assert_eq!(c, 1011);
    // Callers who give up after 2 min on average keep the queue short
    // enough that fewer agents than Erlangs answer 80 % of the patient
    // ones within 20 s (the offered-wait service level).
    let model = Model::ErlangA { patience_s: 120.0 };
    assert_eq!(a, 878);
    assert!(d.predict(model, a - 1).service_level < 0.8);
    assert!(d.predict(model, a).service_level >= 0.8);
    for n in [900, 1000, 1011, 1100] {
        let p = d.predict(Model::ErlangA { patience_s: 120.0 }, n);
        for v in [p.p_wait, p.service_level, p.p_abandon.unwrap(), p.occupancy] {
            assert!(v.is_finite() && (0.0..=1.0).contains(&v), "{n}: {p:?}");
        }
        assert!(p.asa_s.unwrap().is_finite());
    }
}

#[test]
fn very_patient_callers_are_erlang_c() {
    let d = demand(360.0, 30.0, 240.0, 15.0); // 48 Erlangs
    for n in [50, 55, 60] {
        let c = d.with_agents(n);
        let a = d.predict(Model::ErlangA { patience_s: 1e9 }, n);
        close(a.p_wait, c.p_wait, 1e-4, "P(wait)");
        close(a.service_level, c.service_level, 1e-4, "SL");
        close(a.asa_s.unwrap(), c.asa_s.unwrap(), 1e-2, "ASA");
        assert!(a.p_abandon.unwrap() < 1e-5);
    }
    assert_eq!(
        d.required_agents_for(Model::ErlangA { patience_s: 1e9 }),
        55
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// For the same staffing, abandonment only shortens the queue: Erlang
    /// A's service level is at least Erlang C's, more so for impatient
    /// callers, and never needs more agents.
    #[test]
    fn erlang_a_is_never_worse_than_erlang_c(
        calls in 1.0f64..2000.0,
        aht in 30.0f64..900.0,
        threshold in 0.0f64..120.0,
        patience in 5.0f64..3600.0,
        extra in 0u32..20,
    ) {
        let d = demand(calls, 30.0, aht, threshold);
        // The fewest agents above the traffic in Erlangs, then `extra` more.
        let fewest = (1..=u32::MAX).find(|&k| f64::from(k) > d.traffic()).unwrap();
        let n = fewest + extra;
        let c = d.with_agents(n);
        let a = d.predict(Model::ErlangA { patience_s: patience }, n);
        let less_patient = d.predict(Model::ErlangA { patience_s: patience / 2.0 }, n);
        prop_assert!(a.service_level >= c.service_level - 1e-9, "{a:?} vs {c:?}");
        prop_assert!(less_patient.service_level >= a.service_level - 1e-9);
        prop_assert!(a.p_wait <= c.p_wait + 1e-9);
        let required = d.required_agents_for(Model::ErlangA { patience_s: patience });
        prop_assert!(required <= d.required_agents());
        let at_required = d.predict(Model::ErlangA { patience_s: patience }, required);
        prop_assert!(at_required.service_level >= d.target);
    }
}
