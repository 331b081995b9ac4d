//! The WebSocket push per subscription, one version per push interval
//! however many clients share it (docs/architecture.md, "WebSocket
//! fan-out"). A subscription makes a new version at most once per
//! interval, and only when what it is made from changed; every client of
//! the subscription sends that version: as a delta from the version the
//! client holds (shared by every client holding the same one), the full
//! snapshot to a client that holds none. What the bytes look like
//! is `push.rs`'s business ([`MakePush`]); this module owns when they are
//! made and who gets which.
//!
//! Entries are keyed by a fixed-size digest of the subscription (not its
//! queue list, which a client chooses) and live exactly as long as a
//! client holds them: a client takes a [`Lease`] for its subscription and
//! the entry goes with the last lease. So the cache never has more entries
//! than clients, and each entry is one version of a bounded subscription.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use aggregator::alerts::ActiveAlert;
use aggregator::LiveSnapshot;
use sha2::{Digest, Sha256};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use super::push::Prints;
use crate::config::AppConfig;

/// A subscription's identity: SHA-256 of its tenant, its queue list and
/// whether its clients take deltas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscriptionKey([u8; 32]);

impl SubscriptionKey {
    pub fn of(tenant: &str, queues: &[String], deltas: bool) -> Self {
        let mut h = Sha256::new();
        h.update([u8::from(deltas)]);
        // Lengths first, so that no two lists hash the same bytes.
        for part in std::iter::once(tenant).chain(queues.iter().map(String::as_str)) {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        SubscriptionKey(h.finalize().into())
    }
}

/// What a push is made from. Compared by identity, since each publish,
/// alert change or reload makes a new one.
#[derive(Clone)]
pub struct Inputs {
    /// The tenant's live view.
    pub snapshot: Arc<LiveSnapshot>,
    /// Every active alert.
    pub alerts: Arc<Vec<ActiveAlert>>,
    /// The configuration shown (targets and labels are in the push).
    pub shown: Arc<AppConfig>,
}

impl Inputs {
    fn same(&self, o: &Inputs) -> bool {
        Arc::ptr_eq(&self.snapshot, &o.snapshot)
            && Arc::ptr_eq(&self.alerts, &o.alerts)
            && Arc::ptr_eq(&self.shown, &o.shown)
    }
}

/// Makes the bytes of one subscription's pushes.
pub trait MakePush {
    /// What a delta from `of` compares rows by.
    fn prints(&self, of: &Inputs) -> Prints;
    /// The full snapshot of version `version`.
    fn full(&self, of: &Inputs, version: u64) -> Utf8Bytes;
    /// The delta from `base` to `of`, the version `to` (whose prints are
    /// those of `of`, so no row is hashed again), or `None` when there is
    /// none (`base` was shown under another configuration).
    fn delta(&self, base: &Base, to: &Base, of: &Inputs) -> Option<Utf8Bytes>;
}

/// A version a client holds, as the base of its next delta: its number,
/// its rows' prints and the configuration it was shown under. A few KiB,
/// shared by every client holding it; the live view it was made from is
/// not kept.
#[derive(Clone)]
pub struct Base {
    pub(super) version: u64,
    pub(super) prints: Arc<Prints>,
    pub(super) shown: Arc<AppConfig>,
}

impl Base {
    #[cfg(test)]
    pub(super) fn new(version: u64, prints: Arc<Prints>, shown: Arc<AppConfig>) -> Self {
        Base {
            version,
            prints,
            shown,
        }
    }
}

/// Deltas from versions older than the one before that a version keeps,
/// made when a client that skipped versions first needs one.
const OLDER_BASES: usize = 4;

/// One version of a subscription's push.
struct Version {
    number: u64,
    made_at: Instant,
    inputs: Inputs,
    /// Its rows' prints (none for a subscription without deltas).
    prints: Arc<Prints>,
    /// Serialized when a client first needs it.
    full: Option<Utf8Bytes>,
    /// From the version before; made with the version.
    delta: Option<Utf8Bytes>,
    /// From older versions (base, delta), for clients that skipped some.
    older: Vec<(u64, Option<Utf8Bytes>)>,
}

impl Version {
    /// This version as a client's base.
    fn base(&self) -> Base {
        Base {
            version: self.number,
            prints: self.prints.clone(),
            shown: self.inputs.shown.clone(),
        }
    }

    /// The delta from `held` to this version: shared by every client that
    /// holds the same version.
    fn delta_from(&mut self, held: &Base, make: &impl MakePush) -> Option<Utf8Bytes> {
        if held.version + 1 == self.number {
            return self.delta.clone();
        }
        if let Some((_, d)) = self.older.iter().find(|(b, _)| *b == held.version) {
            return d.clone();
        }
        if self.older.len() >= OLDER_BASES {
            return None;
        }
        let d = make.delta(held, &self.base(), &self.inputs);
        self.older.push((held.version, d.clone()));
        d
    }
}

/// What a client is to do next.
pub enum Next {
    /// Send `text`; the client then holds `held`.
    Send { text: Utf8Bytes, held: Base },
    /// Something changed, but the subscription's next version is not due
    /// before this: ask again then.
    WaitUntil(Instant),
    /// The client holds the latest version and nothing changed since.
    UpToDate,
}

/// A subscription's current version, shared by its clients.
struct Subscription {
    deltas: bool,
    current: Mutex<Option<Version>>,
}

impl Subscription {
    fn current(&self) -> MutexGuard<'_, Option<Version>> {
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One entry: the subscription and how many clients hold it.
struct Entry {
    clients: usize,
    sub: Arc<Subscription>,
}

/// Every subscription held by a client, and its current version.
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

    /// Registers a client of `key` until the lease is dropped; `deltas`
    /// must be what `key` was made with.
    pub fn lease(self: &Arc<Self>, key: SubscriptionKey, deltas: bool) -> Lease {
        let mut entries = self.entries();
        let entry = entries.entry(key).or_insert_with(|| Entry {
            clients: 0,
            sub: Arc::new(Subscription {
                deltas,
                current: Mutex::new(None),
            }),
        });
        entry.clients += 1;
        Lease {
            cache: self.clone(),
            key,
            sub: entry.sub.clone(),
            remote_seq: AtomicU64::new(0),
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
    sub: Arc<Subscription>,
    /// The last view from the views topic pushed to this client (its
    /// sequence number; 0: none).
    remote_seq: AtomicU64,
}

impl Lease {
    /// What a client holding `held` (none: `None`) sends now, given the
    /// latest `inputs`: the subscription makes a new version from them if
    /// they changed and its last version is at least `gap` old.
    pub fn next(
        &self,
        inputs: Inputs,
        held: Option<&Base>,
        now: Instant,
        gap: Duration,
        make: &impl MakePush,
    ) -> Next {
        let mut current = self.sub.current();
        let held_version = held.map(|h| h.version);
        let changed = current.as_ref().is_none_or(|v| !v.inputs.same(&inputs));
        if changed {
            let due = current.as_ref().map_or(now, |v| v.made_at + gap);
            if now >= due {
                *current = Some(self.advance(current.take(), inputs, now, make));
            } else if held_version == current.as_ref().map(|v| v.number) {
                return Next::WaitUntil(due);
            }
        }
        let v = current.as_mut().expect("a version was made above");
        if held_version == Some(v.number) {
            return Next::UpToDate;
        }
        let delta = held
            .filter(|_| self.sub.deltas)
            .and_then(|h| v.delta_from(h, make));
        let text = delta.unwrap_or_else(|| {
            v.full
                .get_or_insert_with(|| make.full(&v.inputs, v.number))
                .clone()
        });
        Next::Send {
            text,
            held: v.base(),
        }
    }

    /// The version after `last`, made from `inputs` at `now`.
    fn advance(
        &self,
        last: Option<Version>,
        inputs: Inputs,
        now: Instant,
        make: &impl MakePush,
    ) -> Version {
        let number = last.as_ref().map_or(1, |v| v.number + 1);
        let prints = Arc::new(if self.sub.deltas {
            make.prints(&inputs)
        } else {
            Prints::default()
        });
        let to = Base {
            version: number,
            prints: prints.clone(),
            shown: inputs.shown.clone(),
        };
        let delta = last
            .filter(|_| self.sub.deltas)
            .and_then(|v| make.delta(&v.base(), &to, &inputs));
        Version {
            number,
            made_at: now,
            inputs,
            prints,
            full: None,
            delta,
            older: Vec::new(),
        }
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
    use std::cell::Cell;

    /// Pushes named by what they are, counting how many were made.
    #[derive(Default)]
    struct Fake {
        fulls: Cell<u32>,
        deltas: Cell<u32>,
    }

    impl MakePush for Fake {
        fn prints(&self, _: &Inputs) -> Prints {
            Prints::default()
        }
        fn full(&self, _: &Inputs, version: u64) -> Utf8Bytes {
            self.fulls.set(self.fulls.get() + 1);
            format!("full {version}").into()
        }
        fn delta(&self, base: &Base, to: &Base, of: &Inputs) -> Option<Utf8Bytes> {
            self.deltas.set(self.deltas.get() + 1);
            Arc::ptr_eq(&base.shown, &of.shown)
                .then(|| format!("delta {}-{}", base.version, to.version).into())
        }
    }

    fn snapshot() -> Arc<LiveSnapshot> {
        Arc::new(LiveSnapshot {
            tenant: "acme".into(),
            tz: "UTC".into(),
            now_ms: 0,
            interval_start_ms: 0,
            interval_end_ms: 0,
            day_start_ms: 0,
            rolling_window_minutes: 15,
            sl_thresholds_s: vec![20],
            queues: vec![],
            agents: vec![],
            freshness: None,
            messages: vec![],
            incomplete: vec![],
        })
    }

    /// A new publish of the same configuration and alerts.
    fn publish(last: &Inputs) -> Inputs {
        Inputs {
            snapshot: snapshot(),
            ..last.clone()
        }
    }

    fn first() -> Inputs {
        Inputs {
            snapshot: snapshot(),
            alerts: Arc::default(),
            shown: Arc::default(),
        }
    }

    const GAP: Duration = Duration::from_millis(250);

    impl std::fmt::Debug for Next {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                Next::Send { text, held } => write!(f, "Send({text}, {})", held.version),
                Next::WaitUntil(t) => write!(f, "WaitUntil({t:?})"),
                Next::UpToDate => write!(f, "UpToDate"),
            }
        }
    }

    /// What a client is sent, and what it then holds.
    fn sent(n: Next) -> (String, Base) {
        match n {
            Next::Send { text, held } => (text.to_string(), held),
            other => panic!("expected a push, got {other:?}"),
        }
    }

    fn waits(n: &Next) -> Option<Instant> {
        match n {
            Next::WaitUntil(t) => Some(*t),
            _ => None,
        }
    }

    /// A client's first push of `first()`, now: when, what, what it holds.
    fn first_push(lease: &Lease, make: &Fake) -> (Instant, Inputs, Base) {
        let t0 = Instant::now();
        let one = first();
        let held = sent(lease.next(one.clone(), None, t0, GAP, make)).1;
        (t0, one, held)
    }

    fn lease(cache: &Arc<PushCache>) -> Lease {
        cache.lease(SubscriptionKey::of("acme", &["q1".into()], true), true)
    }

    #[test]
    fn an_entry_lives_as_long_as_its_clients() {
        let cache = Arc::new(PushCache::default());
        let k = SubscriptionKey::of("acme", &["q1".into()], true);
        let a = cache.lease(k, true);
        let b = cache.lease(k, true);
        let other = cache.lease(SubscriptionKey::of("acme", &[], true), true);
        assert_eq!(cache.len(), 2);
        drop(a);
        assert_eq!(cache.len(), 2);
        drop(b);
        drop(other);
        assert!(cache.is_empty());
    }

    #[test]
    fn keys_tell_lists_and_modes_apart_however_they_are_joined() {
        let k = |t: &str, q: &[&str], d: bool| {
            SubscriptionKey::of(
                t,
                &q.iter()
                    .map(std::string::ToString::to_string)
                    .collect::<Vec<_>>(),
                d,
            )
        };
        assert_ne!(k("a", &["b,c"], true), k("a", &["b", "c"], true));
        assert_ne!(k("ab", &[], true), k("a", &["b"], true));
        assert_ne!(k("a", &["b"], true), k("a", &["b"], false));
        assert_eq!(k("a", &["b"], true), k("a", &["b"], true));
    }

    #[test]
    fn publishes_within_a_push_interval_make_one_version_for_every_client() {
        let cache = Arc::new(PushCache::default());
        let (a, b) = (lease(&cache), lease(&cache));
        let make = Fake::default();
        let t0 = Instant::now();
        let one = first();
        let (text, a1) = sent(a.next(one.clone(), None, t0, GAP, &make));
        assert_eq!((text.as_str(), a1.version), ("full 1", 1));
        // Three publishes within the interval: b still gets version 1 ...
        let mut latest = one;
        let mut b1 = None;
        for ms in [50, 100, 150] {
            latest = publish(&latest);
            let at = t0 + Duration::from_millis(ms);
            let (text, held) = sent(b.next(latest.clone(), None, at, GAP, &make));
            assert_eq!((text.as_str(), held.version), ("full 1", 1));
            b1 = Some(held);
            // ... and a, which has it, waits for the interval's end.
            let next = a.next(latest.clone(), Some(&a1), at, GAP, &make);
            assert_eq!(waits(&next), Some(t0 + GAP));
        }
        assert_eq!(make.fulls.get(), 1, "serialized once for both clients");
        // At the interval's end one version of the latest publish, a delta.
        let at = t0 + GAP;
        let (text, a2) = sent(a.next(latest.clone(), Some(&a1), at, GAP, &make));
        assert_eq!((text.as_str(), a2.version), ("delta 1-2", 2));
        let b1 = b1.unwrap();
        assert_eq!(
            sent(b.next(latest.clone(), Some(&b1), at, GAP, &make)).0,
            "delta 1-2"
        );
        assert_eq!((make.fulls.get(), make.deltas.get()), (1, 1));
        assert!(matches!(
            a.next(latest, Some(&a2), at, GAP, &make),
            Next::UpToDate
        ));
    }

    #[test]
    fn a_client_that_skipped_versions_gets_a_delta_from_the_one_it_holds() {
        let cache = Arc::new(PushCache::default());
        let (fast, slow, slower) = (lease(&cache), lease(&cache), lease(&cache));
        let make = Fake::default();
        let t0 = Instant::now();
        let mut latest = first();
        let mut held = sent(fast.next(latest.clone(), None, t0, GAP, &make)).1;
        let slow_held = sent(slow.next(latest.clone(), None, t0, GAP, &make)).1;
        let slower_held = sent(slower.next(latest.clone(), None, t0, GAP, &make)).1;
        for n in 1..=2 {
            latest = publish(&latest);
            let at = t0 + GAP * n;
            let (text, h) = sent(fast.next(latest.clone(), Some(&held), at, GAP, &make));
            assert_eq!(text, format!("delta {n}-{}", n + 1));
            held = h;
        }
        // The slow ones still hold version 1; the latest is 3. They share
        // one delta from 1 to 3.
        let at = t0 + GAP * 2;
        assert_eq!(
            sent(slow.next(latest.clone(), Some(&slow_held), at, GAP, &make)).0,
            "delta 1-3"
        );
        assert_eq!(
            sent(slower.next(latest, Some(&slower_held), at, GAP, &make)).0,
            "delta 1-3"
        );
        assert_eq!((make.fulls.get(), make.deltas.get()), (1, 3));
    }

    #[test]
    fn a_client_that_holds_nothing_gets_the_full_snapshot() {
        let cache = Arc::new(PushCache::default());
        let (old, new) = (lease(&cache), lease(&cache));
        let make = Fake::default();
        let (t0, one, held) = first_push(&old, &make);
        let two = publish(&one);
        assert_eq!(
            sent(old.next(two.clone(), Some(&held), t0 + GAP, GAP, &make)).0,
            "delta 1-2"
        );
        // A client that connects (or subscribes again) now.
        let (text, held) = sent(new.next(two, None, t0 + GAP, GAP, &make));
        assert_eq!((text.as_str(), held.version), ("full 2", 2));
    }

    #[test]
    fn a_reload_makes_the_held_version_stale_and_the_next_push_full() {
        let cache = Arc::new(PushCache::default());
        let a = lease(&cache);
        let make = Fake::default();
        let (t0, one, held) = first_push(&a, &make);
        // The same snapshot under a reloaded configuration.
        let reloaded = Inputs {
            shown: Arc::default(),
            ..one
        };
        let at = t0 + GAP;
        assert_eq!(
            sent(a.next(reloaded, Some(&held), at, GAP, &make)).0,
            "full 2"
        );
    }

    #[test]
    fn clients_without_deltas_get_full_snapshots_and_no_delta_is_made() {
        let cache = Arc::new(PushCache::default());
        let a = cache.lease(SubscriptionKey::of("acme", &[], false), false);
        let make = Fake::default();
        let (t0, one, held) = first_push(&a, &make);
        let two = publish(&one);
        assert_eq!(
            sent(a.next(two, Some(&held), t0 + GAP, GAP, &make)).0,
            "full 2"
        );
        assert_eq!(make.deltas.get(), 0);
    }

    #[test]
    fn nothing_changed_means_nothing_to_send_however_long_it_was() {
        let cache = Arc::new(PushCache::default());
        let a = lease(&cache);
        let make = Fake::default();
        let (t0, one, held) = first_push(&a, &make);
        assert!(matches!(
            a.next(one, Some(&held), t0 + GAP * 8, GAP, &make),
            Next::UpToDate
        ));
    }
}
