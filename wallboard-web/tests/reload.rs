//! SIGHUP reloads the configuration of a running `wallboard demo` (README,
//! "Reloading the configuration"): display settings apply; a file that
//! changes how state is computed, or does not load, is refused and the
//! running configuration stays, with the reason in `/api/v1/status`;
//! `POST /api/v1/admin/reload` does the same and answers what happened.
#![cfg(unix)]

mod common;

use std::process::Command;

use common::{next_ws_json as next_text, until, ConfigFile};

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

#[tokio::test(flavor = "multi_thread")]
#[allow(
    clippy::too_many_lines,
    reason = "one scenario: applied, refused, invalid, in order"
)]
async fn sighup_applies_display_settings_and_refuses_the_rest() {
    let file = ConfigFile::new("wb-reload", BEFORE);
    let demo = common::spawn_demo(&file.path, "edge-basic.jsonl");
    let base = demo.base.clone();
    let pid = demo.child.0.id();
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
    file.write(&BEFORE.replace("Before", "After"));
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
    file.write(&moved);
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
    file.write("[[queues]]\nname = \"q1\"\nlabel = \"Bad\"\nsl_target = 80\n");
    hangup(pid);
    let refused = until("the second refusal", || async {
        let s = status().await;
        (s["refused"] == 2).then_some(s)
    })
    .await;
    let why = refused["last_error"].as_str().unwrap();
    assert!(why.contains("queues[0].sl_target"), "{why}");
    assert_eq!(label().await.unwrap(), "After");
}

/// `POST /api/v1/admin/reload` as `token`: status and body.
async fn post_reload(base: &str, token: Option<&str>) -> (u16, String, serde_json::Value) {
    let mut req = reqwest::Client::new().post(format!("{base}/api/v1/admin/reload"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let kind = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, resp.json().await.unwrap_or_default())
}

/// `wallboard_config_reloads_total` by `result`, as `/metrics` shows it.
async fn reload_counters(base: &str) -> Vec<(String, u64)> {
    let text = reqwest::Client::new()
        .get(format!("{base}/metrics"))
        .bearer_auth("boss")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("wallboard_config_reloads_total{result=\""))
        .map(|l| {
            let (result, n) = l.split_once("\"} ").unwrap();
            (result.to_owned(), n.parse().unwrap())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reload_route_answers_what_changed_or_the_key_that_needs_a_restart() {
    let with_tokens = |queues: &str| {
        format!("[server]\nadmin_tokens = [\"boss\"]\nread_tokens = [\"wall\"]\n{queues}")
    };
    let file = ConfigFile::new("wb-reload-route", &with_tokens(BEFORE));
    let demo = common::spawn_demo(&file.path, "edge-basic.jsonl");
    let base = demo.base.as_str();
    let label = || async {
        let doc = common::get_json_as(
            &reqwest::Client::new(),
            &format!("{base}/api/v1/tenants/edge/queues"),
            "wall",
        )
        .await;
        let rows = doc["queues"].as_array().cloned().unwrap_or_default();
        rows.into_iter()
            .find(|r| r["queue"] == "q1")
            .map(|r| r["target"]["label"].clone())
    };
    assert_eq!(until("the trace", label).await, "Before");
    // An admin route: no token is 401, a read token 403.
    assert_eq!(post_reload(base, None).await.0, 401);
    assert_eq!(post_reload(base, Some("wall")).await.0, 403);

    // A label: applied at once, and the answer names it.
    file.write(&with_tokens(&BEFORE.replace("Before", "After")));
    let (status, _, body) = post_reload(base, Some("boss")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["applied"], true);
    assert_eq!(body["changed"], serde_json::json!(["queues[0].label"]));
    assert_eq!(body["config"]["applied"], 1);
    assert_eq!(label().await.unwrap(), "After");

    // A time zone: 409 naming the key; nothing changes.
    file.write(&(with_tokens(BEFORE) + "[metrics]\ntz = \"Asia/Tokyo\"\n"));
    let (status, kind, body) = post_reload(base, Some("boss")).await;
    assert_eq!((status, kind.as_str()), (409, "application/problem+json"));
    assert_eq!(body["type"], "urn:wallboard:problem:needs-restart");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("metrics.tz changed"), "{detail}");
    assert_eq!(label().await.unwrap(), "After");

    // A file that does not load: 422 with the key.
    file.write(&with_tokens(
        "[[queues]]\nname = \"q1\"\nlabel = \"Bad\"\nsl_target = 80\n",
    ));
    let (status, _, body) = post_reload(base, Some("boss")).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["type"], "urn:wallboard:problem:invalid-configuration");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("queues[0].sl_target"),
        "{body}"
    );
    assert_eq!(label().await.unwrap(), "After");

    // SIGHUP counts in the same counters.
    hangup(demo.child.0.id());
    until("the SIGHUP counted", || async {
        let c = reload_counters(base).await;
        c.iter().any(|(r, n)| r == "error" && *n == 2).then_some(())
    })
    .await;
    let mut counters = reload_counters(base).await;
    counters.sort();
    assert_eq!(
        counters,
        [
            ("applied".to_owned(), 1),
            ("error".to_owned(), 2),
            ("refused".to_owned(), 1)
        ]
    );
}
