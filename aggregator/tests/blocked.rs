//! Blocked calls in the live view and as an alert metric (`metrics.md`,
//! "Blocked calls"): counted this interval, in the rolling window and today,
//! never in offered, and a `blocked` rule fires on them.

use aggregator::alerts::{AlertEngine, AlertRule, AlertStatus};
use aggregator::{live_snapshot, Engine, MetricsConfig};
use wallboard_events::{BlockedReason, Event, EventBody};

/// 2026-11-23T07:00:00Z, an interval start.
const T0: i64 = 1_795_417_200_000;

fn event(id: &str, ts: i64, body: EventBody<'static>) -> Event<'static> {
    Event {
        v: 1,
        id: id.to_owned().into(),
        ts,
        tenant: "t".into(),
        source: None,
        body,
    }
}

fn blocked(id: &str, ts: i64, reason: BlockedReason) -> Event<'static> {
    event(
        id,
        ts,
        EventBody::CallBlocked {
            call: id.to_owned().into(),
            queue: "sales".into(),
            reason,
        },
    )
}

/// The engine after the first `n` events of the trace.
fn engine(n: usize) -> Engine {
    let mut e = Engine::new(MetricsConfig::default().validate().unwrap());
    let queued = EventBody::CallQueued {
        call: "c0".into(),
        queue: "sales".into(),
        priority: None,
        caller: None,
    };
    let trace = [
        event("q0", T0 + 1_000, queued),
        // One refusal in the first half hour, two in the second.
        blocked("b1", T0 + 60_000, BlockedReason::Full),
        blocked("b2", T0 + 1_810_000, BlockedReason::Full),
        blocked("b3", T0 + 1_820_000, BlockedReason::Closed),
    ];
    for ev in &trace[..n] {
        e.apply(ev);
    }
    e
}

#[test]
fn the_live_view_counts_blocked_calls_apart_from_offered() {
    let e = engine(4);
    let live = live_snapshot(e.tenant("t").unwrap(), T0 + 1_830_000);
    let sales = live.queues.iter().find(|q| q.queue == "sales").unwrap();
    let today = sales.today.blocked.as_ref().unwrap();
    assert_eq!(today.blocked, 3);
    assert_eq!(today.blocked_by_reason["full"], 2);
    assert_eq!(today.blocked_by_reason["closed"], 1);
    assert_eq!(sales.interval.blocked.as_ref().unwrap().blocked, 2);
    assert_eq!(sales.rolling.blocked.as_ref().unwrap().blocked, 2);
    assert_eq!((sales.today.entered, sales.today.offered), (1, 0));
    let all = &live.queues[0];
    assert_eq!(all.queue, "*");
    assert_eq!(all.today.blocked.as_ref().unwrap().blocked, 3);
    // As JSON: the fields sit on the row.
    let json = serde_json::to_value(&sales.today).unwrap();
    assert_eq!(json["blocked"], 3);
    assert_eq!(json["blocked_by_reason"]["full"], 2);
}

#[test]
fn a_blocked_rule_fires_on_the_window_count() {
    let rule: AlertRule = toml::from_str(
        r#"
        name = "callers refused"
        metric = "blocked"
        queue = "sales"
        window = "interval"
        op = ">="
        threshold = 2
    "#,
    )
    .unwrap();
    let mut alerts = AlertEngine::new(vec![rule]);
    let before = live_snapshot(engine(3).tenant("t").unwrap(), T0 + 1_815_000);
    assert!(alerts.evaluate(T0 + 1_815_000, &[&before]).is_empty());
    let after = live_snapshot(engine(4).tenant("t").unwrap(), T0 + 1_830_000);
    let fired = alerts.evaluate(T0 + 1_830_000, &[&after]);
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(fired[0].status, AlertStatus::Firing);
    assert_eq!(fired[0].value, Some(2.0));
}
