//! Freshness on every surface (`metrics.md`, "Freshness"): an old trace is
//! `old_data`, never live; a feed that stops heartbeating becomes
//! `feed_lost` within its threshold; an unknown tenant has no live view.
//! REST, the WebSocket, `/api/v1/status` and `/metrics` say the same.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::watch;

use aggregator::freshness::FreshnessConfig;
use wallboard::config::AppConfig;
use wallboard::web::{self, AppState, IngestSink};
use wallboard_events::{Event, Upstream};
use wallboard_pipeline::bus::Bus;
use wallboard_pipeline::writer::{self, unix_ms, LogDeadLetters};
use wallboard_pipeline::Hub;

struct Server {
    addr: std::net::SocketAddr,
}

/// Writer + web; `records` go through the in-process bus like a topic's.
async fn start(config: AppConfig, records: Vec<Vec<u8>>) -> Server {
    let (changed_tx, changed_rx) = watch::channel(0);
    let w = writer::spawn(
        common::writer_config(&config),
        Box::new(LogDeadLetters),
        changed_tx,
    );
    let n = i64::try_from(records.len()).unwrap();
    let bus = Bus::new(w.handle.inbox.clone());
    bus.send(records).unwrap();
    let hub = Hub::new(vec![w.handle.clone()], changed_rx);
    let mut changes = hub.changes();
    while hub.status()[0].next_offset < n {
        changes.changed().await.unwrap();
    }
    let state = AppState::new(hub, config).with_ingest(IngestSink::Bus(bus));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(web::serve(listener, state, std::future::pending()));
    Server { addr }
}

fn golden_lines(file: &str) -> Vec<Vec<u8>> {
    let path = format!("{}/../tests/golden/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.as_bytes().to_vec())
        .collect()
}

async fn get(s: &Server, path: &str) -> Value {
    reqwest::get(format!("http://{}{path}", s.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn ws_snapshot(s: &Server, tenant: &str) -> Value {
    let url = format!("ws://{}/ws?tenant={tenant}", s.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    common::next_ws_snapshot(&mut ws).await
}

/// Polls the live view until `check` holds (or 20 s pass).
async fn live_until(s: &Server, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let live = get(s, "/api/v1/tenants/acme/live").await;
        if check(&live["freshness"]) {
            return live;
        }
        assert!(Instant::now() < deadline, "never {what}: {live:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_old_trace_is_old_data_on_every_surface_never_live() {
    let s = start(AppConfig::default(), golden_lines("day-small.jsonl")).await;
    let live = get(&s, "/api/v1/tenants/acme/live").await;
    let f = &live["freshness"];
    assert_eq!(f["state"], "old_data", "{f:#}");
    let newest = f["newest_event_ts"].as_i64().unwrap();
    let age = f["newest_event_age_s"].as_i64().unwrap();
    // Computed at the last publish (at most a second or so ago).
    let now_age = (unix_ms() - newest) / 1000;
    assert!((now_age - 3..=now_age).contains(&age), "{now_age}: {f:#}");
    assert!(age > 86_400, "the golden day is days old: {age}");
    assert_eq!(f["old_data_after_s"], 300);

    let push = ws_snapshot(&s, "acme").await;
    assert_eq!(push["snapshot"]["freshness"]["state"], "old_data");

    let status = get(&s, "/api/v1/status").await;
    assert_eq!(status["tenants"]["acme"]["state"], "old_data", "{status:#}");

    let metrics = reqwest::get(format!("http://{}/metrics", s.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = metrics
        .lines()
        .find(|l| l.starts_with("wallboard_tenant_newest_event_age_seconds{tenant=\"acme\"}"))
        .unwrap_or_else(|| panic!("no age series in {metrics}"));
    let value: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(value > 86_400.0, "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_tenant_has_no_live_view() {
    let s = start(AppConfig::default(), golden_lines("edge-basic.jsonl")).await;
    let r = reqwest::get(format!("http://{}/api/v1/tenants/nobody/live", s.addr))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let push = ws_snapshot(&s, "nobody").await;
    assert_eq!(push["tenant"], "nobody");
    assert!(push["snapshot"].is_null(), "{push:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_feed_that_stops_heartbeating_is_lost_within_the_threshold() {
    let config = AppConfig {
        freshness: FreshnessConfig {
            quiet_after_s: 1,
            feed_lost_after_s: 2,
            old_data_after_s: 300,
        },
        ..Default::default()
    };
    let now = unix_ms();
    let queued = format!(
        r#"{{"v":1,"id":"c1-q","ts":{now},"tenant":"acme","kind":"call_queued","call":"c1","queue":"sales","source":"asterisk-ami"}}"#
    );
    let beat = Event::heartbeat("acme", "asterisk-ami", now, Upstream::Up).to_json();
    let s = start(
        config,
        vec![
            queued.into_bytes(),
            beat.clone().into_bytes(),
            beat.into_bytes(),
        ],
    )
    .await;
    let first = get(&s, "/api/v1/tenants/acme/live").await;
    let f = &first["freshness"];
    assert_ne!(f["state"], "feed_lost", "{f:#}");
    assert_eq!(f["sources"][0]["source"], "asterisk-ami");
    assert_eq!(f["sources"][0]["heartbeats"], true);
    assert_eq!(f["sources"][0]["upstream"], "up");
    // Heartbeats are counted apart, in no metric: the call is the only event.
    let status = get(&s, "/api/v1/status").await;
    assert_eq!(status["applied"], 1, "{status:#}");
    assert_eq!(status["partitions"][0]["heartbeats"], 2, "{status:#}");
    assert_eq!(first["queues"][0]["waiting"], 1);

    // No more heartbeats: lost once the source is silent for more than 2 s.
    let lost = live_until(&s, "feed_lost", |f| f["state"] == "feed_lost").await;
    let src = &lost["freshness"]["sources"][0];
    assert_eq!(src["state"], "feed_lost");
    assert!(src["silent_s"].as_u64().unwrap() > 2, "{src:#}");
    let metrics = reqwest::get(format!("http://{}/metrics", s.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.lines().any(|l| l.starts_with(
            "wallboard_source_silent_seconds{source=\"asterisk-ami\",tenant=\"acme\"}"
        )),
        "{metrics}"
    );
}

/// (upstream, source) of one heartbeat.
type Beat = (String, String);

/// The heartbeats a follower wrote to `out`, in order.
fn heartbeats_in(out: &std::path::Path) -> Vec<Beat> {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["kind"] == "heartbeat")
        .map(|v| {
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            (s("upstream"), s("source"))
        })
        .collect()
}

#[test]
fn a_queue_log_follower_heartbeats_down_until_its_file_appears() {
    let dir = std::env::temp_dir().join(format!("wb-qlbeat-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (log, out) = (dir.join("queue_log"), dir.join("out.jsonl"));
    let _follower = common::KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_wallboard"))
            .args([
                "ingest",
                "queue-log",
                "--poll-ms",
                "20",
                "--heartbeat-s",
                "1",
            ])
            .arg("--checkpoint")
            .arg(dir.join("ckpt"))
            .arg("--jsonl")
            .arg(&out)
            .arg(&log)
            .stderr(Stdio::null())
            .spawn()
            .expect("run wallboard"),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let wait = |what: &str, check: &dyn Fn(&[Beat]) -> bool| loop {
        let got = heartbeats_in(&out);
        if check(&got) {
            return got;
        }
        assert!(Instant::now() < deadline, "never {what}: {got:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let first = wait("a heartbeat", &|h| !h.is_empty());
    assert_eq!(
        first[0],
        ("down".to_owned(), "asterisk-queue-log".to_owned())
    );
    std::fs::write(&log, "").unwrap();
    wait("an up heartbeat", &|h| h.iter().any(|(u, _)| u == "up"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_ami_adapter_heartbeats_down_while_it_cannot_reach_asterisk() {
    let dir = std::env::temp_dir().join(format!("wb-amibeat-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("out.jsonl");
    // A port nobody listens on: the client keeps backing off.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _adapter = common::KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_wallboard"))
            .args(["ingest", "ami", "--host", "127.0.0.1", "--username", "u"])
            .args(["--port", &port.to_string(), "--heartbeat-s", "1"])
            .arg("--jsonl")
            .arg(&out)
            .env("WALLBOARD_AMI_SECRET", "s")
            .stderr(Stdio::null())
            .spawn()
            .expect("run wallboard"),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let beats = loop {
        let got = heartbeats_in(&out);
        if got.len() >= 2 {
            break got;
        }
        assert!(Instant::now() < deadline, "no heartbeats: {got:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    for b in &beats {
        assert_eq!(b, &("down".to_owned(), "asterisk-ami".to_owned()));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
