//! The report header's intraday attainment (`docs/metrics.md`, "Intraday
//! attainment") through the real `wallboard replay`, against the hand-made
//! `tests/golden/extra/attainment.expected.json`; and, on a simulated day, the
//! properties that hold for any trace.

mod common;

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::Value;

fn golden(file: &str) -> PathBuf {
    common::golden(&format!("extra/{file}"))
}

/// The report `wallboard replay` prints, as JSON.
fn replay(input: &Path, args: &[&str]) -> Value {
    serde_json::from_slice(&common::replay(input, args).stdout).expect("report is JSON")
}

/// Counts exact, ratios within 1e-9, nulls as nulls, no extra fields.
fn same(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Number(g), Value::Number(w)) => {
            let (g, w) = (g.as_f64().unwrap(), w.as_f64().unwrap());
            (g - w).abs() <= 1e-9 * w.abs().max(1.0)
        }
        (Value::Object(g), Value::Object(w)) => {
            g.len() == w.len()
                && w.iter()
                    .all(|(k, v)| g.get(k).is_some_and(|gv| same(gv, v)))
        }
        _ => got == want,
    }
}

#[test]
fn the_report_header_has_the_expected_attainment() {
    let want: Value =
        serde_json::from_str(&std::fs::read_to_string(golden("attainment.expected.json")).unwrap())
            .unwrap();
    let args: Vec<&str> = want["args"].as_str().unwrap().split_whitespace().collect();
    let got = replay(&golden("attainment.jsonl"), &args);
    assert!(
        same(&got["attainment"], &want["attainment"]),
        "got {:#}\nwant {:#}",
        got["attainment"],
        want["attainment"]
    );
    // The rows are untouched: none carries an attainment of its own.
    assert!(got["queues"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r.get("attainment").is_none()));
}

/// A simulated day (seeded): attainment never counts more intervals than
/// the queue has closed rows with calls, `met ≤ intervals`, `share` is
/// their ratio, and `sl` is the service level of the summed rows.
fn check_properties(report: &Value) {
    let rows = report["queues"].as_array().unwrap();
    for (queue, a) in report["attainment"].as_object().unwrap() {
        let mine: Vec<&Value> = rows.iter().filter(|r| r["queue"] == *queue).collect();
        let (n, met) = (a["intervals"].as_u64().unwrap(), a["met"].as_u64().unwrap());
        let with_sl = mine
            .iter()
            .filter(|r| !r["sl"]["20"]["sl3"].is_null())
            .count() as u64;
        assert!(met <= n && n <= with_sl, "{queue}: {a}");
        let hits = mine
            .iter()
            .filter(|r| r["sl"]["20"]["sl3"].as_f64().is_some_and(|v| v >= 0.8))
            .count() as u64;
        assert!(
            met <= hits && hits <= met + 1,
            "{queue}: only the open row may differ"
        );
        match a["share"].as_f64() {
            Some(s) => assert!((s - met as f64 / n as f64).abs() < 1e-12),
            None => assert_eq!(n, 0),
        }
        let sum = |f: &str| -> u64 { mine.iter().map(|r| r[f].as_u64().unwrap()).sum() };
        let within: u64 = mine
            .iter()
            .map(|r| r["answered_within"]["20"].as_u64().unwrap())
            .sum();
        let den = sum("answered") + sum("abandoned");
        match a["sl"].as_f64() {
            Some(v) => assert!((v - within as f64 / den as f64).abs() < 1e-12),
            None => assert_eq!(den, 0),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4))]

    #[test]
    fn attainment_agrees_with_the_rows_of_any_simulated_day(seed in 0u64..1000, load in 0.5f64..2.0) {
        let dir = std::env::temp_dir().join(format!("wallboard-attainment-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let trace = dir.join(format!("sim-{seed}.jsonl"));
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_wallboard"))
            .args(["simulate", "--agents", "8", "--queues", "2", "--hours", "3"])
            .args(["--seed", &seed.to_string(), "--load", &load.to_string()])
            .output()
            .expect("run wallboard simulate");
        prop_assert!(out.status.success());
        std::fs::write(&trace, &out.stdout).unwrap();
        let report = replay(&trace, &["--interval", "15", "--sl", "20"]);
        check_properties(&report);
        std::fs::remove_file(&trace).ok();
    }
}
