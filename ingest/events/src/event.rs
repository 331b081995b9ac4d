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
    /// Schema version, always [`SCHEMA_VERSION`].
    pub v: i64,
    /// Unique per event within a tenant; a re-sent event reuses it (duplicates are dropped by it).
    pub id: Cow<'a, str>,
    /// Event time, Unix epoch milliseconds as observed by the telephony system.
    pub ts: TimestampMs,
    /// Contact centre the event belongs to ([`DEFAULT_TENANT`] when the input names none).
    pub tenant: Cow<'a, str>,
    /// Adapter name, e.g. `asterisk-queue-log`; required on heartbeats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Cow<'a, str>>,
    /// The `kind` and its fields.
    #[serde(flatten)]
    pub body: EventBody<'a>,
}

impl Event<'_> {
    /// The event's `kind`, as written in JSON.
    #[must_use]
    pub fn kind(&self) -> Kind {
        self.body.kind()
    }

    /// A copy that owns all its strings.
    #[must_use]
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
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("events always serialize")
    }
}

/// The kind-specific part of an event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventBody<'a> {
    /// The call entered the queue: a queue segment starts.
    CallQueued {
        /// Call id.
        call: Cow<'a, str>,
        /// Queue name.
        queue: Cow<'a, str>,
        /// Queue priority as the telephony system reports it.
        #[serde(skip_serializing_if = "Option::is_none")]
        priority: Option<i64>,
        /// Stable key of who called, never a phone number (`events.md`,
        /// "Caller key").
        #[serde(skip_serializing_if = "Option::is_none")]
        caller: Option<Cow<'a, str>>,
    },
    /// An agent was connected: the segment ends as answered.
    CallAnswered {
        /// Call id.
        call: Cow<'a, str>,
        /// Queue name.
        queue: Cow<'a, str>,
        /// Agent who answered.
        agent: Cow<'a, str>,
        /// Time the call waited in this queue, milliseconds; absent: `ts` minus the segment's `call_queued` `ts`.
        #[serde(skip_serializing_if = "Option::is_none")]
        wait_ms: Option<u64>,
    },
    /// The caller hung up while waiting: the segment ends as abandoned.
    CallAbandoned {
        /// Call id.
        call: Cow<'a, str>,
        /// Queue name.
        queue: Cow<'a, str>,
        /// Time the call waited in this queue, milliseconds; absent: `ts` minus the segment's `call_queued` `ts`.
        #[serde(skip_serializing_if = "Option::is_none")]
        wait_ms: Option<u64>,
    },
    /// The call left the queue unanswered for another reason.
    CallDequeued {
        /// Call id.
        call: Cow<'a, str>,
        /// Queue name.
        queue: Cow<'a, str>,
        /// Why the call left the queue.
        reason: DequeueReason,
        /// Time the call waited in this queue, milliseconds; absent: `ts` minus the segment's `call_queued` `ts`.
        #[serde(skip_serializing_if = "Option::is_none")]
        wait_ms: Option<u64>,
    },
    /// Refused by the queue; never queued (`events.md`, "Blocked calls").
    CallBlocked {
        /// The call refused.
        call: Cow<'a, str>,
        /// The queue that refused it.
        queue: Cow<'a, str>,
        /// Why it was refused.
        reason: BlockedReason,
    },
    /// The agent finished handling the call, after-call work included (`ts` is the end of ACW).
    CallCompleted {
        /// Call id.
        call: Cow<'a, str>,
        /// Queue the call was handled for.
        queue: Cow<'a, str>,
        /// Agent who handled it.
        agent: Cow<'a, str>,
        /// Talk time in milliseconds, hold included.
        talk_ms: u64,
        /// How much of `talk_ms` was hold, milliseconds (default 0).
        #[serde(skip_serializing_if = "is_default")]
        hold_ms: u64,
        /// After-call work (wrap-up) in milliseconds (default 0).
        #[serde(skip_serializing_if = "is_default")]
        acw_ms: u64,
        /// Whether the agent transferred the call.
        #[serde(skip_serializing_if = "is_default")]
        transferred: bool,
    },
    /// The agent entered `state` at `ts` and stays there until its next `agent_state`.
    AgentState {
        /// Agent id.
        agent: Cow<'a, str>,
        /// The state entered.
        state: AgentState,
        /// Why the agent is `not_ready` (`break`, `lunch`, … or any code).
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<Cow<'a, str>>,
        /// The call the state is about (ringing, on call, ACW).
        #[serde(skip_serializing_if = "Option::is_none")]
        call: Option<Cow<'a, str>>,
    },
    /// The agent's queue membership from `ts` on, replacing the previous set.
    AgentQueues {
        /// Agent id.
        agent: Cow<'a, str>,
        /// Queue names the agent is a member of.
        queues: Vec<Cow<'a, str>>,
    },
    /// The agent's planned activities, replacing whatever was planned inside `[from_ms, to_ms)`.
    Schedule {
        /// Agent id.
        agent: Cow<'a, str>,
        /// Start of the replaced range, Unix ms (inclusive).
        from_ms: TimestampMs,
        /// End of the replaced range, Unix ms (exclusive).
        to_ms: TimestampMs,
        /// The planned activities inside the range.
        segments: Vec<ScheduleSegment<'a>>,
    },
    /// An adapter is alive (`events.md`, "Heartbeats"): never counted, only
    /// tracked for freshness. Its `source` is required.
    Heartbeat {
        /// Whether the adapter is connected to its telephony system.
        upstream: Upstream,
    },
    /// A supervisor's message to the floor (`events.md`, "Floor
    /// messages"): never counted, kept by the engine until it expires.
    FloorMessage(FloorMessage<'a>),
    /// A customer's answer to a post-call survey (`events.md`, "Surveys
    /// and quality evaluations").
    SurveyResult(crate::quality::SurveyResult<'a>),
    /// A quality evaluator's score of a handled call.
    QualityEvaluation(crate::quality::QualityEvaluation<'a>),
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
    /// The message's id (an identifier, 1..128 characters), chosen by its
    /// poster; a `post` with the id of an active message replaces it.
    pub message: Cow<'a, str>,
    /// Post or delete, flattened into the event as its `action` field.
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
    /// Shown as typed: 1..[`MAX_MESSAGE_TEXT`] characters, no control
    /// characters, never interpreted as markup.
    pub text: Cow<'a, str>,
    /// How urgent the message is.
    pub severity: Severity,
    /// When the message stops being active, Unix ms: after `ts` and at most
    /// [`MAX_MESSAGE_TTL_MS`] after it (`docs/events.md`, "Floor messages").
    pub expires_ms: TimestampMs,
    /// Queues the message is about (at most [`MAX_MESSAGE_QUEUES`]); empty:
    /// the whole tenant.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub queues: Vec<Cow<'a, str>>,
}

impl FloorMessage<'_> {
    fn into_owned(self) -> FloorMessage<'static> {
        let o = owned;
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

/// A copy of `s` that borrows nothing.
pub(crate) fn owned(s: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(s.into_owned())
}

/// Whether a field holds its default (0, `false`), which is left out of the
/// JSON. Takes a reference because serde's `skip_serializing_if` passes one.
pub(crate) fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

impl EventBody<'_> {
    /// The event's `kind`.
    #[must_use]
    pub fn kind(&self) -> Kind {
        match self {
            EventBody::CallQueued { .. } => Kind::CallQueued,
            EventBody::CallAnswered { .. } => Kind::CallAnswered,
            EventBody::CallAbandoned { .. } => Kind::CallAbandoned,
            EventBody::CallDequeued { .. } => Kind::CallDequeued,
            EventBody::CallBlocked { .. } => Kind::CallBlocked,
            EventBody::CallCompleted { .. } => Kind::CallCompleted,
            EventBody::AgentState { .. } => Kind::AgentState,
            EventBody::AgentQueues { .. } => Kind::AgentQueues,
            EventBody::Schedule { .. } => Kind::Schedule,
            EventBody::Heartbeat { .. } => Kind::Heartbeat,
            EventBody::FloorMessage(_) => Kind::FloorMessage,
            EventBody::SurveyResult(_) => Kind::SurveyResult,
            EventBody::QualityEvaluation(_) => Kind::QualityEvaluation,
        }
    }

    fn into_owned(self) -> EventBody<'static> {
        // Exhaustive, so that a new kind must say which helper owns it.
        match self {
            EventBody::CallQueued { .. }
            | EventBody::CallAnswered { .. }
            | EventBody::CallAbandoned { .. }
            | EventBody::CallDequeued { .. }
            | EventBody::CallBlocked { .. }
            | EventBody::CallCompleted { .. } => self.call_into_owned(),
            EventBody::AgentState { .. }
            | EventBody::AgentQueues { .. }
            | EventBody::Schedule { .. } => self.agent_into_owned(),
            EventBody::Heartbeat { upstream } => EventBody::Heartbeat { upstream },
            EventBody::FloorMessage(m) => EventBody::FloorMessage(m.into_owned()),
            EventBody::SurveyResult(r) => EventBody::SurveyResult(r.into_owned()),
            EventBody::QualityEvaluation(q) => EventBody::QualityEvaluation(q.into_owned()),
        }
    }

    /// [`EventBody::into_owned`] of the `call_*` kinds.
    fn call_into_owned(self) -> EventBody<'static> {
        let o = owned;
        match self {
            EventBody::CallQueued {
                call,
                queue,
                priority,
                caller,
            } => EventBody::CallQueued {
                call: o(call),
                queue: o(queue),
                priority,
                caller: caller.map(o),
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
            EventBody::CallBlocked {
                call,
                queue,
                reason,
            } => EventBody::CallBlocked {
                call: o(call),
                queue: o(queue),
                reason,
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
            other => unreachable!("not a call event: {:?}", other.kind()),
        }
    }

    /// [`EventBody::into_owned`] of the `agent_*` kinds and `schedule`.
    fn agent_into_owned(self) -> EventBody<'static> {
        let o = owned;
        match self {
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
                    .map(ScheduleSegment::into_owned)
                    .collect(),
            },
            other => unreachable!("not an agent event: {:?}", other.kind()),
        }
    }
}

/// One planned activity of an agent's schedule, `[start_ms, end_ms)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleSegment<'a> {
    /// Start, Unix ms (inclusive).
    pub start_ms: TimestampMs,
    /// End, Unix ms (exclusive).
    pub end_ms: TimestampMs,
    /// Activity code, mapped to the states in adherence with it (`events.md`, "Schedule events").
    pub activity: Cow<'a, str>,
}

impl ScheduleSegment<'_> {
    fn into_owned(self) -> ScheduleSegment<'static> {
        ScheduleSegment {
            start_ms: self.start_ms,
            end_ms: self.end_ms,
            activity: owned(self.activity),
        }
    }
}

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $variant),+ }

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
        /// A call entered a queue.
        CallQueued = "call_queued",
        /// An agent answered a queued call.
        CallAnswered = "call_answered",
        /// The caller hung up while waiting.
        CallAbandoned = "call_abandoned",
        /// The call left the queue unanswered for another reason.
        CallDequeued = "call_dequeued",
        /// An agent finished handling a call.
        CallCompleted = "call_completed",
        /// A call refused by a queue, never queued.
        CallBlocked = "call_blocked",
        /// An agent's state changed.
        AgentState = "agent_state",
        /// An agent's queue membership changed.
        AgentQueues = "agent_queues",
        /// An agent's planned activities.
        Schedule = "schedule",
        /// An adapter is alive.
        Heartbeat = "heartbeat",
        /// A supervisor's message to the floor is posted or deleted.
        FloorMessage = "floor_message",
        /// A customer answered a post-call survey.
        SurveyResult = "survey_result",
        /// A quality evaluator scored a handled call.
        QualityEvaluation = "quality_evaluation",
    }
}

string_enum! {
    /// How urgent a floor message is.
    Severity {
        /// Shown last, as ℹ INFO.
        Info = "info",
        /// Shown after the critical ones, as ▲ WARNING.
        Warning = "warning",
        /// Shown first, as ✖ CRITICAL; a new one chimes on boards with sound
        /// (README, "Sound").
        Critical = "critical",
    }
}

string_enum! {
    /// Whether a heartbeat's adapter is connected to its telephony system.
    Upstream {
        /// Connected to the telephony system.
        Up = "up",
        /// Not connected: reconnect back-off, or a followed file missing.
        Down = "down",
    }
}

impl Event<'static> {
    /// A heartbeat of `source` for `tenant` at wall time `ts`. Its id names
    /// the source and the time; heartbeats are never deduplicated anyway.
    #[must_use]
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
        /// The queue's maximum wait ran out.
        Timeout = "timeout",
        /// The caller left by pressing an exit key.
        ExitKey = "exit_key",
        /// Left because the queue had no agents to take it.
        Empty = "empty",
        /// Moved on to another queue or destination.
        Overflow = "overflow",
        /// Transferred out of the queue before an answer.
        Transfer = "transfer",
        /// Any other reason the adapter cannot name.
        Other = "other",
    }
}

string_enum! {
    /// Why a queue refused a call (`call_blocked`).
    BlockedReason {
        /// The queue held its maximum of waiting callers (`queue_log` `FULL`).
        Full = "full",
        /// The queue had no members at all (`queue_log` `JOINEMPTY`).
        NoAgents = "no_agents",
        /// No member could take a call: all paused, unavailable or busy
        /// (`queue_log` `JOINUNAVAIL`).
        NoAvailableAgents = "no_available_agents",
        /// The queue was closed (out of hours, by the dialplan or an ACD).
        Closed = "closed",
        /// Any other refusal the source names no reason for.
        Other = "other",
    }
}

string_enum! {
    /// An agent's state (`events.md`).
    AgentState {
        /// Not signed in; not staffed.
        LoggedOut = "logged_out",
        /// Signed in, idle, ready for a call.
        Available = "available",
        /// A call is being offered to the agent; busy.
        Ringing = "ringing",
        /// Talking (hold included), inbound or outbound; busy.
        OnCall = "on_call",
        /// After-call work (wrap-up); busy.
        Acw = "acw",
        /// Signed in but unavailable (aux); `reason` says why.
        NotReady = "not_ready",
    }
}

impl AgentState {
    /// Signed in (any state but `logged_out`).
    #[must_use]
    pub fn is_staffed(self) -> bool {
        self != AgentState::LoggedOut
    }

    /// Handling a call: `ringing`, `on_call` or `acw`.
    #[must_use]
    pub fn is_busy(self) -> bool {
        matches!(
            self,
            AgentState::Ringing | AgentState::OnCall | AgentState::Acw
        )
    }

    /// Working: available or busy (the numerator of conformance).
    #[must_use]
    pub fn is_working(self) -> bool {
        self == AgentState::Available || self.is_busy()
    }
}
