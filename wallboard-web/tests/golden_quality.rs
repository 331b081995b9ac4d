//! The golden case of repeat contacts, CSAT and QA
//! (`tests/golden/extra/README.md`): the real `wallboard replay` must print
//! exactly the expected report.

mod common;

use common::{golden, replay};

use serde_json::Value;

#[test]
fn the_quality_trace_gives_its_expected_report() {
    let out = replay(
        &golden("extra/quality.jsonl"),
        &["--interval", "30", "--sl", "20"],
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    let want: Value = serde_json::from_str(
        &std::fs::read_to_string(golden("extra/quality.i30.expected.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(got, want);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("rejected line 18: field `score`: 6 is outside the scale 1..=5"),
        "{stderr}"
    );
}

#[test]
fn a_report_without_callers_surveys_or_evaluations_has_none_of_their_fields() {
    let out = replay(&golden("edge-basic.jsonl"), &[]);
    let text = String::from_utf8(out.stdout).unwrap();
    for field in ["repeat_", "fcr", "surveys", "csat", "qa_"] {
        assert!(!text.contains(field), "{field} in {text}");
    }
}

#[test]
fn csv_has_the_quality_columns_only_when_the_report_has_them() {
    let out = replay(
        &golden("extra/quality.jsonl"),
        &["--output", "csv", "--lang", "zh-CN"],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = header.iter().position(|c| *c == "首次解决率").unwrap();
    assert_eq!(header[(at - 4)..(at + 8)].len(), 12);
    assert_eq!(header[header.len() - 1], "质检得分");
    // sales at 08:00: FCR 0.5, 2 surveys, mean 75; no QA there.
    let sales = lines.find(|l| l.starts_with("sales,")).unwrap();
    let cells: Vec<&str> = sales.split(',').collect();
    assert_eq!(cells[(at - 4)..=at], ["2", "1", "0", "0.5", "0.5"]);
    assert_eq!(cells[at + 1..at + 5], ["2", "1", "0.5", "75"]);
    assert_eq!(cells[at + 5..], ["0", "0", ""]);
    let plain = replay(&golden("edge-basic.jsonl"), &["--output", "csv"]);
    let plain = String::from_utf8(plain.stdout).unwrap();
    let first = plain.lines().next().unwrap();
    assert!(!first.contains("fcr") && !first.contains("csat"), "{first}");
}

/// The table gets `FCR %`, `CSAT %` and `QA`, last, only with them.
#[test]
fn the_quality_trace_gives_its_expected_table() {
    let table = common::replay_table(&golden("extra/quality.jsonl"));
    common::assert_golden_bytes(table.as_bytes(), "extra/quality.i30.expected.table.txt");
    let plain = common::replay_table(&golden("edge-basic.jsonl"));
    assert!(!plain.contains("FCR") && !plain.contains("QA"), "{plain}");
}
