//! The copy of a rejected record sent to the dead-letter topic: the record
//! (truncated if it is too large for a Kafka record) and headers saying where
//! it came from and why it was rejected.

use wallboard_events::event::MAX_EVENT_BYTES;
use wallboard_events::DeadLetterCode;

use crate::Record;

/// Largest payload copied whole: every record the parser could accept fits.
/// A larger one is cut to this size (a broker refuses records over about
/// 1 MB by default, and a lost dead letter is worse than a shortened one);
/// its `wallboard-original-size` header says how large it was.
pub const MAX_DEAD_LETTER_PAYLOAD: usize = MAX_EVENT_BYTES;

/// One dead letter, ready to send (and to send again if unconfirmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Record key: the source partition number.
    pub key: String,
    /// The rejected record's value, cut to [`MAX_DEAD_LETTER_PAYLOAD`] bytes.
    pub payload: Vec<u8>,
    /// `wallboard-reason`, `-code`, `-source-partition`, `-source-offset` (and when cut `-original-size`, `-truncated`).
    pub headers: Vec<(&'static str, String)>,
}

impl DeadLetter {
    /// The dead letter of `record` of `partition`, rejected with `code` because of `reason`.
    #[must_use]
    pub fn new(partition: i32, record: Record<'_>, code: DeadLetterCode, reason: &str) -> Self {
        let size = record.payload.len();
        let kept = size.min(MAX_DEAD_LETTER_PAYLOAD);
        let mut headers = vec![
            ("wallboard-reason", reason.to_owned()),
            ("wallboard-code", code.as_str().to_owned()),
            ("wallboard-source-partition", partition.to_string()),
            ("wallboard-source-offset", record.offset.to_string()),
        ];
        if kept < size {
            headers.push(("wallboard-original-size", size.to_string()));
            headers.push((
                "wallboard-truncated",
                format!("payload cut to its first {kept} of {size} bytes"),
            ));
        }
        DeadLetter {
            key: partition.to_string(),
            payload: record.payload[..kept].to_vec(),
            headers,
        }
    }

    /// Bytes held while it waits for confirmation.
    #[must_use]
    pub fn size(&self) -> usize {
        self.payload.len()
            + self
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(d: &'a DeadLetter, name: &str) -> Option<&'a str> {
        d.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn a_record_of_a_megabyte_is_cut_and_says_so() {
        let payload = vec![b'x'; 1 << 20];
        let record = Record {
            offset: 7,
            payload: &payload,
        };
        let d = DeadLetter::new(
            2,
            record,
            DeadLetterCode::TooLarge,
            "event is 1048576 bytes",
        );
        assert_eq!(d.payload.len(), MAX_DEAD_LETTER_PAYLOAD);
        assert_eq!(header(&d, "wallboard-original-size"), Some("1048576"));
        assert_eq!(header(&d, "wallboard-code"), Some("too_large"));
        assert_eq!(header(&d, "wallboard-source-offset"), Some("7"));
        assert!(header(&d, "wallboard-truncated").is_some());
    }

    #[test]
    fn a_record_that_fits_is_copied_whole() {
        let record = Record {
            offset: 1,
            payload: b"not json",
        };
        let d = DeadLetter::new(0, record, DeadLetterCode::NotJson, "why");
        assert_eq!(d.payload, record.payload);
        assert_eq!(header(&d, "wallboard-original-size"), None);
    }
}
