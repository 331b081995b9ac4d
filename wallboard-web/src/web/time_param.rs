//! A point in time in a URL: Unix milliseconds (`1795399200000`) or RFC 3339
//! (`2026-11-23T10:00:00+08:00`, `2026-11-23T02:00:00Z`).

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// Unix milliseconds, from either spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TimeParam(pub i64);

/// A time parameter in neither spelling.
#[derive(Debug, thiserror::Error)]
#[error(
    "{text:?} is neither Unix milliseconds nor RFC 3339 (e.g. 2026-11-23T10:00:00+08:00): {source}"
)]
pub(super) struct TimeParamError {
    text: String,
    source: chrono::ParseError,
}

impl std::str::FromStr for TimeParam {
    type Err = TimeParamError;

    fn from_str(s: &str) -> Result<Self, TimeParamError> {
        if let Ok(ms) = s.parse::<i64>() {
            return Ok(TimeParam(ms));
        }
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| TimeParam(t.timestamp_millis()))
            .map_err(|source| TimeParamError {
                text: s.to_owned(),
                source,
            })
    }
}

impl<'de> Deserialize<'de> for TimeParam {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = TimeParam;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("Unix milliseconds or an RFC 3339 time")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<TimeParam, E> {
                s.parse().map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, ms: i64) -> Result<TimeParam, E> {
                Ok(TimeParam(ms))
            }
            fn visit_u64<E: de::Error>(self, ms: u64) -> Result<TimeParam, E> {
                i64::try_from(ms).map(TimeParam).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_give_the_same_instant() {
        let ms: TimeParam = "1795399200000".parse().unwrap();
        let local: TimeParam = "2026-11-23T10:00:00+08:00".parse().unwrap();
        let utc: TimeParam = "2026-11-23T02:00:00Z".parse().unwrap();
        assert_eq!(ms, TimeParam(1_795_399_200_000));
        assert_eq!(local, ms);
        assert_eq!(utc, ms);
        let e = "yesterday".parse::<TimeParam>().unwrap_err();
        assert!(e.to_string().contains("RFC 3339"), "{e}");
    }
}
