//! The agenda: the actions scheduled at future times, in time order (ties
//! in the order they were scheduled).

use std::cmp::Ordering;

use wallboard_events::event::TimestampMs;

use super::agents::Activity;

/// What happens at a scheduled time. Actions that may have been overtaken by
/// events (a ring, a caller's patience, a queue time limit, a return from a
/// break) carry a token and are ignored when it no longer matches.
#[derive(Debug, Clone, Copy)]
pub(super) enum Action {
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
pub(super) struct Scheduled {
    pub(super) at: TimestampMs,
    pub(super) seq: u64,
    pub(super) action: Action,
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
