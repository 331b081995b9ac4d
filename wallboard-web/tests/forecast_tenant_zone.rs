//! `POST /api/v1/tenants/{t}/forecast` reads a plan in the tenant's own
//! zone and on its own interval grid (README, "Tenants"; `events.md`,
//! "Forecast files"): `edge` is Asia/Kolkata with 60-minute intervals,
//! `plain` has the `[metrics]` settings, UTC and 30 minutes
//! (`tests/golden/extra/tenants.toml`).

mod common;

use std::time::{Duration, Instant};

use serde_json::Value;

use wallboard::config::AppConfig;

/// The golden per-tenant settings (`tests/golden/extra/tenants.toml`), with
/// a read and an admin token.
fn config() -> AppConfig {
    let text = std::fs::read_to_string(common::golden("extra/tenants.toml")).unwrap();
    let mut config: AppConfig = toml::from_str(&text).unwrap();
    config.server.read_tokens = vec!["wall".into()];
    config.server.admin_tokens = vec!["boss".into()];
    config
}

/// The edge-basic day (07:00–10:20 UTC on 2026-11-23) for `edge`, and the
/// same calls again for `plain`.
fn trace() -> Vec<u8> {
    let day = std::fs::read_to_string(common::golden("edge-basic.jsonl")).unwrap();
    let plain = day
        .replace(r#""tenant":"edge""#, r#""tenant":"plain""#)
        .replace(r#""id":""#, r#""id":"plain-"#);
    format!("{day}{plain}").into_bytes()
}

struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    async fn start() -> Api {
        let served = common::serve_trace(config(), &trace()).await;
        Api {
            base: format!("http://{}/api/v1/tenants", served.addr),
            http: reqwest::Client::new(),
        }
    }

    /// Posts a plan that must be taken as `rows` forecasts.
    async fn accepted(&self, tenant: &str, body: &str, rows: u64) {
        let (status, answer) = self.post_csv(tenant, body).await;
        assert_eq!(
            (status, answer["forecasts"].as_u64()),
            (202, Some(rows)),
            "{answer}"
        );
    }

    /// Posts a plan that must be refused: the problem's `detail`.
    async fn refused(&self, tenant: &str, body: &str) -> String {
        let (status, problem) = self.post_csv(tenant, body).await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["type"], "urn:wallboard:problem:invalid-forecast");
        problem["detail"].as_str().unwrap().to_owned()
    }

    async fn post_csv(&self, tenant: &str, body: &str) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/{tenant}/forecast", self.base))
            .bearer_auth("boss")
            .header("content-type", "text/csv")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// The report of `tenant` once it has a forecast header (10 s at most).
    async fn planned_report(&self, tenant: &str) -> Value {
        let url = format!("{}/{tenant}/report", self.base);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let report = common::get_json_as(&self.http, &url, "wall").await;
            if report.get("forecast").is_some() {
                return report;
            }
            assert!(Instant::now() < deadline, "no forecast 10 s on: {report}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The row of `queue` starting at `start_ms`.
fn row(report: &Value, queue: &str, start_ms: i64) -> Value {
    report["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["queue"] == queue && r["start_ms"] == start_ms)
        .unwrap_or_else(|| panic!("no {queue} row at {start_ms}: {report}"))
        .clone()
}

/// 2026-11-23 08:30 UTC: 14:00 in Kolkata.
const AT_0830_UTC: i64 = 1_795_422_600_000;
/// 2026-11-23 09:00 UTC.
const AT_0900_UTC: i64 = 1_795_424_400_000;

#[tokio::test(flavor = "multi_thread")]
async fn a_posted_plan_is_read_in_the_tenants_own_zone_and_grid() {
    let api = Api::start().await;
    let kolkata = "queue,start,interval_minutes,calls,aht_s\nq1,2026-11-23 14:00,60,4,120\n";
    api.accepted("edge", kolkata, 1).await;
    let utc = "queue,start,calls,aht_s\nq1,2026-11-23 09:00,3,100\n";
    api.accepted("plain", utc, 1).await;

    let edge = api.planned_report("edge").await;
    assert_eq!(edge["interval_minutes"], 60);
    let r = row(&edge, "q1", AT_0830_UTC);
    assert_eq!(r["start"], "2026-11-23T14:00:00+05:30");
    assert_eq!(r["end_ms"], AT_0830_UTC + 3_600_000);
    assert_eq!(
        (r["forecast_calls"].as_f64(), r["forecast_aht_s"].as_f64()),
        (Some(4.0), Some(120.0))
    );
    assert_eq!(edge["forecast"]["q1"]["intervals"], 1);

    let plain = api.planned_report("plain").await;
    assert_eq!(plain["interval_minutes"], 30);
    let r = row(&plain, "q1", AT_0900_UTC);
    assert_eq!(r["start"], "2026-11-23T09:00:00+00:00");
    assert_eq!(r["forecast_calls"], 3.0);
    assert_eq!(plain["forecast"]["q1"]["intervals"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_30_minute_plan_for_the_60_minute_tenant_is_a_422() {
    let api = Api::start().await;
    let body = "queue,start,interval_minutes,calls,aht_s\n\
                q1,2026-11-23 14:00,60,4,120\n\
                q1,2026-11-23 15:00,30,4,120\n";
    let detail = api.refused("edge", body).await;
    assert!(
        detail.starts_with(
            "row 2, field interval_minutes: 30 is not the tenant's interval length (60 minutes)"
        ),
        "{detail}"
    );
    // A Kolkata half hour is off the tenant's hour grid too.
    let off_grid = "queue,start,calls,aht_s\nq1,2026-11-23 14:30,4,120\n";
    let detail = api.refused("edge", off_grid).await;
    assert!(detail.starts_with("row 1, field start:"), "{detail}");
    // The same 30-minute plan suits the 30-minute tenant.
    let half_hour = "queue,start,interval_minutes,calls,aht_s\nq1,2026-11-23 09:00,30,4,120\n";
    api.accepted("plain", half_hour, 1).await;
}
