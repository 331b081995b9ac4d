//! Repeat-contact detection (`metrics.md`, "Repeat contacts and FCR"): which
//! handled calls were followed, within W, by another call of the same
//! caller. Keeps only the contacts and handled calls the window still needs,
//! at most `repeat_max_tracked` of them, and detects the same repeats
//! whatever order the events arrive in (a call's own `call_queued` before
//! its `call_completed`).

use std::collections::{BTreeMap, BTreeSet};

use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

use wallboard_events::TimestampMs;

use crate::intern::{AgentId, QueueId};
use crate::time::IntervalStart;

/// How much longer than W a contact is kept: a call may be completed up to
/// a day after it queued, and its completion needs its caller.
const CONTACT_EXTRA_MS: TimestampMs = 86_400_000;

/// A handled call whose outcome is not known yet, where it is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCall {
    /// Hash of the call id (a later call of the same id is no repeat).
    pub call: u64,
    /// When it was completed (t₀).
    pub completed: TimestampMs,
    /// The interval of its `call_completed`.
    pub interval: IntervalStart,
    /// The queue it was handled for.
    pub queue: QueueId,
    /// The agent who handled it.
    pub agent: AgentId,
}

/// The window's callers: their contacts and their pending handled calls.
/// Callers and calls are kept as 64-bit hashes of their keys.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RepeatTracker {
    /// `call_queued` contacts by (caller, ts, call).
    contacts: BTreeSet<(u64, TimestampMs, u64)>,
    /// The same by (ts, caller, call), to forget the oldest first.
    contacts_by_time: BTreeSet<(TimestampMs, u64, u64)>,
    /// Call → (its caller, its newest contact's ts).
    caller_of: HashMap<u64, (u64, TimestampMs)>,
    /// Pending handled calls by (caller, t₀, sequence number).
    pending: BTreeMap<(u64, TimestampMs, u64), PendingCall>,
    /// The same keys by (t₀, caller, sequence number).
    pending_by_time: BTreeSet<(TimestampMs, u64, u64)>,
    /// Next sequence number (tells apart calls completed at the same ms).
    seq: u64,
    /// Contacts and handled calls not tracked because of the cap.
    untracked: u64,
    /// When `expire` next has something to forget (derived, so not stored).
    #[serde(skip)]
    due: Due,
}

/// The earliest newest-event time at which `expire` forgets anything, for
/// the window and grace it was computed with. `expire` runs after every
/// event; this lets it return at once while nothing is due.
#[derive(Debug, Clone, Copy)]
struct Due {
    at: TimestampMs,
    window_ms: TimestampMs,
    grace_ms: TimestampMs,
}

impl Default for Due {
    /// Due at once: the first `expire` computes the real time.
    fn default() -> Self {
        Due {
            at: TimestampMs::MIN,
            window_ms: 0,
            grace_ms: 0,
        }
    }
}

impl Due {
    /// When a contact made at `ts` is forgotten.
    fn contact(&self, ts: TimestampMs) -> TimestampMs {
        ts.saturating_add(self.window_ms.saturating_add(CONTACT_EXTRA_MS))
            .saturating_add(1)
    }

    /// When a call completed at `t0` stops being pending.
    fn pending(&self, t0: TimestampMs) -> TimestampMs {
        t0.saturating_add(self.window_ms.saturating_add(self.grace_ms))
            .saturating_add(1)
    }
}

impl RepeatTracker {
    /// Entries kept: contacts and pending calls (what the cap bounds).
    #[must_use]
    pub fn len(&self) -> usize {
        self.contacts.len() + self.pending.len()
    }

    /// Whether nothing is tracked and nothing was refused.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0 && self.untracked == 0
    }

    /// Contacts and handled calls left untracked because of the cap.
    #[must_use]
    pub fn untracked(&self) -> u64 {
        self.untracked
    }

    /// A `call_queued` of `call` by `caller` at `ts`: every pending call of
    /// the same caller (another call id) completed in `[ts − W, ts)` is a
    /// repeat contact, handed to `on_repeat` and no longer pending.
    pub fn contact(
        &mut self,
        (call, caller): (u64, u64),
        ts: TimestampMs,
        (window_ms, cap): (TimestampMs, usize),
        mut on_repeat: impl FnMut(PendingCall),
    ) {
        // A call keeps the caller its first contact named.
        let caller = self.caller_of.get(&call).map_or(caller, |c| c.0);
        let from = (caller, ts.saturating_sub(window_ms), 0);
        let repeated: Vec<(u64, TimestampMs, u64)> = self
            .pending
            .range(from..(caller, ts, 0))
            .filter(|(_, p)| p.call != call)
            .map(|(k, _)| *k)
            .collect();
        for key in repeated {
            if let Some(p) = self.pending.remove(&key) {
                self.pending_by_time.remove(&(key.1, key.0, key.2));
                on_repeat(p);
            }
        }
        if self.len() >= cap {
            self.untracked += 1;
            return;
        }
        self.contacts.insert((caller, ts, call));
        self.contacts_by_time.insert((ts, caller, call));
        self.due.at = self.due.at.min(self.due.contact(ts));
        let newest = self.caller_of.entry(call).or_insert((caller, ts));
        newest.1 = newest.1.max(ts);
    }

    /// A `call_completed` of `call`: `None` when the call has no (tracked)
    /// caller, so it is not eligible; else whether it is already known to be
    /// a repeat contact (a later contact of its caller was seen), otherwise
    /// it is kept as pending.
    pub fn handled(
        &mut self,
        p: PendingCall,
        (window_ms, cap): (TimestampMs, usize),
    ) -> Option<bool> {
        let &(caller, _) = self.caller_of.get(&p.call)?;
        let t0 = p.completed;
        let later =
            (caller, t0.saturating_add(1), 0)..=(caller, t0.saturating_add(window_ms), u64::MAX);
        if self.contacts.range(later).any(|&(_, _, c)| c != p.call) {
            return Some(true);
        }
        if self.len() >= cap {
            self.untracked += 1;
            return None;
        }
        let key = (caller, t0, self.seq);
        self.seq += 1;
        self.pending.insert(key, p);
        self.pending_by_time.insert((t0, caller, key.2));
        self.due.at = self.due.at.min(self.due.pending(t0));
        Some(false)
    }

    /// Forgets what the window no longer needs at the newest event time
    /// `newest`: contacts older than W + 1 day, and pending calls whose
    /// window ended more than `grace_ms` ago (late repeats still count
    /// within the grace).
    pub fn expire(&mut self, newest: TimestampMs, window_ms: TimestampMs, grace_ms: TimestampMs) {
        let same_limits = (self.due.window_ms, self.due.grace_ms) == (window_ms, grace_ms);
        if same_limits && newest < self.due.at {
            return;
        }
        // Found again here, from the entries left: the first of each set
        // that is not forgotten yet says when the next one is.
        let mut due = Due {
            at: TimestampMs::MAX,
            window_ms,
            grace_ms,
        };
        while let Some(&(ts, caller, call)) = self.contacts_by_time.first() {
            let forget_at = due.contact(ts);
            if forget_at > newest {
                due.at = forget_at;
                break;
            }
            self.contacts_by_time.pop_first();
            self.contacts.remove(&(caller, ts, call));
            if self.caller_of.get(&call).is_some_and(|c| c.1 == ts) {
                self.caller_of.remove(&call);
            }
        }
        while let Some(&(t0, caller, seq)) = self.pending_by_time.first() {
            let forget_at = due.pending(t0);
            if forget_at > newest {
                due.at = due.at.min(forget_at);
                break;
            }
            self.pending_by_time.pop_first();
            self.pending.remove(&(caller, t0, seq));
        }
        self.due = due;
    }

    /// The calls still pending at `now`: not (yet) repeat contacts, their
    /// window `(t₀, t₀ + W]` not over.
    pub fn pending_at(
        &self,
        now: TimestampMs,
        window_ms: TimestampMs,
    ) -> impl Iterator<Item = &PendingCall> {
        self.pending_by_time
            .range((now.saturating_sub(window_ms).saturating_add(1), 0, 0)..)
            .filter_map(|&(t0, caller, seq)| self.pending.get(&(caller, t0, seq)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intern::DenseId;

    const W: TimestampMs = 3_600_000;

    fn done(call: u64, t0: TimestampMs) -> PendingCall {
        PendingCall {
            call,
            completed: t0,
            interval: IntervalStart(0),
            queue: QueueId::from_index(0),
            agent: AgentId::from_index(0),
        }
    }

    #[test]
    fn a_later_call_of_the_caller_within_w_is_a_repeat_either_order() {
        let mut t = RepeatTracker::default();
        let mut seen = Vec::new();
        t.contact((1, 7), 0, (W, 100), |p| seen.push(p.call));
        assert_eq!(t.handled(done(1, 100), (W, 100)), Some(false));
        t.contact((1, 7), 200, (W, 100), |p| seen.push(p.call)); // same call: no
        t.contact((2, 7), 100 + W, (W, 100), |p| seen.push(p.call)); // at t₀ + W: yes
        assert_eq!(seen, vec![1]);
        // The other order: the repeat is known when the call is completed.
        let mut u = RepeatTracker::default();
        u.contact((1, 7), 0, (W, 100), |_| panic!());
        u.contact((2, 7), 100 + W, (W, 100), |_| panic!());
        assert_eq!(u.handled(done(1, 100), (W, 100)), Some(true));
        // Past W it is none.
        let mut v = RepeatTracker::default();
        v.contact((1, 7), 0, (W, 100), |_| panic!());
        v.contact((2, 7), 101 + W, (W, 100), |_| panic!());
        assert_eq!(v.handled(done(1, 100), (W, 100)), Some(false));
        assert_eq!(v.pending_at(100 + W - 1, W).count(), 1);
        assert_eq!(v.pending_at(100 + W, W).count(), 0);
    }

    #[test]
    fn a_call_without_a_caller_is_not_eligible_and_the_cap_holds() {
        let mut t = RepeatTracker::default();
        assert_eq!(t.handled(done(9, 0), (W, 2)), None);
        for c in 0..5 {
            t.contact((c, c), 0, (W, 2), |_| {});
        }
        assert_eq!((t.len(), t.untracked()), (2, 3));
        t.expire(W + CONTACT_EXTRA_MS + 1, W, 0);
        assert_eq!(t.len(), 0, "everything expired");
    }

    #[test]
    fn contacts_last_w_and_a_day_and_pending_calls_w_and_the_grace() {
        const GRACE: TimestampMs = 60_000;
        let mut t = RepeatTracker::default();
        t.contact((1, 7), 0, (W, 100), |_| {});
        assert_eq!(t.handled(done(1, 0), (W, 100)), Some(false));
        t.expire(W + GRACE, W, GRACE);
        assert_eq!(t.len(), 2, "at W + grace the call is still pending");
        t.expire(W + GRACE + 1, W, GRACE);
        assert_eq!(t.len(), 1, "past it only the contact is left");
        t.expire(W + CONTACT_EXTRA_MS, W, GRACE);
        assert_eq!(t.len(), 1, "at W + a day the contact is still kept");
        t.expire(W + CONTACT_EXTRA_MS + 1, W, GRACE);
        assert_eq!(t.len(), 0, "past it, it is forgotten");
    }

    /// What `expire` skips while nothing is due is exactly what a full pass
    /// would have forgotten: nothing.
    mod skipping {
        use super::*;
        use proptest::prelude::*;

        #[derive(Debug, Clone)]
        enum Op {
            Contact(u64, u64, TimestampMs),
            Handled(u64, TimestampMs),
            Expire(TimestampMs, TimestampMs),
        }

        fn op() -> impl Strategy<Value = Op> {
            let t = 0..(3 * (W + CONTACT_EXTRA_MS));
            prop_oneof![
                (0..8u64, 0..4u64, t.clone()).prop_map(|(c, k, ts)| Op::Contact(c, k, ts)),
                (0..8u64, t.clone()).prop_map(|(c, ts)| Op::Handled(c, ts)),
                // Two graces: a changed limit must not be skipped either.
                (t, prop_oneof![Just(0), Just(60_000)]).prop_map(|(n, g)| Op::Expire(n, g)),
            ]
        }

        proptest! {
            #[test]
            fn gated_expiry_forgets_what_a_full_pass_forgets(ops in prop::collection::vec(op(), 1..80)) {
                let (mut gated, mut full) = (RepeatTracker::default(), RepeatTracker::default());
                let mut newest = 0;
                for o in ops {
                    for t in [&mut gated, &mut full] {
                        match o {
                            Op::Contact(c, k, ts) => t.contact((c, k), ts, (W, 1_000), |_| {}),
                            Op::Handled(c, ts) => {
                                let _ = t.handled(done(c, ts), (W, 1_000));
                            }
                            Op::Expire(n, g) => t.expire(newest.max(n), W, g),
                        }
                    }
                    if let Op::Expire(n, _) = o {
                        newest = newest.max(n);
                    }
                    full.due = Due::default();
                    prop_assert_eq!(gated.len(), full.len());
                    prop_assert_eq!(
                        gated.pending_at(newest, W).collect::<Vec<_>>(),
                        full.pending_at(newest, W).collect::<Vec<_>>()
                    );
                }
            }
        }
    }
}
