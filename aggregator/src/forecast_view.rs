//! Forecast vs actual (`metrics.md`, "Forecast vs actual"): the forecast
//! fields of report rows, the report header's totals and the live view's
//! current interval and day so far. Derived from rows already built and the
//! tenant's [`ForecastBook`].

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::Serialize;

use wallboard_events::TimestampMs;

use crate::forecast::{variance_pct, ForecastBook, Plan};
use crate::report::QueueRow;

/// The forecast fields of one report row (flattened into it).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RowForecast {
    /// `F` (for `*`, `ΣF`).
    pub forecast_calls: f64,
    /// `H` (for `*`, calls-weighted); `None` when `*` has `ΣF = 0`.
    pub forecast_aht_s: Option<f64>,
    /// `P` (for `*`, `ΣP`); `None` when no forecast has agents.
    pub forecast_agents: Option<f64>,
    /// `(offered − F) / F × 100`; `None` when `F = 0`.
    pub volume_variance_pct: Option<f64>,
    /// `(aht_ms / 1000 − H) / H × 100`; `None` without AHT or `H = 0`.
    pub aht_variance_pct: Option<f64>,
    /// `staffed_ms / elapsed`: average agents signed in.
    pub staffed_agents: Option<f64>,
    /// `staffed_agents − forecast_agents`.
    pub staffing_vs_plan: Option<f64>,
}

impl RowForecast {
    /// The fields of `row` under `plan`, the row's interval having run up
    /// to `now` (`expected` is the calls planned up to then: `F`, or `F·e`
    /// in the live view's current interval).
    #[must_use]
    pub fn of(row: &QueueRow, plan: &Plan, expected: f64, now: TimestampMs) -> Self {
        let elapsed = row.end_ms.min(now) - row.start_ms;
        #[allow(clippy::cast_precision_loss)] // Milliseconds, far below 2^53.
        let staffed_agents = (elapsed > 0).then(|| row.staffed_ms as f64 / elapsed as f64);
        let aht = plan.aht_s();
        RowForecast {
            forecast_calls: plan.calls,
            forecast_aht_s: aht,
            forecast_agents: plan.agents,
            volume_variance_pct: variance_pct(count(row.offered), expected),
            aht_variance_pct: row
                .aht_ms
                .zip(aht)
                .and_then(|(a, h)| variance_pct(a / 1000.0, h)),
            staffed_agents,
            staffing_vs_plan: staffed_agents.zip(plan.agents).map(|(s, p)| s - p),
        }
    }
}

#[allow(clippy::cast_precision_loss)] // Counts, far below 2^53.
fn count(n: u64) -> f64 {
    n as f64
}

/// Attaches its forecast to every row that has one, as of `now`.
pub fn attach(rows: &mut [QueueRow], book: &ForecastBook, now: TimestampMs) {
    if book.is_empty() {
        return;
    }
    for row in rows {
        if let Some(plan) = book.plan(row.queue.as_str(), row.start_ms) {
            row.forecast = Some(RowForecast::of(row, &plan, plan.calls, now));
        }
    }
}

/// A queue's forecast totals over a report's rows (`metrics.md`,
/// "Forecast vs actual", the header's `forecast`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ForecastTotals {
    /// Rows with a forecast.
    pub intervals: u64,
    /// `ΣF` over them.
    pub forecast_calls: f64,
    /// `Σ offered` over them.
    pub offered: u64,
    /// `(offered − forecast_calls) / forecast_calls × 100`.
    pub volume_variance_pct: Option<f64>,
    /// `Σ(F·H) / ΣF`.
    pub forecast_aht_s: Option<f64>,
    /// `Σ(talk + ACW) / Σ handled / 1000`.
    pub aht_s: Option<f64>,
    /// `(aht_s − forecast_aht_s) / forecast_aht_s × 100`.
    pub aht_variance_pct: Option<f64>,
}

#[derive(Default)]
struct Acc {
    intervals: u64,
    calls: f64,
    call_seconds: f64,
    offered: u64,
    handled: u64,
    handle_ms: u64,
}

/// The header's `forecast`: per queue (`*` the tenant) over the rows that
/// carry a forecast; empty when none does.
#[must_use]
pub fn header(rows: &[QueueRow]) -> BTreeMap<String, ForecastTotals> {
    let mut acc: BTreeMap<&str, Acc> = BTreeMap::new();
    for row in rows {
        let Some(f) = &row.forecast else { continue };
        let a = acc.entry(row.queue.as_str()).or_default();
        a.intervals += 1;
        a.calls += f.forecast_calls;
        a.call_seconds += f.forecast_calls * f.forecast_aht_s.unwrap_or(0.0);
        a.offered += row.offered;
        a.handled += row.handled;
        a.handle_ms += row.talk_ms + row.acw_ms;
    }
    acc.into_iter()
        .map(|(q, a)| {
            let forecast_aht_s = (a.calls > 0.0).then(|| a.call_seconds / a.calls);
            let aht_s = crate::sums::ratio(a.handle_ms, a.handled).map(|ms| ms / 1000.0);
            let totals = ForecastTotals {
                intervals: a.intervals,
                forecast_calls: a.calls,
                offered: a.offered,
                volume_variance_pct: variance_pct(count(a.offered), a.calls),
                forecast_aht_s,
                aht_s,
                aht_variance_pct: aht_s
                    .zip(forecast_aht_s)
                    .and_then(|(x, h)| variance_pct(x, h)),
            };
            (q.to_owned(), totals)
        })
        .collect()
}

/// One interval of the day's plan, for the chart.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PlanPoint {
    /// Interval start, UTC ms.
    pub start_ms: TimestampMs,
    /// `F` (for `*`, `ΣF`).
    pub forecast_calls: f64,
}

/// A queue's forecast in the live view (`metrics.md`, "Forecast vs actual").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveForecast {
    /// The current interval's forecast fields, pro rata; `None` when the
    /// current interval has no forecast.
    pub interval: Option<RowForecast>,
    /// Today so far.
    pub today: DayForecast,
    /// The plan of today's intervals after the current one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ahead: Vec<PlanPoint>,
}

/// Today so far against the plan.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DayForecast {
    /// Calls planned up to now: closed intervals' `F` plus `F·e` of the current one.
    pub forecast_calls: f64,
    /// Today's `offered`.
    pub offered: u64,
    /// `(offered − forecast_calls) / forecast_calls × 100`.
    pub volume_variance_pct: Option<f64>,
    /// `ΣF` of all of today's intervals.
    pub day_forecast_calls: f64,
    /// Ratio-to-date reforecast of the day's calls.
    pub reforecast_calls: f64,
}

/// Where the live view stands: now, the current interval, today.
#[derive(Debug, Clone, Copy)]
pub struct LiveMoment {
    /// The live view's "now".
    pub now: TimestampMs,
    /// Start of the current interval.
    pub interval_start: TimestampMs,
    /// Its end (exclusive).
    pub interval_end: TimestampMs,
    /// Local midnight starting today.
    pub day_start: TimestampMs,
    /// Local midnight ending today.
    pub day_end: TimestampMs,
}

impl LiveMoment {
    /// `e`: the share of the current interval elapsed at now.
    fn elapsed_share(&self) -> f64 {
        let len = (self.interval_end - self.interval_start) as f64;
        ((self.now - self.interval_start) as f64 / len).clamp(0.0, 1.0)
    }
}

/// `queue`'s live forecast, from its `interval` and `today` rows; `None`
/// when it has no forecast today.
#[must_use]
pub fn live(
    book: &ForecastBook,
    queue: &str,
    at: &LiveMoment,
    interval: &QueueRow,
    today: &QueueRow,
) -> Option<LiveForecast> {
    if book.is_empty() {
        return None;
    }
    let plans = book.range(queue, at.day_start, at.day_end);
    if plans.is_empty() {
        return None;
    }
    let e = at.elapsed_share();
    let (mut to_date, mut rest, mut day) = (0.0, 0.0, 0.0);
    let mut ahead = Vec::new();
    let mut current = None;
    for (start, plan) in &plans {
        day += plan.calls;
        match start.cmp(&at.interval_start) {
            Ordering::Less => to_date += plan.calls,
            Ordering::Equal => {
                to_date += plan.calls * e;
                rest += plan.calls * (1.0 - e);
                current = Some(RowForecast::of(interval, plan, plan.calls * e, at.now));
            }
            Ordering::Greater => {
                rest += plan.calls;
                ahead.push(PlanPoint {
                    start_ms: *start,
                    forecast_calls: plan.calls,
                });
            }
        }
    }
    let offered = count(today.offered);
    let ratio = if to_date > 0.0 {
        offered / to_date
    } else {
        1.0
    };
    Some(LiveForecast {
        interval: current,
        today: DayForecast {
            forecast_calls: to_date,
            offered: today.offered,
            volume_variance_pct: variance_pct(offered, to_date),
            day_forecast_calls: day,
            reforecast_calls: offered + rest * ratio,
        },
        ahead,
    })
}
