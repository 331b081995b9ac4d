//! Calls: how callers arrive, wait, give up or leave, how they are routed
//! to agents, and how a call is handled (talk, hold, wrap-up, transfers).

use std::borrow::Cow;

use rand::Rng;
use rand_distr::Exp1;
use wallboard_events::event::{AgentState, BlockedReason, DequeueReason, EventBody, TimestampMs};
use wallboard_events::{QualityEvaluation, SurveyResult};

use super::agenda::Action;
use super::agents::{Activity, Handling, Phase};
use super::sample::{pick_weighted, saturating_ms, Spread, SAMPLED};
use super::simulator::Simulator;
use super::{owned, MINUTE, SECOND};

/// Chance that an offered call rings out unanswered.
const P_RING_NO_ANSWER: f64 = 0.025;
/// After a ring-no-answer the ACD usually puts the agent in `not_ready`.
const P_NOT_READY_AFTER_RONA: f64 = 0.5;
const RING_TIMEOUT_MS: i64 = 15 * SECOND;
pub(super) const RING: Spread = Spread::new(4.0 * SECOND as f64, 0.5, SECOND, 14 * SECOND);
pub(super) const TALK_SIGMA: f64 = 0.6;
pub(super) const TALK_MIN_MS: i64 = 10 * SECOND;
pub(super) const TALK_MAX_MS: i64 = 45 * MINUTE;
const P_HOLD: f64 = 0.2;
pub(super) const P_ACW: f64 = 0.8;
pub(super) const ACW: Spread = Spread::new(20.0 * SECOND as f64, 0.7, 2 * SECOND, 8 * MINUTE);
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
pub(super) const MAX_WAITING: usize = 3;
/// A call that can no longer overflow leaves its queue after this long.
const FINAL_TIMEOUT_MS: i64 = 10 * MINUTE;
/// Chance that an outcome event reports `wait_ms` itself (many telephony
/// systems do, some do not).
pub(super) const P_REPORT_WAIT: f64 = 0.5;

/// A call waiting or ringing in a queue.
pub(super) struct Call {
    pub(super) id: String,
    pub(super) queue: usize,
    pub(super) queued_at: TimestampMs,
    /// Token of the current queue segment (for its time limit).
    pub(super) segment: u64,
    /// Token of the caller's current stay (for patience and the exit key).
    pub(super) life: u64,
    pub(super) overflowed: bool,
    pub(super) ringing: Option<usize>,
    /// The queue's time limit passed while the call was ringing.
    pub(super) timeout_due: bool,
}

impl Simulator {
    pub(super) fn schedule_next_arrival(&mut self) {
        if let Some(at) = self.arrivals.next(&mut self.rng) {
            self.schedule(at, Action::Arrival);
        }
    }

    pub(super) fn on_arrival(&mut self) {
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
            caller: self.kpi.as_mut().map(|k| Cow::Owned(k.caller_of(&call.id))),
        };
        self.waiting[queue].insert((self.now, no));
        self.emit(body);
        self.schedule(self.now + limit, Action::QueueTimeout { call: no, segment });
        self.route_queue(queue);
    }

    pub(super) fn on_abandon(&mut self, no: u64, life: u64) {
        if self.calls.get(&no).is_none_or(|c| c.life != life) {
            return; // answered, or gone from the queue some other way
        }
        let Some(call) = self.calls.remove(&no) else {
            return;
        };
        if let Some(k) = self.kpi.as_mut() {
            k.forget(&call.id);
        }
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

    pub(super) fn on_exit_key(&mut self, no: u64, life: u64) {
        let pressable = self
            .calls
            .get(&no)
            .is_some_and(|c| c.life == life && c.ringing.is_none());
        if pressable {
            self.leave_queue(no, DequeueReason::ExitKey);
        }
    }

    pub(super) fn on_queue_timeout(&mut self, no: u64, segment: u64) {
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
        if let (Some(call), Some(k)) = (self.calls.remove(&no), self.kpi.as_mut()) {
            k.forget(&call.id);
        }
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
    pub(super) fn best_call_for(&self, agent: usize) -> Option<u64> {
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

    pub(super) fn offer(&mut self, agent: usize, no: u64) {
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

    pub(super) fn on_ring_end(&mut self, agent: usize, offer: u64, answered: bool) {
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

    pub(super) fn answer(&mut self, agent: usize, no: u64) {
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

    pub(super) fn on_talk_end(&mut self, agent: usize) {
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
    pub(super) fn complete_call(&mut self, agent: usize) {
        let Some(h) = self.agents[agent].handling.take() else {
            return;
        };
        let (call_id, queue) = (h.call_id.clone(), h.queue);
        self.emit(EventBody::CallCompleted {
            call: Cow::Owned(h.call_id),
            queue: owned(&self.queues[h.queue].name),
            agent: owned(&self.agents[agent].id),
            talk_ms: h.talk_ms,
            hold_ms: h.hold_ms,
            acw_ms: h.acw_ms,
            transferred: h.transferred,
        });
        self.after_call_kpis(&call_id, queue, agent);
        self.release_agent(agent, true);
    }

    /// A survey and an evaluation of a call being completed, maybe (after
    /// its `call_completed`: at the same time, the answer of an IVR survey
    /// right after the call).
    fn after_call_kpis(&mut self, call: &str, queue: usize, agent: usize) {
        let Some(k) = self.kpi.as_mut() else {
            return;
        };
        let after = k.completed(call, self.now);
        let (c, q, a) = (
            owned(call),
            owned(&self.queues[queue].name),
            owned(&self.agents[agent].id),
        );
        if let Some(score) = after.survey {
            self.emit_after(
                "s",
                EventBody::SurveyResult(SurveyResult {
                    call: c.clone(),
                    agent: a.clone(),
                    queue: q.clone(),
                    score,
                    scale_min: 1,
                    scale_max: 5,
                    comment: None,
                }),
            );
        }
        if let Some((score, fatal)) = after.evaluation {
            self.emit_after(
                "qa",
                EventBody::QualityEvaluation(QualityEvaluation {
                    call: c,
                    agent: a,
                    queue: q,
                    evaluator: Cow::Borrowed("qa1"),
                    score,
                    fatal,
                }),
            );
        }
    }
}
