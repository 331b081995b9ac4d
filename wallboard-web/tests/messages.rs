//! Messages to the floor over the API (README, "Messages to the floor"):
//! who may post, what is refused, list, delete, expiry, the cap, and the
//! live view and WebSocket push that carry them.

mod common;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use aggregator::messages::MAX_ACTIVE_MESSAGES;
use wallboard::config::AppConfig;

const TRACE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/golden/edge-basic.jsonl"
);

fn config() -> AppConfig {
    let mut c = common::edge_config();
    c.server.read_tokens = vec!["wall".into()];
    c.server.admin_tokens = vec!["boss".into()];
    c
}

struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    async fn start() -> Api {
        let served = common::serve_trace(config(), &std::fs::read(TRACE).unwrap()).await;
        Api {
            base: format!("http://{}", served.addr),
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1/tenants/edge{path}", self.base)
    }

    async fn post(&self, token: &str, body: Value) -> reqwest::Response {
        self.http
            .post(self.url("/messages"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn list(&self) -> Vec<Value> {
        let r = self
            .http
            .get(self.url("/messages"))
            .bearer_auth("wall")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        v["messages"].as_array().unwrap().clone()
    }

    async fn delete(&self, token: &str, id: &str) -> reqwest::Response {
        self.http
            .delete(self.url(&format!("/messages/{id}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }
}

/// The problem's `type` and `detail`, checking the status.
async fn problem(r: reqwest::Response, status: u16) -> (String, String) {
    assert_eq!(r.status().as_u16(), status);
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(ct, "application/problem+json");
    let v: Value = r.json().await.unwrap();
    (
        v["type"].as_str().unwrap().to_owned(),
        v["detail"].as_str().unwrap().to_owned(),
    )
}

fn ids(list: &[Value]) -> Vec<&str> {
    list.iter().map(|m| m["id"].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn only_an_admin_posts_or_deletes_and_a_reader_lists() {
    let api = Api::start().await;
    let msg = json!({"text": "Fire drill", "severity": "info", "ttl_s": 600});
    let (kind, _) = problem(api.post("wall", msg.clone()).await, 403).await;
    assert_eq!(kind, "urn:wallboard:problem:forbidden");
    let r = api
        .http
        .post(api.url("/messages"))
        .json(&msg)
        .send()
        .await
        .unwrap();
    problem(r, 401).await;
    let r = api.post("boss", msg).await;
    assert_eq!(r.status(), 201);
    let posted: Value = r.json().await.unwrap();
    let id = posted["id"].as_str().unwrap().to_owned();
    assert_eq!(ids(&api.list().await), [id.as_str()], "visible on answer");
    problem(api.delete("wall", &id).await, 403).await;
    assert_eq!(api.list().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn nonsense_is_refused_naming_the_field() {
    let api = Api::start().await;
    for (body, field) in [
        (json!({"text": "", "severity": "info", "ttl_s": 60}), "text"),
        (
            json!({"text": "x", "severity": "urgent", "ttl_s": 60}),
            "severity",
        ),
        (json!({"text": "x", "severity": "info"}), "ttl_s"),
        (
            json!({"text": "x", "severity": "info", "ttl_s": 604_801}),
            "ttl_s",
        ),
        (
            json!({"text": "x", "severity": "info", "expires_at": "2001-01-01T00:00:00Z"}),
            "expires_at",
        ),
        (
            json!({"text": "x", "severity": "info", "ttl_s": 5, "queues": ["a\u{7}"]}),
            "queues",
        ),
    ] {
        let (kind, detail) = problem(api.post("boss", body.clone()).await, 422).await;
        assert_eq!(kind, "urn:wallboard:problem:invalid-field", "{body}");
        assert!(
            detail.starts_with(&format!("field `{field}`")),
            "{body}: {detail}"
        );
    }
    let body = json!({"text": "x", "severity": "info", "ttl_s": 5, "colour": "red"});
    let (kind, detail) = problem(api.post("boss", body).await, 400).await;
    assert_eq!(kind, "urn:wallboard:problem:bad-body");
    assert!(detail.contains("colour"), "{detail}");
    assert!(api.list().await.is_empty(), "nothing refused was posted");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_is_listed_live_and_pushed_until_deleted() {
    let api = Api::start().await;
    let text = "<img src=x onerror=alert(1)> 午餐 lunch";
    let r = api
        .post(
            "boss",
            json!({"text": text, "severity": "critical", "ttl_s": 3600, "queues": ["q1", "q1"]}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let posted: Value = r.json().await.unwrap();
    let id = posted["id"].as_str().unwrap().to_owned();
    assert_eq!(posted["text"], text, "as typed");
    assert_eq!(posted["queues"], json!(["q1"]));
    let expires = posted["expires_ms"].as_i64().unwrap();
    assert_eq!(expires - posted["posted_ms"].as_i64().unwrap(), 3_600_000);

    let listed = api.list().await;
    assert_eq!(listed, std::slice::from_ref(&posted));
    let live = common::get_json_as(&api.http, &api.url("/live"), "wall").await;
    assert_eq!(live["messages"], json!([posted]));

    let ws_url = format!(
        "{}/ws?tenant=edge&token=wall",
        api.base.replace("http://", "ws://")
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
    let push = common::next_ws_snapshot(&mut ws).await;
    assert_eq!(push["snapshot"]["messages"][0]["id"], id.as_str());

    assert_eq!(api.delete("boss", &id).await.status(), 204);
    assert!(api.list().await.is_empty(), "gone on answer");
    let (kind, _) = problem(api.delete("boss", &id).await, 404).await;
    assert_eq!(kind, "urn:wallboard:problem:unknown-message");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_goes_at_its_expiry() {
    let api = Api::start().await;
    let r = api
        .post(
            "boss",
            json!({"text": "brief", "severity": "warning", "ttl_s": 1}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let posted: Value = r.json().await.unwrap();
    let expires = posted["expires_ms"].as_i64().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let list = api.list().await;
        let now = wallboard_pipeline::writer::unix_ms();
        if list.is_empty() {
            assert!(now >= expires, "gone before its expiry");
            break;
        }
        assert!(Instant::now() < deadline, "still listed 10 s on: {list:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_board_holds_a_bounded_number_of_messages() {
    let api = Api::start().await;
    for i in 0..MAX_ACTIVE_MESSAGES {
        let r = api
            .post(
                "boss",
                json!({"text": format!("m{i}"), "severity": "info", "ttl_s": 600}),
            )
            .await;
        assert_eq!(r.status(), 201, "message {i}");
    }
    let r = api
        .post(
            "boss",
            json!({"text": "one more", "severity": "info", "ttl_s": 600}),
        )
        .await;
    let (kind, detail) = problem(r, 409).await;
    assert_eq!(kind, "urn:wallboard:problem:messages-full");
    assert!(
        detail.contains(&MAX_ACTIVE_MESSAGES.to_string()),
        "{detail}"
    );
    assert_eq!(api.list().await.len(), MAX_ACTIVE_MESSAGES);
}
