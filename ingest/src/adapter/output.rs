//! What a network adapter's client hands to its caller, in order.

use std::time::Duration;

use wallboard_events::event::Event;
use wallboard_events::DeadLetterCode;

/// One report of a client run (AMI, ESL).
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Logged in (and subscribed); `session` counts from 1, so a session
    /// after the first is a reconnection. `banner` is the server's greeting
    /// where the protocol has one (AMI's `Asterisk Call Manager/…`).
    Connected {
        /// The session's number, from 1.
        session: u64,
        /// The server's greeting, if the protocol has one.
        banner: Option<String>,
    },
    /// A translated event.
    Event(Event<'static>),
    /// Input that could not be used.
    Skipped(Skipped),
    /// The connection was lost; the next attempt comes after `retry_in`
    /// (`None`: the run ends).
    Disconnected {
        /// Why the connection ended (for people).
        reason: String,
        /// The wait before the next attempt; `None`: no reconnection.
        retry_in: Option<Duration>,
    },
    /// Time passed, while connected (ESL, every `ClientConfig::tick`).
    Tick,
}

/// A skipped message: where it was in the stream, why, and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Its number among the messages received since the run started (for
    /// input outside a message, of the last message before it).
    pub msgno: u64,
    /// Stable machine-readable reason (the `wallboard-code` header).
    pub code: DeadLetterCode,
    /// Why it was skipped, for people (the `wallboard-reason` header).
    pub reason: String,
    /// The bytes received (of an over-size message, its first bytes): the
    /// dead letter's payload.
    pub raw: Vec<u8>,
}
