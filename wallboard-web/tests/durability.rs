//! Durable progress is visible: `/metrics` has the rejection counters and
//! the snapshot age from the start, and `/readyz` says "not ready" while
//! snapshots fail (issue 15.9, issue 10.4).

use std::time::Duration;

use tokio::sync::watch;

use aggregator::freshness::FreshnessConfig;
use wallboard::config::AppConfig;
use wallboard::web::{self, AppState};
use wallboard_pipeline::snapshot::SnapshotStore;
use wallboard_pipeline::writer::{self, LogDeadLetters, WriterConfig};
use wallboard_pipeline::Hub;

/// Starts a writer whose snapshots go to `dir`, and the web server.
async fn start(dir: std::path::PathBuf) -> String {
    let config = AppConfig {
        channels: vec![toml::from_str(
            r#"
        name = "ops"
        kind = "webhook"
        url = "http://127.0.0.1:9/hook"
    "#,
        )
        .unwrap()],
        ..AppConfig::default()
    };
    let (changed_tx, changed_rx) = watch::channel(0);
    let w = writer::spawn(
        WriterConfig {
            partition: 0,
            params: config.metrics.validate().unwrap().into(),
            allowed_lateness_ms: 3_600_000,
            max_future_ms: Some(300_000),
            freshness: FreshnessConfig::default(),
            publish_interval: Duration::from_millis(20),
            snapshot_interval: Duration::from_millis(50),
            snapshots: Some(SnapshotStore::new(dir, "events")),
        },
        Box::new(LogDeadLetters),
        changed_tx,
    );
    let hub = Hub::new(vec![w.handle.clone()], changed_rx);
    std::mem::forget(w);
    let state = AppState::new(hub, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(web::serve(listener, state, std::future::pending()));
    format!("http://{addr}")
}

async fn get(url: &str) -> (u16, String) {
    let r = reqwest::get(url).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn tmp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("wb-durability-{name}-{}", std::process::id()))
}

#[tokio::test]
async fn metrics_start_at_zero_before_any_event() {
    let dir = tmp("ok");
    let base = start(dir.clone()).await;
    let (_, text) = get(&format!("{base}/metrics")).await;
    for reason in [
        "not_json",
        "invalid_field",
        "duration_too_long",
        "far_ahead",
        "future",
    ] {
        let series =
            format!(r#"wallboard_events_rejected_total{{partition="0",reason="{reason}"}} 0"#);
        assert!(text.contains(&series), "{series} missing:\n{text}");
    }
    assert!(
        text.contains(r#"wallboard_snapshot_age_seconds{partition="0"}"#),
        "{text}"
    );
    assert!(
        text.contains(r#"wallboard_snapshot_failures_total{partition="0"} 0"#),
        "{text}"
    );
    // Snapshots succeed: ready (a loaded machine may be late for a moment).
    while get(&format!("{base}/readyz")).await.0 != 200 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn snapshots_that_never_succeed_are_visible_and_not_ready() {
    // A snapshot directory that cannot be created: every write fails, as on
    // a full disk.
    let file = tmp("file");
    std::fs::write(&file, b"not a directory").unwrap();
    let base = start(file.join("state")).await;
    let failures = loop {
        let (code, body) = get(&format!("{base}/readyz")).await;
        if code == 503 && body.contains("not durable") {
            let (_, text) = get(&format!("{base}/metrics")).await;
            break text;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        failures.contains(r#"wallboard_snapshot_age_seconds{partition="0"}"#),
        "{failures}"
    );
    let n: u64 = failures
        .lines()
        .find_map(|l| l.strip_prefix(r#"wallboard_snapshot_failures_total{partition="0"} "#))
        .unwrap()
        .parse()
        .unwrap();
    assert!(n >= 1);
    std::fs::remove_file(file).ok();
}
