//! Per-agent hold time and transfers of the agent scorecard (`metrics.md`,
//! "Agent scorecard"). Kept beside each [`crate::tenant::Bucket`]'s agent
//! sums but outside their serde state, and snapshotted as a section of its
//! own after the engine (`Engine::to_bytes`), so snapshots of earlier
//! versions still load.

use serde::{Deserialize, Serialize};

use crate::time::IntervalStart;

/// What one agent's completed calls of one interval add beyond
/// [`crate::sums::AgentSums`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentHandling {
    /// Σ `hold_ms` of the agent's completed calls (part of their talk).
    pub hold_ms: u64,
    /// The agent's completed calls with `transferred: true`.
    pub transferred: u64,
}

impl AgentHandling {
    /// Adds `o` into `self`, saturating.
    pub fn add(&mut self, o: &AgentHandling) {
        self.hold_ms = self.hold_ms.saturating_add(o.hold_ms);
        self.transferred = self.transferred.saturating_add(o.transferred);
    }

    /// Whether nothing was counted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == AgentHandling::default()
    }
}

/// One tenant's handling sums as snapshotted: by interval, by agent id;
/// intervals without any left out.
pub type HandlingHistory = Vec<(IntervalStart, Vec<AgentHandling>)>;
