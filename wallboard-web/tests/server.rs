//! The service in one process: a golden trace goes through the in-process
//! bus and the partition writer, and the REST API, the WebSocket and access
//! control answer as users expect.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};

use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

use aggregator::MetricsConfig;
use wallboard_pipeline::Hub;

use wallboard::config::AppConfig;

fn golden(file: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../tests/golden/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

struct Server {
    addr: std::net::SocketAddr,
    hub: Hub,
}

/// Starts writer + web with `config`, feeding the valid events of `trace`.
async fn start(config: AppConfig, trace: &[u8]) -> Server {
    let served = common::serve_trace(config, trace).await;
    Server {
        addr: served.addr,
        hub: served.hub,
    }
}

fn config(interval: u32, tz: &str, sl: Vec<u32>, short: u32) -> AppConfig {
    AppConfig {
        metrics: MetricsConfig {
            interval_minutes: interval,
            tz: tz.into(),
            sl_thresholds_s: sl,
            short_abandon_s: short,
            ..Default::default()
        },
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rest_report_is_byte_for_byte_the_replay_report() {
    let s = start(
        config(15, "Asia/Shanghai", vec![10, 20, 30], 5),
        &golden("day-small.jsonl"),
    )
    .await;
    let body = reqwest::get(format!("http://{}/api/v1/tenants/acme/report", s.addr))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let replay = common::replay(
        &common::golden("day-small.jsonl"),
        &[
            "--interval",
            "15",
            "--tz",
            "Asia/Shanghai",
            "--sl",
            "10",
            "--sl",
            "20",
            "--sl",
            "30",
            "--short-abandon",
            "5",
        ],
    );
    assert!(body.len() > 1000);
    assert_eq!(
        String::from_utf8_lossy(&body),
        String::from_utf8_lossy(&replay.stdout)
    );

    // A range keeps only the intervals starting inside it.
    let from = 1_795_399_200_000_i64; // 2026-11-23T10:00+08:00
    let to = from + 3_600_000;
    let part: serde_json::Value = reqwest::get(format!(
        "http://{}/api/v1/tenants/acme/report?from={from}&to={to}",
        s.addr
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let starts: std::collections::BTreeSet<i64> = part["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["start_ms"].as_i64().unwrap())
        .collect();
    assert_eq!(
        starts.into_iter().collect::<Vec<_>>(),
        vec![from, from + 900_000, from + 1_800_000, from + 2_700_000]
    );
    assert_eq!(s.hub.status()[0].rejected, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn rest_endpoints_answer_and_unknown_tenants_are_404() {
    let s = start(config(15, "UTC", vec![20], 0), &golden("edge-basic.jsonl")).await;
    let get = |path: &str| reqwest::get(format!("http://{}{path}", s.addr));
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    assert_eq!(get("/readyz").await.unwrap().status(), 200);
    let tenants: Vec<String> = get("/api/v1/tenants").await.unwrap().json().await.unwrap();
    assert_eq!(tenants, vec!["edge"]);
    let queues: serde_json::Value = get("/api/v1/tenants/edge/queues")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = queues["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["queue"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["*", "q1", "q2"]);
    assert_eq!(queues["queues"][1]["target"]["sl_variant"], "sl3");
    let agents: serde_json::Value = get("/api/v1/tenants/edge/agents")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(agents["agents"].as_array().unwrap().len(), 2);
    let status: serde_json::Value = get("/api/v1/status").await.unwrap().json().await.unwrap();
    assert_eq!(status["duplicates"], 1);
    assert_eq!(
        get("/api/v1/tenants/nobody/live").await.unwrap().status(),
        404
    );
    assert_eq!(
        get("/api/v1/tenants/nobody/report").await.unwrap().status(),
        404
    );
    let openapi: serde_json::Value = get("/api/v1/openapi.json")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/status",
        "/api/v1/tenants/{tenant}/report",
        "/ws",
        "/readyz",
    ] {
        assert!(openapi["paths"].get(path).is_some(), "{path} documented");
    }
    let page = get("/").await.unwrap().text().await.unwrap();
    assert!(page.contains("/assets/app.js"));
    assert_eq!(get("/assets/app.js").await.unwrap().status(), 200);
    assert_eq!(get("/assets/nope.js").await.unwrap().status(), 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_required_when_configured() {
    let mut c = config(15, "UTC", vec![20], 0);
    c.server.read_tokens = vec!["wall".into()];
    c.server.admin_tokens = vec!["boss".into()];
    let s = start(c, &golden("edge-basic.jsonl")).await;
    let client = reqwest::Client::new();
    let url = format!("http://{}/api/v1/tenants", s.addr);
    assert_eq!(code(client.get(&url)).await, 401);
    assert_eq!(code(client.get(&url).bearer_auth("wrong")).await, 401);
    assert_eq!(code(client.get(&url).bearer_auth("wall")).await, 200);
    assert_eq!(code(client.get(&url).bearer_auth("boss")).await, 200);
    assert_eq!(code(client.get(format!("{url}?token=wall"))).await, 200);
    // Health checks and the page itself stay open (the page asks for the token).
    assert_eq!(
        code(client.get(format!("http://{}/healthz", s.addr))).await,
        200
    );
    let ws = tokio_tungstenite::connect_async(format!("ws://{}/ws", s.addr)).await;
    assert!(ws.is_err(), "a WebSocket without a token is refused");
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_sends_a_snapshot_then_follows_subscriptions() {
    let s = start(config(15, "UTC", vec![20], 0), &golden("edge-basic.jsonl")).await;
    let url = format!("ws://{}/ws?tenant=edge&queues=q2", s.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let first = next_snapshot(&mut ws).await;
    assert_eq!(first["tenant"], "edge");
    let queues: Vec<&str> = first["snapshot"]["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["queue"].as_str().unwrap())
        .collect();
    assert_eq!(queues, vec!["*", "q2"]);
    // Only bob is in q2.
    assert_eq!(first["snapshot"]["agents"].as_array().unwrap().len(), 1);
    ws.send(Message::text(
        r#"{"type":"subscribe","tenant":"edge","queues":[]}"#,
    ))
    .await
    .unwrap();
    let mut all = next_snapshot(&mut ws).await;
    while all["snapshot"]["queues"].as_array().unwrap().len() != 3 {
        all = next_snapshot(&mut ws).await;
    }
    assert_eq!(all["snapshot"]["agents"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_refuses_foreign_origins() {
    let s = start(config(15, "UTC", vec![20], 0), &golden("edge-basic.jsonl")).await;
    let mut req = format!("ws://{}/ws", s.addr).into_client_request().unwrap();
    req.headers_mut()
        .insert("Origin", "http://evil.example".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(req).await.is_err());
    let mut req = format!("ws://{}/ws", s.addr).into_client_request().unwrap();
    req.headers_mut()
        .insert("Origin", format!("http://{}", s.addr).parse().unwrap());
    assert!(tokio_tungstenite::connect_async(req).await.is_ok());
}

async fn next_snapshot(ws: &mut impl common::WsStream) -> serde_json::Value {
    common::next_ws_snapshot(ws).await
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_sends_the_display_configuration_first() {
    let s = start(config(15, "UTC", vec![20], 0), &golden("edge-basic.jsonl")).await;
    let url = format!("ws://{}/ws?tenant=edge", s.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("a message within 10 s")
        .expect("open")
        .expect("no error");
    let Message::Text(t) = msg else {
        panic!("not text: {msg:?}")
    };
    let v: serde_json::Value = serde_json::from_str(&t).unwrap();
    assert_eq!(v["type"], "display");
    assert_eq!(v["display"]["page_s"], 15);
    assert_eq!(v["display"]["all_queues"], "first");
    assert_eq!(v["display"]["state_limits_s"]["acw"]["red"], 180.0);
    assert!(v["boards"].as_array().unwrap().is_empty());
    assert_eq!(next_snapshot(&mut ws).await["tenant"], "edge");
}

/// The status code a request gets.
async fn code(req: reqwest::RequestBuilder) -> u16 {
    req.send().await.unwrap().status().as_u16()
}

/// The value of one Prometheus series, e.g. `name{a="x",b="y"}`.
fn series(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().find_map(|line| {
        let (head, value) = line.rsplit_once(' ')?;
        let (n, rest) = head.split_once('{').unwrap_or((head, ""));
        if n != name {
            return None;
        }
        let all = labels
            .iter()
            .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
        all.then(|| value.parse().ok()).flatten()
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_counters_add_up_to_the_report() {
    let s = start(config(15, "UTC", vec![20], 0), &golden("edge-basic.jsonl")).await;
    let text = reqwest::get(format!("http://{}/metrics", s.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let report: serde_json::Value =
        reqwest::get(format!("http://{}/api/v1/tenants/edge/report", s.addr))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    for queue in ["*", "q1", "q2"] {
        let rows: Vec<&serde_json::Value> = report["queues"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["queue"] == queue)
            .collect();
        let sum = |f: &str| rows.iter().map(|r| r[f].as_u64().unwrap()).sum::<u64>() as f64;
        let l = [("tenant", "edge"), ("queue", queue)];
        for (metric, field) in [
            ("wallboard_calls_entered_total", "entered"),
            ("wallboard_calls_offered_total", "offered"),
            ("wallboard_calls_answered_total", "answered"),
            ("wallboard_calls_abandoned_total", "abandoned"),
            ("wallboard_calls_handled_total", "handled"),
            ("wallboard_talk_milliseconds_total", "talk_ms"),
        ] {
            assert_eq!(
                series(&text, metric, &l),
                Some(sum(field)),
                "{metric} of {queue}"
            );
        }
        let within: f64 = rows
            .iter()
            .map(|r| r["answered_within"]["20"].as_u64().unwrap())
            .sum::<u64>() as f64;
        let l3 = [("tenant", "edge"), ("queue", queue), ("threshold", "20")];
        assert_eq!(
            series(&text, "wallboard_calls_answered_within_total", &l3),
            Some(within)
        );
        let staffed = [("tenant", "edge"), ("queue", queue), ("state", "staffed")];
        assert_eq!(
            series(&text, "wallboard_agent_seconds_total", &staffed),
            Some(sum("staffed_ms") / 1000.0)
        );
    }
    let p0 = [("partition", "0")];
    assert_eq!(
        series(&text, "wallboard_events_applied_total", &p0),
        Some(54.0)
    );
    assert_eq!(
        series(&text, "wallboard_events_duplicate_total", &p0),
        Some(1.0)
    );
    // The writer has waited for records since it started: once the trace
    // is applied it waits, but a scrape may come before its first wait.
    let metrics = format!("http://{}/metrics", s.addr);
    common::until("the writer's first wait in /metrics", || async {
        let text = reqwest::get(&metrics).await.ok()?.text().await.ok()?;
        series(&text, "wallboard_writer_idle_seconds_total", &p0).filter(|s| *s > 0.0)
    })
    .await;
    assert!(series(&text, "wallboard_calls_waiting", &[("queue", "q1")]).is_some());
}

/// A webhook as received: its signature header and its body.
type Delivery = (String, Vec<u8>);

#[tokio::test(flavor = "multi_thread")]
#[allow(clippy::too_many_lines, reason = "one scenario, step by step")]
async fn a_firing_rule_reaches_a_signed_webhook_the_banner_and_the_api() {
    use hmac::{Hmac, KeyInit, Mac};

    // A local receiver that keeps what it is sent.
    let received: Arc<Mutex<Vec<Delivery>>> = Arc::default();
    let sink = received.clone();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let sink = sink.clone();
                async move {
                    let sig = headers
                        .get("x-wallboard-signature")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    sink.lock().unwrap().push((sig, body.to_vec()));
                    "ok"
                }
            },
        ),
    );
    let hook = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_addr = hook.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(hook, receiver).await });

    let mut c = config(15, "UTC", vec![20], 0);
    c.server.read_tokens = vec!["wall".into()];
    c.server.admin_tokens = vec!["boss".into()];
    c.channels = toml::from_str::<toml::Value>(&format!(
        "[[c]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"http://{hook_addr}/hook\"\nsecret = \"s3cret\"\n"
    ))
    .unwrap()["c"]
        .clone()
        .try_into()
        .unwrap();
    // At the end of the trace both agents have logged out.
    c.alerts = toml::from_str::<toml::Value>(
        "[[a]]\nname = \"nobody available\"\nmetric = \"agents_available\"\nop = \"<=\"\nthreshold = 0\nseverity = \"critical\"\nchannels = [\"hook\"]\n",
    )
    .unwrap()["a"]
        .clone()
        .try_into()
        .unwrap();
    let s = start(c, &golden("edge-basic.jsonl")).await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let (sig, body) = loop {
        if let Some(got) = received.lock().unwrap().first().cloned() {
            break got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no webhook within 15 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"s3cret").unwrap();
    mac.update(&body);
    assert_eq!(
        sig,
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    );
    let n: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(n["status"], "firing");
    assert_eq!(n["rule"], "nobody available");
    assert_eq!(n["tenant"], "edge");
    assert_eq!(n["subject"], "*");

    let client = reqwest::Client::new();
    let url = format!("http://{}/api/v1/tenants/edge/alerts", s.addr);
    let alerts = common::get_json_as(&client, &url, "wall").await;
    assert_eq!(alerts["alerts"][0]["severity"], "critical");

    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/ws?tenant=edge&token=wall", s.addr))
            .await
            .unwrap();
    let push = next_snapshot(&mut ws).await;
    assert_eq!(push["alerts"][0]["rule"], "nobody available");
    // What the banner needs to word and format it in the UI's language.
    assert_eq!(push["alerts"][0]["metric"], "agents_available");
    assert_eq!(push["alerts"][0]["op"], "<=");

    let ack = format!("http://{}/api/v1/tenants/edge/alerts/acknowledge", s.addr);
    let body = serde_json::json!({"rule": "nobody available", "subject": "*"});
    assert_eq!(
        code(client.post(&ack).bearer_auth("wall").json(&body)).await,
        403
    );
    assert_eq!(
        code(client.post(&ack).bearer_auth("boss").json(&body)).await,
        200
    );
}

/// A queue's own threshold and an alert rule's are computed and shown under
/// their own label, in the live view, the report and `/metrics`; a
/// configured queue with no events yet is reported, not an error.
#[tokio::test(flavor = "multi_thread")]
async fn every_configured_threshold_is_computed() {
    let mut c = config(15, "UTC", vec![20], 0);
    c.queues = toml::from_str::<toml::Table>(
        r#"
        [[queues]]
        name = "q1"
        sl_threshold_s = 15
        [[queues]]
        name = "never-called"
        "#,
    )
    .unwrap()["queues"]
        .clone()
        .try_into()
        .unwrap();
    c.alerts = vec![toml::from_str(
        r#"
        name = "sl at 45"
        metric = "service_level"
        queue = "q2"
        sl_threshold_s = 45
        op = "<"
        threshold = 0.8
        "#,
    )
    .unwrap()];
    let s = start(c, &golden("edge-basic.jsonl")).await;
    let get = |path: &str| reqwest::get(format!("http://{}{path}", s.addr));
    let live: serde_json::Value = get("/api/v1/tenants/edge/live")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(live["sl_thresholds_s"], serde_json::json!([15, 20, 45]));
    let q1 = &live["queues"][1];
    assert_eq!(q1["queue"], "q1");
    for thr in ["15", "20", "45"] {
        assert!(q1["today"]["sl"].get(thr).is_some(), "SL@{thr}s computed");
    }
    let report: serde_json::Value = get("/api/v1/tenants/edge/report")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["sl_thresholds_s"], serde_json::json!([15, 20, 45]));
    let metrics = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(r#"threshold="15""#) && metrics.contains(r#"threshold="45""#),
        "thresholds 15 and 45 exported"
    );
    let status: serde_json::Value = get("/api/v1/status").await.unwrap().json().await.unwrap();
    assert_eq!(status["unseen_queues"], serde_json::json!(["never-called"]));
}
