//! Golden reports: every case of `tests/golden/cases.tsv` run through the real
//! `wallboard replay` binary must reproduce its expected report (same rows,
//! counts and durations exact, ratios within 1e-9 relative, nulls as nulls).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// `WALLBOARD_GOLDEN_DIR`, else the repository's `tests/golden`.
fn data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("WALLBOARD_GOLDEN_DIR") {
        return PathBuf::from(d);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden")
}

struct Case {
    name: String,
    input: String,
    args: Vec<String>,
}

fn cases(dir: &Path) -> Vec<Case> {
    let tsv = std::fs::read_to_string(dir.join("cases.tsv"))
        .unwrap_or_else(|e| panic!("cannot read {}/cases.tsv: {e}", dir.display()));
    tsv.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert!(cols.len() >= 3, "malformed cases.tsv row: {l:?}");
            Case {
                name: cols[0].to_owned(),
                input: cols[1].to_owned(),
                args: cols[2].split_whitespace().map(str::to_owned).collect(),
            }
        })
        .collect()
}

fn replay(dir: &Path, case: &Case) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_wallboard"))
        .arg("replay")
        .arg(dir.join(&case.input))
        .args(&case.args)
        .output()
        .expect("run wallboard");
    assert!(
        out.status.success(),
        "{}: wallboard replay failed: {}",
        case.name,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("report is JSON")
}

fn close(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Number(g), Value::Number(w)) if w.is_f64() || g.is_f64() => {
            let (g, w) = (g.as_f64().unwrap(), w.as_f64().unwrap());
            // Exact equality too: it is the only match for infinities.
            #[allow(clippy::float_cmp)]
            let same = g == w;
            (g - w).abs() <= 1e-9 * w.abs().max(1e-300) || same
        }
        (Value::Object(g), Value::Object(w)) => {
            g.len() == w.len()
                && w.iter()
                    .all(|(k, wv)| g.get(k).is_some_and(|gv| close(gv, wv)))
        }
        (Value::Array(g), Value::Array(w)) => {
            g.len() == w.len() && g.iter().zip(w).all(|(a, b)| close(a, b))
        }
        _ => got == want,
    }
}

/// Every difference between two reports, as readable lines.
fn differences(got: &Value, want: &Value) -> Vec<String> {
    let mut diffs = vec![];
    for (k, w) in want.as_object().expect("report object") {
        if k == "queues" || k == "agents" {
            continue;
        }
        if !got.get(k).is_some_and(|g| close(g, w)) {
            diffs.push(format!("header {k}: got {:?}, want {w}", got.get(k)));
        }
    }
    for (section, key) in [("queues", "queue"), ("agents", "agent")] {
        let rows = |v: &Value| -> Vec<(String, Value)> {
            v[section]
                .as_array()
                .unwrap_or_else(|| panic!("{section} is an array"))
                .iter()
                .map(|r| (format!("{}@{}", r[key], r["start_ms"]), r.clone()))
                .collect()
        };
        let (g, w) = (rows(got), rows(want));
        let gkeys: Vec<&String> = g.iter().map(|r| &r.0).collect();
        let wkeys: Vec<&String> = w.iter().map(|r| &r.0).collect();
        if gkeys != wkeys {
            for k in wkeys.iter().filter(|k| !gkeys.contains(k)) {
                diffs.push(format!("{section}: missing row {k}"));
            }
            for k in gkeys.iter().filter(|k| !wkeys.contains(k)) {
                diffs.push(format!("{section}: unexpected row {k}"));
            }
            if diffs.is_empty() {
                diffs.push(format!("{section}: rows in another order"));
            }
        }
        for (k, wr) in &w {
            let Some((_, gr)) = g.iter().find(|(gk, _)| gk == k) else {
                continue;
            };
            for (field, wv) in wr.as_object().unwrap() {
                match gr.get(field) {
                    Some(gv) if close(gv, wv) => {}
                    gv => diffs.push(format!("{section} {k} {field}: got {gv:?}, want {wv}")),
                }
            }
            for field in gr.as_object().unwrap().keys() {
                if wr.get(field).is_none() {
                    diffs.push(format!("{section} {k}: unexpected field {field}"));
                }
            }
        }
    }
    diffs
}

#[test]
fn every_golden_case_reproduces_its_expected_report() {
    let dir = data_dir();
    let cases = cases(&dir);
    assert!(!cases.is_empty(), "no cases in {}", dir.display());
    let mut failures = vec![];
    for case in &cases {
        let expected_path = dir.join(format!("{}.expected.json", case.name));
        let want: Value = serde_json::from_str(
            &std::fs::read_to_string(&expected_path)
                .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display())),
        )
        .expect("expected report is JSON");
        let got = replay(&dir, case);
        let diffs = differences(&got, &want);
        if !diffs.is_empty() {
            failures.push(format!(
                "{} ({} differences):\n  {}",
                case.name,
                diffs.len(),
                diffs
                    .iter()
                    .take(20)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n  ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches:\n{}",
        failures.join("\n")
    );
    eprintln!("{} golden cases match", cases.len());
}

#[test]
fn the_comparison_catches_a_wrong_number() {
    let want = serde_json::json!({"schema": "s", "queues": [{"queue": "q", "start_ms": 0, "asa_ms": 1.0, "answered": 3, "sl": {"20": {"sl1": null}}}], "agents": []});
    let mut got = want.clone();
    assert!(differences(&got, &want).is_empty());
    got["queues"][0]["asa_ms"] = serde_json::json!(1.0 + 1e-6);
    got["queues"][0]["answered"] = serde_json::json!(4);
    got["queues"][0]["sl"]["20"]["sl1"] = serde_json::json!(0.0);
    assert_eq!(differences(&got, &want).len(), 3);
    got["queues"].as_array_mut().unwrap().clear();
    assert_eq!(
        differences(&got, &want),
        vec!["queues: missing row \"q\"@0"]
    );
}

#[test]
fn replay_is_byte_for_byte_deterministic() {
    let dir = data_dir();
    let case = &cases(&dir)[0];
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_wallboard"))
            .arg("replay")
            .arg(dir.join(&case.input))
            .args(&case.args)
            .output()
            .expect("run wallboard")
            .stdout
    };
    let first = run();
    assert!(!first.is_empty());
    assert_eq!(first, run());
}

/// The repository carries its own golden cases (a user's clone has no
/// `../shared`); where the shared contract's data sits beside the
/// repository, every file of it must be here too, byte for byte.
#[test]
fn golden_cases_equal_the_shared_contract_where_it_exists() {
    let ours = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden");
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    assert!(
        ours.join("cases.tsv").is_file(),
        "tests/golden/cases.tsv is missing"
    );
    let Ok(entries) = std::fs::read_dir(&shared) else {
        eprintln!("no ../shared/data beside the repository: nothing to compare");
        return;
    };
    let mut compared = 0;
    for entry in entries {
        let path = entry.expect("list ../shared/data").path();
        let name = path.file_name().expect("a file name");
        let mine = std::fs::read(ours.join(name))
            .unwrap_or_else(|e| panic!("tests/golden/{} is missing: {e}", name.display()));
        assert!(
            mine == std::fs::read(&path).expect("read shared file"),
            "tests/golden/{} differs from ../shared/data",
            name.display()
        );
        compared += 1;
    }
    assert!(compared > 0, "../shared/data is empty");
}
