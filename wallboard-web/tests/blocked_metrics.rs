//! Blocked calls on `/metrics` and in REST (`metrics.md`, "Blocked calls"):
//! a counter per tenant, queue and reason that starts at 0 for every reason
//! of every known queue, and the live view's rows.

mod common;

const TRACE: &[u8] = include_bytes!("../../tests/golden/extra/blocked.jsonl");

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_blocked_calls_by_reason_from_zero() {
    let (s, metrics) = common::scrape_trace(TRACE).await;
    let at = |queue: &str, reason: &str| {
        let q = format!("queue=\"{queue}\"");
        let r = format!("reason=\"{reason}\"");
        common::series(
            &metrics,
            "wallboard_calls_blocked_total",
            &["tenant=\"blk\"", &q, &r],
        )
    };
    assert_eq!(at("sales", "full"), Some(2.0), "{metrics}");
    assert_eq!(at("sales", "closed"), Some(1.0));
    assert_eq!(at("support", "no_agents"), Some(1.0));
    assert_eq!(at("vip", "no_available_agents"), Some(1.0));
    assert_eq!(at("*", "full"), Some(2.0));
    // Every reason of every known queue is a series, from 0.
    for reason in [
        "full",
        "no_agents",
        "no_available_agents",
        "closed",
        "other",
    ] {
        for queue in ["sales", "support", "vip", "*"] {
            assert!(at(queue, reason).is_some(), "{queue} {reason}: {metrics}");
        }
    }
    assert_eq!(at("sales", "other"), Some(0.0));
    // Never part of offered.
    let offered = metrics
        .lines()
        .find(|l| {
            l.starts_with("wallboard_calls_offered_total{")
                && l.contains("queue=\"sales\"")
                && l.contains("tenant=\"blk\"")
        })
        .unwrap();
    assert!(offered.ends_with(" 3"), "{offered}");

    let live: serde_json::Value =
        reqwest::get(format!("http://{}/api/v1/tenants/blk/live", s.addr))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let sales = live["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["queue"] == "sales")
        .unwrap();
    assert_eq!(sales["today"]["blocked"], 3, "{sales:#}");
    assert_eq!(sales["today"]["blocked_by_reason"]["full"], 2);
    // "Now" is the trace's last event (08:00): that interval refused no
    // one, so its row has no blocked fields.
    assert_eq!(sales["interval"]["start"], "2026-11-23T08:00:00+00:00");
    assert!(sales["interval"].get("blocked").is_none(), "{sales:#}");
    assert_eq!(sales["today"]["offered"], 3);
}
