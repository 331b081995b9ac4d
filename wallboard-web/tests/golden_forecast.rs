//! The golden case of forecast vs actual (`tests/golden/extra/README.md`):
//! `wallboard replay --forecast` must print exactly the expected report,
//! and a forecast changes no other number of it.

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

fn with_forecast() -> (Value, String) {
    let forecast = golden("extra/forecast.csv");
    let mut args = ARGS.to_vec();
    args.extend(["--forecast", forecast.to_str().unwrap()]);
    let out = replay(&golden("extra/forecast.jsonl"), &args);
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
    std::fs::create_dir_all(&dir).unwrap();
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
    let out = replay(&plain, &ARGS);
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
