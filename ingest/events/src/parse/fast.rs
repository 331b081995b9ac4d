//! A hand-written reader for the shape nearly every event has: one flat
//! JSON object whose values are plain strings (no escapes), integers of at
//! most 18 digits, booleans, `null`, or arrays of those.
//!
//! It fills a [`RawEvent`] exactly as the `serde_json` reader would, or gives
//! up: for any other input (escapes, fractions, nested objects, a repeated
//! field, a syntax error, …) it returns `false` and the caller reads the text
//! with `serde_json` from the start. So it never makes an error of its own:
//! every rejection still comes from `serde_json` or from the one validation
//! both readers share, with the same field and reason. A proptest (below)
//! checks that both readers give the same result for arbitrary and mutated
//! inputs.
//!
//! Why it exists: reading an event with `serde_json` (its visitor dispatch
//! per field and per value) was most of the parse stage's ~5,700
//! instructions per event (`BENCHMARKS.md`, "Parsing: the fast reader").
//! The scanning keeps its position in a local index (a position kept in a
//! struct field is stored back to memory at every byte) and looks at a
//! string eight bytes at a time.

// The scanners are inlined into `object` by force: left to LLVM they
// stayed separate calls, the position and each value going through memory
// (callgrind: 3,200 instructions per event in `fill`, 2,760 inlined).
#![allow(clippy::inline_always)]

use std::borrow::Cow;

use super::{Loose, RawEvent, F};

/// Fills `raw` from `text` when it has the common shape; `false` when it
/// has not, with `raw` partly filled (the caller starts again).
pub(super) fn fill<'a>(text: &'a str, raw: &mut RawEvent<'a>) -> bool {
    object(text, raw).is_some()
}

/// The most digits read here: 18 always fit an `i64`, so the value is the
/// one `serde_json` gives (`Loose::Int`); longer numbers go to it.
const MAX_DIGITS: usize = 18;

/// The whitespace `serde_json` skips between tokens, from `i` on.
#[inline(always)]
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\t' | b'\r') = b.get(i) {
        i += 1;
    }
    i
}

fn object<'a>(text: &'a str, raw: &mut RawEvent<'a>) -> Option<()> {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    if *b.get(i)? != b'{' {
        return None;
    }
    i = skip_ws(b, i + 1);
    if *b.get(i)? == b'}' {
        return end(b, i + 1);
    }
    loop {
        if *b.get(i)? != b'"' {
            return None;
        }
        let (key_end, next) = plain_str(b, i + 1)?;
        // A `match` on the names: LLVM compares them as integers.
        let field = F::of(&text[i + 1..key_end]);
        i = skip_ws(b, next);
        if *b.get(i)? != b':' {
            return None;
        }
        let (value, next) = value(text, skip_ws(b, i + 1))?;
        if let Some(f) = field {
            let slot = &mut raw.fields[f as usize];
            if slot.is_some() {
                // A repeated field: serde_json's reader names it.
                return None;
            }
            *slot = Some(value);
        }
        i = skip_ws(b, next);
        match *b.get(i)? {
            b',' => i = skip_ws(b, i + 1),
            b'}' => return end(b, i + 1),
            _ => return None,
        }
    }
}

/// Only whitespace may follow the object.
fn end(b: &[u8], i: usize) -> Option<()> {
    (skip_ws(b, i) == b.len()).then_some(())
}

/// The value at `i` and where it ends.
#[inline(always)]
fn value(text: &str, i: usize) -> Option<(Loose<'_>, usize)> {
    if *text.as_bytes().get(i)? == b'[' {
        return array(text, i + 1);
    }
    scalar(text, i)
}

/// An array of scalars (`queues`), from after its `[`; nested arrays and
/// objects are not the common shape.
fn array(text: &str, mut i: usize) -> Option<(Loose<'_>, usize)> {
    let b = text.as_bytes();
    let mut items = Vec::new();
    i = skip_ws(b, i);
    if *b.get(i)? == b']' {
        return Some((Loose::Array(items), i + 1));
    }
    loop {
        let (item, next) = scalar(text, i)?;
        items.push(item);
        i = skip_ws(b, next);
        match *b.get(i)? {
            b',' => i = skip_ws(b, i + 1),
            b']' => return Some((Loose::Array(items), i + 1)),
            _ => return None,
        }
    }
}

#[inline(always)]
fn scalar(text: &str, i: usize) -> Option<(Loose<'_>, usize)> {
    let b = text.as_bytes();
    Some(match *b.get(i)? {
        b'"' => {
            let (end, next) = plain_str(b, i + 1)?;
            (Loose::Str(Cow::Borrowed(&text[i + 1..end])), next)
        }
        b'-' => match digits(b, i + 1)? {
            // `-0` is a float to serde_json.
            (0, _) => return None,
            (n, next) => (Loose::Int(-n), next),
        },
        b'0'..=b'9' => {
            let (n, next) = digits(b, i)?;
            (Loose::Int(n), next)
        }
        b't' => literal(b, i, b"true", Loose::Bool(true))?,
        b'f' => literal(b, i, b"false", Loose::Bool(false))?,
        b'n' => literal(b, i, b"null", Loose::Null)?,
        _ => return None,
    })
}

fn literal<'a>(b: &[u8], i: usize, word: &[u8], v: Loose<'a>) -> Option<(Loose<'a>, usize)> {
    b[i..].starts_with(word).then_some((v, i + word.len()))
}

/// A string's text from `start` (after its opening quote): where its
/// closing quote is and the position after it. `None` for a string with an
/// escape or a control character, which `serde_json` unescapes or rejects.
#[inline(always)]
fn plain_str(b: &[u8], start: usize) -> Option<(usize, usize)> {
    let mut i = start;
    while let Some(chunk) = b.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let special = special_bytes(word);
        if special != 0 {
            // The lowest flag is exact (see `special_bytes`): a byte in
            // little-endian order.
            i += (special.trailing_zeros() / 8) as usize;
            break;
        }
        i += 8;
    }
    loop {
        match *b.get(i)? {
            b'"' => return Some((i, i + 1)),
            b'\\' | 0..=0x1f => return None,
            _ => i += 1,
        }
    }
}

/// The high bit of each byte of `word` that is `"`, `\` or below 0x20.
/// The usual zero-byte test: a flag above a true one may be false (a
/// borrow), so only the lowest flag is to be trusted.
#[inline(always)]
fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let quote = zero_byte(word ^ (ONES * u64::from(b'"')));
    let backslash = zero_byte(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    quote | backslash | control
}

/// A non-negative integer from `i` as JSON writes it: `0`, or up to
/// [`MAX_DIGITS`] digits without a leading zero, and no fraction or
/// exponent after it; its value and where it ends.
#[inline(always)]
fn digits(b: &[u8], start: usize) -> Option<(i64, usize)> {
    let mut i = start;
    let mut n: i64 = 0;
    while let Some(&d @ b'0'..=b'9') = b.get(i) {
        if i - start == MAX_DIGITS {
            return None;
        }
        n = n * 10 + i64::from(d - b'0');
        i += 1;
    }
    let len = i - start;
    if len == 0 || (len > 1 && b[start] == b'0') {
        return None;
    }
    match b.get(i) {
        Some(b'.' | b'e' | b'E') => None,
        _ => Some((n, i)),
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use proptest::prelude::*;

    use super::super::{
        parse_event_str, parse_event_str_with_serde, read_with_serde, KNOWN_FIELDS,
    };
    use super::{fill, RawEvent};

    /// Lines of every kind and of odd but valid shapes.
    const LINES: &[&str] = &[
        include_str!("../../../../tests/golden/edge-basic.jsonl"),
        include_str!("../../../../tests/golden/day-small.jsonl"),
        r#"{"v":1,"id":"hb1","ts":5,"tenant":"acme","kind":"heartbeat","source":"asterisk-queue-log","upstream":"down"}"#,
        r#"{"v":1,"id":"c9-b","ts":1763888405000,"tenant":"acme","kind":"call_blocked","call":"c9","queue":"sales","reason":"full"}"#,
        r#"{"v":1,"id":"msg-m1-post","ts":1000,"tenant":"acme","kind":"floor_message","message":"m1","action":"post","text":"<b>午餐</b> lunch","severity":"critical","expires_ms":61000,"queues":["sales"]}"#,
        r#"{"v":1,"id":"f1","ts":5,"tenant":"acme","kind":"forecast","queue":"sales","start_ms":1800000,"interval_minutes":30,"calls":42.5,"aht_s":240,"scheduled_agents":9,"version":"v2"}"#,
        r#"{"v":1,"id":"3","ts":9500,"kind":"survey_result","call":"c1","queue":"q","agent":"a","score":5,"scale_min":1,"scale_max":5,"comment":"ok"}"#,
        r#"{"v":1,"id":"2","ts":9000,"kind":"call_completed","call":"c1","queue":"q","agent":"a","talk_ms":5000,"hold_ms":1200,"transferred":true}"#,
        r#" { "v" : 1 , "id":"w","ts":1,"kind":"call_queued","call":"c","queue":"q","priority":-3,"extra":[1,"x",null]}	"#,
        r#"{"v":1,"id":"e\u0041","ts":1,"kind":"call_queued","call":"c\n","queue":"q"}"#,
    ];

    fn seeds() -> Vec<&'static str> {
        LINES
            .iter()
            .flat_map(|l| l.lines())
            .filter(|l| !l.trim().is_empty())
            .collect()
    }

    /// Pieces that break JSON readers: signs, limits, fractions, escapes,
    /// separators, whitespace JSON does not allow, a repeated key.
    const TOKENS: &[&str] = &[
        "0",
        "-0",
        "-",
        "01",
        "1.5",
        "1e3",
        "2E1",
        "999999999999999999",
        "1000000000000000000",
        "-999999999999999999",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775809",
        "18446744073709551616",
        "true",
        "tru",
        "false",
        "null",
        "nul",
        "\"\"",
        "\"",
        "\\",
        "\\u0076",
        "\\\"",
        "\u{7}",
        "\u{0}",
        "\u{a0}",
        "é",
        "午",
        "{",
        "}",
        "[",
        "]",
        "[]",
        "{}",
        ":",
        ",",
        " ",
        "\t",
        "\n",
        "\r",
        "\"v\":1,",
        "\"id\":\"d\",",
        "\"x\":{\"y\":[1]},",
        "\"queues\":[\"a\",\"b\"],",
    ];

    /// Values at the edges of what the fast reader takes.
    const NUMBERS: &[&str] = &[
        "0",
        "-0",
        "-1",
        "01",
        "1.5",
        "-0.0",
        "1e3",
        "2E1",
        "999999999999999999",
        "-999999999999999999",
        "1000000000000000000",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775809",
        "18446744073709551616",
        "true",
        "false",
        "null",
        "tru",
        "nul",
        "\"\"",
    ];

    /// Values validation looks at.
    const WORDS: &[&str] = &[
        "\"call_queued\"",
        "\"call_answered\"",
        "\"call_completed\"",
        "\"agent_state\"",
        "\"agent_queues\"",
        "\"available\"",
        "\"on_call\"",
        "\"heartbeat\"",
        "\"up\"",
    ];

    /// Known keys written with escapes (`v`, `id`) and one that is not one.
    const ESCAPED_KEYS: &[&str] = &["\"\\u0076\"", "\"i\\u0064\"", "\"ts\\n\""];

    /// Whitespace between tokens.
    const SPACES: &[&str] = &[" ", "\n", "\t ", "\r\n"];

    #[derive(Debug, Clone)]
    enum Mutation {
        Insert(prop::sample::Index, prop::sample::Index),
        Delete(prop::sample::Index, usize),
        Replace(prop::sample::Index, prop::sample::Index),
        Splice(prop::sample::Index, prop::sample::Index, usize),
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        use prop::sample::Index;
        prop_oneof![
            (any::<Index>(), any::<Index>()).prop_map(|(at, t)| Mutation::Insert(at, t)),
            (any::<Index>(), 1usize..6).prop_map(|(at, n)| Mutation::Delete(at, n)),
            (any::<Index>(), any::<Index>()).prop_map(|(at, t)| Mutation::Replace(at, t)),
            (any::<Index>(), any::<Index>(), 1usize..24)
                .prop_map(|(from, to, n)| Mutation::Splice(from, to, n)),
        ]
    }

    /// `line` with the mutations applied, at character boundaries.
    fn mutate(line: &str, ms: &[Mutation]) -> String {
        let mut chars: Vec<char> = line.chars().collect();
        for m in ms {
            let n = chars.len() + 1;
            match m {
                Mutation::Insert(at, t) => {
                    let at = at.index(n);
                    chars.splice(at..at, t.get(TOKENS).chars());
                }
                Mutation::Delete(at, len) => {
                    let at = at.index(n);
                    let end = (at + len).min(chars.len());
                    chars.drain(at.min(end)..end);
                }
                Mutation::Replace(at, t) if !chars.is_empty() => {
                    let at = at.index(chars.len());
                    chars.splice(at..=at, t.get(TOKENS).chars());
                }
                Mutation::Replace(..) => {}
                Mutation::Splice(from, to, len) => {
                    let from = from.index(n).min(chars.len());
                    let end = (from + len).min(chars.len());
                    let piece: Vec<char> = chars[from..end].to_vec();
                    let to = to.index(n);
                    chars.splice(to..to, piece);
                }
            }
        }
        chars.into_iter().collect()
    }

    /// A JSON value as text: the shapes the fast reader takes and the ones
    /// it leaves to `serde_json`.
    fn value() -> impl Strategy<Value = String> {
        let scalar = prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            (0i64..100_000).prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|x| format!("{x:?}")),
            prop::sample::select(NUMBERS).prop_map(str::to_owned),
            "[a-z_0-9é午 \\\\\"\u{7}]{0,12}".prop_map(|s| format!("\"{s}\"")),
            prop::sample::select(WORDS).prop_map(str::to_owned),
        ];
        prop_oneof![
            4 => scalar.clone(),
            1 => prop::collection::vec(scalar, 0..4).prop_map(|v| format!("[{}]", v.join(","))),
        ]
    }

    /// A key: a known field (mostly), another name, or an escaped one.
    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            12 => prop::sample::select(KNOWN_FIELDS).prop_map(|k| format!("\"{k}\"")),
            4 => "[a-z_]{0,6}".prop_map(|k| format!("\"{k}\"")),
            1 => prop::sample::select(ESCAPED_KEYS).prop_map(str::to_owned),
        ]
    }

    fn whitespace() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            40 => Just(""),
            10 => prop::sample::select(SPACES),
            1 => Just("\u{a0}"),
        ]
    }

    /// A flat object of generated members, after a valid head most of the
    /// time so that validation, not only reading, is compared.
    fn object() -> impl Strategy<Value = String> {
        let member = (whitespace(), key(), whitespace(), value(), whitespace());
        (any::<bool>(), prop::collection::vec(member, 0..10)).prop_map(|(head, members)| {
            let mut s = String::from("{");
            if head {
                s.push_str(
                    r#""v":1,"id":"g","ts":1000,"kind":"call_queued","call":"c","queue":"q""#,
                );
            }
            for (i, (w1, k, w2, v, w3)) in members.iter().enumerate() {
                if head || i > 0 {
                    s.push(',');
                }
                write!(s, "{w1}{k}{w2}:{v}{w3}").expect("writing to a String cannot fail");
            }
            s.push('}');
            s
        })
    }

    #[test]
    fn the_fast_reader_takes_every_valid_shape_the_simulator_writes() {
        for line in seeds() {
            let mut raw = RawEvent::default();
            let nested = line.contains("\"segments\"") || line.contains('\\');
            let fractional = line.contains("\"kind\":\"forecast\"");
            let valid = parse_event_str_with_serde(line).is_ok();
            if valid {
                assert_eq!(fill(line, &mut raw), !nested && !fractional, "{line}");
            }
            same_as_serde(line);
        }
    }

    /// The fields `text` fills, read by the fast reader or by `serde_json`;
    /// `None` when the reader does not take it.
    fn fields_read(text: &str, fast: bool) -> Option<String> {
        let mut raw = RawEvent::default();
        let taken = if fast {
            fill(text, &mut raw)
        } else {
            read_with_serde(text, &mut raw).is_ok()
        };
        taken.then(|| format!("{:?}", raw.fields))
    }

    /// Both readers give the same event or error, and what the fast one
    /// reads, `serde_json` reads the same (the same types of value too:
    /// validation does not look at every field of every kind).
    fn same_as_serde(text: &str) {
        assert_eq!(parse_event_str(text), parse_event_str_with_serde(text));
        if let Some(fast) = fields_read(text, true) {
            assert_eq!(Some(fast), fields_read(text, false), "{text:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn mutated_lines_read_as_serde_json_reads_them(
            which in any::<prop::sample::Index>(),
            ms in prop::collection::vec(mutation(), 0..6),
        ) {
            let seeds = seeds();
            let seed: &str = which.get::<&str>(&seeds);
            same_as_serde(&mutate(seed, &ms));
        }

        #[test]
        fn generated_objects_read_as_serde_json_reads_them(
            text in object(),
            ms in prop::collection::vec(mutation(), 0..2),
        ) {
            same_as_serde(&mutate(&text, &ms));
        }

        #[test]
        fn arbitrary_text_reads_as_serde_json_reads_it(text in "\\PC{0,80}") {
            same_as_serde(&text);
        }
    }
}
