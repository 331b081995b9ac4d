//! The `queue_log` adapter. Against a simulated day: the `queue_log` Asterisk
//! would have written for the simulator's calls (whole seconds, no
//! after-call work), replayed through the adapter, gives the canonical
//! trace's answered, abandoned and dequeued counts per queue and interval,
//! and exactly the report the documented mapping implies for everything
//! else. And `wallboard ingest queue-log` following a live file through a
//! rotation and a restart: every line published once.

// An end-to-end scenario reads best as one story, start to finish.
#![allow(clippy::too_many_lines)]

mod common;

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::KillOnDrop;

use aggregator::{interval_report, Engine, IntervalReport, MetricsConfig, Range};
use ingest::queue_log::QueueLogWriter;
use ingest::simulate::{SimConfig, Simulator};
use serde_json::Value;
use wallboard::replay::{replay, replay_queue_log};
use wallboard_events::{AgentState, BlockedReason, DequeueReason, Event, EventBody};

const TENANT: &str = "default";

fn day(seed: u64) -> Vec<Event<'static>> {
    Simulator::new(SimConfig {
        seed,
        tenant: TENANT.to_owned(),
        agents: 60,
        queues: 4,
        hours: 10.0,
        load: 1.5,
        ..SimConfig::default()
    })
    .collect()
}

fn engine() -> Engine {
    let c = MetricsConfig {
        interval_minutes: 30,
        tz: "Asia/Shanghai".into(),
        sl_thresholds_s: vec![20, 30],
        short_abandon_s: 5,
        // A whole file: remember every id.
        dedup_window_minutes: 7 * 24 * 60,
        ..MetricsConfig::default()
    };
    Engine::new(c.validate().expect("valid settings"))
}

fn report(engine: &Engine) -> Value {
    let t = engine.tenant(TENANT).expect("events were applied");
    let r: IntervalReport = interval_report(t, t.max_ts().expect("events"), Range::default());
    serde_json::to_value(r).expect("reports serialize")
}

fn jsonl(events: &[Event<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in events {
        serde_json::to_writer(&mut out, e).unwrap();
        out.push(b'\n');
    }
    out
}

fn replay_events(events: &[Event<'_>]) -> Value {
    let mut e = engine();
    let s = replay(&jsonl(events)[..], &mut e, Some(TENANT), None).unwrap();
    assert_eq!(s.rejected, 0, "{:?}", s.first_rejections);
    report(&e)
}

fn replay_queue_log_text(text: &str) -> Value {
    let mut e = engine();
    let s = replay_queue_log(text.as_bytes(), &mut e, Some(TENANT), None).unwrap();
    assert_eq!(s.rejected, 0, "{:?}", s.first_rejections);
    assert_eq!(s.duplicates, 0);
    report(&e)
}

fn secs(ts: i64) -> i64 {
    ts.div_euclid(1000)
}

/// What `adapters.md` makes of the trace, computed straight from the
/// canonical events: times in whole seconds, waits and talk as differences
/// of whole seconds, a call completed when its talk ends (no after-call work,
/// no hold), dequeues other than by key or an empty queue seen as timeouts,
/// ringing and wrap-up seen as available, members named by interface, no
/// schedules.
fn implied(events: &[Event<'static>]) -> Vec<Event<'static>> {
    let mut queued: HashMap<(String, String), i64> = HashMap::new();
    let mut answered: HashMap<(String, String), i64> = HashMap::new();
    let iface = |a: &str| Cow::Owned(format!("PJSIP/{a}"));
    let mut out: Vec<(i64, usize, Event<'static>)> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let s = secs(e.ts);
        let key = |c: &str, q: &str| (c.to_owned(), q.to_owned());
        let mut moment = e.ts;
        let body = match &e.body {
            EventBody::CallQueued { call, queue, .. } => {
                queued.insert(key(call, queue), s);
                EventBody::CallQueued {
                    call: call.clone(),
                    queue: queue.clone(),
                    priority: None,
                    caller: None,
                }
            }
            EventBody::CallAnswered {
                call, queue, agent, ..
            } => {
                answered.insert(key(call, queue), s);
                EventBody::CallAnswered {
                    call: call.clone(),
                    queue: queue.clone(),
                    agent: iface(agent),
                    wait_ms: Some(ms(s - queued[&key(call, queue)])),
                }
            }
            EventBody::CallAbandoned { call, queue, .. } => EventBody::CallAbandoned {
                call: call.clone(),
                queue: queue.clone(),
                wait_ms: Some(ms(s - queued[&key(call, queue)])),
            },
            EventBody::CallDequeued {
                call,
                queue,
                reason,
                ..
            } => EventBody::CallDequeued {
                call: call.clone(),
                queue: queue.clone(),
                reason: match reason {
                    DequeueReason::ExitKey | DequeueReason::Empty => *reason,
                    _ => DequeueReason::Timeout,
                },
                wait_ms: Some(ms(s - queued[&key(call, queue)])),
            },
            EventBody::CallCompleted {
                call,
                queue,
                agent,
                acw_ms,
                transferred,
                ..
            } => {
                moment = e.ts - i64::try_from(*acw_ms).unwrap();
                let talk = secs(moment) - answered[&key(call, queue)];
                EventBody::CallCompleted {
                    call: call.clone(),
                    queue: queue.clone(),
                    agent: iface(agent),
                    talk_ms: ms(talk),
                    hold_ms: 0,
                    acw_ms: 0,
                    transferred: *transferred,
                }
            }
            EventBody::AgentState {
                agent,
                state,
                reason,
                ..
            } => {
                let (state, reason) = match state {
                    AgentState::Ringing | AgentState::Acw => (AgentState::Available, None),
                    AgentState::NotReady => (
                        AgentState::NotReady,
                        Some(reason.clone().unwrap_or(Cow::Borrowed("other"))),
                    ),
                    s => (*s, None),
                };
                EventBody::AgentState {
                    agent: iface(agent),
                    state,
                    reason,
                    call: None,
                }
            }
            EventBody::AgentQueues { agent, queues } => EventBody::AgentQueues {
                agent: iface(agent),
                queues: queues.clone(),
            },
            EventBody::CallBlocked { .. } if !asterisk_refusal(&e.body) => continue,
            EventBody::CallBlocked { .. } => e.body.clone(),
            EventBody::Schedule { .. }
            | EventBody::Heartbeat { .. }
            | EventBody::FloorMessage(_)
            | EventBody::SurveyResult(_)
            | EventBody::QualityEvaluation(_) => continue,
        };
        let event = Event {
            id: Cow::Owned(format!("i{i}")),
            ts: secs(moment) * 1000,
            source: None,
            body,
            ..e.clone()
        };
        out.push((moment, i, event));
    }
    out.sort_by_key(|(m, i, _)| (*m, *i));
    out.into_iter().map(|(_, _, e)| e).collect()
}

fn rows(report: &Value) -> Vec<&Value> {
    report["queues"].as_array().unwrap().iter().collect()
}

#[test]
fn a_simulated_day_through_queue_log_keeps_its_counts_and_the_mapped_numbers() {
    for seed in [7, 8] {
        let events = day(seed);
        let mut writer = QueueLogWriter::new("PJSIP/");
        for e in &events {
            writer.push(e);
        }
        let text = writer.finish().join("\n");
        let through_adapter = replay_queue_log_text(&text);
        let canonical = replay_events(&events);

        // Same rows, and the call counts of the canonical trace.
        let (a, c) = (rows(&through_adapter), rows(&canonical));
        assert_eq!(a.len(), c.len(), "seed {seed}: rows");
        let mut calls = 0;
        for (a, c) in a.iter().zip(&c) {
            for f in ["queue", "start_ms", "entered", "answered", "dequeued"] {
                assert_eq!(
                    a[f], c[f],
                    "seed {seed}: {f} of {} at {}",
                    c["queue"], c["start"]
                );
            }
            // Whole seconds can make an abandon short (or not): all
            // abandons together are the same.
            let abandons = |r: &Value| {
                r["abandoned"].as_u64().unwrap() + r["short_abandoned"].as_u64().unwrap()
            };
            assert_eq!(
                abandons(a),
                abandons(c),
                "seed {seed}: abandons at {}",
                c["start"]
            );
            calls += c["entered"].as_u64().unwrap();
        }
        assert!(calls > 2000, "a busy day: {calls} calls");

        // Everything else exactly as the mapping implies.
        let mapped = replay_events(&implied(&events));
        for (section, key) in [("queues", "queue"), ("agents", "agent")] {
            let (got, want) = (
                through_adapter[section].as_array().unwrap(),
                mapped[section].as_array().unwrap(),
            );
            assert_eq!(got.len(), want.len(), "seed {seed}: {section} rows");
            for (g, w) in got.iter().zip(want) {
                assert_eq!(
                    g, w,
                    "seed {seed}: {section} row of {} at {}",
                    w[key], w["start_ms"]
                );
            }
        }
        assert_eq!(through_adapter, mapped);
    }
}

/// `queue_log` has lines only for the refusals Asterisk makes itself.
fn asterisk_refusal(body: &EventBody<'_>) -> bool {
    !matches!(
        body,
        EventBody::CallBlocked {
            reason: BlockedReason::Closed | BlockedReason::Other,
            ..
        }
    )
}

/// Whole seconds (never negative in these traces) as milliseconds.
fn ms(secs: i64) -> u64 {
    u64::try_from(secs).expect("a span of the trace") * 1000
}

fn append(path: &Path, lines: &[String]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
}

/// Calls entering the queue, one line (and one event) each.
fn calls(from: usize, n: usize) -> Vec<String> {
    (from..from + n)
        .map(|i| format!("{}|c{i}|sales|NONE|ENTERQUEUE||555|1", 1_795_400_000 + i))
        .collect()
}

/// The ids published so far to `out`.
fn ids(out: &Path) -> Vec<String> {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("events are JSON"))
        // The follower's heartbeats (events.md) are not lines of the file.
        .filter(|v| v["kind"] != "heartbeat")
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits until `out` holds `n` events.
fn wait_for(out: &Path, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = ids(out);
        if got.len() >= n {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} events in {}",
            got.len(),
            out.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn follow(file: &Path, checkpoint: &Path, out: &Path) -> KillOnDrop {
    KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_wallboard"))
            .args(["ingest", "queue-log", "--poll-ms", "20", "--checkpoint"])
            .arg(checkpoint)
            .arg("--jsonl")
            .arg(out)
            .arg(file)
            .stderr(Stdio::piped())
            .spawn()
            .expect("run wallboard"),
    )
}

/// Stops the follower as a service manager does (SIGTERM) and returns
/// what it said.
fn terminate(mut p: KillOnDrop) -> String {
    let status = Command::new("kill")
        .args(["-TERM", &p.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut said = String::new();
    std::io::Read::read_to_string(&mut p.0.stderr.take().unwrap(), &mut said).unwrap();
    assert!(p.0.wait().unwrap().success(), "{said}");
    said
}

#[test]
fn a_followed_queue_log_is_published_once_through_rotation_and_restart() {
    let dir = std::env::temp_dir().join(format!("wb-qlfollow-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (log, ckpt) = (dir.join("queue_log"), dir.join("queue_log.ckpt"));
    let (out1, out2) = (dir.join("out1.jsonl"), dir.join("out2.jsonl"));
    let id = |file: &str, line: usize| {
        format!(
            "{}:{line}:1",
            ingest::queue_log::file_identity(file.as_bytes())
        )
    };

    append(&log, &calls(0, 3));
    let p = follow(&log, &ckpt, &out1);
    wait_for(&out1, 3);
    append(&log, &calls(3, 2));
    wait_for(&out1, 5);
    // logrotate: rename, Asterisk's last lines into the old file, a new one.
    std::fs::rename(&log, dir.join("queue_log.1")).unwrap();
    append(&dir.join("queue_log.1"), &calls(5, 1));
    append(&log, &calls(6, 2));
    let first = wait_for(&out1, 8);
    let said = terminate(p);
    assert!(said.contains("rotated"), "{said}");

    // Lines written while it was stopped come after a restart, once.
    append(&log, &calls(8, 2));
    let p = follow(&log, &ckpt, &out2);
    let second = wait_for(&out2, 2);
    terminate(p);

    let (a, b) = (calls(0, 1).remove(0), calls(6, 1).remove(0));
    let mut want: Vec<String> = (1..=6).map(|l| id(&a, l)).collect();
    want.extend((1..=4).map(|l| id(&b, l)));
    let got: Vec<String> = first.into_iter().chain(second).collect();
    assert_eq!(got, want);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn importing_a_missing_queue_log_is_an_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_wallboard"))
        .args([
            "ingest",
            "queue-log",
            "--once",
            "/no/such/queue_log",
            "--jsonl",
            "-",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("cannot open /no/such/queue_log"), "{said}");
}
