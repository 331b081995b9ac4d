//! Forecasts (`events.md`, "Forecasts"): the newest plan per queue and
//! interval a tenant holds, bounded, and the comparison of the plan with
//! what happened (`metrics.md`, "Forecast vs actual"). Pure: the caller
//! passes the interval clock and the start of the history kept.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use wallboard_events::{DeadLetterCode, Forecast, TimestampMs};

use crate::time::IntervalClock;

/// The most (queue, interval) forecasts a tenant holds.
pub const MAX_FORECASTS: usize = 100_000;

/// The codes a refused forecast is dead-lettered with.
pub const REJECTION_CODES: &[DeadLetterCode] = &[
    DeadLetterCode::ForecastMisaligned,
    DeadLetterCode::ForecastTooOld,
    DeadLetterCode::ForecastsFull,
];

/// One held forecast: the plan of a queue for one interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntervalForecast {
    /// The `ts` of the event that published it (newest wins).
    pub published_ms: TimestampMs,
    /// Calls forecast to be offered (`F`).
    pub calls: f64,
    /// Forecast AHT, seconds (`H`).
    pub aht_s: f64,
    /// Agents the plan says the interval needs.
    pub required_agents: Option<f64>,
    /// Agents scheduled for the queue.
    pub scheduled_agents: Option<f64>,
    /// The plan's name or revision.
    pub version: Option<Box<str>>,
}

impl IntervalForecast {
    /// The planned agents `P`: scheduled, else required.
    #[must_use]
    pub fn agents(&self) -> Option<f64> {
        self.scheduled_agents.or(self.required_agents)
    }
}

/// What applying one `forecast` event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForecastOutcome {
    /// A forecast for a (queue, interval) that had none.
    Stored,
    /// The held forecast of its (queue, interval) was replaced.
    Replaced,
    /// Older than the held one: ignored, counted.
    Superseded,
    /// Off the tenant's interval grid (`forecast_misaligned`).
    Misaligned,
    /// For an interval before the history kept (`forecast_too_old`).
    TooOld,
    /// A new (queue, interval) while [`MAX_FORECASTS`] are held (`forecasts_full`).
    Full,
}

impl ForecastOutcome {
    /// The dead-letter code of a refused forecast; `None` when it was taken.
    #[must_use]
    pub fn dead_letter(self) -> Option<DeadLetterCode> {
        match self {
            Self::Stored | Self::Replaced | Self::Superseded => None,
            Self::Misaligned => Some(DeadLetterCode::ForecastMisaligned),
            Self::TooOld => Some(DeadLetterCode::ForecastTooOld),
            Self::Full => Some(DeadLetterCode::ForecastsFull),
        }
    }
}

/// A tenant's forecasts by queue name, then interval start.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ForecastBook {
    queues: BTreeMap<Box<str>, BTreeMap<TimestampMs, IntervalForecast>>,
    len: usize,
    /// Forecasts ignored for being older than the one held.
    superseded: u64,
}

/// Where a tenant's interval grid and history stand.
#[derive(Debug, Clone, Copy)]
pub struct Grid<'c> {
    /// The tenant's interval clock (zone and length).
    pub clock: &'c IntervalClock,
    /// The start of the history kept, Unix ms.
    pub keep_from: TimestampMs,
}

impl ForecastBook {
    /// Applies one `forecast` event published at `ts`.
    pub fn apply(&mut self, f: &Forecast<'_>, ts: TimestampMs, grid: Grid<'_>) -> ForecastOutcome {
        let len_ms = i64::from(f.interval_minutes) * 60_000;
        if len_ms != grid.clock.len_ms() || grid.clock.interval_of(f.start_ms).0 != f.start_ms {
            return ForecastOutcome::Misaligned;
        }
        if f.start_ms.saturating_add(len_ms) <= grid.keep_from {
            return ForecastOutcome::TooOld;
        }
        self.prune(grid.keep_from, len_ms);
        let held = self.queues.get(&*f.queue).and_then(|q| q.get(&f.start_ms));
        match held {
            Some(h) if ts < h.published_ms => {
                self.superseded += 1;
                return ForecastOutcome::Superseded;
            }
            None if self.len >= MAX_FORECASTS => return ForecastOutcome::Full,
            _ => {}
        }
        let new = IntervalForecast {
            published_ms: ts,
            calls: f.calls,
            aht_s: f.aht_s,
            required_agents: f.required_agents,
            scheduled_agents: f.scheduled_agents,
            version: f.version.as_deref().map(Box::from),
        };
        let queue = self.queues.entry_ref_or_insert(&f.queue);
        if queue.insert(f.start_ms, new).is_some() {
            ForecastOutcome::Replaced
        } else {
            self.len += 1;
            ForecastOutcome::Stored
        }
    }

    /// Drops the forecasts of intervals that ended before `keep_from`.
    fn prune(&mut self, keep_from: TimestampMs, len_ms: i64) {
        let first_kept = keep_from.saturating_sub(len_ms).saturating_add(1);
        let mut dropped = 0;
        self.queues.retain(|_, q| {
            let kept = q.split_off(&first_kept);
            dropped += q.len();
            *q = kept;
            !q.is_empty()
        });
        self.len -= dropped;
    }

    /// The forecast of `queue` for the interval starting at `start`.
    #[must_use]
    pub fn get(&self, queue: &str, start: TimestampMs) -> Option<&IntervalForecast> {
        self.queues.get(queue)?.get(&start)
    }

    /// Every queue's forecast for the interval starting at `start`.
    pub fn at(&self, start: TimestampMs) -> impl Iterator<Item = &IntervalForecast> + '_ {
        self.queues.values().filter_map(move |q| q.get(&start))
    }

    /// `queue`'s forecasts (`*`: every queue's summed) of the intervals
    /// starting in `[from, to)`, oldest first.
    #[must_use]
    pub fn range(
        &self,
        queue: &str,
        from: TimestampMs,
        to: TimestampMs,
    ) -> Vec<(TimestampMs, Plan)> {
        let mut out: BTreeMap<TimestampMs, Plan> = BTreeMap::new();
        let picked: Vec<&BTreeMap<_, _>> = if queue == "*" {
            self.queues.values().collect()
        } else {
            self.queues.get(queue).into_iter().collect()
        };
        for q in picked {
            for (&start, f) in q.range(from..to) {
                out.entry(start).or_default().add(f);
            }
        }
        out.into_iter().collect()
    }

    /// The plan of `queue` (`*`: the tenant) for the interval at `start`.
    #[must_use]
    pub fn plan(&self, queue: &str, start: TimestampMs) -> Option<Plan> {
        if queue == "*" {
            let mut plan: Option<Plan> = None;
            for f in self.at(start) {
                plan.get_or_insert_with(Plan::default).add(f);
            }
            plan
        } else {
            self.get(queue, start).map(|f| {
                let mut p = Plan::default();
                p.add(f);
                p
            })
        }
    }

    /// Every held forecast: queue, interval start, forecast.
    pub fn iter(&self) -> impl Iterator<Item = (&str, TimestampMs, &IntervalForecast)> + '_ {
        self.queues
            .iter()
            .flat_map(|(q, m)| m.iter().map(move |(s, f)| (&**q, *s, f)))
    }

    /// The names of the queues with forecasts, in byte order.
    pub fn queue_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.queues.keys().map(|q| &**q)
    }

    /// Whether no forecast is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forecasts held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Forecasts ignored so far for being older than the one held.
    #[must_use]
    pub fn superseded(&self) -> u64 {
        self.superseded
    }
}

/// `BTreeMap::entry` with a borrowed key that allocates only when missing.
trait EntryRef {
    fn entry_ref_or_insert(&mut self, key: &str) -> &mut BTreeMap<TimestampMs, IntervalForecast>;
}

impl EntryRef for BTreeMap<Box<str>, BTreeMap<TimestampMs, IntervalForecast>> {
    fn entry_ref_or_insert(&mut self, key: &str) -> &mut BTreeMap<TimestampMs, IntervalForecast> {
        if !self.contains_key(key) {
            self.insert(key.into(), BTreeMap::new());
        }
        self.get_mut(key).expect("inserted above")
    }
}

/// One interval's plan, of a queue or summed over queues: `ΣF`, `Σ(F·H)`
/// and `ΣP` (`metrics.md`, "Forecast vs actual").
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Plan {
    /// `ΣF`.
    pub calls: f64,
    /// `Σ(F·H)`, for the calls-weighted AHT; with one queue `H` is kept
    /// as given (`aht_single`), so a forecast of 0 calls keeps its AHT.
    pub call_seconds: f64,
    /// `H` when the plan is one queue's.
    aht_single: Option<f64>,
    /// Forecasts summed.
    parts: u32,
    /// `ΣP` over the forecasts that have one.
    pub agents: Option<f64>,
}

impl Plan {
    /// Adds one queue's forecast.
    pub fn add(&mut self, f: &IntervalForecast) {
        self.calls += f.calls;
        self.call_seconds += f.calls * f.aht_s;
        self.aht_single = (self.parts == 0).then_some(f.aht_s);
        self.parts += 1;
        if let Some(p) = f.agents() {
            *self.agents.get_or_insert(0.0) += p;
        }
    }

    /// `H`; for several queues `Σ(F·H) / ΣF` (`None` when `ΣF = 0`).
    #[must_use]
    pub fn aht_s(&self) -> Option<f64> {
        match self.aht_single {
            Some(h) if self.parts == 1 => Some(h),
            _ => (self.calls > 0.0).then(|| self.call_seconds / self.calls),
        }
    }
}

/// `(actual − planned) / planned × 100`; `None` when `planned` is 0.
#[must_use]
pub fn variance_pct(actual: f64, planned: f64) -> Option<f64> {
    (planned > 0.0).then(|| (actual - planned) / planned * 100.0)
}

#[cfg(test)]
// Exact: the numbers compared are small binary fractions.
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn forecast(queue: &str, start_ms: i64, calls: f64) -> Forecast<'static> {
        Forecast {
            queue: Cow::Owned(queue.to_owned()),
            start_ms,
            interval_minutes: 30,
            calls,
            aht_s: 200.0,
            required_agents: Some(4.0),
            scheduled_agents: None,
            version: None,
        }
    }

    fn grid(clock: &IntervalClock) -> Grid<'_> {
        Grid {
            clock,
            keep_from: i64::MIN,
        }
    }

    const HALF_HOUR: i64 = 1_800_000;

    #[test]
    fn the_newest_wins_and_an_older_one_is_counted() {
        let clock = IntervalClock::new(chrono_tz::UTC, 30);
        let mut book = ForecastBook::default();
        let g = grid(&clock);
        assert_eq!(
            book.apply(&forecast("s", HALF_HOUR, 10.0), 5, g),
            ForecastOutcome::Stored
        );
        assert_eq!(
            book.apply(&forecast("s", HALF_HOUR, 12.0), 5, g),
            ForecastOutcome::Replaced
        );
        assert_eq!(
            book.apply(&forecast("s", HALF_HOUR, 99.0), 4, g),
            ForecastOutcome::Superseded
        );
        assert_eq!(book.get("s", HALF_HOUR).unwrap().calls, 12.0);
        assert_eq!((book.len(), book.superseded()), (1, 1));
    }

    #[test]
    fn off_grid_old_and_too_many_are_refused_with_their_codes() {
        let clock = IntervalClock::new(chrono_tz::UTC, 30);
        let mut book = ForecastBook::default();
        let mut f = forecast("s", HALF_HOUR + 60_000, 1.0);
        assert_eq!(book.apply(&f, 0, grid(&clock)), ForecastOutcome::Misaligned);
        f.start_ms = HALF_HOUR;
        f.interval_minutes = 15;
        assert_eq!(
            book.apply(&f, 0, grid(&clock)).dead_letter().unwrap(),
            "forecast_misaligned"
        );
        let old = Grid {
            clock: &clock,
            keep_from: 2 * HALF_HOUR,
        };
        let out = book.apply(&forecast("s", HALF_HOUR, 1.0), 0, old);
        assert_eq!(out.dead_letter().unwrap(), "forecast_too_old");
        for i in 0..MAX_FORECASTS {
            let start = i64::try_from(i).unwrap() * HALF_HOUR;
            assert_eq!(
                book.apply(&forecast("s", start, 1.0), 0, grid(&clock)),
                ForecastOutcome::Stored
            );
        }
        let beyond = i64::try_from(MAX_FORECASTS).unwrap() * HALF_HOUR;
        let out = book.apply(&forecast("s", beyond, 1.0), 0, grid(&clock));
        assert_eq!(out.dead_letter().unwrap(), "forecasts_full");
        // Replacing a held one is always accepted.
        assert_eq!(
            book.apply(&forecast("s", 0, 2.0), 1, grid(&clock)),
            ForecastOutcome::Replaced
        );
    }

    #[test]
    fn intervals_out_of_the_history_are_dropped() {
        let clock = IntervalClock::new(chrono_tz::UTC, 30);
        let mut book = ForecastBook::default();
        for i in 0..4 {
            book.apply(&forecast("s", i * HALF_HOUR, 1.0), 0, grid(&clock));
        }
        let later = Grid {
            clock: &clock,
            keep_from: 2 * HALF_HOUR + 1,
        };
        book.apply(&forecast("t", 3 * HALF_HOUR, 1.0), 0, later);
        let kept: Vec<_> = book
            .iter()
            .map(|(q, s, _)| (q.to_owned(), s / HALF_HOUR))
            .collect();
        assert_eq!(kept, [("s".into(), 2), ("s".into(), 3), ("t".into(), 3)]);
        assert_eq!(book.len(), 3);
    }

    #[test]
    fn plans_sum_and_weight_the_aht_by_calls() {
        let clock = IntervalClock::new(chrono_tz::UTC, 30);
        let mut book = ForecastBook::default();
        let mut a = forecast("a", 0, 10.0);
        a.aht_s = 100.0;
        let mut b = forecast("b", 0, 30.0);
        b.aht_s = 300.0;
        b.scheduled_agents = Some(7.0);
        book.apply(&a, 0, grid(&clock));
        book.apply(&b, 0, grid(&clock));
        let all = book.plan("*", 0).unwrap();
        assert_eq!(
            (all.calls, all.aht_s(), all.agents),
            (40.0, Some(250.0), Some(11.0))
        );
        let zero = book.plan("a", 0).map(|mut p| {
            p.calls = 0.0;
            p
        });
        assert_eq!(zero.unwrap().aht_s(), Some(100.0));
        assert!(book.plan("*", HALF_HOUR).is_none());
        assert_eq!(variance_pct(45.0, 40.0), Some(12.5));
        assert_eq!(variance_pct(3.0, 0.0), None);
    }
}
