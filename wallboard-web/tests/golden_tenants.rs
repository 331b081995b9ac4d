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
