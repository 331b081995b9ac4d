//! `wallboard replay` against far event times (`events.md`, "Event time
//! limits"): it finishes with a bounded report and says what it left out.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn replay(input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wallboard"))
        .args(["replay", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

const T0: i64 = 1_795_424_400_000;

fn queued(id: u32, ts: i64) -> String {
    format!(
        r#"{{"v":1,"id":"q{id}","ts":{ts},"kind":"call_queued","call":"c{id}","queue":"sales"}}"#
    )
}

#[test]
fn an_agent_state_then_the_last_millisecond_of_9999_finishes() {
    let input = format!(
        "{}\n{}\n",
        r#"{"v":1,"id":"s","ts":1795424400000,"kind":"agent_state","agent":"a","state":"available"}"#,
        queued(1, 253_402_300_799_999)
    );
    let out = replay(&input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // At most one row per interval of the history kept (366 days for
    // replay), for the tenant and its queue.
    let rows = report["queues"].as_array().unwrap().len();
    assert!(rows <= 2 * (366 * 48 + 3), "{rows} rows");
}

#[test]
fn a_far_event_in_a_day_is_rejected_by_line_and_the_day_is_counted() {
    let mut lines: Vec<String> = (0..300)
        .map(|i| queued(i, T0 + i64::from(i) * 1000))
        .collect();
    lines.insert(150, queued(9999, T0 + 4 * 365 * 86_400_000));
    let out = replay(&(lines.join("\n") + "\n"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("300 applied"), "{stderr}");
    assert!(stderr.contains("1 rejected"), "{stderr}");
    assert!(stderr.contains(r#"event "q9999""#), "{stderr}");
    assert!(stderr.contains("max_ahead_hours"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entered: u64 = report["queues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["queue"] == "sales")
        .map(|r| r["entered"].as_u64().unwrap())
        .sum();
    assert_eq!(entered, 300);
}

#[test]
fn intervals_dropped_by_a_jump_are_reported() {
    // A 1975 line first, then a day of 2026 lines: the day is counted, and
    // the 1975 interval, outside the history kept, is said to be dropped.
    let mut lines = vec![queued(0, 179_539_200_000)];
    lines.extend((1..200).map(|i| queued(i, T0 + i64::from(i) * 1000)));
    let out = replay(&(lines.join("\n") + "\n"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("200 applied"), "{stderr}");
    assert!(stderr.contains("replay: 1 intervals dropped"), "{stderr}");
}
