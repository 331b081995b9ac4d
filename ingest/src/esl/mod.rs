//! `FreeSWITCH` → canonical events: `mod_callcenter`'s `callcenter::info`
//! events, read over the event socket (`mod_event_socket`, inbound mode).
//!
//! This module owns the `FreeSWITCH` adapter: the event-socket wire format
//! ([`protocol`]: framing, decoding of plain and JSON events), the
//! translation of `mod_callcenter`'s events ([`translate`]) and the TCP client
//! that authenticates, subscribes, keeps the connection alive and
//! reconnects ([`client`]). `wallboard ingest esl` runs the client and
//! publishes what it produces.
//!
//! # Mapping (the `FreeSWITCH` row of `adapters.md`)
//!
//! The client subscribes with `event plain CUSTOM callcenter::info`. Each
//! event carries `CC-Action` and `CC-*` headers (`mod_callcenter.c`); header
//! values arrive URL-encoded and are decoded. Identifiers are used as
//! `mod_callcenter` names them, `@domain` included (`support@default`,
//! `1000@default`): in multi-domain systems the domain tells tenants'
//! queues apart, so stripping it could merge two queues. The tenant is set
//! by configuration (default `default`).
//!
//! | `CC-Action` | condition | canonical events |
//! |-------------|-----------|------------------|
//! | `member-queue-start`, `member-queue-resume` | | `call_queued` |
//! | `agent-offering` | | the agent becomes `ringing` (`call` set); `agent_queues` if the queue is new for the agent |
//! | `bridge-agent-start` | | `call_answered` (`wait_ms` = `CC-Agent-Answered-Time` − `CC-Member-Joined-Time`); the agent becomes `on_call`; `agent_queues` if the queue is new |
//! | `bridge-agent-end` | | the talk ends (`talk_ms` = `CC-Bridge-Terminated-Time` − `CC-Agent-Answered-Time`); `call_completed` follows with the agent's next state (see wrap-up) |
//! | `member-queue-end` | `CC-Cause: Cancel`, `CC-Cancel-Reason` `BREAK_OUT` (the caller hung up) or `NONE`/absent | `call_abandoned` (`wait_ms` = `CC-Member-Leaving-Time` − `CC-Member-Joined-Time`) |
//! | | `Cancel`, `TIMEOUT` (max-wait-time) | `call_dequeued` reason `timeout` |
//! | | `Cancel`, `NO_AGENT_TIMEOUT` (max-wait-time-with-no-agent) | `call_dequeued` reason `empty` |
//! | | `Cancel`, `EXIT_WITH_KEY` (`cc_exit_keys`) | `call_dequeued` reason `exit_key` |
//! | | `Cancel`, any other reason | `call_dequeued` reason `other` |
//! | | `CC-Cause: Terminated` | nothing when `bridge-agent-end` was seen (counted as ignored); otherwise the talk ends here (`talk_ms` = `CC-Member-Leaving-Time` − `CC-Agent-Answered-Time`) |
//! | `agent-status-change` | `CC-Agent-Status`: `Logged Out` | `logged_out` |
//! | | `Available`, `Available (On Demand)` | the state decides (next rows) |
//! | | `On Break` | `not_ready` reason `break` |
//! | `agent-state-change` | `CC-Agent-State`: `Waiting` | `available` (or as the status says) |
//! | | `Receiving` | `ringing` |
//! | | `In a queue call` | `on_call` |
//! | | `Idle` after a call | `acw` (`call` set): the wrap-up of an agent `Available (On Demand)`, until it sets `Waiting` |
//! | | `Idle` otherwise | `not_ready` reason `idle` |
//! | | `Reserved` (`reserve-agents`) | `not_ready` reason `reserved` |
//! | `members-count`, `bridge-agent-fail`, `agent-*-get`, other actions and events | | nothing (counted as ignored); after `bridge-agent-fail` the agent's next `agent-state-change` says where it is |
//!
//! - **Agent state** combines status and state: while a call is offered
//!   (`Receiving`) or on (`In a queue call`), the agent is `ringing` /
//!   `on_call` whatever its status (`mod_callcenter` lets an agent log out or
//!   take a break during a call; like a paused Asterisk member, the new
//!   status shows after the call); otherwise `Logged Out` and `On Break`
//!   win, and with an `Available` status the state decides. An
//!   `agent_state` is emitted only when the combined state (or its reason
//!   or call) changes.
//! - **Call identity**: `call` is `CC-Member-Session-UUID`, the caller's
//!   channel: the same in every queue the call visits, so each visit is a
//!   segment `(call, queue)` as `events.md` wants, and the same id as the
//!   channel's CDR. `CC-Member-UUID` (a new one per queue entry) is used
//!   only when the session UUID is missing. `bridge-agent-*` events carry
//!   the *agent's* channel in `Unique-ID`; it is not used.
//! - **Wrap-up and completion**: `call_completed.ts` is the end of handling
//!   (after-call work included). `mod_callcenter` shows wrap-up only for
//!   agents `Available (On Demand)`: their state becomes `Idle` after the
//!   call until they set `Waiting` again; that period is `acw`, and the
//!   call completes when it ends, with `acw_ms` = its length (from the end
//!   of the talk). For other agents the state becomes `Waiting` right after
//!   the call and the call completes at the end of the talk with `acw_ms`
//!   0: the agent's `wrap-up-time` (a pause before the next offer) raises no
//!   event, so it cannot be shown. Either way the completion is emitted
//!   when the agent's next state arrives (right after the bridge ends),
//!   before that state; a new call or a missing end completes the previous
//!   one. One answered call completes once: the second end `mod_callcenter`
//!   reports (`member-queue-end` `Terminated` after `bridge-agent-end`)
//!   adds nothing. Transfers are not visible (`transferred` is false) and
//!   holds are not reported (`hold_ms` 0).
//! - **Times**: `ts` is the event's `Event-Date-Timestamp` (microseconds,
//!   set by `FreeSWITCH` as it fires the event, in every event) in
//!   milliseconds, except the deferred `call_completed` described above.
//!   Waits and talk times come from `mod_callcenter`'s own epoch-second
//!   fields (`CC-Member-Joined-Time`, `CC-Agent-Answered-Time`,
//!   `CC-Bridge-Terminated-Time`, `CC-Member-Leaving-Time`), as its CDR
//!   variables do. Those fields are not used for `ts`: truncated to the
//!   second, they would put e.g. an `on_call` before the `ringing` of the
//!   same second, and the aggregator discards agent states older than the
//!   agent's latest.
//! - **Event ids** are `<Core-UUID>:<Event-Sequence>:<n>`, `n` numbering
//!   the events one `FreeSWITCH` event maps to (a deferred `call_completed`
//!   is numbered with the event that releases it). Both headers are in
//!   every `FreeSWITCH` event and identify it uniquely across restarts (the
//!   core UUID changes at each start), so the same event translated twice
//!   gives the same ids. An event missing them is reported, not guessed at.
//! - **Resynchronisation** (after each connection): `callcenter_config
//!   agent list` sets every agent's status and state (agents not listed
//!   are logged out) and `callcenter_config tier list` sets every agent's
//!   queues (`agent_queues`); what differs from what was last emitted is
//!   emitted, with ids `<Core-UUID>:resync-agents:<ms>:<n>` /
//!   `…:resync-tiers:…`. A listing carries no time: they are timed by the
//!   local clock corrected by its difference from `FreeSWITCH`'s, as the
//!   latest event's `Event-Date-Timestamp` showed it (the local clock alone
//!   before any event), so that live events after them do not look older.
//!   A row that cannot be read is reported (`esl_resync_row`, with its
//!   text) and changes nothing: its agent is not logged out. A contact
//!   containing `|` (a failover dial string) is read, the columns after it
//!   counted from the end of the row. Calls waiting in queues while
//!   disconnected are not recovered.
//! - A message that cannot be framed or decoded, and an event that cannot
//!   be translated (a missing header, an unknown status), is reported with
//!   its number in the stream and its bytes, and skipped.

pub mod client;
pub mod protocol;
pub mod translate;

pub use client::{run, system_clock, ClientConfig, ClientError, Output, Skipped, Stats};
pub use protocol::{
    parse_json_event, parse_plain_event, DecodeError, Decoder, EslEvent, EventFormatError, Frame,
    HeaderError, Item, Problem,
};
pub use translate::{EslTranslator, SkippedRow, TranslateError, TranslateProblem, SOURCE};
