//! Intraday attainment (`metrics.md`, "Intraday attainment"): the share of
//! closed intervals whose service level met the queue's goal, and the
//! service level so far against it. Derived from rows already built.

use std::collections::BTreeMap;

use serde::Serialize;

use wallboard_events::TimestampMs;

use crate::goals::{Goals, QueueGoal, SlVariant};
use crate::report::{QueueRow, SlVariants};
use crate::sums::ratio;

/// A queue's intraday attainment (`metrics.md`, "Intraday attainment").
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Attainment {
    /// The service-level variant the queue is judged by.
    pub variant: SlVariant,
    /// The goal's threshold in seconds.
    pub threshold_s: u32,
    /// The goal's target service level (0..1).
    pub target: f64,
    /// Closed intervals with a service level.
    pub intervals: u64,
    /// Those whose service level reached the target.
    pub met: u64,
    /// `met / intervals`; `None` when no interval had a service level.
    pub share: Option<f64>,
    /// The service level over the whole period so far.
    pub sl: Option<f64>,
    /// `sl − target` in ratio points (negative: below target); `None` with `sl`.
    pub vs_target: Option<f64>,
}

/// One interval as attainment sees it: when it ends and its `sl` map.
pub struct IntervalSl<'a> {
    /// When the interval ends (it is closed once `now` reaches this).
    pub end_ms: TimestampMs,
    /// The interval row's `sl` map, keyed by threshold.
    pub sl: &'a BTreeMap<String, SlVariants>,
}

impl Attainment {
    /// Over `intervals`, of which those ending at or before `now` are
    /// closed; `period_sl` is the `sl` map of the whole period's sums.
    pub fn of<'a>(
        goal: &QueueGoal,
        intervals: impl IntoIterator<Item = IntervalSl<'a>>,
        now: TimestampMs,
        period_sl: &BTreeMap<String, SlVariants>,
    ) -> Self {
        let (mut counted, mut met) = (0, 0);
        let closed = intervals.into_iter().filter(|i| i.end_ms <= now);
        for sl in closed.filter_map(|i| goal.sl_of(i.sl)) {
            counted += 1;
            met += u64::from(sl >= goal.target);
        }
        let sl = goal.sl_of(period_sl);
        Attainment {
            variant: goal.variant,
            threshold_s: goal.threshold_s,
            target: goal.target,
            intervals: counted,
            met,
            share: ratio(met, counted),
            sl,
            vs_target: sl.map(|v| v - goal.target),
        }
    }
}

/// The report header's attainment per queue (by name, `*` the tenant): over the report's
/// rows, those ending at or before `now` closed, `sl` over all of them.
#[must_use]
pub fn of_report(
    rows: &[QueueRow],
    goals: &Goals,
    now: TimestampMs,
) -> BTreeMap<String, Attainment> {
    let mut by_queue: BTreeMap<&str, Vec<&QueueRow>> = BTreeMap::new();
    for r in rows {
        by_queue.entry(r.queue.as_str()).or_default().push(r);
    }
    by_queue
        .into_iter()
        .map(|(queue, rows)| {
            let goal = goals.of(queue);
            let intervals = rows.iter().map(|r| IntervalSl {
                end_ms: r.end_ms,
                sl: &r.sl,
            });
            let period = summed_sl(&rows, goal.threshold_s);
            (
                queue.to_owned(),
                Attainment::of(goal, intervals, now, &period),
            )
        })
        .collect()
}

/// The service levels at `threshold_s` of the rows' summed counts.
fn summed_sl(rows: &[&QueueRow], threshold_s: u32) -> BTreeMap<String, SlVariants> {
    let key = threshold_s.to_string();
    let (mut a, mut b, mut a_in, mut b_in) = (0, 0, 0, 0);
    for r in rows {
        a += r.answered;
        b += r.abandoned;
        a_in += r.answered_within.get(&key).copied().unwrap_or(0);
        b_in += r.abandoned_within.get(&key).copied().unwrap_or(0);
    }
    BTreeMap::from([(key, SlVariants::compute(a, b, a_in, b_in))])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sl(sl3: Option<f64>) -> BTreeMap<String, SlVariants> {
        let v = SlVariants {
            sl1: None,
            sl2: None,
            sl3,
            sl4: None,
        };
        BTreeMap::from([("20".to_owned(), v)])
    }

    #[test]
    fn closed_intervals_with_a_service_level_are_counted() {
        let goal = Goals::with_threshold(20).default;
        let maps = [
            sl(Some(0.9)),
            sl(Some(0.8)),
            sl(None),
            sl(Some(0.5)),
            sl(Some(1.0)),
        ];
        // The last interval ends after now: still open, not counted.
        let intervals = maps.iter().zip(1i64..).map(|(m, i)| IntervalSl {
            end_ms: i * 1000,
            sl: m,
        });
        let a = Attainment::of(&goal, intervals, 4000, &sl(Some(0.75)));
        assert_eq!((a.intervals, a.met), (3, 2), "{a:?}");
        assert_eq!(a.share, Some(2.0 / 3.0));
        assert_eq!(a.sl, Some(0.75));
        assert!((a.vs_target.unwrap() + 0.05).abs() < 1e-12);
        let none = Attainment::of(&goal, [], 0, &sl(None));
        assert_eq!(
            (none.intervals, none.share, none.sl, none.vs_target),
            (0, None, None, None)
        );
    }
}
