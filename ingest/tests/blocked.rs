//! Blocked calls (`events.md`, "Blocked calls") from each adapter's
//! captured input: `fixtures/queue_log/blocked.log` and
//! `fixtures/ami/blocked.ami` (the file says where its format comes from).
//! `FreeSWITCH` `mod_callcenter` refuses no caller at join (`adapters.md`), so
//! the ESL adapter has no mapping to test here.

use ingest::ami::{self, Frame, Framer, Translator, TranslatorConfig};
use ingest::queue_log::{QueueLogTranslator, QueueLogWriter};
use wallboard_events::{parse_event_str, BlockedReason, Event, EventBody};

fn fixture(path: &str) -> String {
    let path = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `ts kind call@queue [reason]`, every event checked to be canonical.
fn lines(events: &[Event<'static>]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            let json = e.to_json();
            let back = parse_event_str(&json).expect("canonical");
            assert_eq!(&back.into_owned(), e);
            let ts = e.ts;
            match &e.body {
                EventBody::CallBlocked {
                    call,
                    queue,
                    reason,
                } => format!("{ts} blocked {call}@{queue} {reason}"),
                EventBody::CallQueued { call, queue, .. } => format!("{ts} queued {call}@{queue}"),
                EventBody::CallAbandoned { call, queue, .. } => {
                    format!("{ts} abandoned {call}@{queue}")
                }
                b => format!("{ts} {}", b.kind()),
            }
        })
        .collect()
}

#[test]
fn queue_log_full_joinempty_and_joinunavail_are_blocked_calls() {
    let mut t = QueueLogTranslator::new("acme", "queue_log");
    let mut out = vec![];
    for (i, line) in fixture("queue_log/blocked.log").lines().enumerate() {
        t.translate(i as u64 + 1, line, &mut out).unwrap();
    }
    assert_eq!(
        lines(&out),
        [
            "1700003000000 queued 1700003000.501@sales",
            "1700003005000 blocked 1700003005.502@sales full",
            "1700003010000 blocked 1700003010.503@support no_agents",
            "1700003012000 blocked 1700003012.504@vip no_available_agents",
            // Refused by one queue, the caller was sent on to another.
            "1700003020000 queued 1700003005.502@support",
            "1700003030000 abandoned 1700003000.501@sales",
        ]
    );
    assert_eq!(t.ignored, 0);
}

#[test]
fn queue_log_blocked_lines_with_a_bad_name_are_reported() {
    let mut t = QueueLogTranslator::new("acme", "queue_log");
    let err = t
        .translate(7, "1700003005|1700003005.502||NONE|FULL|||", &mut vec![])
        .unwrap_err();
    assert_eq!(err.line, 7);
    assert!(
        err.reason.to_string().contains("FULL: queue \"\" is empty"),
        "{err}"
    );
}

#[test]
fn the_queue_log_writer_writes_what_the_translator_reads_back() {
    let blocked = |id: &str, ts: i64, reason| Event {
        v: 1,
        id: id.to_owned().into(),
        ts,
        tenant: "acme".into(),
        source: None,
        body: EventBody::CallBlocked {
            call: id.to_owned().into(),
            queue: "sales".into(),
            reason,
        },
    };
    let mut w = QueueLogWriter::new("PJSIP/");
    for (i, r) in (0_i64..).zip(BlockedReason::ALL) {
        w.push(&blocked(&format!("c{i}"), 1_700_003_000_000 + i * 1000, *r));
    }
    let written = w.finish();
    // Asterisk has no line for a queue closed by the dialplan, nor "other".
    assert_eq!(
        written,
        [
            "1700003000|c0|sales|NONE|FULL|",
            "1700003001|c1|sales|NONE|JOINEMPTY|",
            "1700003002|c2|sales|NONE|JOINUNAVAIL|",
        ]
    );
    let mut t = QueueLogTranslator::new("acme", "queue_log");
    let mut out = vec![];
    for (i, l) in written.iter().enumerate() {
        t.translate(i as u64 + 1, l, &mut out).unwrap();
    }
    let reasons: Vec<String> = lines(&out);
    assert_eq!(
        reasons,
        [
            "1700003000000 blocked c0@sales full",
            "1700003001000 blocked c1@sales no_agents",
            "1700003002000 blocked c2@sales no_available_agents",
        ]
    );
}

#[test]
fn ami_queuestatus_refusals_after_newexten_queue_are_blocked_calls() {
    let text: String = fixture("ami/blocked.ami")
        .lines()
        .filter(|l| !l.starts_with(';'))
        .fold(String::new(), |mut text, l| {
            text.push_str(l);
            text.push_str("\r\n");
            text
        });
    let mut framer = Framer::without_banner(ami::DEFAULT_MAX_MESSAGE_BYTES);
    framer.push(text.as_bytes());
    let mut frames: Vec<Frame> = std::iter::from_fn(|| framer.next_frame()).collect();
    frames.extend(framer.finish());
    let mut t = Translator::new(TranslatorConfig {
        tenant: "acme".into(),
        ..TranslatorConfig::default()
    });
    let (mut out, mut errors) = (vec![], vec![]);
    for f in frames {
        let Frame::Message { message, .. } = f else {
            panic!("{f:?}")
        };
        if let Err(e) = t.translate(&message, 0, &mut out) {
            errors.push(e.to_string());
        }
    }
    t.finish(&mut out);
    assert_eq!(
        lines(&out),
        [
            "1700004000010 blocked 1700004000.601@sales full",
            "1700004010005 blocked 1700004010.602@support no_agents",
            "1700004020005 blocked 1700004020.603@vip no_available_agents",
            // Joined: an ordinary segment, never blocked.
            "1700004030001 queued 1700004030.604@sales",
        ]
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("no Newexten of Queue() seen for 1700004050.606"),
        "{errors:?}"
    );
    // The Playback Newexten maps to nothing.
    assert!(t.ignored >= 1);
}
