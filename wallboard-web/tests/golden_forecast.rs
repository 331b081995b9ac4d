//! The golden case of forecast vs actual (`tests/golden/extra/README.md`):
//! `wallboard replay --forecast` must print exactly the expected report,
//! CSV and table, and a forecast changes no other number of them.

mod common;

use common::{golden, replay};

use serde_json::Value;

const ARGS: [&str; 6] = ["--interval", "30", "--sl", "20", "--tz", "UTC"];

/// The fields a forecast adds to a row (`metrics.md`, "Forecast vs actual").
const ROW_FIELDS: [&str; 7] = [
    "forecast_calls",
    "forecast_aht_s",
    "forecast_agents",
    "volume_variance_pct",
    "aht_variance_pct",
    "staffed_agents",
    "staffing_vs_plan",
];

/// `replay` of the forecast case with the file's plan and `extra` args.
fn replay_planned(extra: &[&str]) -> std::process::Output {
    let forecast = golden("extra/forecast.csv");
    let mut args = ARGS.to_vec();
    args.extend(["--forecast", forecast.to_str().unwrap()]);
    args.extend(extra);
    replay(&golden("extra/forecast.jsonl"), &args)
}

/// The forecast case's trace without its `forecast` events, in `dir`.
fn unplanned_trace(dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let plain = dir.join("plain.jsonl");
    let trace = std::fs::read_to_string(golden("extra/forecast.jsonl")).unwrap();
    let mut events = String::new();
    for l in trace
        .lines()
        .filter(|l| !l.contains(r#""kind":"forecast""#))
    {
        events.push_str(l);
        events.push('\n');
    }
    std::fs::write(&plain, events).unwrap();
    plain
}

fn with_forecast() -> (Value, String) {
    let out = replay_planned(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (serde_json::from_slice(&out.stdout).unwrap(), stderr)
}

#[test]
fn the_forecast_trace_gives_its_expected_report() {
    let (got, stderr) = with_forecast();
    let want: Value = serde_json::from_str(
        &std::fs::read_to_string(golden("extra/forecast.i30.expected.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(got, want);
    assert!(
        stderr.contains("rejected event \"fc-bad\": forecast of queue \"sales\" for 1795417800000: forecast_misaligned"),
        "{stderr}"
    );
    // The file's 07:30 row (ts 0) is older than the trace's own plan.
    assert!(
        stderr.contains("1 forecasts older than the one held ignored"),
        "{stderr}"
    );
}

#[test]
fn a_forecast_changes_no_other_number() {
    let (mut planned, _) = with_forecast();
    let dir = std::env::temp_dir().join(format!("wb-fc-golden-{}", std::process::id()));
    let out = replay(&unplanned_trace(&dir), &ARGS);
    let unplanned: Value = serde_json::from_slice(&out.stdout).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();

    let header = planned.as_object_mut().unwrap();
    assert!(header.remove("forecast").is_some());
    assert!(unplanned.get("forecast").is_none());
    let support = header["attainment"]
        .as_object_mut()
        .unwrap()
        .remove("support");
    assert_eq!(support.unwrap()["intervals"], 0);
    let rows = header["queues"].as_array_mut().unwrap();
    // `support` is known only from its forecast: its row (and so its
    // attainment entry, with no interval counted) exists for it alone.
    rows.retain(|r| r["queue"] != "support");
    for row in rows.iter_mut() {
        for f in ROW_FIELDS {
            assert!(row.as_object_mut().unwrap().remove(f).is_some(), "{f}");
        }
    }
    assert_eq!(planned, unplanned);
}

#[test]
fn the_forecast_trace_gives_its_expected_csv_and_table() {
    let csv = replay_planned(&["--output", "csv"]).stdout;
    common::assert_golden_bytes(&csv, "extra/forecast.i30.expected.csv");
    let table = replay_planned(&["--output", "table"]).stdout;
    common::assert_golden_bytes(&table, "extra/forecast.i30.expected.table.txt");
    let zh = replay_planned(&["--output", "csv", "--lang", "zh-CN"]).stdout;
    let zh = String::from_utf8(zh).unwrap();
    let header = zh.trim_start_matches('\u{feff}').lines().next().unwrap();
    assert!(
        header.ends_with(
            ",预测来电量,预测平均处理时长(秒),计划座席数,来电量偏差(%),\
             平均处理时长偏差(%),平均在线座席数,在线对计划座席差"
        ),
        "{header}"
    );
    let zh = replay_planned(&["--output", "table", "--lang", "zh-CN"]).stdout;
    let zh = String::from_utf8(zh).unwrap();
    let header = zh.lines().next().unwrap();
    assert!(
        header.ends_with("预测来电量  来电量偏差%  处理时长偏差%  在线对计划座席差"),
        "{header}"
    );
}

/// The forecast columns are the last seven: without the plans the CSV is
/// the planned one without them (and without `support`, known only from
/// its plan), byte for byte.
#[test]
fn a_forecast_only_adds_its_csv_columns() {
    let planned = String::from_utf8(replay_planned(&["--output", "csv"]).stdout).unwrap();
    let dir = std::env::temp_dir().join(format!("wb-fc-csv-{}", std::process::id()));
    let mut args = ARGS.to_vec();
    args.extend(["--output", "csv"]);
    let unplanned = replay(&unplanned_trace(&dir), &args).stdout;
    std::fs::remove_dir_all(&dir).unwrap();
    let mut stripped = String::new();
    for line in planned.split_terminator("\r\n") {
        if line.starts_with("support,") {
            continue;
        }
        let cells: Vec<&str> = line.split(',').collect();
        stripped.push_str(&cells[..cells.len() - 7].join(","));
        stripped.push_str("\r\n");
    }
    assert_eq!(stripped, String::from_utf8(unplanned).unwrap());
}
