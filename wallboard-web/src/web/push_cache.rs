//! The last WebSocket push per subscription, serialized once per published
//! snapshot however many clients share the subscription. Entries are keyed
//! by a fixed-size digest of the subscription (not its queue list, which a
//! client chooses) and live exactly as long as a client holds them: a
//! client takes a [`Lease`] for its subscription and the entry goes with
//! the last lease. So the cache never has more entries than clients, and
//! each entry is one push of a bounded subscription.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use aggregator::alerts::ActiveAlert;
use aggregator::LiveSnapshot;
use sha2::{Digest, Sha256};
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// A subscription's identity: SHA-256 of its tenant and queue list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscriptionKey([u8; 32]);

impl SubscriptionKey {
    pub fn of(tenant: &str, queues: &[String]) -> Self {
        let mut h = Sha256::new();
        // Lengths first, so that no two lists hash the same bytes.
        for part in std::iter::once(tenant).chain(queues.iter().map(String::as_str)) {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        SubscriptionKey(h.finalize().into())
    }
}

/// A push and what it was made from.
struct Made {
    snapshot: Arc<LiveSnapshot>,
    alerts: Arc<Vec<ActiveAlert>>,
    /// The configuration shown (its targets are in the push; a reload
    /// makes the push stale).
    shown: Arc<crate::config::AppConfig>,
    text: Utf8Bytes,
}

#[derive(Default)]
struct Entry {
    clients: usize,
    made: Option<Made>,
}

/// The last WebSocket push per subscription, shared by the clients of the same subscription so it is made once per publish.
#[derive(Default)]
pub struct PushCache {
    entries: Mutex<HashMap<SubscriptionKey, Entry>>,
}

impl PushCache {
    fn entries(&self) -> MutexGuard<'_, HashMap<SubscriptionKey, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a client of `key` until the lease is dropped.
    pub fn lease(self: &Arc<Self>, key: SubscriptionKey) -> Lease {
        self.entries().entry(key).or_default().clients += 1;
        Lease {
            cache: self.clone(),
            key,
            remote_seq: AtomicU64::new(0),
        }
    }

    /// The push of `key` if it was made from this snapshot and these
    /// alerts, under this shown configuration.
    pub fn get(
        &self,
        key: &SubscriptionKey,
        snapshot: &Arc<LiveSnapshot>,
        alerts: &Arc<Vec<ActiveAlert>>,
        shown: &Arc<crate::config::AppConfig>,
    ) -> Option<Utf8Bytes> {
        let entries = self.entries();
        let made = entries.get(key)?.made.as_ref()?;
        (Arc::ptr_eq(&made.snapshot, snapshot)
            && Arc::ptr_eq(&made.alerts, alerts)
            && Arc::ptr_eq(&made.shown, shown))
        .then(|| made.text.clone())
    }

    /// Keeps `text` for the clients of `key` (if any still hold it).
    pub fn put(
        &self,
        key: &SubscriptionKey,
        snapshot: Arc<LiveSnapshot>,
        alerts: Arc<Vec<ActiveAlert>>,
        shown: Arc<crate::config::AppConfig>,
        text: Utf8Bytes,
    ) {
        if let Some(e) = self.entries().get_mut(key) {
            e.made = Some(Made {
                snapshot,
                alerts,
                shown,
                text,
            });
        }
    }

    /// Subscriptions held by at least one client.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// Whether no subscription is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A client's hold on its subscription's entry.
pub struct Lease {
    cache: Arc<PushCache>,
    key: SubscriptionKey,
    /// The last view from the views topic pushed to this client (its
    /// sequence number; 0: none).
    remote_seq: AtomicU64,
}

impl Lease {
    pub fn key(&self) -> &SubscriptionKey {
        &self.key
    }

    /// Whether the view from the views topic numbered `seq` is new to
    /// this client (it is then recorded as pushed).
    pub fn first_push_of(&self, seq: u64) -> bool {
        self.remote_seq.swap(seq, Ordering::Relaxed) != seq
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut entries = self.cache.entries();
        if let Some(e) = entries.get_mut(&self.key) {
            e.clients -= 1;
            if e.clients == 0 {
                entries.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_lives_as_long_as_its_clients() {
        let cache = Arc::new(PushCache::default());
        let k = SubscriptionKey::of("acme", &["q1".into()]);
        let a = cache.lease(k);
        let b = cache.lease(k);
        let other = cache.lease(SubscriptionKey::of("acme", &[]));
        assert_eq!(cache.len(), 2);
        drop(a);
        assert_eq!(cache.len(), 2);
        drop(b);
        drop(other);
        assert!(cache.is_empty());
    }

    #[test]
    fn keys_tell_lists_apart_however_they_are_joined() {
        let k = |t: &str, q: &[&str]| {
            SubscriptionKey::of(
                t,
                &q.iter()
                    .map(std::string::ToString::to_string)
                    .collect::<Vec<_>>(),
            )
        };
        assert_ne!(k("a", &["b,c"]), k("a", &["b", "c"]));
        assert_ne!(k("ab", &[]), k("a", &["b"]));
        assert_eq!(k("a", &["b"]), k("a", &["b"]));
    }
}
