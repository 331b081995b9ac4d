//! Random sampling shared by the models: weighted choice, clamped
//! log-normal spreads, and the checked conversion of sampled times.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// A clamped log-normal duration in ms: the usual shape of talk and wrap-up
/// times (a long right tail, never negative).
#[derive(Debug, Clone, Copy)]
pub(super) struct Spread {
    pub(super) median_ms: f64,
    pub(super) sigma: f64,
    pub(super) min_ms: i64,
    pub(super) max_ms: i64,
}

impl Spread {
    pub(super) const fn new(median_ms: f64, sigma: f64, min_ms: i64, max_ms: i64) -> Self {
        Spread {
            median_ms,
            sigma,
            min_ms,
            max_ms,
        }
    }

    pub(super) fn sample(&self, rng: &mut ChaCha8Rng) -> i64 {
        let z: f64 = rng.sample(StandardNormal);
        saturating_ms(self.median_ms * (self.sigma * z).exp()).clamp(self.min_ms, self.max_ms)
    }

    /// Mean of the unclamped distribution.
    pub(super) fn mean(&self) -> f64 {
        self.median_ms * (self.sigma * self.sigma / 2.0).exp()
    }
}

/// Index drawn with probability proportional to its weight (weights ≥ 0,
/// not all 0).
pub(super) fn pick_weighted(
    rng: &mut ChaCha8Rng,
    weights: impl Iterator<Item = f64> + Clone,
) -> usize {
    let total: f64 = weights.clone().sum();
    let mut target = rng.gen::<f64>() * total;
    let mut last_positive = 0;
    for (i, w) in weights.enumerate() {
        if w > 0.0 {
            if target < w {
                return i;
            }
            target -= w;
            last_positive = i;
        }
    }
    // Only reached through rounding at the very top of the range.
    last_positive
}

/// `ms` as whole milliseconds, toward zero, saturating at the bounds of
/// `i64` (NaN gives 0): the simulator's times and durations are computed in
/// `f64` from sampled rates and spreads, and every caller either clamps the
/// result or holds a value within the simulated period.
#[allow(
    clippy::cast_possible_truncation,
    reason = "`as` from f64 saturates, which is the behaviour wanted"
)]
pub(super) fn saturating_ms(ms: f64) -> i64 {
    ms as i64
}

/// Why a sampled duration fits both `u64` and `i64`: a [`Spread`] sample
/// lies within its (positive) bounds, hold within talk.
pub(super) const SAMPLED: &str = "sampled durations are within 0..=45 min";
