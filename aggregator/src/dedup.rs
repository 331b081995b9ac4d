//! Dropping re-sent events: remembers the ids seen within a window of event
//! time, in two generations so memory stays bounded on an endless stream.

use hashbrown::HashSet;
use serde::{Deserialize, Serialize};

use ingest::TimestampMs;

/// Event ids (as 64-bit hashes) seen recently.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dedup {
    window_ms: i64,
    current: HashSet<u64>,
    previous: HashSet<u64>,
    /// Event time at which `current` was started.
    generation_start: Option<TimestampMs>,
}

impl Dedup {
    /// Remembers each id for at least `window_ms` of event time.
    pub fn new(window_ms: i64) -> Self {
        Dedup {
            window_ms,
            current: HashSet::new(),
            previous: HashSet::new(),
            generation_start: None,
        }
    }

    /// True the first time `id_hash` is seen; false for a duplicate.
    pub fn first_sighting(&mut self, id_hash: u64, ts: TimestampMs) -> bool {
        let start = *self.generation_start.get_or_insert(ts);
        if ts >= start.saturating_add(self.window_ms) {
            // The old generation is older than the window: drop it and keep
            // its allocation for the next one.
            std::mem::swap(&mut self.previous, &mut self.current);
            self.current.clear();
            self.generation_start = Some(ts);
        }
        if self.previous.contains(&id_hash) {
            return false;
        }
        self.current.insert(id_hash)
    }

    /// Ids currently remembered.
    pub fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_repeats_within_the_window_and_forgets_after() {
        let mut d = Dedup::new(100);
        assert!(d.first_sighting(1, 0));
        assert!(!d.first_sighting(1, 50));
        assert!(d.first_sighting(2, 120)); // rotates: 1 is in `previous`
        assert!(!d.first_sighting(1, 130));
        assert!(d.first_sighting(3, 250)); // rotates again: 1 is forgotten
        assert!(d.first_sighting(1, 260));
        assert!(!d.first_sighting(2, 260));
    }
}
