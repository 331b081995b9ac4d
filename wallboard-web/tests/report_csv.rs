//! `GET /api/v1/tenants/{t}/report` as CSV (`?format=csv` or `Accept:
//! text/csv`): the same bytes as `wallboard replay --output csv`.

mod common;

use aggregator::MetricsConfig;

use wallboard::config::AppConfig;

fn golden(file: &str) -> String {
    format!("{}/../tests/golden/{file}", env!("CARGO_MANIFEST_DIR"))
}

/// Writer + web with `config`, every valid event of `trace` taken.
async fn start(config: AppConfig, trace: &str) -> std::net::SocketAddr {
    common::serve_trace(config, &std::fs::read(trace).unwrap())
        .await
        .addr
}

fn replay_csv(extra: &[&str]) -> Vec<u8> {
    let mut args = vec![
        "--interval",
        "15",
        "--tz",
        "Asia/Shanghai",
        "--sl",
        "10",
        "--sl",
        "20",
        "--output",
        "csv",
    ];
    args.extend_from_slice(extra);
    common::replay(&common::golden("day-small.jsonl"), &args).stdout
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
