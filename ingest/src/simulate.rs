//! The contact-centre simulator: a seeded, deterministic discrete-event model
//! of callers, queues and agents on shift schedules, streamed as canonical
//! events in time order while holding only the agents and the calls in
//! progress.
//!
//! How a simulated period is built (the numbers are the constants below):
//!
//! - The period `[start_ms, start_ms + hours)` is laid over a virtual business
//!   day centred on 12:30: an 8 h run covers 08:30–16:30, a 24 h run a whole
//!   day with a quiet night. Call demand over that day rises in the morning,
//!   dips over lunch and peaks again in the afternoon (`DEMAND_CURVE`).
//! - Each agent works one shift (at most 8.5 h, lunch included) starting on a
//!   quarter hour drawn from the demand curve, with a 15 min break, a 30–60 min
//!   lunch and a second break. Agents log in a little early or late, take
//!   breaks late or early, never leave in the middle of a call, and sometimes
//!   log out over lunch.
//! - Calls arrive as a Poisson process whose rate follows the planned staffing,
//!   tilted towards the demand curve, sized so agents are about 80 % occupied
//!   at `load` 1; peaks above that build queues, abandons and overflows,
//!   and a caller finding `MAX_WAITING` callers already waiting is refused
//!   (`call_blocked`, reason `full`).
//! - Routing: a waiting call goes to the member agent idle the longest; a
//!   freed agent takes the call of its most urgent queue (lowest `priority`
//!   number, as in the reference trace) that has waited longest.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeSet, BinaryHeap, HashMap, VecDeque};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Exp1, StandardNormal};

use wallboard_events::event::{
    AgentState, BlockedReason, DequeueReason, Event, EventBody, ScheduleSegment, TimestampMs,
    DEFAULT_TENANT, SCHEMA_VERSION,
};

const SECOND: i64 = 1_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;

/// Written as `source` on every event.
/// The `source` of the simulator's events (and the demo's heartbeats).
pub const SOURCE: &str = "simulator";

// --- Demand and staffing ----------------------------------------------------

/// Relative call demand over a virtual day, as (clock hour, level) knots that
/// are interpolated linearly: night, morning ramp, late-morning peak, lunch
/// dip, afternoon peak, evening tail.
const DEMAND_CURVE: [(f64, f64); 17] = [
    (0.0, 0.06),
    (6.0, 0.08),
    (7.0, 0.35),
    (8.0, 0.75),
    (9.0, 1.10),
    (10.0, 1.25),
    (11.0, 1.20),
    (12.0, 0.95),
    (12.75, 0.85),
    (13.5, 1.00),
    (14.5, 1.15),
    (15.5, 1.10),
    (17.0, 0.80),
    (18.0, 0.55),
    (20.0, 0.30),
    (22.0, 0.15),
    (24.0, 0.06),
];
/// The highest level of [`DEMAND_CURVE`], for rejection sampling.
const DEMAND_PEAK: f64 = 1.25;
/// Virtual clock hour at the middle of the simulated period.
const PERIOD_MIDDLE_HOUR: f64 = 12.5;
/// Occupancy the arrival rate is sized for at `load` 1, over the whole period.
/// A little above the 70–85 % target: abandons and ring-no-answers eat some.
const TARGET_OCCUPANCY: f64 = 0.82;
/// How far arrivals lean from the staffing plan (0) towards the demand curve
/// (1). In between, staffing keeps occupancy sane while the curve still makes
/// peaks busier than troughs, as real plans never fit demand exactly.
const DEMAND_TILT: f64 = 0.5;
/// Arrival rates are constant over steps this long (piecewise Poisson).
const RATE_STEP_MS: i64 = 5 * MINUTE;

/// Workforce-management tools plan in quarter hours.
const SLOT_MS: i64 = 15 * MINUTE;
/// Longest shift, lunch included.
const MAX_SHIFT_MS: i64 = 8 * HOUR + 30 * MINUTE;
/// In short periods shifts are this fraction of the period, so they can
/// still start staggered.
const SHIFT_FRACTION: f64 = 0.85;
/// Shifts end at least this long before the period does, so that agents
/// are seen logging out.
const SHIFT_END_MARGIN_MS: i64 = SLOT_MS;
const BREAK_MS: i64 = 15 * MINUTE;
/// Planned lunch lengths and their odds.
const LUNCH_OPTIONS: [(i64, f64); 3] = [(30 * MINUTE, 0.5), (45 * MINUTE, 0.3), (60 * MINUTE, 0.2)];

// --- Agent behaviour --------------------------------------------------------

/// Share of agents who log in late; the others log in a few minutes early or
/// on time.
const P_LATE_LOGIN: f64 = 0.25;
const P_LOG_OUT_FOR_LUNCH: f64 = 0.2;
/// Chance, after a call, of a short unplanned `not_ready` ("other").
const P_SHORT_AUX: f64 = 0.01;
/// Odds of the number of queues an agent is a member of (1, 2, 3).
const QUEUE_COUNT_ODDS: [f64; 3] = [0.3, 0.45, 0.25];

// --- Calls ------------------------------------------------------------------

/// Chance that an offered call rings out unanswered.
const P_RING_NO_ANSWER: f64 = 0.025;
/// After a ring-no-answer the ACD usually puts the agent in `not_ready`.
const P_NOT_READY_AFTER_RONA: f64 = 0.5;
const RING_TIMEOUT_MS: i64 = 15 * SECOND;
const RING: Spread = Spread::new(4.0 * SECOND as f64, 0.5, SECOND, 14 * SECOND);
const TALK_SIGMA: f64 = 0.6;
const TALK_MIN_MS: i64 = 10 * SECOND;
const TALK_MAX_MS: i64 = 45 * MINUTE;
const P_HOLD: f64 = 0.2;
const P_ACW: f64 = 0.8;
const ACW: Spread = Spread::new(20.0 * SECOND as f64, 0.7, 2 * SECOND, 8 * MINUTE);
const P_TRANSFER: f64 = 0.04;
/// Of transferred calls, the share sent to another queue (the rest leave the
/// centre); those show up as a new queue segment of the same call.
const P_TRANSFER_TO_QUEUE: f64 = 0.5;
/// Callers give up after at most this long, whatever their patience.
const MAX_PATIENCE_MS: i64 = 30 * MINUTE;
/// Chance that a caller presses the exit key (voicemail, call-back) if still
/// waiting between the two times below.
const P_EXIT_KEY: f64 = 0.015;
const EXIT_KEY_AFTER_MS: (i64, i64) = (20 * SECOND, 120 * SECOND);
/// Callers a queue holds waiting (Asterisk `maxlen`): a new caller finding
/// this many is refused (`call_blocked` reason `full`). Peaks reach it a
/// few times a day at `load` 1.
const MAX_WAITING: usize = 3;
/// A call that can no longer overflow leaves its queue after this long.
const FINAL_TIMEOUT_MS: i64 = 10 * MINUTE;
/// Chance that an outcome event reports `wait_ms` itself (many telephony
/// systems do, some do not).
const P_REPORT_WAIT: f64 = 0.5;

/// Parameters of one simulated period.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Seeds every random choice: the same configuration gives the same events.
    pub seed: u64,
    /// Tenant written on every event.
    pub tenant: String,
    /// Agents on the roster; each works one shift.
    pub agents: usize,
    /// Queues: `sales`, `support`, `billing`, `vip`, then `queue5`, …; at least one.
    pub queues: usize,
    /// Unix ms of the simulated period's start (the first event's time).
    pub start_ms: i64,
    /// Length of the simulated period, in hours.
    pub hours: f64,
    /// Multiplier on arrival rates; 1 keeps agents about 80 % occupied.
    pub load: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 1,
            tenant: DEFAULT_TENANT.to_owned(),
            agents: 12,
            queues: 4,
            // 2026-11-23T08:30:00Z, a Monday: the default 8 h run's clock then
            // matches its virtual business day in UTC.
            start_ms: 1_795_422_600_000,
            hours: 8.0,
            load: 1.0,
        }
    }
}

/// A streaming simulation; see the module documentation for the model.
pub struct Simulator {
    tenant: String,
    period: Period,
    rng: ChaCha8Rng,
    queues: Vec<QueueProfile>,
    agents: Vec<Agent>,
    /// Calls waiting or ringing, by call number. Connected calls live in the
    /// handling agent.
    calls: HashMap<u64, Call>,
    /// Per queue: waiting (not ringing) calls by (queued at, call number).
    waiting: Vec<BTreeSet<(TimestampMs, u64)>>,
    /// Per queue: available member agents by (idle since, agent index).
    idle: Vec<BTreeSet<(TimestampMs, usize)>>,
    arrivals: Arrivals,
    agenda: BinaryHeap<Scheduled>,
    /// Events produced by the last action, not yet handed out.
    out: VecDeque<Event<'static>>,
    now: TimestampMs,
    next_seq: u64,
    next_event_no: u64,
    next_call_no: u64,
    next_token: u64,
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

    // --- Set-up -------------------------------------------------------------

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

    // --- Callers ------------------------------------------------------------

    fn schedule_next_arrival(&mut self) {
        if let Some(at) = self.arrivals.next(&mut self.rng) {
            self.schedule(at, Action::Arrival);
        }
    }

    fn on_arrival(&mut self) {
        self.schedule_next_arrival();
        let no = self.next_call_no;
        self.next_call_no += 1;
        let queue = pick_weighted(&mut self.rng, self.queues.iter().map(|q| q.share));
        if self.waiting[queue].len() >= MAX_WAITING {
            // The queue is full: the caller never waits in it.
            self.emit(EventBody::CallBlocked {
                call: Cow::Owned(format!("call{no}")),
                queue: owned(&self.queues[queue].name),
                reason: BlockedReason::Full,
            });
            return;
        }
        self.admit_caller(no, format!("call{no}"), queue);
    }

    /// A caller reaches the centre (a new call, or one transferred back into a
    /// queue): decides how long they will wait, then queues.
    fn admit_caller(&mut self, no: u64, id: String, queue: usize) {
        let life = self.token();
        let patience = self.queues[queue].patience_mean_ms * self.rng.sample::<f64, _>(Exp1);
        let patience = saturating_ms(patience).min(MAX_PATIENCE_MS);
        self.schedule(self.now + patience, Action::Abandon { call: no, life });
        if self.rng.gen_bool(P_EXIT_KEY) {
            let after = self.uniform_ms(EXIT_KEY_AFTER_MS.0, EXIT_KEY_AFTER_MS.1);
            self.schedule(self.now + after, Action::ExitKey { call: no, life });
        }
        let call = Call {
            id,
            queue,
            queued_at: self.now,
            segment: 0,
            life,
            overflowed: false,
            ringing: None,
            timeout_due: false,
        };
        self.calls.insert(no, call);
        self.enter_queue(no, queue);
    }

    /// Starts a queue segment for a call in `calls` and routes it.
    fn enter_queue(&mut self, no: u64, queue: usize) {
        let segment = self.token();
        let Some(call) = self.calls.get_mut(&no) else {
            return;
        };
        call.queue = queue;
        call.queued_at = self.now;
        call.segment = segment;
        call.timeout_due = false;
        let profile = &self.queues[queue];
        let limit = match profile.overflow_to {
            Some(_) if !call.overflowed => profile.overflow_after_ms,
            _ => FINAL_TIMEOUT_MS,
        };
        let body = EventBody::CallQueued {
            call: owned(&call.id),
            queue: owned(&profile.name),
            priority: Some(profile.priority),
        };
        self.waiting[queue].insert((self.now, no));
        self.emit(body);
        self.schedule(self.now + limit, Action::QueueTimeout { call: no, segment });
        self.route_queue(queue);
    }

    fn on_abandon(&mut self, no: u64, life: u64) {
        if self.calls.get(&no).is_none_or(|c| c.life != life) {
            return; // answered, or gone from the queue some other way
        }
        let Some(call) = self.calls.remove(&no) else {
            return;
        };
        self.waiting[call.queue].remove(&(call.queued_at, no));
        let wait_ms = self.reported_wait(call.queued_at);
        self.emit(EventBody::CallAbandoned {
            call: Cow::Owned(call.id),
            queue: owned(&self.queues[call.queue].name),
            wait_ms,
        });
        // A caller can hang up while an agent's phone rings: the ringing stops.
        if let Some(agent) = call.ringing {
            self.release_agent(agent, false);
        }
    }

    fn on_exit_key(&mut self, no: u64, life: u64) {
        let pressable = self
            .calls
            .get(&no)
            .is_some_and(|c| c.life == life && c.ringing.is_none());
        if pressable {
            self.leave_queue(no, DequeueReason::ExitKey);
        }
    }

    fn on_queue_timeout(&mut self, no: u64, segment: u64) {
        let Some(call) = self.calls.get_mut(&no) else {
            return;
        };
        if call.segment != segment {
            return;
        }
        if call.ringing.is_some() {
            // The ACD does not pull a call from a ringing phone; it acts when
            // the ringing ends unanswered.
            call.timeout_due = true;
            return;
        }
        self.expire_segment(no);
    }

    /// The call waited as long as its queue allows: overflow to the backup
    /// queue once, else give up on it (voicemail).
    fn expire_segment(&mut self, no: u64) {
        let Some(call) = self.calls.get_mut(&no) else {
            return;
        };
        let target = self.queues[call.queue].overflow_to;
        match target {
            Some(target) if !call.overflowed => {
                call.overflowed = true;
                self.dequeue(no, DequeueReason::Overflow);
                self.enter_queue(no, target);
            }
            _ => self.leave_queue(no, DequeueReason::Timeout),
        }
    }

    /// Ends the call's queue segment unanswered and lets the call go.
    fn leave_queue(&mut self, no: u64, reason: DequeueReason) {
        self.dequeue(no, reason);
        self.calls.remove(&no);
    }

    /// Emits `call_dequeued` for the call's current segment.
    fn dequeue(&mut self, no: u64, reason: DequeueReason) {
        let Some(call) = self.calls.get(&no) else {
            return;
        };
        self.waiting[call.queue].remove(&(call.queued_at, no));
        let (id, queue, queued_at) = (owned(&call.id), call.queue, call.queued_at);
        let wait_ms = self.reported_wait(queued_at);
        self.emit(EventBody::CallDequeued {
            call: id,
            queue: owned(&self.queues[queue].name),
            reason,
            wait_ms,
        });
    }

    // --- Routing ------------------------------------------------------------

    /// Offers the queue's oldest waiting call to its longest-idle member.
    fn route_queue(&mut self, queue: usize) {
        let (Some(&(_, agent)), Some(&(_, no))) =
            (self.idle[queue].first(), self.waiting[queue].first())
        else {
            return;
        };
        self.offer(agent, no);
    }

    /// The call a free agent should take: from its most urgent queue, the one
    /// that has waited longest.
    fn best_call_for(&self, agent: usize) -> Option<u64> {
        self.agents[agent]
            .queues
            .iter()
            .filter_map(|&q| {
                let &(queued_at, no) = self.waiting[q].first()?;
                Some((self.queues[q].priority, queued_at, no))
            })
            .min()
            .map(|(_, _, no)| no)
    }

    fn offer(&mut self, agent: usize, no: u64) {
        self.leave_idle(agent);
        let offer = self.token();
        let Some(call) = self.calls.get_mut(&no) else {
            return;
        };
        self.waiting[call.queue].remove(&(call.queued_at, no));
        call.ringing = Some(agent);
        let call_id = call.id.clone();
        self.agents[agent].phase = Phase::Ringing { call: no, offer };
        self.emit_state(agent, AgentState::Ringing, None, Some(call_id));
        let (after, answered) = if self.rng.gen_bool(P_RING_NO_ANSWER) {
            (RING_TIMEOUT_MS, false)
        } else {
            (RING.sample(&mut self.rng), true)
        };
        let ring_end = Action::RingEnd {
            agent,
            offer,
            answered,
        };
        self.schedule(self.now + after, ring_end);
    }

    fn on_ring_end(&mut self, agent: usize, offer: u64, answered: bool) {
        let Phase::Ringing {
            call,
            offer: current,
        } = self.agents[agent].phase
        else {
            return;
        };
        if current != offer {
            return;
        }
        if answered {
            self.answer(agent, call);
        } else {
            self.ring_no_answer(agent, call);
        }
    }

    fn answer(&mut self, agent: usize, no: u64) {
        // The queue segment ends here; from now on the agent holds the call.
        let Some(call) = self.calls.remove(&no) else {
            return;
        };
        let wait_ms = self.reported_wait(call.queued_at);
        self.emit(EventBody::CallAnswered {
            call: owned(&call.id),
            queue: owned(&self.queues[call.queue].name),
            agent: owned(&self.agents[agent].id),
            wait_ms,
        });
        self.emit_state(agent, AgentState::OnCall, None, Some(call.id.clone()));
        let handling = self.sample_handling(no, call);
        let talk_ends = self.now + i64::try_from(handling.talk_ms).expect(SAMPLED);
        self.agents[agent].handling = Some(handling);
        self.agents[agent].phase = Phase::Talking;
        self.schedule(talk_ends, Action::TalkEnd { agent });
    }

    fn ring_no_answer(&mut self, agent: usize, no: u64) {
        // A pending break or log-out takes precedence over the ACD's not_ready.
        if self.agents[agent].after_call.is_none() && self.rng.gen_bool(P_NOT_READY_AFTER_RONA) {
            let away_ms = self.uniform_ms(30 * SECOND, 3 * MINUTE);
            self.go_away(agent, Activity::Other, away_ms);
        } else {
            self.release_agent(agent, false);
        }
        let Some(call) = self.calls.get_mut(&no) else {
            return;
        };
        call.ringing = None;
        if call.timeout_due {
            self.expire_segment(no);
        } else {
            // Back in line at its original place.
            let (queue, queued_at) = (call.queue, call.queued_at);
            self.waiting[queue].insert((queued_at, no));
            self.route_queue(queue);
        }
    }

    // --- Handling a call ----------------------------------------------------

    fn sample_handling(&mut self, no: u64, call: Call) -> Handling {
        let talk = self.queues[call.queue].talk.sample(&mut self.rng);
        let hold = if self.rng.gen_bool(P_HOLD) {
            saturating_ms(talk as f64 * self.rng.gen_range(0.05..0.4))
        } else {
            0
        };
        let acw = if self.rng.gen_bool(P_ACW) {
            ACW.sample(&mut self.rng)
        } else {
            0
        };
        Handling {
            call_no: no,
            call_id: call.id,
            queue: call.queue,
            talk_ms: u64::try_from(talk).expect(SAMPLED),
            hold_ms: u64::try_from(hold).expect(SAMPLED),
            acw_ms: u64::try_from(acw).expect(SAMPLED),
            transferred: self.rng.gen_bool(P_TRANSFER),
        }
    }

    fn on_talk_end(&mut self, agent: usize) {
        let Some(handling) = self.agents[agent].handling.as_ref() else {
            return;
        };
        let (acw_ms, transferred) = (handling.acw_ms, handling.transferred);
        let (no, id) = (handling.call_no, handling.call_id.clone());
        if acw_ms > 0 {
            self.agents[agent].phase = Phase::WrapUp;
            self.emit_state(agent, AgentState::Acw, None, Some(id.clone()));
            let acw_ms = i64::try_from(acw_ms).expect(SAMPLED);
            self.schedule(self.now + acw_ms, Action::WrapUpEnd { agent });
        }
        if transferred && self.rng.gen_bool(P_TRANSFER_TO_QUEUE) {
            self.transfer_to_queue(agent, no, id);
        }
        if acw_ms == 0 {
            self.complete_call(agent);
        }
    }

    /// Blind transfer into a queue the agent does not serve (so it does not
    /// come straight back to them); the caller queues again, same call id.
    fn transfer_to_queue(&mut self, agent: usize, no: u64, id: String) {
        let served = &self.agents[agent].queues;
        let weights: Vec<f64> = (0..self.queues.len())
            .map(|q| {
                if served.contains(&q) {
                    0.0
                } else {
                    self.queues[q].share
                }
            })
            .collect();
        if weights.iter().all(|&w| w == 0.0) {
            return; // nowhere else to send it: it leaves the centre
        }
        let target = pick_weighted(&mut self.rng, weights.iter().copied());
        self.admit_caller(no, id, target);
    }

    /// After-call work is over: the call is complete and the agent moves on.
    fn complete_call(&mut self, agent: usize) {
        let Some(h) = self.agents[agent].handling.take() else {
            return;
        };
        self.emit(EventBody::CallCompleted {
            call: Cow::Owned(h.call_id),
            queue: owned(&self.queues[h.queue].name),
            agent: owned(&self.agents[agent].id),
            talk_ms: h.talk_ms,
            hold_ms: h.hold_ms,
            acw_ms: h.acw_ms,
            transferred: h.transferred,
        });
        self.release_agent(agent, true);
    }

    // --- Agents -------------------------------------------------------------

    /// The agent is done with a call (or a ringing phone): whatever they meant
    /// to do after it happens now, else they become available.
    fn release_agent(&mut self, agent: usize, after_call: bool) {
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
    fn leave_idle(&mut self, agent: usize) {
        if let Phase::Idle { since } = self.agents[agent].phase {
            for &q in &self.agents[agent].queues {
                self.idle[q].remove(&(since, agent));
            }
        }
    }

    fn go_away(&mut self, agent: usize, activity: Activity, duration_ms: i64) {
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

    fn on_log_in(&mut self, agent: usize) {
        let a = &self.agents[agent];
        if matches!(a.phase, Phase::Off) && !a.shift_over {
            self.make_available(agent);
        }
    }

    fn on_planned_away(&mut self, agent: usize, activity: Activity, planned_ms: i64) {
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

    fn on_away_end(&mut self, agent: usize, token: u64) {
        if matches!(self.agents[agent].phase, Phase::Away { token: t, .. } if t == token) {
            self.make_available(agent);
        }
    }

    fn on_shift_end(&mut self, agent: usize) {
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

    // --- Plumbing -----------------------------------------------------------

    /// Puts an action on the agenda; nothing happens at or after the period's
    /// end, and nothing before now (events must come out in time order).
    fn schedule(&mut self, at: TimestampMs, action: Action) {
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

    fn token(&mut self) -> u64 {
        self.next_token += 1;
        self.next_token
    }

    fn uniform_ms(&mut self, low: i64, high: i64) -> i64 {
        self.rng.gen_range(low..=high)
    }

    /// The wait of a segment as an outcome event may report it.
    fn reported_wait(&mut self, queued_at: TimestampMs) -> Option<u64> {
        let wait = u64::try_from(self.now - queued_at).unwrap_or(0);
        self.rng.gen_bool(P_REPORT_WAIT).then_some(wait)
    }

    fn emit_state(
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

    fn emit(&mut self, body: EventBody<'static>) {
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

/// The simulator's own expectation for one queue over a span of time:
/// what its forecast is made of (`wallboard simulate --forecast-out`).
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    /// The queue.
    pub queue: String,
    /// Calls the arrival profile expects in the span (before overflows).
    pub calls: f64,
    /// Mean handling time (talk + after-call work), seconds.
    pub aht_s: f64,
}

impl Simulator {
    /// Per queue, the calls its arrival profile expects in `[from, to)`
    /// (the rate integrated over the profile's 5-minute steps, split by
    /// queue share) and the mean handling time its calls are drawn with.
    #[must_use]
    pub fn expected(&self, from: TimestampMs, to: TimestampMs) -> Vec<Expected> {
        let a = &self.arrivals;
        let (from, to) = (from.max(a.start), to.min(a.end));
        let mut calls = 0.0;
        let mut t = from;
        while t < to {
            let step = (t - a.start).div_euclid(RATE_STEP_MS);
            let step_start = a.start + step * RATE_STEP_MS;
            let piece_end = (step_start + RATE_STEP_MS).min(to);
            calls += a.rate(step_start + RATE_STEP_MS / 2) * (piece_end - t) as f64;
            t = piece_end;
        }
        let total: f64 = self.queues.iter().map(|q| q.share).sum();
        self.queues
            .iter()
            .map(|q| Expected {
                queue: q.name.clone(),
                calls: calls * q.share / total,
                aht_s: (q.talk.mean() + P_ACW * ACW.mean()) / SECOND as f64,
            })
            .collect()
    }
}

impl Iterator for Simulator {
    type Item = Event<'static>;

    fn next(&mut self) -> Option<Event<'static>> {
        self.next_event()
    }
}

fn owned(s: &str) -> Cow<'static, str> {
    Cow::Owned(s.to_owned())
}

// --- The agenda -------------------------------------------------------------

/// What happens at a scheduled time. Actions that may have been overtaken by
/// events (a ring, a caller's patience, a queue time limit, a return from a
/// break) carry a token and are ignored when it no longer matches.
#[derive(Debug, Clone, Copy)]
enum Action {
    Arrival,
    LogIn {
        agent: usize,
    },
    PlannedAway {
        agent: usize,
        activity: Activity,
        planned_ms: i64,
    },
    AwayEnd {
        agent: usize,
        token: u64,
    },
    ShiftEnd {
        agent: usize,
    },
    RingEnd {
        agent: usize,
        offer: u64,
        answered: bool,
    },
    TalkEnd {
        agent: usize,
    },
    WrapUpEnd {
        agent: usize,
    },
    Abandon {
        call: u64,
        life: u64,
    },
    QueueTimeout {
        call: u64,
        segment: u64,
    },
    ExitKey {
        call: u64,
        life: u64,
    },
}

/// An agenda entry, ordered by time then insertion, so that equal times
/// resolve the same way on every run.
struct Scheduled {
    at: TimestampMs,
    seq: u64,
    action: Action,
}

impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: `BinaryHeap` pops the greatest, we want the earliest.
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Scheduled {}

// --- Agents -----------------------------------------------------------------

struct Agent {
    id: String,
    /// Member queues, by index, ascending.
    queues: Vec<usize>,
    /// None when the period is too short for a shift.
    shift: Option<Shift>,
    phase: Phase,
    /// What the agent does once the current call is over.
    after_call: Option<AfterCall>,
    /// The connected call, from answer to completion.
    handling: Option<Handling>,
    shift_over: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
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
enum AfterCall {
    Away {
        activity: Activity,
        duration_ms: i64,
    },
    LogOut,
}

/// Schedule activities, and the `not_ready` reasons of the non-work ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Activity {
    Work,
    Break,
    Lunch,
    /// Unplanned aux time (after a ring-no-answer, a quick errand).
    Other,
}

impl Activity {
    fn code(self) -> &'static str {
        match self {
            Activity::Work => "work",
            Activity::Break => "break",
            Activity::Lunch => "lunch",
            Activity::Other => "other",
        }
    }
}

/// The connected call an agent handles.
struct Handling {
    call_no: u64,
    call_id: String,
    queue: usize,
    talk_ms: u64,
    hold_ms: u64,
    acw_ms: u64,
    transferred: bool,
}

/// A call waiting or ringing in a queue.
struct Call {
    id: String,
    queue: usize,
    queued_at: TimestampMs,
    /// Token of the current queue segment (for its time limit).
    segment: u64,
    /// Token of the caller's current stay (for patience and the exit key).
    life: u64,
    overflowed: bool,
    ringing: Option<usize>,
    /// The queue's time limit passed while the call was ringing.
    timeout_due: bool,
}

fn agent_id(index: usize, agents: usize) -> String {
    let width = agents.to_string().len().max(3);
    format!("agent{:0width$}", index + 1)
}

/// Membership: a primary queue, apportioned by queue share over the roster
/// so that every queue gets staff, plus up to two more drawn by share.
fn assign_queues(
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

/// Index drawn with probability proportional to its weight (weights ≥ 0,
/// not all 0).
fn pick_weighted(rng: &mut ChaCha8Rng, weights: impl Iterator<Item = f64> + Clone) -> usize {
    let total: f64 = weights.clone().sum();
    let mut target = rng.gen::<f64>() * total;
    let mut last_positive = 0;
    for (i, w) in weights.enumerate() {
        if w > 0.0 {
            if target < w {
                return i;
            }
            target -= w;
            last_positive = i;
        }
    }
    // Only reached through rounding at the very top of the range.
    last_positive
}

// --- Shifts -----------------------------------------------------------------

#[derive(Debug, Clone)]
struct Shift {
    start: TimestampMs,
    end: TimestampMs,
    /// Work, break, work, lunch, work, break, work, back to back.
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, Copy)]
struct Segment {
    start: TimestampMs,
    end: TimestampMs,
    activity: Activity,
}

/// One agent's shift: length from the period, start drawn from the demand
/// curve so that staffing follows demand.
fn plan_shift(rng: &mut ChaCha8Rng, period: &Period) -> Option<Shift> {
    let length = floor_slot(saturating_ms(period.len() as f64 * SHIFT_FRACTION)).min(MAX_SHIFT_MS);
    if length < SLOT_MS {
        return None;
    }
    let last_slot = (period.len() - length - SHIFT_END_MARGIN_MS).max(0) / SLOT_MS;
    let mut start = period.start;
    // Rejection sampling on the demand at the shift's middle; the attempt
    // cap only matters for a pathological curve.
    for _ in 0..256 {
        start = period.start + rng.gen_range(0..=last_slot) * SLOT_MS;
        if rng.gen::<f64>() * DEMAND_PEAK < period.demand(start + length / 2) {
            break;
        }
    }
    let mut segments = Vec::new();
    let mut cursor = start;
    for (offset, duration, activity) in planned_aways(rng, length) {
        segments.push(Segment {
            start: cursor,
            end: start + offset,
            activity: Activity::Work,
        });
        segments.push(Segment {
            start: start + offset,
            end: start + offset + duration,
            activity,
        });
        cursor = start + offset + duration;
    }
    segments.push(Segment {
        start: cursor,
        end: start + length,
        activity: Activity::Work,
    });
    Some(Shift {
        start,
        end: start + length,
        segments,
    })
}

/// Breaks and lunch of a shift as (offset from its start, length, activity),
/// in order. A full shift gets break, lunch, break near a quarter, the middle
/// and three quarters of the way, each jittered by a slot or two; the spacing
/// keeps them apart whatever the jitter.
fn planned_aways(rng: &mut ChaCha8Rng, length: i64) -> Vec<(i64, i64, Activity)> {
    let at = |rng: &mut ChaCha8Rng, fraction: f64, duration: i64, jitter: i64| {
        let centre = saturating_ms(length as f64 * fraction) - duration / 2;
        round_slot(centre) + rng.gen_range(-jitter..=jitter) * SLOT_MS
    };
    if length >= 6 * HOUR {
        let lunch_ms = LUNCH_OPTIONS[pick_weighted(rng, LUNCH_OPTIONS.iter().map(|o| o.1))].0;
        vec![
            (at(rng, 0.25, BREAK_MS, 1), BREAK_MS, Activity::Break),
            (at(rng, 0.5, lunch_ms, 1), lunch_ms, Activity::Lunch),
            (at(rng, 0.78, BREAK_MS, 1), BREAK_MS, Activity::Break),
        ]
    } else if length >= 3 * HOUR {
        vec![(at(rng, 0.5, BREAK_MS, 1), BREAK_MS, Activity::Break)]
    } else {
        Vec::new()
    }
}

fn floor_slot(ms: i64) -> i64 {
    ms.div_euclid(SLOT_MS) * SLOT_MS
}

fn round_slot(ms: i64) -> i64 {
    floor_slot(ms + SLOT_MS / 2)
}

/// `ms` as whole milliseconds, toward zero, saturating at the bounds of
/// `i64` (NaN gives 0): the simulator's times and durations are computed in
/// `f64` from sampled rates and spreads, and every caller either clamps the
/// result or holds a value within the simulated period.
#[allow(
    clippy::cast_possible_truncation,
    reason = "`as` from f64 saturates, which is the behaviour wanted"
)]
fn saturating_ms(ms: f64) -> i64 {
    ms as i64
}

/// Why a sampled duration fits both `u64` and `i64`: a [`Spread`] sample
/// lies within its (positive) bounds, hold within talk.
const SAMPLED: &str = "sampled durations are within 0..=45 min";

// --- The period and its demand ----------------------------------------------

struct Period {
    start: TimestampMs,
    end: TimestampMs,
    /// Virtual clock hour at `start`.
    first_hour: f64,
}

impl Period {
    fn new(start: TimestampMs, hours: f64) -> Self {
        let hours = if hours.is_finite() && hours > 0.0 {
            hours
        } else {
            0.0
        };
        // Saturating, so an absurd length cannot overflow.
        let length = saturating_ms((hours * HOUR as f64).round());
        Period {
            start,
            end: start.saturating_add(length),
            first_hour: PERIOD_MIDDLE_HOUR - hours / 2.0,
        }
    }

    fn len(&self) -> i64 {
        self.end - self.start
    }

    /// Relative call demand at `t`.
    fn demand(&self, t: TimestampMs) -> f64 {
        let hour = self.first_hour + (t - self.start) as f64 / HOUR as f64;
        demand_at_hour(hour.rem_euclid(24.0))
    }
}

fn demand_at_hour(hour: f64) -> f64 {
    DEMAND_CURVE
        .windows(2)
        .find(|w| hour <= w[1].0)
        .map_or(DEMAND_CURVE[0].1, |w| {
            let ((h0, d0), (h1, d1)) = (w[0], w[1]);
            d0 + (d1 - d0) * (hour - h0) / (h1 - h0)
        })
}

// --- Arrivals ---------------------------------------------------------------

/// The arrival process: Poisson with a rate constant over [`RATE_STEP_MS`]
/// steps, proportional to the agents planned on `work` and tilted by demand.
struct Arrivals {
    start: TimestampMs,
    end: TimestampMs,
    /// Agents planned on `work` from each time on, sorted by time.
    planned: Vec<(TimestampMs, u32)>,
    first_hour: f64,
    /// Calls per ms per planned agent, demand tilt included except its level.
    rate_per_agent: f64,
    /// Divides the tilt so that it averages 1 over planned agent time.
    tilt_norm: f64,
    /// Time of the last arrival, unrounded.
    clock: f64,
}

impl Arrivals {
    fn new(period: &Period, agents: &[Agent], queues: &[QueueProfile], load: f64) -> Self {
        let planned = planned_staffing(agents);
        let handle_ms = mean_handle_ms(queues);
        let rate_per_agent = if load.is_finite() && load > 0.0 {
            load * TARGET_OCCUPANCY / handle_ms
        } else {
            0.0
        };
        let mut arrivals = Arrivals {
            start: period.start,
            end: period.end,
            planned,
            first_hour: period.first_hour,
            rate_per_agent,
            tilt_norm: 1.0,
            clock: period.start as f64,
        };
        arrivals.tilt_norm = arrivals.mean_tilt();
        arrivals
    }

    /// The tilt averaged over planned agent time (1 when nobody works).
    fn mean_tilt(&self) -> f64 {
        let (mut agents, mut tilted) = (0.0, 0.0);
        let mut t = self.start;
        while t < self.end {
            let n = f64::from(self.planned_at(t + RATE_STEP_MS / 2));
            agents += n;
            tilted += n * self.tilt(t + RATE_STEP_MS / 2);
            t += RATE_STEP_MS;
        }
        if tilted > 0.0 {
            tilted / agents
        } else {
            1.0
        }
    }

    fn tilt(&self, t: TimestampMs) -> f64 {
        let hour = self.first_hour + (t - self.start) as f64 / HOUR as f64;
        demand_at_hour(hour.rem_euclid(24.0)).powf(DEMAND_TILT)
    }

    fn planned_at(&self, t: TimestampMs) -> u32 {
        match self.planned.partition_point(|&(at, _)| at <= t) {
            0 => 0,
            i => self.planned[i - 1].1,
        }
    }

    /// Calls per ms during the step that contains `t`.
    fn rate(&self, step_middle: TimestampMs) -> f64 {
        let agents = f64::from(self.planned_at(step_middle));
        self.rate_per_agent * agents * self.tilt(step_middle) / self.tilt_norm
    }

    /// The next arrival time, or None when the period is over. Within a step
    /// the gap is exponential; a gap that crosses the step's end is redrawn
    /// from there, which is exact since the process is memoryless.
    fn next(&mut self, rng: &mut ChaCha8Rng) -> Option<TimestampMs> {
        let mut t = self.clock;
        loop {
            // Compared as a time, not a step: the last step may be cut short.
            if t >= self.end as f64 {
                return None;
            }
            let step = saturating_ms(((t - self.start as f64) / RATE_STEP_MS as f64).floor());
            let step_start = self.start + step * RATE_STEP_MS;
            let step_end = (step_start + RATE_STEP_MS).min(self.end) as f64;
            let rate = self.rate(step_start + RATE_STEP_MS / 2);
            if rate > 0.0 {
                let arrival = t + rng.sample::<f64, _>(Exp1) / rate;
                if arrival < step_end {
                    self.clock = arrival;
                    return Some(saturating_ms(arrival.floor()));
                }
            }
            t = step_end;
        }
    }
}

/// Agents scheduled on `work` as a step function: (from, count) at every
/// change.
fn planned_staffing(agents: &[Agent]) -> Vec<(TimestampMs, u32)> {
    let mut changes: Vec<(TimestampMs, i32)> = agents
        .iter()
        .filter_map(|a| a.shift.as_ref())
        .flat_map(|s| s.segments.iter())
        .filter(|s| s.activity == Activity::Work)
        .flat_map(|s| [(s.start, 1), (s.end, -1)])
        .collect();
    changes.sort_unstable();
    let mut count: i32 = 0;
    let mut steps: Vec<(TimestampMs, u32)> = Vec::new();
    for (at, delta) in changes {
        count += delta;
        let value = u32::try_from(count).unwrap_or(0);
        match steps.last_mut() {
            Some(last) if last.0 == at => last.1 = value,
            _ => steps.push((at, value)),
        }
    }
    steps
}

/// Mean time an agent spends per call (ring, talk, after-call work),
/// weighted by queue share.
fn mean_handle_ms(queues: &[QueueProfile]) -> f64 {
    let total: f64 = queues.iter().map(|q| q.share).sum();
    queues
        .iter()
        .map(|q| q.share * (RING.mean() + q.talk.mean() + P_ACW * ACW.mean()))
        .sum::<f64>()
        / total
}

// --- Queues -----------------------------------------------------------------

struct QueueProfile {
    name: String,
    /// Lower is more urgent.
    priority: i64,
    /// Share of arrivals.
    share: f64,
    talk: Spread,
    patience_mean_ms: f64,
    /// Longest wait before overflowing.
    overflow_after_ms: i64,
    overflow_to: Option<usize>,
}

struct QueueTemplate {
    name: &'static str,
    priority: i64,
    share: f64,
    talk_median_s: f64,
    patience_mean_s: f64,
    overflow_after_s: i64,
    overflow_to: &'static str,
}

/// The named queues; VIP callers are the most patient but get the least wait
/// before overflowing to sales.
const NAMED_QUEUES: [QueueTemplate; 4] = [
    QueueTemplate {
        name: "sales",
        priority: 1,
        share: 0.30,
        talk_median_s: 200.0,
        patience_mean_s: 150.0,
        overflow_after_s: 90,
        overflow_to: "support",
    },
    QueueTemplate {
        name: "support",
        priority: 2,
        share: 0.35,
        talk_median_s: 270.0,
        patience_mean_s: 180.0,
        overflow_after_s: 120,
        overflow_to: "billing",
    },
    QueueTemplate {
        name: "billing",
        priority: 2,
        share: 0.20,
        talk_median_s: 220.0,
        patience_mean_s: 150.0,
        overflow_after_s: 100,
        overflow_to: "support",
    },
    QueueTemplate {
        name: "vip",
        priority: 0,
        share: 0.08,
        talk_median_s: 300.0,
        patience_mean_s: 300.0,
        overflow_after_s: 60,
        overflow_to: "sales",
    },
];

/// `queue5` and beyond.
const EXTRA_QUEUE: QueueTemplate = QueueTemplate {
    name: "",
    priority: 3,
    share: 0.07,
    talk_median_s: 240.0,
    patience_mean_s: 150.0,
    overflow_after_s: 120,
    overflow_to: "sales",
};

fn queue_profiles(count: usize) -> Vec<QueueProfile> {
    let names: Vec<String> = (0..count)
        .map(|i| match NAMED_QUEUES.get(i) {
            Some(t) => t.name.to_owned(),
            None => format!("queue{}", i + 1),
        })
        .collect();
    (0..count)
        .map(|i| {
            let t = NAMED_QUEUES.get(i).unwrap_or(&EXTRA_QUEUE);
            // The preferred backup queue, else any other one.
            let overflow_to = names
                .iter()
                .position(|n| n == t.overflow_to && *n != names[i])
                .or_else(|| (0..count).find(|&q| q != i));
            QueueProfile {
                name: names[i].clone(),
                priority: t.priority,
                share: t.share,
                talk: Spread::new(
                    t.talk_median_s * SECOND as f64,
                    TALK_SIGMA,
                    TALK_MIN_MS,
                    TALK_MAX_MS,
                ),
                patience_mean_ms: t.patience_mean_s * SECOND as f64,
                overflow_after_ms: t.overflow_after_s * SECOND,
                overflow_to,
            }
        })
        .collect()
}

/// A clamped log-normal duration in ms: the usual shape of talk and wrap-up
/// times (a long right tail, never negative).
#[derive(Debug, Clone, Copy)]
struct Spread {
    median_ms: f64,
    sigma: f64,
    min_ms: i64,
    max_ms: i64,
}

impl Spread {
    const fn new(median_ms: f64, sigma: f64, min_ms: i64, max_ms: i64) -> Self {
        Spread {
            median_ms,
            sigma,
            min_ms,
            max_ms,
        }
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> i64 {
        let z: f64 = rng.sample(StandardNormal);
        saturating_ms(self.median_ms * (self.sigma * z).exp()).clamp(self.min_ms, self.max_ms)
    }

    /// Mean of the unclamped distribution.
    fn mean(&self) -> f64 {
        self.median_ms * (self.sigma * self.sigma / 2.0).exp()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;
    use wallboard_events::event::Kind;
    use wallboard_events::parse::parse_event_str;

    fn day(seed: u64, agents: usize, hours: f64, load: f64) -> Vec<Event<'static>> {
        Simulator::new(SimConfig {
            seed,
            agents,
            hours,
            load,
            tenant: "acme".into(),
            ..SimConfig::default()
        })
        .collect()
    }

    fn json(events: &[Event<'_>]) -> Vec<String> {
        events.iter().map(Event::to_json).collect()
    }

    #[test]
    fn same_seed_gives_same_events() {
        let first: Vec<_> = Simulator::new(SimConfig::default()).take(3000).collect();
        let again: Vec<_> = Simulator::new(SimConfig::default()).take(3000).collect();
        assert_eq!(first.len(), 3000);
        assert_eq!(json(&first), json(&again));
    }

    #[test]
    fn different_seed_gives_different_events() {
        let one = json(
            &Simulator::new(SimConfig::default())
                .take(500)
                .collect::<Vec<_>>(),
        );
        let cfg = SimConfig {
            seed: 2,
            ..SimConfig::default()
        };
        let two = json(&Simulator::new(cfg).take(500).collect::<Vec<_>>());
        assert_ne!(one, two);
    }

    #[test]
    fn events_are_in_time_order_with_unique_ids_and_common_fields() {
        let events = day(3, 30, 8.0, 1.2);
        let cfg = SimConfig::default();
        assert!(events.windows(2).all(|w| w[0].ts <= w[1].ts));
        let first = events.first().map(|e| e.ts);
        assert_eq!(first, Some(cfg.start_ms));
        let end = cfg.start_ms + 8 * HOUR;
        assert!(events.iter().all(|e| e.ts < end));
        let ids: HashSet<_> = events.iter().map(|e| e.id.clone()).collect();
        assert_eq!(ids.len(), events.len());
        assert!(events
            .iter()
            .all(|e| e.v == 1 && e.tenant == "acme" && e.source.as_deref() == Some("simulator")));
    }

    #[test]
    fn every_event_round_trips_through_the_parser() {
        for event in day(4, 20, 8.0, 1.0) {
            let text = event.to_json();
            let parsed = parse_event_str(&text)
                .unwrap_or_else(|e| panic!("{text} does not parse: {e}"))
                .into_owned();
            assert_eq!(parsed, event);
        }
    }

    #[test]
    fn starts_with_a_schedule_and_membership_per_agent() {
        let events = day(5, 12, 8.0, 1.0);
        let kinds: Vec<Kind> = events.iter().take(24).map(Event::kind).collect();
        let expected: Vec<Kind> = [Kind::Schedule, Kind::AgentQueues].repeat(12);
        assert_eq!(kinds, expected);
        for event in &events[..24] {
            if let EventBody::AgentQueues { queues, .. } = &event.body {
                assert!((1..=3).contains(&queues.len()));
            }
            if let EventBody::Schedule { segments, .. } = &event.body {
                let activities: Vec<&str> = segments.iter().map(|s| &*s.activity).collect();
                assert_eq!(
                    activities,
                    ["work", "break", "work", "lunch", "work", "break", "work"]
                );
                assert!(segments.windows(2).all(|w| w[0].end_ms == w[1].start_ms));
            }
        }
    }

    /// Each (call, queue) segment starts with `call_queued` and ends once, and
    /// a call is in at most one queue at a time.
    #[test]
    fn queue_segments_end_exactly_once() {
        let events = day(6, 30, 8.0, 1.4);
        let mut open: HashMap<String, String> = HashMap::new(); // call -> queue
        let mut ended = 0;
        for e in &events {
            match &e.body {
                EventBody::CallQueued { call, queue, .. } => {
                    let previous = open.insert(call.to_string(), queue.to_string());
                    assert_eq!(previous, None, "{} queued while in a queue", e.to_json());
                }
                EventBody::CallAnswered { call, queue, .. }
                | EventBody::CallAbandoned { call, queue, .. }
                | EventBody::CallDequeued { call, queue, .. } => {
                    let segment = open.remove(&**call);
                    assert_eq!(segment.as_deref(), Some(&**queue), "{}", e.to_json());
                    ended += 1;
                }
                _ => {}
            }
        }
        assert!(ended > 500, "only {ended} segments ended");
    }

    #[test]
    fn completions_follow_answers_of_the_same_call_agent_and_queue() {
        let events = day(7, 30, 8.0, 1.0);
        let mut connected: HashMap<(String, String), (String, i64)> = HashMap::new();
        let mut completed = 0;
        for e in &events {
            match &e.body {
                EventBody::CallAnswered {
                    call, queue, agent, ..
                } => {
                    let key = (call.to_string(), agent.to_string());
                    assert!(connected.insert(key, (queue.to_string(), e.ts)).is_none());
                }
                EventBody::CallCompleted {
                    call,
                    queue,
                    agent,
                    talk_ms,
                    hold_ms,
                    acw_ms,
                    ..
                } => {
                    let key = (call.to_string(), agent.to_string());
                    let answered = connected.remove(&key);
                    let (answered_queue, answered_at) =
                        answered.unwrap_or_else(|| panic!("{} never answered", e.to_json()));
                    assert_eq!(answered_queue, *queue);
                    assert!(hold_ms <= talk_ms);
                    assert_eq!(answered_at + i64::try_from(talk_ms + acw_ms).unwrap(), e.ts);
                    completed += 1;
                }
                _ => {}
            }
        }
        assert!(completed > 500, "only {completed} calls completed");
    }

    /// Agent states follow the call flow: ringing only when available, `on_call`
    /// only right after ringing for that call (with its answer), acw only
    /// after `on_call` for that call, and nothing else while a call is open.
    #[test]
    fn agent_states_follow_the_call_flow() {
        let events = day(8, 30, 8.0, 1.3);
        let mut state: HashMap<String, (AgentState, Option<String>)> = HashMap::new();
        let mut open_call: HashMap<String, String> = HashMap::new(); // agent -> answered call
        let mut last_answer: Option<(i64, String, String)> = None;
        for e in &events {
            match &e.body {
                EventBody::CallAnswered { call, agent, .. } => {
                    last_answer = Some((e.ts, call.to_string(), agent.to_string()));
                    assert!(open_call
                        .insert(agent.to_string(), call.to_string())
                        .is_none());
                }
                EventBody::CallCompleted { call, agent, .. } => {
                    assert_eq!(open_call.remove(&**agent).as_deref(), Some(&**call));
                }
                EventBody::AgentState {
                    agent,
                    state: new,
                    reason,
                    call,
                } => {
                    let (old, old_call) = state
                        .get(&**agent)
                        .cloned()
                        .unwrap_or((AgentState::LoggedOut, None));
                    let call = call.as_deref().map(str::to_owned);
                    match new {
                        AgentState::Ringing => {
                            assert_eq!(old, AgentState::Available, "{}", e.to_json());
                            assert!(call.is_some());
                        }
                        AgentState::OnCall => {
                            assert_eq!(old, AgentState::Ringing, "{}", e.to_json());
                            assert_eq!(call, old_call);
                            let answer =
                                (e.ts, call.clone().unwrap_or_default(), agent.to_string());
                            assert_eq!(last_answer.as_ref(), Some(&answer));
                        }
                        AgentState::Acw => {
                            assert_eq!(old, AgentState::OnCall, "{}", e.to_json());
                            assert_eq!(call, old_call);
                        }
                        AgentState::NotReady => {
                            assert!(reason.is_some());
                            assert!(!open_call.contains_key(&**agent), "{}", e.to_json());
                        }
                        AgentState::Available | AgentState::LoggedOut => {
                            assert!(!open_call.contains_key(&**agent), "{}", e.to_json());
                        }
                    }
                    state.insert(agent.to_string(), (*new, call));
                }
                _ => {}
            }
        }
    }

    #[test]
    fn agents_take_breaks_and_lunch_and_log_out() {
        let events = day(9, 30, 8.0, 1.0);
        let count = |wanted: AgentState, why: Option<&str>| {
            events
                .iter()
                .filter(|e| {
                    matches!(&e.body, EventBody::AgentState { state, reason, .. }
                        if *state == wanted && reason.as_deref() == why)
                })
                .count()
        };
        assert!(count(AgentState::NotReady, Some("break")) >= 40);
        assert!(count(AgentState::NotReady, Some("lunch")) >= 15);
        // Everyone logs out at the end of the shift; some over lunch too.
        assert!(count(AgentState::LoggedOut, None) >= 30);
    }

    #[test]
    fn overflowed_calls_queue_again_elsewhere() {
        let events = day(10, 20, 8.0, 1.6);
        let overflows: Vec<_> = events
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                matches!(
                    e.body,
                    EventBody::CallDequeued {
                        reason: DequeueReason::Overflow,
                        ..
                    }
                )
            })
            .collect();
        assert!(!overflows.is_empty());
        for (i, e) in overflows {
            let (EventBody::CallDequeued { call, queue, .. }, Some(next)) =
                (&e.body, events.get(i + 1))
            else {
                unreachable!()
            };
            let EventBody::CallQueued {
                call: next_call,
                queue: next_queue,
                ..
            } = &next.body
            else {
                panic!("overflow not followed by call_queued: {}", next.to_json());
            };
            assert_eq!((next_call, next.ts), (call, e.ts));
            assert_ne!(next_queue, queue);
        }
    }

    /// Occupancy (busy / (busy + available)) over all agents, and the share
    /// of queue segments abandoned.
    fn occupancy_and_abandon_rate(events: &[Event<'_>]) -> (f64, f64) {
        let mut since: HashMap<&str, (AgentState, i64)> = HashMap::new();
        let (mut busy, mut available) = (0i64, 0i64);
        let (mut ended, mut abandoned) = (0, 0);
        for e in events {
            match &e.body {
                EventBody::AgentState { agent, state, .. } => {
                    if let Some((old, from)) = since.insert(agent, (*state, e.ts)) {
                        if old.is_busy() {
                            busy += e.ts - from;
                        } else if old == AgentState::Available {
                            available += e.ts - from;
                        }
                    }
                }
                EventBody::CallAbandoned { .. } => {
                    abandoned += 1;
                    ended += 1;
                }
                EventBody::CallAnswered { .. } | EventBody::CallDequeued { .. } => ended += 1,
                _ => {}
            }
        }
        (
            busy as f64 / (busy + available) as f64,
            f64::from(abandoned) / f64::from(ended),
        )
    }

    #[test]
    fn load_one_keeps_agents_busy_but_not_swamped() {
        let (occupancy, abandons) = occupancy_and_abandon_rate(&day(11, 60, 8.0, 1.0));
        assert!((0.70..=0.88).contains(&occupancy), "occupancy {occupancy}");
        assert!(abandons < 0.12, "abandon rate {abandons}");
        let (busier, more_abandons) = occupancy_and_abandon_rate(&day(11, 60, 8.0, 1.5));
        assert!(busier > occupancy && more_abandons > abandons);
    }

    /// Peaks fill a queue now and then: a few callers a day are refused,
    /// each when `MAX_WAITING` callers of that queue were waiting, and a
    /// refused call never queues.
    #[test]
    fn full_queues_refuse_a_few_callers_at_peaks() {
        let check = |events: &[Event<'static>]| {
            let mut waiting: HashMap<&str, HashSet<&str>> = HashMap::new();
            let (mut blocked, mut refused) = (0usize, HashSet::new());
            for e in events {
                match &e.body {
                    EventBody::CallQueued { call, queue, .. } => {
                        assert!(!refused.contains(&**call), "{}", e.to_json());
                        waiting.entry(queue).or_default().insert(call);
                    }
                    EventBody::CallAnswered { call, queue, .. }
                    | EventBody::CallAbandoned { call, queue, .. }
                    | EventBody::CallDequeued { call, queue, .. } => {
                        waiting.entry(queue).or_default().remove(&**call);
                    }
                    EventBody::CallBlocked {
                        call,
                        queue,
                        reason,
                    } => {
                        assert_eq!(*reason, BlockedReason::Full);
                        let n = waiting.get(&**queue).map_or(0, HashSet::len);
                        assert!(n >= MAX_WAITING, "{n} waiting: {}", e.to_json());
                        refused.insert(&**call);
                        blocked += 1;
                    }
                    _ => {}
                }
            }
            blocked
        };
        let normal = check(&day(11, 60, 8.0, 1.0));
        let calls = day(11, 60, 8.0, 1.0)
            .iter()
            .filter(|e| e.kind() == Kind::CallQueued)
            .count();
        assert!(normal * 100 < calls, "{normal} of {calls} refused");
        let busy = check(&day(11, 60, 8.0, 1.5));
        assert!(busy > normal && busy > 0, "{busy} refused at load 1.5");
    }

    /// A day of a large centre is produced one event at a time, and what the
    /// simulator holds stays proportional to agents and calls in progress
    /// rather than growing with the events already produced.
    #[test]
    fn a_long_day_streams_in_bounded_memory() {
        let agents = 200;
        let cfg = SimConfig {
            agents,
            hours: 24.0,
            ..SimConfig::default()
        };
        let mut sim = Simulator::new(cfg);
        let (mut count, mut last_ts) = (0u64, i64::MIN);
        let (mut peak_calls, mut peak_agenda, mut peak_out) = (0, 0, 0);
        while let Some(event) = sim.next_event() {
            assert!(event.ts >= last_ts);
            last_ts = event.ts;
            count += 1;
            peak_calls = peak_calls.max(sim.calls.len());
            peak_agenda = peak_agenda.max(sim.agenda.len());
            peak_out = peak_out.max(sim.out.len());
        }
        println!("{count} events; peaks: {peak_calls} calls, {peak_agenda} agenda, {peak_out} out");
        assert!(count > 80_000, "only {count} events");
        assert!(peak_calls < agents, "{peak_calls} calls held");
        assert!(peak_agenda < 8 * agents, "{peak_agenda} agenda entries");
        // The plans published at the start, then a handful per action.
        assert!(peak_out <= 2 * agents, "{peak_out} events buffered");
    }

    #[test]
    fn degenerate_configurations_do_not_panic() {
        for cfg in [
            SimConfig {
                agents: 0,
                ..SimConfig::default()
            },
            SimConfig {
                queues: 0,
                ..SimConfig::default()
            },
            SimConfig {
                queues: 7,
                ..SimConfig::default()
            },
            SimConfig {
                hours: 0.0,
                ..SimConfig::default()
            },
            SimConfig {
                hours: 0.1,
                ..SimConfig::default()
            },
            SimConfig {
                hours: f64::NAN,
                load: -1.0,
                ..SimConfig::default()
            },
        ] {
            for e in Simulator::new(cfg) {
                assert!(parse_event_str(&e.to_json()).is_ok());
            }
        }
    }

    /// `cargo test --release -p ingest -- --ignored --nocapture`
    #[test]
    #[ignore = "a timing, not a check: run it in release with --nocapture"]
    fn speed_of_a_500_agent_day() {
        let cfg = SimConfig {
            agents: 500,
            hours: 24.0,
            ..SimConfig::default()
        };
        let started = std::time::Instant::now();
        let mut kinds: HashMap<Kind, u64> = HashMap::new();
        let mut bytes = 0usize;
        for event in Simulator::new(cfg) {
            bytes += event.to_json().len() + 1;
            *kinds.entry(event.kind()).or_default() += 1;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let total: u64 = kinds.values().sum();
        let mut kinds: Vec<_> = kinds.into_iter().collect();
        kinds.sort();
        println!(
            "{total} events ({:.1} MB of JSON) in {elapsed:.2} s: {:.0} events/s; {kinds:?}",
            bytes as f64 / 1e6,
            total as f64 / elapsed
        );
    }
}
