//! The `FreeSWITCH` adapter end to end: the client against a local server
//! speaking the event socket protocol and replaying captured-format
//! `mod_callcenter` events (`tests/fixtures/esl/`): a whole session, a
//! connection dropped mid-capture, a refused password, a server that stops
//! answering keep-alives, and bad input of every kind.

mod common;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use ingest::esl::{run, ClientConfig, ClientError, Decoder, EslTranslator, Item, Output, Stats};
use wallboard_events::event::Event;

const FIXTURES: &[&str] = &[
    "answered",
    "wrapup",
    "abandoned",
    "timeout",
    "exit_key",
    "agents",
];

/// The event bodies of a fixture (`#` comments, then plain event bodies
/// separated by empty lines), each as `FreeSWITCH` serialises it.
fn fixture(name: &str) -> Vec<String> {
    common::esl_fixture_bodies(name)
}

/// A `text/event-plain` message as `mod_event_socket` sends it.
fn plain(body: &str) -> String {
    format!(
        "Content-Length: {}\nContent-Type: text/event-plain\n\n{body}",
        body.len()
    )
}

/// Every fixture as one stream of messages.
fn capture() -> Vec<String> {
    FIXTURES
        .iter()
        .flat_map(|f| fixture(f))
        .map(|b| plain(&b))
        .collect()
}

/// What translating the capture directly gives, as JSON lines.
fn expected() -> Vec<String> {
    let mut t = EslTranslator::new("default");
    let mut out = Vec::new();
    let mut d = Decoder::default();
    for m in capture() {
        d.push(m.as_bytes());
        while let Some(Item::Frame(f)) = d.next_item() {
            let ev = ingest::esl::parse_plain_event(f.body()).unwrap();
            t.translate(&ev, &mut out).unwrap();
        }
    }
    out.iter().map(Event::to_json).collect()
}

#[test]
fn the_capture_reads_the_same_in_any_pieces() {
    let stream: String = capture().concat();
    let want = expected();
    assert_eq!(want.len(), 37);
    for piece in [1, 7, 100, 4096] {
        let mut t = EslTranslator::new("default");
        let mut out = Vec::new();
        let mut d = Decoder::default();
        for chunk in stream.as_bytes().chunks(piece) {
            d.push(chunk);
            while let Some(item) = d.next_item() {
                let Item::Frame(f) = item else {
                    panic!("{item:?}")
                };
                let ev = ingest::esl::parse_plain_event(f.body()).unwrap();
                t.translate(&ev, &mut out).unwrap();
            }
        }
        assert!(d.finish().is_none());
        let got: Vec<String> = out
            .iter()
            .map(|e| {
                let json = e.to_json();
                wallboard_events::parse_event_str(&json).unwrap();
                json
            })
            .collect();
        assert_eq!(got, want, "pieces of {piece}");
    }
}

/// What the fake `FreeSWITCH` does on one connection.
#[derive(Clone, Default)]
struct Script {
    /// Refuse the password (`-ERR invalid`, then close).
    refuse: bool,
    /// Written once the subscription is accepted.
    replay: Vec<u8>,
    /// Close the connection after the replay.
    close: bool,
    /// Leave `api status` unanswered.
    mute_keepalive: bool,
    /// Answer `api status` after this long.
    keepalive_delay: Duration,
    /// The answer to `callcenter_config agent list` ([`AGENT_LIST`] when
    /// empty).
    agent_list: &'static str,
}

/// A fake `FreeSWITCH`: plays one script per connection (the last one again
/// when they run out) and records the commands it receives.
struct Server {
    port: u16,
    commands: Arc<Mutex<Vec<String>>>,
    connections: Arc<Mutex<usize>>,
    task: JoinHandle<()>,
}

impl Server {
    async fn start(scripts: Vec<Script>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let commands = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0));
        let (cmds, conns) = (commands.clone(), connections.clone());
        let task = tokio::spawn(async move {
            let mut scripts: VecDeque<Script> = scripts.into();
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                *conns.lock().unwrap() += 1;
                let script = if scripts.len() > 1 {
                    scripts.pop_front().unwrap()
                } else {
                    scripts[0].clone()
                };
                tokio::spawn(serve(sock, script, cmds.clone()));
            }
        });
        Server {
            port,
            commands,
            connections,
            task,
        }
    }

    fn connections(&self) -> usize {
        *self.connections.lock().unwrap()
    }

    fn commands(&self) -> Vec<String> {
        self.commands.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn reply(text: &str) -> String {
    format!("Content-Type: command/reply\nReply-Text: {text}\n\n")
}

fn api(body: &str) -> String {
    format!(
        "Content-Type: api/response\nContent-Length: {}\n\n{body}",
        body.len()
    )
}

/// The agent list a resynchronisation reads (`mod_callcenter`'s columns).
const AGENT_LIST: &str = "name|system|uuid|type|contact|status|state|max_no_answer|wrap_up_time|reject_delay_time|busy_delay_time|no_answer_delay_time|last_bridge_start|last_bridge_end|last_offered_call|last_status_change|no_answer_count|calls_answered|talk_time|ready_time\n\
    9000@default|single_box||callback|user/9000@default|On Break|Waiting|3|10|10|60|0|0|0|0|0|0|0|0|0\n+OK\n";

async fn serve(mut sock: TcpStream, script: Script, log: Arc<Mutex<Vec<String>>>) {
    let _ = sock.write_all(b"Content-Type: auth/request\n\n").await;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        // Commands end with an empty line.
        while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
            let cmd = String::from_utf8_lossy(&buf[..end]).trim().to_owned();
            buf.drain(..end + 2);
            log.lock().unwrap().push(cmd.clone());
            let out = if cmd.starts_with("auth ") {
                if script.refuse || cmd != "auth ClueCon" {
                    let _ = sock.write_all(reply("-ERR invalid").as_bytes()).await;
                    return;
                }
                reply("+OK accepted")
            } else if cmd.starts_with("event ") {
                let _ = sock
                    .write_all(reply("+OK event listener enabled plain").as_bytes())
                    .await;
                let _ = sock.write_all(&script.replay).await;
                if script.close {
                    return;
                }
                continue;
            } else if cmd == "api status" {
                if script.mute_keepalive {
                    continue;
                }
                tokio::time::sleep(script.keepalive_delay).await;
                api("UP 0 years, 0 days, 1 hour\nFreeSWITCH (Version 1.10.12) is ready\n")
            } else if cmd == "api callcenter_config agent list" {
                api(if script.agent_list.is_empty() {
                    AGENT_LIST
                } else {
                    script.agent_list
                })
            } else if cmd == "api callcenter_config tier list" {
                api("+OK\n")
            } else {
                reply("-ERR command not found")
            };
            if sock.write_all(out.as_bytes()).await.is_err() {
                return;
            }
        }
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn config(port: u16) -> ClientConfig {
    let mut c = ClientConfig::new("127.0.0.1", port, "ClueCon");
    c.backoff_min = Duration::from_millis(10);
    c.backoff_max = Duration::from_millis(40);
    c.keepalive = Duration::from_millis(50);
    c.keepalive_timeout = Duration::from_secs(1);
    c.tick = Duration::from_millis(20);
    c.resync = false;
    c
}

/// A running client: its outputs as they come, and how to stop it.
struct Client {
    outputs: mpsc::UnboundedReceiver<Output>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<Stats, ClientError<Infallible>>>,
    seen: Vec<Output>,
}

impl Client {
    fn start(config: ClientConfig) -> Client {
        Client::start_with(config, |_| {})
    }

    /// Starts a client whose handler also calls `hook` (before passing the
    /// output on).
    fn start_with(config: ClientConfig, mut hook: impl FnMut(&Output) + Send + 'static) -> Client {
        let (tx, outputs) = mpsc::unbounded_channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run(
            config,
            move |o| {
                hook(&o);
                let _ = tx.send(o);
                Ok::<(), Infallible>(())
            },
            async move {
                let _ = stopped.await;
            },
        ));
        Client {
            outputs,
            stop: Some(stop),
            task,
            seen: Vec::new(),
        }
    }

    /// Waits (at most 10 s) until the outputs so far satisfy `done`.
    async fn until(&mut self, what: &str, done: impl Fn(&[Output]) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !done(&self.seen) {
            match tokio::time::timeout_at(deadline, self.outputs.recv()).await {
                Ok(Some(o)) => self.seen.push(o),
                Ok(None) => panic!("client ended before {what}: {:?}", self.seen),
                Err(elapsed) => panic!("{elapsed} waiting for {what}: {:?}", self.seen),
            }
        }
    }

    async fn stop(mut self) -> (Result<Stats, ClientError<Infallible>>, Vec<Output>) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let r = tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("client stops")
            .expect("client task");
        while let Ok(o) = self.outputs.try_recv() {
            self.seen.push(o);
        }
        (r, self.seen)
    }
}

/// Runs the client until it ends by itself (within 10 s): how it ended and
/// every output it handed over.
async fn run_to_end(c: ClientConfig) -> (Result<Stats, ClientError<Infallible>>, Vec<Output>) {
    let mut outputs = Vec::new();
    let handler = |o| {
        outputs.push(o);
        Ok::<(), Infallible>(())
    };
    let ended = tokio::time::timeout(
        Duration::from_secs(10),
        run(c, handler, std::future::pending()),
    )
    .await
    .expect("the run ends by itself");
    (ended, outputs)
}

fn events(outputs: &[Output]) -> Vec<String> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Event(e) => {
                let json = e.to_json();
                wallboard_events::parse_event_str(&json).unwrap();
                Some(json)
            }
            _ => None,
        })
        .collect()
}

fn skipped(outputs: &[Output]) -> Vec<(&'static str, u64)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            // The code is a `DeadLetterCode`: compared in its wire form.
            Output::Skipped(s) => Some((s.code.as_str(), s.msgno)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_whole_session() {
    let server = Server::start(vec![Script {
        replay: capture().concat().into_bytes(),
        ..Script::default()
    }])
    .await;
    let mut client = Client::start(config(server.port));
    let want = expected();
    client
        .until("every event", |o| events(o).len() == want.len())
        .await;
    // Keep-alives are answered: the session stays up a while.
    client
        .until("ticks", |o| {
            o.iter().filter(|o| matches!(o, Output::Tick)).count() > 10
        })
        .await;
    let (r, outputs) = client.stop().await;
    let stats = r.unwrap();
    assert_eq!(events(&outputs), want);
    assert_eq!(
        outputs[0],
        Output::Connected {
            session: 1,
            banner: None
        }
    );
    assert!(skipped(&outputs).is_empty());
    assert!(!outputs
        .iter()
        .any(|o| matches!(o, Output::Disconnected { .. })));
    assert_eq!(
        stats,
        Stats {
            messages: stats.messages,
            events: want.len() as u64,
            ignored: 12,
            skipped: 0,
            reconnects: 0,
        }
    );
    let cmds = server.commands();
    assert_eq!(
        cmds[..2],
        ["auth ClueCon", "event plain CUSTOM callcenter::info"]
    );
    assert!(cmds[2..].iter().all(|c| c == "api status"), "{cmds:?}");
    assert!(cmds.len() > 3, "keep-alives sent: {cmds:?}");
}

#[tokio::test]
async fn a_dropped_connection_is_reconnected_and_nothing_is_lost() {
    let messages = capture();
    let half = messages.len() / 2;
    let first = messages[..half].concat();
    // The connection drops in the middle of a message: reported, and the
    // message is not half-translated.
    let cut = &messages[half][..40];
    let server = Server::start(vec![
        Script {
            replay: format!("{first}{cut}").into_bytes(),
            close: true,
            ..Script::default()
        },
        Script {
            replay: messages[half..].concat().into_bytes(),
            ..Script::default()
        },
    ])
    .await;
    let mut client = Client::start(config(server.port));
    let want = expected();
    client
        .until("every event", |o| events(o).len() == want.len())
        .await;
    let (r, outputs) = client.stop().await;
    let stats = r.unwrap();
    assert_eq!(events(&outputs), want);
    assert_eq!(stats.reconnects, 1);
    assert_eq!(server.connections(), 2);
    let lost = outputs
        .iter()
        .position(|o| matches!(o, Output::Disconnected { reason, retry_in: Some(_) } if reason == "connection closed by FreeSWITCH"))
        .expect("the drop is reported");
    let back = outputs
        .iter()
        .position(|o| {
            *o == Output::Connected {
                session: 2,
                banner: None,
            }
        })
        .expect("reconnected");
    assert!(lost < back);
    // Events arrived after the reconnection.
    assert!(outputs[back..]
        .iter()
        .any(|o| matches!(o, Output::Event(_))));
    let skips = skipped(&outputs);
    assert_eq!(skips.len(), 1, "{skips:?}");
    assert_eq!(skips[0].0, "esl_truncated");
}

#[tokio::test]
async fn a_refused_password_ends_the_run_without_retrying() {
    let server = Server::start(vec![Script {
        refuse: true,
        ..Script::default()
    }])
    .await;
    let mut c = config(server.port);
    c.password = "wrong".into();
    let (r, outputs) = run_to_end(c).await;
    let err = r.unwrap_err();
    assert!(
        matches!(&err, ClientError::Auth(t) if t == "-ERR invalid"),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("refused the event socket password (-ERR invalid)"),
        "{msg}"
    );
    assert!(msg.contains("WALLBOARD_ESL_PASSWORD"), "{msg}");
    assert_eq!(server.connections(), 1);
    assert_eq!(server.commands(), ["auth wrong"]);
    assert!(outputs.is_empty());
}

#[tokio::test]
async fn a_server_that_stops_answering_keepalives_is_left() {
    let server = Server::start(vec![
        Script {
            replay: plain(&fixture("agents")[0]).into_bytes(),
            mute_keepalive: true,
            ..Script::default()
        },
        Script {
            replay: plain(&fixture("agents")[2]).into_bytes(),
            ..Script::default()
        },
    ])
    .await;
    let mut client = Client::start(config(server.port));
    client
        .until("the second session", |o| {
            o.contains(&Output::Connected {
                session: 2,
                banner: None,
            }) && events(o).len() == 2
        })
        .await;
    let (r, outputs) = client.stop().await;
    assert_eq!(r.unwrap().reconnects, 1);
    assert!(outputs.iter().any(|o| matches!(o,
        Output::Disconnected { reason, .. } if reason == "no reply to the keep-alive within 1s")));
    // The first keep-alive went unanswered on the first connection.
    let cmds = server.commands();
    assert_eq!(
        cmds[..5],
        [
            "auth ClueCon",
            "event plain CUSTOM callcenter::info",
            "api status",
            "auth ClueCon",
            "event plain CUSTOM callcenter::info"
        ]
    );
}

#[tokio::test]
#[allow(
    clippy::too_many_lines,
    reason = "one scenario: every kind of bad input, then the good event"
)]
async fn bad_input_is_reported_and_skipped() {
    let good = fixture("exit_key");
    let json_event = {
        // The second exit_key event as `text/event-json`.
        let ev = ingest::esl::parse_plain_event(good[1].as_bytes()).unwrap();
        let map: serde_json::Map<String, serde_json::Value> = ev
            .headers
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        serde_json::Value::Object(map).to_string()
    };
    let oversize = plain(&format!(
        "Event-Name: CUSTOM\nX-Big: {}\n\n",
        "x".repeat(9000)
    ));
    let mut no_queue = good[0].replace("CC-Queue: support%40default\n", "");
    no_queue = no_queue.replace("Event-Sequence: 500", "Event-Sequence: 499");
    let stream = [
        plain(&good[0]),                                                     // 1 event
        "garbage without a colon\n\n".to_owned(),                            // 2 esl_garbage
        "Content-Type: text/event-plain\nContent-Length: -3\n\n".to_owned(), // 3 esl_bad_length
        "Content-Type: video/mp4\nContent-Length: 4\n\nabcd".to_owned(), // 4 esl_unexpected_type
        "Content-Length: 2\n\nhi".to_owned(),                            // 5 esl_no_type
        plain("not a header line\n\n"),                                  // 6 esl_bad_event
        plain(&no_queue),                                                // 7 esl_untranslatable
        oversize,                                                        // 8 esl_too_large
        api("+OK\n"),                                                    // 9 esl_unexpected_reply
        format!(
            "Content-Length: {}\nContent-Type: text/event-json\n\n{json_event}",
            json_event.len()
        ), // 10 event
        "Content-Type: text/disconnect-notice\nContent-Length: 67\n\n\
         Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
            .to_owned(), // 11
    ]
    .concat();
    let server = Server::start(vec![Script {
        replay: stream.into_bytes(),
        ..Script::default()
    }])
    .await;
    let mut c = config(server.port);
    c.max_message = 4096;
    c.reconnect = false;
    // Once: the run ends with the session.
    let (stats, outputs) = run_to_end(c).await;
    let stats = stats.unwrap();
    // Messages are numbered from the start of the run; the auth and
    // subscription replies come first.
    assert_eq!(
        skipped(&outputs),
        [
            ("esl_garbage", 5),
            ("esl_bad_length", 6),
            ("esl_unexpected_type", 7),
            ("esl_no_type", 8),
            ("esl_bad_event", 9),
            ("esl_untranslatable", 10),
            ("esl_too_large", 11),
            ("esl_unexpected_reply", 12),
        ]
    );
    let Some(Output::Skipped(untranslatable)) = outputs
        .iter()
        .find(|o| matches!(o, Output::Skipped(s) if s.code == "esl_untranslatable"))
    else {
        unreachable!()
    };
    assert_eq!(
        untranslatable.reason,
        "member-queue-start: no CC-Queue header"
    );
    assert_eq!(untranslatable.raw, plain(&no_queue).into_bytes());
    let got = events(&outputs);
    assert_eq!(got.len(), 2);
    assert!(got[0].contains(r#""kind":"call_queued""#));
    assert!(got[1].contains(r#""reason":"exit_key""#));
    assert_eq!(
        outputs.last(),
        Some(&Output::Disconnected {
            reason: "FreeSWITCH ended the session (Disconnected, goodbye.)".into(),
            retry_in: None
        })
    );
    assert_eq!(stats.skipped, 8);
    assert_eq!(stats.events, 2);
}

#[tokio::test]
async fn agents_are_resynchronised_after_connecting() {
    let server = Server::start(vec![Script::default()]).await;
    let mut c = config(server.port);
    c.resync = true;
    c.clock = an_hour_ahead;
    let mut client = Client::start(c);
    client
        .until("the resynchronised agent", |o| !events(o).is_empty())
        .await;
    let (r, outputs) = client.stop().await;
    r.unwrap();
    // No event seen yet: the host's clock is all there is.
    assert!(outputs
        .iter()
        .any(|o| matches!(o, Output::Event(e) if e.ts == an_hour_ahead())));
    let got = events(&outputs);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains(r#""agent":"9000@default","state":"not_ready","reason":"break""#));
    assert!(got[0].contains(r#""id":"freeswitch:resync-agents:"#));
    let cmds = server.commands();
    assert_eq!(
        cmds[..4],
        [
            "auth ClueCon",
            "event plain CUSTOM callcenter::info",
            "api callcenter_config agent list",
            "api callcenter_config tier list"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_blocks_does_not_make_keepalives_time_out() {
    // Keep-alives are answered late enough to be outstanding most of the
    // time; the handler (a slow flush) blocks for longer than their timeout.
    let server = Server::start(vec![Script {
        keepalive_delay: Duration::from_millis(50),
        ..Script::default()
    }])
    .await;
    let mut c = config(server.port);
    c.keepalive = Duration::from_millis(20);
    c.keepalive_timeout = Duration::from_millis(100);
    let mut ticks = 0;
    let mut client = Client::start_with(c, move |o| {
        if *o == Output::Tick {
            ticks += 1;
            if ticks % 4 == 0 {
                std::thread::sleep(Duration::from_millis(300));
            }
        }
    });
    client
        .until("six slow flushes", |o| {
            o.iter().filter(|o| matches!(o, Output::Tick)).count() >= 24
        })
        .await;
    let (r, outputs) = client.stop().await;
    assert_eq!(r.unwrap().reconnects, 0);
    let lost: Vec<_> = outputs
        .iter()
        .filter(|o| matches!(o, Output::Disconnected { .. }))
        .collect();
    assert!(lost.is_empty(), "{lost:?}");
    assert_eq!(server.connections(), 1);
    let keepalives = server
        .commands()
        .iter()
        .filter(|c| *c == "api status")
        .count();
    assert!(keepalives >= 4, "{keepalives} keep-alives");
}

/// `FreeSWITCH`'s time of the first `agents` fixture event, in ms.
const FS_MS: i64 = 1_763_891_400_100;

/// A host clock an hour ahead of `FreeSWITCH`'s (and stopped, to compare
/// exactly).
fn an_hour_ahead() -> i64 {
    FS_MS + 3_600_000
}

#[tokio::test]
async fn resynchronisation_is_timed_by_freeswitchs_clock() {
    let server = Server::start(vec![Script {
        replay: plain(&fixture("agents")[0]).into_bytes(),
        ..Script::default()
    }])
    .await;
    let mut c = config(server.port);
    c.resync = true;
    c.clock = an_hour_ahead;
    let mut client = Client::start(c);
    client
        .until("the resynchronised agents", |o| events(o).len() == 3)
        .await;
    let (r, outputs) = client.stop().await;
    r.unwrap();
    let got: Vec<&Event> = outputs
        .iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e),
            _ => None,
        })
        .collect();
    // The live event, then the listed agent and the unlisted one logged
    // out, at FreeSWITCH's time, not the host's an hour later.
    assert_eq!(got[0].ts, FS_MS);
    assert!(got[1].id.contains(":resync-agents:"), "{:?}", got[1]);
    assert!(got[2]
        .to_json()
        .contains(r#""agent":"1003@default","state":"logged_out""#));
    assert_eq!([got[1].ts, got[2].ts], [FS_MS, FS_MS]);
}

#[tokio::test]
async fn resynchronisation_reports_unreadable_rows_and_logs_nobody_out_for_them() {
    let server = Server::start(vec![Script {
        replay: plain(&fixture("agents")[0]).into_bytes(),
        agent_list: "name|system|uuid|type|contact|status|state|max_no_answer|wrap_up_time|reject_delay_time|busy_delay_time|no_answer_delay_time|last_bridge_start|last_bridge_end|last_offered_call|last_status_change|no_answer_count|calls_answered|talk_time|ready_time\n\
            9000@default|single_box||callback|{ignore_early_media=true}sofia/gw/a|sofia/gw/b|On Break|Waiting|3|10|10|60|0|0|0|0|0|0|0|0|0\n\
            1003@default|single_box||callback\n+OK\n",
        ..Script::default()
    }])
    .await;
    let mut c = config(server.port);
    c.resync = true;
    let mut client = Client::start(c);
    client
        .until("the unreadable row", |o| !skipped(o).is_empty())
        .await;
    let (r, outputs) = client.stop().await;
    r.unwrap();
    let got = events(&outputs);
    // The live event and the failover row; 1003, unreadable, stays.
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[1].contains(r#""agent":"9000@default","state":"not_ready","reason":"break""#));
    let Some(Output::Skipped(s)) = outputs.iter().find(|o| matches!(o, Output::Skipped(_))) else {
        unreachable!()
    };
    assert_eq!(s.code, "esl_resync_row");
    assert_eq!(
        s.reason,
        "callcenter_config agent list: 4 fields for 20 columns"
    );
    assert_eq!(s.raw, b"1003@default|single_box||callback");
}

#[tokio::test]
async fn without_reconnection_a_refused_connection_is_an_error() {
    // A port nobody listens on (bound, then released).
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let mut c = config(port);
    c.reconnect = false;
    let r = run(c, |_| Ok::<(), Infallible>(()), std::future::pending()).await;
    let err = r.unwrap_err();
    assert!(
        matches!(&err, ClientError::Connect(m) if m.starts_with(&format!("cannot connect to 127.0.0.1:{port}"))),
        "{err:?}"
    );
}

/// Decodes and translates whatever comes, as the client does.
fn swallow(bytes: &[u8], piece: usize) {
    let mut t = EslTranslator::new("default");
    let mut out = Vec::new();
    let mut d = Decoder::new(2048);
    for chunk in bytes.chunks(piece.max(1)) {
        d.push(chunk);
        while let Some(item) = d.next_item() {
            if let Item::Frame(f) = item {
                if let Ok(ev) = ingest::esl::parse_plain_event(f.body()) {
                    let _ = t.translate(&ev, &mut out);
                }
                let _ = ingest::esl::parse_json_event(f.body());
            }
        }
    }
    let _ = d.finish();
    for e in &out {
        wallboard_events::parse_event_str(&e.to_json()).unwrap();
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    #[test]
    fn random_bytes_never_panic(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000),
        piece in 1usize..500,
    ) {
        swallow(&bytes, piece);
    }

    #[test]
    fn a_mangled_capture_never_panics(
        flips in proptest::collection::vec((proptest::prelude::any::<proptest::sample::Index>(), proptest::prelude::any::<u8>()), 1..20),
        cut in proptest::prelude::any::<proptest::sample::Index>(),
        piece in 1usize..5000,
    ) {
        let mut bytes = capture()[..12].concat().into_bytes();
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        bytes.truncate(cut.index(bytes.len()) + 1);
        swallow(&bytes, piece);
    }
}
