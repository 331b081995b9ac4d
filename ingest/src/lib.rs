//! Canonical CTI events: their types, parsing and validation, and the
//! sources that produce them (JSON Lines, the simulator, the telephony
//! adapters: Asterisk queue_log and AMI, FreeSWITCH event socket).

pub mod ami;
pub mod esl;
pub mod event;
pub mod jsonl;
pub mod kafka;
pub mod parse;
pub mod queue_log;
pub mod simulate;

pub use event::{
    AgentState, DequeueReason, Event, EventBody, FloorMessage, Kind, MessageAction, MessagePost,
    ScheduleSegment, Severity, TimestampMs, Upstream,
};
pub use parse::{parse_event, parse_event_str, EventError};
