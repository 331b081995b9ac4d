//! AMI wire framing: the banner line, then messages of `Key: Value` lines
//! ended by an empty line. Owns turning a byte stream into [`Message`]s (and
//! [`Message`]s into bytes); knows nothing of what the messages mean.
//!
//! The framer never trusts its input: line ends may be `\r\n` or `\n`,
//! values may contain `:`, keys may repeat (`ChanVariable`), a line without
//! `:` is reported and dropped, a message larger than the limit is reported
//! once and skipped up to its blank line (never buffered whole), and a
//! message cut by the end of the stream is reported as truncated.

use std::collections::VecDeque;
use std::fmt::Write as _;

use wallboard_events::DeadLetterCode;

/// Largest message the framer accepts, in bytes of its lines.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// How much of a skipped message is kept to report it.
const RAW_PREFIX: usize = 1024;

/// One AMI message (event, response or action): its headers in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    headers: Vec<(String, String)>,
}

impl Message {
    /// A message without headers.
    #[must_use]
    pub fn new() -> Self {
        Message::default()
    }

    /// A message from `(key, value)` pairs, in order.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut m = Message::new();
        for (k, v) in pairs {
            m.push(k, v);
        }
        m
    }

    /// Appends a header.
    pub fn push(&mut self, key: &str, value: &str) {
        self.headers.push((key.to_owned(), value.to_owned()));
    }

    /// The first value of `key`. Keys compare without case, as Asterisk's
    /// own `astman_get_header` does.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated key (`ChanVariable`), in order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// Every header in order, as read.
    #[must_use]
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// Whether the message has no header.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }

    /// `Event:` of an event.
    #[must_use]
    pub fn event(&self) -> Option<&str> {
        self.get("Event")
    }

    /// `Response:` of a response to an action.
    #[must_use]
    pub fn response(&self) -> Option<&str> {
        self.get("Response")
    }

    /// `ActionID:` correlating a response with its action.
    #[must_use]
    pub fn action_id(&self) -> Option<&str> {
        self.get("ActionID")
    }

    /// The message as sent on the wire, `\r\n` line ends and the closing
    /// empty line. Callers must not put line breaks in values (see
    /// [`has_line_break`]): that would inject headers.
    #[must_use]
    pub fn to_wire(&self) -> String {
        let mut s = String::new();
        for (k, v) in &self.headers {
            // Writing to a String cannot fail.
            let _ = write!(s, "{k}: {v}\r\n");
        }
        s.push_str("\r\n");
        s
    }
}

/// Whether a value would break the framing of an action.
#[must_use]
pub fn has_line_break(v: &str) -> bool {
    v.contains(['\r', '\n'])
}

/// What the framer read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// The first line of a session: `Asterisk Call Manager/x.y.z`.
    Banner(String),
    /// A complete message and its lines as read (line ends normalised to
    /// `\r\n`), for dead letters.
    Message {
        /// The parsed headers.
        message: Message,
        /// The bytes as read.
        raw: Vec<u8>,
    },
    /// Input that could not be framed; it was dropped.
    Malformed(FrameError),
}

/// Why some input was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A line that is not `Key: Value`.
    #[error("line without `Key: Value` form: {}", preview(.raw))]
    Garbage {
        /// The line as read.
        raw: Vec<u8>,
    },
    /// A message over the size limit, skipped to its end.
    #[error("message larger than {limit} bytes, skipped to its end")]
    TooLarge {
        /// The size limit, bytes.
        limit: usize,
        /// The first bytes of the message, up to the limit.
        raw_prefix: Vec<u8>,
    },
    /// The stream ended inside a message.
    #[error("truncated message: the stream ended before its closing empty line")]
    Truncated {
        /// The partial message as read.
        raw: Vec<u8>,
    },
}

impl FrameError {
    /// Stable machine-readable reason (dead-letter `wallboard-code`).
    #[must_use]
    pub fn code(&self) -> DeadLetterCode {
        match self {
            FrameError::Garbage { .. } => DeadLetterCode::AmiGarbage,
            FrameError::TooLarge { .. } => DeadLetterCode::AmiTooLarge,
            FrameError::Truncated { .. } => DeadLetterCode::AmiTruncated,
        }
    }

    /// The dropped input (a prefix of it when it was too large).
    #[must_use]
    pub fn raw(&self) -> &[u8] {
        match self {
            FrameError::Garbage { raw } | FrameError::Truncated { raw } => raw,
            FrameError::TooLarge { raw_prefix, .. } => raw_prefix,
        }
    }
}

fn preview(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    let mut out: String = s.chars().take(60).collect();
    if s.chars().nth(60).is_some() {
        out.push('…');
    }
    format!("{out:?}")
}

/// Incremental AMI decoder: [`push`](Framer::push) bytes as they arrive,
/// take [`Frame`]s with [`next_frame`](Framer::next_frame).
#[derive(Debug)]
pub struct Framer {
    max: usize,
    /// Bytes not yet split into lines.
    buf: Vec<u8>,
    expect_banner: bool,
    current: Message,
    current_raw: Vec<u8>,
    /// Dropping an oversize message until its empty line.
    skipping: bool,
    /// The line being dropped has not ended yet, so the next line end
    /// finishes it rather than making an empty line.
    skip_mid_line: bool,
    ready: VecDeque<Frame>,
}

impl Framer {
    /// A framer for a manager session: the first line is the banner.
    #[must_use]
    pub fn new(max_message_bytes: usize) -> Self {
        Framer {
            max: max_message_bytes.max(1),
            buf: Vec::new(),
            expect_banner: true,
            current: Message::new(),
            current_raw: Vec::new(),
            skipping: false,
            skip_mid_line: false,
            ready: VecDeque::new(),
        }
    }

    /// A framer for a stream of messages without banner (a capture, or the
    /// client's side as seen by a server).
    #[must_use]
    pub fn without_banner(max_message_bytes: usize) -> Self {
        Framer {
            expect_banner: false,
            ..Framer::new(max_message_bytes)
        }
    }

    /// Feeds bytes; complete frames become available to `next_frame`.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        let mut start = 0;
        while let Some(i) = memchr::memchr(b'\n', &self.buf[start..]) {
            let end = start + i;
            let line = std::mem::take(&mut self.buf);
            self.line(trim_cr(&line[start..end]));
            self.buf = line;
            start = end + 1;
        }
        self.buf.drain(..start);
        // A line still without its end: bounded like a whole message, so a
        // peer that never sends `\n` cannot make us buffer forever.
        if !self.buf.is_empty() {
            if self.skipping {
                self.buf.clear();
                self.skip_mid_line = true;
            } else if self.current_raw.len() + self.buf.len() > self.max {
                let mut prefix = std::mem::take(&mut self.current_raw);
                prefix.extend_from_slice(&self.buf);
                self.too_large(prefix);
                self.buf.clear();
                self.skip_mid_line = true;
            }
        }
    }

    /// The next complete frame, if any.
    pub fn next_frame(&mut self) -> Option<Frame> {
        self.ready.pop_front()
    }

    /// The stream ended: a message still open is reported as truncated.
    /// The framer is then ready for a new session (banner first if it was
    /// created by [`Framer::new`]).
    pub fn finish(&mut self) -> Option<Frame> {
        let mut raw = std::mem::take(&mut self.current_raw);
        raw.extend_from_slice(&self.buf);
        let truncated = !self.skipping && !raw.iter().all(u8::is_ascii_whitespace);
        self.buf.clear();
        self.current = Message::new();
        self.skipping = false;
        self.skip_mid_line = false;
        if truncated {
            Some(Frame::Malformed(FrameError::Truncated { raw }))
        } else {
            None
        }
    }

    /// Forgets everything buffered and expects a banner again (a new
    /// connection), without reporting.
    pub fn reset(&mut self, expect_banner: bool) {
        *self = Framer {
            expect_banner,
            ..Framer::new(self.max)
        };
    }

    fn line(&mut self, line: &[u8]) {
        if self.skipping {
            if self.skip_mid_line {
                self.skip_mid_line = false;
            } else if line.is_empty() {
                self.skipping = false;
            }
            return;
        }
        if self.expect_banner {
            if line.is_empty() {
                return;
            }
            self.expect_banner = false;
            // The banner is the only line of the protocol without a colon.
            if !line.contains(&b':') {
                let banner = String::from_utf8_lossy(line).trim().to_owned();
                self.ready.push_back(Frame::Banner(banner));
                return;
            }
        }
        if line.is_empty() {
            if self.current.is_empty() {
                // Blank lines between messages, or after garbage only.
                self.current_raw.clear();
            } else {
                let message = std::mem::take(&mut self.current);
                let raw = std::mem::take(&mut self.current_raw);
                self.ready.push_back(Frame::Message { message, raw });
            }
            return;
        }
        if self.current_raw.len() + line.len() + 2 > self.max {
            let mut prefix = std::mem::take(&mut self.current_raw);
            prefix.extend_from_slice(&line[..line.len().min(RAW_PREFIX)]);
            self.too_large(prefix);
            return;
        }
        self.current_raw.extend_from_slice(line);
        self.current_raw.extend_from_slice(b"\r\n");
        let text = String::from_utf8_lossy(line);
        match text.split_once(':') {
            Some((k, v)) if !k.trim().is_empty() => {
                self.current.push(k.trim(), v.trim());
            }
            _ => self
                .ready
                .push_back(Frame::Malformed(FrameError::Garbage { raw: line.to_vec() })),
        }
    }

    fn too_large(&mut self, mut raw_prefix: Vec<u8>) {
        raw_prefix.truncate(RAW_PREFIX);
        self.ready.push_back(Frame::Malformed(FrameError::TooLarge {
            limit: self.max,
            raw_prefix,
        }));
        self.current = Message::new();
        self.current_raw.clear();
        self.skipping = true;
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(f: &mut Framer) -> Vec<Frame> {
        std::iter::from_fn(|| f.next_frame()).collect()
    }

    fn msg(pairs: &[(&str, &str)]) -> Message {
        Message::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn banner_then_messages_with_either_line_end() {
        let mut f = Framer::new(DEFAULT_MAX_MESSAGE_BYTES);
        f.push(b"Asterisk Call Manager/5.0.1\r\nResponse: Success\r\nMessage: Authentication accepted\r\n\r\nEvent: FullyBooted\nStatus: Fully Booted\n\n");
        let got = frames(&mut f);
        assert_eq!(got[0], Frame::Banner("Asterisk Call Manager/5.0.1".into()));
        let Frame::Message { message, raw } = &got[1] else {
            panic!("{got:?}")
        };
        assert_eq!(message.response(), Some("Success"));
        assert_eq!(
            raw,
            b"Response: Success\r\nMessage: Authentication accepted\r\n"
        );
        let Frame::Message { message, .. } = &got[2] else {
            panic!("{got:?}")
        };
        assert_eq!(message.event(), Some("FullyBooted"));
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn split_anywhere_colons_in_values_repeated_keys() {
        let input = b"Event: VarSet\r\nChanVariable: A=1\r\nchanvariable: B=x:y\r\nValue: http://h:80/p\r\n\r\n";
        // Byte by byte: the same frames as in one piece.
        let mut f = Framer::without_banner(DEFAULT_MAX_MESSAGE_BYTES);
        for b in input {
            f.push(&[*b]);
        }
        let got = frames(&mut f);
        let Frame::Message { message, .. } = &got[0] else {
            panic!("{got:?}")
        };
        assert_eq!(
            message.get_all("ChanVariable").collect::<Vec<_>>(),
            ["A=1", "B=x:y"]
        );
        assert_eq!(message.get("value"), Some("http://h:80/p"));
    }

    #[test]
    fn garbage_lines_are_reported_and_the_message_kept() {
        let mut f = Framer::without_banner(DEFAULT_MAX_MESSAGE_BYTES);
        f.push(
            b"Event: Foo\r\nthis is noise\r\n: no key\r\nA: 1\r\n\r\n\r\n\r\nnoise only\r\n\r\n",
        );
        let got = frames(&mut f);
        assert!(
            matches!(&got[0], Frame::Malformed(FrameError::Garbage { raw }) if raw == b"this is noise")
        );
        assert!(
            matches!(&got[1], Frame::Malformed(FrameError::Garbage { raw }) if raw == b": no key")
        );
        assert_eq!(
            got[2],
            Frame::Message {
                message: msg(&[("Event", "Foo"), ("A", "1")]),
                raw: b"Event: Foo\r\nthis is noise\r\n: no key\r\nA: 1\r\n".to_vec()
            }
        );
        assert!(matches!(
            &got[3],
            Frame::Malformed(FrameError::Garbage { .. })
        ));
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn oversize_messages_are_skipped_to_their_end() {
        let mut f = Framer::without_banner(100);
        let big = "x".repeat(300);
        // Too large by its many lines, then by one endless line.
        let mut input = String::from("Event: Big\r\n");
        for _ in 0..10 {
            input.push_str("Key: 0123456789\r\n");
        }
        input.push_str("\r\nEvent: Small\r\n\r\n");
        f.push(input.as_bytes());
        f.push(format!("Event: Long\r\nData: {big}").as_bytes());
        f.push(big.as_bytes());
        f.push(b"\r\nMore: 1\r\n\r\nEvent: After\r\n\r\n");
        let got = frames(&mut f);
        let kinds: Vec<String> = got
            .iter()
            .map(|fr| match fr {
                Frame::Message { message, .. } => message.event().unwrap_or("?").to_owned(),
                Frame::Malformed(e) => e.code().as_str().to_owned(),
                Frame::Banner(_) => "banner".into(),
            })
            .collect();
        assert_eq!(kinds, ["ami_too_large", "Small", "ami_too_large", "After"]);
        // The buffer stays bounded while an endless line arrives.
        assert!(f.buf.len() <= 100 && f.current_raw.len() <= 100);
    }

    #[test]
    fn a_line_split_right_before_its_end_while_skipping_is_not_an_empty_line() {
        let mut f = Framer::without_banner(20);
        f.push(b"Event: X\r\nData: 0123456789012345678901234");
        f.push(b"\r\n");
        f.push(b"Tail: 1\r\n\r\nEvent: Y\r\n\r\n");
        let got = frames(&mut f);
        assert!(matches!(
            got[0],
            Frame::Malformed(FrameError::TooLarge { .. })
        ));
        assert!(matches!(&got[1], Frame::Message { message, .. } if message.event() == Some("Y")));
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn truncated_messages_are_reported_at_the_end() {
        let mut f = Framer::without_banner(DEFAULT_MAX_MESSAGE_BYTES);
        f.push(b"Event: Cut\r\nQueue: sal");
        assert!(frames(&mut f).is_empty());
        let Some(Frame::Malformed(e)) = f.finish() else {
            panic!()
        };
        assert_eq!(e.code(), "ami_truncated");
        assert_eq!(e.raw(), b"Event: Cut\r\nQueue: sal");
        // Nothing left open: nothing to report.
        f.push(b"Event: Whole\r\n\r\n\r\n");
        assert_eq!(frames(&mut f).len(), 1);
        assert_eq!(f.finish(), None);
    }

    #[test]
    fn random_bytes_never_panic() {
        // A cheap deterministic fuzz (proptest covers the integration side).
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for max in [1, 7, 64, 4096] {
            let mut f = Framer::new(max);
            for _ in 0..2000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let bytes = x.to_le_bytes();
                let n = (x % 9) as usize;
                f.push(&bytes[..n.min(8)]);
                while f.next_frame().is_some() {}
            }
            let _ = f.finish();
        }
    }

    #[test]
    fn actions_are_written_with_crlf_and_an_empty_line() {
        let m = msg(&[("Action", "Ping"), ("ActionID", "p1")]);
        assert_eq!(m.to_wire(), "Action: Ping\r\nActionID: p1\r\n\r\n");
        assert!(has_line_break("a\r\nAction: Logoff"));
    }
}
