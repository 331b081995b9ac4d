//! Live staffing and attainment (`docs/metrics.md`, "Live staffing",
//! "Intraday attainment") through the service: the live and queues REST
//! views, `/metrics` and an alert rule on `staffing_gap`, for the scripted
//! `tests/golden/attainment.jsonl` (at its end, 10:40 UTC).

mod common;

use std::time::Duration;

use serde_json::Value;
use wallboard::config::AppConfig;

fn config() -> AppConfig {
    toml::from_str(
        r#"
[metrics]
sl_thresholds_s = [20]

[[queues]]
name = "support"
sl_variant = "sl4"
sl_threshold_s = 30
sl_target = 0.5

[[alerts]]
name = "support has spare agents"
metric = "staffing_gap"
queue = "support"
op = "<"
threshold = 0
"#,
    )
    .unwrap()
}

async fn get(url: String) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

fn queue<'a>(queues: &'a Value, name: &str) -> &'a Value {
    queues
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["queue"] == name)
        .unwrap()
}

/// The value of one Prometheus series, e.g. `name{a="x",b="y"}`.
fn series(text: &str, name: &str, queue: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let (head, value) = line.rsplit_once(' ')?;
        let (n, rest) = head.split_once('{')?;
        (n == name && rest.contains(&format!("queue=\"{queue}\"")))
            .then(|| value.parse().ok())
            .flatten()
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn rest_metrics_and_alerts_carry_the_staffing() {
    let trace = std::fs::read(format!(
        "{}/../tests/golden/attainment.jsonl",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let s = common::serve_trace(config(), &trace).await;
    let base = format!("http://{}/api/v1/tenants/att", s.addr);

    let live = get(format!("{base}/live")).await;
    let sales = queue(&live["queues"], "sales");
    let st = &sales["staffing"];
    assert_eq!(st["arrivals"], 2);
    assert_eq!(st["aht_s"], 240.0);
    assert_eq!(
        (&st["required_agents"], &st["serving"], &st["gap"]),
        (&2.into(), &2.into(), &0.into())
    );
    assert!(st["projected_sl"].as_f64().unwrap() > 0.8);
    let at = &sales["attainment"];
    assert_eq!(
        (&at["intervals"], &at["met"], &at["share"]),
        (&2.into(), &1.into(), &0.5.into())
    );
    assert_eq!(at["variant"], "sl3");

    // Support's own goal (SL4 at 30 s, 50 %); no arrivals: nothing projected.
    let rows = get(format!("{base}/queues")).await;
    let support = queue(&rows["queues"], "support");
    assert_eq!(support["staffing"]["threshold_s"], 30);
    assert_eq!(support["staffing"]["required_agents"], 0);
    assert_eq!(support["staffing"]["gap"], -1);
    assert!(support["staffing"]["projected_sl"].is_null());
    assert_eq!(support["attainment"]["variant"], "sl4");
    assert_eq!(support["attainment"]["sl"], 0.5);

    let text = reqwest::get(format!("http://{}/metrics", s.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        series(&text, "wallboard_staffing_required_agents", "sales"),
        Some(2.0)
    );
    assert_eq!(
        series(&text, "wallboard_staffing_serving_agents", "sales"),
        Some(2.0)
    );
    assert_eq!(
        series(&text, "wallboard_staffing_gap", "support"),
        Some(-1.0)
    );
    let projected = series(&text, "wallboard_staffing_projected_service_level", "sales");
    assert_eq!(projected, st["projected_sl"].as_f64());
    assert_eq!(
        series(
            &text,
            "wallboard_staffing_projected_service_level",
            "support"
        ),
        None,
        "absent while null"
    );

    // The rule fires on support's spare agent.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let alerts = get(format!("{base}/alerts")).await;
        let firing = alerts["alerts"].as_array().unwrap().iter().any(|a| {
            a["rule"] == "support has spare agents"
                && a["subject"] == "support"
                && a["value"] == -1.0
        });
        if firing {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no alert: {alerts}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
