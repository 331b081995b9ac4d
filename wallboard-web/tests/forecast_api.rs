//! Forecasts over the API (`events.md`, "Forecast files"): only an admin
//! posts, CSV or JSON; a bad row is a 422 naming the row and the field and
//! sends nothing; `GET` shows today's plan against the day so far.

mod common;

use std::time::{Duration, Instant};

use serde_json::Value;

use aggregator::MetricsConfig;
use wallboard::config::AppConfig;

const TRACE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/golden/edge-basic.jsonl"
);

fn config() -> AppConfig {
    let mut c = AppConfig {
        metrics: MetricsConfig {
            interval_minutes: 15,
            tz: "UTC".into(),
            sl_thresholds_s: vec![20],
            ..Default::default()
        },
        ..Default::default()
    };
    c.server.read_tokens = vec!["wall".into()];
    c.server.admin_tokens = vec!["boss".into()];
    c
}

struct Api {
    url: String,
    http: reqwest::Client,
}

impl Api {
    async fn start() -> Api {
        let served = common::serve_trace(config(), &std::fs::read(TRACE).unwrap()).await;
        Api {
            url: format!("http://{}/api/v1/tenants/edge/forecast", served.addr),
            http: reqwest::Client::new(),
        }
    }

    async fn post(&self, token: &str, content_type: &str, body: &str) -> (u16, Value) {
        let r = self
            .http
            .post(&self.url)
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn today(&self) -> Value {
        let r = self
            .http
            .get(&self.url)
            .bearer_auth("wall")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    async fn metrics(&self) -> String {
        let url = self
            .url
            .replace("/api/v1/tenants/edge/forecast", "/metrics");
        let r = self.http.get(url).bearer_auth("wall").send().await.unwrap();
        r.text().await.unwrap()
    }

    /// Today's forecast once the view shows queue `q1`'s (10 s at most).
    async fn q1_when_shown(&self) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let today = self.today().await;
            if !today["queues"]["q1"].is_null() {
                return today;
            }
            assert!(Instant::now() < deadline, "not shown 10 s on: {today}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// 07:00 (closed), 10:15 (the trace ends at 10:20: current) and 11:00.
const CSV: &str = "queue,start,calls,aht_s,scheduled_agents\n\
                   q1,2026-11-23 07:00,4,120,2\n\
                   q1,2026-11-23T10:15:00Z,2,120,\n\
                   q1,2026-11-23 11:00,5,120,1\n";

#[tokio::test]
async fn an_admin_posts_a_csv_plan_and_today_shows_it() {
    let api = Api::start().await;
    let (status, _) = api.post("wall", "text/csv", CSV).await;
    assert_eq!(status, 403);
    assert!(api.today().await["queues"].as_object().unwrap().is_empty());
    let (status, answer) = api.post("boss", "text/csv", CSV).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["forecasts"], 3);
    let today = api.q1_when_shown().await;
    let q1 = &today["queues"]["q1"];
    assert_eq!(q1["today"]["day_forecast_calls"], 11.0);
    assert_eq!(q1["interval"]["forecast_calls"], 2.0);
    assert_eq!(q1["ahead"][0]["forecast_calls"], 5.0);
    assert_eq!(today["queues"]["*"]["today"]["day_forecast_calls"], 11.0);
    let metrics = api.metrics().await;
    let series = |name: &str, queue: &str| {
        let head = format!("{name}{{queue=\"{queue}\",tenant=\"edge\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&head))
            .map(|v| v.parse::<f64>().unwrap())
    };
    assert_eq!(
        series("wallboard_forecast_calls", "q1"),
        Some(2.0),
        "{metrics}"
    );
    assert_eq!(series("wallboard_forecast_aht_seconds", "q1"), Some(120.0));
    let variance = q1["today"]["volume_variance_pct"].as_f64();
    assert_eq!(
        series("wallboard_forecast_volume_variance_percent", "q1"),
        variance
    );
    assert!(variance.is_some());
    // `q2` has no forecast: no series.
    assert_eq!(series("wallboard_forecast_calls", "q2"), None);
}

#[tokio::test]
async fn json_plans_are_taken_too() {
    let api = Api::start().await;
    let body =
        r#"{"forecasts":[{"queue":"q1","start":"2026-11-23T07:00:00Z","calls":3,"aht_s":100}]}"#;
    let (status, answer) = api.post("boss", "application/json", body).await;
    assert_eq!((status, answer["forecasts"].as_u64()), (202, Some(1)));
    let today = api.q1_when_shown().await;
    assert_eq!(today["queues"]["q1"]["today"]["day_forecast_calls"], 3.0);
}

#[tokio::test]
async fn a_bad_row_is_a_422_naming_row_and_field_and_sends_nothing() {
    let api = Api::start().await;
    let cases = [
        (
            "q1,2026-11-23 07:00,4,120\nq1,2026-11-23 07:15,-1,120\n",
            "row 2, field calls:",
        ),
        ("q1,2026-11-23 07:05,4,120\n", "row 1, field start:"),
        ("q1,2026-11-23 07:00,4\n", "row 1, field aht_s: is required"),
    ];
    for (rows, detail) in cases {
        let body = format!("queue,start,calls,aht_s\n{rows}");
        let (status, problem) = api.post("boss", "text/csv", &body).await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["type"], "urn:wallboard:problem:invalid-forecast");
        let got = problem["detail"].as_str().unwrap();
        assert!(got.starts_with(detail), "{got}");
    }
    for ct in ["text/plain", ""] {
        let (status, problem) = api.post("boss", ct, CSV).await;
        assert_eq!(status, 415, "{ct:?}: {problem}");
    }
    let (status, problem) = api
        .post("boss", "text/csv", "queue,start,calls,aht_s\n")
        .await;
    assert_eq!(
        (status, problem["type"].as_str()),
        (400, Some("urn:wallboard:problem:bad-body"))
    );
    // Nothing of the refused files reached the engine.
    assert!(api.today().await["queues"].as_object().unwrap().is_empty());
}
