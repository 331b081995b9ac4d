//! Erlang A (Palm's M/M/n+M queue, `docs/metrics.md`, "Erlang A"): Erlang C
//! with callers who hang up after an exponentially distributed patience.
//! Closed forms after Garnett, Mandelbaum & Reiman (2002) and Mandelbaum &
//! Zeltyn (2007), evaluated in logarithms so that thousands of agents and
//! very patient callers neither overflow nor lose the answer.

/// Traffic and patience of one Erlang A evaluation, in rates per second.
#[derive(Debug, Clone, Copy)]
pub struct Palm {
    /// Arrival rate λ.
    pub lambda: f64,
    /// Service rate μ = 1 / AHT.
    pub mu: f64,
    /// Abandonment rate θ = 1 / mean patience.
    pub theta: f64,
}

/// What Erlang A predicts for `n` agents.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PalmPrediction {
    /// P(W > 0): a caller finds every agent busy.
    pub p_wait: f64,
    /// P(Ab): a caller hangs up before an agent takes the call.
    pub p_abandon: f64,
    /// P(V ≤ T): the caller's offered wait is within the threshold.
    pub service_level: f64,
    /// Mean wait of the answered callers, seconds (`None` with no agents).
    pub asa_s: Option<f64>,
    /// Mean number of callers waiting, E(Q).
    pub queue_len: f64,
}

/// How far (in standard deviations of the terms) the sums of
/// [`ln_a`] reach on either side of their largest term: e^(−72) of it.
const SPREAD: f64 = 12.0;

impl Palm {
    /// Erlang A with `n` agents and service-level threshold `t_s`.
    #[must_use]
    pub fn predict(&self, n: u32, t_s: f64) -> PalmPrediction {
        let (lambda, mu, theta) = (self.lambda, self.mu, self.theta);
        if lambda <= 0.0 {
            return PalmPrediction {
                p_wait: 0.0,
                p_abandon: 0.0,
                service_level: 1.0,
                asa_s: Some(0.0),
                queue_len: 0.0,
            };
        }
        if n == 0 {
            // Nobody answers: every caller waits until hanging up.
            return PalmPrediction {
                p_wait: 1.0,
                p_abandon: 1.0,
                service_level: 0.0,
                asa_s: None,
                queue_len: lambda / theta,
            };
        }
        let nf = f64::from(n);
        let (x, y) = (nf * mu / theta, lambda / theta);
        let ln_big_a = ln_a(x, y);
        let p_wait = p_wait(n, lambda / mu, ln_big_a);
        let rho = y / x;
        // P(Ab | W > 0) = 1/(ρ·A) + 1 − 1/ρ (GMR 2002).
        let p_ab_if_wait = (1.0 / (rho * ln_big_a.exp()) + 1.0 - 1.0 / rho).clamp(0.0, 1.0);
        let p_abandon = p_wait * p_ab_if_wait;
        // P(V > T | W > 0) = A(x, y·e^(−θT)) / A(x, y) · exp(y·(1 − e^(−θT)) − nμT).
        let decay = (-theta * t_s).exp();
        let ln_tail = ln_a(x, y * decay) - ln_big_a - y * (-theta * t_s).exp_m1() - nf * mu * t_s;
        let service_level = (1.0 - p_wait * ln_tail.exp().min(1.0)).clamp(0.0, 1.0);
        let served = 1.0 - p_abandon;
        let asa_s = (served > 0.0).then(|| p_wait * served_wait(x, y, theta, ln_big_a) / served);
        PalmPrediction {
            p_wait,
            p_abandon,
            service_level,
            asa_s,
            queue_len: lambda * p_abandon / theta,
        }
    }
}

/// P(W > 0) = A·E / (1 + (A − 1)·E), with `E` Erlang B of `n` agents and
/// `a` Erlangs; written as 1 / (1 + (1 − E) / (A·E)) so that a huge `A`
/// stays finite.
fn p_wait(n: u32, a: f64, ln_big_a: f64) -> f64 {
    let e = erlang_b(n, a);
    if e <= 0.0 {
        return 0.0;
    }
    1.0 / (1.0 + ((1.0 - e).ln() - e.ln() - ln_big_a).exp())
}

/// Erlang B by its recursion `B(k) = a·B(k−1) / (k + a·B(k−1))`.
#[must_use]
pub fn erlang_b(n: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=n {
        b = a * b / (f64::from(k) + a * b);
    }
    b
}

/// The terms `ln cₖ = Σᵢ₌₁..ₖ ln(y / (x + i))` of `A(x, y) = Σₖ cₖ`, from
/// the first one that matters to the last, with the first found through
/// `ln Γ`. The terms grow while `x + k ≤ y` and fall off like a normal
/// density of variance about `max(x, y)` around that peak.
fn terms(x: f64, y: f64) -> impl Iterator<Item = (f64, f64)> {
    let peak = (y - x).floor().max(0.0);
    let reach = (SPREAD * x.max(y).max(1.0).sqrt()).ceil() + 30.0;
    let first = (peak - reach).max(0.0);
    let ln_first = first * y.ln() - (libm::lgamma(x + first + 1.0) - libm::lgamma(x + 1.0));
    let last = peak + reach;
    let mut k = first;
    let mut ln_c = ln_first;
    std::iter::from_fn(move || {
        if k > last {
            return None;
        }
        let item = (k, ln_c);
        k += 1.0;
        ln_c += (y / (x + k)).ln();
        Some(item)
    })
}

/// `ln A(x, y)`, `A(x, y) = Σₖ≥₀ yᵏ / ((x+1)(x+2)…(x+k))` (GMR's A).
pub fn ln_a(x: f64, y: f64) -> f64 {
    if y <= 0.0 {
        return 0.0;
    }
    let max = terms(x, y).map(|t| t.1).fold(f64::MIN, f64::max);
    let sum: f64 = terms(x, y).map(|(_, l)| (l - max).exp()).sum();
    max + sum.ln()
}

/// E(V·e^(−θV) | W > 0): the waits of those served, weighted as they are
/// served. A caller with `k` ahead is served with probability
/// `x / (x + k + 1)` and then waited `Σᵢ₌₁..ₖ₊₁ 1 / (θ(x + i))` on average.
fn served_wait(x: f64, y: f64, theta: f64, ln_big_a: f64) -> f64 {
    let mut sum = 0.0;
    let mut harmonic = None;
    for (k, ln_c) in terms(x, y) {
        // Σᵢ₌₁..ₖ₊₁ 1/(x+i) = ψ(x+k+2) − ψ(x+1), then one term per step.
        let h = match harmonic {
            None => digamma(x + k + 2.0) - digamma(x + 1.0),
            Some(h) => h + 1.0 / (x + k + 1.0),
        };
        harmonic = Some(h);
        sum += (ln_c - ln_big_a).exp() * x / (theta * (x + k + 1.0)) * h;
    }
    sum
}

/// The digamma function ψ, by recurrence up to 10 and its asymptotic series.
fn digamma(mut z: f64) -> f64 {
    let mut shift = 0.0;
    while z < 10.0 {
        shift -= 1.0 / z;
        z += 1.0;
    }
    let z2 = 1.0 / (z * z);
    let series =
        1.0 / 12.0 - z2 * (1.0 / 120.0 - z2 * (1.0 / 252.0 - z2 * (1.0 / 240.0 - z2 / 132.0)));
    shift + z.ln() - 0.5 / z - z2 * series
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digamma_matches_known_values() {
        // ψ(1) = −γ, ψ(1/2) = −γ − 2 ln 2.
        let gamma = 0.577_215_664_901_532_9;
        assert!((digamma(1.0) + gamma).abs() < 1e-12);
        assert!((digamma(0.5) + gamma + 2.0 * 2f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn ln_a_is_the_series_summed_directly() {
        for (x, y) in [(5.0, 3.0), (12.0, 40.0), (0.5, 2.0), (100.0, 100.0)] {
            let mut direct = 0.0;
            let mut c = 1.0;
            for k in 0..2000 {
                if k > 0 {
                    c *= y / (x + f64::from(k));
                }
                direct += c;
            }
            let got = ln_a(x, y);
            assert!((got - f64::ln(direct)).abs() < 1e-10, "{x} {y}: {got}");
        }
    }
}
