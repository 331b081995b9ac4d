//! `POST /ingest/v1/events`: canonical events over HTTP, for cloud ACDs and
//! custom integrations. The body is one event, a JSON array of events, or
//! JSON Lines; the answer says, per event, whether it was accepted and why
//! not. Accepted events go where the running mode's events go: the
//! in-process bus (`demo`) or the Kafka topic (`serve`).
//!
//! A request costs memory proportional to the allowed body, never to what
//! the body claims: the body is read up to `server.max_body_bytes` (within
//! `server.body_timeout_s`), its items are walked in place without building
//! a JSON tree, at most `server.max_events_per_request` are taken, and only
//! the first `server.max_rejections_listed` rejections are listed one by one.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::{IgnoredAny, SeqAccess, Visitor};
use serde::Serialize;
use serde_json::value::RawValue;

use ingest::kafka::Publisher;
use wallboard_events::parse_event;
use wallboard_pipeline::bus::Bus;

use super::error::ApiError;
use super::AppState;
use crate::config::ServerConfig;

/// Where accepted events go.
#[derive(Clone)]
pub enum IngestSink {
    /// The in-process bus (`demo`).
    Bus(Arc<Bus>),
    /// The Kafka event topic.
    Kafka {
        /// Producer of the records.
        publisher: Arc<Publisher>,
        /// Topic of canonical events.
        topic: String,
    },
}

#[derive(Serialize)]
struct Outcome {
    index: usize,
    id: Option<String>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// What a request's items came to.
#[derive(Serialize, Default)]
struct Answer {
    accepted: usize,
    rejected: usize,
    /// Every accepted event and the first `max_rejections_listed` rejected.
    results: Vec<Outcome>,
    /// Rejected events beyond `max_rejections_listed`, counted only.
    #[serde(skip_serializing_if = "is_zero")]
    rejections_not_listed: usize,
}

// serde's `skip_serializing_if` passes a reference.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Checks each item and keeps what is accepted, within the request's limits.
struct Intake<'a> {
    limits: &'a ServerConfig,
    answer: Answer,
    /// (tenant, payload) of each accepted event.
    accepted: Vec<(String, Vec<u8>)>,
}

impl<'a> Intake<'a> {
    fn new(limits: &'a ServerConfig) -> Self {
        Intake {
            limits,
            answer: Answer::default(),
            accepted: Vec::new(),
        }
    }

    fn take(&mut self, item: &[u8]) -> Result<(), ApiError> {
        let index = self.answer.accepted + self.answer.rejected;
        if index >= self.limits.max_events_per_request {
            return Err(ApiError::TooManyEvents {
                events: index + 1,
                limit: self.limits.max_events_per_request,
            });
        }
        match parse_event(item) {
            Ok(e) => {
                self.answer.accepted += 1;
                self.answer.results.push(Outcome {
                    index,
                    id: Some(e.id.to_string()),
                    status: "accepted",
                    error: None,
                });
                self.accepted.push((e.tenant.to_string(), item.to_vec()));
            }
            Err(e) => {
                self.answer.rejected += 1;
                if self.answer.rejected > self.limits.max_rejections_listed {
                    self.answer.rejections_not_listed += 1;
                } else {
                    self.answer.results.push(Outcome {
                        index,
                        id: None,
                        status: "rejected",
                        error: Some(e.to_string()),
                    });
                }
            }
        }
        Ok(())
    }
}

/// Walks the items of a body: a JSON array's elements, one JSON object, or
/// lines; stops at the first error of `each`.
fn for_each_item(
    body: &[u8],
    mut each: impl FnMut(&[u8]) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let trimmed = body.trim_ascii();
    if trimmed.starts_with(b"[") {
        return for_each_element(trimmed, &mut each);
    }
    if trimmed.starts_with(b"{") && serde_json::from_slice::<IgnoredAny>(trimmed).is_ok() {
        return each(trimmed);
    }
    trimmed
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty())
        .try_for_each(each)
}

/// The elements of a JSON array, borrowed from the body one at a time.
fn for_each_element(
    array: &[u8],
    each: &mut dyn FnMut(&[u8]) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    struct Elements<'f> {
        each: &'f mut dyn FnMut(&[u8]) -> Result<(), ApiError>,
        stopped: &'f mut Option<ApiError>,
    }
    impl<'de> Visitor<'de> for Elements<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON array of events")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(raw) = seq.next_element::<&'de RawValue>()? {
                if let Err(e) = (self.each)(raw.get().as_bytes()) {
                    *self.stopped = Some(e);
                    return Err(serde::de::Error::custom("stopped"));
                }
            }
            Ok(())
        }
    }
    let mut stopped = None;
    let mut de = serde_json::Deserializer::from_slice(array);
    let walked = serde::Deserializer::deserialize_seq(
        &mut de,
        Elements {
            each,
            stopped: &mut stopped,
        },
    )
    .and_then(|()| de.end());
    match (stopped, walked) {
        (Some(e), _) => Err(e),
        (None, Err(e)) => Err(ApiError::BadBody(format!("not a JSON array: {e}"))),
        (None, Ok(())) => Ok(()),
    }
}

/// The sink of this mode's events; `ApiError::Unavailable` with `no_sink`
/// (what this mode does not take) when it has none.
pub(super) fn sink_of(s: &AppState, no_sink: &str) -> Result<IngestSink, ApiError> {
    s.ingest
        .clone()
        .ok_or_else(|| ApiError::Unavailable(no_sink.to_owned()))
}

/// The prelude of a route that turns its body into events: the sink
/// (`sink_of`), then the body within `server.max_body_bytes` and
/// `server.body_timeout_s`.
pub(super) async fn sink_and_body(
    s: &AppState,
    body: Body,
    no_sink: &str,
) -> Result<(IngestSink, Vec<u8>), ApiError> {
    let sink = sink_of(s, no_sink)?;
    let limits = &s.config.server;
    let timeout = Duration::from_secs(limits.body_timeout_s);
    Ok((sink, read_body(body, limits.max_body_bytes, timeout).await?))
}

/// The body, up to `limit` bytes and within `timeout`.
async fn read_body(body: Body, limit: usize, timeout: Duration) -> Result<Vec<u8>, ApiError> {
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
        Err(_) => Err(ApiError::BodyTimeout(timeout.as_secs())),
        Ok(Err(_)) => Err(ApiError::PayloadTooLarge { limit }),
        Ok(Ok(b)) => Ok(b.into()),
    }
}

/// Sends the accepted events where this mode's events go.
pub(super) async fn store(
    sink: IngestSink,
    accepted: Vec<(String, Vec<u8>)>,
) -> Result<(), ApiError> {
    let sent = tokio::task::spawn_blocking(move || -> Result<(), NotStored> {
        match sink {
            IngestSink::Bus(bus) => Ok(bus.send(accepted.into_iter().map(|(_, p)| p).collect())?),
            IngestSink::Kafka { publisher, topic } => {
                for (tenant, payload) in &accepted {
                    publisher.send(&topic, tenant, payload, &[])?;
                }
                Ok(publisher.flush(Duration::from_secs(10))?)
            }
        }
    })
    .await;
    sent.map_err(NotStored::from)
        .and_then(|r| r)
        .map_err(|e| ApiError::Unavailable(format!("events not stored: {e}")))
}

/// Why accepted events did not reach the bus or the topic.
#[derive(Debug, thiserror::Error)]
enum NotStored {
    #[error(transparent)]
    Bus(#[from] wallboard_pipeline::bus::WriterStopped),
    #[error(transparent)]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error(transparent)]
    Task(#[from] tokio::task::JoinError),
}

pub(super) async fn events(State(s): State<AppState>, body: Body) -> Result<Response, ApiError> {
    let (sink, body) = sink_and_body(&s, body, "this mode takes no events over HTTP").await?;
    let mut intake = Intake::new(&s.config.server);
    for_each_item(&body, |item| intake.take(item))?;
    drop(body);
    let Intake {
        answer, accepted, ..
    } = intake;
    if !accepted.is_empty() {
        store(sink, accepted).await?;
    }
    let status = if answer.accepted == 0 && answer.rejected > 0 {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, Json(answer)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(body: &str) -> Result<Vec<String>, ApiError> {
        let mut out = vec![];
        for_each_item(body.as_bytes(), |i| {
            out.push(String::from_utf8(i.to_vec()).unwrap());
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn arrays_objects_and_lines_are_walked_in_place() {
        assert_eq!(
            items(r#" [ {"a":1}, {"b":[2]} ] "#).unwrap(),
            [r#"{"a":1}"#, r#"{"b":[2]}"#]
        );
        assert_eq!(items("{\n\"a\": 1\n}").unwrap(), ["{\n\"a\": 1\n}"]);
        assert_eq!(
            items("{\"a\":1}\n\n{\"b\":2}\n").unwrap(),
            [r#"{"a":1}"#, r#"{"b":2}"#]
        );
        let e = items("[1, 2").unwrap_err();
        assert!(e.to_string().contains("not a JSON array"), "{e}");
    }

    #[test]
    fn the_walk_stops_at_the_events_limit() {
        let limits = ServerConfig {
            max_events_per_request: 3,
            ..Default::default()
        };
        let mut intake = Intake::new(&limits);
        let e = for_each_item(b"[1,2,3,4,5,6]", |i| intake.take(i)).unwrap_err();
        assert!(
            matches!(
                e,
                ApiError::TooManyEvents {
                    events: 4,
                    limit: 3
                }
            ),
            "{e}"
        );
        assert_eq!(intake.answer.rejected, 3);
    }
}
