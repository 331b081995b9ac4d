//! Canonical CTI events (`docs/events.md`): their types, their parsing and
//! validation from JSON, and JSON Lines framing. Everything downstream — the
//! adapters that produce events, the engine that folds them, the pipeline
//! that carries them — speaks these types. The crate depends on serde only:
//! no I/O runtime, no Kafka, no clock.

pub mod dead_letter;
pub mod event;
pub mod jsonl;
pub mod parse;
pub mod quality;

pub use dead_letter::DeadLetterCode;
pub use event::{
    AgentState, BlockedReason, DequeueReason, Event, EventBody, FloorMessage, Kind, MessageAction,
    MessagePost, ScheduleSegment, Severity, TimestampMs, Upstream,
};
pub use parse::{parse_event, parse_event_str, EventError};
pub use quality::{QualityEvaluation, SurveyResult};
