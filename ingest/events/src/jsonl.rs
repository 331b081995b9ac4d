//! Reading JSON Lines of canonical events, with line numbers for every rejection.

use std::io::{self, Read};
use std::sync::LazyLock;

use crate::event::{Event, MAX_EVENT_BYTES};
use crate::parse::{parse_event, EventError};

/// A rejected line: where it was and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {error}")]
pub struct Rejected {
    /// 1-based line number in the input.
    pub line: u64,
    /// What was wrong with the line.
    pub error: EventError,
}

/// Reads lines out of one large buffer, so reading neither copies nor
/// allocates per line. Blank lines are skipped (not events). A line longer
/// than the event size limit is reported and skipped without being kept.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Unread bytes are `buf[pos..end]`.
    pos: usize,
    end: usize,
    eof: bool,
    line: u64,
}

/// What one call to [`LineReader::next_line`] found.
pub enum Line<'a> {
    /// A line's bytes (without the newline) and its number.
    Text(u64, &'a [u8]),
    /// A line longer than the event size limit (its bytes were discarded).
    TooLong(u64, usize),
}

/// Room for a few thousand typical events, and always for one whole event.
const BUFFER: usize = 4 << 20;

impl<R: Read> LineReader<R> {
    /// A reader of JSON Lines from `inner`.
    pub fn new(inner: R) -> Self {
        LineReader {
            inner,
            buf: vec![0; BUFFER.max(MAX_EVENT_BYTES * 2)],
            pos: 0,
            end: 0,
            eof: false,
            line: 0,
        }
    }

    /// Moves the unread bytes to the front and reads more after them.
    fn refill(&mut self) -> io::Result<()> {
        self.buf.copy_within(self.pos..self.end, 0);
        self.end -= self.pos;
        self.pos = 0;
        while self.end < self.buf.len() {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => {
                    self.end += n;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Finds the next non-blank line and says where it is, so that callers
    /// borrow the buffer as they need.
    fn advance(&mut self) -> io::Result<Option<Found>> {
        loop {
            let (start, stop, next) = match memchr::memchr(b'\n', &self.buf[self.pos..self.end]) {
                Some(i) => (self.pos, self.pos + i, self.pos + i + 1),
                None if self.eof => {
                    if self.pos == self.end {
                        return Ok(None);
                    }
                    (self.pos, self.end, self.end)
                }
                None if self.end - self.pos > MAX_EVENT_BYTES + 1 => {
                    // Too long: skip to the end of this line, keeping none of it.
                    self.line += 1;
                    let line = self.line;
                    let mut size = self.end - self.pos;
                    self.pos = self.end;
                    loop {
                        self.refill()?;
                        if let Some(i) = memchr::memchr(b'\n', &self.buf[..self.end]) {
                            size += i + 1;
                            self.pos = i + 1;
                            break;
                        }
                        size += self.end;
                        self.pos = self.end;
                        if self.eof {
                            break;
                        }
                    }
                    return Ok(Some(Found::TooLong(line, size)));
                }
                None => {
                    self.refill()?;
                    continue;
                }
            };
            self.pos = next;
            self.line += 1;
            let mut stop = stop;
            while stop > start && self.buf[stop - 1] == b'\r' {
                stop -= 1;
            }
            if stop - start > MAX_EVENT_BYTES + 1 {
                return Ok(Some(Found::TooLong(self.line, next - start)));
            }
            if !self.buf[start..stop].iter().all(u8::is_ascii_whitespace) {
                return Ok(Some(Found::Text(self.line, start, stop)));
            }
        }
    }

    /// The next non-blank line, or `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        Ok(self.advance()?.map(|f| self.line_of(&f)))
    }

    /// Like [`LineReader::next_line`], also giving the bytes already read
    /// after the line (the start of the next lines, possibly cut short): a
    /// look ahead for [`next_id_hint`].
    pub fn next_line_ahead(&mut self) -> io::Result<Option<(Line<'_>, &[u8])>> {
        Ok(self
            .advance()?
            .map(|f| (self.line_of(&f), &self.buf[self.pos..self.end])))
    }

    fn line_of(&self, f: &Found) -> Line<'_> {
        match *f {
            Found::Text(n, start, stop) => Line::Text(n, &self.buf[start..stop]),
            Found::TooLong(n, size) => Line::TooLong(n, size),
        }
    }
}

/// A line found in the buffer: its number and where it is.
enum Found {
    Text(u64, usize, usize),
    TooLong(u64, usize),
}

/// The `id` of the event at the start of `ahead`, when a quick look finds
/// it (`"id":"…"` without escapes near the line's start); a hint only, it
/// may be `None`, or even wrong for odd input.
pub fn next_id_hint(ahead: &[u8]) -> Option<&str> {
    const KEY: &[u8] = b"\"id\":\"";
    // How every event this project writes starts: no search needed.
    const USUAL: &[u8] = b"{\"v\":1,\"id\":\"";
    static FINDER: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(KEY));
    let head = &ahead[..ahead.len().min(256)];
    let at = if head.starts_with(USUAL) {
        USUAL.len()
    } else {
        FINDER.find(head)? + KEY.len()
    };
    let len = memchr::memchr2(b'"', b'\\', &head[at..])?;
    if head[at + len] != b'"' {
        return None;
    }
    std::str::from_utf8(&head[at..at + len]).ok()
}

/// Parses a line found by [`LineReader`].
pub fn parse_line<'a>(line: &Line<'a>) -> Result<Event<'a>, Rejected> {
    match *line {
        Line::Text(n, bytes) => parse_event(bytes).map_err(|error| Rejected { line: n, error }),
        Line::TooLong(n, size) => Err(Rejected {
            line: n,
            error: EventError::TooLarge { size },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_lines_and_skips_blanks() {
        let input = b"{\"v\":1}\n\n  \nnot json\r\n{\"v\":1,\"id\":\"a\",\"ts\":1,\"kind\":\"call_queued\",\"call\":\"c\",\"queue\":\"q\"}";
        let mut r = LineReader::new(&input[..]);
        let mut seen = vec![];
        while let Some(line) = r.next_line().unwrap() {
            seen.push(match parse_line(&line) {
                Ok(e) => format!("ok {}", e.id),
                Err(e) => e.to_string(),
            });
        }
        assert_eq!(seen.len(), 3);
        assert!(seen[0].starts_with("line 1: field `id`: is required"));
        assert!(seen[1].starts_with("line 4: not valid JSON"));
        assert_eq!(seen[2], "ok a");
    }

    #[test]
    fn the_look_ahead_gives_the_next_id_when_it_is_plain() {
        let input =
            b"{\"v\":1,\"id\":\"a\"}\n{\"kind\":\"x\",\"id\":\"b2\"}\n{\"id\":\"c\\u0041\"}\n";
        let mut r = LineReader::new(&input[..]);
        let mut hints = Vec::new();
        while let Some((line, ahead)) = r.next_line_ahead().unwrap() {
            assert!(matches!(line, Line::Text(..)));
            hints.push(next_id_hint(ahead).map(str::to_owned));
        }
        // Escaped ids and the end of the input give no hint.
        assert_eq!(hints, [Some("b2".to_owned()), None, None]);
        assert_eq!(next_id_hint(b"{\"v\":1,\"id\":\"cut"), None);
    }

    #[test]
    fn overlong_lines_are_rejected_without_buffering_them() {
        let mut input = vec![b'x'; MAX_EVENT_BYTES * 3];
        input.push(b'\n');
        input.extend_from_slice(b"[1]\n");
        let mut r = LineReader::new(&input[..]);
        let first = r.next_line().unwrap().unwrap();
        assert!(matches!(first, Line::TooLong(1, n) if n == MAX_EVENT_BYTES * 3 + 1));
        let second = r.next_line().unwrap().unwrap();
        assert_eq!(
            parse_line(&second).unwrap_err().to_string(),
            "line 2: not a JSON object"
        );
    }
}
