//! Asterisk's `queue_log`: translating its lines into canonical events
//! (`adapters.md`), following a live file through rotation and truncation
//! with a checkpoint, and writing one from canonical events (what Asterisk
//! would have logged for a simulated day).

mod follow;
mod line;
mod translate;
mod write;

pub use follow::{
    Checkpoint, FileFollower, FollowError, FollowedLine, Position, Switch, FOLLOW_MAX_LINE,
};
pub use line::{line_text, LineError, LineProblem};
pub use translate::{
    file_identity, QueueLogError, QueueLogTranslator, TranslateProblem, TranslatorState, SOURCE,
};
pub use write::QueueLogWriter;
