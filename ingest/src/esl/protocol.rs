//! The event socket's wire format (`mod_event_socket`, inbound mode): framing
//! of the byte stream into messages, and decoding of the events they carry.
//!
//! A message is a block of `Name: value` header lines ended by an empty
//! line; with `Content-Length: N` a body of exactly N bytes follows. The
//! `Content-Type` header says what it is: `auth/request` (the greeting),
//! `command/reply` (`Reply-Text: +OK …` / `-ERR …`), `api/response` (the
//! body is the command's output), `text/event-plain` (the body is the
//! event: header lines whose values are URL-encoded, possibly followed by
//! the event's own `Content-Length` body), `text/event-json` (the body is
//! one JSON object, its own body under `_body`), `text/disconnect-notice`
//! (the server is closing), `text/rude-rejection` (refused by ACL).
//!
//! The [`Decoder`] never fails: anything it cannot frame (a header line
//! without `:`, a bad `Content-Length`, a message over the size bound, bytes
//! left when the connection closes) comes out as a [`Problem`] carrying the
//! offending bytes, and decoding resumes at the next message boundary. Its
//! buffer never holds more than the bound plus one read, so a broken peer
//! cannot make the client buffer without limit.

use std::fmt;

use wallboard_events::DeadLetterCode;

/// Largest message accepted by default (header block and body). `FreeSWITCH`
/// events with every channel variable are a few tens of KiB.
pub const DEFAULT_MAX_MESSAGE: usize = 1 << 20;

/// How much of a bad message is kept for the report (dead letter, stderr).
const MAX_REPORTED: usize = 8 * 1024;

/// One framed message: its header block and body.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    /// The message exactly as received (header block, empty line, body).
    pub raw: Vec<u8>,
    /// Outer headers, in order; values as sent (not URL-decoded: only the
    /// headers of an event body are encoded).
    pub headers: Vec<(String, String)>,
    body_start: usize,
}

impl Frame {
    /// The first header named `name` (case-insensitive, as `FreeSWITCH`'s own
    /// lookups are).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }

    /// `Content-Type`, or `""` when missing.
    #[must_use]
    pub fn content_type(&self) -> &str {
        self.header("Content-Type").unwrap_or("").trim()
    }

    /// The body (empty without `Content-Length`).
    #[must_use]
    pub fn body(&self) -> &[u8] {
        &self.raw[self.body_start..]
    }
}

/// The headers and the body as text; `raw` would repeat both as bytes.
impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("headers", &self.headers)
            .field("body", &String::from_utf8_lossy(self.body()))
            .finish_non_exhaustive()
    }
}

/// Input that could not be framed, with what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Stable machine-readable code (dead-letter `wallboard-code`):
    /// [`DecodeError::code`] of `reason`.
    pub code: DeadLetterCode,
    /// What was wrong.
    pub reason: DecodeError,
    /// The offending bytes (at most the first 8 KiB).
    pub raw: Vec<u8>,
}

impl Problem {
    fn new(reason: DecodeError, raw: &[u8]) -> Self {
        Problem {
            code: reason.code(),
            reason,
            raw: raw[..raw.len().min(MAX_REPORTED)].to_vec(),
        }
    }
}

/// Why input could not be framed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A header block longer than the largest message, with no end in sight.
    #[error("header block over {max} bytes without an empty line; skipped to the next one")]
    BlockTooLarge {
        /// The largest message, bytes.
        max: usize,
    },
    /// The header lines do not parse.
    #[error(transparent)]
    Headers(#[from] HeaderError),
    /// `Content-Length` is not a byte count.
    #[error("Content-Length {0:?} is not a byte count")]
    BadLength(String),
    /// A message larger than the largest accepted.
    #[error("message of {size} bytes is over the {max}-byte limit; skipped")]
    TooLarge {
        /// Its size, headers and body, bytes.
        size: usize,
        /// The largest message, bytes.
        max: usize,
    },
    /// The input ended inside the body of a message skipped as oversize.
    #[error("connection closed {missing} bytes before the end of an oversize message")]
    TruncatedOversize {
        /// Bytes of its body that did not come.
        missing: usize,
    },
    /// The input ended inside a message.
    #[error("connection closed inside a message ({received} bytes received)")]
    Truncated {
        /// Bytes of it received.
        received: usize,
    },
}

impl DecodeError {
    /// The dead-letter code (`wallboard-code` header).
    #[must_use]
    pub fn code(&self) -> DeadLetterCode {
        match self {
            DecodeError::BlockTooLarge { .. } | DecodeError::TooLarge { .. } => {
                DeadLetterCode::EslTooLarge
            }
            DecodeError::Headers(_) => DeadLetterCode::EslGarbage,
            DecodeError::BadLength(_) => DeadLetterCode::EslBadLength,
            DecodeError::TruncatedOversize { .. } | DecodeError::Truncated { .. } => {
                DeadLetterCode::EslTruncated
            }
        }
    }
}

/// What the decoder produced next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A complete frame.
    Frame(Frame),
    /// Input that could not be decoded; it was dropped.
    Problem(Problem),
}

/// What the decoder is throwing away before it can frame again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Discard {
    Nothing,
    /// The rest of an oversize body: this many bytes.
    Body(usize),
    /// An oversize header block: everything up to the next empty line.
    /// `at_line_start`: the last byte thrown away ended a line.
    ToEmptyLine {
        at_line_start: bool,
    },
}

/// Splits the byte stream of one connection into messages. Feed it what the
/// socket reads ([`Decoder::push`]), take messages out ([`Decoder::next_item`]),
/// and call [`Decoder::finish`] when the connection closes.
#[derive(Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Consumed prefix of `buf` (compacted lazily, so taking a message out
    /// does not shift the rest every time).
    start: usize,
    /// Where the search for the end of the current header block resumes.
    scanned: usize,
    max: usize,
    discard: Discard,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DEFAULT_MAX_MESSAGE)
    }
}

impl Decoder {
    /// A decoder rejecting messages over `max` bytes.
    #[must_use]
    pub fn new(max: usize) -> Self {
        Decoder {
            buf: Vec::with_capacity(64 * 1024),
            start: 0,
            scanned: 0,
            max: max.max(64),
            discard: Discard::Nothing,
        }
    }

    /// Appends bytes read from the connection.
    pub fn push(&mut self, data: &[u8]) {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.scanned -= self.start;
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Bytes buffered and not yet framed.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next message or problem, or `None` until more bytes arrive.
    pub fn next_item(&mut self) -> Option<Item> {
        match self.discard {
            Discard::Nothing => {}
            Discard::Body(left) => {
                let n = left.min(self.buffered());
                self.consume(n);
                if n < left {
                    self.discard = Discard::Body(left - n);
                    return None;
                }
                self.discard = Discard::Nothing;
            }
            Discard::ToEmptyLine { at_line_start } => {
                let rest = &self.buf[self.start..];
                if let Some(n) = empty_line_end(rest, at_line_start) {
                    self.consume(n);
                    self.discard = Discard::Nothing;
                } else {
                    self.discard = Discard::ToEmptyLine {
                        at_line_start: rest.last() == Some(&b'\n'),
                    };
                    self.consume(rest.len());
                    return None;
                }
            }
        }
        // Empty lines between messages are not messages.
        while let Some(&b) = self.buf.get(self.start) {
            if b == b'\n' {
                self.consume(1);
            } else if b == b'\r' && self.buf.get(self.start + 1) == Some(&b'\n') {
                self.consume(2);
            } else {
                break;
            }
        }
        if self.buffered() == 0 {
            return None;
        }
        let Some(end) = self.find_block_end() else {
            if self.buffered() > self.max {
                let reason = DecodeError::BlockTooLarge { max: self.max };
                let p = Problem::new(reason, &self.buf[self.start..]);
                self.discard = Discard::ToEmptyLine {
                    at_line_start: self.buf.last() == Some(&b'\n'),
                };
                self.consume(self.buffered());
                return Some(Item::Problem(p));
            }
            return None;
        };
        self.take_message(end)
    }

    /// At end of input: whatever is left is a truncated message.
    pub fn finish(&mut self) -> Option<Problem> {
        let left = &self.buf[self.start..];
        let problem = match self.discard {
            Discard::Body(missing) => Some(Problem::new(
                DecodeError::TruncatedOversize { missing },
                left,
            )),
            _ if left.iter().all(u8::is_ascii_whitespace) => None,
            Discard::ToEmptyLine { .. } => None,
            Discard::Nothing => Some(Problem::new(
                DecodeError::Truncated {
                    received: left.len(),
                },
                left,
            )),
        };
        self.buf.clear();
        self.start = 0;
        self.scanned = 0;
        self.discard = Discard::Nothing;
        problem
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.scanned = self.scanned.max(self.start);
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
            self.scanned = 0;
        }
    }

    /// The index just past the empty line ending the header block that
    /// starts at `self.start`, if it has arrived.
    fn find_block_end(&mut self) -> Option<usize> {
        // Resume at the start of the last line already looked at, so a block
        // arriving in small pieces is scanned once.
        let from = self.scanned.max(self.start);
        let mut line_start = from;
        for nl in memchr::memchr_iter(b'\n', &self.buf[from..]) {
            let nl = from + nl;
            let line = &self.buf[line_start..nl];
            if line.is_empty() || line == b"\r" {
                self.scanned = self.start;
                return Some(nl + 1);
            }
            line_start = nl + 1;
        }
        self.scanned = line_start;
        None
    }

    /// Frames the message whose header block ends at `end` (or reports why
    /// it cannot); `None` while its body is still on its way.
    fn take_message(&mut self, end: usize) -> Option<Item> {
        let block = &self.buf[self.start..end];
        let headers = match parse_header_lines(block, false) {
            Ok(h) => h,
            Err(reason) => {
                let p = Problem::new(reason.into(), block);
                self.consume(end - self.start);
                return Some(Item::Problem(p));
            }
        };
        let len = match find(&headers, "Content-Length") {
            None => 0,
            Some(v) => {
                if let Ok(n) = v.trim().parse::<usize>() {
                    n
                } else {
                    let p = Problem::new(DecodeError::BadLength(v.to_owned()), block);
                    self.consume(end - self.start);
                    return Some(Item::Problem(p));
                }
            }
        };
        let block_len = end - self.start;
        if block_len.saturating_add(len) > self.max {
            let reason = DecodeError::TooLarge {
                size: block_len.saturating_add(len),
                max: self.max,
            };
            let p = Problem::new(reason, &self.buf[self.start..]);
            self.consume(block_len);
            self.discard = Discard::Body(len);
            return Some(Item::Problem(p));
        }
        if self.buffered() < block_len + len {
            // The body is still on its way. The header block is scanned
            // again when more bytes come (cheap: it is small).
            self.scanned = self.start;
            return None;
        }
        let raw = self.buf[self.start..self.start + block_len + len].to_vec();
        self.consume(block_len + len);
        Some(Item::Frame(Frame {
            raw,
            headers,
            body_start: block_len,
        }))
    }
}

/// Parses `Name: value` lines up to the first empty line (or the end).
/// With `decode`, values are URL-decoded (event bodies).
fn parse_header_lines(block: &[u8], decode: bool) -> Result<Vec<(String, String)>, HeaderError> {
    let mut headers = Vec::new();
    for (i, line) in block.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let Some(colon) = memchr::memchr(b':', line) else {
            return Err(HeaderError::NoColon {
                line: i + 1,
                text: String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned(),
            });
        };
        let name = String::from_utf8_lossy(&line[..colon]).trim().to_owned();
        if name.is_empty() {
            return Err(HeaderError::EmptyName(i + 1));
        }
        let value = line[colon + 1..].trim_ascii_start();
        let value = if decode {
            url_decode(value)
        } else {
            String::from_utf8_lossy(value).into_owned()
        };
        headers.push((name, value));
    }
    Ok(headers)
}

fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Decodes `%XX` escapes the way `FreeSWITCH`'s `switch_url_decode` does: `+`
/// stays `+` (`FreeSWITCH` writes a space as `%20`), and a `%` not followed by
/// two hex digits is kept as it is. Invalid UTF-8 becomes U+FFFD.
#[must_use]
pub fn url_decode(v: &[u8]) -> String {
    if !v.contains(&b'%') {
        return String::from_utf8_lossy(v).into_owned();
    }
    let hex = |b: u8| {
        char::from(b)
            .to_digit(16)
            .map(|d| u8::try_from(d).expect("a hex digit is below 16"))
    };
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'%' && i + 2 < v.len() {
            if let (Some(h), Some(l)) = (hex(v[i + 1]), hex(v[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(v[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One `FreeSWITCH` event: its headers (decoded) and optional body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EslEvent {
    /// Headers in order; values URL-decoded in plain events.
    pub headers: Vec<(String, String)>,
    /// The body after the headers, if the event has one.
    pub body: Option<String>,
}

impl EslEvent {
    /// The first header named `name` (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }

    /// The event with these headers (values already decoded); for tests
    /// and tools.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        EslEvent {
            headers: pairs
                .into_iter()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect(),
            body: None,
        }
    }
}

/// What is wrong with a block of `Name: value` lines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// A line without a colon.
    #[error("header line {line} has no `:`: {text:?}")]
    NoColon {
        /// 1-based line number in the block.
        line: usize,
        /// The line, at most its first 80 bytes.
        text: String,
    },
    /// A line with nothing before its colon.
    #[error("header line {0} has an empty name")]
    EmptyName(usize),
}

/// Why an event body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventFormatError {
    /// Its header lines do not parse.
    #[error(transparent)]
    Headers(#[from] HeaderError),
    /// It has no headers at all.
    #[error("event without headers")]
    NoHeaders,
    /// Its `Content-Length` is not a byte count.
    #[error("event Content-Length {0:?}")]
    ContentLength(String),
    /// Fewer bytes follow than its `Content-Length` says.
    #[error("event body truncated: Content-Length {declared}, {present} bytes present")]
    Truncated {
        /// The `Content-Length`.
        declared: usize,
        /// The bytes that follow the headers.
        present: usize,
    },
    /// A JSON event that is not a JSON object; the parser's message.
    #[error("event JSON: {0}")]
    Json(String),
}

/// Reads the body of a `text/event-plain` message: URL-encoded header lines,
/// then, if the event has a `Content-Length`, its own body.
pub fn parse_plain_event(body: &[u8]) -> Result<EslEvent, EventFormatError> {
    let end = empty_line_end(body, true).unwrap_or(body.len());
    let headers = parse_header_lines(&body[..end], true)?;
    if headers.is_empty() {
        return Err(EventFormatError::NoHeaders);
    }
    let rest = &body[end..];
    let body = match find(&headers, "Content-Length") {
        None => None,
        Some(v) => {
            let n: usize = v
                .trim()
                .parse()
                .map_err(|_| EventFormatError::ContentLength(v.to_owned()))?;
            let b = rest.get(..n).ok_or(EventFormatError::Truncated {
                declared: n,
                present: rest.len(),
            })?;
            Some(String::from_utf8_lossy(b).into_owned())
        }
    };
    Ok(EslEvent { headers, body })
}

/// Reads the body of a `text/event-json` message: one object of header
/// names to values (strings; arrays for multi-valued headers), `_body` for
/// the event's own body.
pub fn parse_json_event(body: &[u8]) -> Result<EslEvent, EventFormatError> {
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(body).map_err(|e| EventFormatError::Json(e.to_string()))?;
    let mut ev = EslEvent::default();
    for (k, v) in map {
        let v = match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join("|"),
            other => other.to_string(),
        };
        if k == "_body" {
            ev.body = Some(v);
        } else {
            ev.headers.push((k, v));
        }
    }
    if ev.headers.is_empty() {
        return Err(EventFormatError::NoHeaders);
    }
    Ok(ev)
}

/// Index just past the first empty line of `b`; `at_line_start` when `b`
/// continues a stream whose last byte ended a line.
fn empty_line_end(b: &[u8], at_line_start: bool) -> Option<usize> {
    let mut line_start = at_line_start.then_some(0);
    for nl in memchr::memchr_iter(b'\n', b) {
        if let Some(s) = line_start {
            let line = &b[s..nl];
            if line.is_empty() || line == b"\r" {
                return Some(nl + 1);
            }
        }
        line_start = Some(nl + 1);
    }
    None
}

/// The reply text of a `command/reply` (`+OK accepted`, `-ERR invalid`).
#[must_use]
pub fn reply_text(frame: &Frame) -> &str {
    frame.header("Reply-Text").unwrap_or("").trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(d: &mut Decoder) -> Vec<Item> {
        std::iter::from_fn(|| d.next_item()).collect()
    }

    fn plain(body: &str) -> String {
        format!(
            "Content-Length: {}\nContent-Type: text/event-plain\n\n{body}",
            body.len()
        )
    }

    const EVENT: &str = "Event-Name: CUSTOM\nEvent-Subclass: callcenter%3A%3Ainfo\n\
        CC-Queue: support%40default\nCC-Agent-Status: Available%20(On%20Demand)\n\n";

    #[test]
    fn a_body_split_across_reads_at_every_byte() {
        let msg = plain(EVENT) + "Content-Type: command/reply\nReply-Text: +OK accepted\n\n";
        for cut in 1..msg.len() {
            let mut d = Decoder::default();
            d.push(&msg.as_bytes()[..cut]);
            let mut got = frames(&mut d);
            d.push(&msg.as_bytes()[cut..]);
            got.extend(frames(&mut d));
            assert_eq!(got.len(), 2, "cut at {cut}: {got:?}");
            let Item::Frame(f) = &got[0] else {
                panic!("cut at {cut}: {got:?}")
            };
            assert_eq!(f.content_type(), "text/event-plain");
            assert_eq!(f.body(), EVENT.as_bytes());
            assert_eq!(f.raw, plain(EVENT).as_bytes());
            let Item::Frame(r) = &got[1] else {
                panic!("{got:?}")
            };
            assert_eq!(reply_text(r), "+OK accepted");
            assert!(d.finish().is_none());
        }
    }

    #[test]
    fn one_byte_at_a_time() {
        let stream = format!("Content-Type: auth/request\n\n{}", plain(EVENT)).repeat(3);
        let mut d = Decoder::default();
        let mut got = Vec::new();
        for b in stream.as_bytes() {
            d.push(std::slice::from_ref(b));
            got.extend(frames(&mut d));
        }
        assert_eq!(got.len(), 6);
        assert!(got.iter().all(|i| matches!(i, Item::Frame(_))));
    }

    #[test]
    fn plain_event_values_are_url_decoded() {
        let ev = parse_plain_event(EVENT.as_bytes()).unwrap();
        assert_eq!(ev.header("Event-Subclass"), Some("callcenter::info"));
        assert_eq!(ev.header("cc-queue"), Some("support@default"));
        assert_eq!(ev.header("CC-Agent-Status"), Some("Available (On Demand)"));
        assert_eq!(ev.body, None);
        // An event with its own body (as BACKGROUND_JOB has).
        let with_body = "Event-Name: BACKGROUND_JOB\nContent-Length: 12\n\n+OK 7f4de4bc";
        let ev = parse_plain_event(with_body.as_bytes()).unwrap();
        assert_eq!(ev.body.as_deref(), Some("+OK 7f4de4bc"));
        let cut = "Event-Name: BACKGROUND_JOB\nContent-Length: 40\n\n+OK";
        assert_eq!(
            parse_plain_event(cut.as_bytes()).unwrap_err().to_string(),
            "event body truncated: Content-Length 40, 3 bytes present"
        );
    }

    #[test]
    fn url_decoding_follows_freeswitch() {
        assert_eq!(url_decode(b"callcenter%3A%3Ainfo"), "callcenter::info");
        // `+` is not a space: FreeSWITCH encodes a space as %20, `+` as %2B.
        assert_eq!(url_decode(b"a+b%20c%2Bd"), "a+b c+d");
        assert_eq!(url_decode(b"100%"), "100%");
        assert_eq!(url_decode(b"%zz%4"), "%zz%4");
        assert_eq!(url_decode(b"%E2%82%AC"), "\u{20ac}");
        assert_eq!(url_decode(b"%FF"), "\u{fffd}");
    }

    #[test]
    fn json_events() {
        let body = br#"{"Event-Name":"CUSTOM","Event-Subclass":"callcenter::info","CC-Count":"1","Multi":["a","b"],"_body":"hi"}"#;
        let ev = parse_json_event(body).unwrap();
        assert_eq!(ev.header("Event-Subclass"), Some("callcenter::info"));
        assert_eq!(ev.header("Multi"), Some("a|b"));
        assert_eq!(ev.body.as_deref(), Some("hi"));
        assert!(parse_json_event(b"[1,2]").is_err());
        assert!(parse_json_event(b"{}").is_err());
    }

    #[test]
    fn garbage_and_bad_lengths_are_reported_and_skipped() {
        let mut d = Decoder::default();
        d.push(b"hello world\n\nContent-Length: ten\nContent-Type: api/response\n\n");
        d.push(b"\n\nContent-Type: api/response\nContent-Length: 3\n\n+OK");
        let got = frames(&mut d);
        assert_eq!(got.len(), 3, "{got:?}");
        let Item::Problem(p) = &got[0] else { panic!() };
        assert_eq!(p.code, "esl_garbage");
        assert!(
            matches!(
                p.reason,
                DecodeError::Headers(HeaderError::NoColon { line: 1, .. })
            ),
            "{}",
            p.reason
        );
        assert!(p.reason.to_string().contains("no `:`"), "{}", p.reason);
        assert_eq!(p.raw, b"hello world\n\n");
        let Item::Problem(p) = &got[1] else { panic!() };
        assert_eq!(p.code, "esl_bad_length");
        let Item::Frame(f) = &got[2] else { panic!() };
        assert_eq!(f.body(), b"+OK");
    }

    #[test]
    fn an_oversize_body_is_skipped_without_being_buffered() {
        let mut d = Decoder::new(1024);
        d.push(b"Content-Type: text/event-plain\nContent-Length: 5000\n\n");
        d.push(&[b'x'; 700]);
        let got = frames(&mut d);
        assert_eq!(got.len(), 1);
        let Item::Problem(p) = &got[0] else { panic!() };
        assert_eq!(p.code, "esl_too_large");
        assert_eq!(d.buffered(), 0);
        for _ in 0..10 {
            d.push(&[b'x'; 430]);
            assert!(frames(&mut d).is_empty());
            assert_eq!(d.buffered(), 0);
        }
        d.push(b"Content-Type: auth/request\n\n");
        let got = frames(&mut d);
        assert!(matches!(&got[..], [Item::Frame(f)] if f.content_type() == "auth/request"));
    }

    #[test]
    fn an_endless_header_block_is_bounded() {
        let mut d = Decoder::new(1024);
        let mut problems = 0;
        for _ in 0..100 {
            d.push(b"X-Junk: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
            problems += frames(&mut d).len();
            assert!(d.buffered() <= 1024 + 64);
        }
        assert_eq!(problems, 1);
        d.push(b"\nContent-Type: auth/request\n\n");
        let got = frames(&mut d);
        assert!(matches!(&got[..], [Item::Frame(f)] if f.content_type() == "auth/request"));
    }

    #[test]
    fn truncated_input_is_reported_at_the_end() {
        let mut d = Decoder::default();
        d.push(b"Content-Type: text/event-plain\nContent-Length: 10\n\nabc");
        assert!(frames(&mut d).is_empty());
        let p = d.finish().unwrap();
        assert_eq!(p.code, "esl_truncated");
        assert!(d.finish().is_none());
        d.push(b"Content-Type: api/resp");
        assert_eq!(d.finish().unwrap().code, "esl_truncated");
        d.push(b"\n\n\n");
        assert!(d.finish().is_none());
    }

    #[test]
    fn the_disconnect_notice() {
        // As mod_event_socket sends it (captured in NEventSocket's tests).
        let mut d = Decoder::default();
        d.push(
            b"Content-Type: text/disconnect-notice\nContent-Length: 67\n\n\
              Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n",
        );
        let got = frames(&mut d);
        let [Item::Frame(f)] = &got[..] else {
            panic!("{got:?}")
        };
        assert_eq!(f.content_type(), "text/disconnect-notice");
        assert!(f.body().starts_with(b"Disconnected, goodbye."));
        assert!(d.finish().is_none());
    }
}
