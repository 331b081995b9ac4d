//! "Out of adherence since" through the live view and the
//! `out_of_adherence_minutes` alert rule, on a scripted timeline
//! (`docs/metrics.md`, "Out of adherence since").

use aggregator::alerts::{AlertEngine, AlertRule};
use aggregator::{live_snapshot, Engine, MetricsConfig};
use wallboard_events::parse_event_str;

const MIN: i64 = 60_000;
/// 10:00 UTC on some day.
const T10: i64 = 1_767_261_600_000;

fn engine(lines: &[String]) -> Engine {
    let mut e = Engine::new(MetricsConfig::default().validate().unwrap());
    for l in lines {
        e.apply(&parse_event_str(l).unwrap());
    }
    e
}

fn state(id: &str, ts: i64, agent: &str, state: &str, reason: Option<&str>) -> String {
    let reason = reason.map_or(String::new(), |r| format!(r#","reason":"{r}""#));
    format!(
        r#"{{"v":1,"id":"{id}","ts":{ts},"tenant":"t","kind":"agent_state","agent":"{agent}","state":"{state}"{reason}}}"#
    )
}

/// break 10:00–10:15, meeting 10:15–11:00 (both disallow `available`).
fn schedule(id: &str, ts: i64, agent: &str) -> String {
    format!(
        r#"{{"v":1,"id":"{id}","ts":{ts},"tenant":"t","kind":"schedule","agent":"{agent}","from_ms":{from},"to_ms":{to},"segments":[{{"start_ms":{from},"end_ms":{mid},"activity":"break"}},{{"start_ms":{mid},"end_ms":{to},"activity":"meeting"}}]}}"#,
        from = T10,
        mid = T10 + 15 * MIN,
        to = T10 + 60 * MIN,
    )
}

fn out_since(e: &Engine, agent: &str, now: i64) -> Option<i64> {
    let snap = live_snapshot(e.tenant("t").unwrap(), now);
    let row = snap.agents.iter().find(|a| a.agent == agent).unwrap();
    row.out_of_adherence_since_ms
}

#[test]
fn the_stretch_starts_when_adherence_was_lost_and_spans_segments() {
    let mut e = engine(&[
        schedule("s", T10 - 60 * MIN, "a"),
        state("1", T10 - 10 * MIN, "a", "available", None),
    ]);
    assert_eq!(out_since(&e, "a", T10 - MIN), None, "nothing planned yet");
    // Out of adherence since the break began, not since "now".
    assert_eq!(out_since(&e, "a", T10 + 12 * MIN), Some(T10));
    // A membership change accrues the agent's time (and forgets the
    // segments already accounted) without changing its state.
    let queues = format!(
        r#"{{"v":1,"id":"2","ts":{},"tenant":"t","kind":"agent_queues","agent":"a","queues":["q"]}}"#,
        T10 + 16 * MIN
    );
    e.apply(&parse_event_str(&queues).unwrap());
    // Carried into the meeting, after the break was forgotten.
    assert_eq!(out_since(&e, "a", T10 + 20 * MIN), Some(T10));
    // Nothing planned after 11:00.
    assert_eq!(out_since(&e, "a", T10 + 61 * MIN), None);
}

#[test]
fn a_state_change_starts_a_new_stretch() {
    let e = engine(&[
        schedule("s", T10 - 60 * MIN, "a"),
        state("1", T10 - 10 * MIN, "a", "available", None),
        // On break as planned from 10:05, back to available at 10:12.
        state("2", T10 + 5 * MIN, "a", "not_ready", Some("break")),
        state("3", T10 + 12 * MIN, "a", "available", None),
    ]);
    assert_eq!(out_since(&e, "a", T10 + 8 * MIN), None, "in adherence");
    assert_eq!(out_since(&e, "a", T10 + 30 * MIN), Some(T10 + 12 * MIN));
}

#[test]
fn the_alert_rule_fires_after_n_minutes_not_before() {
    let rule: AlertRule = toml::from_str(
        r#"
        name = "out of adherence"
        metric = "out_of_adherence_minutes"
        op = ">="
        threshold = 15
        "#,
    )
    .unwrap();
    let e = engine(&[
        schedule("s", T10 - 60 * MIN, "a"),
        state("1", T10 - 10 * MIN, "a", "available", None),
    ]);
    let mut alerts = AlertEngine::new(vec![rule]);
    let t = e.tenant("t").unwrap();
    for (now, firing) in [(T10 + 14 * MIN, false), (T10 + 15 * MIN, true)] {
        let snap = live_snapshot(t, now);
        alerts.evaluate(now, &[&snap]);
        let active = alerts.active();
        assert_eq!(
            active.iter().any(|a| a.subject == "a"),
            firing,
            "at {} min: {active:?}",
            (now - T10) / MIN
        );
    }
}
