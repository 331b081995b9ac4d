//! The [`Simulator`] driver: its state, set-up at the period's start, the
//! event loop that runs the agenda, and the plumbing every model uses
//! (scheduling, emitting events).

use std::borrow::Cow;
use std::collections::{BTreeSet, BinaryHeap, HashMap, VecDeque};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wallboard_events::event::{
    AgentState, Event, EventBody, ScheduleSegment, TimestampMs, SCHEMA_VERSION,
};

use super::agenda::{Action, Scheduled};
use super::agents::{agent_id, assign_queues, Activity, Agent, Phase, P_LATE_LOGIN};
use super::arrivals::Arrivals;
use super::calls::{Call, P_REPORT_WAIT};
use super::config::SimConfig;
use super::period::Period;
use super::queues::{queue_profiles, QueueProfile};
use super::shifts::plan_shift;
use super::{owned, MINUTE, SOURCE};

/// A streaming simulation; see the module documentation for the model.
pub struct Simulator {
    pub(super) tenant: String,
    pub(super) period: Period,
    pub(super) rng: ChaCha8Rng,
    pub(super) queues: Vec<QueueProfile>,
    pub(super) agents: Vec<Agent>,
    /// Calls waiting or ringing, by call number. Connected calls live in the
    /// handling agent.
    pub(super) calls: HashMap<u64, Call>,
    /// Per queue: waiting (not ringing) calls by (queued at, call number).
    pub(super) waiting: Vec<BTreeSet<(TimestampMs, u64)>>,
    /// Per queue: available member agents by (idle since, agent index).
    pub(super) idle: Vec<BTreeSet<(TimestampMs, usize)>>,
    pub(super) arrivals: Arrivals,
    pub(super) agenda: BinaryHeap<Scheduled>,
    /// Events produced by the last action, not yet handed out.
    pub(super) out: VecDeque<Event<'static>>,
    pub(super) now: TimestampMs,
    pub(super) next_seq: u64,
    pub(super) next_event_no: u64,
    pub(super) next_call_no: u64,
    pub(super) next_token: u64,
    /// Callers, surveys and evaluations (`SimConfig::kpis`).
    pub(super) kpi: Option<super::kpi::KpiSim>,
}

impl Simulator {
    /// A simulator of `cfg`, its randomness seeded from `cfg.seed`.
    #[must_use]
    pub fn new(cfg: SimConfig) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let period = Period::new(cfg.start_ms, cfg.hours);
        let queues = queue_profiles(cfg.queues.max(1));
        let agents: Vec<Agent> = (0..cfg.agents)
            .map(|i| Agent {
                id: agent_id(i, cfg.agents),
                queues: assign_queues(&mut rng, i, cfg.agents, &queues),
                shift: plan_shift(&mut rng, &period),
                phase: Phase::Off,
                after_call: None,
                handling: None,
                shift_over: false,
            })
            .collect();
        let arrivals = Arrivals::new(&period, &agents, &queues, cfg.load);
        let mut sim = Simulator {
            tenant: cfg.tenant,
            rng,
            waiting: vec![BTreeSet::new(); queues.len()],
            idle: vec![BTreeSet::new(); queues.len()],
            queues,
            agents,
            calls: HashMap::new(),
            arrivals,
            agenda: BinaryHeap::new(),
            out: VecDeque::new(),
            now: period.start,
            period,
            next_seq: 0,
            next_event_no: 0,
            next_call_no: 0,
            next_token: 0,
            kpi: cfg.kpis.then(|| super::kpi::KpiSim::new(cfg.seed)),
        };
        if sim.period.end > sim.period.start {
            sim.publish_plans();
            sim.plan_agent_days();
            sim.schedule_next_arrival();
        }
        sim
    }

    /// Next event in non-decreasing `ts` order, or None when the simulated
    /// period is over.
    pub fn next_event(&mut self) -> Option<Event<'static>> {
        loop {
            if let Some(event) = self.out.pop_front() {
                return Some(event);
            }
            let Scheduled { at, action, .. } = self.agenda.pop()?;
            self.now = at;
            self.handle(action);
        }
    }

    fn handle(&mut self, action: Action) {
        match action {
            Action::Arrival => self.on_arrival(),
            Action::LogIn { agent } => self.on_log_in(agent),
            Action::PlannedAway {
                agent,
                activity,
                planned_ms,
            } => self.on_planned_away(agent, activity, planned_ms),
            Action::AwayEnd { agent, token } => self.on_away_end(agent, token),
            Action::ShiftEnd { agent } => self.on_shift_end(agent),
            Action::RingEnd {
                agent,
                offer,
                answered,
            } => self.on_ring_end(agent, offer, answered),
            Action::TalkEnd { agent } => self.on_talk_end(agent),
            Action::WrapUpEnd { agent } => self.complete_call(agent),
            Action::Abandon { call, life } => self.on_abandon(call, life),
            Action::QueueTimeout { call, segment } => self.on_queue_timeout(call, segment),
            Action::ExitKey { call, life } => self.on_exit_key(call, life),
        }
    }

    /// Every agent's schedule and queue membership, at the period's start.
    fn publish_plans(&mut self) {
        for a in 0..self.agents.len() {
            let agent = &self.agents[a];
            let schedule = agent.shift.as_ref().map(|shift| EventBody::Schedule {
                agent: owned(&agent.id),
                from_ms: self.period.start,
                to_ms: self.period.end,
                segments: shift
                    .segments
                    .iter()
                    .map(|s| ScheduleSegment {
                        start_ms: s.start,
                        end_ms: s.end,
                        activity: Cow::Borrowed(s.activity.code()),
                    })
                    .collect(),
            });
            let membership = EventBody::AgentQueues {
                agent: owned(&agent.id),
                queues: agent
                    .queues
                    .iter()
                    .map(|&q| owned(&self.queues[q].name))
                    .collect(),
            };
            if let Some(schedule) = schedule {
                self.emit(schedule);
            }
            self.emit(membership);
        }
    }

    /// Puts each agent's log-in, planned breaks and log-out on the agenda,
    /// each a little off the plan, as people are.
    fn plan_agent_days(&mut self) {
        for a in 0..self.agents.len() {
            let Some(shift) = self.agents[a].shift.clone() else {
                continue;
            };
            let login = shift.start + self.login_offset();
            self.schedule(login, Action::LogIn { agent: a });
            for segment in shift
                .segments
                .iter()
                .filter(|s| s.activity != Activity::Work)
            {
                let starts = segment.start + self.uniform_ms(-3 * MINUTE, 6 * MINUTE);
                let planned_ms = segment.end - segment.start;
                let action = Action::PlannedAway {
                    agent: a,
                    activity: segment.activity,
                    planned_ms,
                };
                self.schedule(starts, action);
            }
            let logout = shift.end + self.uniform_ms(-5 * MINUTE, 4 * MINUTE);
            self.schedule(logout, Action::ShiftEnd { agent: a });
        }
    }

    fn login_offset(&mut self) -> i64 {
        if self.rng.gen_bool(P_LATE_LOGIN) {
            self.uniform_ms(MINUTE, 12 * MINUTE)
        } else {
            self.uniform_ms(-4 * MINUTE, MINUTE)
        }
    }

    /// Puts an action on the agenda; nothing happens at or after the period's
    /// end, and nothing before now (events must come out in time order).
    pub(super) fn schedule(&mut self, at: TimestampMs, action: Action) {
        let at = at.max(self.now);
        if at >= self.period.end {
            return;
        }
        self.next_seq += 1;
        self.agenda.push(Scheduled {
            at,
            seq: self.next_seq,
            action,
        });
    }

    pub(super) fn token(&mut self) -> u64 {
        self.next_token += 1;
        self.next_token
    }

    pub(super) fn uniform_ms(&mut self, low: i64, high: i64) -> i64 {
        self.rng.gen_range(low..=high)
    }

    /// The wait of a segment as an outcome event may report it.
    pub(super) fn reported_wait(&mut self, queued_at: TimestampMs) -> Option<u64> {
        let wait = u64::try_from(self.now - queued_at).unwrap_or(0);
        self.rng.gen_bool(P_REPORT_WAIT).then_some(wait)
    }

    pub(super) fn emit_state(
        &mut self,
        agent: usize,
        state: AgentState,
        reason: Option<&'static str>,
        call: Option<String>,
    ) {
        self.emit(EventBody::AgentState {
            agent: owned(&self.agents[agent].id),
            state,
            reason: reason.map(Cow::Borrowed),
            call: call.map(Cow::Owned),
        });
    }

    /// Emits `body` with the id of the last event plus `-suffix`, so the
    /// other events' ids are the same with or without it.
    pub(super) fn emit_after(&mut self, suffix: &str, body: EventBody<'static>) {
        self.out.push_back(Event {
            v: SCHEMA_VERSION,
            id: Cow::Owned(format!("e{}-{suffix}", self.next_event_no)),
            ts: self.now,
            tenant: owned(&self.tenant),
            source: Some(Cow::Borrowed(SOURCE)),
            body,
        });
    }

    pub(super) fn emit(&mut self, body: EventBody<'static>) {
        self.next_event_no += 1;
        self.out.push_back(Event {
            v: SCHEMA_VERSION,
            id: Cow::Owned(format!("e{}", self.next_event_no)),
            ts: self.now,
            tenant: owned(&self.tenant),
            source: Some(Cow::Borrowed(SOURCE)),
            body,
        });
    }
}

impl Iterator for Simulator {
    type Item = Event<'static>;

    fn next(&mut self) -> Option<Event<'static>> {
        self.next_event()
    }
}
