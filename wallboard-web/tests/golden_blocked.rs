//! The golden case of blocked calls (`tests/golden/extra/README.md`): the
//! real `wallboard replay` must print exactly the expected report, and its
//! CSV gets the blocked columns, which a report without blocked calls never
//! has.

mod common;

use std::path::Path;

use common::{golden, replay};

use serde_json::Value;

#[test]
fn the_blocked_trace_gives_its_expected_report() {
    let out = replay(
        &golden("extra/blocked.jsonl"),
        &["--interval", "30", "--sl", "20"],
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    let want: Value = serde_json::from_str(
        &std::fs::read_to_string(golden("extra/blocked.i30.expected.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(got, want);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("rejected line 12: field `reason`: unknown blocked reason \"busy\""),
        "{stderr}"
    );
    assert!(stderr.contains("1 duplicates dropped"), "{stderr}");
}

fn csv_header(input: &Path, lang: &str) -> Vec<String> {
    let out = replay(input, &["--output", "csv", "--lang", lang]);
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.trim_start_matches('\u{feff}').lines().next().unwrap();
    first.split(',').map(str::to_owned).collect()
}

#[test]
fn csv_has_blocked_columns_only_when_the_report_has_blocked_calls() {
    let cols = csv_header(&golden("extra/blocked.jsonl"), "en");
    let at = cols.iter().position(|c| c == "wait_unknown").unwrap();
    assert_eq!(
        cols[at + 1..at + 7],
        [
            "blocked",
            "blocked_full",
            "blocked_no_agents",
            "blocked_no_available_agents",
            "blocked_closed",
            "blocked_other"
        ]
    );
    let zh = csv_header(&golden("extra/blocked.jsonl"), "zh-CN");
    assert_eq!(zh[at + 1], "拒绝进队量");
    assert_eq!(zh[at + 2], "拒绝进队量(队列已满)");
    let out = replay(&golden("extra/blocked.jsonl"), &["--output", "csv"]);
    let text = String::from_utf8(out.stdout).unwrap();
    // `support` at 07:00: refusals only, 0 in the reasons it has none of.
    let support = text.lines().find(|l| l.starts_with("support,")).unwrap();
    let cells: Vec<&str> = support.split(',').collect();
    assert_eq!(cells[at + 1..at + 7], ["1", "0", "1", "0", "0", "0"]);
    let plain = csv_header(&golden("edge-basic.jsonl"), "en");
    assert!(plain.iter().all(|c| !c.starts_with("blocked")), "{plain:?}");
}

/// The table gets a `blocked` column, last, only with blocked calls.
#[test]
fn the_blocked_trace_gives_its_expected_table() {
    let table = common::replay_table(&golden("extra/blocked.jsonl"));
    common::assert_golden_bytes(table.as_bytes(), "extra/blocked.i30.expected.table.txt");
    let plain = common::replay_table(&golden("edge-basic.jsonl"));
    assert!(!plain.contains("blocked"), "{plain}");
}
