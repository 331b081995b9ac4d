//! Asterisk `queue_log` → canonical events (`adapters.md`). Stateful only
//! where the log forces it: which queues a member is in, whether it is logged
//! in, paused, or on a call. Event ids come from the file's identity and the
//! line number, so reading a file again re-sends the same ids (dropped as
//! duplicates).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::adapter::{CallerKeys, Emitter};
use wallboard_events::event::{
    AgentState, BlockedReason, DequeueReason, Event, EventBody, MAX_DURATION_MS, TS_LIMIT_MS,
};
use wallboard_events::parse::{ident_problem, truncate, IdentProblem, MAX_IDENT};

/// Why a line was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct QueueLogError {
    /// 1-based line number in the file.
    pub line: u64,
    /// Why the line was skipped.
    pub reason: TranslateProblem,
}

/// What is wrong with a `queue_log` line; all but the first three name the
/// line's event (its fifth field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranslateProblem {
    /// Fewer than the five fields every line has.
    #[error("{0} fields, expected at least 5 (time|callid|queue|agent|event)")]
    FieldCount(usize),
    /// The time field is not Unix seconds.
    #[error("time {0:?} is not Unix seconds")]
    Time(String),
    /// The time is out of the range events accept.
    #[error("time {0} is not a date between 1970 and 9999")]
    TimeRange(i64),
    /// A field that becomes an identifier is not a valid one.
    #[error("{event}: {what} {value:?} {problem}")]
    Ident {
        /// The line's event.
        event: String,
        /// The field: `callid`, `queue` or `agent`.
        what: &'static str,
        /// Its value, at most 40 characters of it.
        value: String,
        /// What is wrong with it.
        problem: IdentProblem,
    },
    /// A data field the event needs is absent.
    #[error("{event}: missing {what} (data{field})")]
    MissingData {
        /// The line's event.
        event: String,
        /// What the field holds.
        what: &'static str,
        /// Its 1-based number among the data fields.
        field: usize,
    },
    /// Fewer data fields than a value counted from the end needs.
    #[error("{event}: missing {what}")]
    Missing {
        /// The line's event.
        event: String,
        /// What the field holds.
        what: &'static str,
    },
    /// A duration field is not whole seconds.
    #[error("{event}: {what} {value:?} is not whole seconds")]
    NotSeconds {
        /// The line's event.
        event: String,
        /// What the field holds.
        what: &'static str,
        /// Its value.
        value: String,
    },
    /// A duration field is longer than [`MAX_DURATION_MS`].
    #[error("{event}: {what} {secs} s is longer than a call can last ({} s)", MAX_DURATION_MS / 1000)]
    TooLong {
        /// The line's event.
        event: String,
        /// What the field holds.
        what: &'static str,
        /// Its value, seconds.
        secs: u64,
    },
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
struct Member {
    queues: BTreeSet<String>,
    logged_in: bool,
    /// Pause reason while paused.
    paused: Option<String>,
    on_call: bool,
}

/// Events whose callid and queue become a call's identifiers.
const CALL_EVENTS: &[&str] = &[
    "ENTERQUEUE",
    "CONNECT",
    "COMPLETECALLER",
    "COMPLETEAGENT",
    "TRANSFER",
    "BLINDTRANSFER",
    "ATTENDEDTRANSFER",
    "ABANDON",
    "EXITWITHTIMEOUT",
    "EXITWITHKEY",
    "EXITEMPTY",
    "FULL",
    "JOINEMPTY",
    "JOINUNAVAIL",
];

/// Events whose agent field becomes an agent's identifier.
const MEMBER_EVENTS: &[&str] = &[
    "CONNECT",
    "COMPLETECALLER",
    "COMPLETEAGENT",
    "TRANSFER",
    "BLINDTRANSFER",
    "ATTENDEDTRANSFER",
    "ADDMEMBER",
    "REMOVEMEMBER",
    "AGENTLOGIN",
    "AGENTLOGOFF",
    "PAUSE",
    "PAUSEALL",
    "UNPAUSE",
    "UNPAUSEALL",
];

/// What the translator knows about the members, kept in a follower's
/// checkpoint so a restart resumes with who is logged in and paused.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranslatorState {
    members: BTreeMap<String, Member>,
}

/// The identity of a `queue_log` file in event ids: a hash of its first line.
/// It depends on the content only, so importing a rotated copy gives the ids
/// the live follower gave, while a file truncated and written again (a new
/// first line) gets new ones.
#[must_use]
pub fn file_identity(first_line: &[u8]) -> String {
    // FNV-1a, 64 bits: stable across builds and platforms, which std's
    // hashers do not promise.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in first_line.trim_ascii_end() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("ql-{h:016x}")
}

/// Translates the lines of one `queue_log`.
#[derive(Debug)]
pub struct QueueLogTranslator {
    tenant: Arc<str>,
    /// Identifies the file in event ids ([`file_identity`]).
    source: String,
    state: TranslatorState,
    /// Lines of events that map to nothing (`RINGNOANSWER`, `DID`, …).
    pub ignored: u64,
    /// Hashes `ENTERQUEUE`'s caller id into `caller` (none: no `caller`).
    caller_keys: Option<CallerKeys>,
}

impl QueueLogTranslator {
    /// A translator for `tenant`, naming its input `source` in event ids.
    #[must_use]
    pub fn new(tenant: &str, source: &str) -> Self {
        QueueLogTranslator {
            tenant: Arc::from(tenant),
            source: source.to_owned(),
            state: TranslatorState::default(),
            ignored: 0,
            caller_keys: None,
        }
    }

    /// Fills `caller` from `ENTERQUEUE`'s caller id (data2) with `keys`
    /// (`events.md`, "Caller key"); `None`: no caller keys.
    #[must_use]
    pub fn with_caller_keys(mut self, keys: Option<CallerKeys>) -> Self {
        self.caller_keys = keys;
        self
    }

    /// Switches to another file (after a rotation or truncation); what is
    /// known of the members carries over, as it does in Asterisk.
    pub fn set_source(&mut self, source: &str) {
        source.clone_into(&mut self.source);
    }

    /// Name of the input in event ids (the file's identity).
    #[must_use]
    pub fn source(&self) -> &str {
        &self.source
    }

    /// What it knows of members and open calls, for a checkpoint.
    #[must_use]
    pub fn state(&self) -> &TranslatorState {
        &self.state
    }

    /// Continues from a checkpoint's state.
    pub fn restore(&mut self, state: TranslatorState) {
        self.state = state;
    }

    /// Translates line `line_no`; the events it maps to are appended to `out`.
    pub fn translate(
        &mut self,
        line_no: u64,
        line: &str,
        out: &mut Vec<Event<'static>>,
    ) -> Result<(), QueueLogError> {
        let f: Vec<&str> = line.trim_end_matches(['\r', '\n']).split('|').collect();
        let l = Fields::split(line_no, &f)?;
        l.check_identifiers()?;
        // Ids `<source>:<line>:<n>`.
        let base = format!("{}:{line_no}", self.source);
        let mut emit = Emitter::new(out, self.tenant.clone(), SOURCE, l.ts, base, ':');
        let Some(kind) = QlEvent::parse(l.event) else {
            self.ignored += 1;
            return Ok(());
        };
        let members = &mut self.state.members;
        match kind {
            QlEvent::Enter => emit.push(EventBody::CallQueued {
                call: l.call_id(),
                queue: l.q(),
                priority: None,
                caller: self.caller_keys.as_ref().and_then(|k| {
                    let id = l.data.get(1)?;
                    k.key(id).map(Cow::Owned)
                }),
            }),
            QlEvent::Connect => connect(&l, members, &mut emit)?,
            QlEvent::Complete { transferred } => {
                complete(&l, transferred, members, &mut emit)?;
            }
            QlEvent::Blocked(reason) => emit.push(EventBody::CallBlocked {
                call: l.call_id(),
                queue: l.q(),
                reason,
            }),
            QlEvent::Abandon => emit.push(EventBody::CallAbandoned {
                call: l.call_id(),
                queue: l.q(),
                wait_ms: Some(l.secs_at(2, "waittime")?),
            }),
            QlEvent::Exit(reason) => emit.push(EventBody::CallDequeued {
                call: l.call_id(),
                queue: l.q(),
                reason,
                // EXITWITHKEY carries the key before the wait.
                wait_ms: Some(l.secs_at(
                    if reason == DequeueReason::ExitKey {
                        3
                    } else {
                        2
                    },
                    "waittime",
                )?),
            }),
            QlEvent::AddMember => add_member(&l, member(members, l.agent), &mut emit),
            QlEvent::RemoveMember => remove_member(&l, member(members, l.agent), &mut emit),
            QlEvent::Login => {
                let m = member(members, l.agent);
                m.logged_in = true;
                emit.push(idle_state(l.agent, m));
            }
            QlEvent::Logoff => {
                let m = member(members, l.agent);
                m.logged_in = false;
                m.on_call = false;
                m.paused = None;
                emit.push(state(l.agent, AgentState::LoggedOut, None));
            }
            QlEvent::Pause => pause(&l, members, &mut emit)?,
            QlEvent::Unpause => {
                let m = member(members, l.agent);
                m.paused = None;
                if !m.on_call {
                    emit.push(idle_state(l.agent, m));
                }
            }
        }
        Ok(())
    }
}

/// The `queue_log` events that map to canonical events, told apart once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QlEvent {
    Enter,
    Connect,
    /// `COMPLETECALLER`, `COMPLETEAGENT`, or a transfer.
    Complete {
        transferred: bool,
    },
    /// A caller the queue refused (`events.md`, "Blocked calls"): Asterisk
    /// writes `FULL` (`maxlen` reached), `JOINEMPTY` (no member the queue's
    /// `joinempty` rule counts) or `JOINUNAVAIL` (no available member)
    /// instead of `ENTERQUEUE`.
    Blocked(BlockedReason),
    Abandon,
    /// `EXITWITHTIMEOUT`, `EXITEMPTY`, `EXITWITHKEY`.
    Exit(DequeueReason),
    AddMember,
    RemoveMember,
    Login,
    Logoff,
    /// `PAUSE`, `PAUSEALL`.
    Pause,
    /// `UNPAUSE`, `UNPAUSEALL`.
    Unpause,
}

impl QlEvent {
    /// `None` for events that map to nothing (`RINGNOANSWER`, `DID`, …).
    fn parse(event: &str) -> Option<Self> {
        Some(match event {
            "ENTERQUEUE" => QlEvent::Enter,
            "CONNECT" => QlEvent::Connect,
            "COMPLETECALLER" | "COMPLETEAGENT" => QlEvent::Complete { transferred: false },
            "TRANSFER" | "BLINDTRANSFER" | "ATTENDEDTRANSFER" => {
                QlEvent::Complete { transferred: true }
            }
            "FULL" => QlEvent::Blocked(BlockedReason::Full),
            "JOINEMPTY" => QlEvent::Blocked(BlockedReason::NoAgents),
            "JOINUNAVAIL" => QlEvent::Blocked(BlockedReason::NoAvailableAgents),
            "ABANDON" => QlEvent::Abandon,
            "EXITWITHTIMEOUT" => QlEvent::Exit(DequeueReason::Timeout),
            "EXITEMPTY" => QlEvent::Exit(DequeueReason::Empty),
            "EXITWITHKEY" => QlEvent::Exit(DequeueReason::ExitKey),
            "ADDMEMBER" => QlEvent::AddMember,
            "REMOVEMEMBER" => QlEvent::RemoveMember,
            "AGENTLOGIN" => QlEvent::Login,
            "AGENTLOGOFF" => QlEvent::Logoff,
            "PAUSE" | "PAUSEALL" => QlEvent::Pause,
            "UNPAUSE" | "UNPAUSEALL" => QlEvent::Unpause,
            _ => return None,
        })
    }
}

/// The fields of one line: `time|callid|queue|agent|event|data1|…`.
struct Fields<'l> {
    line_no: u64,
    ts: i64,
    call: &'l str,
    queue: &'l str,
    agent: &'l str,
    event: &'l str,
    data: &'l [&'l str],
}

impl<'l> Fields<'l> {
    fn split(line_no: u64, f: &'l [&'l str]) -> Result<Self, QueueLogError> {
        let err = |reason: TranslateProblem| QueueLogError {
            line: line_no,
            reason,
        };
        if f.len() < 5 {
            return Err(err(TranslateProblem::FieldCount(f.len())));
        }
        let secs: i64 = f[0]
            .trim()
            .parse()
            .map_err(|_| err(TranslateProblem::Time(f[0].to_owned())))?;
        if !(0..TS_LIMIT_MS / 1000).contains(&secs) {
            return Err(err(TranslateProblem::TimeRange(secs)));
        }
        Ok(Fields {
            line_no,
            ts: secs * 1000,
            call: f[1],
            queue: f[2],
            agent: f[3],
            event: f[4],
            data: &f[5..],
        })
    }

    fn err(&self, reason: TranslateProblem) -> QueueLogError {
        QueueLogError {
            line: self.line_no,
            reason,
        }
    }

    /// The names that become identifiers must be valid ones.
    fn check_identifiers(&self) -> Result<(), QueueLogError> {
        if CALL_EVENTS.contains(&self.event) {
            self.valid("callid", self.call)?;
            self.valid("queue", self.queue)?;
        }
        if MEMBER_EVENTS.contains(&self.event) {
            self.valid("agent", self.agent)?;
        }
        if matches!(self.event, "ADDMEMBER" | "REMOVEMEMBER") {
            self.valid("queue", self.queue)?;
        }
        Ok(())
    }

    fn valid(&self, what: &'static str, v: &str) -> Result<(), QueueLogError> {
        match ident_problem(v, MAX_IDENT) {
            Some(problem) => Err(self.err(TranslateProblem::Ident {
                event: self.event.to_owned(),
                what,
                value: truncate(v).to_owned(),
                problem,
            })),
            None => Ok(()),
        }
    }

    /// A wait or duration field, seconds → milliseconds.
    fn secs_at(&self, i: usize, what: &'static str) -> Result<u64, QueueLogError> {
        let event = || self.event.to_owned();
        let v = self.data.get(i).ok_or_else(|| {
            self.err(TranslateProblem::MissingData {
                event: event(),
                what,
                field: i + 1,
            })
        })?;
        let s = v.trim().parse::<u64>().map_err(|_| {
            self.err(TranslateProblem::NotSeconds {
                event: event(),
                what,
                value: (*v).to_owned(),
            })
        })?;
        s.checked_mul(1000)
            .filter(|&ms| ms <= MAX_DURATION_MS)
            .ok_or_else(|| {
                self.err(TranslateProblem::TooLong {
                    event: event(),
                    what,
                    secs: s,
                })
            })
    }

    /// Counting from the end (TRANSFER variants carry their own extra fields).
    fn secs_back(&self, k: usize, what: &'static str) -> Result<u64, QueueLogError> {
        if self.data.len() < k {
            return Err(self.err(TranslateProblem::Missing {
                event: self.event.to_owned(),
                what,
            }));
        }
        self.secs_at(self.data.len() - k, what)
    }

    fn call_id(&self) -> Cow<'static, str> {
        Cow::Owned(self.call.to_owned())
    }

    fn q(&self) -> Cow<'static, str> {
        Cow::Owned(self.queue.to_owned())
    }

    fn a(&self) -> Cow<'static, str> {
        Cow::Owned(self.agent.to_owned())
    }
}

/// `CONNECT`: answered by the member, which is on the call.
fn connect(
    l: &Fields<'_>,
    members: &mut Members,
    emit: &mut Emitter<'_>,
) -> Result<(), QueueLogError> {
    let wait = l.secs_at(0, "holdtime")?;
    let m = member(members, l.agent);
    if !m.queues.contains(l.queue) {
        // A static member: it joins the queue and is logged in.
        m.queues.insert(l.queue.to_owned());
        emit.push(queues_event(l.agent, m));
    }
    m.logged_in = true;
    m.on_call = true;
    emit.push(EventBody::CallAnswered {
        call: l.call_id(),
        queue: l.q(),
        agent: l.a(),
        wait_ms: Some(wait),
    });
    emit.push(EventBody::AgentState {
        agent: l.a(),
        state: AgentState::OnCall,
        reason: None,
        call: Some(l.call_id()),
    });
    Ok(())
}

/// The end of a call (or its transfer): the member is idle again.
fn complete(
    l: &Fields<'_>,
    transferred: bool,
    members: &mut Members,
    emit: &mut Emitter<'_>,
) -> Result<(), QueueLogError> {
    let talk = if transferred {
        l.secs_back(2, "calltime")?
    } else {
        l.secs_at(1, "calltime")?
    };
    emit.push(EventBody::CallCompleted {
        call: l.call_id(),
        queue: l.q(),
        agent: l.a(),
        talk_ms: talk,
        hold_ms: 0,
        acw_ms: 0,
        transferred,
    });
    let m = member(members, l.agent);
    m.on_call = false;
    emit.push(idle_state(l.agent, m));
    Ok(())
}

fn add_member(l: &Fields<'_>, m: &mut Member, emit: &mut Emitter<'_>) {
    m.queues.insert(l.queue.to_owned());
    emit.push(queues_event(l.agent, m));
    if !m.logged_in {
        m.logged_in = true;
        emit.push(idle_state(l.agent, m));
    }
}

fn remove_member(l: &Fields<'_>, m: &mut Member, emit: &mut Emitter<'_>) {
    m.queues.remove(l.queue);
    emit.push(queues_event(l.agent, m));
    if m.queues.is_empty() {
        // A dynamic member removed from its last queue is gone
        // in Asterisk: added again, it starts unpaused.
        *m = Member::default();
        emit.push(state(l.agent, AgentState::LoggedOut, None));
    }
}

fn pause(
    l: &Fields<'_>,
    members: &mut Members,
    emit: &mut Emitter<'_>,
) -> Result<(), QueueLogError> {
    let reason = l
        .data
        .first()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .unwrap_or("other");
    l.valid("reason", reason)?;
    let m = member(members, l.agent);
    m.paused = Some(reason.to_owned());
    if !m.on_call {
        emit.push(idle_state(l.agent, m));
    }
    Ok(())
}

/// The members by name.
type Members = BTreeMap<String, Member>;

/// The member named `agent`, created on first sight (without allocating
/// for members already known).
fn member<'m>(members: &'m mut BTreeMap<String, Member>, agent: &str) -> &'m mut Member {
    if !members.contains_key(agent) {
        members.insert(agent.to_owned(), Member::default());
    }
    members.get_mut(agent).expect("inserted above")
}

/// The `source` of the events (and heartbeats) of `queue_log` adapters.
pub const SOURCE: &str = "asterisk-queue-log";

fn queues_event(agent: &str, m: &Member) -> EventBody<'static> {
    EventBody::AgentQueues {
        agent: Cow::Owned(agent.to_owned()),
        queues: m.queues.iter().map(|q| Cow::Owned(q.clone())).collect(),
    }
}

fn state(agent: &str, s: AgentState, reason: Option<&str>) -> EventBody<'static> {
    EventBody::AgentState {
        agent: Cow::Owned(agent.to_owned()),
        state: s,
        reason: reason.map(|r| Cow::Owned(r.to_owned())),
        call: None,
    }
}

/// Available, or not ready when paused.
fn idle_state(agent: &str, m: &Member) -> EventBody<'static> {
    match &m.paused {
        Some(r) => state(agent, AgentState::NotReady, Some(r)),
        None => state(agent, AgentState::Available, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(lines: &str) -> (Vec<Event<'static>>, Vec<QueueLogError>, u64) {
        let mut t = QueueLogTranslator::new("acme", "queue_log");
        let (mut out, mut errs) = (vec![], vec![]);
        for (i, l) in lines.lines().enumerate() {
            if let Err(e) = t.translate(i as u64 + 1, l, &mut out) {
                errs.push(e);
            }
        }
        (out, errs, t.ignored)
    }

    fn kinds(events: &[Event<'_>]) -> Vec<String> {
        events
            .iter()
            .map(|e| match &e.body {
                EventBody::AgentState { state, .. } => format!("agent_state:{state}"),
                b => b.kind().to_string(),
            })
            .collect()
    }

    #[test]
    fn an_answered_call_with_a_static_member() {
        // As in Asterisk's documentation of queue_log.
        let (ev, errs, ignored) = run("\
1366720340|1366720340.303267|support|NONE|ENTERQUEUE||8001|1
1366720342|1366720340.303267|support|SIP/8007|RINGNOANSWER|2000
1366720347|1366720340.303267|support|SIP/8007|CONNECT|7|1366720342.303268|5
1366720467|1366720340.303267|support|SIP/8007|COMPLETECALLER|7|120|1");
        assert!(errs.is_empty());
        assert_eq!(ignored, 1);
        assert_eq!(
            kinds(&ev),
            [
                "call_queued",
                "agent_queues",
                "call_answered",
                "agent_state:on_call",
                "call_completed",
                "agent_state:available"
            ]
        );
        assert_eq!(ev[0].ts, 1_366_720_340_000);
        assert_eq!(ev[0].id, "queue_log:1:1");
        assert!(matches!(
            ev[2].body,
            EventBody::CallAnswered {
                wait_ms: Some(7000),
                ..
            }
        ));
        assert!(matches!(
            ev[4].body,
            EventBody::CallCompleted {
                talk_ms: 120_000,
                acw_ms: 0,
                transferred: false,
                ..
            }
        ));
        // Every event is valid canonical JSON.
        for e in &ev {
            wallboard_events::parse_event_str(&e.to_json()).unwrap();
        }
    }

    #[test]
    fn exits_pauses_and_membership() {
        let (ev, errs, _) = run("\
100|c1|sales|NONE|ABANDON|2|1|35
101|c2|sales|NONE|EXITWITHTIMEOUT|1|1|300
102|c3|sales|NONE|EXITWITHKEY|5|1|1|12
103|c4|sales|NONE|EXITEMPTY|1|1|2
110|NONE|sales|PJSIP/alice|ADDMEMBER|
111|NONE|sales|PJSIP/alice|PAUSE|lunch
112|NONE|sales|PJSIP/alice|UNPAUSE|
113|c5|sales|PJSIP/alice|CONNECT|4|x|2
114|NONE|NONE|PJSIP/alice|PAUSEALL|
115|c5|sales|PJSIP/alice|BLINDTRANSFER|2001|default|4|30|1
116|NONE|sales|PJSIP/alice|REMOVEMEMBER|");
        assert!(errs.is_empty(), "{errs:?}");
        assert!(matches!(
            ev[0].body,
            EventBody::CallAbandoned {
                wait_ms: Some(35_000),
                ..
            }
        ));
        assert!(matches!(
            ev[1].body,
            EventBody::CallDequeued {
                reason: DequeueReason::Timeout,
                wait_ms: Some(300_000),
                ..
            }
        ));
        assert!(matches!(
            ev[2].body,
            EventBody::CallDequeued {
                reason: DequeueReason::ExitKey,
                wait_ms: Some(12_000),
                ..
            }
        ));
        assert!(matches!(
            ev[3].body,
            EventBody::CallDequeued {
                reason: DequeueReason::Empty,
                ..
            }
        ));
        assert_eq!(
            kinds(&ev[4..]),
            [
                "agent_queues",
                "agent_state:available",
                "agent_state:not_ready",
                "agent_state:available",
                "call_answered",
                "agent_state:on_call",
                // Paused during the call: not ready only after it.
                "call_completed",
                "agent_state:not_ready",
                "agent_queues",
                "agent_state:logged_out"
            ]
        );
        assert!(matches!(
            ev[10].body,
            EventBody::CallCompleted {
                talk_ms: 30_000,
                transferred: true,
                ..
            }
        ));
    }

    #[test]
    fn bad_lines_are_reported_with_their_number() {
        let (ev, errs, _) = run("\
garbage
abc|c|q|a|ENTERQUEUE
100|c|q|a|CONNECT|seven|x|1
100|c|q|a|ABANDON|1");
        assert!(ev.is_empty());
        let msgs: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(msgs.len(), 4);
        assert!(msgs[0].starts_with("line 1: 1 fields"));
        assert!(msgs[1].contains("line 2: time \"abc\""));
        assert!(msgs[2].contains("line 3: CONNECT: holdtime \"seven\""));
        assert!(msgs[3].contains("line 4: ABANDON: missing waittime"));
    }

    #[test]
    fn variants_seen_in_real_logs_translate() {
        // Forms found in published queue_logs: FreePBX members as Local
        // channels (`Local/2004@from-internal/n`), a member added from the
        // CLI (callid `CLI`), QUEUESTART system lines, ENTERQUEUE without a
        // position and CONNECT without a ring time (older Asterisk),
        // RINGNOANSWER with 0 ms. Values are ours.
        let (ev, errs, ignored) = run("\
1700000000|NONE|NONE|NONE|QUEUESTART|
1700000010|CLI|sales|Local/2004@from-internal/n|ADDMEMBER|
1700000100|1700000100.2|sales|NONE|ENTERQUEUE||01773500000
1700000100|1700000100.2|sales|Local/2001@from-internal/n|RINGNOANSWER|0
1700000110|1700000100.2|sales|Local/2004@from-internal/n|CONNECT|10|1700000106.7
1700000140|1700000100.2|sales|Local/2004@from-internal/n|COMPLETEAGENT|10|30|1");
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(ignored, 2);
        assert_eq!(
            kinds(&ev),
            [
                "agent_queues",
                "agent_state:available",
                "call_queued",
                "call_answered",
                "agent_state:on_call",
                "call_completed",
                "agent_state:available"
            ]
        );
        assert!(matches!(
            &ev[3].body,
            EventBody::CallAnswered { agent, wait_ms: Some(10_000), .. }
                if agent == "Local/2004@from-internal/n"
        ));
        assert!(matches!(
            ev[5].body,
            EventBody::CallCompleted {
                talk_ms: 30_000,
                ..
            }
        ));
        for e in &ev {
            wallboard_events::parse_event_str(&e.to_json()).unwrap();
        }
    }

    #[test]
    fn names_and_numbers_that_would_make_invalid_events_are_reported() {
        let long = "q".repeat(200);
        let (ev, errs, _) = run(&format!(
            "\
9300000000000000|c|q|NONE|ENTERQUEUE
-5|c|q|NONE|ENTERQUEUE
100||q|NONE|ENTERQUEUE
100|c|{long}|NONE|ENTERQUEUE
100|c|q||ADDMEMBER|
100|NONE|NONE|a\tb|PAUSEALL|x
100|c|q|NONE|ABANDON|1|1|99999999999999999
100|NONE|NONE|SIP/1|PAUSE|{long}
100|c|q|NONE|ABANDON|1|1|8005551234"
        ));
        assert!(ev.is_empty(), "{ev:?}");
        let msgs: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(msgs.len(), 9, "{msgs:?}");
        assert!(msgs[0].contains("not a date"), "{}", msgs[0]);
        assert!(msgs[1].contains("not a date"));
        assert!(msgs[2].contains("callid \"\" is empty"), "{}", msgs[2]);
        assert!(msgs[3].contains("queue") && msgs[3].contains("200 characters"));
        assert!(msgs[4].contains("agent \"\" is empty"));
        assert!(msgs[5].contains("control character"));
        assert!(
            msgs[6].contains("longer than a call can last"),
            "{}",
            msgs[6]
        );
        assert!(msgs[7].contains("reason"));
        // Fits in 64 bits, but no call waits 250 years (the fuzzer's find).
        assert!(msgs[8].contains("8005551234 s is longer than a call can last"));
    }
}
