//! Parsing and strict validation of one canonical event from JSON.
//!
//! The JSON is read in one pass into loosely typed fields (borrowing strings
//! from the input), then every field is checked against `events.md`, so a
//! rejection always names the field and the reason. Unknown fields are skipped
//! without being materialised.
//!
//! Two readers fill the fields: `fast` for the flat shape nearly every
//! event has, and `serde_json` for everything else, including every input
//! that is not valid JSON (the fast reader gives up rather than reject), so
//! both give the same fields and the same errors.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::dead_letter::DeadLetterCode;
use crate::event::{
    AgentState, BlockedReason, DequeueReason, Event, EventBody, FloorMessage, Kind, MessageAction,
    MessagePost, ScheduleSegment, Severity, TimestampMs, Upstream, DEFAULT_TENANT, MAX_DURATION_MS,
    MAX_EVENT_BYTES, MAX_MESSAGE_QUEUES, MAX_MESSAGE_TEXT, MAX_MESSAGE_TTL_MS, SCHEMA_VERSION,
    TS_LIMIT_MS,
};
use crate::event::{Forecast, MAX_FORECAST_AGENTS, MAX_FORECAST_AHT_S, MAX_FORECAST_CALLS};

/// Why an event was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EventError {
    /// Larger than [`MAX_EVENT_BYTES`] (`too_large`).
    #[error("event is {size} bytes, over the {MAX_EVENT_BYTES}-byte limit")]
    TooLarge {
        /// Size of the event, bytes.
        size: usize,
    },
    /// The input is not valid UTF-8 (`not_utf8`).
    #[error("not valid UTF-8")]
    NotUtf8,
    /// The input is not valid JSON (`not_json`); the parser's message.
    #[error("not valid JSON: {0}")]
    Json(String),
    /// Valid JSON, but not an object (`not_object`).
    #[error("not a JSON object")]
    NotObject,
    /// A field is missing, of the wrong type or out of its range (`invalid_field`).
    #[error("field `{field}`: {reason}")]
    Field {
        /// Name of the field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A duration over [`MAX_DURATION_MS`] or too large for 64 bits (`duration_too_long`).
    #[error(
        "field `{field}`: {ms} ms is longer than a call can last ({MAX_DURATION_MS} ms, one day)"
    )]
    DurationTooLong {
        /// Name of the duration field.
        field: &'static str,
        /// The value given, milliseconds.
        ms: u64,
    },
}

impl EventError {
    /// Every code [`EventError::code`] gives.
    pub const CODES: &'static [DeadLetterCode] = &[
        DeadLetterCode::TooLarge,
        DeadLetterCode::NotUtf8,
        DeadLetterCode::NotJson,
        DeadLetterCode::NotObject,
        DeadLetterCode::InvalidField,
        DeadLetterCode::DurationTooLong,
    ];

    /// A short stable code for counters and dead-letter headers.
    #[must_use]
    pub fn code(&self) -> DeadLetterCode {
        match self {
            EventError::TooLarge { .. } => DeadLetterCode::TooLarge,
            EventError::NotUtf8 => DeadLetterCode::NotUtf8,
            EventError::Json(_) => DeadLetterCode::NotJson,
            EventError::NotObject => DeadLetterCode::NotObject,
            EventError::Field { .. } => DeadLetterCode::InvalidField,
            EventError::DurationTooLong { .. } => DeadLetterCode::DurationTooLong,
        }
    }

    /// The field at fault, if the error is about one.
    #[must_use]
    pub fn field(&self) -> Option<&'static str> {
        match self {
            EventError::Field { field, .. } | EventError::DurationTooLong { field, .. } => {
                Some(field)
            }
            _ => None,
        }
    }

    fn field_err(field: &'static str, reason: impl Into<String>) -> Self {
        EventError::Field {
            field,
            reason: reason.into(),
        }
    }
}

/// Parses and validates one event from its JSON bytes.
pub fn parse_event(bytes: &[u8]) -> Result<Event<'_>, EventError> {
    if bytes.len() > MAX_EVENT_BYTES {
        return Err(EventError::TooLarge { size: bytes.len() });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| EventError::NotUtf8)?;
    parse_event_str(text)
}

/// Parses and validates one event from a JSON string.
pub fn parse_event_str(text: &str) -> Result<Event<'_>, EventError> {
    if text.len() > MAX_EVENT_BYTES {
        return Err(EventError::TooLarge { size: text.len() });
    }
    // The raw fields are filled in place: the struct is large, and moving it
    // around per event shows in profiles.
    let mut raw = RawEvent::default();
    if !fast::fill(text, &mut raw) {
        // Not the common shape: serde_json reads it, and names what is wrong.
        raw = RawEvent::default();
        read_with_serde(text, &mut raw)?;
    }
    raw.validate()
}

/// [`parse_event_str`] without the fast reader: what it is checked against.
#[cfg(test)]
fn parse_event_str_with_serde(text: &str) -> Result<Event<'_>, EventError> {
    if text.len() > MAX_EVENT_BYTES {
        return Err(EventError::TooLarge { size: text.len() });
    }
    let mut raw = RawEvent::default();
    read_with_serde(text, &mut raw)?;
    raw.validate()
}

/// Reads the known fields of the event object in `text` into `raw` with
/// `serde_json`: any JSON, and the error for what is not an event object.
fn read_with_serde<'a>(text: &'a str, raw: &mut RawEvent<'a>) -> Result<(), EventError> {
    let mut de = serde_json::Deserializer::from_str(text);
    FillRaw(raw)
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| match e.classify() {
            serde_json::error::Category::Data => classify_data_error(&e),
            _ => EventError::Json(e.to_string()),
        })
}

fn classify_data_error(e: &serde_json::Error) -> EventError {
    let msg = e.to_string();
    if let Some(rest) = msg.strip_prefix(DUP_PREFIX) {
        let field = rest.split('`').next().unwrap_or_default();
        if let Some(&f) = KNOWN_FIELDS.iter().find(|f| **f == field) {
            return EventError::field_err(f, "appears more than once");
        }
    }
    if msg.starts_with("invalid type") {
        return EventError::NotObject;
    }
    EventError::Json(msg)
}

const DUP_PREFIX: &str = "duplicate field `";

const KNOWN_FIELDS: &[&str] = &[
    "v",
    "id",
    "ts",
    "tenant",
    "kind",
    "source",
    "call",
    "queue",
    "agent",
    "priority",
    "wait_ms",
    "reason",
    "talk_ms",
    "hold_ms",
    "acw_ms",
    "transferred",
    "state",
    "queues",
    "from_ms",
    "to_ms",
    "segments",
    "upstream",
    "action",
    "message",
    "text",
    "severity",
    "expires_ms",
    "caller",
    "score",
    "scale_min",
    "scale_max",
    "comment",
    "evaluator",
    "fatal",
    // `forecast` (`events.md`, "Forecasts").
    "start_ms",
    "interval_minutes",
    "calls",
    "aht_s",
    "required_agents",
    "scheduled_agents",
    "version",
];

/// The fields this version knows, in the order of [`KNOWN_FIELDS`].
#[derive(Debug, Clone, Copy)]
enum F {
    V,
    Id,
    Ts,
    Tenant,
    Kind,
    Source,
    Call,
    Queue,
    Agent,
    Priority,
    WaitMs,
    Reason,
    TalkMs,
    HoldMs,
    AcwMs,
    Transferred,
    State,
    Queues,
    FromMs,
    ToMs,
    Segments,
    Upstream,
    Action,
    Message,
    Text,
    Severity,
    ExpiresMs,
    Caller,
    Score,
    ScaleMin,
    ScaleMax,
    Comment,
    Evaluator,
    Fatal,
    StartMs,
    IntervalMinutes,
    Calls,
    AhtS,
    RequiredAgents,
    ScheduledAgents,
    Version,
}

impl F {
    fn of(key: &str) -> Option<F> {
        Some(match key {
            "v" => F::V,
            "id" => F::Id,
            "ts" => F::Ts,
            "tenant" => F::Tenant,
            "kind" => F::Kind,
            "source" => F::Source,
            "call" => F::Call,
            "queue" => F::Queue,
            "agent" => F::Agent,
            "priority" => F::Priority,
            "wait_ms" => F::WaitMs,
            "reason" => F::Reason,
            "talk_ms" => F::TalkMs,
            "hold_ms" => F::HoldMs,
            "acw_ms" => F::AcwMs,
            "transferred" => F::Transferred,
            "state" => F::State,
            "queues" => F::Queues,
            "from_ms" => F::FromMs,
            "to_ms" => F::ToMs,
            "segments" => F::Segments,
            "upstream" => F::Upstream,
            "action" => F::Action,
            "message" => F::Message,
            "text" => F::Text,
            "severity" => F::Severity,
            "expires_ms" => F::ExpiresMs,
            "caller" => F::Caller,
            "score" => F::Score,
            "scale_min" => F::ScaleMin,
            "scale_max" => F::ScaleMax,
            "comment" => F::Comment,
            "evaluator" => F::Evaluator,
            "fatal" => F::Fatal,
            "start_ms" => F::StartMs,
            "interval_minutes" => F::IntervalMinutes,
            "calls" => F::Calls,
            "aht_s" => F::AhtS,
            "required_agents" => F::RequiredAgents,
            "scheduled_agents" => F::ScheduledAgents,
            "version" => F::Version,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        KNOWN_FIELDS[self as usize]
    }
}

/// Any JSON value, with strings borrowed where possible.
#[derive(Debug)]
enum Loose<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(Cow<'a, str>),
    Array(Vec<Loose<'a>>),
    Object(Vec<(Cow<'a, str>, Loose<'a>)>),
}

impl Loose<'_> {
    fn type_name(&self) -> &'static str {
        match self {
            Loose::Null => "null",
            Loose::Bool(_) => "a boolean",
            Loose::Int(_) | Loose::UInt(_) => "an integer",
            Loose::Float(_) => "a fractional number",
            Loose::Str(_) => "a string",
            Loose::Array(_) => "an array",
            Loose::Object(_) => "an object",
        }
    }
}

impl<'de> Deserialize<'de> for Loose<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LooseVisitor)
    }
}

struct LooseVisitor;

impl<'de> Visitor<'de> for LooseVisitor {
    type Value = Loose<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Loose::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Loose::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Loose::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => Loose::Int(i),
            Err(_) => Loose::UInt(v),
        })
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Loose::Float(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Owned(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Loose::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Vec::new();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let value = map.next_value()?;
            fields.push((key, value));
        }
        Ok(Loose::Object(fields))
    }
}

/// The known fields of an event, as found in the JSON, not yet checked.
struct RawEvent<'a> {
    fields: [Option<Loose<'a>>; KNOWN_FIELDS.len()],
}

// By hand: `Default` is derived for arrays of at most 32 elements only.
impl Default for RawEvent<'_> {
    fn default() -> Self {
        RawEvent {
            fields: std::array::from_fn(|_| None),
        }
    }
}

/// Reads an event object's known fields into a [`RawEvent`].
struct FillRaw<'r, 'de>(&'r mut RawEvent<'de>);

impl<'de> DeserializeSeed<'de> for FillRaw<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FillRaw<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let raw = self.0;
        while let Some(FieldKey(key)) = map.next_key::<FieldKey>()? {
            match key.map(|f| f as usize) {
                Some(i) => {
                    if raw.fields[i].is_some() {
                        return Err(de::Error::custom(format_args!(
                            "{DUP_PREFIX}{}`",
                            KNOWN_FIELDS[i]
                        )));
                    }
                    raw.fields[i] = Some(map.next_value()?);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// An object key, matched against the known fields as it is read: keys
/// are never materialised (serde's `Cow<str>` would allocate each one).
struct FieldKey(Option<F>);

impl<'de> Deserialize<'de> for FieldKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_identifier(FieldKeyVisitor)
    }
}

struct FieldKeyVisitor;

impl Visitor<'_> for FieldKeyVisitor {
    type Value = FieldKey;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E>(self, v: &str) -> Result<FieldKey, E> {
        Ok(FieldKey(F::of(v)))
    }
}

/// Identifier length limits.
const MAX_ID: usize = 128;
const MAX_TENANT: usize = 64;
const MAX_SOURCE: usize = 64;

type Res<T> = Result<T, EventError>;

mod fast;
mod quality;

impl<'a> RawEvent<'a> {
    fn take(&mut self, f: F) -> Option<Loose<'a>> {
        self.fields[f as usize].take()
    }

    fn required(&mut self, f: F) -> Res<Loose<'a>> {
        match self.take(f) {
            None | Some(Loose::Null) => Err(EventError::field_err(f.name(), "is required")),
            Some(v) => Ok(v),
        }
    }

    fn optional(&mut self, f: F) -> Option<Loose<'a>> {
        match self.take(f) {
            None | Some(Loose::Null) => None,
            Some(v) => Some(v),
        }
    }

    fn validate(&mut self) -> Res<Event<'a>> {
        let v = int(self.required(F::V)?, "v")?;
        if v != SCHEMA_VERSION {
            return Err(EventError::field_err(
                "v",
                format!("unsupported schema version {v} (this build reads {SCHEMA_VERSION})"),
            ));
        }
        let id = string(self.required(F::Id)?, "id", 1, MAX_ID)?;
        let ts = timestamp(self.required(F::Ts)?, "ts")?;
        let tenant = match self.optional(F::Tenant) {
            Some(t) => ident(t, "tenant", MAX_TENANT)?,
            None => Cow::Borrowed(DEFAULT_TENANT),
        };
        let kind_text = string(self.required(F::Kind)?, "kind", 1, usize::MAX)?;
        let kind = Kind::from_str(&kind_text).ok_or_else(|| {
            EventError::field_err("kind", format!("unknown kind {:?}", truncate(&kind_text)))
        })?;
        let source = self
            .optional(F::Source)
            .map(|s| string(s, "source", 0, MAX_SOURCE))
            .transpose()?;
        if kind == Kind::Heartbeat {
            match &source {
                None => {
                    return Err(EventError::field_err(
                        "source",
                        "is required on a heartbeat",
                    ))
                }
                Some(s) if s.is_empty() || has_control(s) => {
                    return Err(EventError::field_err(
                        "source",
                        "must be 1..64 characters without control characters on a heartbeat",
                    ))
                }
                Some(_) => {}
            }
        }
        let body = self.body(kind, ts)?;
        Ok(Event {
            v,
            id,
            ts,
            tenant,
            source,
            body,
        })
    }

    fn id_field(&mut self, f: F) -> Res<Cow<'a, str>> {
        ident(self.required(f)?, f.name(), MAX_ID)
    }

    fn opt_ms(&mut self, f: F) -> Res<Option<u64>> {
        self.optional(f).map(|v| duration(v, f.name())).transpose()
    }

    fn body(&mut self, kind: Kind, ts: TimestampMs) -> Res<EventBody<'a>> {
        Ok(match kind {
            Kind::CallQueued => EventBody::CallQueued {
                call: self.id_field(F::Call)?,
                queue: self.id_field(F::Queue)?,
                priority: self
                    .optional(F::Priority)
                    .map(|p| int(p, "priority"))
                    .transpose()?,
                caller: self.opt_id(F::Caller)?,
            },
            Kind::CallAnswered => EventBody::CallAnswered {
                call: self.id_field(F::Call)?,
                queue: self.id_field(F::Queue)?,
                agent: self.id_field(F::Agent)?,
                wait_ms: self.opt_ms(F::WaitMs)?,
            },
            Kind::CallAbandoned => EventBody::CallAbandoned {
                call: self.id_field(F::Call)?,
                queue: self.id_field(F::Queue)?,
                wait_ms: self.opt_ms(F::WaitMs)?,
            },
            Kind::CallDequeued => self.call_dequeued()?,
            Kind::CallBlocked => self.call_blocked()?,
            Kind::CallCompleted => self.call_completed()?,
            Kind::AgentState => self.agent_state()?,
            Kind::AgentQueues => {
                let agent = self.id_field(F::Agent)?;
                let queues = match self.required(F::Queues)? {
                    Loose::Array(items) => items
                        .into_iter()
                        .map(|q| ident(q, "queues", MAX_ID))
                        .collect::<Res<Vec<_>>>()?,
                    other => return Err(wrong_type("queues", "an array of queue names", &other)),
                };
                EventBody::AgentQueues { agent, queues }
            }
            Kind::Schedule => self.schedule()?,
            Kind::Heartbeat => {
                let text = string(self.required(F::Upstream)?, "upstream", 1, usize::MAX)?;
                let upstream = Upstream::from_str(&text).ok_or_else(|| {
                    EventError::field_err(
                        "upstream",
                        format!(
                            "unknown upstream {:?} (expected up or down)",
                            truncate(&text)
                        ),
                    )
                })?;
                EventBody::Heartbeat { upstream }
            }
            Kind::FloorMessage => EventBody::FloorMessage(self.floor_message(ts)?),
            Kind::SurveyResult => EventBody::SurveyResult(self.survey_result()?),
            Kind::QualityEvaluation => EventBody::QualityEvaluation(self.quality_evaluation()?),
            Kind::Forecast => EventBody::Forecast(self.forecast()?),
        })
    }

    /// A `floor_message` body (`events.md`, "Floor messages").
    fn floor_message(&mut self, ts: TimestampMs) -> Res<FloorMessage<'a>> {
        let message = self.id_field(F::Message)?;
        let action = string(self.required(F::Action)?, "action", 1, usize::MAX)?;
        let action = match &*action {
            "post" => MessageAction::Post(self.message_post(ts)?),
            "delete" => MessageAction::Delete,
            other => {
                return Err(EventError::field_err(
                    "action",
                    format!(
                        "unknown action {:?} (expected post or delete)",
                        truncate(other)
                    ),
                ))
            }
        };
        Ok(FloorMessage { message, action })
    }

    fn message_post(&mut self, ts: TimestampMs) -> Res<MessagePost<'a>> {
        let text = ident(self.required(F::Text)?, "text", MAX_MESSAGE_TEXT)?;
        let severity_text = string(self.required(F::Severity)?, "severity", 1, usize::MAX)?;
        let severity = Severity::from_str(&severity_text).ok_or_else(|| {
            EventError::field_err(
                "severity",
                format!(
                    "unknown severity {:?} (expected one of {})",
                    truncate(&severity_text),
                    list(Severity::ALL.iter().map(|s| s.as_str()))
                ),
            )
        })?;
        let expires_ms = timestamp(self.required(F::ExpiresMs)?, "expires_ms")?;
        check_expiry(ts, expires_ms)?;
        let queues = match self.optional(F::Queues) {
            None => Vec::new(),
            Some(Loose::Array(items)) if items.len() > MAX_MESSAGE_QUEUES => {
                return Err(EventError::field_err(
                    "queues",
                    format!(
                        "names {} queues, more than {MAX_MESSAGE_QUEUES}",
                        items.len()
                    ),
                ))
            }
            Some(Loose::Array(items)) => items
                .into_iter()
                .map(|q| ident(q, "queues", MAX_ID))
                .collect::<Res<Vec<_>>>()?,
            Some(other) => return Err(wrong_type("queues", "an array of queue names", &other)),
        };
        Ok(MessagePost {
            text,
            severity,
            expires_ms,
            queues,
        })
    }
}

/// A floor message expires after it is posted, within
/// [`MAX_MESSAGE_TTL_MS`].
fn check_expiry(ts: TimestampMs, expires_ms: TimestampMs) -> Res<()> {
    if expires_ms <= ts {
        return Err(EventError::field_err(
            "expires_ms",
            format!("{expires_ms} is not after ts {ts}"),
        ));
    }
    if expires_ms - ts > MAX_MESSAGE_TTL_MS {
        return Err(EventError::field_err(
            "expires_ms",
            format!(
                "is {} ms after ts, more than {MAX_MESSAGE_TTL_MS} (7 days)",
                expires_ms - ts
            ),
        ));
    }
    Ok(())
}

impl<'a> RawEvent<'a> {
    /// A `call_dequeued` body: the call, its queue and why it left.
    fn call_dequeued(&mut self) -> Res<EventBody<'a>> {
        let call = self.id_field(F::Call)?;
        let queue = self.id_field(F::Queue)?;
        let reason_text = string(self.required(F::Reason)?, "reason", 1, usize::MAX)?;
        let reason = DequeueReason::from_str(&reason_text).ok_or_else(|| {
            EventError::field_err(
                "reason",
                format!(
                    "unknown dequeue reason {:?} (expected one of {})",
                    truncate(&reason_text),
                    list(DequeueReason::ALL.iter().map(|r| r.as_str()))
                ),
            )
        })?;
        Ok(EventBody::CallDequeued {
            call,
            queue,
            reason,
            wait_ms: self.opt_ms(F::WaitMs)?,
        })
    }

    /// A `call_completed` body; `hold_ms` may not exceed `talk_ms`.
    fn call_completed(&mut self) -> Res<EventBody<'a>> {
        let call = self.id_field(F::Call)?;
        let queue = self.id_field(F::Queue)?;
        let agent = self.id_field(F::Agent)?;
        let talk_ms = duration(self.required(F::TalkMs)?, "talk_ms")?;
        let hold_ms = self.opt_ms(F::HoldMs)?.unwrap_or(0);
        if hold_ms > talk_ms {
            return Err(EventError::field_err(
                "hold_ms",
                format!("{hold_ms} is more than talk_ms {talk_ms} (talk includes hold)"),
            ));
        }
        let acw_ms = self.opt_ms(F::AcwMs)?.unwrap_or(0);
        let transferred = match self.optional(F::Transferred) {
            None => false,
            Some(Loose::Bool(b)) => b,
            Some(other) => return Err(wrong_type("transferred", "a boolean", &other)),
        };
        Ok(EventBody::CallCompleted {
            call,
            queue,
            agent,
            talk_ms,
            hold_ms,
            acw_ms,
            transferred,
        })
    }

    /// An `agent_state` body: the state entered, with its reason and call.
    fn agent_state(&mut self) -> Res<EventBody<'a>> {
        let agent = self.id_field(F::Agent)?;
        let state_text = string(self.required(F::State)?, "state", 1, usize::MAX)?;
        let state = AgentState::from_str(&state_text).ok_or_else(|| {
            EventError::field_err(
                "state",
                format!(
                    "unknown agent state {:?} (expected one of {})",
                    truncate(&state_text),
                    list(AgentState::ALL.iter().map(|s| s.as_str()))
                ),
            )
        })?;
        let reason = self
            .optional(F::Reason)
            .map(|r| ident(r, "reason", MAX_ID))
            .transpose()?;
        let call = self
            .optional(F::Call)
            .map(|c| ident(c, "call", MAX_ID))
            .transpose()?;
        Ok(EventBody::AgentState {
            agent,
            state,
            reason,
            call,
        })
    }

    /// A `schedule` body; its segments lie inside `[from_ms, to_ms)` without overlapping.
    fn schedule(&mut self) -> Res<EventBody<'a>> {
        let agent = self.id_field(F::Agent)?;
        let from_ms = timestamp(self.required(F::FromMs)?, "from_ms")?;
        let to_ms = timestamp(self.required(F::ToMs)?, "to_ms")?;
        if to_ms <= from_ms {
            return Err(EventError::field_err(
                "to_ms",
                format!("{to_ms} is not after from_ms {from_ms}"),
            ));
        }
        let segments = match self.required(F::Segments)? {
            Loose::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, s)| segment(i, s, from_ms, to_ms))
                .collect::<Res<Vec<_>>>()?,
            other => return Err(wrong_type("segments", "an array of segments", &other)),
        };
        let mut sorted: Vec<_> = segments.iter().map(|s| (s.start_ms, s.end_ms)).collect();
        sorted.sort_unstable();
        if sorted.windows(2).any(|w| w[1].0 < w[0].1) {
            return Err(EventError::field_err("segments", "segments overlap"));
        }
        Ok(EventBody::Schedule {
            agent,
            from_ms,
            to_ms,
            segments,
        })
    }

    fn call_blocked(&mut self) -> Res<EventBody<'a>> {
        let call = self.id_field(F::Call)?;
        let queue = self.id_field(F::Queue)?;
        let text = string(self.required(F::Reason)?, "reason", 1, usize::MAX)?;
        let reason = BlockedReason::from_str(&text).ok_or_else(|| {
            EventError::field_err(
                "reason",
                format!(
                    "unknown blocked reason {:?} (expected one of {})",
                    truncate(&text),
                    list(BlockedReason::ALL.iter().map(|r| r.as_str()))
                ),
            )
        })?;
        Ok(EventBody::CallBlocked {
            call,
            queue,
            reason,
        })
    }
}

/// The interval lengths a forecast may have (those of `metrics.interval_minutes`).
pub const FORECAST_INTERVALS: [u32; 6] = [5, 10, 15, 20, 30, 60];

impl<'a> RawEvent<'a> {
    /// A `forecast` body (`events.md`, "Forecasts"); the engine checks
    /// it against the tenant's interval grid.
    fn forecast(&mut self) -> Res<Forecast<'a>> {
        let queue = self.id_field(F::Queue)?;
        let start_ms = timestamp(self.required(F::StartMs)?, "start_ms")?;
        let minutes = int(self.required(F::IntervalMinutes)?, "interval_minutes")?;
        let interval_minutes = u32::try_from(minutes)
            .ok()
            .filter(|m| FORECAST_INTERVALS.contains(m))
            .ok_or_else(|| {
                EventError::field_err(
                    "interval_minutes",
                    format!("{minutes} is not one of 5, 10, 15, 20, 30, 60"),
                )
            })?;
        let calls = amount(self.required(F::Calls)?, "calls", MAX_FORECAST_CALLS)?;
        let aht_s = amount(self.required(F::AhtS)?, "aht_s", MAX_FORECAST_AHT_S)?;
        let agents = |raw: &mut Self, f: F| {
            raw.optional(f)
                .map(|v| amount(v, f.name(), MAX_FORECAST_AGENTS))
                .transpose()
        };
        let required_agents = agents(self, F::RequiredAgents)?;
        let scheduled_agents = agents(self, F::ScheduledAgents)?;
        let version = self
            .optional(F::Version)
            .map(|v| ident(v, "version", MAX_ID))
            .transpose()?;
        Ok(Forecast {
            queue,
            start_ms,
            interval_minutes,
            calls,
            aht_s,
            required_agents,
            scheduled_agents,
            version,
        })
    }
}

/// A non-negative number (fractions allowed) of at most `max`.
fn amount(v: Loose<'_>, field: &'static str, max: f64) -> Res<f64> {
    #[allow(clippy::cast_precision_loss)] // Any integer over `max` is refused anyway.
    let x = match v {
        Loose::Int(i) => i as f64,
        Loose::UInt(u) => u as f64,
        Loose::Float(f) => f,
        other => return Err(wrong_type(field, "a number", &other)),
    };
    if !x.is_finite() || x < 0.0 {
        return Err(EventError::field_err(field, format!("{x} is negative")));
    }
    if x > max {
        return Err(EventError::field_err(
            field,
            format!("{x} is more than {max}"),
        ));
    }
    Ok(x)
}

fn segment(
    index: usize,
    value: Loose<'_>,
    from_ms: TimestampMs,
    to_ms: TimestampMs,
) -> Res<ScheduleSegment<'_>> {
    let Loose::Object(fields) = value else {
        return Err(wrong_type("segments", "an array of objects", &value));
    };
    let (mut start, mut end, mut activity) = (None, None, None);
    for (k, v) in fields {
        match &*k {
            "start_ms" => start = Some(v),
            "end_ms" => end = Some(v),
            "activity" => activity = Some(v),
            _ => {}
        }
    }
    let at = |what: &str| format!("segment {index}: {what}");
    let start_ms = match start {
        Some(v) => timestamp(v, "segments").map_err(|e| reword(e, &at("start_ms")))?,
        None => {
            return Err(EventError::field_err(
                "segments",
                at("start_ms is required"),
            ))
        }
    };
    let end_ms = match end {
        Some(v) => timestamp(v, "segments").map_err(|e| reword(e, &at("end_ms")))?,
        None => return Err(EventError::field_err("segments", at("end_ms is required"))),
    };
    let activity = match activity {
        Some(v) => ident(v, "segments", MAX_ID).map_err(|e| reword(e, &at("activity")))?,
        None => {
            return Err(EventError::field_err(
                "segments",
                at("activity is required"),
            ))
        }
    };
    if end_ms <= start_ms {
        return Err(EventError::field_err(
            "segments",
            at(&format!("end_ms {end_ms} is not after start_ms {start_ms}")),
        ));
    }
    if start_ms < from_ms || end_ms > to_ms {
        return Err(EventError::field_err(
            "segments",
            at("lies outside [from_ms, to_ms)"),
        ));
    }
    Ok(ScheduleSegment {
        start_ms,
        end_ms,
        activity,
    })
}

fn reword(e: EventError, prefix: &str) -> EventError {
    match e {
        EventError::Field { field, reason } => EventError::Field {
            field,
            reason: format!("{prefix} {reason}"),
        },
        other => other,
    }
}

fn wrong_type(field: &'static str, expected: &str, got: &Loose<'_>) -> EventError {
    EventError::field_err(
        field,
        format!("expected {expected}, got {}", got.type_name()),
    )
}

fn int(v: Loose<'_>, field: &'static str) -> Res<i64> {
    match v {
        Loose::Int(i) => Ok(i),
        Loose::UInt(u) => Err(EventError::field_err(field, format!("{u} is too large"))),
        other => Err(wrong_type(field, "an integer", &other)),
    }
}

/// Unix epoch milliseconds: not negative, before year 10000.
fn timestamp(v: Loose<'_>, field: &'static str) -> Res<TimestampMs> {
    let t = int(v, field).map_err(|e| match e {
        EventError::Field { field, reason } => EventError::Field {
            field,
            reason: format!("{reason} (Unix epoch milliseconds)"),
        },
        other => other,
    })?;
    if !(0..TS_LIMIT_MS).contains(&t) {
        return Err(EventError::field_err(
            field,
            format!("{t} is not a Unix epoch millisecond time between 1970 and 9999"),
        ));
    }
    Ok(t)
}

/// A duration in milliseconds: an integer, not negative, at most
/// [`MAX_DURATION_MS`].
fn duration(v: Loose<'_>, field: &'static str) -> Res<u64> {
    let d = match v {
        // Too large for an i64 is too long for a call, not a type error.
        Loose::UInt(u) => return Err(EventError::DurationTooLong { field, ms: u }),
        v => int(v, field)?,
    };
    let ms = u64::try_from(d)
        .map_err(|_| EventError::field_err(field, format!("{d} is negative (milliseconds)")))?;
    if ms > MAX_DURATION_MS {
        return Err(EventError::DurationTooLong { field, ms });
    }
    Ok(ms)
}

fn string<'a>(v: Loose<'a>, field: &'static str, min: usize, max: usize) -> Res<Cow<'a, str>> {
    let Loose::Str(s) = v else {
        return Err(wrong_type(field, "a string", &v));
    };
    if s.len() < min || (min > 0 && s.is_empty()) {
        return Err(EventError::field_err(field, "is empty"));
    }
    // Characters are never more than bytes: count them only when it matters.
    let n = if s.len() <= max {
        s.len()
    } else {
        s.chars().count()
    };
    if n > max {
        return Err(EventError::field_err(
            field,
            format!("is {n} characters long, more than {max}"),
        ));
    }
    Ok(s)
}

/// An identifier: 1..=max characters, no control characters.
fn ident<'a>(v: Loose<'a>, field: &'static str, max: usize) -> Res<Cow<'a, str>> {
    let s = string(v, field, 1, max)?;
    if has_control(&s) {
        return Err(EventError::field_err(field, "contains a control character"));
    }
    Ok(s)
}

fn has_control(s: &str) -> bool {
    // Printable ASCII (nearly every identifier) has no control character;
    // only other text needs the full check.
    let printable_ascii = s.bytes().all(|b| (0x20..0x7f).contains(&b));
    !printable_ascii && s.chars().any(char::is_control)
}

/// Identifier limits of `events.md`: `tenant` up to 64 characters, `call`,
/// `queue`, `agent` (and `reason`) up to 128.
pub const MAX_IDENT: usize = MAX_ID;
/// Longest `tenant`, in characters.
pub const MAX_TENANT_IDENT: usize = MAX_TENANT;

/// What is wrong with an identifier (`events.md`: not empty, at most so
/// many characters, no control characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdentProblem {
    /// The identifier is empty.
    #[error("is empty")]
    Empty,
    /// Longer than allowed.
    #[error("is {chars} characters long, more than {max}")]
    TooLong {
        /// Its length, characters.
        chars: usize,
        /// The most allowed.
        max: usize,
    },
    /// It contains a control character.
    #[error("contains a control character")]
    Control,
}

/// What is wrong with `value` as an identifier of at most `max` characters,
/// if anything: for adapters building events from another system's text.
#[must_use]
pub fn ident_problem(value: &str, max: usize) -> Option<IdentProblem> {
    if value.is_empty() {
        return Some(IdentProblem::Empty);
    }
    let chars = value.chars().count();
    if chars > max {
        return Some(IdentProblem::TooLong { chars, max });
    }
    has_control(value).then_some(IdentProblem::Control)
}

/// [`ident_problem`] as text, for callers that report it as a string.
#[must_use]
pub fn identifier_problem(value: &str, max: usize) -> Option<String> {
    ident_problem(value, max).map(|p| p.to_string())
}

/// At most 40 characters of `s`, for quoting input in error messages.
#[must_use]
pub fn truncate(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn list<'s>(items: impl Iterator<Item = &'s str>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(line: &str) -> String {
        parse_event_str(line).unwrap_err().to_string()
    }

    #[test]
    fn parses_the_examples_of_events_md() {
        let e = parse_event_str(r#"{"v":1,"id":"c1-c","ts":1763888560000,"tenant":"acme","kind":"call_completed","call":"c1","queue":"sales","agent":"a7","talk_ms":117500,"acw_ms":30000}"#).unwrap();
        assert_eq!(e.tenant, "acme");
        assert_eq!(
            e.body,
            EventBody::CallCompleted {
                call: "c1".into(),
                queue: "sales".into(),
                agent: "a7".into(),
                talk_ms: 117_500,
                hold_ms: 0,
                acw_ms: 30000,
                transferred: false
            }
        );
        let e = parse_event_str(
            r#"{"v":1,"id":"x","ts":5,"kind":"agent_state","agent":"a7","state":"not_ready","reason":"break","extra":{"deep":[1,2]}}"#,
        )
        .unwrap();
        assert_eq!(e.tenant, DEFAULT_TENANT);
        assert_eq!(e.kind(), Kind::AgentState);
    }

    #[test]
    fn durations_longer_than_a_call_are_rejected_with_their_field() {
        let answered = |wait: &str| {
            format!(
                r#"{{"v":1,"id":"a","ts":1,"kind":"call_answered","call":"c","queue":"q","agent":"x","wait_ms":{wait}}}"#
            )
        };
        let e = parse_event_str(&answered("9223372036854775807")).unwrap_err();
        assert_eq!(
            (e.code().as_str(), e.field()),
            ("duration_too_long", Some("wait_ms"))
        );
        let e = parse_event_str(&answered("18446744073709551615")).unwrap_err();
        assert_eq!(e.code(), "duration_too_long");
        assert!(parse_event_str(&answered(&MAX_DURATION_MS.to_string())).is_ok());
        let e = parse_event_str(&answered(&(MAX_DURATION_MS + 1).to_string())).unwrap_err();
        assert_eq!(
            e.to_string(),
            "field `wait_ms`: 86400001 ms is longer than a call can last (86400000 ms, one day)"
        );
        for field in ["talk_ms", "acw_ms"] {
            let line = format!(
                r#"{{"v":1,"id":"a","ts":1,"kind":"call_completed","call":"c","queue":"q","agent":"x","talk_ms":1,"{field}":86400001}}"#
            )
            .replacen(r#""talk_ms":1,"talk_ms""#, r#""talk_ms""#, 1);
            assert_eq!(parse_event_str(&line).unwrap_err().field(), Some(field));
        }
    }

    #[test]
    fn strings_borrow_from_the_input() {
        let line = r#"{"v":1,"id":"c1","ts":1,"kind":"call_queued","call":"c1","queue":"sales"}"#;
        let e = parse_event_str(line).unwrap();
        assert!(matches!(e.id, Cow::Borrowed(_)));
    }

    #[test]
    fn rejections_name_the_field_and_reason() {
        assert_eq!(
            err(r#"{"v":2,"id":"b","ts":1,"kind":"call_queued","call":"z","queue":"q"}"#),
            "field `v`: unsupported schema version 2 (this build reads 1)"
        );
        assert_eq!(
            err(r#"{"v":1,"id":"b","ts":"17","kind":"call_queued","call":"z","queue":"q"}"#),
            "field `ts`: expected an integer, got a string (Unix epoch milliseconds)"
        );
        assert_eq!(
            err(r#"{"v":1,"id":"b","ts":1,"kind":"call_teleported","call":"z","queue":"q"}"#),
            "field `kind`: unknown kind \"call_teleported\""
        );
        assert_eq!(
            err(
                r#"{"v":1,"id":"b","ts":1,"kind":"call_completed","call":"z","queue":"q","agent":"a","talk_ms":-5}"#
            ),
            "field `talk_ms`: -5 is negative (milliseconds)"
        );
        assert!(err(
            r#"{"v":1,"id":"b","ts":1,"kind":"agent_state","agent":"a","state":"dancing"}"#
        )
        .starts_with("field `state`: unknown agent state \"dancing\""));
        assert_eq!(
            err(r#"{"v":1,"id":"b","ts":1,"kind":"call_queued","queue":"q"}"#),
            "field `call`: is required"
        );
        assert_eq!(
            err(r#"{"v":1,"id":"b","ts":1,"kind":"call_queued","call":"a\u0007","queue":"q"}"#),
            "field `call`: contains a control character"
        );
        assert_eq!(
            err(r#"{"v":1,"id":"b","id":"c","ts":1,"kind":"call_queued","call":"a","queue":"q"}"#),
            "field `id`: appears more than once"
        );
        assert_eq!(err("[1,2,3]"), "not a JSON object");
        assert!(err("not json at all").starts_with("not valid JSON"));
        assert!(
            err(r#"{"v":1,"id":"b","ts":1,"kind":"call_queued","call":"zz""#)
                .starts_with("not valid JSON")
        );
    }

    #[test]
    fn schedules_are_checked() {
        let ok = r#"{"v":1,"id":"s","ts":1,"kind":"schedule","agent":"a","from_ms":0,"to_ms":100,"segments":[{"start_ms":0,"end_ms":50,"activity":"work"},{"start_ms":50,"end_ms":100,"activity":"break"}]}"#;
        assert!(parse_event_str(ok).is_ok());
        let overlap = ok.replace(r#""start_ms":50"#, r#""start_ms":40"#);
        assert_eq!(err(&overlap), "field `segments`: segments overlap");
        let outside = ok.replace(r#""end_ms":100"#, r#""end_ms":200"#);
        assert_eq!(
            err(&outside),
            "field `segments`: segment 1: lies outside [from_ms, to_ms)"
        );
    }

    #[test]
    fn oversize_events_are_rejected() {
        let big = format!(
            r#"{{"v":1,"id":"b","ts":1,"kind":"call_queued","call":"a","queue":"q","pad":"{}"}}"#,
            "x".repeat(MAX_EVENT_BYTES)
        );
        assert!(matches!(
            parse_event(big.as_bytes()),
            Err(EventError::TooLarge { .. })
        ));
    }

    #[test]
    fn heartbeats_parse_and_need_a_source() {
        let line = r#"{"v":1,"id":"hb1","ts":5,"tenant":"acme","kind":"heartbeat","source":"asterisk-queue-log","upstream":"down"}"#;
        let e = parse_event_str(line).unwrap();
        assert_eq!(
            e.body,
            EventBody::Heartbeat {
                upstream: Upstream::Down
            }
        );
        assert!(matches!(
            e.source,
            Some(Cow::Borrowed("asterisk-queue-log"))
        ));
        assert_eq!(parse_event_str(&e.to_json()).unwrap(), e);
        assert_eq!(
            err(r#"{"v":1,"id":"hb1","ts":5,"kind":"heartbeat","upstream":"up"}"#),
            "field `source`: is required on a heartbeat"
        );
        assert!(
            err(r#"{"v":1,"id":"hb1","ts":5,"kind":"heartbeat","source":"","upstream":"up"}"#)
                .starts_with("field `source`: must be 1..64")
        );
        assert_eq!(
            err(r#"{"v":1,"id":"hb1","ts":5,"kind":"heartbeat","source":"s"}"#),
            "field `upstream`: is required"
        );
        assert_eq!(
            err(
                r#"{"v":1,"id":"hb1","ts":5,"kind":"heartbeat","source":"s","upstream":"sideways"}"#
            ),
            "field `upstream`: unknown upstream \"sideways\" (expected up or down)"
        );
        let built = Event::heartbeat("acme", "simulator", 7, Upstream::Up);
        assert_eq!(parse_event_str(&built.to_json()).unwrap(), built);
    }

    #[test]
    fn blocked_calls_parse_and_name_a_bad_reason() {
        let line = r#"{"v":1,"id":"c9-b","ts":1763888405000,"tenant":"acme","kind":"call_blocked","call":"c9","queue":"sales","reason":"full"}"#;
        let e = parse_event_str(line).unwrap();
        assert_eq!(
            e.body,
            EventBody::CallBlocked {
                call: "c9".into(),
                queue: "sales".into(),
                reason: BlockedReason::Full
            }
        );
        assert_eq!(e.to_json(), line);
        for r in BlockedReason::ALL {
            let l = line.replace("\"full\"", &format!("{:?}", r.as_str()));
            assert_eq!(parse_event_str(&l).unwrap().to_json(), l);
        }
        assert_eq!(
            err(&line.replace("full", "busy")),
            "field `reason`: unknown blocked reason \"busy\" (expected one of full, no_agents, no_available_agents, closed, other)"
        );
        assert_eq!(
            err(&line.replace(r#","reason":"full""#, "")),
            "field `reason`: is required"
        );
        assert_eq!(
            err(&line.replace(r#""queue":"sales","#, "")),
            "field `queue`: is required"
        );
    }

    #[test]
    fn round_trips_through_json() {
        let line = r#"{"v":1,"id":"s","ts":1,"tenant":"t","kind":"schedule","agent":"a","from_ms":0,"to_ms":100,"segments":[{"start_ms":0,"end_ms":50,"activity":"work"}]}"#;
        let e = parse_event_str(line).unwrap();
        assert_eq!(e.to_json(), line);
        let again = e.to_json();
        assert_eq!(parse_event_str(&again).unwrap(), e);
    }

    #[test]
    fn floor_messages_parse_round_trip_and_name_what_is_wrong() {
        let post = r#"{"v":1,"id":"msg-m1-post","ts":1000,"tenant":"acme","kind":"floor_message","message":"m1","action":"post","text":"<b>午餐</b> lunch","severity":"critical","expires_ms":61000,"queues":["sales"]}"#;
        let e = parse_event_str(post).unwrap();
        assert_eq!(e.kind(), Kind::FloorMessage);
        assert_eq!(e.to_json(), post);
        let delete = r#"{"v":1,"id":"msg-m1-delete","ts":2000,"tenant":"acme","kind":"floor_message","message":"m1","action":"delete"}"#;
        let d = parse_event_str(delete).unwrap();
        assert!(matches!(
            d.body,
            EventBody::FloorMessage(FloorMessage {
                action: MessageAction::Delete,
                ..
            })
        ));
        assert_eq!(parse_event_str(&d.to_json()).unwrap(), d);
        let week = MAX_MESSAGE_TTL_MS + 1001;
        for (bad, want) in [
            (
                post.replace("\"critical\"", "\"panic\""),
                "field `severity`: unknown severity \"panic\"",
            ),
            (
                post.replace("61000", "1000"),
                "field `expires_ms`: 1000 is not after ts 1000",
            ),
            (
                post.replace("61000", &week.to_string()),
                "field `expires_ms`: is 604800001 ms after ts",
            ),
            (
                post.replace(r#""text":"<b>午餐</b> lunch","#, ""),
                "field `text`: is required",
            ),
            (
                post.replace("lunch", "lunch\\u0007"),
                "field `text`: contains a control character",
            ),
            (
                post.replace("\"post\"", "\"shout\""),
                "field `action`: unknown action \"shout\"",
            ),
            (
                delete.replace(r#""message":"m1","#, ""),
                "field `message`: is required",
            ),
        ] {
            let got = err(&bad);
            assert!(got.starts_with(want), "{bad}: {got}");
        }
    }

    #[test]
    #[allow(clippy::float_cmp)] // Exact: small binary fractions.
    fn forecasts_parse_round_trip_and_name_what_is_wrong() {
        let line = r#"{"v":1,"id":"f1","ts":5,"tenant":"acme","kind":"forecast","queue":"sales","start_ms":1800000,"interval_minutes":30,"calls":42.5,"aht_s":240,"scheduled_agents":9,"version":"v2"}"#;
        let e = parse_event_str(line).unwrap();
        let EventBody::Forecast(f) = &e.body else {
            panic!("not a forecast: {e:?}")
        };
        assert_eq!((f.calls, f.aht_s, f.interval_minutes), (42.5, 240.0, 30));
        assert_eq!((f.required_agents, f.planned_agents()), (None, Some(9.0)));
        assert_eq!(parse_event_str(&e.to_json()).unwrap(), e);
        for (bad, field) in [
            (r#""calls":-2"#, "calls"),
            (r#""calls":"many""#, "calls"),
            (r#""aht_s":90000"#, "aht_s"),
            (r#""interval_minutes":7"#, "interval_minutes"),
            (r#""scheduled_agents":-1"#, "scheduled_agents"),
        ] {
            let key = bad.split(':').next().unwrap();
            let start = line.find(key).unwrap();
            let end = start + line[start..].find([',', '}']).unwrap();
            let broken = format!("{}{bad}{}", &line[..start], &line[end..]);
            let err = parse_event_str(&broken).unwrap_err();
            assert_eq!(err.field(), Some(field), "{broken}: {err}");
        }
        let missing = line.replace(r#""start_ms":1800000,"#, "");
        assert_eq!(
            parse_event_str(&missing).unwrap_err().field(),
            Some("start_ms")
        );
    }
}
