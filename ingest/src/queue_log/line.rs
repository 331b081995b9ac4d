//! Why a `queue_log` line was skipped: one definition for every reader of
//! `queue_log` files (`wallboard ingest queue-log`, `wallboard replay --queue-log`),
//! so a line is reported the same everywhere.

use super::translate::{QueueLogError, TranslateProblem};
use wallboard_events::DeadLetterCode;

/// What was wrong with a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineProblem {
    /// Over 64 KiB, the longest line the readers take (dead-letter code
    /// `too_long`).
    #[error("{size} bytes, too long for a queue_log line")]
    TooLong {
        /// The line's length in bytes.
        size: usize,
    },
    /// Bytes that are not UTF-8 text.
    #[error("not valid UTF-8")]
    NotUtf8,
    /// The translator's reason.
    #[error("{0}")]
    Untranslatable(TranslateProblem),
}

impl LineProblem {
    /// The dead-letter code (`wallboard-code` header).
    #[must_use]
    pub fn code(&self) -> DeadLetterCode {
        match self {
            LineProblem::TooLong { .. } => DeadLetterCode::TooLong,
            LineProblem::NotUtf8 => DeadLetterCode::NotUtf8,
            LineProblem::Untranslatable(_) => DeadLetterCode::QueueLog,
        }
    }
}

/// A skipped line: its number and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct LineError {
    /// The line's number in its file, from 1.
    pub line: u64,
    /// What was wrong with it.
    pub problem: LineProblem,
}

impl From<QueueLogError> for LineError {
    fn from(e: QueueLogError) -> Self {
        LineError {
            line: e.line,
            problem: LineProblem::Untranslatable(e.reason),
        }
    }
}

/// A line's text, or why it cannot be read as one.
pub fn line_text(line: u64, bytes: &[u8]) -> Result<&str, LineError> {
    std::str::from_utf8(bytes).map_err(|_| LineError {
        line,
        problem: LineProblem::NotUtf8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_name_the_line_and_keep_the_reason_apart() {
        let e = LineError {
            line: 7,
            problem: LineProblem::TooLong { size: 70_000 },
        };
        assert_eq!(
            e.to_string(),
            "line 7: 70000 bytes, too long for a queue_log line"
        );
        assert_eq!(e.problem.code(), "too_long");
        let e = line_text(3, b"\xff").unwrap_err();
        assert_eq!(
            (e.to_string(), e.problem.code().as_str()),
            ("line 3: not valid UTF-8".into(), "not_utf8")
        );
        let e = LineError::from(QueueLogError {
            line: 2,
            reason: TranslateProblem::FieldCount(1),
        });
        assert_eq!(
            (e.to_string(), e.problem.code().as_str()),
            (
                "line 2: 1 fields, expected at least 5 (time|callid|queue|agent|event)".into(),
                "queue_log"
            )
        );
    }
}
