//! Rejected lines never change the report, and a replay survives any input.

use std::io::BufReader;

use proptest::prelude::*;

use aggregator::{interval_report, Engine, MetricsConfig, Range};
use wallboard::replay::replay;

fn trace() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/golden/edge-basic.jsonl"
    );
    std::fs::read_to_string(path).expect("the edge-basic golden trace")
}

fn report_of(input: &[u8]) -> (String, u64) {
    let config = MetricsConfig {
        interval_minutes: 15,
        ..Default::default()
    };
    let mut engine = Engine::new(config.validate().unwrap());
    let summary = replay(BufReader::new(input), &mut engine, None, None).unwrap();
    let report = engine
        .tenant_names()
        .first()
        .and_then(|t| engine.tenant(t))
        .map(|t| interval_report(t, t.max_ts().unwrap(), Range::default()));
    (serde_json::to_string(&report).unwrap(), summary.rejected)
}

const GARBAGE: &[&str] = &[
    "not json",
    "[1,2,3]",
    "{}",
    r#"{"v":1,"id":"g","ts":1795424400000,"tenant":"edge","kind":"call_answered","call":"c1","queue":"q1"}"#,
    r#"{"v":1,"id":"g","ts":-1,"tenant":"edge","kind":"call_queued","call":"c","queue":"q1"}"#,
    r#"{"v":1,"id":"g","ts":1795424400000,"tenant":"edge","kind":"agent_state","agent":"ann","state":"on_break"}"#,
    r#"{"v":1,"id":"","ts":1795424400000,"tenant":"edge","kind":"call_queued","call":"c","queue":"q1"}"#,
    "\u{feff}{\"v\":1}",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn rejected_lines_never_change_the_report(
        inserts in proptest::collection::vec((any::<prop::sample::Index>(), 0..GARBAGE.len()), 1..30)
    ) {
        let clean = trace();
        let mut lines: Vec<&str> = clean.lines().collect();
        let (want, base_rejected) = report_of(clean.as_bytes());
        for (at, g) in &inserts {
            let i = at.index(lines.len() + 1);
            lines.insert(i, GARBAGE[*g]);
        }
        let noisy = lines.join("\n");
        let (got, rejected) = report_of(noisy.as_bytes());
        prop_assert_eq!(want, got);
        prop_assert_eq!(rejected, base_rejected + inserts.len() as u64);
    }

    #[test]
    fn any_bytes_replay_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = report_of(&bytes);
    }
}
