//! Forecasts in the engine (`events.md`, "Forecasts"; `metrics.md`,
//! "Forecast vs actual"): they change no other number, survive a snapshot,
//! and the live view compares the day so far with the plan.

// Exact: the numbers compared are small binary fractions.
#![allow(clippy::float_cmp)]

use std::borrow::Cow;

use proptest::prelude::*;

use aggregator::{interval_report, live_snapshot, Engine, MetricsConfig, Range};
use wallboard_events::{Event, EventBody, Forecast};

const QUEUES: [&str; 3] = ["sales", "support", "vip"];
/// 2026-11-23 00:00 UTC.
const T0: i64 = 1_795_392_000_000;
const HALF_HOUR: i64 = 1_800_000;

fn config() -> MetricsConfig {
    MetricsConfig {
        tz: "UTC".into(),
        interval_minutes: 30,
        sl_thresholds_s: vec![20],
        ..Default::default()
    }
}

fn event(id: String, ts: i64, body: EventBody<'static>) -> Event<'static> {
    Event {
        v: 1,
        id: Cow::Owned(id),
        ts,
        tenant: "t".into(),
        source: None,
        body,
    }
}

fn forecast(queue: &str, interval: i64, calls: f64, aht_s: f64) -> EventBody<'static> {
    EventBody::Forecast(Forecast {
        queue: Cow::Owned(queue.to_owned()),
        start_ms: T0 + interval * HALF_HOUR,
        interval_minutes: 30,
        calls,
        aht_s,
        required_agents: Some(calls / 2.0),
        scheduled_agents: None,
        version: None,
    })
}

/// A trace of answered and completed calls and one agent, from `calls`
/// (queue, minute after T0, wait s, handle s).
fn trace(calls: &[(usize, i64, u64, u64)]) -> Vec<Event<'static>> {
    let mut evs = vec![
        event(
            "q".into(),
            T0,
            EventBody::AgentQueues {
                agent: "a1".into(),
                queues: vec!["sales".into(), "vip".into()],
            },
        ),
        event(
            "s".into(),
            T0,
            EventBody::AgentState {
                agent: "a1".into(),
                state: wallboard_events::AgentState::Available,
                reason: None,
                call: None,
            },
        ),
    ];
    let mut sorted = calls.to_vec();
    sorted.sort_by_key(|c| c.1);
    for (i, &(q, minute, wait, handle)) in sorted.iter().enumerate() {
        let (call, queue): (Cow<'static, str>, Cow<'static, str>) =
            (format!("c{i}").into(), QUEUES[q].into());
        let ts = T0 + minute * 60_000;
        evs.push(event(
            format!("{i}q"),
            ts,
            EventBody::CallQueued {
                call: call.clone(),
                queue: queue.clone(),
                priority: None,
                caller: None,
            },
        ));
        evs.push(event(
            format!("{i}a"),
            ts + 1,
            EventBody::CallAnswered {
                call: call.clone(),
                queue: queue.clone(),
                agent: "a1".into(),
                wait_ms: Some(wait * 1000),
            },
        ));
        evs.push(event(
            format!("{i}c"),
            ts + 2,
            EventBody::CallCompleted {
                call,
                queue,
                agent: "a1".into(),
                talk_ms: handle * 1000,
                hold_ms: 0,
                acw_ms: 0,
                transferred: false,
            },
        ));
    }
    evs
}

fn run(events: &[Event<'_>]) -> Engine {
    let mut engine = Engine::new(config().validate().unwrap());
    for e in events {
        engine.apply(e);
    }
    engine
}

fn report_json(engine: &Engine) -> serde_json::Value {
    let t = engine.tenant("t").unwrap();
    serde_json::to_value(interval_report(t, t.max_ts().unwrap(), Range::default())).unwrap()
}

/// The report without what forecasts add: the header's `forecast`, the
/// rows' forecast fields, and rows (and attainment entries) that exist only
/// because of a forecast.
fn without_forecast(mut v: serde_json::Value, keep: &[(i64, String)]) -> serde_json::Value {
    v.as_object_mut().unwrap().remove("forecast");
    let rows = v["queues"].as_array_mut().unwrap();
    rows.retain(|row| {
        keep.contains(&(
            row["start_ms"].as_i64().unwrap(),
            row["queue"].as_str().unwrap().to_owned(),
        ))
    });
    for row in rows.iter_mut() {
        let row = row.as_object_mut().unwrap();
        for f in [
            "forecast_calls",
            "forecast_aht_s",
            "forecast_agents",
            "volume_variance_pct",
            "aht_variance_pct",
            "staffed_agents",
            "staffing_vs_plan",
        ] {
            row.remove(f);
        }
    }
    let queues: std::collections::BTreeSet<String> = keep.iter().map(|k| k.1.clone()).collect();
    v["attainment"]
        .as_object_mut()
        .unwrap()
        .retain(|q, _| queues.contains(q));
    v
}

fn calls() -> impl Strategy<Value = Vec<(usize, i64, u64, u64)>> {
    proptest::collection::vec((0..QUEUES.len(), 0i64..240, 0u64..60, 1u64..600), 1..40)
}

fn plans() -> impl Strategy<Value = Vec<(usize, i64, f64, f64, i64)>> {
    proptest::collection::vec(
        (
            0..QUEUES.len() + 1,
            0i64..10,
            0.0f64..50.0,
            0.0f64..900.0,
            0i64..3,
        ),
        1..30,
    )
}

/// `plans` as events, spread through `evs` (queue `QUEUES.len()`: `extra`,
/// known only from its forecasts).
fn with_plans(
    evs: &[Event<'static>],
    plans: &[(usize, i64, f64, f64, i64)],
) -> Vec<Event<'static>> {
    let mut mixed = evs.to_vec();
    for (n, &(q, interval, calls, aht, published)) in plans.iter().enumerate() {
        let queue = QUEUES.get(q).copied().unwrap_or("extra");
        let at = (n * 7) % mixed.len();
        mixed.insert(
            at,
            event(
                format!("f{n}"),
                T0 + published,
                forecast(queue, interval, calls, aht),
            ),
        );
    }
    mixed
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn a_forecast_changes_no_other_number(calls in calls(), plans in plans()) {
        let evs = trace(&calls);
        let plain = report_json(&run(&evs));
        let keys: Vec<(i64, String)> = plain["queues"].as_array().unwrap().iter()
            .map(|r| (r["start_ms"].as_i64().unwrap(), r["queue"].as_str().unwrap().to_owned()))
            .collect();
        let planned = report_json(&run(&with_plans(&evs, &plans)));
        // A plan makes rows only in intervals the report lists (`metrics.md`,
        // "Forecast vs actual"); the header exists when some row has one.
        let listed = plans.iter().any(|p| keys.iter().any(|k| k.0 == T0 + p.1 * HALF_HOUR));
        prop_assert_eq!(planned.get("forecast").is_some(), listed);
        prop_assert_eq!(without_forecast(planned, &keys), plain);
    }

    #[test]
    fn the_variance_is_offered_against_the_newest_plan(calls in calls(), plans in plans()) {
        let evs = with_plans(&trace(&calls), &plans);
        let engine = run(&evs);
        let t = engine.tenant("t").unwrap();
        let report = interval_report(t, t.max_ts().unwrap(), Range::default());
        for row in report.queues.iter().filter(|r| r.queue != "*") {
            let Some(f) = &row.forecast else { continue };
            // The newest by publication time; of equal ones the last applied.
            let newest = plans.iter().enumerate()
                .filter(|(_, p)| row.queue == QUEUES.get(p.0).copied().unwrap_or("extra")
                    && T0 + p.1 * HALF_HOUR == row.start_ms)
                .max_by_key(|(n, p)| (p.4, mixed_position(*n, &evs)))
                .map(|(_, p)| p)
                .unwrap();
            prop_assert_eq!(f.forecast_calls, newest.2);
            let want = (newest.2 > 0.0).then(|| (row.offered as f64 - newest.2) / newest.2 * 100.0);
            prop_assert_eq!(f.volume_variance_pct, want);
        }
    }
}

/// Where forecast `n` ended up in the mixed trace.
fn mixed_position(n: usize, evs: &[Event<'_>]) -> usize {
    let id = format!("f{n}");
    evs.iter().position(|e| e.id == id).unwrap()
}

#[test]
fn forecasts_survive_a_snapshot_and_old_snapshots_still_load() {
    let evs = with_plans(
        &trace(&[(0, 5, 10, 200), (2, 40, 3, 100)]),
        &[(0, 0, 2.0, 180.0, 1), (3, 1, 4.0, 60.0, 1)],
    );
    let engine = run(&evs);
    let bytes = engine.to_bytes();
    let restored = Engine::from_bytes(&bytes, config().validate().unwrap()).unwrap();
    assert_eq!(
        restored.tenant("t").unwrap().forecasts(),
        engine.tenant("t").unwrap().forecasts()
    );
    assert_eq!(report_json(&restored), report_json(&engine));
    assert_eq!(engine.tenant("t").unwrap().forecasts().len(), 2);
    // A snapshot made before forecasts existed is the engine alone.
    let plain = run(&trace(&[(0, 5, 10, 200)]));
    let old = plain.to_bytes();
    let restored = Engine::from_bytes(&old, config().validate().unwrap()).unwrap();
    assert!(restored.tenant("t").unwrap().forecasts().is_empty());
    assert_eq!(report_json(&restored), report_json(&plain));
}

#[test]
fn the_live_view_compares_the_day_so_far_pro_rata() {
    // 10 calls planned for 00:00 and 00:30, 20 for 01:00; 12 offered in the
    // first hour, now 01:15 with 3 offered: e = 0.5.
    let mut calls: Vec<_> = (0..12).map(|i| (0, i * 5, 5, 100)).collect();
    calls.extend((0..3).map(|i| (0, 61 + i, 5, 100)));
    let plans = [
        (0, 0, 10.0, 100.0, 0),
        (0, 1, 10.0, 100.0, 0),
        (0, 2, 20.0, 100.0, 0),
        (0, 3, 8.0, 100.0, 0),
    ];
    let engine = run(&with_plans(&trace(&calls), &plans));
    let live = live_snapshot(engine.tenant("t").unwrap(), T0 + 75 * 60_000);
    let sales = live.queues.iter().find(|q| q.queue == "sales").unwrap();
    let f = sales.forecast.as_ref().unwrap();
    let interval = f.interval.unwrap();
    assert_eq!(interval.forecast_calls, 20.0);
    // 3 offered against 20 × 0.5.
    assert_eq!(interval.volume_variance_pct, Some(-70.0));
    assert_eq!(f.today.forecast_calls, 30.0);
    assert_eq!(f.today.offered, 15);
    assert_eq!(f.today.volume_variance_pct, Some(-50.0));
    assert_eq!(f.today.day_forecast_calls, 48.0);
    // 15 + (10 + 8) × 15 / 30.
    assert_eq!(f.today.reforecast_calls, 24.0);
    assert_eq!(f.ahead.len(), 1);
    let points: Vec<_> = sales.intraday.iter().map(|p| p.forecast_calls).collect();
    assert_eq!(points, [Some(10.0), Some(10.0), Some(20.0)]);
    // `vip` has no forecast: no `forecast` object.
    assert!(live
        .queues
        .iter()
        .find(|q| q.queue == "vip")
        .is_none_or(|q| q.forecast.is_none()));
}
