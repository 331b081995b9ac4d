//! Asterisk Manager Interface (AMI) → canonical events: the live
//! counterpart of the `queue_log` adapter (`adapters.md`), for Asterisk 13
//! and later (the event and field names of `apps/app_queue.c` since 12).
//!
//! - [`protocol`] frames the byte stream (banner, `Key: Value` lines, empty
//!   line) into messages, bounded and tolerant of bad input;
//! - [`translate`] maps queue and member events to canonical events;
//! - [`client`] is the TCP client: login, keep-alive pings, reconnection
//!   with back-off, resynchronisation with `QueueStatus` after each login.
//!
//! # Mapping
//!
//! `call` is the caller channel's `Uniqueid` (what `queue_log` writes as its
//! callid), `queue` the `Queue` header, `agent` the member's `Interface`
//! (e.g. `PJSIP/1001`; `Location` in `QueueMember`). `queue_log` writes the
//! member's name as agent, which Asterisk sets to the interface when a
//! member has no name: with named members, choose [`AgentKey::MemberName`]
//! to get the same agents as the `queue_log` adapter. Durations are whole
//! seconds in AMI, ·1000.
//!
//! | AMI event | fields used | canonical events |
//! |-----------|-------------|------------------|
//! | `QueueCallerJoin` | Uniqueid, Queue | `call_queued` |
//! | `AgentCalled` | Uniqueid, Queue, Interface | the member becomes `ringing` (`call` set) |
//! | `AgentRingNoAnswer`, `AgentDump` | Queue, Interface | the member stops ringing: `available`, or `not_ready` if paused |
//! | `AgentConnect` | Uniqueid, Queue, Interface, `HoldTime` | `call_answered` (`wait_ms` = HoldTime·1000); the member becomes `on_call`; members still ringing for the call stop ringing |
//! | `AgentComplete` | Uniqueid, Queue, Interface, `TalkTime`, Reason | `call_completed` (`talk_ms` = TalkTime·1000, `acw_ms` 0, `transferred` when Reason is `transfer`); the member becomes `available`, or `not_ready` if paused |
//! | `QueueCallerAbandon` | Uniqueid, Queue, `HoldTime` | `call_abandoned` (`wait_ms` = HoldTime·1000), or `call_dequeued` reason `timeout`/`empty` when `QUEUESTATUS` says so (below) |
//! | `QueueCallerLeave` | Uniqueid, Queue | nothing when answered; without abandon nor answer, `call_dequeued` reason `exit_key` (`wait_ms` = time since `QueueCallerJoin`) |
//! | `VarSet` `QUEUESTATUS` | Uniqueid, Value | `TIMEOUT` → reason `timeout`, `LEAVEEMPTY`/`LEAVEUNAVAIL` → `empty` for the call that just left |
//! | `Newexten` `Queue`, then `VarSet` `QUEUESTATUS` | Uniqueid, Application, `AppData` (queue name before the first `,`); Value | `FULL` → `call_blocked` reason `full`, `JOINEMPTY` → `no_agents`, `JOINUNAVAIL` → `no_available_agents` (the caller never joined; see [`blocked`]) |
//! | `Hangup` | Uniqueid | settles the outcome of a call that left its queue now |
//! | `QueueMemberAdded` | Queue, Interface, Status, Paused, `PausedReason`, `InCall` | `agent_queues` (the queue added); the member's state from its status (logs in as `available`) |
//! | `QueueMemberRemoved` | Queue, Interface | `agent_queues` (the queue removed); with no queue left, `logged_out` |
//! | `QueueMemberPause` | Queue, Interface, Paused, `PausedReason` (else Reason) | paused in that queue; `not_ready` (`reason` = `PausedReason`, or `other`) once paused in all its queues, unless on a call, then after it; unpaused: `available` |
//! | `QueueMemberStatus`, `QueueMemberPenalty`, `QueueMemberRinginuse` | Queue, Interface, Status, Paused, `PausedReason` | the state the device status gives: 1 `NOT_INUSE`, 0 UNKNOWN → idle (`available` or `not_ready`); 2 INUSE, 3 BUSY, 7 RINGINUSE, 8 ONHOLD → `on_call`; 6 RINGING → `ringing`; 4 INVALID, 5 UNAVAILABLE → `logged_out` |
//! | `QueueMember`, `QueueEntry`, `QueueStatusComplete` (answer to `QueueStatus`) | Queue, Location, Status, Paused, `PausedReason`, `InCall`; Uniqueid, Wait, Priority | after each login: every member's `agent_queues` and state as listed (members no longer listed get `[]` and `logged_out`); waiting calls unknown to us get `call_queued` (not on the first login of a process: its predecessor may have sent them); calls we thought waiting but not listed get `call_dequeued` reason `other` |
//! | `QueueParams`, `FullyBooted`, other events | | nothing (counted as ignored) |
//!
//! - No event repeats a state the member already has: Asterisk sends one
//!   `QueueMemberStatus`/`QueueMemberPause` per queue of the member, and
//!   device states that `AgentConnect`/`AgentComplete` already told.
//! - A member seen in a call event of a queue it was not known in is a
//!   member of that queue from then on (static members, like `queue_log`'s
//!   `CONNECT`).
//! - `InCall` is read from snapshots only (`QueueMember`,
//!   `QueueMemberAdded`): in live status events it lags `AgentComplete`.
//! - Wrap-up (`acw`) is not reported: AMI does not say when it ends.
//!
//! ## Answer, abandon or dequeue
//!
//! Asterisk's `app_queue` does not name a segment's outcome in one event:
//! it sends `QueueCallerLeave` for every way out of the queue, *before*
//! `AgentConnect` when the call is answered, and `QueueCallerAbandon` not
//! only when the caller hangs up but also on timeouts and leave-when-empty
//! (all go through its `record_abandoned`); only the channel variable
//! `QUEUESTATUS` (a `VarSet` event, class `dialplan`), set right after the
//! leave, tells those apart. So a segment that left is held until its
//! outcome is known: `AgentConnect` (answered; the leave is swallowed, in
//! either order), `VarSet QUEUESTATUS`, the caller's `Hangup`, the caller
//! joining another queue, or [`TranslatorConfig::settle_ms`] (2 s) of event
//! time without any of these. It is then emitted with the time and id of
//! the abandon (or leave) event, so when it is settled does not change it.
//! Without `dialplan` events, timeouts count as abandons.
//!
//! ## Times and ids
//!
//! `ts` is the event's `Timestamp:` header (manager.conf
//! `timestampevents = yes`), else the time the adapter received it,
//! corrected by the difference between the two clocks seen last (in an
//! event's `Timestamp:`, or in the answer to the `Ping` the client sends
//! right after logging in, so the `QueueStatus` answer, which has no
//! timestamps, is on Asterisk's clock too). Event
//! ids are `ami:<Event>:<Uniqueid or agent>@<Queue>:<Timestamp>#<n>`
//! (hashed when longer than 112 characters): the same AMI event always
//! gives the same ids, so replaying a capture or re-reading events after a
//! reconnect gives duplicates the aggregator drops. Without `Timestamp:`
//! the receive time and a sequence number stand in, unique but not
//! reproducible.

pub mod blocked;
pub mod client;
pub mod protocol;
pub mod translate;

pub use client::{
    run, ClientConfig, ClientError, Clock, ConfigError, Lost, Output, Secret, Skipped, Stats,
    SystemClock, Timing,
};
pub use protocol::{Frame, FrameError, Framer, Message, DEFAULT_MAX_MESSAGE_BYTES};
pub use translate::{
    AgentKey, TranslateError, TranslateProblem, Translator, TranslatorConfig, SOURCE,
};
