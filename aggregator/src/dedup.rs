//! Dropping re-sent events: remembers the ids seen within a window of event
//! time, in two generations so memory stays bounded on an endless stream.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use wallboard_events::TimestampMs;

/// Event ids (as 64-bit hashes) seen recently.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dedup {
    window_ms: i64,
    current: IdSet,
    previous: IdSet,
    /// Event time at which `current` was started.
    generation_start: Option<TimestampMs>,
}

impl Dedup {
    /// Remembers each id for at least `window_ms` of event time.
    #[must_use]
    pub fn new(window_ms: i64) -> Self {
        Dedup {
            window_ms,
            current: IdSet::default(),
            previous: IdSet::default(),
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
        if self.previous.contains(id_hash) {
            return false;
        }
        self.current.insert(id_hash)
    }

    /// Starts loading the memory `first_sighting(id_hash, …)` will read:
    /// a hint for a caller that knows the next id while it still has other
    /// work to do (the table is far larger than the caches).
    pub fn prefetch(&self, id_hash: u64) {
        self.current.prefetch(id_hash);
        self.previous.prefetch(id_hash);
    }

    /// Ids currently remembered.
    #[must_use]
    pub fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }

    /// Whether no id is remembered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A set of id hashes: open addressing with linear probing on the hash's
/// own bits (they are xxh3 output, so hashing them again is wasted work),
/// at most three quarters full. A lookup in a table much larger than the caches costs
/// one cache miss, where a general-purpose map takes two (control bytes,
/// then the slot); with millions of ids (a day replayed) that is what
/// deduplication costs.
#[derive(Debug, Clone, Default)]
struct IdSet {
    /// `EMPTY` or a hash; a power of two long (or empty).
    slots: Vec<u64>,
    len: usize,
}

/// Marks a free slot. A hash that is `EMPTY` is stored as `1` instead: two
/// ids colliding that way is as unlikely as any other 64-bit collision.
const EMPTY: u64 = 0;

impl IdSet {
    /// Adds `h`; false when it was there already.
    fn insert(&mut self, h: u64) -> bool {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        self.insert_unchecked(h.max(1))
    }

    fn insert_unchecked(&mut self, h: u64) -> bool {
        let mask = self.slots.len() - 1;
        // Truncating to the index bits is the point.
        #[allow(clippy::cast_possible_truncation)]
        let mut i = h as usize & mask;
        loop {
            let s = self.slots[i];
            if s == EMPTY {
                self.slots[i] = h;
                self.len += 1;
                return true;
            }
            if s == h {
                return false;
            }
            i = (i + 1) & mask;
        }
    }

    fn contains(&self, h: u64) -> bool {
        if self.len == 0 {
            return false;
        }
        let h = h.max(1);
        let mask = self.slots.len() - 1;
        #[allow(clippy::cast_possible_truncation)]
        let mut i = h as usize & mask;
        loop {
            match self.slots[i] {
                EMPTY => return false,
                s if s == h => return true,
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn prefetch(&self, h: u64) {
        if self.slots.is_empty() {
            return;
        }
        #[allow(clippy::cast_possible_truncation)]
        let i = h.max(1) as usize & (self.slots.len() - 1);
        prefetch_read(&self.slots[i]);
    }

    fn grow(&mut self) {
        let capacity = (self.slots.len() * 2).max(1024);
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; capacity]);
        self.len = 0;
        for h in old.into_iter().filter(|&h| h != EMPTY) {
            self.insert_unchecked(h);
        }
    }

    /// Empties the set, keeping its allocation for the next generation.
    fn clear(&mut self) {
        self.slots.fill(EMPTY);
        self.len = 0;
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// Asks the CPU to bring `x` into the cache without waiting for it.
#[inline]
fn prefetch_read<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch is only a hint; it never faults, and the
        // pointer comes from a reference anyway.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(x).cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// Snapshots hold the hashes only, not the table's layout.
impl Serialize for IdSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.len))?;
        for h in self.slots.iter().filter(|&&h| h != EMPTY) {
            seq.serialize_element(h)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for IdSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let hashes = Vec::<u64>::deserialize(d)?;
        let mut set = IdSet::default();
        for h in hashes {
            set.insert(h);
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_set_finds_what_it_holds_through_growth_and_collisions() {
        let mut s = IdSet::default();
        // Hashes sharing their low bits probe into each other's slots.
        let hashes: Vec<u64> = (0..5000u64).map(|i| i << 40 | 7).chain([0, 1]).collect();
        for &h in &hashes {
            assert!(s.insert(h) || h == 1, "{h}"); // 0 is stored as 1
        }
        assert_eq!(s.len(), 5001);
        for &h in &hashes {
            assert!(s.contains(h) && !s.insert(h));
        }
        assert!(!s.contains(8));
        let back: IdSet = postcard::from_bytes(&postcard::to_allocvec(&s).unwrap()).unwrap();
        assert!(hashes.iter().all(|&h| back.contains(h)) && back.len() == 5001);
        s.clear();
        assert!(!s.contains(7) && s.len() == 0);
    }

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
