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
    /// `too_large`: an event over 64 KiB.
    TooLarge,
    /// `not_utf8`: an event (or `queue_log` line) that is not valid UTF-8.
    NotUtf8,
    /// `not_json`: an event that is not valid JSON.
    NotJson,
    /// `not_object`: JSON, but not an object.
    NotObject,
    /// `invalid_field`: a field missing, of the wrong type or out of range
    /// (the reason names it).
    InvalidField,
    /// `duration_too_long`: a duration over one day (the reason names the
    /// field).
    DurationTooLong,
    // An event the aggregator's writer refuses for its time.
    /// `ts_out_of_range`: `ts` outside 1970 to 9999 (`docs/events.md`,
    /// "Event time limits").
    TsOutOfRange,
    /// `far_ahead`: `ts` too far ahead of the tenant's newest event.
    FarAhead,
    /// `future`: `ts` too far ahead of the server's clock (live writer).
    Future,
    /// `late`: `ts` too far behind the tenant's newest event (live writer).
    Late,
    // A queue_log line.
    /// `too_long`: a `queue_log` line over 64 KiB (copied empty).
    TooLong,
    /// `queue_log`: a `queue_log` line that does not translate (the reason
    /// says why).
    QueueLog,
    // AMI input.
    /// `ami_garbage`: bytes that are not an AMI message.
    AmiGarbage,
    /// `ami_too_large`: an AMI message over the size limit (its first bytes
    /// are copied).
    AmiTooLarge,
    /// `ami_truncated`: an AMI message cut by the end of the connection.
    AmiTruncated,
    /// `ami_invalid_event`: an AMI event that does not translate, or a
    /// message that is neither event nor response.
    AmiInvalidEvent,
    // Event-socket (FreeSWITCH) input.
    /// `esl_garbage`: bytes that are not an event-socket message.
    EslGarbage,
    /// `esl_bad_length`: a `Content-Length` that cannot be read.
    EslBadLength,
    /// `esl_too_large`: an event-socket message over the size limit.
    EslTooLarge,
    /// `esl_truncated`: an event-socket message cut by the end of the
    /// connection.
    EslTruncated,
    /// `esl_bad_event`: an event body that cannot be decoded.
    EslBadEvent,
    /// `esl_untranslatable`: a `callcenter::info` event that does not
    /// translate.
    EslUntranslatable,
    /// `esl_unexpected_reply`: a reply to no command.
    EslUnexpectedReply,
    /// `esl_no_type`: a message without `Content-Type`.
    EslNoType,
    /// `esl_unexpected_type`: a `Content-Type` the client does not handle.
    EslUnexpectedType,
    /// `esl_resync`: an agent or tier listing that cannot be read.
    EslResync,
    /// `esl_resync_row`: one row of a listing that cannot be read (the row's
    /// text is copied).
    EslResyncRow,
    // A floor message the aggregator's writer refuses.
    /// `messages_full`: a new floor message while the tenant already has the
    /// most active ones (`docs/events.md`, "Floor messages").
    MessagesFull,
    // A forecast the engine refuses (`docs/events.md`, "Forecasts").
    /// `forecast_misaligned`: a forecast off the tenant's interval grid.
    ForecastMisaligned,
    /// `forecast_too_old`: a forecast for an interval before the history kept.
    ForecastTooOld,
    /// `forecasts_full`: a forecast for a new (queue, interval) while the
    /// tenant holds the most.
    ForecastsFull,
}

impl DeadLetterCode {
    /// The code as it appears in headers and metric labels.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TooLarge => "too_large",
            Self::NotUtf8 => "not_utf8",
            Self::NotJson => "not_json",
            Self::NotObject => "not_object",
            Self::InvalidField => "invalid_field",
            Self::DurationTooLong => "duration_too_long",
            Self::TsOutOfRange => "ts_out_of_range",
            Self::FarAhead => "far_ahead",
            Self::Future => "future",
            Self::Late => "late",
            Self::TooLong => "too_long",
            Self::QueueLog => "queue_log",
            Self::AmiGarbage => "ami_garbage",
            Self::AmiTooLarge => "ami_too_large",
            Self::AmiTruncated => "ami_truncated",
            Self::AmiInvalidEvent => "ami_invalid_event",
            Self::EslGarbage => "esl_garbage",
            Self::EslBadLength => "esl_bad_length",
            Self::EslTooLarge => "esl_too_large",
            Self::EslTruncated => "esl_truncated",
            Self::EslBadEvent => "esl_bad_event",
            Self::EslUntranslatable => "esl_untranslatable",
            Self::EslUnexpectedReply => "esl_unexpected_reply",
            Self::EslNoType => "esl_no_type",
            Self::EslUnexpectedType => "esl_unexpected_type",
            Self::EslResync => "esl_resync",
            Self::EslResyncRow => "esl_resync_row",
            Self::MessagesFull => "messages_full",
            Self::ForecastMisaligned => "forecast_misaligned",
            Self::ForecastTooOld => "forecast_too_old",
            Self::ForecastsFull => "forecasts_full",
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
            ForecastMisaligned,
            ForecastTooOld,
            ForecastsFull,
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
