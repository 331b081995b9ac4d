//! Fuzzing on stable Rust (proptest): the JSON event parser, the `queue_log`
//! translator and the AMI and ESL frame parsers get a seed corpus (the
//! fixtures, `tests/golden`, a simulated day) mutated the way fuzzers do
//! (bit flips, inserted and deleted runs, spliced copies, hostile tokens),
//! and must never panic, give every rejection a code and a reason, and only
//! ever produce events that pass validation.
//!
//! `cargo test` runs a bounded number of cases per target (a few seconds);
//! `FUZZ_CASES=N` runs N, e.g. `scripts/fuzz.sh` for a long run. A failing
//! case is kept in `tests/fuzz.proptest-regressions` and becomes a named
//! test below.

mod common;

use std::fmt::Write as _;
use std::sync::OnceLock;

use proptest::prelude::*;

use ingest::ami::{Frame, Framer, Translator, TranslatorConfig};
use ingest::esl::{
    parse_json_event, parse_plain_event, Decoder, EslTranslator, Frame as EslFrame, Item,
};
use ingest::queue_log::{QueueLogTranslator, QueueLogWriter};
use ingest::simulate::{SimConfig, Simulator};
use wallboard_events::{parse_event, parse_event_str, Event};

/// Cases per target: `FUZZ_CASES`, else `default` (sized to a few seconds
/// of a debug build).
fn cases(default: u32) -> ProptestConfig {
    let n = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig::with_cases(n)
}

// ---------------------------------------------------------------------------
// The seed corpus.

fn read(path: &str) -> String {
    let path = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A small simulated day: every event kind the simulator writes.
fn simulated_day() -> &'static [Event<'static>] {
    static DAY: OnceLock<Vec<Event<'static>>> = OnceLock::new();
    DAY.get_or_init(|| {
        Simulator::new(SimConfig {
            seed: 7,
            tenant: "acme".into(),
            agents: 4,
            queues: 2,
            start_ms: 1_795_420_800_000,
            hours: 0.5,
            load: 2.0,
            kpis: true,
        })
        .collect()
    })
}

/// JSON Lines seeds: the golden traces' lines and a simulated day's.
fn json_seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut seeds: Vec<Vec<u8>> = ["day-small.jsonl", "edge-basic.jsonl"]
            .iter()
            .flat_map(|f| {
                read(&format!("../tests/golden/{f}"))
                    .lines()
                    .map(|l| l.as_bytes().to_vec())
                    .collect::<Vec<_>>()
            })
            .collect();
        seeds.extend(simulated_day().iter().map(|e| e.to_json().into_bytes()));
        seeds
    })
}

/// `queue_log` seeds: the fixture, and a simulated day as Asterisk writes it.
fn queue_log_seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut w = QueueLogWriter::new("PJSIP/");
        for e in simulated_day() {
            w.push(e);
        }
        let day: String = w.finish().iter().flat_map(|l| [l, "\n"]).collect();
        vec![
            read("../wallboard-web/tests/fixtures/queue_log").into_bytes(),
            day.into_bytes(),
        ]
    })
}

/// AMI seeds: the captured sessions, `;` comments dropped, CRLF line ends.
fn ami_seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        [
            "abandoned_call",
            "answered_call",
            "dequeued_calls",
            "garbage",
            "members",
            "pause",
            "queue_status_1",
            "queue_status_2",
        ]
        .iter()
        .map(|f| {
            read(&format!("tests/fixtures/ami/{f}.ami"))
                .lines()
                .filter(|l| !l.starts_with(';'))
                .flat_map(|l| [l, "\r\n"])
                .collect::<String>()
                .into_bytes()
        })
        .collect()
    })
}

/// ESL seeds: each fixture's event bodies framed as `mod_event_socket` sends
/// them, as plain events and (one file) as JSON events.
fn esl_seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let files = [
            "abandoned",
            "agents",
            "answered",
            "exit_key",
            "timeout",
            "wrapup",
        ];
        let mut seeds: Vec<Vec<u8>> = files
            .iter()
            .map(|f| {
                common::esl_fixture_bodies(f)
                    .iter()
                    .fold(String::new(), |mut out, b| {
                        let len = b.len();
                        write!(
                            out,
                            "Content-Length: {len}\nContent-Type: text/event-plain\n\n{b}"
                        )
                        .expect("writing to a String cannot fail");
                        out
                    })
                    .into_bytes()
            })
            .collect();
        let json = r#"{"Event-Name":"CUSTOM","Event-Subclass":"callcenter::info","CC-Action":"member-queue-start","CC-Queue":"support@default","CC-Member-UUID":"m1","CC-Member-Session-UUID":"s1","Event-Date-Timestamp":"1700000000000000"}"#;
        seeds.push(
            format!(
                "Content-Length: {}\nContent-Type: text/event-json\n\n{json}",
                json.len()
            )
            .into_bytes(),
        );
        seeds
    })
}

// ---------------------------------------------------------------------------
// Mutations, as a byte-level fuzzer makes them.

/// Values that break parsers: limits, signs, exponents, quotes, separators,
/// line ends, lengths, invalid UTF-8, a far-future `ts`.
const TOKENS: &[&[u8]] = &[
    b"0",
    b"-1",
    b"-0",
    b"9223372036854775807",
    b"-9223372036854775808",
    b"18446744073709551616",
    b"253402300799999",
    b"1e400",
    b"0.5",
    b"NaN",
    b"null",
    b"true",
    b"\"\"",
    b"\"",
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b",",
    b"|",
    b"||||||||",
    b"\r",
    b"\n",
    b"\r\n",
    b"\n\n",
    b"\r\n\r\n",
    b"Content-Length: 999999999\n",
    b"Content-Length: -5\n\n",
    b"Event: QueueCallerJoin\r\n",
    "é中\u{202e}".as_bytes(),
    b"\xff\xfe",
    b"\x00",
];

/// Where in the input (a fraction of its length, as `proptest::sample::Index`
/// does, but constructible, so a shrunk case can be written down as a test).
#[derive(Debug, Clone, Copy)]
struct At(u64);

impl At {
    fn index(self, len: usize) -> usize {
        // The product of a usize and a u64, shifted down by 64, is below `len`.
        usize::try_from((len as u128 * u128::from(self.0)) >> 64).expect("below len")
    }
}

fn at() -> impl Strategy<Value = At> {
    any::<u64>().prop_map(At)
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Replace one byte.
    Set(At, u8),
    /// Flip one bit.
    Flip(At, u8),
    /// Insert random bytes.
    Insert(At, Vec<u8>),
    /// Insert one of [`TOKENS`].
    Token(At, usize),
    /// Delete up to this many bytes.
    Delete(At, usize),
    /// Copy a run of the input elsewhere (duplicated headers, fields, lines).
    Splice(At, At, usize),
    /// Cut the input here.
    Truncate(At),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (at(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (at(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (at(), prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(i, v)| Mutation::Insert(i, v)),
        (at(), 0..TOKENS.len()).prop_map(|(i, t)| Mutation::Token(i, t)),
        (at(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (at(), at(), 1usize..256).prop_map(|(from, to, n)| Mutation::Splice(from, to, n)),
        at().prop_map(Mutation::Truncate),
    ]
}

fn apply(input: &mut Vec<u8>, m: &Mutation) {
    let len = input.len();
    if len == 0 {
        if let Mutation::Insert(_, v) = m {
            input.extend_from_slice(v);
        }
        return;
    }
    match m {
        Mutation::Set(i, b) => input[i.index(len)] = *b,
        Mutation::Flip(i, bit) => input[i.index(len)] ^= 1 << bit,
        Mutation::Insert(i, v) => {
            let at = i.index(len + 1);
            input.splice(at..at, v.iter().copied());
        }
        Mutation::Token(i, t) => {
            let at = i.index(len + 1);
            input.splice(at..at, TOKENS[*t].iter().copied());
        }
        Mutation::Delete(i, n) => {
            let at = i.index(len);
            input.drain(at..(at + n).min(len));
        }
        Mutation::Splice(from, to, n) => {
            let from = from.index(len);
            let run = input[from..(from + n).min(len)].to_vec();
            let to = to.index(len + 1);
            input.splice(to..to, run);
        }
        Mutation::Truncate(i) => input.truncate(i.index(len)),
    }
}

/// A seed (chosen by `which`) with `mutations` applied.
fn mutated(seeds: &[Vec<u8>], which: At, mutations: &[Mutation]) -> Vec<u8> {
    let mut input = seeds[which.index(seeds.len())].clone();
    for m in mutations {
        apply(&mut input, m);
    }
    input
}

// ---------------------------------------------------------------------------
// What every target checks.

/// An event an adapter produced passes the canonical validation.
fn assert_valid(e: &Event<'_>, from: &str) {
    let json = e.to_json();
    if let Err(err) = parse_event_str(&json) {
        panic!("{from} produced an invalid event ({err}): {json}");
    }
}

fn assert_reason(code: &str, reason: &str, from: &str) {
    assert!(
        !code.trim().is_empty(),
        "{from}: a rejection without a code"
    );
    assert!(
        !reason.trim().is_empty(),
        "{from}: a rejection ({code}) without a reason"
    );
}

/// The JSON parser: a rejection has a code and a reason; an accepted event
/// writes back as JSON that parses to the same event.
fn check_json(bytes: &[u8]) {
    match parse_event(bytes) {
        Err(e) => assert_reason(e.code().as_str(), &e.to_string(), "parse_event"),
        Ok(event) => {
            let again = event.to_json();
            let back = parse_event_str(&again)
                .unwrap_or_else(|e| panic!("accepted, but its JSON is refused ({e}): {again}"));
            assert_eq!(back, event, "{again}");
        }
    }
}

/// The `queue_log` translator over a whole file, line by line.
fn check_queue_log(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let mut t = QueueLogTranslator::new("default", "fuzz");
    let mut out = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        out.clear();
        match t.translate(i as u64 + 1, line, &mut out) {
            Err(e) => assert_reason("queue_log", &e.reason.to_string(), "queue_log"),
            Ok(()) => out.iter().for_each(|e| assert_valid(e, "queue_log")),
        }
    }
}

/// AMI frames of `bytes` fed in pieces of `piece` bytes.
fn ami_frames(bytes: &[u8], piece: usize) -> Vec<Frame> {
    let mut framer = Framer::without_banner(ingest::ami::DEFAULT_MAX_MESSAGE_BYTES);
    let mut frames = Vec::new();
    for chunk in bytes.chunks(piece.max(1)) {
        framer.push(chunk);
        frames.extend(std::iter::from_fn(|| framer.next_frame()));
    }
    frames.extend(framer.finish());
    frames
}

/// The AMI framer and translator: the same frames however the bytes
/// arrive; every dropped input with a code and reason; valid events only.
fn check_ami(bytes: &[u8], piece: usize) {
    let frames = ami_frames(bytes, piece);
    assert_eq!(frames, ami_frames(bytes, bytes.len()), "pieces of {piece}");
    let mut t = Translator::new(TranslatorConfig::default());
    let mut out = Vec::new();
    for f in &frames {
        match f {
            Frame::Malformed(e) => assert_reason(e.code().as_str(), &e.to_string(), "ami framer"),
            Frame::Message { message, .. } if message.response().is_some() => {}
            Frame::Message { message, .. } => {
                if let Err(e) = t.translate(message, 1_700_006_100_000, &mut out) {
                    assert_reason(e.code().as_str(), &e.reason.to_string(), "ami translator");
                }
            }
            Frame::Banner(_) => {}
        }
    }
    t.finish(&mut out);
    for e in &out {
        assert_valid(e, "ami");
    }
}

/// ESL items of `bytes` fed in pieces of `piece` bytes.
fn esl_items(bytes: &[u8], piece: usize) -> Vec<Item> {
    let mut d = Decoder::new(64 * 1024);
    let mut items = Vec::new();
    for chunk in bytes.chunks(piece.max(1)) {
        d.push(chunk);
        items.extend(std::iter::from_fn(|| d.next_item()));
    }
    items.extend(d.finish().map(Item::Problem));
    items
}

/// The ESL decoder, event parsers and translator, as for AMI.
fn check_esl(bytes: &[u8], piece: usize) {
    let items = esl_items(bytes, piece);
    // The same frames and problems however the bytes arrive; only the copy
    // kept of an oversize message is what had arrived when it was refused.
    let shape = |items: &[Item]| -> Vec<Result<EslFrame, (&'static str, String)>> {
        items
            .iter()
            .map(|i| match i {
                Item::Frame(f) => Ok(f.clone()),
                Item::Problem(p) => Err((p.code.as_str(), p.reason.to_string())),
            })
            .collect()
    };
    let whole = esl_items(bytes, bytes.len());
    assert_eq!(shape(&items), shape(&whole), "pieces of {piece}");
    let mut t = EslTranslator::new("default");
    let mut out = Vec::new();
    for item in &items {
        let frame = match item {
            Item::Problem(p) => {
                assert_reason(p.code.as_str(), &p.reason.to_string(), "esl decoder");
                continue;
            }
            Item::Frame(f) => f,
        };
        let parsed = match frame.content_type() {
            "text/event-json" => parse_json_event(frame.body()),
            _ => parse_plain_event(frame.body()),
        };
        match parsed {
            Err(e) => assert_reason("esl_event", &e.to_string(), "esl event parser"),
            Ok(ev) => {
                if let Err(e) = t.translate(&ev, &mut out) {
                    assert_reason(&e.what, &e.reason.to_string(), "esl translator");
                }
            }
        }
    }
    for e in &out {
        assert_valid(e, "esl");
    }
}

// ---------------------------------------------------------------------------
// The targets.

proptest! {
    #![proptest_config(cases(3000))]

    #[test]
    fn fuzz_json_event_parser(which in at(), ms in prop::collection::vec(mutation(), 0..8)) {
        check_json(&mutated(json_seeds(), which, &ms));
    }

    #[test]
    fn fuzz_json_event_parser_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        check_json(&bytes);
    }
}

proptest! {
    #![proptest_config(cases(150))]

    #[test]
    fn fuzz_queue_log_translator(which in at(), ms in prop::collection::vec(mutation(), 0..24)) {
        check_queue_log(&mutated(queue_log_seeds(), which, &ms));
    }

    #[test]
    fn fuzz_ami_framer_and_translator(
        which in at(),
        ms in prop::collection::vec(mutation(), 0..24),
        piece in 1usize..300,
    ) {
        check_ami(&mutated(ami_seeds(), which, &ms), piece);
    }

    #[test]
    fn fuzz_esl_decoder_and_translator(
        which in at(),
        ms in prop::collection::vec(mutation(), 0..24),
        piece in 1usize..300,
    ) {
        check_esl(&mutated(esl_seeds(), which, &ms), piece);
    }
}

// ---------------------------------------------------------------------------
// The seeds themselves pass (and say what a clean run is).

#[test]
fn the_seed_corpus_is_clean() {
    for s in json_seeds() {
        check_json(s);
    }
    for s in queue_log_seeds() {
        check_queue_log(s);
    }
    for s in ami_seeds() {
        check_ami(s, 7);
    }
    for s in esl_seeds() {
        check_esl(s, 7);
    }
    assert!(json_seeds().len() > 100 && queue_log_seeds()[1].len() > 1000);
}

// ---------------------------------------------------------------------------
// What the fuzzing found, each as a named test.

/// `fuzz_esl_decoder_and_translator`: an event with an empty `CC-Action`
/// and no `Core-UUID` was rejected with an empty name (`: no Core-UUID …`).
#[test]
fn found_a_rejection_under_an_empty_cc_action_names_it() {
    let body = "Event-Subclass: callcenter%3A%3Ainfo\nEvent-Name: CUSTOM\n\
                Event-Sequence: 601\nEvent-Date-Timestamp: 1763891400200000\n\
                CC-Action: ";
    let ev = parse_plain_event(body.as_bytes()).unwrap();
    let err = EslTranslator::new("default")
        .translate(&ev, &mut Vec::new())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "(empty CC-Action): no Core-UUID to identify the event"
    );
}
