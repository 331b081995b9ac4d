//! Repeat contacts, CSAT and QA on `/metrics` (`metrics.md`, "Real-time
//! values"): counters per tenant and queue since the engine started.

mod common;

const TRACE: &[u8] = include_bytes!("../../tests/golden/extra/quality.jsonl");

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_surveys_evaluations_and_repeats() {
    let (_s, metrics) = common::scrape_trace(TRACE).await;
    let at = |name: &str, queue: &str| {
        let q = format!("queue=\"{queue}\"");
        common::series(&metrics, name, &[&q, "tenant=\"default\""])
    };
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
