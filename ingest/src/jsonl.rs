//! Reading JSON Lines of canonical events, with line numbers for every rejection.

use std::io::{self, BufRead};

use crate::event::{Event, MAX_EVENT_BYTES};
use crate::parse::{parse_event, EventError};

/// A rejected line: where it was and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {error}")]
pub struct Rejected {
    /// 1-based line number in the input.
    pub line: u64,
    pub error: EventError,
}

/// Reads lines from a buffered reader into one reusable buffer, so reading
/// does not allocate per line. Blank lines are skipped (not events).
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    line: u64,
}

/// What one call to [`LineReader::next_line`] found.
pub enum Line<'a> {
    /// A line's bytes (without the newline) and its number.
    Text(u64, &'a [u8]),
    /// A line longer than the event size limit (its bytes were discarded).
    TooLong(u64, usize),
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R) -> Self {
        LineReader {
            inner,
            buf: Vec::with_capacity(4096),
            line: 0,
        }
    }

    /// The next non-blank line, or `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        let end = loop {
            self.buf.clear();
            let (n, overflow) = read_line_limited(&mut self.inner, &mut self.buf)?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            if overflow {
                return Ok(Some(Line::TooLong(self.line, n)));
            }
            let mut end = self.buf.len();
            while end > 0 && matches!(self.buf[end - 1], b'\n' | b'\r') {
                end -= 1;
            }
            if !self.buf[..end].iter().all(u8::is_ascii_whitespace) {
                break end;
            }
        };
        Ok(Some(Line::Text(self.line, &self.buf[..end])))
    }
}

/// Reads one line into `buf`, keeping at most a little over the event limit
/// in memory; returns the line's full length and whether it was cut.
fn read_line_limited<R: BufRead>(r: &mut R, buf: &mut Vec<u8>) -> io::Result<(usize, bool)> {
    let limit = MAX_EVENT_BYTES + 2;
    let mut total = 0;
    let mut overflow = false;
    loop {
        let available = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok((total, overflow));
        }
        let (chunk, done) = match memchr(b'\n', available) {
            Some(i) => (&available[..=i], true),
            None => (available, false),
        };
        let len = chunk.len();
        if !overflow {
            if buf.len() + len <= limit {
                buf.extend_from_slice(chunk);
            } else {
                overflow = true;
                buf.clear();
            }
        }
        total += len;
        r.consume(len);
        if done {
            return Ok((total, overflow));
        }
    }
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
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
    fn overlong_lines_are_rejected_without_buffering_them() {
        let mut input = vec![b'x'; MAX_EVENT_BYTES * 3];
        input.push(b'\n');
        input.extend_from_slice(b"[1]\n");
        let mut r = LineReader::new(io::BufReader::with_capacity(1024, &input[..]));
        let first = r.next_line().unwrap().unwrap();
        assert!(matches!(first, Line::TooLong(1, n) if n == MAX_EVENT_BYTES * 3 + 1));
        let second = r.next_line().unwrap().unwrap();
        assert_eq!(
            parse_line(&second).unwrap_err().to_string(),
            "line 2: not a JSON object"
        );
    }
}
