//! `GET /api/v1/tenants/{t}/report` as CSV (`?format=csv` or `Accept:
//! text/csv`): the same bytes as `wallboard replay --output csv`.

use std::process::Command;
use std::time::Duration;

use tokio::sync::watch;

use aggregator::pipeline::bus::{feed, Bus, Pacing};
use aggregator::pipeline::writer::{self, LogDeadLetters, WriterConfig};
use aggregator::pipeline::Hub;
use aggregator::MetricsConfig;
use ingest::jsonl::{parse_line, LineReader};
use wallboard_web::config::AppConfig;
use wallboard_web::web::{self, AppState};

fn golden(file: &str) -> String {
    format!("{}/../tests/golden/{file}", env!("CARGO_MANIFEST_DIR"))
}

/// Writer + web with `config`, every valid event of `trace` taken.
async fn start(config: AppConfig, trace: &str) -> std::net::SocketAddr {
    let (changed_tx, changed_rx) = watch::channel(0);
    let w = writer::spawn(
        WriterConfig {
            partition: 0,
            params: config.metrics.validate().unwrap(),
            allowed_lateness_ms: i64::MAX / 4,
            max_future_ms: None,
            freshness: Default::default(),
            publish_interval: Duration::from_millis(50),
            snapshot_interval: Duration::from_secs(3600),
            snapshots: None,
        },
        Box::new(LogDeadLetters),
        changed_tx,
    );
    let bytes = std::fs::read(trace).unwrap();
    let mut events = vec![];
    let mut lines = LineReader::new(&bytes[..]);
    while let Some(line) = lines.next_line().unwrap() {
        if let Ok(e) = parse_line(&line) {
            events.push(e.into_owned());
        }
    }
    let n = events.len() as i64;
    let bus = Bus::new(w.handle.inbox.clone());
    let pacing = Pacing {
        live_from: i64::MAX,
        speed: 1.0,
    };
    feed(events.into_iter(), bus, pacing);
    let hub = Hub::new(vec![w.handle.clone()], changed_rx);
    let mut changes = hub.changes();
    while hub.status()[0].next_offset < n {
        changes.changed().await.unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::new(hub, config);
    tokio::spawn(web::serve(listener, state, std::future::pending()));
    addr
}

fn replay_csv(extra: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_wallboard"))
        .args(["replay", &golden("day-small.jsonl")])
        .args([
            "--interval",
            "15",
            "--tz",
            "Asia/Shanghai",
            "--sl",
            "10",
            "--sl",
            "20",
        ])
        .args(["--output", "csv"])
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rest_report_as_csv_is_the_replay_csv() {
    let config = AppConfig {
        metrics: MetricsConfig {
            interval_minutes: 15,
            tz: "Asia/Shanghai".into(),
            sl_thresholds_s: vec![10, 20],
            ..Default::default()
        },
        ..Default::default()
    };
    let addr = start(config, &golden("day-small.jsonl")).await;
    let url = format!("http://{addr}/api/v1/tenants/acme/report");
    let client = reqwest::Client::new();

    let by_query = client
        .get(format!("{url}?format=csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_query.status(), 200);
    let ct = by_query.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(ct.starts_with("text/csv; charset=utf-8"), "{ct}");
    let disposition = by_query.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.contains("wallboard-report-acme.csv"),
        "{disposition}"
    );
    let body = by_query.bytes().await.unwrap();
    assert_eq!(
        String::from_utf8_lossy(&body),
        String::from_utf8_lossy(&replay_csv(&[]))
    );

    let by_accept = client
        .get(&url)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(by_accept.bytes().await.unwrap(), body);

    let zh = client
        .get(format!("{url}?format=csv&lang=zh-CN"))
        .send()
        .await
        .unwrap();
    let zh = zh.bytes().await.unwrap();
    assert_eq!(
        String::from_utf8_lossy(&zh),
        String::from_utf8_lossy(&replay_csv(&["--lang", "zh-CN"]))
    );

    // JSON stays the default, for browsers (`*/*`) too.
    let json = client
        .get(&url)
        .header("accept", "*/*")
        .send()
        .await
        .unwrap();
    assert!(json.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let bad = client
        .get(format!("{url}?format=xml"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}
