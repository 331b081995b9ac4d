//! The agent scorecard over HTTP (`metrics.md`, "Agent scorecard"): the
//! golden case `tests/golden/extra/scorecard.*`, its CSV, the errors, and
//! the live agent rows' CSAT/QA of today.

mod common;

use serde_json::Value;
use wallboard::config::AppConfig;

const TRACE: &[u8] = include_bytes!("../../tests/golden/extra/scorecard.jsonl");

async fn get(url: &str) -> reqwest::Response {
    reqwest::get(url).await.unwrap()
}

/// Checks `resp` is a problem+json of `status` and `kind`; its detail.
async fn problem(resp: reqwest::Response, status: u16, kind: &str) -> String {
    assert_eq!(resp.status().as_u16(), status);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(ct, "application/problem+json");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["type"],
        format!("urn:wallboard:problem:{kind}"),
        "{body}"
    );
    body["detail"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_golden_trace_gives_its_expected_scorecards() {
    let s = common::serve_trace(AppConfig::default(), TRACE).await;
    let base = format!("http://{}/api/v1/tenants/default/agents/scorecard", s.addr);
    let mut bodies = Vec::new();
    for period in ["today", "week"] {
        let r = get(&format!("{base}?period={period}")).await;
        assert_eq!(r.status(), 200);
        bodies.push(format!(
            "{period:?}: {}",
            r.text().await.unwrap().trim_end()
        ));
    }
    // The served bytes, not a re-serialised parse: floats stay exact.
    let text = format!("{{{}}}", bodies.join(",\n"));
    let got: Value = serde_json::from_str(&text).unwrap();
    let path = common::golden("extra/scorecard.expected.json");
    if std::env::var_os("WALLBOARD_BLESS").is_some() {
        std::fs::write(&path, text + "\n").unwrap();
    }
    let want: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(got, want);
    // No period: today.
    let plain: Value = get(&base).await.json().await.unwrap();
    assert_eq!(plain, want["today"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn csv_has_the_median_row_first_then_one_row_per_agent() {
    let s = common::serve_trace(AppConfig::default(), TRACE).await;
    let base = format!("http://{}/api/v1/tenants/default/agents/scorecard", s.addr);
    let r = get(&format!("{base}?format=csv")).await;
    assert_eq!(
        r.headers()["content-type"],
        "text/csv; charset=utf-8; header=present"
    );
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("wallboard-scorecard-default-today.csv"));
    let text = r.text().await.unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').split("\r\n").collect();
    assert!(lines[0].starts_with("row,agent,handled,aht_ms,avg_talk_ms,"));
    assert!(lines[0].ends_with(",repeat_rate,flags"));
    assert!(
        lines[1].starts_with("median,,5,150000,120000,0,30000,"),
        "{}",
        lines[1]
    );
    assert!(lines[3].starts_with("agent,a2,5,150000,120000,0,30000,1,0.2,"));
    let a3 = lines[4];
    assert!(
        a3.starts_with("agent,a3,5,300000,180000,60000,60000,3,0.6,"),
        "{a3}"
    );
    assert!(a3.ends_with(
        ",aht_ms:high;avg_talk_ms:high;avg_hold_ms:high;avg_acw_ms:high;transfer_rate:high;occupancy:high;csat:low;csat_mean:low"
    ), "{a3}");
    assert_eq!(lines.len(), 1 + 1 + 4 + 1, "header, median, 4 agents, end");
    // Accept: text/csv, Chinese headers.
    let zh = reqwest::Client::new()
        .get(format!("{base}?period=week&lang=zh-CN"))
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(zh
        .trim_start_matches('\u{feff}')
        .starts_with("行,座席,处理量,"));
    assert!(zh.contains("\r\nagent,a1,6,"), "{zh}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_periods_queues_and_tenants_are_problems() {
    let s = common::serve_trace(AppConfig::default(), TRACE).await;
    let url =
        |t: &str, q: &str| format!("http://{}/api/v1/tenants/{t}/agents/scorecard{q}", s.addr);
    let d = problem(
        get(&url("default", "?period=month")).await,
        400,
        "bad-query",
    )
    .await;
    assert!(d.contains("period") && d.contains("month"), "{d}");
    let d = problem(get(&url("default", "?queue=nope")).await, 400, "bad-query").await;
    assert!(d.contains("queue") && d.contains("nope"), "{d}");
    let d = problem(get(&url("acme", "")).await, 404, "unknown-tenant").await;
    assert!(d.contains("acme"), "{d}");
    let sales: Value = get(&url("default", "?queue=sales"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sales["queue"], "sales");
    assert_eq!(
        sales["agents"].as_array().unwrap().len(),
        0,
        "no agent_queues in the trace"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn live_agent_rows_carry_todays_csat_and_qa() {
    let s = common::serve_trace(AppConfig::default(), TRACE).await;
    let url = format!("http://{}/api/v1/tenants/default/agents", s.addr);
    let v: Value = get(&url).await.json().await.unwrap();
    let agents = v["agents"].as_array().unwrap();
    assert_eq!(agents[0]["today"]["surveys"], 5);
    assert_eq!(agents[0]["today"]["csat_mean"], 100.0);
    assert_eq!(agents[0]["today"]["qa_score"], 90.0);
    assert_eq!(agents[2]["today"]["csat"], 0.0);
    assert!(
        agents[3].get("today").is_none(),
        "a4 has none: {}",
        agents[3]
    );
}
