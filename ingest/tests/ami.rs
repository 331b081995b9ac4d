//! The Asterisk AMI adapter: framing and translation of captured sessions
//! (`fixtures/ami/`, each file says where its format comes from), and the
//! TCP client against a local server replaying them.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use ingest::ami::{
    self, AgentKey, ClientConfig, ClientError, Clock, Frame, Framer, Message, Output, Timing,
    Translator, TranslatorConfig,
};
use wallboard_events::event::TimestampMs;
use wallboard_events::{parse_event_str, Event, EventBody};

/// The receive time the tests pretend (events with `Timestamp:` ignore it).
const NOW: TimestampMs = 1_700_006_100_000;

/// A fixture as AMI text: its `;` comment lines dropped.
fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/ami/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.starts_with(';'))
        .flat_map(|l| [l, "\r\n"])
        .collect()
}

/// The messages of a fixture, each as it goes on the wire.
fn messages(name: &str) -> Vec<String> {
    fixture(name)
        .split("\r\n\r\n")
        .filter(|m| !m.trim().is_empty())
        .map(|m| format!("{m}\r\n\r\n"))
        .collect()
}

struct Run {
    events: Vec<Event<'static>>,
    errors: Vec<String>,
    ignored: u64,
}

/// Frames and translates AMI text as the client does (responses skipped),
/// then settles what is still open.
fn translate_with(t: &mut Translator, text: &str) -> Run {
    let mut framer = Framer::without_banner(ami::DEFAULT_MAX_MESSAGE_BYTES);
    framer.push(text.as_bytes());
    let (mut events, mut errors) = (vec![], vec![]);
    let mut frames: Vec<Frame> = std::iter::from_fn(|| framer.next_frame()).collect();
    frames.extend(framer.finish());
    for f in frames {
        match f {
            Frame::Message { message, .. } if message.response().is_some() => {}
            Frame::Message { message, .. } => {
                if let Err(e) = t.translate(&message, NOW, &mut events) {
                    errors.push(e.to_string());
                }
            }
            Frame::Malformed(e) => errors.push(e.to_string()),
            Frame::Banner(b) => errors.push(format!("banner {b}")),
        }
    }
    Run {
        events,
        errors,
        ignored: t.ignored,
    }
}

fn translate(text: &str) -> Run {
    let mut t = Translator::new(tenant_acme());
    let mut run = translate_with(&mut t, text);
    t.finish(&mut run.events);
    run
}

fn tenant_acme() -> TranslatorConfig {
    TranslatorConfig {
        tenant: "acme".into(),
        ..TranslatorConfig::default()
    }
}

/// One event per line, every field that matters: the assertions below are
/// the exact canonical events.
fn line(e: &Event<'_>) -> String {
    let ts = e.ts;
    match &e.body {
        EventBody::CallQueued { call, queue, .. } => format!("{ts} queued {call}@{queue}"),
        EventBody::CallAnswered {
            call,
            queue,
            agent,
            wait_ms,
        } => format!("{ts} answered {call}@{queue} by {agent} wait {wait_ms:?}"),
        EventBody::CallAbandoned {
            call,
            queue,
            wait_ms,
        } => format!("{ts} abandoned {call}@{queue} wait {wait_ms:?}"),
        EventBody::CallDequeued {
            call,
            queue,
            reason,
            wait_ms,
        } => format!("{ts} dequeued {call}@{queue} {reason} wait {wait_ms:?}"),
        EventBody::CallBlocked {
            call,
            queue,
            reason,
        } => format!("{ts} blocked {call}@{queue} {reason}"),
        EventBody::CallCompleted {
            call,
            queue,
            agent,
            talk_ms,
            acw_ms,
            transferred,
            ..
        } => format!(
            "{ts} completed {call}@{queue} by {agent} talk {talk_ms} acw {acw_ms} transferred {transferred}"
        ),
        EventBody::AgentState {
            agent,
            state,
            reason,
            call,
        } => {
            let mut s = format!("{ts} {agent} {state}");
            if let Some(r) = reason {
                write!(s, " ({r})").unwrap();
            }
            if let Some(c) = call {
                write!(s, " call {c}").unwrap();
            }
            s
        }
        EventBody::AgentQueues { agent, queues } => format!("{ts} {agent} queues {queues:?}"),
        EventBody::Schedule { .. } => format!("{ts} schedule"),
        EventBody::Heartbeat { upstream } => format!("{ts} heartbeat {upstream}"),
        EventBody::FloorMessage(m) => format!("{ts} floor message {}", m.message),
        EventBody::SurveyResult(r) => format!("{ts} survey {}", r.call),
        EventBody::QualityEvaluation(q) => format!("{ts} evaluation {}", q.call),
    }
}

fn lines(events: &[Event<'_>]) -> Vec<String> {
    events.iter().map(line).collect()
}

/// Every event is valid canonical JSON and reads back as itself.
fn assert_canonical(events: &[Event<'static>]) {
    let mut ids = std::collections::HashSet::new();
    for e in events {
        let json = e.to_json();
        let back = parse_event_str(&json).unwrap_or_else(|err| panic!("{json}: {err}"));
        assert_eq!(&back.into_owned(), e, "{json}");
        assert_eq!(e.source.as_deref(), Some("asterisk-ami"));
        assert_eq!(e.tenant, "acme");
        assert!(ids.insert(e.id.clone()), "duplicate id {}", e.id);
    }
}

#[test]
fn an_answered_call() {
    let run = translate(&fixture("answered_call.ami"));
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    assert_eq!(
        lines(&run.events),
        [
            r#"1700000000010 PJSIP/1001 queues ["support"]"#,
            "1700000000010 PJSIP/1001 available",
            r#"1700000000020 PJSIP/1002 queues ["support"]"#,
            "1700000000020 PJSIP/1002 available",
            "1700000100120 queued 1700000100.101@support",
            "1700000100500 PJSIP/1001 ringing call 1700000100.101",
            "1700000100510 PJSIP/1002 ringing call 1700000100.101",
            // QueueCallerLeave came first: it is the answer's, not a dequeue.
            "1700000112410 answered 1700000100.101@support by PJSIP/1001 wait Some(12000)",
            "1700000112410 PJSIP/1001 on_call call 1700000100.101",
            // Ring-all: the other member stops ringing.
            "1700000112410 PJSIP/1002 available",
            // Device states that repeat what the events said add nothing.
            "1700000207500 completed 1700000100.101@support by PJSIP/1001 talk 95000 acw 0 transferred false",
            "1700000207500 PJSIP/1001 available",
        ]
    );
    assert_eq!(
        run.events[4].id,
        "ami:QueueCallerJoin:1700000100.101@support:1700000100.120000#1"
    );
    assert_eq!(
        run.events[7].id,
        "ami:AgentConnect:1700000100.101@support:1700000112.410000#1"
    );
    assert_eq!(
        run.events[9].id,
        "ami:AgentConnect:1700000100.101@support:1700000112.410000#3"
    );
    // The VarSet QUEUEPOSITION.
    assert_eq!(run.ignored, 1);
    assert_canonical(&run.events);
}

#[test]
fn the_same_capture_gives_the_same_events_however_it_is_split() {
    let text = fixture("answered_call.ami");
    let whole = translate(&text).events;
    for chunk in [1, 7, 100, 4096] {
        let mut t = Translator::new(tenant_acme());
        let mut framer = Framer::without_banner(ami::DEFAULT_MAX_MESSAGE_BYTES);
        let mut events = vec![];
        for piece in text.as_bytes().chunks(chunk) {
            framer.push(piece);
            while let Some(Frame::Message { message, .. }) = framer.next_frame() {
                t.translate(&message, NOW, &mut events).unwrap();
            }
        }
        assert_eq!(events, whole, "chunks of {chunk}");
    }
}

#[test]
fn an_answer_reported_before_the_leave_is_counted_once() {
    // Should a version send AgentConnect before QueueCallerLeave, the leave
    // is still the answer's.
    let msgs = messages("answered_call.ami");
    let leave = msgs
        .iter()
        .position(|m| m.contains("QueueCallerLeave"))
        .unwrap();
    let connect = msgs
        .iter()
        .position(|m| m.contains("AgentConnect"))
        .unwrap();
    let mut swapped = msgs.clone();
    swapped.swap(leave, connect);
    let a = translate(&msgs.concat()).events;
    let b = translate(&swapped.concat()).events;
    assert_eq!(lines(&a), lines(&b));
}

#[test]
fn abandoned_calls_with_and_without_hangup() {
    let run = translate(&fixture("abandoned_call.ami"));
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    assert_eq!(
        lines(&run.events),
        [
            r#"1700001000000 PJSIP/1001 queues ["sales"]"#,
            "1700001000000 PJSIP/1001 available",
            "1700001001000 queued 1700001001.201@sales",
            "1700001002000 PJSIP/1001 ringing call 1700001001.201",
            // Settled by the caller's Hangup, at the abandon's time.
            "1700001036250 abandoned 1700001001.201@sales wait Some(35000)",
            "1700001036250 PJSIP/1001 available",
            "1700001100000 queued 1700001100.301@sales",
            // Settled by a later event, 2 s of event time after.
            "1700001120000 abandoned 1700001100.301@sales wait Some(20000)",
        ]
    );
    assert_eq!(
        run.events[4].id,
        "ami:QueueCallerAbandon:1700001001.201@sales:1700001036.250000#1"
    );
    assert_eq!(
        run.events[5].id,
        format!(
            "{}",
            "ami:QueueCallerAbandon:1700001001.201@sales:1700001036.250000#2"
        )
    );
    assert_canonical(&run.events);
}

#[test]
fn dequeues_by_timeout_exit_key_and_empty_queue() {
    let run = translate(&fixture("dequeued_calls.ami"));
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    assert_eq!(
        lines(&run.events),
        [
            "1700002000000 queued 1700002000.401@sales",
            "1700002010000 queued 1700002010.402@sales",
            // Left without abandon nor answer: an exit key; wait since join.
            "1700002022500 dequeued 1700002010.402@sales exit_key wait Some(12500)",
            // QueueCallerAbandon, then QUEUESTATUS=TIMEOUT: not an abandon.
            "1700002300000 dequeued 1700002000.401@sales timeout wait Some(300000)",
            "1700002400000 queued 1700002400.403@sales",
            "1700002404000 dequeued 1700002400.403@sales empty wait Some(4000)",
        ]
    );
    assert_eq!(
        run.events[2].id,
        "ami:QueueCallerLeave:1700002010.402@sales:1700002022.500000#1"
    );
    // Two VarSet QUEUEPOSITION.
    assert_eq!(run.ignored, 2);
    assert_canonical(&run.events);
}

#[test]
fn pause_and_unpause_with_reasons() {
    let run = translate(&fixture("pause.ami"));
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    assert_eq!(
        lines(&run.events),
        [
            r#"1700003000000 PJSIP/1001 queues ["sales"]"#,
            "1700003000000 PJSIP/1001 available",
            r#"1700003000100 PJSIP/1001 queues ["sales", "support"]"#,
            r#"1700003000200 PJSIP/1002 queues ["support"]"#,
            "1700003000200 PJSIP/1002 available",
            // Paused in `sales` only it still takes `support` calls; once
            // paused in both it is not ready.
            "1700003060000 PJSIP/1001 not_ready (lunch)",
            "1700003100000 queued 1700003100.501@support",
            "1700003100100 PJSIP/1002 ringing call 1700003100.501",
            "1700003103010 answered 1700003100.501@support by PJSIP/1002 wait Some(3000)",
            "1700003103010 PJSIP/1002 on_call call 1700003100.501",
            // Paused during the call (Asterisk 13 style, `Reason` only):
            // not ready after it.
            "1700003163010 completed 1700003100.501@support by PJSIP/1002 talk 60000 acw 0 transferred false",
            "1700003163010 PJSIP/1002 not_ready (break)",
            "1700005000000 PJSIP/1001 available",
            // No reason given.
            "1700005100000 PJSIP/1001 not_ready (other)",
        ]
    );
    assert_canonical(&run.events);
}

#[test]
fn members_added_unreachable_busy_and_removed() {
    let run = translate(&fixture("members.ami"));
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    assert_eq!(
        lines(&run.events),
        [
            r#"1700004000000 PJSIP/1003 queues ["sales"]"#,
            "1700004000000 PJSIP/1003 available",
            r#"1700004000000 PJSIP/1003 queues ["sales", "support"]"#,
            "1700004100000 PJSIP/1003 logged_out",
            "1700004200000 PJSIP/1003 available",
            // A call outside the queues (device in use): on a call.
            "1700004300000 PJSIP/1003 on_call",
            "1700004400000 PJSIP/1003 available",
            r#"1700004500000 PJSIP/1003 queues ["support"]"#,
            r"1700004500000 PJSIP/1003 queues []",
            "1700004500000 PJSIP/1003 logged_out",
        ]
    );
    assert_canonical(&run.events);
}

#[test]
fn member_names_as_agents_like_queue_log() {
    let mut t = Translator::new(TranslatorConfig {
        agent_key: AgentKey::MemberName,
        ..tenant_acme()
    });
    let run = translate_with(&mut t, &fixture("answered_call.ami"));
    let agents: std::collections::BTreeSet<String> = run
        .events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::AgentState { agent, .. } => Some(agent.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(agents.into_iter().collect::<Vec<_>>(), ["Alice", "Bob"]);
}

#[test]
fn queue_status_resyncs_members_and_waiting_calls() {
    let mut t = Translator::new(tenant_acme());
    // First login of the process: state as listed, no call announced (the
    // previous adapter may have sent it).
    t.begin_resync();
    let run = translate_with(&mut t, &fixture("queue_status_1.ami"));
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    assert_eq!(
        lines(&run.events),
        [
            r#"1700006100000 PJSIP/1001 queues ["sales", "support"]"#,
            "1700006100000 PJSIP/1001 available",
            r#"1700006100000 PJSIP/1002 queues ["sales"]"#,
            "1700006100000 PJSIP/1002 on_call",
            r#"1700006100000 PJSIP/1003 queues ["sales"]"#,
            "1700006100000 PJSIP/1003 not_ready (lunch)",
        ]
    );
    assert_canonical(&run.events);
    // The waiting call is known: its leave is a dequeue with its wait.
    let mut t2 = Translator::new(tenant_acme());
    t2.begin_resync();
    translate_with(&mut t2, &fixture("queue_status_1.ami"));
    let mut out = vec![];
    let leave = Message::from_pairs([
        ("Event", "QueueCallerLeave"),
        ("Uniqueid", "1700006000.601"),
        ("Queue", "sales"),
    ]);
    t2.translate(&leave, NOW + 1_000, &mut out).unwrap();
    t2.finish(&mut out);
    assert_eq!(
        lines(&out),
        ["1700006101000 dequeued 1700006000.601@sales exit_key wait Some(43000)"]
    );

    // After a reconnect: what changed while away.
    t.begin_resync();
    let run = translate_with(&mut t, &fixture("queue_status_2.ami"));
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    assert_eq!(
        lines(&run.events),
        [
            "1700006100000 PJSIP/1003 available",
            r"1700006100000 PJSIP/1002 queues []",
            "1700006100000 PJSIP/1002 logged_out",
            // Joined while we were away: announced, with its wait.
            "1700006095000 queued 1700006200.602@sales",
            // Gone while we were away: we cannot know how.
            "1700006100000 dequeued 1700006000.601@sales other wait Some(42000)",
        ]
    );
    assert_canonical(&run.events);
}

#[test]
fn live_events_during_a_resync_win_over_the_answer() {
    let mut t = Translator::new(tenant_acme());
    t.begin_resync();
    let mut text = fixture("queue_status_1.ami");
    // Carol unpauses between the QueueMember list and QueueStatusComplete.
    let complete = text.find("Event: QueueStatusComplete").unwrap();
    text.insert_str(
        complete,
        "Event: QueueMemberPause\r\nTimestamp: 1700006100.500000\r\nQueue: sales\r\nMemberName: Carol\r\nInterface: PJSIP/1003\r\nStatus: 1\r\nPaused: 0\r\n\r\n",
    );
    let run = translate_with(&mut t, &text);
    let carol: Vec<String> = lines(&run.events)
        .into_iter()
        .filter(|l| l.contains("PJSIP/1003"))
        .collect();
    assert_eq!(
        carol,
        [
            r#"1700006100500 PJSIP/1003 queues ["sales"]"#,
            "1700006100500 PJSIP/1003 available",
        ]
    );
}

#[test]
fn resync_ids_stay_canonical_with_long_queue_names() {
    let long = "q".repeat(100);
    let with_long =
        |name: &str| fixture(name).replace("Queue: sales\r\n", &format!("Queue: {long}\r\n"));
    let mut t = Translator::new(tenant_acme());
    t.begin_resync();
    let first = translate_with(&mut t, &with_long("queue_status_1.ami"));
    t.begin_resync();
    let second = translate_with(&mut t, &with_long("queue_status_2.ami"));
    assert!(first.errors.is_empty() && second.errors.is_empty());
    // The call that joined while away is announced under a short id.
    assert!(
        lines(&second.events).contains(&format!("1700006095000 queued 1700006200.602@{long}")),
        "{:#?}",
        lines(&second.events)
    );
    let all: Vec<_> = first.events.into_iter().chain(second.events).collect();
    for e in &all {
        assert!(e.id.len() <= 128, "{}", e.id);
    }
    assert_canonical(&all);
}

#[test]
fn an_aborted_resync_lets_member_answers_apply_again() {
    let mut t = Translator::new(tenant_acme());
    t.begin_resync();
    assert!(t.resyncing());
    t.abort_resync();
    assert!(!t.resyncing());
    let member = "Event: QueueMember\r\nQueue: sales\r\nName: Dave\r\nLocation: PJSIP/1009\r\nInCall: 0\r\nStatus: 1\r\nPaused: 0\r\nActionID: someone-else\r\n\r\n";
    let run = translate_with(&mut t, member);
    assert_eq!(
        lines(&run.events),
        [
            r#"1700006100000 PJSIP/1009 queues ["sales"]"#,
            "1700006100000 PJSIP/1009 available",
        ]
    );
}

#[test]
fn garbage_unknown_and_truncated_input_is_reported_not_fatal() {
    let run = translate(&fixture("garbage.ami"));
    assert_eq!(
        run.errors,
        [
            r#"line without `Key: Value` form: "this line is noise""#,
            "QueueCallerJoin: missing Uniqueid",
            r#"line without `Key: Value` form: "more noise inside a message""#,
            r#"AgentConnect: HoldTime "twelve" is not whole seconds"#,
            r#"QueueCallerJoin: Timestamp "yesterday" is not Unix seconds"#,
            "truncated message: the stream ended before its closing empty line",
        ]
    );
    // What was whole still went through; the unknown event is counted.
    assert_eq!(
        lines(&run.events),
        ["1700007003000 queued 1700007003.703@sales"]
    );
    assert_eq!(run.ignored, 1);
}

#[test]
fn oversize_messages_are_reported_and_skipped() {
    let big = format!(
        "Event: VarSet\r\nUniqueid: 1.1\r\nVariable: HUGE\r\nValue: {}\r\n\r\n",
        "x".repeat(100 * 1024)
    );
    let text = format!("{big}{}", messages("dequeued_calls.ami")[0]);
    let run = translate(&text);
    assert_eq!(
        run.errors,
        ["message larger than 65536 bytes, skipped to its end"]
    );
    assert_eq!(
        lines(&run.events),
        ["1700002000000 queued 1700002000.401@sales"]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn mangled_captures_never_panic(which in 0..6usize, at in any::<prop::sample::Index>(), cut in any::<prop::sample::Index>(), with in any::<u8>()) {
        let name = ["answered_call.ami", "abandoned_call.ami", "dequeued_calls.ami", "pause.ami", "members.ami", "queue_status_1.ami"][which];
        let mut bytes = fixture(name).into_bytes();
        let i = at.index(bytes.len());
        bytes[i] = with;
        bytes.truncate(cut.index(bytes.len()) + 1);
        let mut t = Translator::new(TranslatorConfig::default());
        t.begin_resync();
        let mut framer = Framer::new(512);
        framer.push(&bytes);
        let mut out = vec![];
        while let Some(f) = framer.next_frame() {
            if let Frame::Message { message, .. } = f {
                let _ = t.translate(&message, NOW, &mut out);
            }
        }
        let _ = framer.finish();
        t.finish(&mut out);
        for e in &out {
            prop_assert!(parse_event_str(&e.to_json()).is_ok(), "{}", e.to_json());
        }
    }
}

// ---------------------------------------------------------------------------
// The client against a local server.

#[derive(Clone, Copy)]
struct FixedClock;

impl Clock for FixedClock {
    fn now_ms(&self) -> TimestampMs {
        NOW
    }
}

/// What the test server does on one connection.
#[derive(Clone, Default)]
struct Conn {
    refuse_login: bool,
    /// The answer to `QueueStatus` (a fixture), then these messages.
    queue_status: String,
    events: Vec<String>,
    /// Bytes sent after the events, before closing (a message cut short).
    tail: String,
    /// Close after sending; otherwise keep serving until the client leaves.
    close: bool,
    answer_pings: bool,
    /// Sent before the answer to the second Ping (the first keep-alive).
    burst_before_pong: Vec<String>,
}

/// Serves AMI sessions, one script per connection (the last one repeats);
/// records the actions each connection received.
async fn server(script: Vec<Conn>) -> (u16, Arc<Mutex<Vec<Vec<Message>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        for i in 0.. {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let conn = script[i.min(script.len() - 1)].clone();
            log.lock().unwrap().push(Vec::new());
            let log = log.clone();
            tokio::spawn(async move {
                let _ = serve(sock, conn, i, log).await;
            });
        }
    });
    (port, seen)
}

async fn serve(
    mut sock: TcpStream,
    conn: Conn,
    i: usize,
    log: Arc<Mutex<Vec<Vec<Message>>>>,
) -> std::io::Result<()> {
    sock.write_all(b"Asterisk Call Manager/5.0.1\r\n").await?;
    let mut framer = Framer::without_banner(ami::DEFAULT_MAX_MESSAGE_BYTES);
    let mut buf = vec![0; 4096];
    let mut pings = 0;
    loop {
        let n = sock.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        framer.push(&buf[..n]);
        while let Some(Frame::Message {
            message: action, ..
        }) = framer.next_frame()
        {
            log.lock().unwrap()[i].push(action.clone());
            let id = action.action_id().unwrap_or("").to_owned();
            match action.get("Action").unwrap_or("") {
                "Login" if conn.refuse_login => {
                    let reply = format!("Response: Error\r\nActionID: {id}\r\nMessage: Authentication failed\r\n\r\n");
                    sock.write_all(reply.as_bytes()).await?;
                    return Ok(());
                }
                "Login" => {
                    let reply = format!("Response: Success\r\nActionID: {id}\r\nMessage: Authentication accepted\r\n\r\nEvent: FullyBooted\r\nPrivilege: system,all\r\nUptime: 100\r\nLastReload: 100\r\nStatus: Fully Booted\r\n\r\n");
                    sock.write_all(reply.as_bytes()).await?;
                }
                "QueueStatus" => {
                    let answer = conn.queue_status.replace("wallboard-resync-1", &id);
                    sock.write_all(answer.as_bytes()).await?;
                    for m in &conn.events {
                        sock.write_all(m.as_bytes()).await?;
                    }
                    sock.write_all(conn.tail.as_bytes()).await?;
                    if conn.close {
                        sock.shutdown().await?;
                        return Ok(());
                    }
                }
                "Ping" if conn.answer_pings => {
                    pings += 1;
                    if pings == 2 {
                        sock.write_all(conn.burst_before_pong.concat().as_bytes())
                            .await?;
                    }
                    let reply = format!("Response: Success\r\nActionID: {id}\r\nPing: Pong\r\nTimestamp: 1700006100.000000\r\n\r\n");
                    sock.write_all(reply.as_bytes()).await?;
                }
                _ => {}
            }
        }
    }
}

fn client_config(port: u16) -> ClientConfig {
    let mut cfg = ClientConfig::new("127.0.0.1", port, "wallboard", "s3cret".into());
    cfg.translator.tenant = "acme".into();
    cfg.timing = Timing {
        connect_timeout: Duration::from_secs(2),
        login_timeout: Duration::from_secs(2),
        ping_interval: Duration::from_millis(50),
        // Generous: a loaded CI machine must not lose a healthy session.
        ping_timeout: Duration::from_secs(2),
        backoff_min: Duration::from_millis(10),
        backoff_max: Duration::from_millis(80),
        tick_interval: Duration::from_millis(20),
    };
    cfg
}

struct Client {
    rx: mpsc::Receiver<Output>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<ami::Stats, ClientError>>,
    seen: Vec<Output>,
}

fn start(cfg: ClientConfig) -> Client {
    let (tx, rx) = mpsc::channel(64);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(ami::run(cfg, FixedClock, tx, async {
        let _ = stopped.await;
    }));
    Client {
        rx,
        stop: Some(stop),
        task,
        seen: vec![],
    }
}

impl Client {
    /// Reads updates until one satisfies `until` (at most 10 s).
    async fn wait_for(&mut self, what: &str, until: impl Fn(&Output) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let u = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("no {what} within 10 s; got {:#?}", self.seen))
                .unwrap_or_else(|| panic!("the client ended before {what}; got {:#?}", self.seen));
            let done = until(&u);
            self.seen.push(u);
            if done {
                return;
            }
        }
    }

    async fn stop(mut self) -> (Result<ami::Stats, ClientError>, Vec<Output>) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let Client {
            mut rx,
            task,
            mut seen,
            ..
        } = self;
        // Drain while it finishes so it never blocks on a full channel.
        let drain = tokio::spawn(async move {
            while let Some(u) = rx.recv().await {
                seen.push(u);
            }
            seen
        });
        let result = task.await.unwrap();
        (result, drain.await.unwrap())
    }
}

fn events(updates: &[Output]) -> Vec<&Event<'static>> {
    updates
        .iter()
        .filter_map(|u| match u {
            Output::Event(e) => Some(e),
            _ => None,
        })
        .collect()
}

fn is_event(u: &Output, want: impl Fn(&EventBody<'_>) -> bool) -> bool {
    matches!(u, Output::Event(e) if want(&e.body))
}

#[tokio::test]
async fn a_session_logs_in_resyncs_and_replays_a_capture() {
    let (port, seen) = server(vec![Conn {
        queue_status: fixture("queue_status_1.ami"),
        events: messages("answered_call.ami"),
        answer_pings: true,
        ..Conn::default()
    }])
    .await;
    let mut c = start(client_config(port));
    c.wait_for("the completed call", |u| {
        is_event(u, |b| matches!(b, EventBody::CallCompleted { .. }))
    })
    .await;
    // Keep-alive pings are answered: the session stays up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (result, updates) = c.stop().await;
    let stats = result.unwrap();
    assert!(
        matches!(&updates[0], Output::Connected { banner: Some(banner), session: 1 } if banner == "Asterisk Call Manager/5.0.1")
    );
    assert!(
        !updates
            .iter()
            .any(|u| matches!(u, Output::Disconnected { .. } | Output::Skipped(_))),
        "{updates:#?}"
    );
    let evs = events(&updates);
    // The resync first (as in the translator test), then the capture.
    assert_eq!(
        line(evs[0]),
        r#"1700006100000 PJSIP/1001 queues ["sales", "support"]"#
    );
    let answered: Vec<_> = evs
        .iter()
        .filter(|e| matches!(e.body, EventBody::CallAnswered { .. }))
        .collect();
    assert_eq!(answered.len(), 1);
    assert_eq!(
        answered[0].id,
        "ami:AgentConnect:1700000100.101@support:1700000112.410000#1"
    );
    for e in &evs {
        parse_event_str(&e.to_json()).unwrap();
    }
    assert_eq!(stats.reconnects, 0);
    assert_eq!(stats.events, evs.len() as u64);
    assert_eq!(stats.skipped, 0);
    // FullyBooted, two QueueParams and the VarSet.
    assert_eq!(stats.ignored, 4);
    let actions = seen.lock().unwrap()[0].clone();
    assert_eq!(actions[0].get("Action"), Some("Login"));
    assert_eq!(actions[0].get("Username"), Some("wallboard"));
    assert_eq!(actions[0].get("Secret"), Some("s3cret"));
    assert_eq!(actions[0].get("Events"), Some("on"));
    // A Ping first: its answer's Timestamp aligns the clocks for the
    // QueueStatus answer, which has none.
    assert_eq!(actions[1].get("Action"), Some("Ping"));
    assert_eq!(actions[2].get("Action"), Some("QueueStatus"));
    assert!(actions[3..].iter().any(|a| a.get("Action") == Some("Ping")));
}

#[tokio::test]
async fn a_dropped_connection_reconnects_and_resyncs() {
    let capture = messages("abandoned_call.ami");
    // Cut in the middle of the fifth message (the QueueCallerLeave).
    let cut = &capture[4][..capture[4].len() / 2];
    let (port, seen) = server(vec![
        Conn {
            queue_status: fixture("queue_status_1.ami"),
            events: capture[..4].to_vec(),
            tail: cut.to_owned(),
            close: true,
            answer_pings: true,
            ..Conn::default()
        },
        Conn {
            queue_status: fixture("queue_status_2.ami"),
            events: capture[5..].to_vec(),
            answer_pings: true,
            ..Conn::default()
        },
    ])
    .await;
    let mut c = start(client_config(port));
    c.wait_for("the reconnection", |u| {
        matches!(u, Output::Connected { session: 2, .. })
    })
    .await;
    c.wait_for("the second abandon", |u| {
        is_event(
            u,
            |b| matches!(b, EventBody::CallAbandoned { call, .. } if call == "1700001100.301"),
        )
    })
    .await;
    let (result, updates) = c.stop().await;
    let stats = result.unwrap();
    assert_eq!(stats.reconnects, 1);
    assert_eq!(seen.lock().unwrap().len(), 2);
    // The cut message was reported, then the loss.
    let skipped = updates
        .iter()
        .position(|u| {
            matches!(
                u,
                Output::Skipped(s) if s.code == "ami_truncated"
            )
        })
        .expect("the truncated message is reported");
    assert!(
        matches!(&updates[skipped + 1], Output::Disconnected { reason, .. } if reason.contains("closed"))
    );
    let after: Vec<String> = events(&updates[skipped..])
        .into_iter()
        .map(|e| line(e))
        .collect();
    let has = |s: &str| after.iter().any(|l| l.ends_with(s));
    // The resync: Bob was removed, a call joined, another left.
    assert!(has("PJSIP/1002 logged_out"), "{after:#?}");
    assert!(has("queued 1700006200.602@sales"), "{after:#?}");
    assert!(
        has("dequeued 1700006000.601@sales other wait Some(42000)"),
        "{after:#?}"
    );
    // The call abandoned before the cut is settled by its Hangup after it.
    assert!(
        has("abandoned 1700001001.201@sales wait Some(35000)"),
        "{after:#?}"
    );
    assert!(
        has("abandoned 1700001100.301@sales wait Some(20000)"),
        "{after:#?}"
    );
    // The second session asked for QueueStatus again.
    let second = seen.lock().unwrap()[1].clone();
    assert_eq!(second[2].get("Action"), Some("QueueStatus"));
}

#[tokio::test]
async fn a_refused_login_is_a_clear_error_and_not_retried() {
    let (port, seen) = server(vec![Conn {
        refuse_login: true,
        ..Conn::default()
    }])
    .await;
    let c = start(client_config(port));
    let result = tokio::time::timeout(Duration::from_secs(10), c.task)
        .await
        .unwrap()
        .unwrap();
    let err = result.unwrap_err();
    assert!(
        matches!(&err, ClientError::Authentication { message, .. } if message == "Authentication failed")
    );
    let text = err.to_string();
    assert!(text.contains("refused: Authentication failed"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(seen.lock().unwrap().len(), 1, "no second attempt");
}

#[tokio::test]
async fn unanswered_pings_lead_to_a_reconnect() {
    let (port, _) = server(vec![
        Conn {
            queue_status: fixture("queue_status_1.ami"),
            answer_pings: false,
            ..Conn::default()
        },
        Conn {
            queue_status: fixture("queue_status_1.ami"),
            answer_pings: true,
            ..Conn::default()
        },
    ])
    .await;
    let mut cfg = client_config(port);
    cfg.timing.ping_timeout = Duration::from_millis(150);
    let mut c = start(cfg);
    c.wait_for("the reconnection", |u| {
        matches!(u, Output::Connected { session: 2, .. })
    })
    .await;
    let (result, updates) = c.stop().await;
    assert!(result.unwrap().reconnects >= 1);
    assert!(
        updates.iter().any(
            |u| matches!(u, Output::Disconnected { reason, .. } if reason.contains("no answer to Ping"))
        ),
        "{updates:#?}"
    );
}

#[tokio::test]
async fn a_slow_receiver_does_not_make_answered_pings_time_out() {
    // Far more events than the channel holds, then the Pong: the client
    // waits for its receiver far longer than ping_timeout.
    let n = 2000;
    let burst: Vec<String> = (0..n)
        .map(|i| format!("Event: QueueCallerJoin\r\nTimestamp: 1700006100.000000\r\nQueue: sales\r\nUniqueid: 1700006100.{i}\r\nPosition: 1\r\nCount: 1\r\n\r\n"))
        .collect();
    let (port, seen) = server(vec![Conn {
        queue_status: fixture("queue_status_1.ami"),
        answer_pings: true,
        burst_before_pong: burst,
        ..Conn::default()
    }])
    .await;
    let mut cfg = client_config(port);
    cfg.timing.ping_timeout = Duration::from_millis(100);
    let mut c = start(cfg);
    c.wait_for("the login", |u| matches!(u, Output::Connected { .. }))
        .await;
    // A consumer stuck in a long flush.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let last = format!("1700006100.{}", n - 1);
    c.wait_for("the last call", |u| {
        is_event(
            u,
            |b| matches!(b, EventBody::CallQueued { call, .. } if *call == last),
        )
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (result, updates) = c.stop().await;
    assert!(
        !updates
            .iter()
            .any(|u| matches!(u, Output::Disconnected { .. })),
        "{:#?}",
        updates
            .iter()
            .filter(|u| !matches!(u, Output::Event(_)))
            .collect::<Vec<_>>()
    );
    assert_eq!(result.unwrap().reconnects, 0);
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_refused_queue_status_leaves_live_events_translated() {
    let mut live = vec![
        // An answer to someone else's QueueStatus: applied as it comes.
        "Event: QueueMember\r\nQueue: sales\r\nName: Dave\r\nLocation: PJSIP/1009\r\nInCall: 0\r\nStatus: 1\r\nPaused: 0\r\nActionID: someone-else\r\n\r\n".to_owned(),
    ];
    live.extend(messages("answered_call.ami"));
    let (port, _) = server(vec![Conn {
        queue_status:
            "Response: Error\r\nActionID: wallboard-resync-1\r\nMessage: Permission denied\r\n\r\n"
                .into(),
        events: live,
        answer_pings: true,
        ..Conn::default()
    }])
    .await;
    let mut c = start(client_config(port));
    c.wait_for("the completed call", |u| {
        is_event(u, |b| matches!(b, EventBody::CallCompleted { .. }))
    })
    .await;
    let (result, updates) = c.stop().await;
    assert_eq!(result.unwrap().reconnects, 0);
    let lines: Vec<String> = events(&updates).into_iter().map(|e| line(e)).collect();
    assert!(
        lines.contains(&r#"1700006100000 PJSIP/1009 queues ["sales"]"#.to_owned()),
        "{lines:#?}"
    );
    assert!(lines.iter().any(|l| l.contains(" answered ")), "{lines:#?}");
}

#[tokio::test]
async fn without_reconnect_the_client_stops_when_the_server_closes() {
    let mut capture = messages("dequeued_calls.ami");
    // Noise over the wire too: a garbage line and an oversize message.
    capture.insert(1, "garbage line\r\n".into());
    capture.insert(
        2,
        format!("Event: VarSet\r\nValue: {}\r\n\r\n", "x".repeat(70 * 1024)),
    );
    let (port, seen) = server(vec![Conn {
        queue_status: fixture("queue_status_1.ami"),
        events: capture,
        close: true,
        answer_pings: true,
        ..Conn::default()
    }])
    .await;
    let mut cfg = client_config(port);
    cfg.reconnect = false;
    let c = start(cfg);
    let (tx_done, rx_done) = oneshot::channel();
    let Client { mut rx, task, .. } = c;
    tokio::spawn(async move {
        let mut all = vec![];
        while let Some(u) = rx.recv().await {
            all.push(u);
        }
        let _ = tx_done.send(all);
    });
    let stats = tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let updates = rx_done.await.unwrap();
    assert_eq!(stats.reconnects, 0);
    assert_eq!(seen.lock().unwrap().len(), 1);
    let codes: Vec<&str> = updates
        .iter()
        .filter_map(|u| match u {
            // The code is a `DeadLetterCode`: compared in its wire form.
            Output::Skipped(s) => Some(s.code.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(codes, ["ami_garbage", "ami_too_large"]);
    // Every call settled, the last ones at the end of the stream.
    let outcomes = events(&updates)
        .iter()
        .filter(|e| matches!(e.body, EventBody::CallDequeued { .. }))
        .count();
    assert_eq!(outcomes, 3);
    assert!(!updates
        .iter()
        .any(|u| matches!(u, Output::Disconnected { .. })));
}
