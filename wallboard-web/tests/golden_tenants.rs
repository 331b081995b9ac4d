//! The golden case of per-tenant settings (`tests/golden/extra/README.md`):
//! `wallboard replay --config tenants.toml` reports tenant `edge` in its own
//! zone and interval, exactly as the same settings given as flags do, and a
//! tenant's settings never leak to the trace's other tenants.

mod common;

use common::{golden, replay};

use serde_json::Value;

fn report(args: &[&str]) -> Value {
    serde_json::from_slice(&replay(&golden("edge-basic.jsonl"), args).stdout).unwrap()
}

#[test]
fn a_tenants_own_settings_give_its_expected_report() {
    let config = golden("extra/tenants.toml");
    let got = report(&["--config", config.to_str().unwrap()]);
    let want: Value = serde_json::from_str(
        &std::fs::read_to_string(golden("extra/tenants.edge.expected.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(got, want);
    let as_flags = report(&[
        "--tz",
        "Asia/Kolkata",
        "--interval",
        "60",
        "--sl",
        "20",
        "--short-abandon",
        "5",
    ]);
    assert_eq!(got, as_flags);
    // Flags change [metrics], never a tenant's own keys.
    let flagged = report(&[
        "--config",
        config.to_str().unwrap(),
        "--tz",
        "Europe/Paris",
        "--interval",
        "15",
    ]);
    assert_eq!(flagged, want);
}

/// A forecast file is read in the reported tenant's own zone and on its own
/// interval grid: `14:00` is Kolkata time, a 60-minute interval.
#[test]
fn a_forecast_file_is_read_in_the_tenants_own_zone_and_grid() {
    let config = golden("extra/tenants.toml");
    let dir = std::env::temp_dir().join(format!("wb-tenant-forecast-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("plan.csv");
    std::fs::write(
        &file,
        "queue,start,interval_minutes,calls,aht_s\nq1,2026-11-23 14:00,60,4,120\n",
    )
    .unwrap();
    let got = report(&[
        "--config",
        config.to_str().unwrap(),
        "--tenant",
        "edge",
        "--forecast",
        file.to_str().unwrap(),
    ]);
    std::fs::remove_dir_all(&dir).ok();
    let row = got["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["queue"] == "q1" && r["start"] == "2026-11-23T14:00:00+05:30")
        .expect("the 14:00 row of q1");
    assert_eq!(row["forecast_calls"], 4.0);
    assert_eq!(got["forecast"]["q1"]["intervals"], 1);
}
