//! Heartbeats (`events.md`, "Heartbeats") change no report byte: a golden
//! trace with heartbeats interleaved (repeated ids, times far ahead and far
//! behind, another tenant) gives the same report and the same "now" as the
//! trace alone.

use aggregator::{interval_report, Applied, Engine, MetricsConfig, Range};
use wallboard_events::jsonl::{parse_line, LineReader};
use wallboard_events::{Event, Upstream};

fn golden_lines(file: &str) -> Vec<Event<'static>> {
    let path = format!("{}/../tests/golden/{file}", env!("CARGO_MANIFEST_DIR"));
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut lines = LineReader::new(&data[..]);
    let mut events = Vec::new();
    while let Some(line) = lines.next_line().unwrap() {
        if let Ok(e) = parse_line(&line) {
            events.push(e.into_owned());
        }
    }
    events
}

fn report_bytes(engine: &Engine) -> (Vec<String>, Vec<u8>) {
    let t = engine.tenant("acme").expect("acme replayed");
    let report = interval_report(t, t.max_ts().unwrap(), Range::default());
    let names = engine
        .tenant_names()
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    (names, serde_json::to_vec_pretty(&report).unwrap())
}

#[test]
fn heartbeats_change_no_report_byte() {
    let events = golden_lines("day-small.jsonl");
    let config = MetricsConfig::default().validate().unwrap();
    let mut plain = Engine::new(config.clone());
    for e in &events {
        plain.apply(e);
    }
    let mut with = Engine::new(config);
    let mut heartbeats = 0;
    for (i, e) in events.iter().enumerate() {
        if i % 7 == 0 {
            let ts = if i % 2 == 0 { e.ts + 86_400_000 } else { 0 };
            let upstream = if i % 3 == 0 {
                Upstream::Down
            } else {
                Upstream::Up
            };
            for tenant in ["acme", "nobody"] {
                // The same id every time: heartbeats are not deduplicated.
                let mut hb = Event::heartbeat(tenant, "asterisk-ami", ts, upstream);
                hb.id = "hb".into();
                let line = hb.to_json();
                let parsed = wallboard_events::parse_event_str(&line).unwrap();
                assert_eq!(with.apply(&parsed), Applied::Heartbeat);
                heartbeats += 1;
            }
        }
        with.apply(e);
    }
    assert!(heartbeats > 10);
    assert_eq!(
        with.tenant("acme").unwrap().max_ts(),
        plain.tenant("acme").unwrap().max_ts()
    );
    assert_eq!(report_bytes(&with), report_bytes(&plain));
}
