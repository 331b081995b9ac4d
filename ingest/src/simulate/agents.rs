//! Agents: who they are, their phases through the day, and how the
//! simulator moves them between phases (after a call, breaks, lunch, the
//! end of the shift).

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use wallboard_events::event::{AgentState, TimestampMs};

use super::agenda::Action;
use super::queues::QueueProfile;
use super::sample::pick_weighted;
use super::shifts::Shift;
use super::simulator::Simulator;
use super::MINUTE;

/// Share of agents who log in late; the others log in a few minutes early or
/// on time.
pub(super) const P_LATE_LOGIN: f64 = 0.25;
const P_LOG_OUT_FOR_LUNCH: f64 = 0.2;
/// Chance, after a call, of a short unplanned `not_ready` ("other").
const P_SHORT_AUX: f64 = 0.01;
/// Odds of the number of queues an agent is a member of (1, 2, 3).
const QUEUE_COUNT_ODDS: [f64; 3] = [0.3, 0.45, 0.25];

pub(super) struct Agent {
    pub(super) id: String,
    /// Member queues, by index, ascending.
    pub(super) queues: Vec<usize>,
    /// None when the period is too short for a shift.
    pub(super) shift: Option<Shift>,
    pub(super) phase: Phase,
    /// What the agent does once the current call is over.
    pub(super) after_call: Option<AfterCall>,
    /// The connected call, from answer to completion.
    pub(super) handling: Option<Handling>,
    pub(super) shift_over: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// `logged_out`.
    Off,
    /// `available`, in the routing pools since `since`.
    Idle {
        since: TimestampMs,
    },
    Ringing {
        call: u64,
        offer: u64,
    },
    /// `on_call`.
    Talking,
    /// `acw`.
    WrapUp,
    /// `not_ready` for `activity`, or logged out over lunch.
    Away {
        activity: Activity,
        logged_out: bool,
        token: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AfterCall {
    Away {
        activity: Activity,
        duration_ms: i64,
    },
    LogOut,
}

/// Schedule activities, and the `not_ready` reasons of the non-work ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Activity {
    Work,
    Break,
    Lunch,
    /// Unplanned aux time (after a ring-no-answer, a quick errand).
    Other,
}

impl Activity {
    pub(super) fn code(self) -> &'static str {
        match self {
            Activity::Work => "work",
            Activity::Break => "break",
            Activity::Lunch => "lunch",
            Activity::Other => "other",
        }
    }
}

/// The connected call an agent handles.
pub(super) struct Handling {
    pub(super) call_no: u64,
    pub(super) call_id: String,
    pub(super) queue: usize,
    pub(super) talk_ms: u64,
    pub(super) hold_ms: u64,
    pub(super) acw_ms: u64,
    pub(super) transferred: bool,
}

pub(super) fn agent_id(index: usize, agents: usize) -> String {
    let width = agents.to_string().len().max(3);
    format!("agent{:0width$}", index + 1)
}

/// Membership: a primary queue, apportioned by queue share over the roster
/// so that every queue gets staff, plus up to two more drawn by share.
pub(super) fn assign_queues(
    rng: &mut ChaCha8Rng,
    index: usize,
    agents: usize,
    queues: &[QueueProfile],
) -> Vec<usize> {
    let total: f64 = queues.iter().map(|q| q.share).sum();
    let position = (index as f64 + 0.5) / agents as f64 * total;
    let mut cumulative = 0.0;
    let primary = queues
        .iter()
        .position(|q| {
            cumulative += q.share;
            position < cumulative
        })
        .unwrap_or(queues.len() - 1);
    let wanted = 1 + pick_weighted(rng, QUEUE_COUNT_ODDS.iter().copied());
    let mut member = vec![primary];
    while member.len() < wanted.min(queues.len()) {
        let weights =
            queues
                .iter()
                .enumerate()
                .map(|(q, p)| if member.contains(&q) { 0.0 } else { p.share });
        member.push(pick_weighted(rng, weights));
    }
    member.sort_unstable();
    member
}

impl Simulator {
    /// The agent is done with a call (or a ringing phone): whatever they meant
    /// to do after it happens now, else they become available.
    pub(super) fn release_agent(&mut self, agent: usize, after_call: bool) {
        match self.agents[agent].after_call.take() {
            Some(AfterCall::LogOut) => self.log_out(agent),
            Some(AfterCall::Away {
                activity,
                duration_ms,
            }) => self.go_away(agent, activity, duration_ms),
            None if after_call && self.rng.gen_bool(P_SHORT_AUX) => {
                let away_ms = self.uniform_ms(MINUTE, 6 * MINUTE);
                self.go_away(agent, Activity::Other, away_ms);
            }
            None => self.make_available(agent),
        }
    }

    fn make_available(&mut self, agent: usize) {
        self.emit_state(agent, AgentState::Available, None, None);
        if let Some(no) = self.best_call_for(agent) {
            self.offer(agent, no);
            return;
        }
        let since = self.now;
        self.agents[agent].phase = Phase::Idle { since };
        for &q in &self.agents[agent].queues {
            self.idle[q].insert((since, agent));
        }
    }

    /// Takes an available agent out of the routing pools.
    pub(super) fn leave_idle(&mut self, agent: usize) {
        if let Phase::Idle { since } = self.agents[agent].phase {
            for &q in &self.agents[agent].queues {
                self.idle[q].remove(&(since, agent));
            }
        }
    }

    pub(super) fn go_away(&mut self, agent: usize, activity: Activity, duration_ms: i64) {
        self.leave_idle(agent);
        let token = self.token();
        // Logging out over lunch is in adherence too; some agents do.
        let logged_out = activity == Activity::Lunch && self.rng.gen_bool(P_LOG_OUT_FOR_LUNCH);
        if logged_out {
            self.emit_state(agent, AgentState::LoggedOut, None, None);
        } else {
            self.emit_state(agent, AgentState::NotReady, Some(activity.code()), None);
        }
        self.agents[agent].phase = Phase::Away {
            activity,
            logged_out,
            token,
        };
        self.schedule(self.now + duration_ms, Action::AwayEnd { agent, token });
    }

    fn log_out(&mut self, agent: usize) {
        self.leave_idle(agent);
        self.emit_state(agent, AgentState::LoggedOut, None, None);
        self.agents[agent].phase = Phase::Off;
    }

    pub(super) fn on_log_in(&mut self, agent: usize) {
        let a = &self.agents[agent];
        if matches!(a.phase, Phase::Off) && !a.shift_over {
            self.make_available(agent);
        }
    }

    pub(super) fn on_planned_away(&mut self, agent: usize, activity: Activity, planned_ms: i64) {
        // Breaks tend to run over rather than short.
        let duration_ms = (planned_ms + self.uniform_ms(-MINUTE, 5 * MINUTE)).max(5 * MINUTE);
        let a = &mut self.agents[agent];
        match a.phase {
            Phase::Idle { .. }
            | Phase::Away {
                activity: Activity::Other,
                ..
            } => self.go_away(agent, activity, duration_ms),
            // Not logged in (any more), or still on the previous break,
            // having started it late: this one is lost.
            Phase::Off | Phase::Away { .. } => {}
            // Never mid-call: the break starts after this call's wrap-up.
            Phase::Ringing { .. } | Phase::Talking | Phase::WrapUp => {
                if a.after_call != Some(AfterCall::LogOut) {
                    a.after_call = Some(AfterCall::Away {
                        activity,
                        duration_ms,
                    });
                }
            }
        }
    }

    pub(super) fn on_away_end(&mut self, agent: usize, token: u64) {
        if matches!(self.agents[agent].phase, Phase::Away { token: t, .. } if t == token) {
            self.make_available(agent);
        }
    }

    pub(super) fn on_shift_end(&mut self, agent: usize) {
        let a = &mut self.agents[agent];
        a.shift_over = true;
        match a.phase {
            Phase::Off => {}
            // Out for lunch past the end of the shift: simply not coming back.
            Phase::Away {
                logged_out: true, ..
            } => a.phase = Phase::Off,
            Phase::Idle { .. } | Phase::Away { .. } => self.log_out(agent),
            Phase::Ringing { .. } | Phase::Talking | Phase::WrapUp => {
                a.after_call = Some(AfterCall::LogOut);
            }
        }
    }
}
