//! AMI events → canonical events (the mapping table is in the module doc of
//! [`crate::ami`]). Pure and stateful: it knows each member's queues, pause,
//! device status and current call, and each queue segment still open, so it
//! can tell an answer from an abandon from a dequeue (Asterisk does not say
//! it in one event) and never emits a state an agent already has.
//!
//! It does no I/O and reads no clock: the caller passes the time a message
//! was received, and calls [`Translator::tick`] now and then so that
//! segments whose outcome is still open get settled.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use crate::adapter::{CallerKeys, Emitter};
use wallboard_events::event::{
    AgentState, BlockedReason, DequeueReason, Event, EventBody, TimestampMs, MAX_DURATION_MS,
    TS_LIMIT_MS,
};
use wallboard_events::parse::{ident_problem, IdentProblem, MAX_IDENT};
use wallboard_events::DeadLetterCode;

use super::blocked::{blocked_reason, Entering};
use super::protocol::Message;

/// The `source` of every event this adapter produces.
pub const SOURCE: &str = "asterisk-ami";

/// Clamps a computed time into the range events accept.
fn valid_ts(t: TimestampMs) -> TimestampMs {
    t.clamp(0, TS_LIMIT_MS - 1)
}

/// Which member header names the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AgentKey {
    /// `Interface` (`Location` in `QueueMember`), e.g. `PJSIP/1001`.
    #[default]
    Interface,
    /// `MemberName` (`Name` in `QueueMember`), falling back to the
    /// interface when empty: what Asterisk writes as `queue_log`'s agent.
    MemberName,
}

/// How AMI events become canonical events.
#[derive(Debug, Clone)]
pub struct TranslatorConfig {
    /// Tenant of every event.
    pub tenant: String,
    /// Which AMI header names the agent.
    pub agent_key: AgentKey,
    /// How long a segment that left its queue waits for the event that
    /// tells how (`AgentConnect`, `VarSet QUEUESTATUS`, `Hangup`) before it
    /// is settled as abandoned or dequeued, in event-time milliseconds.
    pub settle_ms: i64,
    /// Hashes `QueueCallerJoin`'s `CallerIDNum` into `caller` (`events.md`,
    /// "Caller key"); `None`: no `caller`.
    pub caller_keys: Option<CallerKeys>,
}

impl Default for TranslatorConfig {
    fn default() -> Self {
        TranslatorConfig {
            tenant: wallboard_events::event::DEFAULT_TENANT.to_owned(),
            agent_key: AgentKey::Interface,
            settle_ms: 2_000,
            caller_keys: None,
        }
    }
}

/// Why an AMI event was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{event}: {reason}")]
pub struct TranslateError {
    /// The `Event:` name (or what stood in its place).
    pub event: String,
    /// Why it was skipped.
    pub reason: TranslateProblem,
}

/// What is wrong with an AMI event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranslateProblem {
    /// The message has no `Event:` header.
    #[error("not an event")]
    NotAnEvent,
    /// `Timestamp:` is not Unix seconds.
    #[error("Timestamp {0:?} is not Unix seconds")]
    Timestamp(String),
    /// A required header is absent or blank.
    #[error("missing {0}")]
    Missing(&'static str),
    /// An identifier header is not a valid identifier.
    #[error("{key} {problem}")]
    Ident {
        /// The header.
        key: &'static str,
        /// What is wrong with it.
        problem: IdentProblem,
    },
    /// A duration header is not whole seconds.
    #[error("{key} {value:?} is not whole seconds")]
    NotSeconds {
        /// The header.
        key: &'static str,
        /// Its value.
        value: String,
    },
    /// A duration header is longer than [`MAX_DURATION_MS`].
    #[error("{key} {value:?} s is longer than a call can last ({} s)", MAX_DURATION_MS / 1000)]
    TooLong {
        /// The header.
        key: &'static str,
        /// Its value.
        value: String,
    },
    /// `Status:` is not one of Asterisk's device states.
    #[error("Status {0:?} is not a device state (0-8)")]
    Device(String),
    /// `Priority:` is not an integer.
    #[error("Priority {0:?} is not an integer")]
    Priority(String),
    /// A refused caller whose queue no `Newexten` of `Queue()` named.
    #[error(
        "QUEUESTATUS {reason}: no Newexten of Queue() seen for {call}, so the queue is unknown"
    )]
    UnknownQueue {
        /// Why `Queue()` refused the call.
        reason: BlockedReason,
        /// The call's `Uniqueid`.
        call: String,
    },
    /// The queue a `Newexten` of `Queue()` named is not a valid identifier.
    #[error("Newexten AppData: queue {queue:?} {problem}")]
    NewextenQueue {
        /// The queue as named.
        queue: String,
        /// What is wrong with it.
        problem: IdentProblem,
    },
}

impl TranslateError {
    /// Stable machine-readable reason (dead-letter `wallboard-code`).
    #[must_use]
    pub fn code(&self) -> DeadLetterCode {
        DeadLetterCode::AmiInvalidEvent
    }
}

/// Where the canonical events an AMI event maps to are appended.
type Events = Vec<Event<'static>>;

/// What translating one AMI event comes to.
type Step = Result<(), TranslateProblem>;

/// A member's device state (`Status` of the `QueueMember*` events, Asterisk's
/// `AST_DEVICE_*` numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Device {
    #[default]
    Unknown,
    NotInUse,
    InUse,
    Busy,
    Invalid,
    Unavailable,
    Ringing,
    RingInUse,
    OnHold,
}

impl Device {
    fn from_code(s: &str) -> Option<Device> {
        Some(match s.trim() {
            "0" => Device::Unknown,
            "1" => Device::NotInUse,
            "2" => Device::InUse,
            "3" => Device::Busy,
            "4" => Device::Invalid,
            "5" => Device::Unavailable,
            "6" => Device::Ringing,
            "7" => Device::RingInUse,
            "8" => Device::OnHold,
            _ => return None,
        })
    }

    /// On some call (queue or not), hold included.
    fn busy(self) -> bool {
        matches!(
            self,
            Device::InUse | Device::Busy | Device::RingInUse | Device::OnHold
        )
    }

    /// Asterisk counts such a member as not logged in (`QUEUE_MEMBER(…,logged)`).
    fn unreachable(self) -> bool {
        matches!(self, Device::Invalid | Device::Unavailable)
    }
}

type Emitted = (AgentState, Option<String>, Option<String>);

#[derive(Debug, Default)]
struct Member {
    queues: BTreeSet<String>,
    /// Queues it is paused in, with the pause reason.
    paused: BTreeMap<String, String>,
    /// Reason of the latest pause.
    pause_reason: Option<String>,
    device: Device,
    /// `InCall: 1` of a `QueueStatus` snapshot, for a call we did not see start.
    in_call: bool,
    /// The queue call it is connected to (`AgentConnect` until `AgentComplete`).
    call: Option<String>,
    /// The queue call offered to it (`AgentCalled`).
    ringing: Option<String>,
    /// The last `agent_state` emitted: state, reason, call.
    emitted: Option<Emitted>,
}

impl Member {
    /// The agent state the facts add up to.
    fn derive(&self) -> Emitted {
        use AgentState as S;
        if self.queues.is_empty() {
            return (S::LoggedOut, None, None);
        }
        if let Some(c) = &self.call {
            return (S::OnCall, None, Some(c.clone()));
        }
        if let Some(c) = &self.ringing {
            return (S::Ringing, None, Some(c.clone()));
        }
        if self.device.unreachable() {
            return (S::LoggedOut, None, None);
        }
        if self.in_call || self.device.busy() {
            return (S::OnCall, None, None);
        }
        if self.device == Device::Ringing {
            return (S::Ringing, None, None);
        }
        // Paused in one queue still takes calls from the others.
        if self.queues.iter().all(|q| self.paused.contains_key(q)) {
            let reason = self.pause_reason.clone().unwrap_or_else(|| "other".into());
            return (S::NotReady, Some(reason), None);
        }
        (S::Available, None, None)
    }
}

/// A mark left by `QueueCallerAbandon` or `QueueCallerLeave`: when, under
/// which id, and the wait it implies.
#[derive(Debug, Clone)]
struct Mark {
    ts: TimestampMs,
    id: String,
    wait_ms: Option<u64>,
}

/// One visit of a call to a queue, while its outcome is not yet emitted.
#[derive(Debug, Clone, Default)]
struct Segment {
    queued_ts: Option<TimestampMs>,
    /// `AgentConnect` was seen: a `QueueCallerLeave` is the answer's.
    answered: bool,
    abandon: Option<Mark>,
    left: Option<Mark>,
    /// From `VarSet QUEUESTATUS` (`TIMEOUT`, `LEAVEEMPTY`, …).
    status: Option<DequeueReason>,
}

impl Segment {
    /// Left the queue, outcome not yet emitted: since when.
    fn pending_since(&self) -> Option<TimestampMs> {
        if self.answered {
            return None;
        }
        match (&self.abandon, &self.left) {
            (Some(a), Some(l)) => Some(a.ts.min(l.ts)),
            (Some(m), None) | (None, Some(m)) => Some(m.ts),
            (None, None) => None,
        }
    }
}

/// What a `QueueStatus` answer said about one member in one queue.
#[derive(Debug)]
struct SeenMember {
    queue: String,
    device: Option<Device>,
    paused: Option<String>,
    in_call: bool,
}

/// A `QueueStatus` answer being collected.
#[derive(Debug, Default)]
struct Resync {
    members: BTreeMap<String, Vec<SeenMember>>,
    entries: Vec<(String, String, u64, Option<i64>)>,
    before_members: BTreeSet<String>,
    before_segments: BTreeSet<(String, String)>,
    /// Changed by live events while the answer was coming: those are newer
    /// than the answer, which must not undo them.
    touched_members: HashSet<String>,
    touched_segments: HashSet<(String, String)>,
}

/// Translates the events of one Asterisk (across reconnections).
#[derive(Debug)]
pub struct Translator {
    cfg: TranslatorConfig,
    /// `cfg.tenant`, shared with the emitters while the state changes.
    tenant: Arc<str>,
    /// Channels in `Queue()` not joined yet (blocked calls).
    entering: Entering,
    members: BTreeMap<String, Member>,
    segments: BTreeMap<(String, String), Segment>,
    resync: Option<Resync>,
    /// A `QueueStatus` answer was applied once: calls it lists that we do
    /// not know joined while we were disconnected.
    synced: bool,
    /// Event clock minus receive clock, from the latest `Timestamp:`.
    skew_ms: i64,
    /// Numbers events without `Timestamp:`, to keep their ids unique.
    seq: u64,
    /// Events that map to nothing (unknown ones included).
    pub ignored: u64,
}

impl Translator {
    /// A translator with no member or segment known yet.
    #[must_use]
    pub fn new(cfg: TranslatorConfig) -> Self {
        Translator {
            tenant: Arc::from(cfg.tenant.as_str()),
            entering: Entering::default(),
            cfg,
            members: BTreeMap::new(),
            segments: BTreeMap::new(),
            resync: None,
            synced: false,
            skew_ms: 0,
            seq: 0,
            ignored: 0,
        }
    }

    /// The settings it translates with.
    #[must_use]
    pub fn config(&self) -> &TranslatorConfig {
        &self.cfg
    }

    /// A `QueueStatus` action was just sent: its `QueueMember` and
    /// `QueueEntry` events are collected until `QueueStatusComplete`, then
    /// the state is reconciled with them.
    pub fn begin_resync(&mut self) {
        self.resync = Some(Resync {
            before_members: self.members.keys().cloned().collect(),
            before_segments: self.segments.keys().cloned().collect(),
            ..Resync::default()
        });
    }

    /// The `QueueStatus` answer will not come (refused, or its
    /// `QueueStatusComplete` never came): what was collected is dropped and
    /// `QueueMember`/`QueueEntry` events apply as they come again.
    pub fn abort_resync(&mut self) {
        self.resync = None;
    }

    /// A `QueueStatus` answer is being collected.
    #[must_use]
    pub fn resyncing(&self) -> bool {
        self.resync.is_some()
    }

    /// Translates one AMI event received at `received_ms` (the receiver's
    /// clock, used when the event has no `Timestamp:`); the canonical events
    /// it maps to are appended to `out`.
    pub fn translate(
        &mut self,
        msg: &Message,
        received_ms: TimestampMs,
        out: &mut Vec<Event<'static>>,
    ) -> Result<(), TranslateError> {
        let name = msg.event().ok_or_else(|| TranslateError {
            event: "(no Event header)".into(),
            reason: TranslateProblem::NotAnEvent,
        })?;
        let err = |reason: TranslateProblem| TranslateError {
            event: name.to_owned(),
            reason,
        };
        let (ts, stamp) = if let Some(t) = msg.get("Timestamp") {
            let ts =
                parse_timestamp(t).ok_or_else(|| err(TranslateProblem::Timestamp(t.to_owned())))?;
            self.skew_ms = ts.saturating_sub(received_ms);
            (ts, t.trim().to_owned())
        } else {
            self.seq += 1;
            let ts = valid_ts(received_ms.saturating_add(self.skew_ms));
            (ts, format!("r{ts}.{}", self.seq))
        };
        let ev = Incoming {
            name,
            msg,
            ts,
            stamp: &stamp,
        };
        self.event(&ev, out).map_err(err)?;
        self.settle_until(ts, out);
        Ok(())
    }

    /// Aligns the clock used for events without `Timestamp:` (the
    /// `QueueStatus` answer) with the server's: `event_ms` is a server time
    /// (the `Timestamp:` of a `Ping` answer) seen at `received_ms`.
    pub fn observe_clock(&mut self, event_ms: TimestampMs, received_ms: TimestampMs) {
        self.skew_ms = event_ms.saturating_sub(received_ms);
    }

    /// Settles segments whose outcome did not come within `settle_ms`;
    /// `received_ms` is the receiver's clock (corrected to event time).
    pub fn tick(&mut self, received_ms: TimestampMs, out: &mut Vec<Event<'static>>) {
        self.settle_until(received_ms.saturating_add(self.skew_ms), out);
    }

    /// The input ended: settles every open outcome now.
    pub fn finish(&mut self, out: &mut Vec<Event<'static>>) {
        self.settle_until(TimestampMs::MAX, out);
    }

    /// Segments that left their queue and wait for their outcome.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.segments
            .values()
            .filter(|s| s.pending_since().is_some())
            .count()
    }

    fn agent<'m>(&self, msg: &'m Message, queue_status: bool) -> Result<&'m str, TranslateProblem> {
        let (iface, name) = if queue_status {
            ("Location", "Name")
        } else {
            ("Interface", "MemberName")
        };
        match self.cfg.agent_key {
            AgentKey::MemberName if msg.get(name).is_some_and(|n| !n.trim().is_empty()) => {
                ident(msg, name)
            }
            _ => ident(msg, iface),
        }
    }

    /// The queue and the agent of a member event, checked in that order.
    fn queue_agent<'m>(
        &self,
        msg: &'m Message,
        queue_status: bool,
    ) -> Result<(&'m str, &'m str), TranslateProblem> {
        Ok((ident(msg, "Queue")?, self.agent(msg, queue_status)?))
    }

    /// The emitter of what a member's event maps to (ids of agent and
    /// queue); a resync under way counts the member as seen.
    fn member_emitter<'o>(
        &mut self,
        ev: &Incoming<'_>,
        agent: &str,
        queue: &str,
        out: &'o mut Vec<Event<'static>>,
    ) -> Emitter<'o> {
        self.touch_member(agent);
        emitter(out, self.tenant.clone(), ev.ts, ev.id(agent, queue))
    }

    fn touch_member(&mut self, agent: &str) {
        if let Some(r) = &mut self.resync {
            r.touched_members.insert(agent.to_owned());
        }
    }

    fn touch_segment(&mut self, key: &(String, String)) {
        if let Some(r) = &mut self.resync {
            r.touched_segments.insert(key.clone());
        }
    }

    /// Translates one event, parsed once into its kind.
    fn event(&mut self, ev: &Incoming<'_>, out: &mut Events) -> Step {
        use AmiEvent::{
            AgentCalled, AgentComplete, AgentConnect, CallerAbandon, CallerJoin, CallerLeave,
            Hangup, MemberChange, Newexten, Other, QueueEntry, QueueMember, RingStopped,
            StatusComplete, VarSet,
        };
        match AmiEvent::parse(ev.name) {
            CallerJoin => self.caller_join(ev, out),
            CallerAbandon => self.caller_abandon(ev),
            CallerLeave => self.caller_leave(ev),
            AgentConnect => self.agent_connect(ev, out),
            AgentComplete => self.agent_complete(ev, out),
            AgentCalled => self.agent_called(ev, out),
            RingStopped => self.ring_stopped(ev, out),
            MemberChange => self.member_change(ev, out),
            QueueMember => self.queue_member(ev, out),
            QueueEntry => self.queue_entry(ev),
            StatusComplete => {
                self.status_complete(ev, out);
                Ok(())
            }
            VarSet => self.var_set(ev, out),
            Hangup => {
                self.hangup(ev, out);
                Ok(())
            }
            Newexten if self.entering.note_newexten(ev.msg) => Ok(()),
            Newexten | Other => {
                self.ignored += 1;
                Ok(())
            }
        }
    }

    /// A call joins a queue.
    fn caller_join(&mut self, ev: &Incoming<'_>, out: &mut Events) -> Step {
        let Incoming { msg, ts, .. } = *ev;
        let (call, queue) = call_and_queue(msg)?;
        self.entering.forget(call);
        let mut emit = emitter(out, self.tenant.clone(), ts, ev.id(call, queue));
        // A call joining another queue is done with the previous one.
        self.settle_call(call, &mut emit);
        let key = (call.to_owned(), queue.to_owned());
        self.touch_segment(&key);
        self.segments.insert(
            key,
            Segment {
                queued_ts: Some(ts),
                ..Segment::default()
            },
        );
        emit.push(EventBody::CallQueued {
            call: owned(call),
            queue: owned(queue),
            priority: None,
            caller: self.cfg.caller_keys.as_ref().and_then(|k| {
                let id = msg.get("CallerIDNum")?;
                k.key(id).map(Cow::Owned)
            }),
        });
        Ok(())
    }

    /// Asterisk says abandoned: held until the outcome is known.
    fn caller_abandon(&mut self, ev: &Incoming<'_>) -> Step {
        let Incoming { msg, ts, .. } = *ev;
        // Asterisk raises it for hang-ups, but also for timeouts and
        // leave-when-empty (all go through its record_abandoned):
        // the outcome is settled once we know which.
        let (call, queue) = call_and_queue(msg)?;
        let wait_ms = secs(msg, "HoldTime")?;
        let key = (call.to_owned(), queue.to_owned());
        self.touch_segment(&key);
        let seg = self.segments.entry(key).or_default();
        if !seg.answered {
            seg.abandon = Some(Mark {
                ts,
                id: ev.id(call, queue),
                wait_ms,
            });
        }
        Ok(())
    }

    /// A call leaves its queue, however.
    fn caller_leave(&mut self, ev: &Incoming<'_>) -> Step {
        let Incoming { msg, ts, .. } = *ev;
        // Sent for every way out of the queue, answers included, and
        // *before* `AgentConnect`: the outcome is settled later.
        let (call, queue) = call_and_queue(msg)?;
        let key = (call.to_owned(), queue.to_owned());
        self.touch_segment(&key);
        let seg = self.segments.entry(key.clone()).or_default();
        if seg.answered {
            self.segments.remove(&key);
        } else {
            seg.left = Some(Mark {
                ts,
                id: ev.id(call, queue),
                wait_ms: seg.queued_ts.and_then(|q| ms_between(q, ts)),
            });
        }
        Ok(())
    }

    /// A member answers.
    fn agent_connect(&mut self, ev: &Incoming<'_>, out: &mut Events) -> Step {
        let Incoming { msg, ts, .. } = *ev;
        let (call, queue) = call_and_queue(msg)?;
        let agent = self.agent(msg, false)?;
        let wait_ms = secs(msg, "HoldTime")?;
        let mut emit = emitter(out, self.tenant.clone(), ts, ev.id(call, queue));
        let key = (call.to_owned(), queue.to_owned());
        self.touch_segment(&key);
        self.touch_member(agent);
        let seg = self.segments.entry(key.clone()).or_default();
        if seg.left.is_some() {
            self.segments.remove(&key);
        } else {
            // Its `QueueCallerLeave` is still to come: swallow it.
            seg.answered = true;
            seg.abandon = None;
        }
        emit.push(EventBody::CallAnswered {
            call: owned(call),
            queue: owned(queue),
            agent: owned(agent),
            wait_ms,
        });
        let m = member_in(&mut self.members, agent, queue, &mut emit);
        m.call = Some(call.to_owned());
        m.ringing = None;
        m.device = Device::InUse;
        sync_state(agent, m, &mut emit);
        // Ring-all: the others stop ringing for this call.
        stop_ringing(&mut self.members, call, &mut emit);
        Ok(())
    }

    /// A member's call ends.
    fn agent_complete(&mut self, ev: &Incoming<'_>, out: &mut Events) -> Step {
        let Incoming { msg, ts, .. } = *ev;
        let (event_call, queue) = call_and_queue(msg)?;
        let agent = self.agent(msg, false)?;
        let talk_ms = secs(msg, "TalkTime")?.ok_or(TranslateProblem::Missing("TalkTime"))?;
        let transferred = msg
            .get("Reason")
            .is_some_and(|r| r.trim().eq_ignore_ascii_case("transfer"));
        let mut emit = emitter(out, self.tenant.clone(), ts, ev.id(event_call, queue));
        self.touch_member(agent);
        let m = member_in(&mut self.members, agent, queue, &mut emit);
        // The call it was connected to: after a Local channel
        // optimisation the event may name the replacing channel.
        let call = m.call.take().unwrap_or_else(|| event_call.to_owned());
        m.in_call = false;
        if m.device.busy() {
            // Its device state update may lag; the call is over.
            m.device = Device::NotInUse;
        }
        emit.push(EventBody::CallCompleted {
            call: Cow::Owned(call.clone()),
            queue: owned(queue),
            agent: owned(agent),
            talk_ms,
            hold_ms: 0,
            acw_ms: 0,
            transferred,
        });
        sync_state(agent, m, &mut emit);
        self.segments.remove(&(call, queue.to_owned()));
        Ok(())
    }

    /// A member rings.
    fn agent_called(&mut self, ev: &Incoming<'_>, out: &mut Events) -> Step {
        let call = ident(ev.msg, "Uniqueid")?;
        let (queue, agent) = self.queue_agent(ev.msg, false)?;
        let mut emit = self.member_emitter(ev, agent, queue, out);
        let m = member_in(&mut self.members, agent, queue, &mut emit);
        m.ringing = Some(call.to_owned());
        sync_state(agent, m, &mut emit);
        Ok(())
    }

    /// A member stops ringing unanswered.
    fn ring_stopped(&mut self, ev: &Incoming<'_>, out: &mut Events) -> Step {
        let (queue, agent) = self.queue_agent(ev.msg, false)?;
        let mut emit = self.member_emitter(ev, agent, queue, out);
        let m = member_in(&mut self.members, agent, queue, &mut emit);
        m.ringing = None;
        if m.device == Device::Ringing {
            m.device = Device::NotInUse;
        }
        sync_state(agent, m, &mut emit);
        Ok(())
    }

    /// A member is added, removed, paused or changes device state.
    fn member_change(&mut self, ev: &Incoming<'_>, out: &mut Events) -> Step {
        let Incoming { msg, name, .. } = *ev;
        let (queue, agent) = self.queue_agent(msg, false)?;
        let device = device(msg)?;
        let mut emit = self.member_emitter(ev, agent, queue, out);
        if name == "QueueMemberRemoved" {
            let m = self.members.entry(agent.to_owned()).or_default();
            m.queues.remove(queue);
            m.paused.remove(queue);
            emit.push(queues_event(agent, m));
            sync_state(agent, m, &mut emit);
            return Ok(());
        }
        let m = member_in(&mut self.members, agent, queue, &mut emit);
        apply_member(m, queue, msg, device, name == "QueueMemberAdded");
        sync_state(agent, m, &mut emit);
        Ok(())
    }

    /// A member listed by `QueueStatus`.
    fn queue_member(&mut self, ev: &Incoming<'_>, out: &mut Events) -> Step {
        let msg = ev.msg;
        let (queue, agent) = self.queue_agent(msg, true)?;
        let device = device(msg)?;
        if let Some(r) = &mut self.resync {
            r.members
                .entry(agent.to_owned())
                .or_default()
                .push(SeenMember {
                    queue: queue.to_owned(),
                    device,
                    paused: paused(msg),
                    in_call: msg.get("InCall").is_some_and(truthy),
                });
        } else {
            // An answer to someone else's QueueStatus: still true.
            let mut emit = self.member_emitter(ev, agent, queue, out);
            let m = member_in(&mut self.members, agent, queue, &mut emit);
            apply_member(m, queue, msg, device, true);
            sync_state(agent, m, &mut emit);
        }
        Ok(())
    }

    /// A waiting call listed by `QueueStatus`.
    fn queue_entry(&mut self, ev: &Incoming<'_>) -> Step {
        let Incoming { msg, ts, .. } = *ev;
        let (call, queue) = call_and_queue(msg)?;
        let wait_s = secs(msg, "Wait")?.unwrap_or(0) / 1000;
        let priority = match msg.get("Priority") {
            Some(p) => Some(
                p.trim()
                    .parse::<i64>()
                    .map_err(|_| TranslateProblem::Priority(p.to_owned()))?,
            ),
            None => None,
        };
        if let Some(r) = &mut self.resync {
            r.entries
                .push((call.to_owned(), queue.to_owned(), wait_s, priority));
        } else {
            let queued = valid_ts(ts.saturating_sub(ms_i64(wait_s)));
            self.segments
                .entry((call.to_owned(), queue.to_owned()))
                .or_insert_with(|| Segment {
                    queued_ts: Some(queued),
                    ..Segment::default()
                });
        }
        Ok(())
    }

    /// The end of the `QueueStatus` answer.
    fn status_complete(&mut self, ev: &Incoming<'_>, out: &mut Vec<Event<'static>>) {
        let Incoming {
            msg,
            ts,
            name,
            stamp,
            ..
        } = *ev;
        match self.resync.take() {
            Some(r) => {
                let action = msg.action_id().unwrap_or("");
                let id = make_id(name, action, "", stamp);
                let mut emit = emitter(out, self.tenant.clone(), ts, id);
                // Calls announced by the answer get their own ids.
                let call_id = |call: &str, queue: &str| {
                    make_id(name, &format!("{action}:{call}"), queue, stamp)
                };
                self.reconcile(&r, ts, &mut emit, call_id);
            }
            None => self.ignored += 1,
        }
    }

    /// `QUEUESTATUS` tells how a call that left its queue ended.
    fn var_set(&mut self, ev: &Incoming<'_>, out: &mut Events) -> Step {
        let Incoming { msg, ts, .. } = *ev;
        // `QUEUESTATUS` is set right after the caller left: it tells
        // a timeout or an empty queue from a caller hanging up.
        let is_status = msg
            .get("Variable")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("QUEUESTATUS"));
        let reason = msg.get("Value").and_then(|v| match v.trim() {
            "TIMEOUT" => Some(DequeueReason::Timeout),
            "LEAVEEMPTY" | "LEAVEUNAVAIL" => Some(DequeueReason::Empty),
            _ => None,
        });
        let call = msg.get("Uniqueid").unwrap_or("");
        if let Some(refused) = msg.get("Value").filter(|_| is_status) {
            if let Some(reason) = blocked_reason(refused) {
                return self.blocked(ev, reason, out);
            }
        }
        if !is_status || !self.has_pending(call) {
            self.ignored += 1;
            return Ok(());
        }
        for (_, seg) in self.call_segments_mut(call) {
            if seg.pending_since().is_some() && reason.is_some() {
                seg.status = reason;
            }
        }
        let mut emit = emitter(out, self.tenant.clone(), ts, ev.id(call, ""));
        self.settle_call(call, &mut emit);
        Ok(())
    }

    /// `QUEUESTATUS` says `Queue()` refused the caller: `call_blocked` for
    /// the queue its `Newexten` named.
    fn blocked(&mut self, ev: &Incoming<'_>, reason: BlockedReason, out: &mut Events) -> Step {
        let call = ident(ev.msg, "Uniqueid")?;
        let queue = self
            .entering
            .take(call)
            .ok_or_else(|| TranslateProblem::UnknownQueue {
                reason,
                call: call.to_owned(),
            })?;
        if let Some(problem) = ident_problem(&queue, MAX_IDENT) {
            return Err(TranslateProblem::NewextenQueue { queue, problem });
        }
        let mut emit = emitter(out, self.tenant.clone(), ev.ts, ev.id(call, &queue));
        emit.push(EventBody::CallBlocked {
            call: owned(call),
            queue: Cow::Owned(queue),
            reason,
        });
        Ok(())
    }

    /// The caller hung up.
    fn hangup(&mut self, ev: &Incoming<'_>, out: &mut Vec<Event<'static>>) {
        let Incoming { msg, ts, .. } = *ev;
        // The caller is gone: whatever it left, it was not answered.
        let call = msg.get("Uniqueid").unwrap_or("");
        self.entering.forget(call);
        if !self.has_pending(call) {
            self.ignored += 1;
            return;
        }
        let mut emit = emitter(out, self.tenant.clone(), ts, ev.id(call, ""));
        self.settle_call(call, &mut emit);
    }

    fn has_pending(&self, call: &str) -> bool {
        self.segments
            .range((call.to_owned(), String::new())..)
            .take_while(|((c, _), _)| c == call)
            .any(|(_, s)| s.pending_since().is_some())
    }

    fn call_segments_mut<'s>(
        &'s mut self,
        call: &'s str,
    ) -> impl Iterator<Item = (&'s (String, String), &'s mut Segment)> + 's {
        self.segments
            .range_mut((call.to_owned(), String::new())..)
            .take_while(move |((c, _), _)| c == call)
    }

    /// Emits the outcome of every segment of `call` that left its queue.
    fn settle_call(&mut self, call: &str, emit: &mut Emitter<'_>) {
        let keys: Vec<_> = self
            .call_segments_mut(call)
            .filter(|(_, s)| s.pending_since().is_some())
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            if let Some(seg) = self.segments.remove(&key) {
                self.outcome(&key, seg, emit);
            }
        }
    }

    /// Emits the outcome of segments pending since `settle_ms` before `now`.
    fn settle_until(&mut self, now: TimestampMs, out: &mut Vec<Event<'static>>) {
        let due: Vec<_> = self
            .segments
            .iter()
            .filter(|(_, s)| {
                s.pending_since()
                    .is_some_and(|t| t.saturating_add(self.cfg.settle_ms) <= now)
            })
            .map(|(k, _)| k.clone())
            .collect();
        if due.is_empty() {
            return;
        }
        let mut emit = emitter(out, self.tenant.clone(), now, String::new());
        for key in due {
            if let Some(seg) = self.segments.remove(&key) {
                self.outcome(&key, seg, &mut emit);
            }
        }
    }

    /// Abandoned when Asterisk said so and nothing says it timed out;
    /// dequeued otherwise (a leave without abandon nor answer is an exit
    /// by key: the only other way out of `Queue()`).
    fn outcome(&mut self, (call, queue): &(String, String), seg: Segment, emit: &mut Emitter<'_>) {
        let (mark, body) = match (seg.abandon, seg.left) {
            (Some(a), _) => {
                let body = match seg.status {
                    Some(reason) => EventBody::CallDequeued {
                        call: owned(call),
                        queue: owned(queue),
                        reason,
                        wait_ms: a.wait_ms,
                    },
                    None => EventBody::CallAbandoned {
                        call: owned(call),
                        queue: owned(queue),
                        wait_ms: a.wait_ms,
                    },
                };
                (a, body)
            }
            (None, Some(l)) => {
                let body = EventBody::CallDequeued {
                    call: owned(call),
                    queue: owned(queue),
                    reason: seg.status.unwrap_or(DequeueReason::ExitKey),
                    wait_ms: l.wait_ms,
                };
                (l, body)
            }
            (None, None) => return,
        };
        // Under the mark's own id and time: settling later or sooner gives
        // the same event.
        let mut sub = emit.under(mark.ts, mark.id);
        sub.push(body);
        stop_ringing(&mut self.members, call, &mut sub);
    }

    fn reconcile(
        &mut self,
        r: &Resync,
        ts: TimestampMs,
        emit: &mut Emitter<'_>,
        call_id: impl Fn(&str, &str) -> String,
    ) {
        self.resync_members(r, emit);
        let listed = self.resync_entries(r, ts, emit, call_id);
        self.drop_unlisted(r, &listed, ts, emit);
        self.synced = true;
    }

    /// Members as listed; members no longer listed leave their queues.
    fn resync_members(&mut self, r: &Resync, emit: &mut Emitter<'_>) {
        for (agent, seen) in &r.members {
            if r.touched_members.contains(agent) {
                continue;
            }
            let m = self.members.entry(agent.clone()).or_default();
            let queues: BTreeSet<String> = seen.iter().map(|s| s.queue.clone()).collect();
            if m.queues != queues {
                m.queues = queues;
                emit.push(queues_event(agent, m));
            }
            m.paused = seen
                .iter()
                .filter_map(|s| Some((s.queue.clone(), s.paused.clone()?)))
                .collect();
            if let Some(reason) = m.paused.values().next() {
                if m.pause_reason.is_none() {
                    m.pause_reason = Some(reason.clone());
                }
            }
            if let Some(d) = seen.iter().rev().find_map(|s| s.device) {
                m.device = d;
            }
            m.in_call = seen.iter().any(|s| s.in_call);
            if !m.in_call {
                m.call = None;
            }
            m.ringing = None;
            sync_state(agent, m, emit);
        }
        for agent in &r.before_members {
            if r.members.contains_key(agent) || r.touched_members.contains(agent) {
                continue;
            }
            if let Some(m) = self.members.get_mut(agent) {
                if !m.queues.is_empty() {
                    m.queues.clear();
                    m.paused.clear();
                    emit.push(queues_event(agent, m));
                }
                m.call = None;
                m.ringing = None;
                sync_state(agent, m, emit);
            }
        }
    }

    /// Waiting calls as listed; the segments listed are returned.
    fn resync_entries(
        &mut self,
        r: &Resync,
        ts: TimestampMs,
        emit: &mut Emitter<'_>,
        call_id: impl Fn(&str, &str) -> String,
    ) -> HashSet<(String, String)> {
        let mut listed = HashSet::new();
        for (call, queue, wait_s, priority) in &r.entries {
            let key = (call.clone(), queue.clone());
            listed.insert(key.clone());
            if r.touched_segments.contains(&key) || self.segments.contains_key(&key) {
                continue;
            }
            let queued = valid_ts(ts.saturating_sub(ms_i64(*wait_s)));
            if self.synced {
                // Joined while we were disconnected: nobody announced it.
                let mut sub = emit.under(queued, call_id(&key.0, &key.1));
                sub.push(EventBody::CallQueued {
                    call: owned(&key.0),
                    queue: owned(&key.1),
                    caller: None,
                    priority: *priority,
                });
            }
            self.segments.insert(
                key,
                Segment {
                    queued_ts: Some(queued),
                    ..Segment::default()
                },
            );
        }
        listed
    }

    /// Calls we thought waiting but not listed left, we cannot know how.
    fn drop_unlisted(
        &mut self,
        r: &Resync,
        listed: &HashSet<(String, String)>,
        ts: TimestampMs,
        emit: &mut Emitter<'_>,
    ) {
        for key in &r.before_segments {
            if listed.contains(key) || r.touched_segments.contains(key) {
                continue;
            }
            let waiting = self
                .segments
                .get(key)
                .is_some_and(|s| s.pending_since().is_none());
            if !waiting {
                continue;
            }
            if let Some(seg) = self.segments.remove(key) {
                if seg.answered {
                    continue;
                }
                // Left while we were disconnected, we cannot know how.
                emit.push(EventBody::CallDequeued {
                    call: owned(&key.0),
                    queue: owned(&key.1),
                    reason: DequeueReason::Other,
                    wait_ms: seg.queued_ts.and_then(|q| ms_between(q, ts)),
                });
            }
        }
    }
}

/// The member, made a member of `queue` if it was not (a static member
/// first seen in a call, as `queue_log`'s `CONNECT` does).
fn member_in<'m>(
    members: &'m mut BTreeMap<String, Member>,
    agent: &str,
    queue: &str,
    emit: &mut Emitter<'_>,
) -> &'m mut Member {
    let m = members.entry(agent.to_owned()).or_default();
    if m.queues.insert(queue.to_owned()) {
        emit.push(queues_event(agent, m));
    }
    m
}

/// Members still ringing for `call` stop ringing.
fn stop_ringing(members: &mut BTreeMap<String, Member>, call: &str, emit: &mut Emitter<'_>) {
    for (agent, m) in members.iter_mut() {
        if m.ringing.as_deref() == Some(call) {
            m.ringing = None;
            if m.device == Device::Ringing {
                m.device = Device::NotInUse;
            }
            sync_state(agent, m, emit);
        }
    }
}

/// Applies the member fields of a `QueueMember*` event for `queue`.
/// `InCall` is trusted only from snapshots (`QueueMemberAdded`,
/// `QueueMember`): in live status events it lags `AgentComplete`.
fn apply_member(
    m: &mut Member,
    queue: &str,
    msg: &Message,
    device: Option<Device>,
    snapshot: bool,
) {
    if let Some(d) = device {
        m.device = d;
    }
    if snapshot {
        if let Some(c) = msg.get("InCall") {
            m.in_call = truthy(c);
        }
    }
    if msg.get("Paused").is_some() {
        match paused(msg) {
            Some(reason) => {
                m.pause_reason = Some(reason.clone());
                m.paused.insert(queue.to_owned(), reason);
            }
            None => {
                m.paused.remove(queue);
            }
        }
    }
}

/// Emits the member's state unless it already has it.
fn sync_state(agent: &str, m: &mut Member, emit: &mut Emitter<'_>) {
    let now = m.derive();
    match &m.emitted {
        Some((s, r, c)) if *s == now.0 && *r == now.1 && (now.2.is_none() || *c == now.2) => return,
        // Never announced, and logged out is what that means already.
        None if now.0 == AgentState::LoggedOut => {
            m.emitted = Some(now);
            return;
        }
        _ => {}
    }
    emit.push(EventBody::AgentState {
        agent: owned(agent),
        state: now.0,
        reason: now.1.clone().map(Cow::Owned),
        call: now.2.clone().map(Cow::Owned),
    });
    m.emitted = Some(now);
}

fn queues_event(agent: &str, m: &Member) -> EventBody<'static> {
    EventBody::AgentQueues {
        agent: owned(agent),
        queues: m.queues.iter().map(|q| Cow::Owned(q.clone())).collect(),
    }
}

fn owned(s: &str) -> Cow<'static, str> {
    Cow::Owned(s.to_owned())
}

/// Seconds as signed milliseconds, saturating.
fn ms_i64(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

/// The span between two of our own stamps, or `None` when it is longer than
/// a call can last (a clock jumped): an unknown wait, not an invalid event.
fn ms_between(from: TimestampMs, to: TimestampMs) -> Option<u64> {
    let ms = u64::try_from(to.saturating_sub(from)).unwrap_or(0);
    (ms <= MAX_DURATION_MS).then_some(ms)
}

/// An identifier header: present, 1..=128 characters, no control character.
fn ident<'m>(msg: &'m Message, key: &'static str) -> Result<&'m str, TranslateProblem> {
    let v = msg
        .get(key)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(TranslateProblem::Missing(key))?;
    match ident_problem(v, MAX_IDENT) {
        Some(problem) => Err(TranslateProblem::Ident { key, problem }),
        None => Ok(v),
    }
}

/// The call (`Uniqueid`) and the queue of a call event, checked in that
/// order.
fn call_and_queue(msg: &Message) -> Result<(&str, &str), TranslateProblem> {
    Ok((ident(msg, "Uniqueid")?, ident(msg, "Queue")?))
}

/// A whole-seconds header as milliseconds (at most `i64::MAX`, as events
/// accept); absent is `None`.
fn secs(msg: &Message, key: &'static str) -> Result<Option<u64>, TranslateProblem> {
    let Some(v) = msg.get(key) else {
        return Ok(None);
    };
    let ms = v
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|s| s.checked_mul(1000));
    match ms {
        None => Err(TranslateProblem::NotSeconds {
            key,
            value: v.to_owned(),
        }),
        Some(ms) if ms > MAX_DURATION_MS => Err(TranslateProblem::TooLong {
            key,
            value: v.to_owned(),
        }),
        Some(ms) => Ok(Some(ms)),
    }
}

fn device(msg: &Message) -> Result<Option<Device>, TranslateProblem> {
    match msg.get("Status") {
        None => Ok(None),
        Some(s) => Device::from_code(s)
            .map(Some)
            .ok_or_else(|| TranslateProblem::Device(s.to_owned())),
    }
}

fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "1" | "yes" | "true" | "on"
    )
}

/// The pause reason when `Paused` is true: `PausedReason` (Asterisk 13.x
/// and later), else `Reason` (the pause event's own), else `other`;
/// cleaned to be a valid `reason`.
fn paused(msg: &Message) -> Option<String> {
    if !msg.get("Paused").is_some_and(truthy) {
        return None;
    }
    let raw = [msg.get("PausedReason"), msg.get("Reason")]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|r| !r.is_empty())
        .unwrap_or("other");
    let clean: String = raw
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_IDENT)
        .collect();
    Some(if clean.is_empty() {
        "other".into()
    } else {
        clean
    })
}

/// `1366720340.123456` (Unix seconds, fraction optional) → milliseconds,
/// `None` unless a valid event time (1970 to 9999).
#[must_use]
pub fn parse_timestamp(t: &str) -> Option<TimestampMs> {
    let t = t.trim();
    let (secs, frac) = t.split_once('.').unwrap_or((t, ""));
    if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i64 = secs.parse().ok()?;
    let mut ms = 0;
    // The first three digits: tenths, hundredths and thousandths of a second.
    for (d, scale) in frac.bytes().zip([100, 10, 1]) {
        ms += i64::from(d - b'0') * scale;
    }
    let t = secs.checked_mul(1000)?.checked_add(ms)?;
    (t < TS_LIMIT_MS).then_some(t)
}

/// `ami:<event>:<subject>@<queue>:<timestamp>`; hashed when too long for an
/// event id (ids are at most 128 characters, and `#n` is appended).
fn make_id(event: &str, subject: &str, queue: &str, stamp: &str) -> String {
    let id = if queue.is_empty() {
        format!("ami:{event}:{subject}:{stamp}")
    } else {
        format!("ami:{event}:{subject}@{queue}:{stamp}")
    };
    if id.len() <= 112 {
        return id;
    }
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("ami:{event:.40}:{h:016x}")
}

/// The AMI events the translator reads, told apart once by `Event:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AmiEvent {
    CallerJoin,
    CallerAbandon,
    CallerLeave,
    AgentConnect,
    AgentComplete,
    AgentCalled,
    /// `AgentRingNoAnswer`, `AgentDump`.
    RingStopped,
    /// `QueueMemberAdded`, `…Removed`, `…Pause`, `…Status`, `…Penalty`,
    /// `…Ringinuse`.
    MemberChange,
    QueueMember,
    QueueEntry,
    StatusComplete,
    VarSet,
    Hangup,
    /// A dialplan step: `Queue()` is noted, for the calls it refuses.
    Newexten,
    /// Anything else: counted as ignored.
    Other,
}

impl AmiEvent {
    fn parse(name: &str) -> Self {
        use AmiEvent::{
            AgentCalled, AgentComplete, AgentConnect, CallerAbandon, CallerJoin, CallerLeave,
            Hangup, MemberChange, Newexten, Other, QueueEntry, QueueMember, RingStopped,
            StatusComplete, VarSet,
        };
        match name {
            "QueueCallerJoin" => CallerJoin,
            "QueueCallerAbandon" => CallerAbandon,
            "QueueCallerLeave" => CallerLeave,
            "AgentConnect" => AgentConnect,
            "AgentComplete" => AgentComplete,
            "AgentCalled" => AgentCalled,
            "AgentRingNoAnswer" | "AgentDump" => RingStopped,
            "QueueMemberAdded"
            | "QueueMemberRemoved"
            | "QueueMemberPause"
            | "QueueMemberStatus"
            | "QueueMemberPenalty"
            | "QueueMemberRinginuse" => MemberChange,
            "QueueMember" => QueueMember,
            "QueueEntry" => QueueEntry,
            "QueueStatusComplete" => StatusComplete,
            "Newexten" => Newexten,
            "VarSet" => VarSet,
            "Hangup" => Hangup,
            _ => Other,
        }
    }
}

/// One AMI event being translated.
#[derive(Clone, Copy)]
struct Incoming<'m> {
    /// Its `Event:`.
    name: &'m str,
    msg: &'m Message,
    ts: TimestampMs,
    /// Its `Timestamp:` (or the stand-in), for ids.
    stamp: &'m str,
}

impl Incoming<'_> {
    /// Ids name the AMI event: its kind, whom it is about and its time.
    fn id(&self, subject: &str, queue: &str) -> String {
        make_id(self.name, subject, queue, self.stamp)
    }
}

/// Numbers the events produced for one AMI event: `<base>#<n>`.
fn emitter<'o>(
    out: &'o mut Vec<Event<'static>>,
    tenant: Arc<str>,
    ts: TimestampMs,
    base: String,
) -> Emitter<'o> {
    Emitter::new(out, tenant, SOURCE, ts, base, '#')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_unix_seconds_with_an_optional_fraction() {
        assert_eq!(
            parse_timestamp("1366720340.123456"),
            Some(1_366_720_340_123)
        );
        assert_eq!(parse_timestamp("1366720340.5"), Some(1_366_720_340_500));
        assert_eq!(parse_timestamp(" 1366720340 "), Some(1_366_720_340_000));
        for bad in [
            "",
            ".5",
            "1e9",
            "-1.0",
            "12.3x",
            "99999999999999999999",
            "253402300800",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn long_ids_are_hashed_and_stay_short_and_stable() {
        let q = "q".repeat(120);
        let a = make_id("AgentConnect", "1.2", &q, "1.000001");
        assert!(a.len() <= 120, "{a}");
        assert_eq!(a, make_id("AgentConnect", "1.2", &q, "1.000001"));
        assert_ne!(a, make_id("AgentConnect", "1.2", &q, "1.000002"));
    }

    #[test]
    fn device_states_map_to_agent_states() {
        let mut m = Member::default();
        m.queues.insert("q".into());
        let state = |m: &Member| m.derive().0;
        for (code, s) in [
            ("0", AgentState::Available),
            ("1", AgentState::Available),
            ("2", AgentState::OnCall),
            ("3", AgentState::OnCall),
            ("4", AgentState::LoggedOut),
            ("5", AgentState::LoggedOut),
            ("6", AgentState::Ringing),
            ("7", AgentState::OnCall),
            ("8", AgentState::OnCall),
        ] {
            m.device = Device::from_code(code).unwrap();
            assert_eq!(state(&m), s, "Status {code}");
        }
        m.device = Device::NotInUse;
        m.paused.insert("q".into(), "lunch".into());
        m.pause_reason = Some("lunch".into());
        assert_eq!(
            m.derive(),
            (AgentState::NotReady, Some("lunch".into()), None)
        );
        // Paused in one of two queues: still takes calls.
        m.queues.insert("r".into());
        assert_eq!(state(&m), AgentState::Available);
    }
}
