//! Properties of repeat contacts, CSAT and QA (`metrics.md`, "Repeat
//! contacts and FCR", "CSAT and QA") on generated traces.

use proptest::prelude::*;
use serde_json::Value;

use aggregator::{interval_report, Engine, MetricsConfig, Range};
use wallboard_events::parse_event_str;

const T0: i64 = 1_795_392_000_000;
const HOUR: i64 = 3_600_000;
const QUEUES: [&str; 2] = ["sales", "vip"];

/// One generated call: queued at `at`, completed `dur` later.
#[derive(Debug, Clone)]
struct Call {
    caller: Option<u8>,
    queue: usize,
    agent: u8,
    at: i64,
    dur: i64,
    survey: Option<u32>,
}

fn call() -> impl Strategy<Value = Call> {
    (
        proptest::option::weighted(0.8, 0u8..6),
        0usize..QUEUES.len(),
        0u8..3,
        0i64..2 * HOUR,
        10_000i64..1_200_000,
        proptest::option::of(1u32..=5),
    )
        .prop_map(|(caller, queue, agent, at, dur, survey)| Call {
            caller,
            queue,
            agent,
            at,
            dur,
            survey,
        })
}

fn engine() -> Engine {
    let config = MetricsConfig {
        repeat_window_hours: 1,
        ..MetricsConfig::default()
    };
    Engine::new(config.validate().unwrap())
}

/// The events of call `i`: queued, completed, maybe a survey and an
/// evaluation, each as (ts, JSON line).
fn lines(i: usize, c: &Call, quality: bool) -> Vec<(i64, String)> {
    let (queue, agent) = (QUEUES[c.queue], format!("a{}", c.agent));
    let caller = c
        .caller
        .map(|k| format!(r#","caller":"k{k}""#))
        .unwrap_or_default();
    let (q, done) = (T0 + c.at, T0 + c.at + c.dur);
    let mut out = vec![
        (
            q,
            format!(
                r#"{{"v":1,"id":"q{i}","ts":{q},"kind":"call_queued","call":"c{i}","queue":"{queue}"{caller}}}"#
            ),
        ),
        (
            done,
            format!(
                r#"{{"v":1,"id":"d{i}","ts":{done},"kind":"call_completed","call":"c{i}","queue":"{queue}","agent":"{agent}","talk_ms":{}}}"#,
                c.dur
            ),
        ),
    ];
    if let (Some(score), true) = (c.survey, quality) {
        out.push((done, format!(r#"{{"v":1,"id":"s{i}","ts":{done},"kind":"survey_result","call":"c{i}","queue":"{queue}","agent":"{agent}","score":{score},"scale_min":1,"scale_max":5}}"#)));
        out.push((done, format!(r#"{{"v":1,"id":"e{i}","ts":{done},"kind":"quality_evaluation","call":"c{i}","queue":"{queue}","agent":"{agent}","evaluator":"x","score":{},"fatal":{}}}"#, score * 20, score == 1)));
    }
    out
}

/// The report (at 10 h, nothing pending) of the events in the given order.
fn report(events: &[String]) -> Value {
    let mut e = engine();
    for l in events {
        e.apply(&parse_event_str(l).unwrap());
    }
    let t = e.tenant("default").unwrap();
    serde_json::to_value(interval_report(t, T0 + 10 * HOUR, Range::default())).unwrap()
}

fn tenant_sum(r: &Value, field: &str) -> u64 {
    r["queues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["queue"] == "*")
        .map(|row| row[field].as_u64().unwrap_or(0))
        .sum()
}

/// Every field of the repeat, CSAT and QA groups removed.
fn without_quality(mut r: Value) -> Value {
    for rows in ["queues", "agents"] {
        for row in r[rows].as_array_mut().unwrap() {
            let row = row.as_object_mut().unwrap();
            row.retain(|k, _| {
                ![
                    "surveys",
                    "csat_top_box",
                    "csat",
                    "csat_mean",
                    "qa_evaluations",
                    "qa_fatal",
                    "qa_score",
                ]
                .contains(&k.as_str())
            });
        }
    }
    r
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn repeats_match_the_definition_in_any_order(
        calls in proptest::collection::vec(call(), 1..30),
        seed in any::<u64>(),
    ) {
        let mut timed: Vec<(i64, String)> =
            calls.iter().enumerate().flat_map(|(i, c)| lines(i, c, true)).collect();
        timed.sort_by_key(|(ts, _)| *ts);
        let sorted: Vec<String> = timed.iter().map(|(_, l)| l.clone()).collect();
        // Another order: shuffled, but every call's own call_queued first.
        let mut shuffled = sorted.clone();
        let mut rng = seed;
        for i in (1..shuffled.len()).rev() {
            rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let j = usize::try_from(rng >> 33).unwrap() % (i + 1);
            shuffled.swap(i, j);
        }
        let queued_first = |v: &mut Vec<String>| {
            for i in 0..calls.len() {
                let (q, d) = (format!(r#""id":"q{i}""#), format!(r#""id":"d{i}""#));
                let qp = v.iter().position(|l| l.contains(&q)).unwrap();
                let dp = v.iter().position(|l| l.contains(&d)).unwrap();
                if dp < qp {
                    v.swap(qp, dp);
                }
            }
        };
        queued_first(&mut shuffled);
        let (a, b) = (report(&sorted), report(&shuffled));
        prop_assert_eq!(&a, &b);
        // The definition, by brute force.
        let repeats = calls.iter().enumerate().filter(|(i, c)| {
            let t0 = c.at + c.dur;
            c.caller.is_some() && calls.iter().enumerate().any(|(j, o)| {
                j != *i && o.caller == c.caller && o.at > t0 && o.at <= t0 + HOUR
            })
        }).count() as u64;
        let eligible = calls.iter().filter(|c| c.caller.is_some()).count() as u64;
        prop_assert_eq!(tenant_sum(&a, "repeat_contacts"), repeats);
        prop_assert_eq!(tenant_sum(&a, "repeat_eligible"), eligible);
        prop_assert_eq!(tenant_sum(&a, "repeat_pending"), 0);
    }

    #[test]
    fn surveys_and_evaluations_change_no_other_number(
        calls in proptest::collection::vec(call(), 1..30),
    ) {
        let events = |quality: bool| -> Vec<String> {
            let mut timed: Vec<(i64, String)> =
                calls.iter().enumerate().flat_map(|(i, c)| lines(i, c, quality)).collect();
            timed.sort_by_key(|(ts, _)| *ts);
            timed.into_iter().map(|(_, l)| l).collect()
        };
        let with = report(&events(true));
        let surveys = calls.iter().filter(|c| c.survey.is_some()).count() as u64;
        prop_assert_eq!(tenant_sum(&with, "surveys"), surveys);
        prop_assert_eq!(tenant_sum(&with, "qa_evaluations"), surveys);
        prop_assert_eq!(without_quality(with), report(&events(false)));
    }
}

#[test]
fn memory_holds_only_the_window_and_the_cap() {
    let mut e = engine();
    // A new caller every minute for three days: only W + 1 day of them stay.
    for i in 0..3 * 24 * 60 {
        let ts = T0 + i * 60_000;
        let line = format!(
            r#"{{"v":1,"id":"q{i}","ts":{ts},"kind":"call_queued","call":"c{i}","queue":"q","caller":"k{i}"}}"#
        );
        e.apply(&parse_event_str(&line).unwrap());
    }
    let kept = e.tenant("default").unwrap().quality().repeat.len();
    assert!(kept <= 25 * 60 + 1, "{kept} contacts kept");
    // The cap: 1000 entries at most, the rest counted.
    let config = MetricsConfig {
        repeat_max_tracked: 1000,
        ..MetricsConfig::default()
    };
    let mut capped = Engine::new(config.validate().unwrap());
    for i in 0..1500 {
        let line = format!(
            r#"{{"v":1,"id":"q{i}","ts":{},"kind":"call_queued","call":"c{i}","queue":"q","caller":"k{i}"}}"#,
            T0 + i
        );
        capped.apply(&parse_event_str(&line).unwrap());
    }
    let r = &capped.tenant("default").unwrap().quality().repeat;
    assert_eq!((r.len(), r.untracked()), (1000, 500));
}

#[test]
fn config_refuses_a_window_beyond_seven_days() {
    let bad = MetricsConfig {
        repeat_window_hours: 169,
        ..MetricsConfig::default()
    };
    assert_eq!(
        bad.validate().unwrap_err().key(),
        "metrics.repeat_window_hours"
    );
    let week = MetricsConfig {
        repeat_window_hours: 168,
        ..MetricsConfig::default()
    };
    assert!(week.validate().is_ok());
}

#[test]
fn the_live_view_has_todays_csat_and_the_last_known_days_fcr() {
    let mut e = engine();
    let at = |h: i64| T0 + h * HOUR;
    let lines = [
        format!(
            r#"{{"v":1,"id":"1","ts":{},"kind":"call_queued","call":"c1","queue":"sales","caller":"k"}}"#,
            at(1)
        ),
        format!(
            r#"{{"v":1,"id":"2","ts":{},"kind":"call_completed","call":"c1","queue":"sales","agent":"a","talk_ms":1000}}"#,
            at(1) + 60_000
        ),
        format!(
            r#"{{"v":1,"id":"3","ts":{},"kind":"call_queued","call":"c2","queue":"vip","caller":"k"}}"#,
            at(1) + 30 * 60_000
        ),
        format!(
            r#"{{"v":1,"id":"4","ts":{},"kind":"survey_result","call":"c1","queue":"sales","agent":"a","score":9,"scale_min":0,"scale_max":10}}"#,
            at(4)
        ),
    ];
    for l in &lines {
        e.apply(&parse_event_str(l).unwrap());
    }
    let t = e.tenant("default").unwrap();
    let live = aggregator::live_snapshot(t, at(4));
    let sales = live.queues.iter().find(|q| q.queue == "sales").unwrap();
    let today = serde_json::to_value(&sales.today).unwrap();
    assert_eq!(today["surveys"], 1);
    assert_eq!(today["csat"], 1.0);
    assert_eq!(today["csat_mean"], 90.0);
    assert_eq!(
        (
            today["repeat_eligible"].as_u64(),
            today["repeat_contacts"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(today["repeat_pending"], 0);
    // W = 1 h: at 03:00 the 01:00 interval ended ≥ W ago, its FCR is known.
    let known = sales.fcr_known.unwrap();
    assert_eq!(
        (known.repeat_eligible, known.repeat_contacts, known.fcr),
        (1, 1, Some(0.0))
    );
    assert!(live
        .queues
        .iter()
        .find(|q| q.queue == "vip")
        .unwrap()
        .fcr_known
        .is_none());
    // Before W has passed after the interval's end, nothing is known.
    let early = aggregator::live_snapshot(t, at(1) + 70 * 60_000);
    let sales = early.queues.iter().find(|q| q.queue == "sales").unwrap();
    assert!(sales.fcr_known.is_none());
}
