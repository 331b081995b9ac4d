//! Floor messages (`events.md`, "Floor messages"): the bounded set of a
//! tenant's active messages to the floor. Pure: the caller passes "now"
//! (the event's `ts` when a message is applied, the writer's wall clock
//! when a view is published); nothing here reads a clock.

use serde::{Deserialize, Serialize};

use wallboard_events::{FloorMessage, MessageAction, Severity, TimestampMs};

/// The most messages a tenant may have active at once.
pub const MAX_ACTIVE_MESSAGES: usize = 20;

/// One active message, as the live view shows it (`metrics.md`, "Floor
/// messages").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveMessage {
    /// The poster's id of the message (the event's `message`, 1..128
    /// characters): a `post` with it replaces, a `delete` takes it down.
    pub id: String,
    /// What the floor reads, shown as typed (1..500 characters).
    pub text: String,
    /// How urgent it is: boards show `critical` first, then `warning`, then
    /// `info`.
    pub severity: Severity,
    /// The `ts` of the `post` that put this version up, Unix epoch ms.
    pub posted_ms: TimestampMs,
    /// Unix epoch ms from which the message is no longer shown (active
    /// while `now < expires_ms`).
    pub expires_ms: TimestampMs,
    /// Queue names the message is about; empty: the whole tenant
    /// (`events.md`, "Floor messages").
    pub queues: Vec<String>,
}

impl ActiveMessage {
    /// Whether the message is still up at `now`.
    #[must_use]
    pub fn active_at(&self, now: TimestampMs) -> bool {
        now < self.expires_ms
    }
}

/// What applying one `floor_message` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageOutcome {
    /// A new message is up.
    Posted,
    /// An active message with the same id was replaced.
    Replaced,
    /// The message was taken down.
    Deleted,
    /// A `delete` of an id that is not active: nothing changed.
    NotActive,
    /// A `post` of a new id while [`MAX_ACTIVE_MESSAGES`] are active:
    /// refused ([`wallboard_events::DeadLetterCode::MessagesFull`]).
    Full,
}

/// A tenant's active messages, at most [`MAX_ACTIVE_MESSAGES`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageBoard {
    messages: Vec<ActiveMessage>,
}

impl MessageBoard {
    /// Applies one `floor_message` event with time `ts` (also "now" for
    /// dropping the messages that have expired).
    pub fn apply(&mut self, m: &FloorMessage<'_>, ts: TimestampMs) -> MessageOutcome {
        self.messages.retain(|a| a.active_at(ts));
        let existing = self.messages.iter().position(|a| a.id == *m.message);
        let post = match &m.action {
            MessageAction::Delete => {
                return match existing {
                    Some(i) => {
                        self.messages.remove(i);
                        MessageOutcome::Deleted
                    }
                    None => MessageOutcome::NotActive,
                };
            }
            MessageAction::Post(p) => p,
        };
        let message = ActiveMessage {
            id: m.message.to_string(),
            text: post.text.to_string(),
            severity: post.severity,
            posted_ms: ts,
            expires_ms: post.expires_ms,
            queues: post
                .queues
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
        };
        match existing {
            Some(i) => {
                self.messages[i] = message;
                MessageOutcome::Replaced
            }
            None if self.messages.len() >= MAX_ACTIVE_MESSAGES => MessageOutcome::Full,
            None => {
                self.messages.push(message);
                MessageOutcome::Posted
            }
        }
    }

    /// The messages active at `now`: critical first, then warning, then
    /// info; within a severity the latest posted first, then by id.
    #[must_use]
    pub fn active(&self, now: TimestampMs) -> Vec<ActiveMessage> {
        let mut up: Vec<ActiveMessage> = self
            .messages
            .iter()
            .filter(|m| m.active_at(now))
            .cloned()
            .collect();
        up.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(b.posted_ms.cmp(&a.posted_ms))
                .then(a.id.cmp(&b.id))
        });
        up
    }

    /// Whether no message is kept (active or not yet dropped).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallboard_events::{parse_event_str, EventBody};

    fn event(json: &str) -> (FloorMessage<'static>, TimestampMs) {
        let e = parse_event_str(json).unwrap().into_owned();
        match e.body {
            EventBody::FloorMessage(m) => (m, e.ts),
            other => panic!("not a floor message: {other:?}"),
        }
    }

    fn post(id: &str, ts: i64, severity: &str, expires: i64) -> (FloorMessage<'static>, i64) {
        event(&format!(
            r#"{{"v":1,"id":"p-{id}-{ts}","ts":{ts},"kind":"floor_message","message":"{id}","action":"post","text":"t {id}","severity":"{severity}","expires_ms":{expires}}}"#
        ))
    }

    fn delete(id: &str, ts: i64) -> (FloorMessage<'static>, i64) {
        event(&format!(
            r#"{{"v":1,"id":"d-{id}","ts":{ts},"kind":"floor_message","message":"{id}","action":"delete"}}"#
        ))
    }

    fn ids(board: &MessageBoard, now: i64) -> Vec<String> {
        board.active(now).into_iter().map(|m| m.id).collect()
    }

    #[test]
    fn messages_are_up_until_they_expire_or_are_deleted() {
        let mut b = MessageBoard::default();
        let (m, ts) = post("a", 1000, "info", 5000);
        assert_eq!(b.apply(&m, ts), MessageOutcome::Posted);
        let (m, ts) = post("b", 2000, "critical", 9000);
        assert_eq!(b.apply(&m, ts), MessageOutcome::Posted);
        assert_eq!(ids(&b, 4999), ["b", "a"], "critical first");
        assert_eq!(ids(&b, 5000), ["b"], "gone at expires_ms");
        let (m, ts) = delete("b", 3000);
        assert_eq!(b.apply(&m, ts), MessageOutcome::Deleted);
        assert_eq!(ids(&b, 3000), ["a"]);
        assert_eq!(b.apply(&m, ts), MessageOutcome::NotActive);
    }

    #[test]
    fn a_post_with_the_same_id_replaces() {
        let mut b = MessageBoard::default();
        let (m, ts) = post("a", 1000, "info", 5000);
        b.apply(&m, ts);
        let (m, ts) = post("a", 2000, "warning", 8000);
        assert_eq!(b.apply(&m, ts), MessageOutcome::Replaced);
        let up = b.active(6000);
        assert_eq!(up.len(), 1);
        assert_eq!((up[0].severity, up[0].posted_ms), (Severity::Warning, 2000));
    }

    #[test]
    fn the_board_is_bounded_and_expired_messages_make_room() {
        let mut b = MessageBoard::default();
        for i in 0..MAX_ACTIVE_MESSAGES {
            let expires = 2000 + i64::try_from(i).unwrap();
            let (m, ts) = post(&format!("m{i}"), 1000, "info", expires);
            assert_eq!(b.apply(&m, ts), MessageOutcome::Posted);
        }
        let (m, ts) = post("one-too-many", 1500, "critical", 9000);
        assert_eq!(b.apply(&m, ts), MessageOutcome::Full);
        assert!(!ids(&b, 1500).contains(&"one-too-many".to_owned()));
        // At 2000 the first has expired: there is room again.
        let (m, _) = post("one-too-many", 2000, "critical", 9000);
        assert_eq!(b.apply(&m, 2000), MessageOutcome::Posted);
        assert_eq!(b.active(2000).len(), MAX_ACTIVE_MESSAGES);
    }

    #[test]
    fn the_board_round_trips_through_a_snapshot() {
        let mut b = MessageBoard::default();
        let (m, ts) = post("a", 1000, "critical", 5000);
        b.apply(&m, ts);
        let bytes = postcard::to_stdvec(&b).unwrap();
        let back: MessageBoard = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, b);
    }
}
