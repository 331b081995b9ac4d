//! `mod_callcenter`'s `callcenter::info` events → canonical events (the
//! mapping is in the parent module's documentation).
//!
//! Stateful only where the source forces it: an agent's status (`On Break`,
//! …) and state (`Waiting`, …) arrive in separate events and make one
//! canonical state together; a call's handling ends at the end of the
//! agent's wrap-up, which only the agent's next state tells; and the tiers
//! an agent was seen serving make its queue membership.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use super::protocol::EslEvent;
use crate::adapter::{CallerKeys, Emitter};
use wallboard_events::event::{
    AgentState, DequeueReason, Event, EventBody, TimestampMs, MAX_DURATION_MS, TS_LIMIT_MS,
};
use wallboard_events::parse::{ident_problem, MAX_IDENT};

/// The `source` of the events this adapter produces.
pub const SOURCE: &str = "freeswitch-callcenter";

/// Why an event could not be translated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {reason}")]
pub struct TranslateError {
    /// The `CC-Action` (or what was being read) at fault.
    pub what: String,
    /// Why it could not be translated.
    pub reason: TranslateProblem,
}

impl TranslateError {
    fn new(what: &str, reason: TranslateProblem) -> Self {
        TranslateError {
            what: what.to_owned(),
            reason,
        }
    }
}

/// What is wrong with a `FreeSWITCH` event, or with a row or the whole of a
/// `callcenter_config … list`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranslateProblem {
    /// A `callcenter::info` event without `CC-Action`.
    #[error("no CC-Action header")]
    NoAction,
    /// No `Core-UUID`, which event ids are made of.
    #[error("no Core-UUID to identify the event")]
    NoCoreUuid,
    /// No numeric `Event-Sequence`, which event ids are made of.
    #[error("no numeric Event-Sequence to identify the event")]
    NoSequence,
    /// A required header is absent or blank.
    #[error("no {0} header")]
    Missing(&'static str),
    /// A value is not an identifier `events.md` accepts.
    #[error(
        "{name} {value:?} is not an identifier (1 to {max} characters, no control characters)"
    )]
    NotIdent {
        /// The header or column.
        name: &'static str,
        /// Its value.
        value: String,
        /// The most characters allowed.
        max: usize,
    },
    /// Neither header that names the call.
    #[error("no CC-Member-Session-UUID or CC-Member-UUID header")]
    NoCall,
    /// `Event-Date-Timestamp` is not microseconds since the epoch.
    #[error("Event-Date-Timestamp {0:?} is not microseconds since the epoch")]
    Timestamp(String),
    /// A time header is not epoch seconds.
    #[error("{name} {value:?} is not epoch seconds")]
    NotEpochSeconds {
        /// The header.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// `CC-Agent-Status` is not a status `mod_callcenter` has.
    #[error("unknown CC-Agent-Status {0:?}")]
    Status(String),
    /// `CC-Agent-State` is not a state `mod_callcenter` has.
    #[error("unknown CC-Agent-State {0:?}")]
    State(String),
    /// `member-queue-end` with another `CC-Cause`.
    #[error("CC-Cause {0:?} is neither Terminated nor Cancel")]
    Cause(String),
    /// A talk ended whose answer was not seen, and the event's times do not
    /// say how long it was.
    #[error("no answer time to measure the talk from")]
    NoAnswerTime,
    /// `FreeSWITCH` answered the list command with an error (its line).
    #[error("{0}")]
    Refused(String),
    /// The list lacks a column it must have.
    #[error("no `{0}` column")]
    NoColumn(&'static str),
    /// A row's fields do not fit the columns.
    #[error("{fields} fields for {columns} columns")]
    RowShape {
        /// Fields in the row.
        fields: usize,
        /// Columns of the list.
        columns: usize,
    },
    /// A row's `status` is not a status `mod_callcenter` has.
    #[error("unknown status {0:?}")]
    RowStatus(String),
}

/// An agent's status (`CC-Agent-Status`): set by the agent or supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    LoggedOut,
    Available,
    OnDemand,
    OnBreak,
}

impl Status {
    fn parse(s: &str) -> Option<Status> {
        // mod_callcenter compares these case-insensitively.
        let s = s.trim();
        [
            ("Logged Out", Status::LoggedOut),
            ("Available", Status::Available),
            ("Available (On Demand)", Status::OnDemand),
            ("On Break", Status::OnBreak),
        ]
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(s))
        .map(|(_, st)| st)
    }
}

/// An agent's state (`CC-Agent-State`): set by `mod_callcenter` as calls come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FsState {
    Waiting,
    Receiving,
    InQueueCall,
    Idle,
    Reserved,
}

impl FsState {
    fn parse(s: &str) -> Option<FsState> {
        let s = s.trim();
        [
            ("Waiting", FsState::Waiting),
            ("Receiving", FsState::Receiving),
            ("In a queue call", FsState::InQueueCall),
            ("Idle", FsState::Idle),
            ("Reserved", FsState::Reserved),
        ]
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(s))
        .map(|(_, st)| st)
    }
}

/// The canonical state last emitted for an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shown {
    state: AgentState,
    reason: Option<&'static str>,
    call: Option<String>,
}

/// A call answered by an agent, until its handling is complete.
#[derive(Debug, Clone)]
struct Handling {
    call: String,
    queue: String,
    /// When it was answered (`ts` of `call_answered`).
    answered_ts: TimestampMs,
    talk: Option<Talk>,
}

/// The talk of a handled call, once over.
#[derive(Debug, Clone, Copy)]
struct Talk {
    /// How long the talk lasted, milliseconds (hold included).
    duration_ms: u64,
    /// When the bridge ended.
    ended_ts: TimestampMs,
    /// The agent was seen in wrap-up (`Idle`) since.
    wrapping: bool,
}

#[derive(Debug, Default)]
struct Agent {
    status: Option<Status>,
    state: Option<FsState>,
    /// The call being offered to or handled by the agent.
    call: Option<String>,
    handling: Option<Handling>,
    /// The segment `(call, queue)` last completed, so that the second end
    /// `mod_callcenter` reports for it (`member-queue-end`) counts nothing.
    last_completed: Option<(String, String)>,
    queues: BTreeSet<String>,
    shown: Option<Shown>,
}

/// Translates the `callcenter::info` events of one `FreeSWITCH` (or of
/// several, for one tenant: event ids carry the switch's `Core-UUID`).
#[derive(Debug)]
pub struct EslTranslator {
    tenant: Arc<str>,
    agents: HashMap<String, Agent>,
    /// The `Core-UUID` last seen, to name resynchronisation events.
    core: Option<String>,
    ignored: u64,
    /// Hashes `CC-Member-CID-Number` into `caller` (none: no `caller`).
    caller_keys: Option<CallerKeys>,
}

impl EslTranslator {
    /// A translator for `tenant`, with no member or call known yet.
    #[must_use]
    pub fn new(tenant: &str) -> Self {
        EslTranslator {
            tenant: Arc::from(tenant),
            agents: HashMap::new(),
            core: None,
            ignored: 0,
            caller_keys: None,
        }
    }

    /// Fills `caller` from `member-queue-start`'s `CC-Member-CID-Number`
    /// with `keys` (`events.md`, "Caller key"); `None`: no caller keys.
    #[must_use]
    pub fn with_caller_keys(mut self, keys: Option<CallerKeys>) -> Self {
        self.caller_keys = keys;
        self
    }

    /// Events that map to nothing (`members-count`, `bridge-agent-fail`,
    /// other subclasses, the second end of an answered call, …).
    #[must_use]
    pub fn ignored(&self) -> u64 {
        self.ignored
    }

    /// Translates one event; what it maps to is appended to `out`.
    pub fn translate(
        &mut self,
        ev: &EslEvent,
        out: &mut Vec<Event<'static>>,
    ) -> Result<(), TranslateError> {
        let name = ev.header("Event-Name").unwrap_or("");
        let subclass = ev.header("Event-Subclass").unwrap_or("");
        if !name.eq_ignore_ascii_case("CUSTOM") || subclass != "callcenter::info" {
            self.ignored += 1;
            return Ok(());
        }
        let action = ev
            .header("CC-Action")
            .ok_or_else(|| TranslateError::new("callcenter::info", TranslateProblem::NoAction))?;
        // Errors are named after the action; an empty one must still say what.
        let what = if action.trim().is_empty() {
            "(empty CC-Action)"
        } else {
            action
        };
        let err = |reason: TranslateProblem| TranslateError::new(what, reason);
        let ts = event_ts(ev).map_err(err)?;
        // Event ids are `<Core-UUID>:<Event-Sequence>:<n>`: bounded so
        // that they stay within the 128 characters of an id.
        let core = ev
            .header("Core-UUID")
            .filter(|c| !c.is_empty())
            .ok_or_else(|| err(TranslateProblem::NoCoreUuid))
            .and_then(|c| ident("Core-UUID", c, 64).map_err(err))?;
        let seq = ev
            .header("Event-Sequence")
            .filter(|s| (1..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| err(TranslateProblem::NoSequence))?;
        if self.core.as_deref() != Some(core) {
            self.core = Some(core.to_owned());
        }
        let mut emit = emitter(out, self.tenant.clone(), ts, format!("{core}:{seq}"));
        let agents = &mut self.agents;
        let mapped = match CcAction::parse(action) {
            CcAction::QueueStart => queue_start(ev, self.caller_keys.as_ref(), &mut emit),
            CcAction::QueueEnd => member_queue_end(agents, ev, &mut emit),
            CcAction::Offering => agent_offering(agents, ev, &mut emit),
            CcAction::BridgeStart => bridge_start(agents, ev, &mut emit),
            CcAction::BridgeEnd => bridge_end(agents, ev, &mut emit),
            CcAction::StatusChange => status_change(agents, ev, &mut emit),
            CcAction::StateChange => state_change(agents, ev, &mut emit),
            CcAction::Other => Ok(false),
        }
        .map_err(err)?;
        if !mapped {
            self.ignored += 1;
        }
        Ok(())
    }

    /// The emitter of what a resync of `list` (`agents`, `tiers`) at `now`
    /// changes: ids `<Core-UUID>:resync-<list>:<now>:<n>`.
    fn resync_emitter<'o>(
        &self,
        out: &'o mut Vec<Event<'static>>,
        now: TimestampMs,
        list: &str,
    ) -> Emitter<'o> {
        let core = self.core.as_deref().unwrap_or("freeswitch");
        let prefix = format!("{core}:resync-{list}:{now}");
        emitter(out, self.tenant.clone(), now, prefix)
    }

    /// Resynchronises the agents from the output of `callcenter_config
    /// agent list` (after connecting: events were missed meanwhile). `now`
    /// is the time the list was taken; agents the list lacks are logged
    /// out. A row that cannot be read is returned (with why) and changes
    /// nothing: its agent, if its name can be read, is not logged out.
    pub fn resync_agents(
        &mut self,
        now: TimestampMs,
        list: &str,
        out: &mut Vec<Event<'static>>,
    ) -> Result<Vec<SkippedRow>, TranslateError> {
        let what = "callcenter_config agent list";
        let err = |r| TranslateError::new(what, r);
        let table = Table::parse(list).map_err(err)?;
        let mut skipped = Vec::new();
        let mut emit = self.resync_emitter(out, now, "agents");
        let mut listed = HashSet::new();
        if !table.rows.is_empty() {
            let col = |name| table.required_column(name).map_err(err);
            let (name_c, status_c, state_c) = (col("name")?, col("status")?, col("state")?);
            // The contact (a dial string) is the one value that may contain
            // `|` (`sofia/gw/a|sofia/gw/b`: failover).
            let wide = table.column("contact");
            for row in &table.rows {
                let mut bad = |name: Option<&str>, reason: TranslateProblem| {
                    // Unreadable is not gone: never log out on that ground.
                    if let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) {
                        listed.insert(name.to_owned());
                    }
                    skipped.push(SkippedRow::new(what, &row.line, reason));
                };
                let cells = match table.row_cells(row, wide) {
                    Ok(cells) => cells,
                    Err(reason) => {
                        // Left of the wide column, values are where they belong.
                        let name = (name_c < wide.unwrap_or(usize::MAX))
                            .then(|| row.fields.get(name_c))
                            .flatten();
                        bad(name.map(String::as_str), reason);
                        continue;
                    }
                };
                let name = cells[name_c].trim();
                if let Err(e) = ident("name", name, MAX_IDENT) {
                    bad(Some(name), e);
                    continue;
                }
                let Some(status) = Status::parse(&cells[status_c]) else {
                    bad(
                        Some(name),
                        TranslateProblem::RowStatus(cells[status_c].to_string()),
                    );
                    continue;
                };
                listed.insert(name.to_owned());
                let a = self.agents.entry(name.to_owned()).or_default();
                a.status = Some(status);
                set_state(a, FsState::parse(&cells[state_c]), now);
                refresh(a, name, &mut emit);
            }
        }
        let mut gone: Vec<String> = self
            .agents
            .keys()
            .filter(|n| !listed.contains(*n))
            .cloned()
            .collect();
        gone.sort();
        for name in gone {
            if let Some(a) = self.agents.get_mut(&name) {
                a.status = Some(Status::LoggedOut);
                set_state(a, None, now);
                refresh(a, &name, &mut emit);
            }
        }
        Ok(skipped)
    }

    /// Resynchronises queue membership from the output of
    /// `callcenter_config tier list` (`queue|agent|state|level|position`).
    /// A row that cannot be read is returned (with why); its agent, if its
    /// name can be read, keeps the queues it had.
    pub fn resync_tiers(
        &mut self,
        now: TimestampMs,
        list: &str,
        out: &mut Vec<Event<'static>>,
    ) -> Result<Vec<SkippedRow>, TranslateError> {
        let what = "callcenter_config tier list";
        let err = |r| TranslateError::new(what, r);
        let table = Table::parse(list).map_err(err)?;
        let mut skipped = Vec::new();
        let mut tiers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut unreadable = HashSet::new();
        if !table.rows.is_empty() {
            let col = |name| table.required_column(name).map_err(err);
            let (queue_c, agent_c) = (col("queue")?, col("agent")?);
            for row in &table.rows {
                let cells = match table.row_cells(row, None) {
                    Ok(cells) => cells,
                    Err(reason) => {
                        skipped.push(SkippedRow::new(what, &row.line, reason));
                        continue;
                    }
                };
                let (agent, queue) = (cells[agent_c].trim(), cells[queue_c].trim());
                if let Err(e) =
                    ident("agent", agent, MAX_IDENT).and_then(|_| ident("queue", queue, MAX_IDENT))
                {
                    unreadable.insert(agent.to_owned());
                    skipped.push(SkippedRow::new(what, &row.line, e));
                    continue;
                }
                tiers
                    .entry(agent.to_owned())
                    .or_default()
                    .insert(queue.to_owned());
            }
        }
        let mut emit = self.resync_emitter(out, now, "tiers");
        let mut names: BTreeSet<String> = tiers.keys().cloned().collect();
        names.extend(
            self.agents
                .iter()
                .filter(|(_, a)| !a.queues.is_empty())
                .map(|(n, _)| n.clone()),
        );
        for name in names {
            if unreadable.contains(&name) {
                continue;
            }
            let queues = tiers.remove(&name).unwrap_or_default();
            let a = self.agents.entry(name.clone()).or_default();
            if a.queues != queues {
                a.queues = queues;
                emit.push(queues_event(&name, a));
            }
        }
        Ok(skipped)
    }
}

/// A row of a `callcenter_config … list` that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRow {
    /// The row as listed.
    pub row: String,
    /// Which list, and what is wrong with the row.
    pub reason: String,
}

impl SkippedRow {
    fn new(what: &str, row: &str, reason: impl fmt::Display) -> Self {
        SkippedRow {
            row: row.to_owned(),
            reason: format!("{what}: {reason}"),
        }
    }
}

/// `member-queue-end`: the call left the queue, unanswered (`Cancel`) or
/// after talking to an agent (`Terminated`). Returns whether it mapped to
/// anything.
/// The `CC-Action`s of `callcenter::info` that map to canonical events,
/// told apart once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CcAction {
    /// `member-queue-start`, `member-queue-resume`.
    QueueStart,
    QueueEnd,
    Offering,
    BridgeStart,
    BridgeEnd,
    StatusChange,
    StateChange,
    /// `members-count`, `bridge-agent-fail` (the agent's next state says
    /// the rest), `agent-*-get`, and actions of later versions.
    Other,
}

impl CcAction {
    fn parse(action: &str) -> Self {
        match action {
            "member-queue-start" | "member-queue-resume" => CcAction::QueueStart,
            "member-queue-end" => CcAction::QueueEnd,
            "agent-offering" => CcAction::Offering,
            "bridge-agent-start" => CcAction::BridgeStart,
            "bridge-agent-end" => CcAction::BridgeEnd,
            "agent-status-change" => CcAction::StatusChange,
            "agent-state-change" => CcAction::StateChange,
            _ => CcAction::Other,
        }
    }
}

/// Each returns whether the event mapped to anything.
type Mapped = Result<bool, TranslateProblem>;

fn queue_start(ev: &EslEvent, keys: Option<&CallerKeys>, emit: &mut Emitter<'_>) -> Mapped {
    let caller = keys.and_then(|k| k.key(ev.header("CC-Member-CID-Number")?));
    emit.push(EventBody::CallQueued {
        call: own(call_id(ev)?),
        queue: own(required_ident(ev, "CC-Queue")?),
        priority: None,
        caller: caller.map(Cow::Owned),
    });
    Ok(true)
}

fn agent_offering(
    agents: &mut HashMap<String, Agent>,
    ev: &EslEvent,
    emit: &mut Emitter<'_>,
) -> Mapped {
    let (agent, queue, call) = agent_queue_call(ev)?;
    let a = agents.entry(agent.to_owned()).or_default();
    learn_queue(a, agent, queue, emit);
    a.state = Some(FsState::Receiving);
    a.call = Some(call.to_owned());
    refresh(a, agent, emit);
    Ok(true)
}

fn bridge_start(
    agents: &mut HashMap<String, Agent>,
    ev: &EslEvent,
    emit: &mut Emitter<'_>,
) -> Mapped {
    let (agent, queue, call) = agent_queue_call(ev)?;
    let wait_ms = secs_between(ev, "CC-Member-Joined-Time", "CC-Agent-Answered-Time")?;
    let a = agents.entry(agent.to_owned()).or_default();
    finish_previous(a, agent, emit);
    learn_queue(a, agent, queue, emit);
    emit.push(EventBody::CallAnswered {
        call: own(call),
        queue: own(queue),
        agent: own(agent),
        wait_ms,
    });
    a.handling = Some(Handling {
        call: call.to_owned(),
        queue: queue.to_owned(),
        answered_ts: emit.ts(),
        talk: None,
    });
    a.state = Some(FsState::InQueueCall);
    a.call = Some(call.to_owned());
    refresh(a, agent, emit);
    Ok(true)
}

fn bridge_end(
    agents: &mut HashMap<String, Agent>,
    ev: &EslEvent,
    emit: &mut Emitter<'_>,
) -> Mapped {
    let (agent, queue, call) = agent_queue_call(ev)?;
    let talk = secs_between(ev, "CC-Agent-Answered-Time", "CC-Bridge-Terminated-Time")?;
    let a = agents.entry(agent.to_owned()).or_default();
    talk_ended(a, agent, queue, call, talk, emit)
}

fn status_change(
    agents: &mut HashMap<String, Agent>,
    ev: &EslEvent,
    emit: &mut Emitter<'_>,
) -> Mapped {
    let agent = required_ident(ev, "CC-Agent")?;
    let v = required(ev, "CC-Agent-Status")?;
    let status = Status::parse(v).ok_or_else(|| TranslateProblem::Status(v.to_owned()))?;
    let a = agents.entry(agent.to_owned()).or_default();
    a.status = Some(status);
    refresh(a, agent, emit);
    Ok(true)
}

fn state_change(
    agents: &mut HashMap<String, Agent>,
    ev: &EslEvent,
    emit: &mut Emitter<'_>,
) -> Mapped {
    let agent = required_ident(ev, "CC-Agent")?;
    let v = required(ev, "CC-Agent-State")?;
    let state = FsState::parse(v).ok_or_else(|| TranslateProblem::State(v.to_owned()))?;
    let a = agents.entry(agent.to_owned()).or_default();
    set_state(a, Some(state), emit.ts());
    refresh(a, agent, emit);
    Ok(true)
}

fn member_queue_end(
    agents: &mut HashMap<String, Agent>,
    ev: &EslEvent,
    emit: &mut Emitter<'_>,
) -> Result<bool, TranslateProblem> {
    let call = call_id(ev)?;
    let queue = required_ident(ev, "CC-Queue")?;
    let cause = required(ev, "CC-Cause")?;
    if cause.eq_ignore_ascii_case("Terminated") {
        // Normally `bridge-agent-end` came first and this adds nothing; if
        // it was missed, the talk ends here.
        let Ok(agent) = required(ev, "CC-Agent") else {
            return Ok(false);
        };
        let agent = ident("CC-Agent", agent, MAX_IDENT)?;
        let talk = secs_between(ev, "CC-Agent-Answered-Time", "CC-Member-Leaving-Time")?;
        let a = agents.entry(agent.to_owned()).or_default();
        return talk_ended(a, agent, queue, call, talk, emit);
    }
    if !cause.eq_ignore_ascii_case("Cancel") {
        return Err(TranslateProblem::Cause(cause.to_owned()));
    }
    let wait_ms = secs_between(ev, "CC-Member-Joined-Time", "CC-Member-Leaving-Time")?;
    let reason = ev.header("CC-Cancel-Reason").unwrap_or("NONE").trim();
    let dequeued = |reason| EventBody::CallDequeued {
        call: own(call),
        queue: own(queue),
        reason,
        wait_ms,
    };
    emit.push(match reason.to_ascii_uppercase().as_str() {
        // The caller hung up (mod_callcenter's own wording: "caller
        // abandoned"); NONE is what a hang-up without a recorded reason
        // gives.
        "BREAK_OUT" | "NONE" | "" => EventBody::CallAbandoned {
            call: own(call),
            queue: own(queue),
            wait_ms,
        },
        "TIMEOUT" => dequeued(DequeueReason::Timeout),
        // Nobody logged in to take it for max-wait-time-with-no-agent:
        // what `empty` means.
        "NO_AGENT_TIMEOUT" => dequeued(DequeueReason::Empty),
        "EXIT_WITH_KEY" => dequeued(DequeueReason::ExitKey),
        _ => dequeued(DequeueReason::Other),
    });
    Ok(true)
}

/// The talk of `call` with `agent` ended (`bridge-agent-end`, or the
/// `Terminated` end of the member). The handling completes once the agent
/// is out of wrap-up. Returns whether it mapped to anything.
fn talk_ended(
    a: &mut Agent,
    agent: &str,
    queue: &str,
    call: &str,
    talk_ms: Option<u64>,
    emit: &mut Emitter<'_>,
) -> Result<bool, TranslateProblem> {
    match &mut a.handling {
        Some(h) if h.call == call && h.queue == queue => {
            if h.talk.is_some() {
                return Ok(false);
            }
            let talk_ms = talk_ms.unwrap_or_else(|| ms_since(h.answered_ts, emit.ts()));
            h.talk = Some(Talk {
                duration_ms: talk_ms,
                ended_ts: emit.ts(),
                wrapping: false,
            });
        }
        _ if a.last_completed.as_ref() == Some(&(call.to_owned(), queue.to_owned())) => {
            return Ok(false);
        }
        _ => {
            // The answer was not seen (connected mid-call): the event's own
            // times say how long the talk was.
            let talk_ms = talk_ms.ok_or(TranslateProblem::NoAnswerTime)?;
            finish_previous(a, agent, emit);
            a.handling = Some(Handling {
                call: call.to_owned(),
                queue: queue.to_owned(),
                answered_ts: emit.ts()
                    - i64::try_from(talk_ms)
                        .expect("secs_between keeps a talk within MAX_DURATION_MS"),
                talk: Some(Talk {
                    duration_ms: talk_ms,
                    ended_ts: emit.ts(),
                    wrapping: false,
                }),
            });
        }
    }
    refresh(a, agent, emit);
    Ok(true)
}

/// Applies a new `mod_callcenter` state: a state outside a call means the
/// talk of the call being handled is over, even if its end was missed.
fn set_state(a: &mut Agent, state: Option<FsState>, ts: TimestampMs) {
    if state != Some(FsState::InQueueCall) {
        a.call = None;
        if let Some(h) = &mut a.handling {
            if h.talk.is_none() && state != Some(FsState::Receiving) {
                h.talk = Some(Talk {
                    duration_ms: ms_since(h.answered_ts, ts),
                    ended_ts: ts,
                    wrapping: false,
                });
            }
        }
    }
    a.state = state;
}

/// Completes the call the agent was handling, if any, before it takes
/// another.
fn finish_previous(a: &mut Agent, agent: &str, emit: &mut Emitter<'_>) {
    if a.handling.is_some() {
        complete(a, agent, emit);
    }
}

/// Emits `call_completed` for the call the agent handled: at the end of
/// its wrap-up with the wrap-up as `acw_ms`, or, without wrap-up, at the
/// end of the talk.
fn complete(a: &mut Agent, agent: &str, emit: &mut Emitter<'_>) {
    let Some(h) = a.handling.take() else { return };
    let talk = h.talk.unwrap_or(Talk {
        duration_ms: ms_since(h.answered_ts, emit.ts()),
        ended_ts: emit.ts(),
        wrapping: false,
    });
    let (ts, acw_ms) = if talk.wrapping {
        (emit.ts(), ms_since(talk.ended_ts, emit.ts()))
    } else {
        (talk.ended_ts, 0)
    };
    emit.push_at(
        ts,
        EventBody::CallCompleted {
            call: own(&h.call),
            queue: own(&h.queue),
            agent: own(agent),
            talk_ms: talk.duration_ms,
            hold_ms: 0,
            acw_ms,
            transferred: false,
        },
    );
    a.last_completed = Some((h.call, h.queue));
}

/// The canonical state of an agent from its status and state. The state
/// wins while a call is offered or on (a status change applies after the
/// call, as `mod_callcenter` does with the next call); then `Logged Out` and
/// `On Break` win over whatever the state is.
fn derive(a: &Agent) -> Shown {
    let shown = |state, reason, call| Shown {
        state,
        reason,
        call,
    };
    match a.state {
        Some(FsState::InQueueCall) => shown(AgentState::OnCall, None, a.call.clone()),
        Some(FsState::Receiving) => shown(AgentState::Ringing, None, a.call.clone()),
        _ => match a.status {
            Some(Status::LoggedOut) => shown(AgentState::LoggedOut, None, None),
            Some(Status::OnBreak) => shown(AgentState::NotReady, Some("break"), None),
            _ => match (a.state, &a.handling) {
                // After a call, `Idle` is the wrap-up of an agent `Available
                // (On Demand)`: it lasts until the agent sets `Waiting`.
                (Some(FsState::Idle), Some(h)) if h.talk.is_some() => {
                    shown(AgentState::Acw, None, Some(h.call.clone()))
                }
                (Some(FsState::Idle), _) => shown(AgentState::NotReady, Some("idle"), None),
                (Some(FsState::Reserved), _) => shown(AgentState::NotReady, Some("reserved"), None),
                _ => shown(AgentState::Available, None, None),
            },
        },
    }
}

/// Emits the agent's canonical state if it changed; first completes the
/// call it handled when it has left that call and its wrap-up.
fn refresh(a: &mut Agent, agent: &str, emit: &mut Emitter<'_>) {
    let shown = derive(a);
    let mut done = false;
    if let Some(h) = &mut a.handling {
        if let Some(talk) = &mut h.talk {
            match shown.state {
                AgentState::Acw => talk.wrapping = true,
                AgentState::OnCall if shown.call.as_deref() == Some(h.call.as_str()) => {}
                _ => done = true,
            }
        }
    }
    if done {
        complete(a, agent, emit);
    }
    if a.shown.as_ref() != Some(&shown) {
        emit.push(EventBody::AgentState {
            agent: own(agent),
            state: shown.state,
            reason: shown.reason.map(Cow::Borrowed),
            call: shown.call.as_deref().map(own),
        });
        a.shown = Some(shown);
    }
}

/// A queue the agent was seen serving joins its membership.
fn learn_queue(a: &mut Agent, agent: &str, queue: &str, emit: &mut Emitter<'_>) {
    if !a.queues.contains(queue) {
        a.queues.insert(queue.to_owned());
        emit.push(queues_event(agent, a));
    }
}

fn queues_event(agent: &str, a: &Agent) -> EventBody<'static> {
    EventBody::AgentQueues {
        agent: own(agent),
        queues: a.queues.iter().map(|q| own(q)).collect(),
    }
}

/// Numbers the events translated from one `FreeSWITCH` event:
/// `<Core-UUID>:<Event-Sequence>:<n>`.
fn emitter<'o>(
    out: &'o mut Vec<Event<'static>>,
    tenant: Arc<str>,
    ts: TimestampMs,
    prefix: String,
) -> Emitter<'o> {
    Emitter::new(out, tenant, SOURCE, ts, prefix, ':')
}

fn own(s: &str) -> Cow<'static, str> {
    Cow::Owned(s.to_owned())
}

fn required<'e>(ev: &'e EslEvent, name: &'static str) -> Result<&'e str, TranslateProblem> {
    ev.header(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(TranslateProblem::Missing(name))
}

/// An identifier as `events.md` allows it: 1 to `max` characters, no control
/// character (a decoded `%0A` would be one). Checked here, so that a bad
/// value is reported with the `FreeSWITCH` event rather than rejected
/// downstream.
fn ident<'v>(name: &'static str, v: &'v str, max: usize) -> Result<&'v str, TranslateProblem> {
    if ident_problem(v, max).is_some() {
        return Err(TranslateProblem::NotIdent {
            name,
            value: v.to_owned(),
            max,
        });
    }
    Ok(v)
}

/// A header naming a queue, an agent or a call.
fn required_ident<'e>(ev: &'e EslEvent, name: &'static str) -> Result<&'e str, TranslateProblem> {
    ident(name, required(ev, name)?, MAX_IDENT)
}

/// The call: the caller's channel (`CC-Member-Session-UUID`), the same in
/// every queue it visits; `CC-Member-UUID` (one per queue entry) if absent.
fn call_id(ev: &EslEvent) -> Result<&str, TranslateProblem> {
    for name in ["CC-Member-Session-UUID", "CC-Member-UUID"] {
        if let Ok(v) = required(ev, name) {
            return ident(name, v, MAX_IDENT);
        }
    }
    Err(TranslateProblem::NoCall)
}

fn agent_queue_call(ev: &EslEvent) -> Result<(&str, &str, &str), TranslateProblem> {
    Ok((
        required_ident(ev, "CC-Agent")?,
        required_ident(ev, "CC-Queue")?,
        call_id(ev)?,
    ))
}

/// Epoch seconds before the year 10000 (what `events.md` accepts), so that
/// times and their differences never overflow.
const MAX_EPOCH_S: i64 = TS_LIMIT_MS / 1000;

/// The event's time: `Event-Date-Timestamp`, microseconds since the epoch,
/// set by `FreeSWITCH` when the event fired.
pub(super) fn event_ts(ev: &EslEvent) -> Result<TimestampMs, TranslateProblem> {
    let v = required(ev, "Event-Date-Timestamp")?;
    v.parse::<i64>()
        .ok()
        .filter(|us| (1..MAX_EPOCH_S * 1_000_000).contains(us))
        .map(|us| us / 1000)
        .ok_or_else(|| TranslateProblem::Timestamp(v.to_owned()))
}

/// `to - from` of two epoch-second headers, in milliseconds; `None` when
/// either is missing or zero (`mod_callcenter` writes 0 for "not happened"),
/// or when they are backwards.
fn secs_between(
    ev: &EslEvent,
    from: &'static str,
    to: &'static str,
) -> Result<Option<u64>, TranslateProblem> {
    let secs = |name: &'static str| -> Result<Option<i64>, TranslateProblem> {
        match ev.header(name).map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|s| (0..MAX_EPOCH_S).contains(s))
                .map(|s| (s > 0).then_some(s))
                .ok_or_else(|| TranslateProblem::NotEpochSeconds {
                    name,
                    value: v.to_owned(),
                }),
        }
    };
    Ok(match (secs(from)?, secs(to)?) {
        // Longer than a call can last: a clock jumped, so the span is unknown.
        (Some(f), Some(t)) if t >= f => u64::try_from(t - f)
            .ok()
            .map(|s| s * 1000)
            .filter(|&ms| ms <= MAX_DURATION_MS),
        _ => None,
    })
}

/// The span between two of our own stamps, at most [`MAX_DURATION_MS`]: a
/// longer one means a clock jumped, and a talk time is still owed.
fn ms_since(from: TimestampMs, to: TimestampMs) -> u64 {
    u64::try_from(to.saturating_sub(from))
        .unwrap_or(0)
        .min(MAX_DURATION_MS)
}

/// A `|`-separated table printed by `callcenter_config … list`: a header
/// row, rows, then `+OK`.
struct Table {
    columns: Vec<String>,
    rows: Vec<Row>,
}

/// A row as listed, and its `|`-separated fields (as many as the columns,
/// unless a value contains `|`).
struct Row {
    line: String,
    fields: Vec<String>,
}

impl Table {
    fn parse(text: &str) -> Result<Table, TranslateProblem> {
        let mut lines = text
            .lines()
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| !l.trim().is_empty());
        let mut table = Table {
            columns: Vec::new(),
            rows: Vec::new(),
        };
        let Some(first) = lines.next() else {
            return Ok(table);
        };
        if first.starts_with("-ERR") || first.starts_with("-USAGE") {
            return Err(TranslateProblem::Refused(first.to_owned()));
        }
        if first.trim() == "+OK" {
            // No rows: mod_callcenter prints the header with the first row.
            return Ok(table);
        }
        table.columns = first.split('|').map(|c| c.trim().to_owned()).collect();
        for line in lines {
            if line.trim() == "+OK" {
                break;
            }
            table.rows.push(Row {
                line: line.to_owned(),
                fields: line.split('|').map(str::to_owned).collect(),
            });
        }
        Ok(table)
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The index of a column the list must have.
    fn required_column(&self, name: &'static str) -> Result<usize, TranslateProblem> {
        self.column(name).ok_or(TranslateProblem::NoColumn(name))
    }

    /// [`Table::cells`], or why the row does not fit the columns.
    fn row_cells<'r>(
        &self,
        row: &'r Row,
        wide: Option<usize>,
    ) -> Result<Vec<Cow<'r, str>>, TranslateProblem> {
        self.cells(row, wide).ok_or(TranslateProblem::RowShape {
            fields: row.fields.len(),
            columns: self.columns.len(),
        })
    }

    /// The row's value in each column. A value containing `|` splits into
    /// more fields than columns: when it is in column `wide`, the columns
    /// left of it are read from the left, those right of it from the right,
    /// and the fields between joined back into it. `None`: the fields do
    /// not fit the columns.
    fn cells<'r>(&self, row: &'r Row, wide: Option<usize>) -> Option<Vec<Cow<'r, str>>> {
        let (n, f) = (self.columns.len(), &row.fields);
        if f.len() == n {
            return Some(f.iter().map(|v| Cow::Borrowed(v.as_str())).collect());
        }
        let w = wide.filter(|&w| w < n && f.len() > n)?;
        let right = n - w - 1;
        let mid = &f[w..f.len() - right];
        let cells = f[..w]
            .iter()
            .map(|v| Cow::Borrowed(v.as_str()))
            .chain(std::iter::once(Cow::Owned(mid.join("|"))))
            .chain(
                f[f.len() - right..]
                    .iter()
                    .map(|v| Cow::Borrowed(v.as_str())),
            )
            .collect();
        Some(cells)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::esl::protocol::parse_plain_event;

    const CORE: &str = "6d1e7c8a-3f0b-4a58-9d8e-0c5e2b7f4a11";

    /// The events of a fixture: `#` comment lines, then plain event bodies
    /// separated by empty lines.
    fn fixture(text: &str) -> Vec<EslEvent> {
        let body: String =
            text.lines()
                .skip_while(|l| l.starts_with('#'))
                .fold(String::new(), |mut body, l| {
                    body.push_str(l);
                    body.push('\n');
                    body
                });
        body.split("\n\n")
            .filter(|b| !b.trim().is_empty())
            .map(|b| parse_plain_event(format!("{}\n\n", b.trim()).as_bytes()).unwrap())
            .collect()
    }

    fn run(events: &[EslEvent]) -> (Vec<String>, Vec<TranslateError>, u64) {
        let mut t = EslTranslator::new("default");
        let (mut out, mut errs) = (vec![], vec![]);
        for ev in events {
            if let Err(e) = t.translate(ev, &mut out) {
                errs.push(e);
            }
        }
        (check(&out), errs, t.ignored())
    }

    /// Every event is valid canonical JSON and reads back the same; the
    /// JSON lines, to compare.
    fn check(out: &[Event<'static>]) -> Vec<String> {
        out.iter()
            .map(|e| {
                let json = e.to_json();
                let back = wallboard_events::parse_event_str(&json)
                    .unwrap_or_else(|err| panic!("{json}: {err}"));
                assert_eq!(&back.into_owned(), e);
                json
            })
            .collect()
    }

    /// The JSON of an event of the fixtures' `FreeSWITCH`.
    fn j(id: &str, ts: i64, body: &str) -> String {
        format!(
            r#"{{"v":1,"id":"{CORE}:{id}","ts":{ts},"tenant":"default","source":"freeswitch-callcenter",{body}}}"#
        )
    }

    const T0: i64 = 1_763_888_400_000;

    #[test]
    fn an_answered_call_without_wrap_up() {
        let (got, errs, ignored) = run(&fixture(include_str!(
            "../../tests/fixtures/esl/answered.events"
        )));
        assert!(errs.is_empty(), "{errs:?}");
        let call = r#""call":"0c9f6f2e-4d1a-4f0e-9a53-1b2c3d4e5f60""#;
        let agent = r#""agent":"1000@default""#;
        assert_eq!(
            got,
            [
                j(
                    "200:1",
                    T0 - 60_000,
                    &format!(r#""kind":"agent_state",{agent},"state":"available""#)
                ),
                j(
                    "202:1",
                    T0 + 250,
                    &format!(r#""kind":"call_queued",{call},"queue":"sales@default""#)
                ),
                j(
                    "204:1",
                    T0 + 3_100,
                    &format!(r#""kind":"agent_state",{agent},"state":"ringing""#)
                ),
                j(
                    "205:1",
                    T0 + 3_101,
                    &format!(r#""kind":"agent_queues",{agent},"queues":["sales@default"]"#)
                ),
                j(
                    "205:2",
                    T0 + 3_101,
                    &format!(r#""kind":"agent_state",{agent},"state":"ringing",{call}"#)
                ),
                j(
                    "206:1",
                    T0 + 9_400,
                    &format!(
                        r#""kind":"call_answered",{call},"queue":"sales@default",{agent},"wait_ms":9000"#
                    )
                ),
                j(
                    "206:2",
                    T0 + 9_400,
                    &format!(r#""kind":"agent_state",{agent},"state":"on_call",{call}"#)
                ),
                // Complete at the end of the talk (the agent went straight
                // back to Waiting), released by that state change.
                j(
                    "211:1",
                    T0 + 129_050,
                    &format!(
                        r#""kind":"call_completed",{call},"queue":"sales@default",{agent},"talk_ms":120000"#
                    )
                ),
                j(
                    "211:2",
                    T0 + 129_055,
                    &format!(r#""kind":"agent_state",{agent},"state":"available""#)
                ),
            ]
        );
        // members-count twice, and the Terminated member-queue-end that
        // follows bridge-agent-end.
        assert_eq!(ignored, 3);
    }

    #[test]
    fn an_answered_call_with_wrap_up() {
        let (got, errs, ignored) = run(&fixture(include_str!(
            "../../tests/fixtures/esl/wrapup.events"
        )));
        assert!(errs.is_empty(), "{errs:?}");
        let call = r#""call":"b77c49c2-a732-11df-9438-e7d9456f8886""#;
        let agent = r#""agent":"1001@default""#;
        assert_eq!(
            got,
            [
                j(
                    "100:1",
                    T0 - 9_900,
                    &format!(r#""kind":"agent_state",{agent},"state":"available""#)
                ),
                j(
                    "102:1",
                    T0 + 250,
                    &format!(r#""kind":"call_queued",{call},"queue":"support@default""#)
                ),
                j(
                    "104:1",
                    T0 + 1_020,
                    &format!(r#""kind":"agent_state",{agent},"state":"ringing""#)
                ),
                j(
                    "105:1",
                    T0 + 1_021,
                    &format!(r#""kind":"agent_queues",{agent},"queues":["support@default"]"#)
                ),
                j(
                    "105:2",
                    T0 + 1_021,
                    &format!(r#""kind":"agent_state",{agent},"state":"ringing",{call}"#)
                ),
                j(
                    "106:1",
                    T0 + 12_500,
                    &format!(
                        r#""kind":"call_answered",{call},"queue":"support@default",{agent},"wait_ms":12000"#
                    )
                ),
                j(
                    "106:2",
                    T0 + 12_500,
                    &format!(r#""kind":"agent_state",{agent},"state":"on_call",{call}"#)
                ),
                // Idle after the call: wrap-up.
                j(
                    "111:1",
                    T0 + 130_000,
                    &format!(r#""kind":"agent_state",{agent},"state":"acw",{call}"#)
                ),
                // Waiting again: handling ends, wrap-up counted from the end
                // of the talk.
                j(
                    "112:1",
                    T0 + 160_000,
                    &format!(
                        r#""kind":"call_completed",{call},"queue":"support@default",{agent},"talk_ms":118000,"acw_ms":30000"#
                    )
                ),
                j(
                    "112:2",
                    T0 + 160_000,
                    &format!(r#""kind":"agent_state",{agent},"state":"available""#)
                ),
            ]
        );
        assert_eq!(ignored, 3);
    }

    #[test]
    fn an_abandoned_call_after_a_missed_offer() {
        let (got, errs, ignored) = run(&fixture(include_str!(
            "../../tests/fixtures/esl/abandoned.events"
        )));
        assert!(errs.is_empty(), "{errs:?}");
        let call = r#""call":"e260ffd0-a731-11df-9341-e7d9456f8886""#;
        let agent = r#""agent":"1002@default""#;
        assert_eq!(
            got,
            [
                j(
                    "300:1",
                    T0 + 600_500,
                    &format!(r#""kind":"call_queued",{call},"queue":"support@default""#)
                ),
                j(
                    "302:1",
                    T0 + 601_200,
                    &format!(r#""kind":"agent_state",{agent},"state":"ringing""#)
                ),
                j(
                    "303:1",
                    T0 + 601_201,
                    &format!(r#""kind":"agent_queues",{agent},"queues":["support@default"]"#)
                ),
                j(
                    "303:2",
                    T0 + 601_201,
                    &format!(r#""kind":"agent_state",{agent},"state":"ringing",{call}"#)
                ),
                // bridge-agent-fail: nothing; the next state says it.
                j(
                    "305:1",
                    T0 + 621_302,
                    &format!(r#""kind":"agent_state",{agent},"state":"available""#)
                ),
                j(
                    "306:1",
                    T0 + 635_700,
                    &format!(
                        r#""kind":"call_abandoned",{call},"queue":"support@default","wait_ms":35000"#
                    )
                ),
            ]
        );
        assert_eq!(ignored, 3);
    }

    #[test]
    fn timeouts_and_exit_keys() {
        let mut events = fixture(include_str!("../../tests/fixtures/esl/timeout.events"));
        events.extend(fixture(include_str!(
            "../../tests/fixtures/esl/exit_key.events"
        )));
        let (got, errs, ignored) = run(&events);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(ignored, 0);
        assert_eq!(
            got,
            [
                j(
                    "400:1",
                    T0 + 1_000_100,
                    r#""kind":"call_queued","call":"1d7a3b2c-0004-4000-8000-00000000b001","queue":"support@default""#
                ),
                j(
                    "401:1",
                    T0 + 1_300_200,
                    r#""kind":"call_dequeued","call":"1d7a3b2c-0004-4000-8000-00000000b001","queue":"support@default","reason":"timeout","wait_ms":300000"#
                ),
                j(
                    "402:1",
                    T0 + 1_400_100,
                    r#""kind":"call_queued","call":"1d7a3b2c-0005-4000-8000-00000000b002","queue":"sales@default""#
                ),
                j(
                    "403:1",
                    T0 + 1_420_200,
                    r#""kind":"call_dequeued","call":"1d7a3b2c-0005-4000-8000-00000000b002","queue":"sales@default","reason":"empty","wait_ms":20000"#
                ),
                j(
                    "500:1",
                    T0 + 2_000_300,
                    r#""kind":"call_queued","call":"3f9c5d4e-0006-4000-8000-00000000c001","queue":"support@default""#
                ),
                j(
                    "501:1",
                    T0 + 2_012_400,
                    r#""kind":"call_dequeued","call":"3f9c5d4e-0006-4000-8000-00000000c001","queue":"support@default","reason":"exit_key","wait_ms":12000"#
                ),
            ]
        );
    }

    #[test]
    fn agent_status_and_state_changes() {
        let (got, errs, ignored) = run(&fixture(include_str!(
            "../../tests/fixtures/esl/agents.events"
        )));
        assert!(errs.is_empty(), "{errs:?}");
        let st = |id, ts, s: &str| {
            j(
                id,
                ts,
                &format!(r#""kind":"agent_state","agent":"1003@default","state":{s}"#),
            )
        };
        assert_eq!(
            got,
            [
                st("600:1", T0 + 3_000_100, r#""available""#),
                st("602:1", T0 + 3_100_100, r#""not_ready","reason":"break""#),
                // Reserved while on break: still on break.
                st(
                    "604:1",
                    T0 + 3_200_100,
                    r#""not_ready","reason":"reserved""#
                ),
                st("605:1", T0 + 3_210_100, r#""available""#),
                // Available (On Demand) and Waiting: available, no change.
                st("607:1", T0 + 3_310_100, r#""not_ready","reason":"idle""#),
                st("608:1", T0 + 3_400_100, r#""logged_out""#),
            ]
        );
        // members-count, agent-status-get, agent-tap-dance.
        assert_eq!(ignored, 3);
    }

    fn ev(pairs: &[(&str, &str)]) -> EslEvent {
        let mut all = vec![
            ("Event-Name", "CUSTOM"),
            ("Event-Subclass", "callcenter::info"),
            ("Core-UUID", CORE),
            ("Event-Sequence", "7"),
            ("Event-Date-Timestamp", "1763888400000000"),
        ];
        all.extend_from_slice(pairs);
        EslEvent::from_pairs(all)
    }

    #[test]
    fn untranslatable_events_name_what_is_wrong() {
        let mut t = EslTranslator::new("default");
        let mut out = vec![];
        let mut err = |e: EslEvent| t.translate(&e, &mut out).unwrap_err().to_string();
        assert_eq!(
            err(ev(&[
                ("CC-Action", "member-queue-start"),
                ("CC-Member-Session-UUID", "s")
            ])),
            "member-queue-start: no CC-Queue header"
        );
        assert_eq!(
            err(ev(&[
                ("CC-Action", "member-queue-start"),
                ("CC-Queue", "q")
            ])),
            "member-queue-start: no CC-Member-Session-UUID or CC-Member-UUID header"
        );
        assert_eq!(
            err(ev(&[
                ("CC-Action", "agent-status-change"),
                ("CC-Agent", "a"),
                ("CC-Agent-Status", "Dancing")
            ])),
            r#"agent-status-change: unknown CC-Agent-Status "Dancing""#
        );
        assert_eq!(
            err(ev(&[
                ("CC-Action", "member-queue-end"),
                ("CC-Queue", "q"),
                ("CC-Member-UUID", "m"),
                ("CC-Cause", "Exploded")
            ])),
            r#"member-queue-end: CC-Cause "Exploded" is neither Terminated nor Cancel"#
        );
        assert_eq!(
            err(ev(&[
                ("CC-Action", "bridge-agent-start"),
                ("CC-Agent", "a"),
                ("CC-Queue", "q"),
                ("CC-Member-UUID", "m"),
                ("CC-Member-Joined-Time", "soon"),
            ])),
            r#"bridge-agent-start: CC-Member-Joined-Time "soon" is not epoch seconds"#
        );
        // A decoded `%0A`: not an identifier.
        assert_eq!(
            err(ev(&[
                ("CC-Action", "member-queue-start"),
                ("CC-Member-UUID", "m"),
                ("CC-Queue", "sup\nport")
            ])),
            r#"member-queue-start: CC-Queue "sup\nport" is not an identifier (1 to 128 characters, no control characters)"#
        );
        assert_eq!(
            err(ev(&[("Event-Date-Timestamp", "x")])),
            "callcenter::info: no CC-Action header"
        );
        let mut no_seq = ev(&[("CC-Action", "members-count")]);
        no_seq.headers.retain(|(n, _)| n != "Event-Sequence");
        assert_eq!(
            err(no_seq),
            "members-count: no numeric Event-Sequence to identify the event"
        );
        let mut no_ts = ev(&[("CC-Action", "members-count")]);
        no_ts.headers.retain(|(n, _)| n != "Event-Date-Timestamp");
        assert_eq!(err(no_ts), "members-count: no Event-Date-Timestamp header");
        assert!(out.is_empty());
    }

    #[test]
    fn other_events_are_ignored() {
        let mut t = EslTranslator::new("default");
        let mut out = vec![];
        let heartbeat = EslEvent::from_pairs([("Event-Name", "HEARTBEAT"), ("Core-UUID", CORE)]);
        t.translate(&heartbeat, &mut out).unwrap();
        let other = EslEvent::from_pairs([
            ("Event-Name", "CUSTOM"),
            ("Event-Subclass", "sofia::register"),
        ]);
        t.translate(&other, &mut out).unwrap();
        assert!(out.is_empty());
        assert_eq!(t.ignored(), 2);
    }

    #[test]
    fn a_call_answered_before_connecting_completes_from_its_own_times() {
        let mut t = EslTranslator::new("default");
        let mut out = vec![];
        let end = |seq: &'static str, action: &'static str| {
            let mut e = ev(&[
                ("CC-Action", action),
                ("CC-Agent", "1000@default"),
                ("CC-Queue", "support@default"),
                ("CC-Member-Session-UUID", "s1"),
                ("CC-Cause", "Terminated"),
                ("CC-Agent-Answered-Time", "1763888300"),
                ("CC-Bridge-Terminated-Time", "1763888400"),
                ("CC-Member-Leaving-Time", "1763888400"),
            ]);
            e.headers.retain(|(n, _)| n != "Event-Sequence");
            e.headers.push(("Event-Sequence".into(), seq.into()));
            e
        };
        t.translate(&end("1", "bridge-agent-end"), &mut out)
            .unwrap();
        t.translate(&end("2", "member-queue-end"), &mut out)
            .unwrap();
        let got = check(&out);
        // The state is unknown (never seen): completes at once.
        assert_eq!(
            got,
            [
                j(
                    "1:1",
                    T0,
                    r#""kind":"call_completed","call":"s1","queue":"support@default","agent":"1000@default","talk_ms":100000"#
                ),
                j(
                    "1:2",
                    T0,
                    r#""kind":"agent_state","agent":"1000@default","state":"available""#
                ),
            ]
        );
        assert_eq!(t.ignored(), 1);
    }

    #[test]
    fn a_break_taken_during_a_call_shows_after_it() {
        let mut t = EslTranslator::new("default");
        let mut out = vec![];
        let mut seq = 0;
        let mut send = |pairs: &[(&str, &str)]| {
            seq += 1;
            let mut e = ev(pairs);
            e.headers
                .retain(|(n, _)| n != "Event-Sequence" && n != "Event-Date-Timestamp");
            e.headers.push(("Event-Sequence".into(), seq.to_string()));
            let us = (T0 + seq * 1000) * 1000;
            e.headers
                .push(("Event-Date-Timestamp".into(), us.to_string()));
            t.translate(&e, &mut out).unwrap();
        };
        let who = [
            ("CC-Agent", "a"),
            ("CC-Queue", "q"),
            ("CC-Member-Session-UUID", "s"),
        ];
        send(&[&[("CC-Action", "bridge-agent-start")][..], &who].concat());
        send(&[
            ("CC-Action", "agent-status-change"),
            ("CC-Agent", "a"),
            ("CC-Agent-Status", "On Break"),
        ]);
        // No answer time in the end event: talk measured between events.
        send(&[&[("CC-Action", "bridge-agent-end")][..], &who].concat());
        send(&[
            ("CC-Action", "agent-state-change"),
            ("CC-Agent", "a"),
            ("CC-Agent-State", "Waiting"),
        ]);
        let got = check(&out);
        assert_eq!(
            got,
            [
                j(
                    "1:1",
                    T0 + 1000,
                    r#""kind":"agent_queues","agent":"a","queues":["q"]"#
                ),
                j(
                    "1:2",
                    T0 + 1000,
                    r#""kind":"call_answered","call":"s","queue":"q","agent":"a""#
                ),
                j(
                    "1:3",
                    T0 + 1000,
                    r#""kind":"agent_state","agent":"a","state":"on_call","call":"s""#
                ),
                j(
                    "4:1",
                    T0 + 3000,
                    r#""kind":"call_completed","call":"s","queue":"q","agent":"a","talk_ms":2000"#
                ),
                j(
                    "4:2",
                    T0 + 4000,
                    r#""kind":"agent_state","agent":"a","state":"not_ready","reason":"break""#
                ),
            ]
        );
    }

    #[test]
    fn resynchronisation_from_the_agent_and_tier_lists() {
        let mut t = EslTranslator::new("default");
        let mut out = vec![];
        // Known before: an agent the list no longer has.
        t.translate(
            &ev(&[
                ("CC-Action", "agent-status-change"),
                ("CC-Agent", "gone@default"),
                ("CC-Agent-Status", "Available"),
            ]),
            &mut out,
        )
        .unwrap();
        out.clear();
        // `callcenter_config agent list` as mod_callcenter prints it.
        let agents = "name|system|uuid|type|contact|status|state|max_no_answer|wrap_up_time|reject_delay_time|busy_delay_time|no_answer_delay_time|last_bridge_start|last_bridge_end|last_offered_call|last_status_change|no_answer_count|calls_answered|talk_time|ready_time\n\
            1000@default|single_box||callback|[leg_timeout=10]user/1000@default|Available|Waiting|3|10|10|60|0|0|0|0|1763888000|0|0|0|0\n\
            1001@default|single_box||callback|user/1001@default|On Break|Waiting|3|10|10|60|0|0|0|0|1763888000|0|0|0|0\n\
            +OK\n";
        assert_eq!(t.resync_agents(T0, agents, &mut out), Ok(vec![]));
        let tiers = "queue|agent|state|level|position\n\
            support@default|1000@default|Ready|1|1\n\
            sales@default|1000@default|Ready|1|2\n\
            support@default|1001@default|Ready|2|1\n+OK\n";
        assert_eq!(t.resync_tiers(T0, tiers, &mut out), Ok(vec![]));
        let got = check(&out);
        let r = |id: &str, body: &str| {
            format!(
                r#"{{"v":1,"id":"{CORE}:resync-{id}","ts":{T0},"tenant":"default","source":"freeswitch-callcenter",{body}}}"#
            )
        };
        assert_eq!(
            got,
            [
                r(
                    &format!("agents:{T0}:1"),
                    r#""kind":"agent_state","agent":"1000@default","state":"available""#
                ),
                r(
                    &format!("agents:{T0}:2"),
                    r#""kind":"agent_state","agent":"1001@default","state":"not_ready","reason":"break""#
                ),
                r(
                    &format!("agents:{T0}:3"),
                    r#""kind":"agent_state","agent":"gone@default","state":"logged_out""#
                ),
                r(
                    &format!("tiers:{T0}:1"),
                    r#""kind":"agent_queues","agent":"1000@default","queues":["sales@default","support@default"]"#
                ),
                r(
                    &format!("tiers:{T0}:2"),
                    r#""kind":"agent_queues","agent":"1001@default","queues":["support@default"]"#
                ),
            ]
        );
        // Nothing changed: nothing to say.
        out.clear();
        assert_eq!(t.resync_tiers(T0 + 1, tiers, &mut out), Ok(vec![]));
        assert!(out.is_empty());
        // No agents at all, and mod_callcenter missing.
        assert_eq!(t.resync_tiers(T0 + 2, "+OK\n", &mut out), Ok(vec![]));
        assert_eq!(out.len(), 2);
        let err = t
            .resync_agents(T0, "-ERR callcenter_config Command not found!\n", &mut out)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "callcenter_config agent list: -ERR callcenter_config Command not found!"
        );
    }

    #[test]
    fn resynchronisation_reads_contacts_with_failover_and_keeps_unreadable_agents() {
        let mut t = EslTranslator::new("default");
        let mut out = vec![];
        for agent in ["1000@default", "1001@default", "1002@default"] {
            t.translate(
                &ev(&[
                    ("CC-Action", "agent-status-change"),
                    ("CC-Agent", agent),
                    ("CC-Agent-Status", "Available"),
                ]),
                &mut out,
            )
            .unwrap();
        }
        out.clear();
        let header = "name|system|uuid|type|contact|status|state|max_no_answer|wrap_up_time|reject_delay_time|busy_delay_time|no_answer_delay_time|last_bridge_start|last_bridge_end|last_offered_call|last_status_change|no_answer_count|calls_answered|talk_time|ready_time";
        // A failover dial string (`|` in the contact), a row cut short, and
        // a status nobody knows.
        let failover = "1000@default|single_box||callback|{ignore_early_media=true}sofia/gw/a|sofia/gw/b|On Break|Waiting|3|10|10|60|0|0|0|0|1763888000|0|0|0|0";
        let short = "1001@default|single_box||callback|user/1001";
        let unknown = "1002@default|single_box||callback|user/1002|Lunch|Waiting|3|10|10|60|0|0|0|0|1763888000|0|0|0|0";
        let agents = format!("{header}\n{failover}\n{short}\n{unknown}\n+OK\n");
        let skipped = t.resync_agents(T0, &agents, &mut out).unwrap();
        assert_eq!(
            skipped,
            [
                SkippedRow {
                    row: short.into(),
                    reason: "callcenter_config agent list: 5 fields for 20 columns".into()
                },
                SkippedRow {
                    row: unknown.into(),
                    reason: "callcenter_config agent list: unknown status \"Lunch\"".into()
                },
            ]
        );
        // The failover row is read; the unreadable ones log nobody out.
        let got = check(&out);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].contains(
            r#""kind":"agent_state","agent":"1000@default","state":"not_ready","reason":"break""#
        ));
        // Every column of the failover row is where it belongs.
        let table = Table::parse(&agents).unwrap();
        let cells = table
            .cells(&table.rows[0], table.column("contact"))
            .unwrap();
        assert_eq!(cells.len(), 20);
        assert_eq!(cells[4], "{ignore_early_media=true}sofia/gw/a|sofia/gw/b");
        assert_eq!(
            (&*cells[5], &*cells[6], &*cells[19]),
            ("On Break", "Waiting", "0")
        );
        assert!(table.cells(&table.rows[1], Some(4)).is_none());

        // Tiers: an unreadable row keeps its agent's queues.
        let tiers = "queue|agent|state|level|position\nsupport@default|1000@default|Ready|1|1\n";
        t.resync_tiers(T0, tiers, &mut out).unwrap();
        out.clear();
        let bad = "queue|agent|state|level|position\nsup\u{1}port|1000@default|Ready|1|1\n+OK\n";
        let skipped = t.resync_tiers(T0 + 1, bad, &mut out).unwrap();
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        assert!(out.is_empty(), "{out:?}");
    }
}
