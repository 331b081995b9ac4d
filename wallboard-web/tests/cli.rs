//! `wallboard replay` as a user runs it: stdin, errors, the summary, flags.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use common::KillOnDrop;

fn data(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/golden")
        .join(file)
}

fn wallboard(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wallboard"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run wallboard");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn stdin_gives_the_same_report_as_the_file() {
    let path = data("edge-basic.jsonl");
    let from_file = wallboard(
        &["replay", path.to_str().unwrap(), "--interval", "15"],
        None,
    );
    let bytes = std::fs::read(&path).unwrap();
    let from_stdin = wallboard(&["replay", "-", "--interval", "15"], Some(&bytes));
    assert!(from_file.status.success() && from_stdin.status.success());
    assert!(!from_file.stdout.is_empty());
    assert_eq!(from_file.stdout, from_stdin.stdout);
}

#[test]
fn the_summary_names_every_rejected_line() {
    let out = wallboard(
        &["replay", data("edge-basic.jsonl").to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "rejected lines do not fail a replay");
    let err = stderr(&out);
    assert!(err.contains("1 duplicates dropped, 8 rejected"), "{err}");
    for line in [26, 27, 28, 29, 30, 31, 32, 33] {
        assert!(
            err.contains(&format!("rejected line {line}: ")),
            "line {line} in {err}"
        );
    }
    assert!(
        err.contains("line 29: field `ts`: expected an integer"),
        "{err}"
    );
    assert!(err.contains("1 out-of-order agent states ignored"), "{err}");
}

#[test]
fn an_unreadable_input_fails_with_a_clear_message() {
    let out = wallboard(&["replay", "/nonexistent/trace.jsonl"], None);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("cannot open /nonexistent/trace.jsonl"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn invalid_settings_are_refused() {
    let path = data("edge-basic.jsonl");
    let out = wallboard(&["replay", path.to_str().unwrap(), "--interval", "7"], None);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("interval of 7 minutes"),
        "{}",
        stderr(&out)
    );
    let out = wallboard(
        &["replay", path.to_str().unwrap(), "--tz", "Nowhere/City"],
        None,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("unknown time zone"));
}

#[test]
fn until_cuts_the_report_at_that_moment() {
    // 09:10 UTC: events after it are not applied, open states accrue to it.
    let until = 1_795_425_000_000_i64;
    let path = data("edge-basic.jsonl");
    let out = wallboard(
        &[
            "replay",
            path.to_str().unwrap(),
            "--interval",
            "15",
            "--until",
            &until.to_string(),
        ],
        None,
    );
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = report["queues"].as_array().unwrap();
    let last = rows
        .iter()
        .map(|r| r["start_ms"].as_i64().unwrap())
        .max()
        .unwrap();
    assert_eq!(
        last, 1_795_424_400_000,
        "the 09:00 interval is the last one"
    );
    let star = rows
        .iter()
        .find(|r| r["queue"] == "*" && r["start_ms"] == last)
        .unwrap();
    // Ann and Bob are both signed in from 09:00 to 09:10.
    assert_eq!(star["staffed_ms"], 1_200_000);
    assert!(stderr(&out).contains("events after --until skipped"));
}

#[test]
fn tenant_selects_one_centre() {
    let input = concat!(
        r#"{"v":1,"id":"1","ts":1000,"tenant":"a","kind":"call_queued","call":"c","queue":"qa"}"#,
        "\n",
        r#"{"v":1,"id":"1","ts":1000,"tenant":"b","kind":"call_queued","call":"c","queue":"qb"}"#,
        "\n"
    );
    let out = wallboard(&["replay", "-", "--tenant", "b"], Some(input.as_bytes()));
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["tenant"], "b");
    assert_eq!(report["queues"][1]["queue"], "qb");
    // The same id in another tenant is not a duplicate.
    assert!(
        stderr(&out).contains("1 applied, 0 duplicates"),
        "{}",
        stderr(&out)
    );
    let out = wallboard(&["replay", "-"], Some(input.as_bytes()));
    assert!(stderr(&out).contains("2 tenants"), "{}", stderr(&out));
}

#[test]
fn an_empty_input_gives_an_empty_report() {
    let out = wallboard(&["replay", "-"], Some(b""));
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["schema"], "wallboard.interval-report.v1");
    assert_eq!(report["tenant"], "default");
    assert_eq!(report["queues"].as_array().unwrap().len(), 0);
}

#[test]
fn a_queue_log_replays_into_the_same_report_format() {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/queue_log");
    let out = wallboard(
        &[
            "replay",
            "--format",
            "queue-log",
            fixture.to_str().unwrap(),
            "--interval",
            "15",
            "--tenant",
            "pbx",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("rejected line 16: time \"not\""), "{err}");
    assert!(
        err.contains("3 queue_log lines with no canonical event"),
        "{err}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["tenant"], "pbx");
    let rows: Vec<&serde_json::Value> = report["queues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["queue"] == "sales")
        .collect();
    let sum = |f: &str| rows.iter().map(|r| r[f].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum("entered"), 4);
    assert_eq!(sum("answered"), 1);
    assert_eq!(sum("abandoned"), 1);
    assert_eq!(sum("dequeued"), 2);
    assert_eq!(sum("handled"), 1);
    assert_eq!(sum("talk_ms"), 300_000);
    // alice answered after 10 s (holdtime), within 20 s.
    let within: u64 = rows
        .iter()
        .map(|r| r["answered_within"]["20"].as_u64().unwrap())
        .sum();
    assert_eq!(within, 1);
    // bob paused for lunch from 1795424600 to 1795424800: 200 s.
    let not_ready: u64 = report["agents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["agent"] == "PJSIP/bob")
        .map(|a| a["not_ready_ms"].as_u64().unwrap())
        .sum();
    assert_eq!(not_ready, 200_000);
}

#[test]
#[allow(clippy::too_many_lines, reason = "one scenario, step by step")]
fn events_posted_over_http_are_checked_one_by_one_and_applied() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("wb-ingest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("w.toml");
    std::fs::write(
        &cfg,
        "[server]\ningest_tokens = [\"acd\"]\nread_tokens = [\"wall\"]\n",
    )
    .unwrap();
    let _demo = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_wallboard"))
            .args([
                "demo",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--interval",
                "15",
                "--config",
            ])
            .arg(&cfg)
            .arg("--trace")
            .arg(data("edge-basic.jsonl"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while client.get(format!("{base}/readyz")).send().await.map_or(true, |r| r.status() != 200) {
            assert!(std::time::Instant::now() < deadline, "demo not ready");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let url = format!("{base}/ingest/v1/events");
        let ev = |id: &str, call: &str| {
            format!(r#"{{"v":1,"id":"{id}","ts":1795429300000,"tenant":"edge","kind":"call_queued","call":"{call}","queue":"q3"}}"#)
        };
        let post = |body: String, token: Option<&'static str>| {
            let mut r = client.post(&url).header("content-type", "application/x-ndjson").body(body);
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            async move {
                let resp = r.send().await.unwrap();
                let status = resp.status().as_u16();
                (status, resp.json::<serde_json::Value>().await.unwrap_or_default())
            }
        };
        assert_eq!(post(ev("h0", "z0"), None).await.0, 401);
        assert_eq!(post(ev("h0", "z0"), Some("wall")).await.0, 403, "a read token may not post");
        let (status, r) = post(format!("[{},{},{{\"v\":1}}]", ev("h1", "z1"), ev("h2", "z2")), Some("acd")).await;
        assert_eq!(status, 200);
        assert_eq!((r["accepted"].as_u64(), r["rejected"].as_u64()), (Some(2), Some(1)));
        assert_eq!(r["results"][2]["error"], "field `id`: is required");
        let (_, r) = post(format!("{}\n\n{}\n", ev("h3", "z3"), ev("h1", "z1")), Some("acd")).await;
        assert_eq!(r["accepted"], 2);
        assert_eq!(post(ev("h4", "z4"), Some("acd")).await.0, 200);
        assert_eq!(post("nonsense".into(), Some("acd")).await.0, 422);
        // Four new calls (z1–z4) wait in q3; the re-sent h1 is a duplicate.
        loop {
            let url = format!("{base}/api/v1/tenants/edge/queues");
            let q = common::get_json_as(&client, &url, "wall").await;
            let waiting = q["queues"].as_array().unwrap().iter().find(|q| q["queue"] == "q3").map(|q| q["waiting"].clone());
            if waiting == Some(serde_json::json!(4)) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "q3 waiting: {waiting:?}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let st: serde_json::Value = client.get(format!("{base}/api/v1/status")).bearer_auth("wall").send().await.unwrap().json().await.unwrap();
        assert_eq!(st["duplicates"], 2);
    });
}
