//! The codes of dead letters: why a record was not used, in the
//! `wallboard-code` header of its copy on the dead-letter topic (and in the
//! `reason` label of `wallboard_events_rejected_total`). One list for every
//! producer (the aggregator's writers, the `wallboard ingest` adapters), so
//! a code means one thing wherever it appears; `docs/events.md` ("Dead
//! letters") is the table for people reading the topic.

use std::fmt;

/// Why a record went to the dead letters. [`DeadLetterCode::as_str`] is its
/// wire form, stable across releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeadLetterCode {
    // A canonical event that does not parse (`EventError`).
    TooLarge,
    NotUtf8,
    NotJson,
    NotObject,
    InvalidField,
    DurationTooLong,
    // An event the aggregator's writer refuses for its time.
    TsOutOfRange,
    FarAhead,
    Future,
    Late,
    // A queue_log line.
    TooLong,
    QueueLog,
    // AMI input.
    AmiGarbage,
    AmiTooLarge,
    AmiTruncated,
    AmiInvalidEvent,
    // Event-socket (FreeSWITCH) input.
    EslGarbage,
    EslBadLength,
    EslTooLarge,
    EslTruncated,
    EslBadEvent,
    EslUntranslatable,
    EslUnexpectedReply,
    EslNoType,
    EslUnexpectedType,
    EslResync,
    EslResyncRow,
    // A floor message the aggregator's writer refuses.
    MessagesFull,
}

impl DeadLetterCode {
    /// The code as it appears in headers and metric labels.
    pub const fn as_str(self) -> &'static str {
        use DeadLetterCode::*;
        match self {
            TooLarge => "too_large",
            NotUtf8 => "not_utf8",
            NotJson => "not_json",
            NotObject => "not_object",
            InvalidField => "invalid_field",
            DurationTooLong => "duration_too_long",
            TsOutOfRange => "ts_out_of_range",
            FarAhead => "far_ahead",
            Future => "future",
            Late => "late",
            TooLong => "too_long",
            QueueLog => "queue_log",
            AmiGarbage => "ami_garbage",
            AmiTooLarge => "ami_too_large",
            AmiTruncated => "ami_truncated",
            AmiInvalidEvent => "ami_invalid_event",
            EslGarbage => "esl_garbage",
            EslBadLength => "esl_bad_length",
            EslTooLarge => "esl_too_large",
            EslTruncated => "esl_truncated",
            EslBadEvent => "esl_bad_event",
            EslUntranslatable => "esl_untranslatable",
            EslUnexpectedReply => "esl_unexpected_reply",
            EslNoType => "esl_no_type",
            EslUnexpectedType => "esl_unexpected_type",
            EslResync => "esl_resync",
            EslResyncRow => "esl_resync_row",
            MessagesFull => "messages_full",
        }
    }
}

impl fmt::Display for DeadLetterCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compared with the wire form, so tests and callers can write
/// `code == "late"`.
impl PartialEq<&str> for DeadLetterCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::DeadLetterCode;

    #[test]
    fn the_wire_forms_are_distinct_and_lower_case() {
        use DeadLetterCode::*;
        let all = [
            TooLarge,
            NotUtf8,
            NotJson,
            NotObject,
            InvalidField,
            DurationTooLong,
            TsOutOfRange,
            FarAhead,
            Future,
            Late,
            TooLong,
            QueueLog,
            AmiGarbage,
            AmiTooLarge,
            AmiTruncated,
            AmiInvalidEvent,
            EslGarbage,
            EslBadLength,
            EslTooLarge,
            EslTruncated,
            EslBadEvent,
            EslUntranslatable,
            EslUnexpectedReply,
            EslNoType,
            EslUnexpectedType,
            EslResync,
            EslResyncRow,
            MessagesFull,
        ];
        let mut seen: Vec<&str> = all.iter().map(|c| c.as_str()).collect();
        assert!(seen.iter().all(|s| s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')));
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), all.len());
        assert_eq!(Late.to_string(), "late");
    }
}
