//! Caller keys (`events.md`, "Caller key") from each adapter: the caller id
//! becomes the keyed hash of its digits, and the phone number appears in no
//! event the adapters write.

use ingest::adapter::CallerKeys;
use ingest::ami::{self, Frame, Framer, Translator, TranslatorConfig};
use ingest::esl::{EslEvent, EslTranslator};
use ingest::queue_log::QueueLogTranslator;
use wallboard_events::{Event, EventBody};

const NUMBER: &str = "13800138000";

fn keys() -> CallerKeys {
    CallerKeys::new("test-salt").unwrap()
}

/// The callers of the `call_queued` events, after checking that no event
/// contains the phone number anywhere.
fn callers(events: &[Event<'static>]) -> Vec<Option<String>> {
    for e in events {
        let json = e.to_json();
        assert!(!json.contains(NUMBER), "phone number in {json}");
        assert!(!json.contains("0013-8000"), "phone number in {json}");
    }
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::CallQueued { caller, .. } => Some(caller.as_deref().map(str::to_owned)),
            _ => None,
        })
        .collect()
}

#[test]
fn queue_log_hashes_enterqueue_data2() {
    let log = format!(
        "1700000100|1700000100.1|sales|NONE|ENTERQUEUE||+86 138-0013-8000|1\n\
         1700000200|1700000200.2|sales|NONE|ENTERQUEUE||{NUMBER}|1\n\
         1700000300|1700000300.3|sales|NONE|ENTERQUEUE||anonymous|1\n"
    );
    let mut with = QueueLogTranslator::new("acme", "q").with_caller_keys(Some(keys()));
    let mut without = QueueLogTranslator::new("acme", "q");
    let (mut out, mut plain) = (vec![], vec![]);
    for (i, line) in log.lines().enumerate() {
        with.translate(i as u64 + 1, line, &mut out).unwrap();
        without.translate(i as u64 + 1, line, &mut plain).unwrap();
    }
    let want = keys().key(NUMBER);
    assert_eq!(
        callers(&out),
        [keys().key("8613800138000"), want.clone(), None]
    );
    assert_ne!(
        want,
        keys().key("8613800138000"),
        "the digits are hashed as given"
    );
    // Without a salt: no caller at all.
    assert_eq!(callers(&plain), [None, None, None]);
}

#[test]
fn ami_hashes_queue_caller_join_caller_id_num() {
    let text = format!(
        "Event: QueueCallerJoin\r\nPrivilege: agent,all\r\nTimestamp: 1700004030.001000\r\n\
         Channel: PJSIP/trunk-00000023\r\nUniqueid: 1700004030.604\r\nQueue: sales\r\n\
         CallerIDNum: {NUMBER}\r\nCallerIDName: Zhang San\r\nPosition: 1\r\nCount: 1\r\n\r\n"
    );
    let mut framer = Framer::without_banner(ami::DEFAULT_MAX_MESSAGE_BYTES);
    framer.push(text.as_bytes());
    let frames: Vec<Frame> = std::iter::from_fn(|| framer.next_frame()).collect();
    let mut t = Translator::new(TranslatorConfig {
        caller_keys: Some(keys()),
        ..TranslatorConfig::default()
    });
    let mut out = vec![];
    for f in frames {
        let Frame::Message { message, .. } = f else {
            panic!("{f:?}")
        };
        t.translate(&message, 0, &mut out).unwrap();
    }
    assert_eq!(callers(&out), [keys().key(NUMBER)]);
}

#[test]
fn esl_hashes_cc_member_cid_number() {
    let ev = EslEvent::from_pairs([
        ("Event-Name", "CUSTOM"),
        ("Event-Subclass", "callcenter::info"),
        ("Core-UUID", "core-1"),
        ("Event-Sequence", "7"),
        ("Event-Date-Timestamp", "1763888400000000"),
        ("CC-Action", "member-queue-start"),
        ("CC-Queue", "sales@default"),
        ("CC-Member-Session-UUID", "s1"),
        ("CC-Member-UUID", "m1"),
        ("CC-Member-CID-Number", NUMBER),
        ("CC-Member-CID-Name", "Zhang San"),
    ]);
    let mut t = EslTranslator::new("default").with_caller_keys(Some(keys()));
    let mut out = vec![];
    t.translate(&ev, &mut out).unwrap();
    assert_eq!(callers(&out), [keys().key(NUMBER)]);
    let mut plain = vec![];
    EslTranslator::new("default")
        .translate(&ev, &mut plain)
        .unwrap();
    assert_eq!(callers(&plain), [None]);
}
