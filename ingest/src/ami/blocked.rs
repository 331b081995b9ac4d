//! Callers Asterisk refused at `Queue()` (`events.md`, "Blocked calls").
//!
//! AMI has no event for them: `QueueCallerJoin` is raised only for callers
//! who joined. What it does send (class `dialplan`, which the adapter needs
//! for `QUEUESTATUS` anyway) is `Newexten` when the channel starts the
//! `Queue` application (`AppData` begins with the queue name) and then
//! `VarSet QUEUESTATUS` with `FULL`, `JOINEMPTY` or `JOINUNAVAIL` when the
//! queue refused it. This remembers, per channel, the queue whose `Queue()`
//! runs until the channel joins, is refused, or hangs up.

use std::collections::HashMap;

use wallboard_events::BlockedReason;

use super::protocol::Message;

/// Most channels remembered at once: more than any PBX has starting
/// `Queue()` at the same instant, so memory stays bounded if the end of a
/// channel is never seen.
const MAX_ENTERING: usize = 10_000;

/// Channels that started `Queue()` and have neither joined nor left.
#[derive(Debug, Default)]
pub struct Entering {
    queue_of: HashMap<String, String>,
}

/// The refusal `QUEUESTATUS` reports, if it is one.
#[must_use]
pub fn blocked_reason(status: &str) -> Option<BlockedReason> {
    match status.trim() {
        "FULL" => Some(BlockedReason::Full),
        "JOINEMPTY" => Some(BlockedReason::NoAgents),
        "JOINUNAVAIL" => Some(BlockedReason::NoAvailableAgents),
        _ => None,
    }
}

impl Entering {
    /// A `Newexten`: remembers the queue when the application is `Queue`.
    /// Returns whether it was one.
    pub fn note_newexten(&mut self, msg: &Message) -> bool {
        let is_queue = msg
            .get("Application")
            .is_some_and(|a| a.trim().eq_ignore_ascii_case("Queue"));
        let (Some(call), Some(data)) = (msg.get("Uniqueid"), msg.get("AppData")) else {
            return false;
        };
        let queue = data.split([',', '|']).next().unwrap_or("").trim();
        if !is_queue || queue.is_empty() {
            return false;
        }
        if self.queue_of.len() >= MAX_ENTERING && !self.queue_of.contains_key(call) {
            self.queue_of.clear();
        }
        self.queue_of.insert(call.to_owned(), queue.to_owned());
        true
    }

    /// The channel joined its queue, or is gone.
    pub fn forget(&mut self, call: &str) {
        self.queue_of.remove(call);
    }

    /// The queue whose `Queue()` refused `call`, forgotten once taken.
    pub fn take(&mut self, call: &str) -> Option<String> {
        self.queue_of.remove(call)
    }
}
