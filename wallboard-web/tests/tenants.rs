//! Per-tenant settings (README, "Tenants"): each tenant's own zone and
//! interval in the live view, the REST API and `wallboard replay --config`;
//! its own queues; tokens that see only their tenants (404, never 403, for
//! the others), on every read route and the WebSocket.

mod common;

use std::fmt::Write as _;

use common::next_ws_json as next_text;
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;

use wallboard::config::AppConfig;

/// 2026-12-01 14:00 UTC: 22:00 in Shanghai, 09:00 in New York.
const FIRST: i64 = 1_796_133_600_000;
/// 2026-12-02 03:20 UTC: 11:20 on the 2nd in Shanghai, 22:20 on the 1st in New York.
const SECOND: i64 = 1_796_181_600_000;

const CONFIG: &str = r#"
[server]
read_tokens = ["wall"]
admin_tokens = ["boss"]

[[queues]]
name = "q"
label = "Top level"

[[tenants]]
id = "sh"
tz = "Asia/Shanghai"
interval_minutes = 15
read_tokens = ["sh-token", "both"]

[[tenants]]
id = "ny"
tz = "America/New_York"
interval_minutes = 60
read_tokens = ["ny-token", "both"]
[[tenants.queues]]
name = "q"
label = "New York's own"
[[tenants.boards]]
name = "ny-floor"
queues = ["q"]
"#;

/// One answered call at `FIRST` and one at `SECOND`, for `sh`, `ny` and `other`.
fn trace() -> Vec<u8> {
    let mut out = String::new();
    for tenant in ["sh", "ny", "other"] {
        for (n, ts) in [FIRST, SECOND].into_iter().enumerate() {
            for (kind, at) in [("call_queued", ts - 5000), ("call_answered", ts)] {
                writeln!(
                    out,
                    r#"{{"v":1,"id":"{tenant}-{n}-{kind}","ts":{at},"tenant":"{tenant}","kind":"{kind}","call":"c{n}","queue":"q","agent":"a"}}"#
                )
                .unwrap();
            }
        }
    }
    out.into_bytes()
}

fn config() -> AppConfig {
    toml::from_str(CONFIG).unwrap()
}

async fn start() -> std::net::SocketAddr {
    common::serve_trace(config(), &trace()).await.addr
}

async fn get(
    addr: std::net::SocketAddr,
    path: &str,
    token: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut req = reqwest::Client::new().get(format!("http://{addr}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body)),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn each_tenant_is_computed_in_its_own_zone_and_interval() {
    let addr = start().await;
    let live = |t: &'static str| async move {
        get(addr, &format!("/api/v1/tenants/{t}/live"), Some("wall"))
            .await
            .1
    };
    let (sh, ny, other) = (live("sh").await, live("ny").await, live("other").await);
    assert_eq!(sh["tz"], "Asia/Shanghai");
    assert_eq!(ny["tz"], "America/New_York");
    assert_eq!(other["tz"], "UTC");
    // Local midnight in Shanghai and New York; 15- and 60-minute intervals.
    assert_eq!(sh["day_start_ms"], 1_796_140_800_000_i64);
    assert_eq!(ny["day_start_ms"], 1_796_101_200_000_i64);
    assert_eq!(sh["interval_start_ms"], 1_796_181_300_000_i64);
    assert_eq!(ny["interval_start_ms"], 1_796_180_400_000_i64);
    assert_eq!(sh["queues"][0]["today"]["answered"], 1);
    assert_eq!(ny["queues"][0]["today"]["answered"], 2);
    // New York has its own queue list; the others inherit [[queues]].
    let label = |t: &'static str| async move {
        let doc = get(addr, &format!("/api/v1/tenants/{t}/queues"), Some("wall"))
            .await
            .1;
        let rows = doc["queues"].as_array().unwrap().clone();
        let q = rows.into_iter().find(|r| r["queue"] == "q").unwrap();
        q["target"]["label"].clone()
    };
    assert_eq!(label("ny").await, "New York's own");
    assert_eq!(label("sh").await, "Top level");
    let report = get(addr, "/api/v1/tenants/sh/report", Some("wall")).await.1;
    assert_eq!(report["interval_minutes"], 15);
    assert_eq!(report["tz"], "Asia/Shanghai");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenants_token_sees_its_tenants_only() {
    let addr = start().await;
    let all = ["ny", "other", "sh"];
    // token → the tenants it lists; None: 401 everywhere.
    let matrix: [(Option<&str>, Option<&[&str]>); 7] = [
        (Some("wall"), Some(&all)),
        (Some("boss"), Some(&all)),
        (Some("sh-token"), Some(&["sh"])),
        (Some("ny-token"), Some(&["ny"])),
        (Some("both"), Some(&["ny", "sh"])),
        (Some("nobody-has-this"), None),
        (None, None),
    ];
    for (token, sees) in matrix {
        let (status, list) = get(addr, "/api/v1/tenants", token).await;
        let Some(sees) = sees else {
            assert_eq!(status, 401, "{token:?}");
            continue;
        };
        assert_eq!(list, serde_json::json!(sees), "{token:?}");
        let (_, status_doc) = get(addr, "/api/v1/status", token).await;
        let in_status: Vec<&String> = status_doc["tenants"].as_object().unwrap().keys().collect();
        assert_eq!(in_status, sees, "{token:?}");
        for tenant in all.iter().chain(&["nobody"]) {
            for route in ["live", "queues", "agents", "report", "intervals", "alerts"] {
                let (status, body) =
                    get(addr, &format!("/api/v1/tenants/{tenant}/{route}"), token).await;
                if sees.contains(tenant) {
                    assert_eq!(status, 200, "{token:?} {tenant} {route}: {body}");
                } else {
                    // The same answer as for a tenant that does not exist.
                    assert_eq!(status, 404, "{token:?} {tenant} {route}: {body}");
                    assert_eq!(
                        body["type"], "urn:wallboard:problem:unknown-tenant",
                        "{body}"
                    );
                }
            }
        }
    }
    let (status, body) = get(addr, "/api/v1/tenants/ny/messages", Some("sh-token")).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (404, Some("urn:wallboard:problem:unknown-tenant"))
    );
    assert_eq!(
        get(addr, "/api/v1/tenants/sh/messages", Some("sh-token"))
            .await
            .0,
        200
    );
    // /metrics names every tenant: not for a tenant's token.
    assert_eq!(get(addr, "/metrics", Some("sh-token")).await.0, 403);
    assert_eq!(get(addr, "/metrics", Some("wall")).await.0, 200);
    // A tenant's read token is a read token: admin routes are 403.
    let ack = reqwest::Client::new()
        .post(format!(
            "http://{addr}/api/v1/tenants/sh/alerts/acknowledge"
        ))
        .bearer_auth("sh-token")
        .json(&serde_json::json!({"rule": "x", "subject": "q"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ack.status().as_u16(), 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenants_token_subscribes_to_its_tenants_only() {
    let addr = start().await;
    let err = tokio_tungstenite::connect_async(format!("ws://{addr}/ws?tenant=sh&token=ny-token"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");
    // Without a tenant: the first one the token sees, with its own layout.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws?token=ny-token"))
        .await
        .unwrap();
    let display = next_text(&mut ws).await;
    assert_eq!(display["type"], "display");
    assert_eq!(display["boards"][0]["name"], "ny-floor");
    assert_eq!(display["queues"][0]["label"], "New York's own");
    let first = next_text(&mut ws).await;
    assert_eq!(
        (first["type"].as_str(), first["tenant"].as_str()),
        (Some("snapshot"), Some("ny"))
    );
    // Another tenant: refused as if it did not exist; the subscription stays.
    let subscribe = r#"{"type":"subscribe","tenant":"sh"}"#;
    ws.send(Message::Text(subscribe.into())).await.unwrap();
    let refused = next_text(&mut ws).await;
    assert_eq!(refused["type"], "error");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("no tenant \"sh\""),
        "{refused}"
    );
    // A token of both: switching tenant sends that tenant's layout first.
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws?tenant=ny&token=both"))
            .await
            .unwrap();
    assert_eq!(next_text(&mut ws).await["type"], "display");
    assert_eq!(next_text(&mut ws).await["tenant"], "ny");
    ws.send(Message::Text(subscribe.into())).await.unwrap();
    let display = next_text(&mut ws).await;
    assert_eq!(display["type"], "display");
    assert_eq!(display["queues"][0]["label"], "Top level");
    assert_eq!(next_text(&mut ws).await["tenant"], "sh");
}

#[test]
fn replay_with_a_config_reports_each_tenant_in_its_zone() {
    let config = common::ConfigFile::new("wb-tenants", CONFIG);
    let trace_path = config.dir().join("t.jsonl");
    std::fs::write(&trace_path, trace()).unwrap();
    let report = |tenant: &str| -> serde_json::Value {
        let config = config.path.to_str().unwrap();
        let out = common::replay(&trace_path, &["--config", config, "--tenant", tenant]);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let (sh, ny, other) = (report("sh"), report("ny"), report("other"));
    assert_eq!(
        (sh["tz"].as_str(), sh["interval_minutes"].as_u64()),
        (Some("Asia/Shanghai"), Some(15))
    );
    assert_eq!(
        (ny["tz"].as_str(), ny["interval_minutes"].as_u64()),
        (Some("America/New_York"), Some(60))
    );
    assert_eq!(
        (other["tz"].as_str(), other["interval_minutes"].as_u64()),
        (Some("UTC"), Some(30))
    );
    let last_start =
        |r: &serde_json::Value| r["queues"].as_array().unwrap().last().unwrap()["start"].clone();
    assert_eq!(last_start(&sh), "2026-12-02T11:15:00+08:00");
    assert_eq!(last_start(&ny), "2026-12-01T22:00:00-05:00");
}

#[tokio::test(flavor = "multi_thread")]
async fn unseen_queues_are_per_tenant_and_only_the_tokens_own() {
    let config: AppConfig = toml::from_str(
        r#"
[server]
read_tokens = ["wall"]

[[queues]]
name = "q"
[[queues]]
name = "top-only"

[[tenants]]
id = "sh"
read_tokens = ["sh-token"]
[[tenants.queues]]
name = "q"
[[tenants.queues]]
name = "sh-only"

[[tenants]]
id = "ny"
read_tokens = ["ny-token"]
"#,
    )
    .unwrap();
    let addr = common::serve_trace(config, &trace()).await.addr;
    let unseen = |token: &'static str| async move {
        let (_, s) = get(addr, "/api/v1/status", Some(token)).await;
        (
            s["unseen_queues"].clone(),
            s["unseen_queues_by_tenant"].clone(),
        )
    };
    // Every tenant had calls on `q`; each misses the rest of its own list.
    assert_eq!(
        unseen("wall").await,
        (
            serde_json::json!(["top-only", "sh-only"]),
            serde_json::json!({"ny": ["top-only"], "other": ["top-only"], "sh": ["sh-only"]})
        )
    );
    assert_eq!(
        unseen("sh-token").await,
        (
            serde_json::json!(["sh-only"]),
            serde_json::json!({"sh": ["sh-only"]})
        )
    );
    assert_eq!(
        unseen("ny-token").await,
        (
            serde_json::json!(["top-only"]),
            serde_json::json!({"ny": ["top-only"]})
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenants_board_names_its_own_agents_only() {
    let config = CONFIG.replace(
        "read_tokens = [\"sh-token\", \"both\"]\n",
        "read_tokens = [\"sh-token\", \"both\"]\n[[tenants.agents]]\nid = \"a\"\nname = \"Shanghai Alice\"\n",
    ) + "[[tenants.agents]]\nid = \"a\"\nname = \"New York Bob\"\n\n[[agents]]\nid = \"a\"\nname = \"Top Carol\"\n";
    let config: AppConfig = toml::from_str(&config).unwrap();
    let addr = common::serve_trace(config, &trace()).await.addr;
    let names = ["Shanghai Alice", "New York Bob", "Top Carol"];
    // token, tenant → the one name its board may carry.
    for (token, tenant, own) in [
        ("ny-token", "ny", "New York Bob"),
        ("sh-token", "sh", "Shanghai Alice"),
        ("wall", "other", "Top Carol"),
    ] {
        let url = format!("ws://{addr}/ws?tenant={tenant}&token={token}");
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let display = next_text(&mut ws).await;
        assert_eq!(display["type"], "display");
        assert_eq!(
            display["agents"],
            serde_json::json!([{"id": "a", "name": own, "team": null}]),
            "{tenant}"
        );
        let snapshot = next_text(&mut ws).await.to_string();
        for name in names.iter().filter(|&&n| n != own) {
            assert!(!display.to_string().contains(name), "{tenant}: {name}");
            assert!(!snapshot.contains(name), "{tenant}: {name}");
        }
    }
}
