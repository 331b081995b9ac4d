//! Event times far from the rest (`events.md`, "Event time limits"): they
//! never move a tenant's "now" once it is trusted, and whatever they are,
//! memory (intervals kept, report rows) stays bounded by the history kept.

use std::borrow::Cow;

use proptest::prelude::*;

use aggregator::plausible::TRUSTED_AFTER_EVENTS;
use aggregator::{interval_report, Applied, Engine, MetricsConfig, Params, Range};
use wallboard_events::event::TS_LIMIT_MS;
use wallboard_events::{AgentState, Event, EventBody};

const T0: i64 = 1_795_392_000_000; // 2026-11-23T00:00:00Z
const MINUTE: i64 = 60_000;

fn params() -> Params {
    MetricsConfig::default().validate().unwrap()
}

fn queued(id: u64, ts: i64) -> Event<'static> {
    Event {
        v: 1,
        id: Cow::Owned(format!("q{id}")),
        ts,
        tenant: "t".into(),
        source: None,
        body: EventBody::CallQueued {
            call: Cow::Owned(format!("c{id}")),
            queue: "sales".into(),
            priority: None,
            caller: None,
        },
    }
}

fn state(id: u64, ts: i64, agent: &str, state: AgentState) -> Event<'static> {
    Event {
        v: 1,
        id: Cow::Owned(format!("s{id}")),
        ts,
        tenant: "t".into(),
        source: None,
        body: EventBody::AgentState {
            agent: Cow::Owned(agent.to_owned()),
            state,
            reason: None,
            call: None,
        },
    }
}

/// Most intervals the engine may hold: the history kept, plus the one being
/// filled and one of slack for the check that runs once per interval.
fn max_buckets(p: &Params) -> usize {
    usize::try_from(p.history_ms / (i64::from(p.interval_minutes) * MINUTE)).unwrap() + 3
}

#[test]
fn an_agent_state_then_the_year_9999_stays_bounded() {
    // The two-line replay: it used to allocate until it aborted.
    let p = params();
    let bound = max_buckets(&p);
    let mut e = Engine::new(p);
    e.apply(&state(1, T0, "a1", AgentState::Available));
    assert_eq!(e.apply(&queued(2, TS_LIMIT_MS - 1)), Applied::Counted);
    let t = e.tenant("t").unwrap();
    assert!(
        t.buckets().len() <= bound,
        "{} intervals",
        t.buckets().len()
    );
    let report = interval_report(t, t.max_ts().unwrap(), Range::default());
    assert!(
        report.queues.len() <= 2 * bound,
        "{} rows",
        report.queues.len()
    );
    assert!(report.agents.len() <= bound, "{} rows", report.agents.len());
    assert!(
        !report.agents.is_empty(),
        "the agent's retained time is reported"
    );
    // Logging out then: the time before the history kept is in the totals,
    // whole, without an interval for it.
    let end = TS_LIMIT_MS - 1;
    e.apply(&state(3, end, "a1", AgentState::LoggedOut));
    let t = e.tenant("t").unwrap();
    assert!(
        t.buckets().len() <= bound,
        "{} intervals",
        t.buckets().len()
    );
    assert_eq!(
        t.totals().tenant_time.staffed_ms,
        u64::try_from(end - T0).unwrap()
    );
}

#[test]
fn one_event_years_ahead_of_a_trusted_day_is_rejected_and_the_day_goes_on() {
    let mut e = Engine::new(params());
    let n = TRUSTED_AFTER_EVENTS + 10;
    for i in 0..n {
        assert_eq!(
            e.apply(&queued(i, T0 + i64::try_from(i).unwrap() * MINUTE)),
            Applied::Counted
        );
    }
    let far = T0 + 4 * 365 * 86_400_000; // 2030
    match e.apply(&queued(n, far)) {
        Applied::TimeRejected(r) => assert_eq!(r.code(), "far_ahead"),
        other => panic!("applied: {other:?}"),
    }
    let t = e.tenant("t").unwrap();
    assert_eq!(
        t.max_ts(),
        Some(T0 + (i64::try_from(n).unwrap() - 1) * MINUTE),
        "now did not move"
    );
    // The rest of the day is counted as usual.
    for i in n + 1..n + 50 {
        assert_eq!(
            e.apply(&queued(i, T0 + i64::try_from(i).unwrap() * MINUTE)),
            Applied::Counted
        );
    }
    let t = e.tenant("t").unwrap();
    assert_eq!(t.stats().time_rejected, 1);
    let report = interval_report(t, t.max_ts().unwrap(), Range::default());
    let entered: u64 = report
        .queues
        .iter()
        .filter(|r| r.queue == "sales")
        .map(|r| r.entered)
        .sum();
    assert_eq!(entered, n + 49);
}

#[test]
fn a_wrong_first_event_does_not_make_the_day_far_ahead() {
    let mut e = Engine::new(params());
    // A 1975 line (the epoch lost a digit) before a day of 2026 lines.
    assert_eq!(e.apply(&queued(0, 179_539_200_000)), Applied::Counted);
    for i in 1..2 * TRUSTED_AFTER_EVENTS {
        assert_eq!(
            e.apply(&queued(i, T0 + i64::try_from(i).unwrap() * MINUTE)),
            Applied::Counted
        );
    }
    let t = e.tenant("t").unwrap();
    // Its interval fell out of the history, and that is counted.
    assert_eq!(t.stats().intervals_expired, 1);
    assert!(t.buckets().keys().all(|k| k.0 >= T0));
}

#[test]
fn events_older_than_the_history_get_no_interval() {
    let p = params();
    let history = p.history_ms;
    let mut e = Engine::new(p);
    e.apply(&queued(0, T0));
    for i in 1..500u64 {
        // Each in another interval, all before the history kept.
        e.apply(&queued(
            i,
            T0 - history - i64::try_from(i).unwrap() * 30 * MINUTE,
        ));
    }
    let t = e.tenant("t").unwrap();
    assert_eq!(t.buckets().len(), 1);
    assert_eq!(t.stats().beyond_retention, 499);
    assert_eq!(t.totals().queues[0].entered, 500);
}

/// Times around the edges that matter, and anything else.
fn any_ts() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(-1i64),
        Just(0i64),
        Just(TS_LIMIT_MS - 1),
        Just(TS_LIMIT_MS),
        (T0 - 86_400_000..T0 + 86_400_000),
        any::<i64>(),
        (0..TS_LIMIT_MS),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn memory_stays_bounded_whatever_the_times(
        steps in proptest::collection::vec((any_ts(), 0u8..3, 0u8..4), 1..40),
        now in any_ts(),
    ) {
        let p = params();
        let bound = max_buckets(&p);
        let mut e = Engine::new(p);
        for (i, (ts, kind, agent)) in steps.iter().enumerate() {
            let name = format!("a{agent}");
            let ev = match kind {
                0 => queued(i as u64, *ts),
                1 => state(i as u64, *ts, &name, AgentState::Available),
                _ => state(i as u64, *ts, &name, AgentState::LoggedOut),
            };
            e.apply(&ev);
            if let Some(t) = e.tenant("t") {
                prop_assert!(t.buckets().len() <= bound, "{} intervals", t.buckets().len());
            }
        }
        if let Some(t) = e.tenant("t") {
            let report = interval_report(t, now, Range::default());
            // One row per retained interval for the tenant and its one queue.
            prop_assert!(report.queues.len() <= 2 * bound, "{} rows", report.queues.len());
            prop_assert!(report.agents.len() <= 4 * bound, "{} rows", report.agents.len());
            prop_assert!(t.buckets_at(now).len() <= bound + 1);
        }
    }
}

/// Found by the property above: the intervals of a "now" far past the data
/// came on top of the intervals already held.
#[test]
fn sums_at_a_now_far_past_the_data_hold_only_its_history() {
    let p = params();
    let bound = max_buckets(&p);
    let mut e = Engine::new(p);
    let t0 = 1_795_305_600_000;
    e.apply(&state(0, t0, "a0", AgentState::Available));
    e.apply(&state(1, t0, "a2", AgentState::Available));
    e.apply(&state(2, t0 + 5_400_001, "a2", AgentState::Available));
    let t = e.tenant("t").unwrap();
    assert!(t.buckets_at(TS_LIMIT_MS - 1).len() <= bound + 1);
}
