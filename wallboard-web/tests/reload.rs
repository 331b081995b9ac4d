//! SIGHUP reloads the configuration of a running `wallboard demo` (README,
//! "Reloading the configuration"): display settings apply; a file that
//! changes how state is computed, or does not load, is refused and the
//! running configuration stays, with the reason in `/api/v1/status`.
#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::KillOnDrop;
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

const BEFORE: &str = "[[queues]]\nname = \"q1\"\nlabel = \"Before\"\n";

fn hangup(pid: u32) {
    let ok = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -HUP {pid}");
}

async fn json(url: &str) -> serde_json::Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// Polls `probe` until it returns `Some`, for at most 20 s.
async fn until<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn next_text<S>(ws: &mut S) -> serde_json::Value
where
    S: StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s")
            .expect("open")
            .expect("no error");
        if let Message::Text(t) = msg {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
#[allow(
    clippy::too_many_lines,
    reason = "one scenario: applied, refused, invalid, in order"
)]
async fn sighup_applies_display_settings_and_refuses_the_rest() {
    let dir = std::env::temp_dir().join(format!("wb-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("w.toml");
    std::fs::write(&file, BEFORE).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_wallboard"))
        .args(["demo", "--listen", "127.0.0.1:0", "--config"])
        .arg(&file)
        .arg("--trace")
        .arg(common::golden("edge-basic.jsonl"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let mut banner = String::new();
    // Kept open to the end: the demo prints more, and a closed pipe would stop it.
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    stdout.read_line(&mut banner).unwrap();
    let base = banner
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    let pid = child.0.id();
    let label = || async {
        let doc = json(&format!("{base}/api/v1/tenants/edge/queues")).await;
        let rows = doc["queues"].as_array().cloned().unwrap_or_default();
        rows.into_iter()
            .find(|r| r["queue"] == "q1")
            .map(|r| r["target"]["label"].clone())
    };
    let status = || async { json(&format!("{base}/api/v1/status")).await["config"].clone() };
    assert_eq!(until("the trace", label).await, "Before");
    let ws_url = format!("{}/ws?tenant=edge", base.replace("http://", "ws://"));
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
    assert_eq!(next_text(&mut ws).await["queues"][0]["label"], "Before");

    // A label: applied without a restart.
    std::fs::write(&file, BEFORE.replace("Before", "After")).unwrap();
    hangup(pid);
    until("the new label", || async {
        (label().await? == "After").then_some(())
    })
    .await;
    assert_eq!(status().await["applied"], 1);
    // A connected board gets the new layout, then a push with the new targets.
    let display = loop {
        let m = next_text(&mut ws).await;
        if m["type"] == "display" {
            break m;
        }
    };
    assert_eq!(display["queues"][0]["label"], "After");
    let push = next_text(&mut ws).await;
    let q1 = push["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "q1")
        .cloned();
    assert_eq!(q1.unwrap()["label"], "After");

    // A time zone: refused by key, the running configuration stays.
    let moved = BEFORE.replace("Before", "Moved") + "[metrics]\ntz = \"Asia/Tokyo\"\n";
    std::fs::write(&file, moved).unwrap();
    hangup(pid);
    let refused = until("the refusal", || async {
        let s = status().await;
        (s["refused"] == 1).then_some(s)
    })
    .await;
    let why = refused["last_error"].as_str().unwrap();
    assert!(
        why.contains("metrics.tz changed, and it needs a restart"),
        "{why}"
    );
    assert_eq!(label().await.unwrap(), "After");

    // A file that does not load: refused with the key, nothing changes.
    std::fs::write(
        &file,
        "[[queues]]\nname = \"q1\"\nlabel = \"Bad\"\nsl_target = 80\n",
    )
    .unwrap();
    hangup(pid);
    let refused = until("the second refusal", || async {
        let s = status().await;
        (s["refused"] == 2).then_some(s)
    })
    .await;
    let why = refused["last_error"].as_str().unwrap();
    assert!(why.contains("queues[0].sl_target"), "{why}");
    assert_eq!(label().await.unwrap(), "After");
    drop(child);
    drop(stdout);
    std::fs::remove_dir_all(&dir).unwrap();
}
