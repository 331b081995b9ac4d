//! The canonical CTI event (`events.md`, version 1) as validated Rust types.
//!
//! An [`Event`] borrows its identifiers from the input buffer where it can
//! (`Cow::Borrowed`), so parsing a line does not allocate per field; an owned
//! event (`Event<'static>`) is what the simulator and the adapters produce.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Event time: Unix epoch milliseconds as observed by the telephony system.
pub type TimestampMs = i64;

/// The first time events do not accept: year 10000. Valid event times are
/// `0..TS_LIMIT_MS`, so times and their differences never overflow.
pub const TS_LIMIT_MS: TimestampMs = 253_402_300_800_000;

/// The longest duration a call event may report (`wait_ms`, `talk_ms`,
/// `hold_ms`, `acw_ms`): one day. No call lasts longer, and with this bound
/// no sum of durations can overflow a `u64` before 2^27 events of one queue
/// in one interval.
pub const MAX_DURATION_MS: u64 = 86_400_000;

/// The tenant used when an event names none.
pub const DEFAULT_TENANT: &str = "default";

/// The only schema version this build understands.
pub const SCHEMA_VERSION: i64 = 1;

/// Largest accepted event, in bytes of JSON.
pub const MAX_EVENT_BYTES: usize = 64 * 1024;

/// One validated canonical event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event<'a> {
    pub v: i64,
    pub id: Cow<'a, str>,
    pub ts: TimestampMs,
    pub tenant: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Cow<'a, str>>,
    #[serde(flatten)]
    pub body: EventBody<'a>,
}

impl Event<'_> {
    /// The event's `kind`, as written in JSON.
    pub fn kind(&self) -> Kind {
        self.body.kind()
    }

    /// A copy that owns all its strings.
    pub fn into_owned(self) -> Event<'static> {
        Event {
            v: self.v,
            id: Cow::Owned(self.id.into_owned()),
            ts: self.ts,
            tenant: Cow::Owned(self.tenant.into_owned()),
            source: self.source.map(|s| Cow::Owned(s.into_owned())),
            body: self.body.into_owned(),
        }
    }

    /// The event as one line of canonical JSON (no trailing newline).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("events always serialize")
    }
}

/// The kind-specific part of an event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventBody<'a> {
    CallQueued {
        call: Cow<'a, str>,
        queue: Cow<'a, str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        priority: Option<i64>,
    },
    CallAnswered {
        call: Cow<'a, str>,
        queue: Cow<'a, str>,
        agent: Cow<'a, str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        wait_ms: Option<u64>,
    },
    CallAbandoned {
        call: Cow<'a, str>,
        queue: Cow<'a, str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        wait_ms: Option<u64>,
    },
    CallDequeued {
        call: Cow<'a, str>,
        queue: Cow<'a, str>,
        reason: DequeueReason,
        #[serde(skip_serializing_if = "Option::is_none")]
        wait_ms: Option<u64>,
    },
    CallCompleted {
        call: Cow<'a, str>,
        queue: Cow<'a, str>,
        agent: Cow<'a, str>,
        talk_ms: u64,
        #[serde(skip_serializing_if = "is_zero")]
        hold_ms: u64,
        #[serde(skip_serializing_if = "is_zero")]
        acw_ms: u64,
        #[serde(skip_serializing_if = "is_false")]
        transferred: bool,
    },
    AgentState {
        agent: Cow<'a, str>,
        state: AgentState,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<Cow<'a, str>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        call: Option<Cow<'a, str>>,
    },
    AgentQueues {
        agent: Cow<'a, str>,
        queues: Vec<Cow<'a, str>>,
    },
    Schedule {
        agent: Cow<'a, str>,
        from_ms: TimestampMs,
        to_ms: TimestampMs,
        segments: Vec<ScheduleSegment<'a>>,
    },
    /// An adapter is alive (`events.md`, "Heartbeats"): never counted, only
    /// tracked for freshness. Its `source` is required.
    Heartbeat { upstream: Upstream },
    /// A supervisor's message to the floor (`events.md`, "Floor
    /// messages"): never counted, kept by the engine until it expires.
    FloorMessage(FloorMessage<'a>),
}

/// The longest a floor message may stay up: 7 days after it is posted.
pub const MAX_MESSAGE_TTL_MS: i64 = 7 * 86_400_000;

/// The longest floor message text, in characters.
pub const MAX_MESSAGE_TEXT: usize = 500;

/// The most queues a floor message may name.
pub const MAX_MESSAGE_QUEUES: usize = 32;

/// A `floor_message` event's body: which message, and what happens to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FloorMessage<'a> {
    pub message: Cow<'a, str>,
    #[serde(flatten)]
    pub action: MessageAction<'a>,
}

/// What a `floor_message` event does.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum MessageAction<'a> {
    /// Shows the message (or replaces the active one with the same id).
    Post(MessagePost<'a>),
    /// Takes the message down.
    Delete,
}

/// The content of a posted floor message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessagePost<'a> {
    pub text: Cow<'a, str>,
    pub severity: Severity,
    pub expires_ms: TimestampMs,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub queues: Vec<Cow<'a, str>>,
}

impl FloorMessage<'_> {
    fn into_owned(self) -> FloorMessage<'static> {
        let o = |s: Cow<'_, str>| -> Cow<'static, str> { Cow::Owned(s.into_owned()) };
        FloorMessage {
            message: o(self.message),
            action: match self.action {
                MessageAction::Post(p) => MessageAction::Post(MessagePost {
                    text: o(p.text),
                    severity: p.severity,
                    expires_ms: p.expires_ms,
                    queues: p.queues.into_iter().map(o).collect(),
                }),
                MessageAction::Delete => MessageAction::Delete,
            },
        }
    }
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

fn is_false(v: &bool) -> bool {
    !*v
}

impl EventBody<'_> {
    pub fn kind(&self) -> Kind {
        match self {
            EventBody::CallQueued { .. } => Kind::CallQueued,
            EventBody::CallAnswered { .. } => Kind::CallAnswered,
            EventBody::CallAbandoned { .. } => Kind::CallAbandoned,
            EventBody::CallDequeued { .. } => Kind::CallDequeued,
            EventBody::CallCompleted { .. } => Kind::CallCompleted,
            EventBody::AgentState { .. } => Kind::AgentState,
            EventBody::AgentQueues { .. } => Kind::AgentQueues,
            EventBody::Schedule { .. } => Kind::Schedule,
            EventBody::Heartbeat { .. } => Kind::Heartbeat,
            EventBody::FloorMessage(_) => Kind::FloorMessage,
        }
    }

    fn into_owned(self) -> EventBody<'static> {
        fn o(s: Cow<'_, str>) -> Cow<'static, str> {
            Cow::Owned(s.into_owned())
        }
        match self {
            EventBody::CallQueued {
                call,
                queue,
                priority,
            } => EventBody::CallQueued {
                call: o(call),
                queue: o(queue),
                priority,
            },
            EventBody::CallAnswered {
                call,
                queue,
                agent,
                wait_ms,
            } => EventBody::CallAnswered {
                call: o(call),
                queue: o(queue),
                agent: o(agent),
                wait_ms,
            },
            EventBody::CallAbandoned {
                call,
                queue,
                wait_ms,
            } => EventBody::CallAbandoned {
                call: o(call),
                queue: o(queue),
                wait_ms,
            },
            EventBody::CallDequeued {
                call,
                queue,
                reason,
                wait_ms,
            } => EventBody::CallDequeued {
                call: o(call),
                queue: o(queue),
                reason,
                wait_ms,
            },
            EventBody::CallCompleted {
                call,
                queue,
                agent,
                talk_ms,
                hold_ms,
                acw_ms,
                transferred,
            } => EventBody::CallCompleted {
                call: o(call),
                queue: o(queue),
                agent: o(agent),
                talk_ms,
                hold_ms,
                acw_ms,
                transferred,
            },
            EventBody::AgentState {
                agent,
                state,
                reason,
                call,
            } => EventBody::AgentState {
                agent: o(agent),
                state,
                reason: reason.map(o),
                call: call.map(o),
            },
            EventBody::AgentQueues { agent, queues } => EventBody::AgentQueues {
                agent: o(agent),
                queues: queues.into_iter().map(o).collect(),
            },
            EventBody::Schedule {
                agent,
                from_ms,
                to_ms,
                segments,
            } => EventBody::Schedule {
                agent: o(agent),
                from_ms,
                to_ms,
                segments: segments
                    .into_iter()
                    .map(|s| ScheduleSegment {
                        start_ms: s.start_ms,
                        end_ms: s.end_ms,
                        activity: o(s.activity),
                    })
                    .collect(),
            },
            EventBody::Heartbeat { upstream } => EventBody::Heartbeat { upstream },
            EventBody::FloorMessage(m) => EventBody::FloorMessage(m.into_owned()),
        }
    }
}

/// One planned activity of an agent's schedule, `[start_ms, end_ms)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleSegment<'a> {
    pub start_ms: TimestampMs,
    pub end_ms: TimestampMs,
    pub activity: Cow<'a, str>,
}

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value as written in events.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the value as written in events.
            #[allow(clippy::should_implement_trait)]
            pub fn from_str(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::from_str(&s).ok_or_else(|| {
                    serde::de::Error::custom(format_args!("unknown {} {s:?}", stringify!($name)))
                })
            }
        }
    };
}

string_enum! {
    /// The `kind` of an event.
    Kind {
        CallQueued = "call_queued",
        CallAnswered = "call_answered",
        CallAbandoned = "call_abandoned",
        CallDequeued = "call_dequeued",
        CallCompleted = "call_completed",
        AgentState = "agent_state",
        AgentQueues = "agent_queues",
        Schedule = "schedule",
        Heartbeat = "heartbeat",
        FloorMessage = "floor_message",
    }
}

string_enum! {
    /// How urgent a floor message is.
    Severity {
        Info = "info",
        Warning = "warning",
        Critical = "critical",
    }
}

string_enum! {
    /// Whether a heartbeat's adapter is connected to its telephony system.
    Upstream {
        Up = "up",
        Down = "down",
    }
}

impl Event<'static> {
    /// A heartbeat of `source` for `tenant` at wall time `ts`. Its id names
    /// the source and the time; heartbeats are never deduplicated anyway.
    pub fn heartbeat(tenant: &str, source: &str, ts: TimestampMs, upstream: Upstream) -> Self {
        Event {
            v: SCHEMA_VERSION,
            id: Cow::Owned(format!("hb-{source}-{ts}")),
            ts,
            tenant: Cow::Owned(tenant.to_owned()),
            source: Some(Cow::Owned(source.to_owned())),
            body: EventBody::Heartbeat { upstream },
        }
    }
}

string_enum! {
    /// Why a call left a queue unanswered (other than abandoning).
    DequeueReason {
        Timeout = "timeout",
        ExitKey = "exit_key",
        Empty = "empty",
        Overflow = "overflow",
        Transfer = "transfer",
        Other = "other",
    }
}

string_enum! {
    /// An agent's state (`events.md`).
    AgentState {
        LoggedOut = "logged_out",
        Available = "available",
        Ringing = "ringing",
        OnCall = "on_call",
        Acw = "acw",
        NotReady = "not_ready",
    }
}

impl AgentState {
    /// Signed in (any state but `logged_out`).
    pub fn is_staffed(self) -> bool {
        self != AgentState::LoggedOut
    }

    /// Handling a call: `ringing`, `on_call` or `acw`.
    pub fn is_busy(self) -> bool {
        matches!(
            self,
            AgentState::Ringing | AgentState::OnCall | AgentState::Acw
        )
    }

    /// Working: available or busy (the numerator of conformance).
    pub fn is_working(self) -> bool {
        self == AgentState::Available || self.is_busy()
    }
}
