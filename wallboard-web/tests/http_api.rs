//! The HTTP API's contract against a served router: one error shape
//! (RFC 9457 problem+json) for every failure, the access matrix of every
//! route × credential, and the limits of `[server]` (body, events per
//! request, timeouts, connections, WebSocket subscriptions).

// An end-to-end scenario reads best as one story, start to finish.
#![allow(clippy::too_many_lines)]

mod common;

use std::fmt::Write as _;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use tokio_tungstenite::tungstenite::Message;

use wallboard::config::AppConfig;
use wallboard::web::AppState;

/// The edge-basic golden day, applied, behind a served router.
async fn start(config: AppConfig) -> (std::net::SocketAddr, AppState) {
    let trace = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/golden/edge-basic.jsonl"
    ))
    .unwrap();
    let served = common::serve_trace(config, &trace).await;
    (served.addr, served.state)
}

fn config() -> AppConfig {
    let mut c = common::edge_config();
    c.alerts = toml::from_str::<toml::Value>(
        "[[a]]\nname = \"long wait\"\nmetric = \"oldest_wait_s\"\nop = \">=\"\nthreshold = 100000\n",
    )
    .unwrap()["a"]
        .clone()
        .try_into()
        .unwrap();
    c
}

/// GETs `url` and checks the answer is a problem (see [`problem`]).
async fn get_problem(
    c: &reqwest::Client,
    url: impl reqwest::IntoUrl,
    status: u16,
    kind: &str,
) -> String {
    problem(c.get(url).send().await.unwrap(), status, kind).await
}

/// Checks `resp` is an RFC 9457 problem of `status` and kind `kind`;
/// returns its detail.
async fn problem(resp: reqwest::Response, status: u16, kind: &str) -> String {
    let got = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(got, status, "{body}");
    assert_eq!(ct.as_deref(), Some("application/problem+json"), "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["type"], format!("urn:wallboard:problem:{kind}"));
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    let detail = body["detail"].as_str().unwrap().to_owned();
    assert!(detail.len() > 10, "{detail}");
    detail
}

#[tokio::test(flavor = "multi_thread")]
async fn every_failure_is_a_problem_document() {
    let (addr, _) = start(config()).await;
    let c = reqwest::Client::new();
    let url = |p: &str| format!("http://{addr}{p}");
    let d = get_problem(&c, url("/api/v2/nothing"), 404, "unknown-route").await;
    assert!(d.contains("/api/v2/nothing"), "{d}");
    let d = get_problem(
        &c,
        url("/api/v1/tenants/nobody/live"),
        404,
        "unknown-tenant",
    )
    .await;
    assert!(d.contains("nobody"), "{d}");
    for p in ["queues", "agents", "report", "intervals", "alerts"] {
        let r = c
            .get(url(&format!("/api/v1/tenants/nobody/{p}")))
            .send()
            .await
            .unwrap();
        problem(r, 404, "unknown-tenant").await;
    }
    get_problem(&c, url("/assets/nope.js"), 404, "unknown-asset").await;
    problem(
        c.delete(url("/api/v1/tenants")).send().await.unwrap(),
        405,
        "method-not-allowed",
    )
    .await;

    // Bad queries, and the range in both spellings.
    let report = url("/api/v1/tenants/edge/report");
    let d = get_problem(&c, format!("{report}?from=yesterday"), 400, "bad-query").await;
    assert!(d.contains("RFC 3339"), "{d}");
    let d = get_problem(
        &c,
        format!("{report}?from=1795420800000&to=1795417200000"),
        400,
        "bad-query",
    )
    .await;
    assert!(d.contains("after"), "{d}");
    let by_ms = c
        .get(format!("{report}?from=1795422600000&to=1795426200000"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_ms.status(), 200);
    let by_ms = by_ms.text().await.unwrap();
    let by_rfc = c
        .get(format!(
            "{report}?from=2026-11-23T16:30:00%2B08:00&to=2026-11-23T09:30:00Z"
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(by_ms, by_rfc);
    assert!(by_ms.contains("\"start_ms\": 1795425300000"), "{by_ms}");
    assert!(!by_ms.contains("\"start_ms\": 1795426200000"), "{by_ms}");

    // Alerts: an unknown rule, an alert that is not firing, a bad body.
    let silence = url("/api/v1/tenants/edge/alerts/silence");
    let ack = url("/api/v1/tenants/edge/alerts/acknowledge");
    let body = serde_json::json!({"rule": "no such rule", "subject": "*", "minutes": 5});
    problem(
        c.post(&silence).json(&body).send().await.unwrap(),
        404,
        "unknown-rule",
    )
    .await;
    problem(
        c.post(&ack).json(&body).send().await.unwrap(),
        404,
        "unknown-rule",
    )
    .await;
    let body = serde_json::json!({"rule": "long wait", "subject": "q1"});
    problem(
        c.post(&ack).json(&body).send().await.unwrap(),
        404,
        "unknown-alert",
    )
    .await;
    let ok = c.post(&silence).json(&body).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let body = serde_json::json!({"rule": "long wait", "subject": "q1", "minutes": 600_000});
    problem(
        c.post(&silence).json(&body).send().await.unwrap(),
        400,
        "bad-body",
    )
    .await;
    let r = c
        .post(&silence)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    problem(r, 400, "bad-body").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_post_must_say_it_is_json() {
    // No tokens: a floor network. A cross-site form or fetch can send
    // text/plain without a preflight; it must not be taken.
    let (addr, _) = start(config()).await;
    let c = reqwest::Client::new();
    let ev = r#"{"v":1,"id":"p1","ts":1795429300000,"tenant":"edge","kind":"call_queued","call":"p1","queue":"q3"}"#;
    let ingest = format!("http://{addr}/ingest/v1/events");
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut r = c.post(&ingest).body(ev);
        if let Some(ct) = ct {
            r = r.header("content-type", ct);
        }
        problem(r.send().await.unwrap(), 415, "unsupported-media-type").await;
    }
    let silence = format!("http://{addr}/api/v1/tenants/edge/alerts/silence");
    let r = c
        .post(&silence)
        .header("content-type", "text/plain")
        .body(r#"{"rule":"*","subject":"*","minutes":60}"#)
        .send()
        .await
        .unwrap();
    problem(r, 415, "unsupported-media-type").await;
    for ct in ["application/json", "application/x-ndjson"] {
        let r = c
            .post(&ingest)
            .header("content-type", ct)
            .body(ev)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{ct}");
    }
}

/// Who may use what, for every route (`R` read, `A` admin, `I` ingest).
const MATRIX: &[(&str, &str, &str)] = &[
    ("GET", "/healthz", "open"),
    ("GET", "/readyz", "open"),
    ("GET", "/", "open"),
    ("GET", "/scorecard.html", "open"),
    ("GET", "/assets/app.js", "open"),
    ("GET", "/api/v1/openapi.json", "open"),
    ("GET", "/api/v1/status", "RA"),
    ("GET", "/api/v1/tenants", "RA"),
    ("GET", "/api/v1/tenants/edge/live", "RA"),
    ("GET", "/api/v1/tenants/edge/queues", "RA"),
    ("GET", "/api/v1/tenants/edge/agents", "RA"),
    ("GET", "/api/v1/tenants/edge/agents/scorecard", "RA"),
    ("GET", "/api/v1/tenants/edge/report", "RA"),
    ("GET", "/api/v1/tenants/edge/intervals", "RA"),
    ("GET", "/api/v1/tenants/edge/alerts", "RA"),
    ("GET", "/metrics", "RA"),
    ("POST", "/api/v1/tenants/edge/alerts/acknowledge", "A"),
    ("POST", "/api/v1/tenants/edge/alerts/silence", "A"),
    ("POST", "/ingest/v1/events", "IA"),
    ("GET", "/api/v1/tenants/edge/messages", "RA"),
    ("POST", "/api/v1/tenants/edge/messages", "A"),
    ("DELETE", "/api/v1/tenants/edge/messages/m0", "A"),
    ("GET", "/api/v1/tenants/edge/forecast", "RA"),
    ("POST", "/api/v1/tenants/edge/forecast", "A"),
];

/// A body the route takes (in the access matrix and the `OpenAPI` check).
fn body_for(path: &str) -> &'static str {
    if path.starts_with("/ingest") {
        r#"{"v":1,"id":"m1","ts":1795429300000,"tenant":"edge","kind":"call_queued","call":"m1","queue":"q3"}"#
    } else if path.ends_with("/forecast") {
        r#"[{"queue":"q1","start":"2026-11-23T07:00:00Z","calls":1,"aht_s":60}]"#
    } else if path.ends_with("/messages") {
        r#"{"text":"matrix","severity":"info","ttl_s":60}"#
    } else {
        r#"{"rule":"long wait","subject":"*","minutes":1}"#
    }
}

/// What a request to `path` with `token` should get: 2xx/404 when allowed
/// (an acknowledgement of an alert that is not firing is a 404), else 401
/// for no or an unknown token and 403 for a known token of another role.
async fn check_matrix(config: AppConfig, tokens: &[(char, &str)]) {
    let (addr, _) = start(config).await;
    let c = reqwest::Client::new();
    for (method, path, roles) in MATRIX {
        let mut creds: Vec<(Option<char>, Option<&str>)> =
            vec![(None, None), (None, Some("forged"))];
        creds.extend(tokens.iter().map(|(r, t)| (Some(*r), Some(*t))));
        for (role, token) in creds {
            let mut r = match *method {
                "GET" => c.get(format!("http://{addr}{path}")),
                "DELETE" => c.delete(format!("http://{addr}{path}")),
                _ => c
                    .post(format!("http://{addr}{path}"))
                    .header("content-type", "application/json")
                    .body(body_for(path)),
            };
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            let status = r.send().await.unwrap().status().as_u16();
            let allowed = *roles == "open" || role.is_some_and(|r| roles.contains(r));
            let want: &[u16] = match (allowed, role) {
                (true, _) => &[200, 201, 202, 204, 404],
                (false, Some(_)) => &[403],
                (false, None) => &[401],
            };
            assert!(
                want.contains(&status),
                "{method} {path} with {role:?} token {token:?}: {status}, want {want:?}"
            );
            if allowed && status == 404 {
                let absent = path.ends_with("/acknowledge") || path.ends_with("/m0");
                assert!(absent, "{method} {path}: 404");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn only_ingest_tokens_close_every_role() {
    let mut c = config();
    c.server.ingest_tokens = vec!["acd".into()];
    check_matrix(c, &[('I', "acd")]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_answers_every_credential_as_the_matrix_says() {
    let mut c = config();
    c.server.read_tokens = vec!["wall".into()];
    c.server.admin_tokens = vec!["boss".into()];
    c.server.ingest_tokens = vec!["acd".into()];
    check_matrix(c, &[('R', "wall"), ('A', "boss"), ('I', "acd")]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ingest_is_bounded_in_bytes_events_and_answer() {
    let mut c = config();
    c.server.max_body_bytes = 64 << 10;
    c.server.max_events_per_request = 1_000;
    c.server.max_rejections_listed = 10;
    let (addr, _) = start(c).await;
    let c = reqwest::Client::new();
    let url = format!("http://{addr}/ingest/v1/events");
    let post = |body: String| {
        c.post(&url)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    // A 256 KiB array of 128 Ki elements is refused by its size, never
    // parsed.
    let huge = format!("[{}0]", "0,".repeat(128 << 10));
    let d = problem(post(huge).await.unwrap(), 413, "payload-too-large").await;
    assert!(d.contains("65536"), "{d}");
    // Within the size but over the events limit.
    let many = format!("[{}0]", "0,".repeat(5_000));
    let d = problem(post(many).await.unwrap(), 413, "too-many-events").await;
    assert!(d.contains("1000"), "{d}");
    // 999 rejections: ten listed, the rest counted.
    let bad = format!("[{}{{}}]", "{},".repeat(998));
    let resp = post(bad).await.unwrap();
    assert_eq!(resp.status(), 422);
    let a: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(a["rejected"], 999);
    assert_eq!(a["results"].as_array().unwrap().len(), 10);
    assert_eq!(a["rejections_not_listed"], 989);
    assert_eq!(a["results"][9]["index"], 9);
}

/// Reads from `s` until the server closes it (or `limit` passes); what
/// arrived.
async fn read_until_closed(s: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut got = Vec::new();
    tokio::time::timeout(limit, s.read_to_end(&mut got))
        .await
        .ok()?
        .ok()?;
    Some(String::from_utf8_lossy(&got).into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_headers_and_slow_bodies_are_cut_off() {
    let mut c = config();
    c.server.header_timeout_s = 1;
    c.server.body_timeout_s = 1;
    let (addr, _) = start(c).await;
    // Headers that never end: the connection is closed.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let got = read_until_closed(&mut slow, Duration::from_secs(20)).await;
    assert!(
        got.is_some(),
        "a connection with unfinished headers is closed"
    );
    // A body that never arrives: 408.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(
        b"POST /ingest/v1/events HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n[{\"v\":1",
    )
    .await
    .unwrap();
    let mut head = [0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(20), slow.read(&mut head))
        .await
        .expect("an answer to a stalled body")
        .unwrap();
    let head = String::from_utf8_lossy(&head[..n]);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(head.contains("application/problem+json"), "{head}");
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_beyond_the_limit_are_answered_503() {
    let mut c = config();
    c.server.max_connections = 2;
    c.server.header_timeout_s = 60;
    let (addr, state) = start(c).await;
    // Two connections that say nothing hold both places.
    let mut held = vec![];
    for _ in 0..2 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    let mut third = TcpStream::connect(addr).await.unwrap();
    let got = read_until_closed(&mut third, Duration::from_secs(20))
        .await
        .expect("the third connection is answered and closed");
    assert!(got.starts_with("HTTP/1.1 503"), "{got}");
    assert!(got.contains("server.max_connections"), "{got}");
    assert_eq!(
        state
            .http
            .refused_connections
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    // A place freed is a place taken again.
    drop(held.pop());
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match client.get(format!("http://{addr}/healthz")).send().await {
            Ok(r) if r.status() == 200 => break,
            _ => assert!(tokio::time::Instant::now() < deadline, "no place freed"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_subscriptions_are_bounded_and_their_cache_goes_with_them() {
    let mut c = config();
    c.server.ws_max_queues = 3;
    c.server.ws_max_message_bytes = 1024;
    let (addr, state) = start(c).await;
    // Too many queues in the URL: refused before the upgrade.
    let err =
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws?tenant=edge&queues=a,b,c,d"))
            .await
            .unwrap_err();
    assert!(err.to_string().contains("400"), "{err}");

    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws?tenant=edge&queues=q1"))
            .await
            .unwrap();
    // The display configuration comes first on every connection.
    let display = next_text(&mut ws).await;
    assert_eq!(display["type"], "display");
    let first = next_text(&mut ws).await;
    assert_eq!(first["type"], "snapshot");
    assert_eq!(state.push_cache.len(), 1);
    // Too many queues in a message: refused, the subscription stays.
    ws.send(Message::text(
        r#"{"type":"subscribe","tenant":"edge","queues":["a","b","c","d"]}"#,
    ))
    .await
    .unwrap();
    let refusal = loop {
        let m = next_text(&mut ws).await;
        if m["type"] == "error" {
            break m;
        }
    };
    assert!(refusal["detail"]
        .as_str()
        .unwrap()
        .contains("server.ws_max_queues"));
    // A message over the size limit ends the connection.
    let big = format!(
        r#"{{"type":"subscribe","queues":["{}"]}}"#,
        "x".repeat(4096)
    );
    let _ = ws.send(Message::text(big)).await;
    let end = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match ws.next().await {
                None | Some(Err(_) | Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(end.is_ok(), "an oversized message closes the connection");
    // With its only client gone, the subscription's cache entry goes too.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !state.push_cache.is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "cache entry kept");
        tokio::task::yield_now().await;
    }
    let refused = state
        .http
        .ws_refused_subscriptions
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(refused, 2);
}

async fn next_text(ws: &mut impl common::WsStream) -> serde_json::Value {
    common::next_ws_json(ws).await
}

/// The routes the router serves, read from its source: every
/// `.route("PATH", get(…))` / `post(…)` under `src/web/` (so a route added
/// later is held to the same rule).
fn served_routes() -> std::collections::BTreeSet<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/web");
    let mut routes = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let src = std::fs::read_to_string(&path).unwrap();
        for (i, _) in src.match_indices(".route(") {
            let rest = src[i + 7..].trim_start();
            let Some(rest) = rest.strip_prefix('"') else {
                continue;
            };
            let (route, rest) = rest.split_once('"').unwrap();
            let handler = rest.trim_start_matches([',', ' ', '\n', '\r']);
            for method in ["get", "post", "put", "delete", "patch"] {
                if handler.starts_with(&format!("{method}(")) {
                    routes.insert((method.to_owned(), route.to_owned()));
                }
            }
        }
    }
    routes
}

fn documented_routes(openapi: &serde_json::Value) -> std::collections::BTreeSet<(String, String)> {
    openapi["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect()
}

/// A request to a documented route, path parameters filled in.
fn request(
    c: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    tenant: &str,
) -> reqwest::RequestBuilder {
    let url = format!(
        "{base}{}",
        path.replace("{tenant}", tenant)
            .replace("{file}", "app.js")
            .replace("{id}", "m0")
    );
    match method {
        "get" => c.get(url),
        "delete" => c.delete(url),
        "post" => c
            .post(url)
            .header("content-type", "application/json")
            .body(body_for(path)),
        other => panic!("undocumented method {other}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_covers_every_route_and_every_answer() {
    let mut c = config();
    c.server.read_tokens = vec!["wall".into()];
    c.server.admin_tokens = vec!["boss".into()];
    let (addr, _) = start(c).await;
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();
    let openapi: serde_json::Value = client
        .get(format!("{base}/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let documented = documented_routes(&openapi);
    let served = served_routes();
    assert!(served.len() >= 17, "{served:?}");
    let undocumented: Vec<_> = served.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "served, not documented: {undocumented:?}"
    );
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(unserved.is_empty(), "documented, not served: {unserved:?}");

    for (method, path) in &documented {
        let op = &openapi["paths"][path][method];
        let answers = op["responses"].as_object().unwrap();
        let open = op["security"]
            .as_array()
            .is_some_and(std::vec::Vec::is_empty);
        let mut tries = vec![(
            "admin token",
            request(&client, &base, method, path, "edge").bearer_auth("boss"),
        )];
        if !open {
            tries.push(("no token", request(&client, &base, method, path, "edge")));
            tries.push((
                "read token",
                request(&client, &base, method, path, "edge").bearer_auth("wall"),
            ));
        }
        if path.contains("{tenant}") {
            tries.push((
                "unknown tenant",
                request(&client, &base, method, path, "nobody").bearer_auth("boss"),
            ));
        }
        for (what, req) in tries {
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let status = status.to_string();
            let answer = answers.get(&status).unwrap_or_else(|| {
                panic!("{method} {path} with {what}: {status} is not documented")
            });
            let answer = match answer["$ref"].as_str() {
                Some(r) => &openapi["components"]["responses"][r.rsplit('/').next().unwrap()],
                None => answer,
            };
            let ct = resp
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
            if let (Some(types), Some(ct)) = (answer["content"].as_object(), ct) {
                assert!(
                    types.contains_key(&ct),
                    "{method} {path} with {what}: {status} as {ct}"
                );
            }
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    answer["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path}: {status} documented as a problem"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_websocket_client_that_never_reads_is_dropped_and_counted() {
    let mut c = config();
    c.server.ws_send_timeout_s = 1;
    c.server.ws_min_push_interval_ms = 0;
    let (addr, state) = start(c).await;
    let http = reqwest::Client::new();
    let ingest = format!("http://{addr}/ingest/v1/events");
    let post = |body: String| {
        http.post(&ingest)
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
    };
    // 3,000 agents make every push a few hundred KB.
    let agents = (0..3_000).fold(String::new(), |mut text, i| {
        writeln!(
            text,
            "{{\"v\":1,\"id\":\"s{i}\",\"ts\":1795429300000,\"tenant\":\"edge\",\"kind\":\"agent_state\",\"agent\":\"agent-{i:05}\",\"state\":\"available\"}}"
        )
        .unwrap();
        text
    });
    assert_eq!(post(agents).await.unwrap().status(), 200);
    // A client with a small receive window that never reads.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let (_ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/ws?tenant=edge"), stream)
        .await
        .unwrap();
    let dropped = || {
        state
            .http
            .ws_slow_consumers
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    // Every change is a push it does not take, until the server lets go.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut n = 0;
    while dropped() == 0 {
        assert!(tokio::time::Instant::now() < deadline, "never dropped");
        n += 1;
        let ev = format!(
            "{{\"v\":1,\"id\":\"t{n}\",\"ts\":{},\"tenant\":\"edge\",\"kind\":\"agent_state\",\"agent\":\"agent-00000\",\"state\":\"{}\"}}",
            1_795_429_300_000_i64 + n * 1000,
            if n % 2 == 0 { "available" } else { "not_ready" }
        );
        assert_eq!(post(ev).await.unwrap().status(), 200);
        let mut changes = state.hub.changes();
        let _ = tokio::time::timeout(Duration::from_millis(500), changes.changed()).await;
    }
    assert_eq!(dropped(), 1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while state.ws_clients.load(std::sync::atomic::Ordering::Relaxed) != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "client still counted"
        );
        tokio::task::yield_now().await;
    }
    let metrics = http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("wallboard_websocket_slow_consumers_dropped_total 1"),
        "{metrics}"
    );
}
