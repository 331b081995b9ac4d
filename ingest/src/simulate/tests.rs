//! The simulator's properties: determinism, the shape of a day, the
//! routing rules, bounded memory.

use std::collections::{HashMap, HashSet};

use super::calls::MAX_WAITING;
use super::*;
use wallboard_events::event::Kind;
use wallboard_events::event::{AgentState, BlockedReason, DequeueReason, Event, EventBody};
use wallboard_events::parse::parse_event_str;

fn day(seed: u64, agents: usize, hours: f64, load: f64) -> Vec<Event<'static>> {
    Simulator::new(SimConfig {
        seed,
        agents,
        hours,
        load,
        tenant: "acme".into(),
        ..SimConfig::default()
    })
    .collect()
}

fn json(events: &[Event<'_>]) -> Vec<String> {
    events.iter().map(Event::to_json).collect()
}

#[test]
fn same_seed_gives_same_events() {
    let first: Vec<_> = Simulator::new(SimConfig::default()).take(3000).collect();
    let again: Vec<_> = Simulator::new(SimConfig::default()).take(3000).collect();
    assert_eq!(first.len(), 3000);
    assert_eq!(json(&first), json(&again));
}

#[test]
fn different_seed_gives_different_events() {
    let one = json(
        &Simulator::new(SimConfig::default())
            .take(500)
            .collect::<Vec<_>>(),
    );
    let cfg = SimConfig {
        seed: 2,
        ..SimConfig::default()
    };
    let two = json(&Simulator::new(cfg).take(500).collect::<Vec<_>>());
    assert_ne!(one, two);
}

#[test]
fn events_are_in_time_order_with_unique_ids_and_common_fields() {
    let events = day(3, 30, 8.0, 1.2);
    let cfg = SimConfig::default();
    assert!(events.windows(2).all(|w| w[0].ts <= w[1].ts));
    let first = events.first().map(|e| e.ts);
    assert_eq!(first, Some(cfg.start_ms));
    let end = cfg.start_ms + 8 * HOUR;
    assert!(events.iter().all(|e| e.ts < end));
    let ids: HashSet<_> = events.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids.len(), events.len());
    assert!(events
        .iter()
        .all(|e| e.v == 1 && e.tenant == "acme" && e.source.as_deref() == Some("simulator")));
}

#[test]
fn every_event_round_trips_through_the_parser() {
    for event in day(4, 20, 8.0, 1.0) {
        let text = event.to_json();
        let parsed = parse_event_str(&text)
            .unwrap_or_else(|e| panic!("{text} does not parse: {e}"))
            .into_owned();
        assert_eq!(parsed, event);
    }
}

#[test]
fn starts_with_a_schedule_and_membership_per_agent() {
    let events = day(5, 12, 8.0, 1.0);
    let kinds: Vec<Kind> = events.iter().take(24).map(Event::kind).collect();
    let expected: Vec<Kind> = [Kind::Schedule, Kind::AgentQueues].repeat(12);
    assert_eq!(kinds, expected);
    for event in &events[..24] {
        if let EventBody::AgentQueues { queues, .. } = &event.body {
            assert!((1..=3).contains(&queues.len()));
        }
        if let EventBody::Schedule { segments, .. } = &event.body {
            let activities: Vec<&str> = segments.iter().map(|s| &*s.activity).collect();
            assert_eq!(
                activities,
                ["work", "break", "work", "lunch", "work", "break", "work"]
            );
            assert!(segments.windows(2).all(|w| w[0].end_ms == w[1].start_ms));
        }
    }
}

/// Each (call, queue) segment starts with `call_queued` and ends once, and
/// a call is in at most one queue at a time.
#[test]
fn queue_segments_end_exactly_once() {
    let events = day(6, 30, 8.0, 1.4);
    let mut open: HashMap<String, String> = HashMap::new(); // call -> queue
    let mut ended = 0;
    for e in &events {
        match &e.body {
            EventBody::CallQueued { call, queue, .. } => {
                let previous = open.insert(call.to_string(), queue.to_string());
                assert_eq!(previous, None, "{} queued while in a queue", e.to_json());
            }
            EventBody::CallAnswered { call, queue, .. }
            | EventBody::CallAbandoned { call, queue, .. }
            | EventBody::CallDequeued { call, queue, .. } => {
                let segment = open.remove(&**call);
                assert_eq!(segment.as_deref(), Some(&**queue), "{}", e.to_json());
                ended += 1;
            }
            _ => {}
        }
    }
    assert!(ended > 500, "only {ended} segments ended");
}

#[test]
fn completions_follow_answers_of_the_same_call_agent_and_queue() {
    let events = day(7, 30, 8.0, 1.0);
    let mut connected: HashMap<(String, String), (String, i64)> = HashMap::new();
    let mut completed = 0;
    for e in &events {
        match &e.body {
            EventBody::CallAnswered {
                call, queue, agent, ..
            } => {
                let key = (call.to_string(), agent.to_string());
                assert!(connected.insert(key, (queue.to_string(), e.ts)).is_none());
            }
            EventBody::CallCompleted {
                call,
                queue,
                agent,
                talk_ms,
                hold_ms,
                acw_ms,
                ..
            } => {
                let key = (call.to_string(), agent.to_string());
                let answered = connected.remove(&key);
                let (answered_queue, answered_at) =
                    answered.unwrap_or_else(|| panic!("{} never answered", e.to_json()));
                assert_eq!(answered_queue, *queue);
                assert!(hold_ms <= talk_ms);
                assert_eq!(answered_at + i64::try_from(talk_ms + acw_ms).unwrap(), e.ts);
                completed += 1;
            }
            _ => {}
        }
    }
    assert!(completed > 500, "only {completed} calls completed");
}

/// Agent states follow the call flow: ringing only when available, `on_call`
/// only right after ringing for that call (with its answer), acw only
/// after `on_call` for that call, and nothing else while a call is open.
#[test]
fn agent_states_follow_the_call_flow() {
    let events = day(8, 30, 8.0, 1.3);
    let mut state: HashMap<String, (AgentState, Option<String>)> = HashMap::new();
    let mut open_call: HashMap<String, String> = HashMap::new(); // agent -> answered call
    let mut last_answer: Option<(i64, String, String)> = None;
    for e in &events {
        match &e.body {
            EventBody::CallAnswered { call, agent, .. } => {
                last_answer = Some((e.ts, call.to_string(), agent.to_string()));
                assert!(open_call
                    .insert(agent.to_string(), call.to_string())
                    .is_none());
            }
            EventBody::CallCompleted { call, agent, .. } => {
                assert_eq!(open_call.remove(&**agent).as_deref(), Some(&**call));
            }
            EventBody::AgentState {
                agent,
                state: new,
                reason,
                call,
            } => {
                let (old, old_call) = state
                    .get(&**agent)
                    .cloned()
                    .unwrap_or((AgentState::LoggedOut, None));
                let call = call.as_deref().map(str::to_owned);
                match new {
                    AgentState::Ringing => {
                        assert_eq!(old, AgentState::Available, "{}", e.to_json());
                        assert!(call.is_some());
                    }
                    AgentState::OnCall => {
                        assert_eq!(old, AgentState::Ringing, "{}", e.to_json());
                        assert_eq!(call, old_call);
                        let answer = (e.ts, call.clone().unwrap_or_default(), agent.to_string());
                        assert_eq!(last_answer.as_ref(), Some(&answer));
                    }
                    AgentState::Acw => {
                        assert_eq!(old, AgentState::OnCall, "{}", e.to_json());
                        assert_eq!(call, old_call);
                    }
                    AgentState::NotReady => {
                        assert!(reason.is_some());
                        assert!(!open_call.contains_key(&**agent), "{}", e.to_json());
                    }
                    AgentState::Available | AgentState::LoggedOut => {
                        assert!(!open_call.contains_key(&**agent), "{}", e.to_json());
                    }
                }
                state.insert(agent.to_string(), (*new, call));
            }
            _ => {}
        }
    }
}

#[test]
fn agents_take_breaks_and_lunch_and_log_out() {
    let events = day(9, 30, 8.0, 1.0);
    let count = |wanted: AgentState, why: Option<&str>| {
        events
            .iter()
            .filter(|e| {
                matches!(&e.body, EventBody::AgentState { state, reason, .. }
                    if *state == wanted && reason.as_deref() == why)
            })
            .count()
    };
    assert!(count(AgentState::NotReady, Some("break")) >= 40);
    assert!(count(AgentState::NotReady, Some("lunch")) >= 15);
    // Everyone logs out at the end of the shift; some over lunch too.
    assert!(count(AgentState::LoggedOut, None) >= 30);
}

#[test]
fn overflowed_calls_queue_again_elsewhere() {
    let events = day(10, 20, 8.0, 1.6);
    let overflows: Vec<_> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            matches!(
                e.body,
                EventBody::CallDequeued {
                    reason: DequeueReason::Overflow,
                    ..
                }
            )
        })
        .collect();
    assert!(!overflows.is_empty());
    for (i, e) in overflows {
        let (EventBody::CallDequeued { call, queue, .. }, Some(next)) =
            (&e.body, events.get(i + 1))
        else {
            unreachable!()
        };
        let EventBody::CallQueued {
            call: next_call,
            queue: next_queue,
            ..
        } = &next.body
        else {
            panic!("overflow not followed by call_queued: {}", next.to_json());
        };
        assert_eq!((next_call, next.ts), (call, e.ts));
        assert_ne!(next_queue, queue);
    }
}

/// Occupancy (busy / (busy + available)) over all agents, and the share
/// of queue segments abandoned.
fn occupancy_and_abandon_rate(events: &[Event<'_>]) -> (f64, f64) {
    let mut since: HashMap<&str, (AgentState, i64)> = HashMap::new();
    let (mut busy, mut available) = (0i64, 0i64);
    let (mut ended, mut abandoned) = (0, 0);
    for e in events {
        match &e.body {
            EventBody::AgentState { agent, state, .. } => {
                if let Some((old, from)) = since.insert(agent, (*state, e.ts)) {
                    if old.is_busy() {
                        busy += e.ts - from;
                    } else if old == AgentState::Available {
                        available += e.ts - from;
                    }
                }
            }
            EventBody::CallAbandoned { .. } => {
                abandoned += 1;
                ended += 1;
            }
            EventBody::CallAnswered { .. } | EventBody::CallDequeued { .. } => ended += 1,
            _ => {}
        }
    }
    (
        busy as f64 / (busy + available) as f64,
        f64::from(abandoned) / f64::from(ended),
    )
}

#[test]
fn load_one_keeps_agents_busy_but_not_swamped() {
    let (occupancy, abandons) = occupancy_and_abandon_rate(&day(11, 60, 8.0, 1.0));
    assert!((0.70..=0.88).contains(&occupancy), "occupancy {occupancy}");
    assert!(abandons < 0.12, "abandon rate {abandons}");
    let (busier, more_abandons) = occupancy_and_abandon_rate(&day(11, 60, 8.0, 1.5));
    assert!(busier > occupancy && more_abandons > abandons);
}

/// Peaks fill a queue now and then: a few callers a day are refused,
/// each when `MAX_WAITING` callers of that queue were waiting, and a
/// refused call never queues.
#[test]
fn full_queues_refuse_a_few_callers_at_peaks() {
    let check = |events: &[Event<'static>]| {
        let mut waiting: HashMap<&str, HashSet<&str>> = HashMap::new();
        let (mut blocked, mut refused) = (0usize, HashSet::new());
        for e in events {
            match &e.body {
                EventBody::CallQueued { call, queue, .. } => {
                    assert!(!refused.contains(&**call), "{}", e.to_json());
                    waiting.entry(queue).or_default().insert(call);
                }
                EventBody::CallAnswered { call, queue, .. }
                | EventBody::CallAbandoned { call, queue, .. }
                | EventBody::CallDequeued { call, queue, .. } => {
                    waiting.entry(queue).or_default().remove(&**call);
                }
                EventBody::CallBlocked {
                    call,
                    queue,
                    reason,
                } => {
                    assert_eq!(*reason, BlockedReason::Full);
                    let n = waiting.get(&**queue).map_or(0, HashSet::len);
                    assert!(n >= MAX_WAITING, "{n} waiting: {}", e.to_json());
                    refused.insert(&**call);
                    blocked += 1;
                }
                _ => {}
            }
        }
        blocked
    };
    let normal = check(&day(11, 60, 8.0, 1.0));
    let calls = day(11, 60, 8.0, 1.0)
        .iter()
        .filter(|e| e.kind() == Kind::CallQueued)
        .count();
    assert!(normal * 100 < calls, "{normal} of {calls} refused");
    let busy = check(&day(11, 60, 8.0, 1.5));
    assert!(busy > normal && busy > 0, "{busy} refused at load 1.5");
}

/// A day of a large centre is produced one event at a time, and what the
/// simulator holds stays proportional to agents and calls in progress
/// rather than growing with the events already produced.
#[test]
fn a_long_day_streams_in_bounded_memory() {
    let agents = 200;
    let cfg = SimConfig {
        agents,
        hours: 24.0,
        ..SimConfig::default()
    };
    let mut sim = Simulator::new(cfg);
    let (mut count, mut last_ts) = (0u64, i64::MIN);
    let (mut peak_calls, mut peak_agenda, mut peak_out) = (0, 0, 0);
    while let Some(event) = sim.next_event() {
        assert!(event.ts >= last_ts);
        last_ts = event.ts;
        count += 1;
        peak_calls = peak_calls.max(sim.calls.len());
        peak_agenda = peak_agenda.max(sim.agenda.len());
        peak_out = peak_out.max(sim.out.len());
    }
    println!("{count} events; peaks: {peak_calls} calls, {peak_agenda} agenda, {peak_out} out");
    assert!(count > 80_000, "only {count} events");
    assert!(peak_calls < agents, "{peak_calls} calls held");
    assert!(peak_agenda < 8 * agents, "{peak_agenda} agenda entries");
    // The plans published at the start, then a handful per action.
    assert!(peak_out <= 2 * agents, "{peak_out} events buffered");
}

#[test]
fn degenerate_configurations_do_not_panic() {
    for cfg in [
        SimConfig {
            agents: 0,
            ..SimConfig::default()
        },
        SimConfig {
            queues: 0,
            ..SimConfig::default()
        },
        SimConfig {
            queues: 7,
            ..SimConfig::default()
        },
        SimConfig {
            hours: 0.0,
            ..SimConfig::default()
        },
        SimConfig {
            hours: 0.1,
            ..SimConfig::default()
        },
        SimConfig {
            hours: f64::NAN,
            load: -1.0,
            ..SimConfig::default()
        },
    ] {
        for e in Simulator::new(cfg) {
            assert!(parse_event_str(&e.to_json()).is_ok());
        }
    }
}

/// `cargo test --release -p ingest -- --ignored --nocapture`
#[test]
#[ignore = "a timing, not a check: run it in release with --nocapture"]
fn speed_of_a_500_agent_day() {
    let cfg = SimConfig {
        agents: 500,
        hours: 24.0,
        ..SimConfig::default()
    };
    let started = std::time::Instant::now();
    let mut kinds: HashMap<Kind, u64> = HashMap::new();
    let mut bytes = 0usize;
    for event in Simulator::new(cfg) {
        bytes += event.to_json().len() + 1;
        *kinds.entry(event.kind()).or_default() += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total: u64 = kinds.values().sum();
    let mut kinds: Vec<_> = kinds.into_iter().collect();
    kinds.sort();
    println!(
        "{total} events ({:.1} MB of JSON) in {elapsed:.2} s: {:.0} events/s; {kinds:?}",
        bytes as f64 / 1e6,
        total as f64 / elapsed
    );
}
