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
