//! Repeat contacts, CSAT and QA on `/metrics` (`metrics.md`, "Real-time
//! values"): counters per tenant and queue since the engine started.

mod common;

use wallboard::config::AppConfig;

const TRACE: &[u8] = include_bytes!("../../tests/golden/extra/quality.jsonl");

/// The value of series `name` for `queue` of the default tenant.
fn series(metrics: &str, name: &str, queue: &str) -> Option<f64> {
    let q = format!("queue=\"{queue}\"");
    metrics
        .lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .find(|l| l.contains(&q) && l.contains("tenant=\"default\""))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_surveys_evaluations_and_repeats() {
    let s = common::serve_trace(AppConfig::default(), TRACE).await;
    let metrics = reqwest::get(format!("http://{}/metrics", s.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = |name: &str, queue: &str| series(&metrics, name, queue);
    assert_eq!(
        at("wallboard_surveys_total", "sales"),
        Some(2.0),
        "{metrics}"
    );
    assert_eq!(at("wallboard_surveys_total", "*"), Some(3.0));
    assert_eq!(at("wallboard_csat_top_box_total", "sales"), Some(1.0));
    assert_eq!(at("wallboard_csat_score_micros_total", "vip"), Some(80e6));
    assert_eq!(at("wallboard_qa_evaluations_total", "sales"), Some(2.0));
    assert_eq!(at("wallboard_qa_fatal_total", "sales"), Some(1.0));
    assert_eq!(at("wallboard_qa_score_sum_total", "sales"), Some(90.0));
    assert_eq!(at("wallboard_repeat_eligible_total", "*"), Some(4.0));
    assert_eq!(at("wallboard_repeat_contacts_total", "sales"), Some(1.0));
    // From 0 for a queue with none.
    assert_eq!(at("wallboard_surveys_total", "support"), Some(0.0));
    let untracked = metrics
        .lines()
        .find(|l| l.starts_with("wallboard_repeat_untracked_total{"))
        .unwrap();
    assert!(untracked.ends_with(" 0"), "{untracked}");
}
