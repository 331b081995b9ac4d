//! Canonical events → the `queue_log` Asterisk would have written for them:
//! whole seconds, holdtime and calltime as second differences, no after-call
//! work (the agent is free when the call ends), members joining with
//! `ADDMEMBER` when they log in. Used to turn a simulated day into a
//! realistic `queue_log` (`wallboard simulate --format queue-log`) and to test
//! the adapter against the canonical trace it came from.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use wallboard_events::event::{AgentState, BlockedReason, DequeueReason, Event, EventBody};

/// What Asterisk knows of a member.
#[derive(Debug, Default)]
struct Member {
    /// Its queues (kept while logged out, for the next log-in).
    queues: BTreeSet<String>,
    logged_in: bool,
    paused: bool,
    ringing: bool,
}

/// A call's visit to a queue.
#[derive(Debug)]
struct Visit {
    queued_s: i64,
    answered_s: Option<i64>,
}

/// Collects the lines of a whole trace; [`QueueLogWriter::finish`] returns
/// them in time order.
#[derive(Debug, Default)]
pub struct QueueLogWriter {
    /// `(moment in ms, order of writing, line)`: a call's completion is
    /// known only at the end of its after-call work, but Asterisk logs it
    /// when the talk ends.
    lines: Vec<(i64, usize, String)>,
    visits: HashMap<(String, String), Visit>,
    uniqueids: HashMap<String, String>,
    members: HashMap<String, Member>,
    /// Channel technology prefixed to agent names (`PJSIP/agent001`).
    prefix: String,
}

impl QueueLogWriter {
    /// `prefix` makes agent names into member interfaces, e.g. `PJSIP/`.
    #[must_use]
    pub fn new(prefix: &str) -> Self {
        QueueLogWriter {
            prefix: prefix.to_owned(),
            ..Default::default()
        }
    }

    /// The member interface an agent is logged as.
    #[must_use]
    pub fn interface(&self, agent: &str) -> String {
        format!("{}{agent}", self.prefix)
    }

    /// Adds what Asterisk would log for `e` (events in time order).
    pub fn push(&mut self, e: &Event<'_>) {
        let ts = e.ts;
        match &e.body {
            EventBody::CallQueued { call, queue, .. } => self.call_queued(ts, call, queue),
            EventBody::CallAnswered {
                call, queue, agent, ..
            } => self.call_answered(ts, call, queue, agent),
            EventBody::CallAbandoned { call, queue, .. } => {
                let wait = self.wait(call, queue, secs(ts));
                let uid = self.uid(call);
                self.line(ts, &uid, queue, "NONE", "ABANDON", &["1", "1", &wait]);
            }
            EventBody::CallDequeued {
                call,
                queue,
                reason,
                ..
            } => self.call_dequeued(ts, call, queue, *reason),
            EventBody::CallCompleted {
                call,
                queue,
                agent,
                acw_ms,
                transferred,
                ..
            } => self.call_completed(ts, call, queue, agent, *acw_ms, *transferred),
            EventBody::AgentQueues { agent, queues } => self.agent_queues(ts, agent, queues),
            EventBody::AgentState {
                agent,
                state,
                reason,
                ..
            } => self.agent_state(ts, agent, *state, reason.as_deref()),
            EventBody::CallBlocked {
                call,
                queue,
                reason,
            } => {
                // Asterisk logs only its own refusals; a closed queue is
                // the dialplan's decision, before `Queue()` runs.
                if let Some(event) = blocked_event(*reason) {
                    let uid = self.uid(call);
                    self.line(ts, &uid, queue, "NONE", event, &[""]);
                }
            }
            // queue_log has no line for any of these.
            EventBody::Schedule { .. }
            | EventBody::Heartbeat { .. }
            | EventBody::FloorMessage(_)
            | EventBody::SurveyResult(_)
            | EventBody::QualityEvaluation(_) => {}
        }
    }

    /// `ENTERQUEUE`, giving the call a `Uniqueid` on its first queue.
    fn call_queued(&mut self, ts: i64, call: &str, queue: &str) {
        let s = secs(ts);
        let n = self.uniqueids.len();
        let uid = self
            .uniqueids
            .entry(call.to_owned())
            .or_insert_with(|| format!("{s}.{n}"))
            .clone();
        self.visits.insert(
            (call.to_owned(), queue.to_owned()),
            Visit {
                queued_s: s,
                answered_s: None,
            },
        );
        self.line(
            ts,
            &uid,
            queue,
            "NONE",
            "ENTERQUEUE",
            &["", "8005551234", "1"],
        );
    }

    /// `CONNECT` of a call seen entering the queue (others are left out).
    fn call_answered(&mut self, ts: i64, call: &str, queue: &str, agent: &str) {
        let s = secs(ts);
        let Some(v) = self.visits.get_mut(&(call.to_owned(), queue.to_owned())) else {
            return;
        };
        v.answered_s = Some(s);
        let hold = (s - v.queued_s).to_string();
        let uid = self.uid(call);
        let iface = self.interface(agent);
        if let Some(m) = self.members.get_mut(agent) {
            m.ringing = false;
        }
        self.line(
            ts,
            &uid,
            queue,
            &iface,
            "CONNECT",
            &[&hold, &format!("{uid}-b"), "2"],
        );
    }

    /// `EXITWITHKEY`, `EXITEMPTY` or, for any other reason, `EXITWITHTIMEOUT`.
    fn call_dequeued(&mut self, ts: i64, call: &str, queue: &str, reason: DequeueReason) {
        let wait = self.wait(call, queue, secs(ts));
        let uid = self.uid(call);
        match reason {
            DequeueReason::ExitKey => self.line(
                ts,
                &uid,
                queue,
                "NONE",
                "EXITWITHKEY",
                &["1", "1", "1", &wait],
            ),
            DequeueReason::Empty => {
                self.line(ts, &uid, queue, "NONE", "EXITEMPTY", &["1", "1", &wait]);
            }
            // Asterisk knows only that the queue's timeout passed;
            // the dialplan then overflows or transfers the caller.
            _ => self.line(
                ts,
                &uid,
                queue,
                "NONE",
                "EXITWITHTIMEOUT",
                &["1", "1", &wait],
            ),
        }
    }

    /// `COMPLETEAGENT` or `TRANSFER` of the call `agent` handled for `queue`,
    /// at the end of the talk (`ts` less the after-call work).
    fn call_completed(
        &mut self,
        ts: i64,
        call: &str,
        queue: &str,
        agent: &str,
        acw_ms: u64,
        transferred: bool,
    ) {
        // The talk ended before the after-call work.
        let end = ts - i64::try_from(acw_ms).unwrap_or(0);
        let Some(v) = self.visits.remove(&(call.to_owned(), queue.to_owned())) else {
            return;
        };
        let answered = v.answered_s.unwrap_or(v.queued_s);
        let hold = (answered - v.queued_s).to_string();
        let talk = (secs(end) - answered).to_string();
        let uid = self.uid(call);
        let iface = self.interface(agent);
        let (event, data): (&str, &[&str]) = if transferred {
            ("TRANSFER", &["2001", "from-internal", &hold, &talk, "1"])
        } else {
            ("COMPLETEAGENT", &[&hold, &talk, "1"])
        };
        self.line(end, &uid, queue, &iface, event, data);
    }

    /// `ADDMEMBER`/`REMOVEMEMBER` for the queues a logged-in agent gained or
    /// lost; a logged-out agent's queues are kept for its next log-in.
    fn agent_queues(&mut self, ts: i64, agent: &str, queues: &[Cow<'_, str>]) {
        let iface = self.interface(agent);
        let new: BTreeSet<String> = queues
            .iter()
            .map(std::string::ToString::to_string)
            .collect();
        let m = self.members.entry(agent.to_owned()).or_default();
        let old = std::mem::replace(&mut m.queues, new.clone());
        if m.logged_in {
            for q in old.difference(&new) {
                self.line(ts, "NONE", q, &iface, "REMOVEMEMBER", &[""]);
            }
            for q in new.difference(&old) {
                self.line(ts, "NONE", q, &iface, "ADDMEMBER", &[""]);
            }
        }
    }

    fn agent_state(&mut self, ts: i64, agent: &str, state: AgentState, reason: Option<&str>) {
        let iface = self.interface(agent);
        let m = self.members.entry(agent.to_owned()).or_default();
        let was_ringing = std::mem::replace(&mut m.ringing, state == AgentState::Ringing);
        let mut out: Vec<(&str, String, Vec<String>)> = Vec::new();
        if was_ringing && state != AgentState::OnCall {
            // Offered but not taken.
            out.push(("RINGNOANSWER", "NONE".into(), vec!["15000".into()]));
        }
        match state {
            AgentState::Available | AgentState::NotReady => {
                if !m.logged_in {
                    m.logged_in = true;
                    for q in &m.queues {
                        out.push(("ADDMEMBER", q.clone(), vec![String::new()]));
                    }
                }
                if state == AgentState::NotReady {
                    m.paused = true;
                    let r = reason.unwrap_or("other").to_owned();
                    out.push(("PAUSEALL", "NONE".into(), vec![r]));
                } else if m.paused {
                    m.paused = false;
                    out.push(("UNPAUSEALL", "NONE".into(), vec![String::new()]));
                }
            }
            AgentState::LoggedOut => {
                if m.logged_in {
                    m.logged_in = false;
                    m.paused = false;
                    for q in &m.queues {
                        out.push(("REMOVEMEMBER", q.clone(), vec![String::new()]));
                    }
                }
            }
            // Ringing, talking and wrap-up show in the call's own lines.
            AgentState::Ringing | AgentState::OnCall | AgentState::Acw => {}
        }
        for (event, queue, data) in out {
            let data: Vec<&str> = data.iter().map(String::as_str).collect();
            self.line(ts, "NONE", &queue, &iface, event, &data);
        }
    }

    fn uid(&self, call: &str) -> String {
        self.uniqueids
            .get(call)
            .cloned()
            .unwrap_or_else(|| call.to_owned())
    }

    /// Whole seconds waited in the queue until `s`.
    fn wait(&mut self, call: &str, queue: &str, s: i64) -> String {
        self.visits
            .remove(&(call.to_owned(), queue.to_owned()))
            .map_or(0, |v| s - v.queued_s)
            .to_string()
    }

    fn line(&mut self, ts: i64, call: &str, queue: &str, agent: &str, event: &str, data: &[&str]) {
        let mut l = format!("{}|{call}|{queue}|{agent}|{event}", secs(ts));
        for d in data {
            l.push('|');
            l.push_str(d);
        }
        let order = self.lines.len();
        self.lines.push((ts, order, l));
    }

    /// The lines written, in time order (ties in the order they were
    /// written).
    #[must_use]
    pub fn finish(mut self) -> Vec<String> {
        self.lines
            .sort_unstable_by_key(|(ts, order, _)| (*ts, *order));
        self.lines.into_iter().map(|(_, _, l)| l).collect()
    }
}

fn secs(ts: i64) -> i64 {
    ts.div_euclid(1000)
}

/// The `queue_log` line Asterisk writes when it refuses a caller for `reason`.
fn blocked_event(reason: BlockedReason) -> Option<&'static str> {
    match reason {
        BlockedReason::Full => Some("FULL"),
        BlockedReason::NoAgents => Some("JOINEMPTY"),
        BlockedReason::NoAvailableAgents => Some("JOINUNAVAIL"),
        BlockedReason::Closed | BlockedReason::Other => None,
    }
}
