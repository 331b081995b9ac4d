//! The engine's side of the scorecard's per-agent handling sums: what the
//! snapshot section holds, and putting it back.

use super::TenantEngine;
use crate::handling::HandlingHistory;

impl TenantEngine {
    /// The per-agent handling sums of every interval kept that has any.
    #[must_use]
    pub fn handling_history(&self) -> HandlingHistory {
        self.buckets
            .iter()
            .filter(|(_, b)| b.handling.iter().any(|h| !h.is_empty()))
            .map(|(start, b)| (*start, b.handling.clone()))
            .collect()
    }

    /// Puts back the sums of a snapshot (`Engine::from_bytes`): only into
    /// intervals the engine still has.
    pub(crate) fn restore_handling(&mut self, history: HandlingHistory) {
        for (start, handling) in history {
            if let Some(b) = self.buckets.get_mut(&start) {
                b.handling = handling;
            }
        }
    }
}
