//! Properties of the engine on generated event streams.

use std::borrow::Cow;

use proptest::prelude::*;

use aggregator::report::{IntervalReport, QueueRow};
use aggregator::{interval_report, Engine, MetricsConfig, Range};
use wallboard_events::{
    AgentState, BlockedReason, DequeueReason, Event, EventBody, ScheduleSegment,
};

const QUEUES: [&str; 3] = ["sales", "support", "vip"];
const AGENTS: [&str; 4] = ["a1", "a2", "a3", "a4"];
const T0: i64 = 1_795_392_000_000;

/// One generated step: a kind and the choices it needs.
#[derive(Debug, Clone)]
struct Step {
    dt_ms: i64,
    kind: u8,
    call: u8,
    queue: usize,
    agent: usize,
    wait: Option<u64>,
    state: usize,
    reason: u8,
    queues_mask: u8,
    dur: u64,
}

fn step() -> impl Strategy<Value = Step> {
    (
        0i64..240_000,
        0u8..8,
        0u8..12,
        0usize..QUEUES.len(),
        0usize..AGENTS.len(),
        proptest::option::of(0u64..90_000),
        0usize..AgentState::ALL.len(),
        0u8..3,
        1u8..8,
        0u64..1_200_000,
    )
        .prop_map(
            |(dt_ms, kind, call, queue, agent, wait, state, reason, queues_mask, dur)| Step {
                dt_ms,
                kind,
                call,
                queue,
                agent,
                wait,
                state,
                reason,
                queues_mask,
                dur,
            },
        )
}

#[allow(
    clippy::too_many_lines,
    reason = "test helper: one arm per generated step kind"
)]
fn events(steps: &[Step]) -> Vec<Event<'static>> {
    let mut ts = T0;
    let reasons = ["break", "lunch", "meeting"];
    steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            ts += s.dt_ms;
            let call: Cow<'static, str> = format!("c{}", s.call).into();
            let queue: Cow<'static, str> = QUEUES[s.queue].into();
            let agent: Cow<'static, str> = AGENTS[s.agent].into();
            let body = match s.kind {
                0 | 1 => EventBody::CallQueued {
                    call,
                    queue,
                    priority: None,
                    caller: None,
                },
                2 => EventBody::CallAnswered {
                    call,
                    queue,
                    agent,
                    wait_ms: s.wait,
                },
                3 => EventBody::CallAbandoned {
                    call,
                    queue,
                    wait_ms: s.wait,
                },
                4 => EventBody::CallDequeued {
                    call,
                    queue,
                    reason: DequeueReason::ALL[s.reason as usize],
                    wait_ms: s.wait,
                },
                5 => EventBody::CallCompleted {
                    call,
                    queue,
                    agent,
                    talk_ms: s.dur,
                    hold_ms: s.dur / 4,
                    acw_ms: s.dur / 3,
                    transferred: s.reason == 0,
                },
                6 => EventBody::AgentState {
                    agent,
                    state: AgentState::ALL[s.state],
                    reason: Some(reasons[s.reason as usize].into()),
                    call: None,
                },
                _ if s.reason == 0 => EventBody::AgentQueues {
                    agent,
                    queues: QUEUES
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| s.queues_mask & (1 << i) != 0)
                        .map(|(_, q)| Cow::Borrowed(*q))
                        .collect(),
                },
                _ => {
                    let from = ts - 3_600_000 + i64::try_from(s.dur).unwrap();
                    let mid = from + 1_800_000;
                    EventBody::Schedule {
                        agent,
                        from_ms: from,
                        to_ms: from + 3_600_000,
                        segments: vec![
                            ScheduleSegment {
                                start_ms: from,
                                end_ms: mid,
                                activity: "work".into(),
                            },
                            ScheduleSegment {
                                start_ms: mid,
                                end_ms: mid + 900_000,
                                activity: reasons[s.reason as usize].into(),
                            },
                        ],
                    }
                }
            };
            Event {
                v: 1,
                id: format!("e{i}").into(),
                ts,
                tenant: "t".into(),
                source: None,
                body,
            }
        })
        .collect()
}

fn config() -> MetricsConfig {
    MetricsConfig {
        tz: "Asia/Kolkata".into(),
        interval_minutes: 15,
        sl_thresholds_s: vec![10, 20, 60],
        short_abandon_s: 5,
        ..Default::default()
    }
}

fn run(events: &[Event<'_>]) -> Engine {
    let mut engine = Engine::new(config().validate().unwrap());
    for e in events {
        engine.apply(e);
    }
    engine
}

fn report(engine: &Engine) -> Option<IntervalReport> {
    let t = engine.tenant("t")?;
    Some(interval_report(t, t.max_ts()?, Range::default()))
}

fn as_json(r: Option<&IntervalReport>) -> String {
    serde_json::to_string(&r).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn sl3_is_the_strictest_variant(steps in proptest::collection::vec(step(), 1..200)) {
        let r = report(&run(&events(&steps))).unwrap();
        for row in &r.queues {
            for v in row.sl.values() {
                if let Some(sl3) = v.sl3 {
                    prop_assert!(v.sl1.unwrap() >= sl3);
                    prop_assert!(v.sl2.is_none_or(|x| x >= sl3));
                    prop_assert!(v.sl4.is_none_or(|x| x >= sl3));
                }
                for x in [v.sl1, v.sl2, v.sl3, v.sl4].into_iter().flatten() {
                    prop_assert!((0.0..=1.0).contains(&x));
                }
            }
        }
    }

    #[test]
    fn tenant_row_counts_are_the_sum_of_queue_rows(steps in proptest::collection::vec(step(), 1..200)) {
        let r = report(&run(&events(&steps))).unwrap();
        let counts = |q: &QueueRow| [q.entered, q.offered, q.answered, q.abandoned,
            q.short_abandoned, q.dequeued, q.wait_unknown, q.handled, q.talk_ms, q.hold_ms,
            q.acw_ms, q.transferred];
        let mut starts: Vec<i64> = r.queues.iter().map(|q| q.start_ms).collect();
        starts.dedup();
        for start in starts {
            let rows: Vec<&QueueRow> = r.queues.iter().filter(|q| q.start_ms == start).collect();
            prop_assert_eq!(&rows[0].queue, "*");
            let mut sum = [0u64; 12];
            for q in &rows[1..] {
                for (s, c) in sum.iter_mut().zip(counts(q)) { *s += c; }
            }
            prop_assert_eq!(sum, counts(rows[0]));
            let within: u64 = rows[1..].iter().map(|q| q.answered_within["20"]).sum();
            prop_assert_eq!(within, rows[0].answered_within["20"]);
        }
    }

    #[test]
    fn agent_time_adds_up(steps in proptest::collection::vec(step(), 1..200)) {
        let r = report(&run(&events(&steps))).unwrap();
        for a in &r.agents {
            prop_assert_eq!(a.staffed_ms, a.available_ms + a.busy_ms + a.not_ready_ms);
            prop_assert!(a.adherent_ms <= a.scheduled_ms);
            prop_assert!(a.staffed_ms <= u64::try_from(a.end_ms - a.start_ms).unwrap());
        }
        for q in &r.queues {
            prop_assert_eq!(q.staffed_ms, q.available_ms + q.busy_ms + q.not_ready_ms);
            prop_assert!(q.adherent_ms <= q.scheduled_ms);
        }
    }

    #[test]
    fn reporting_midway_or_resuming_from_a_snapshot_changes_nothing(
        steps in proptest::collection::vec(step(), 2..200),
        cut in any::<prop::sample::Index>(),
    ) {
        let evs = events(&steps);
        let whole = report(&run(&evs));
        let k = cut.index(evs.len());
        let first = run(&evs[..k]);
        // A report in between must not disturb the engine…
        let _ = report(&first);
        // …and a durable snapshot taken at the split continues identically.
        let mut resumed = Engine::from_bytes(&first.to_bytes(), config().validate().unwrap()).unwrap();
        for e in &evs[k..] { resumed.apply(e); }
        prop_assert_eq!(as_json(whole.as_ref()), as_json(report(&resumed).as_ref()));
    }

    #[test]
    fn duplicates_never_change_the_report(
        steps in proptest::collection::vec(step(), 1..150),
        picks in proptest::collection::vec(any::<prop::sample::Index>(), 1..20),
    ) {
        let evs = events(&steps);
        // A re-sent event arrives again right after its original, with the
        // original id (here even with a changed body, which must not matter).
        let mut again: Vec<Vec<Event<'static>>> = vec![vec![]; evs.len()];
        for p in picks {
            let i = p.index(evs.len());
            let mut copy = evs[i].clone();
            if let EventBody::CallQueued { queue, .. } = &mut copy.body { *queue = "other".into(); }
            again[i].push(copy);
        }
        let mut with_dups = vec![];
        for (e, copies) in evs.iter().zip(again) {
            with_dups.push(e.clone());
            with_dups.extend(copies);
        }
        with_dups.sort_by_key(|e| e.ts);
        prop_assert_eq!(as_json(report(&run(&evs)).as_ref()), as_json(report(&run(&with_dups)).as_ref()));
    }
}

#[test]
fn a_snapshot_under_other_settings_is_refused() {
    let engine = run(&events(&[Step {
        dt_ms: 0,
        kind: 0,
        call: 1,
        queue: 0,
        agent: 0,
        wait: None,
        state: 0,
        reason: 0,
        queues_mask: 1,
        dur: 0,
    }]));
    let bytes = engine.to_bytes();
    let other = MetricsConfig {
        sl_thresholds_s: vec![20],
        ..config()
    };
    let err = Engine::from_bytes(&bytes, other.validate().unwrap()).unwrap_err();
    assert!(err.to_string().contains("other metric settings"), "{err}");
    assert!(Engine::from_bytes(&bytes[..bytes.len() / 2], config().validate().unwrap()).is_err());
}

/// The report as JSON without what blocked calls add: their fields, and
/// the rows that exist only because of them (each must have some).
fn without_blocked(r: Option<&IntervalReport>, keep: &[(i64, String)]) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap();
    if let Some(rows) = v["queues"].as_array_mut() {
        rows.retain(|row| {
            let key = (
                row["start_ms"].as_i64().unwrap(),
                row["queue"].as_str().unwrap().to_owned(),
            );
            keep.contains(&key) || {
                assert!(
                    row["blocked"].as_u64().unwrap() > 0,
                    "a row of nothing: {row}"
                );
                false
            }
        });
        for row in rows.iter_mut() {
            let row = row.as_object_mut().unwrap();
            row.remove("blocked");
            row.remove("blocked_by_reason");
        }
    }
    // Attainment is derived from the rows: a queue only blocked calls name
    // has an entry (of no intervals) exactly when it has rows.
    let queues: std::collections::BTreeSet<&str> = keep.iter().map(|(_, q)| q.as_str()).collect();
    if let Some(att) = v["attainment"].as_object_mut() {
        att.retain(|q, _| queues.contains(q.as_str()));
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn blocked_calls_change_nothing_but_the_blocked_fields(
        steps in proptest::collection::vec(step(), 1..150),
        blocks in proptest::collection::vec(
            (any::<prop::sample::Index>(), 0usize..QUEUES.len() + 1, 0usize..BlockedReason::ALL.len()),
            1..30,
        ),
    ) {
        let evs = events(&steps);
        // Each blocked call comes right after an event, at its time: "now"
        // stays where the trace puts it. Queue `closed` is known only from
        // blocked calls.
        let mut after: Vec<Vec<Event<'static>>> = vec![vec![]; evs.len()];
        for (n, (at, q, r)) in blocks.iter().enumerate() {
            let i = at.index(evs.len());
            let queue = QUEUES.get(*q).copied().unwrap_or("closed");
            after[i].push(Event {
                v: 1,
                id: format!("b{n}").into(),
                ts: evs[i].ts,
                tenant: "t".into(),
                source: None,
                body: EventBody::CallBlocked {
                    call: format!("c{n}").into(),
                    queue: queue.into(),
                    reason: BlockedReason::ALL[*r],
                },
            });
        }
        let mut mixed = vec![];
        for (e, extra) in evs.iter().zip(after) {
            mixed.push(e.clone());
            mixed.extend(extra);
        }
        let (plain, with) = (report(&run(&evs)), report(&run(&mixed)));
        let keys: Vec<(i64, String)> = plain.iter()
            .flat_map(|r| r.queues.iter().map(|q| (q.start_ms, q.queue.to_string())))
            .collect();
        prop_assert!(plain.iter().flat_map(|r| &r.queues).all(|q| q.blocked.is_none()));
        prop_assert_eq!(without_blocked(plain.as_ref(), &keys), without_blocked(with.as_ref(), &keys));
        let with = with.unwrap();
        let total: u64 = with.queues.iter().filter(|q| q.queue == "*")
            .filter_map(|q| q.blocked.as_ref()).map(|b| b.blocked).sum();
        prop_assert_eq!(total, blocks.len() as u64);
        for q in with.queues.iter().filter_map(|q| q.blocked.as_ref()) {
            prop_assert_eq!(q.blocked, q.blocked_by_reason.values().sum::<u64>());
        }
    }
}
