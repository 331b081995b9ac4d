//! Malformed input never panics: random bytes, truncated and mangled events.

use proptest::prelude::*;

use wallboard_events::jsonl::{parse_line, LineReader};
use wallboard_events::parse_event;

const VALID: &[&str] = &[
    r#"{"v":1,"id":"x9","ts":1795424395000,"tenant":"edge","kind":"agent_state","agent":"ann","state":"ringing","call":"c1"}"#,
    r#"{"v":1,"id":"x28","ts":1795424910000,"tenant":"edge","kind":"call_completed","call":"c2","queue":"q2","agent":"bob","talk_ms":400000,"hold_ms":20000,"acw_ms":30000}"#,
    r#"{"v":1,"id":"x3","ts":1795417200000,"tenant":"edge","kind":"schedule","agent":"ann","from_ms":1795392000000,"to_ms":1795478340000,"segments":[{"start_ms":1795422600000,"end_ms":1795425000000,"activity":"work"}]}"#,
    r#"{"v":1,"id":"x2","ts":1795417200000,"tenant":"edge","kind":"agent_queues","agent":"bob","queues":["q1","q2"]}"#,
    r#"{"v":1,"id":"x41","ts":1795426440000,"tenant":"edge","kind":"call_dequeued","call":"c9","queue":"q2","reason":"timeout","wait_ms":5}"#,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_event(&bytes);
    }

    #[test]
    fn truncated_events_are_rejected_not_panicking(which in 0..VALID.len(), cut in any::<prop::sample::Index>()) {
        let line = VALID[which].as_bytes();
        let n = cut.index(line.len());
        prop_assert!(parse_event(&line[..n]).is_err());
    }

    #[test]
    fn mangled_events_never_panic(which in 0..VALID.len(), at in any::<prop::sample::Index>(), with in any::<u8>()) {
        let mut line = VALID[which].as_bytes().to_vec();
        let i = at.index(line.len());
        line[i] = with;
        let _ = parse_event(&line);
    }

    #[test]
    fn json_shaped_noise_never_panics(s in r#"\{("[a-z_]{1,8}":(-?[0-9]{1,20}|"[^"]{0,10}"|null|true|\[\]|\{\}),?){0,12}\}"#) {
        let _ = parse_event(s.as_bytes());
    }

    #[test]
    fn a_stream_of_noise_reports_every_line(lines in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..80), 0..40)) {
        let mut input = vec![];
        for l in &lines {
            input.extend(l.iter().map(|&b| if b == b'\n' { b' ' } else { b }));
            input.push(b'\n');
        }
        let mut reader = LineReader::new(&input[..]);
        let mut seen = 0;
        while let Some(line) = reader.next_line().unwrap() {
            let _ = parse_line(&line);
            seen += 1;
        }
        prop_assert!(seen <= lines.len());
    }
}

#[test]
fn the_valid_samples_are_valid() {
    for line in VALID {
        parse_event(line.as_bytes()).unwrap();
    }
}
