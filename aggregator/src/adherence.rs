//! Which agent states are *in adherence* with a scheduled activity
//! (`events.md`, "Schedule events"), and the agent's planned timeline.

use serde::{Deserialize, Serialize};

use wallboard_events::{AgentState, TimestampMs};

use crate::intern::CodeId;

/// The states allowed during one scheduled activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allowed {
    /// Bit per [`AgentState`] (by position in `AgentState::ALL`) allowed
    /// whatever the reason.
    states: u8,
    /// `not_ready` is also allowed with exactly this reason.
    not_ready_reason: Option<CodeId>,
}

fn bit(s: AgentState) -> u8 {
    let i = AgentState::ALL
        .iter()
        .position(|&x| x == s)
        .expect("every state is listed");
    1 << i
}

impl Allowed {
    /// `available`, `ringing`, `on_call`, `acw`: scheduled work.
    #[must_use]
    pub fn working() -> Self {
        Allowed {
            states: bit(AgentState::Available)
                | bit(AgentState::Ringing)
                | bit(AgentState::OnCall)
                | bit(AgentState::Acw),
            not_ready_reason: None,
        }
    }

    /// `not_ready` with `reason` (and optionally `logged_out`).
    #[must_use]
    pub fn not_ready_for(reason: CodeId, logged_out_ok: bool) -> Self {
        Allowed {
            states: if logged_out_ok {
                bit(AgentState::LoggedOut)
            } else {
                0
            },
            not_ready_reason: Some(reason),
        }
    }

    /// Exactly these states, any reason.
    #[must_use]
    pub fn states(states: &[AgentState]) -> Self {
        Allowed {
            states: states.iter().fold(0, |m, &s| m | bit(s)),
            not_ready_reason: None,
        }
    }

    /// Adds `not_ready` with `reason` to the allowed set.
    #[must_use]
    pub fn with_not_ready_reason(mut self, reason: CodeId) -> Self {
        self.not_ready_reason = Some(reason);
        self
    }

    /// Whether an agent in `state` (with not-ready `reason`) adheres to the activity.
    #[must_use]
    pub fn allows(&self, state: AgentState, reason: Option<CodeId>) -> bool {
        if self.states & bit(state) != 0 {
            return true;
        }
        state == AgentState::NotReady
            && self.not_ready_reason.is_some()
            && self.not_ready_reason == reason
    }

    /// Scheduled as work: the activity expects the agent to take calls.
    #[must_use]
    pub fn is_work(&self) -> bool {
        self.states & bit(AgentState::Available) != 0
    }
}

/// The default rule for an activity code (`events.md`).
#[must_use]
pub fn default_rule(activity: &str, code: CodeId) -> Allowed {
    match activity {
        "work" | "phone" | "open" => Allowed::working(),
        "lunch" => Allowed::not_ready_for(code, true),
        "off" => Allowed::states(&[AgentState::LoggedOut]),
        _ => Allowed::not_ready_for(code, false),
    }
}

/// One planned activity, with its rule resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Planned {
    /// Start, UTC ms (inclusive).
    pub start: TimestampMs,
    /// End, UTC ms (exclusive).
    pub end: TimestampMs,
    /// Activity code of the segment.
    pub activity: CodeId,
    /// Agent states the activity allows.
    pub allowed: Allowed,
}

/// An agent's schedule: planned activities, sorted, not overlapping.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Plan {
    segments: Vec<Planned>,
}

impl Plan {
    /// Replaces whatever was planned inside `[from, to)` with `new`
    /// (which lies inside that range and does not overlap itself).
    pub fn replace(&mut self, from: TimestampMs, to: TimestampMs, new: &[Planned]) {
        let mut kept = Vec::with_capacity(self.segments.len() + new.len() + 1);
        for s in &self.segments {
            if s.end <= from || s.start >= to {
                kept.push(*s);
                continue;
            }
            if s.start < from {
                kept.push(Planned { end: from, ..*s });
            }
            if s.end > to {
                kept.push(Planned { start: to, ..*s });
            }
        }
        kept.extend_from_slice(new);
        kept.sort_unstable_by_key(|s| s.start);
        self.segments = kept;
    }

    /// The planned pieces overlapping `[from, to)`, clipped to it.
    pub fn overlapping(
        &self,
        from: TimestampMs,
        to: TimestampMs,
    ) -> impl Iterator<Item = Planned> + '_ {
        let first = self.segments.partition_point(|s| s.end <= from);
        self.segments[first..]
            .iter()
            .take_while(move |s| s.start < to)
            .map(move |s| Planned {
                start: s.start.max(from),
                end: s.end.min(to),
                ..*s
            })
    }

    /// The activity planned at `t`, if any.
    #[must_use]
    pub fn at(&self, t: TimestampMs) -> Option<Planned> {
        self.overlapping(t, t + 1).next()
    }

    /// Forgets segments that ended at or before `t` (already accounted).
    pub fn forget_before(&mut self, t: TimestampMs) {
        let n = self.segments.partition_point(|s| s.end <= t);
        if n > 0 {
            self.segments.drain(..n);
        }
    }

    /// Carries an out-of-adherence stretch over `[from, to)`, during which
    /// the agent is in `state` (with `reason`) throughout: `run` is the
    /// stretch's start as of `from` (`None`: in adherence or unplanned then).
    /// Returns its start as of `to` (`metrics.md`, "Out of adherence since"):
    /// kept across back-to-back segments that all disallow the state, ended
    /// by a gap in the plan or by a segment that allows the state.
    #[must_use]
    pub fn carry_stretch(
        &self,
        mut run: Option<TimestampMs>,
        from: TimestampMs,
        to: TimestampMs,
        state: AgentState,
        reason: Option<CodeId>,
    ) -> Option<TimestampMs> {
        if to <= from {
            return run;
        }
        let mut covered_to = from;
        for p in self.overlapping(from, to) {
            if p.start > covered_to {
                run = None;
            }
            run = if p.allowed.allows(state, reason) {
                None
            } else {
                run.or(Some(p.start))
            };
            covered_to = p.end;
        }
        if covered_to < to {
            run = None;
        }
        run
    }

    /// Number of planned segments.
    #[must_use]
    pub fn len(&self) -> usize {
        self.segments.len()
    }

    /// Whether nothing is planned.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(start: i64, end: i64, a: u32) -> Planned {
        Planned {
            start,
            end,
            activity: CodeId(a),
            allowed: Allowed::working(),
        }
    }

    #[test]
    fn replacement_clips_what_it_overlaps() {
        let mut plan = Plan::default();
        plan.replace(0, 100, &[p(0, 100, 1)]);
        plan.replace(40, 60, &[p(40, 60, 2)]);
        let got: Vec<_> = plan
            .overlapping(0, 100)
            .map(|s| (s.start, s.end, s.activity.0))
            .collect();
        assert_eq!(got, vec![(0, 40, 1), (40, 60, 2), (60, 100, 1)]);
        plan.replace(30, 70, &[]);
        let got: Vec<_> = plan.overlapping(0, 100).map(|s| (s.start, s.end)).collect();
        assert_eq!(got, vec![(0, 30), (70, 100)]);
        assert_eq!(plan.at(35), None);
        plan.forget_before(30);
        assert_eq!(plan.len(), 1);
    }

    fn brk(start: i64, end: i64, a: u32) -> Planned {
        Planned {
            start,
            end,
            activity: CodeId(a),
            allowed: Allowed::not_ready_for(CodeId(a), false),
        }
    }

    #[test]
    fn a_stretch_is_carried_across_back_to_back_segments_that_disallow_alike() {
        let mut plan = Plan::default();
        // break 100–150, meeting 150–300, work 300–400, break 450–500.
        plan.replace(
            0,
            1000,
            &[
                brk(100, 150, 1),
                brk(150, 300, 2),
                p(300, 400, 3),
                brk(450, 500, 1),
            ],
        );
        let avail = AgentState::Available;
        let at = |run, from, to| plan.carry_stretch(run, from, to, avail, None);
        // Available since 50: out of adherence from 100 on, across both.
        assert_eq!(at(None, 50, 101), Some(100));
        assert_eq!(at(None, 50, 299), Some(100));
        // Walked in steps, the stretch is the same.
        let mid = at(None, 50, 150);
        assert_eq!(mid, Some(100));
        assert_eq!(at(mid, 150, 200), Some(100));
        // Work allows `available`: the stretch ends; after the gap at 400–450
        // a new one starts with the next break.
        assert_eq!(at(None, 50, 350), None);
        assert_eq!(at(None, 50, 420), None);
        assert_eq!(at(None, 50, 460), Some(450));
        // A state that began inside a segment starts the stretch there.
        assert_eq!(at(None, 120, 200), Some(120));
        // The right reason is in adherence with a break.
        let ok = plan.carry_stretch(None, 100, 140, AgentState::NotReady, Some(CodeId(1)));
        assert_eq!(ok, None);
    }

    #[test]
    fn default_rules_follow_events_md() {
        let lunch = CodeId(7);
        let other = CodeId(8);
        let r = default_rule("lunch", lunch);
        assert!(r.allows(AgentState::LoggedOut, None));
        assert!(r.allows(AgentState::NotReady, Some(lunch)));
        assert!(!r.allows(AgentState::NotReady, Some(other)));
        assert!(!r.allows(AgentState::Available, None));
        let w = default_rule("work", CodeId(1));
        assert!(w.is_work() && w.allows(AgentState::Acw, None));
        assert!(!w.allows(AgentState::NotReady, None));
        let off = default_rule("off", CodeId(2));
        assert!(off.allows(AgentState::LoggedOut, None) && !off.is_work());
        let brk = default_rule("break", CodeId(3));
        assert!(!brk.allows(AgentState::LoggedOut, None));
    }
}
