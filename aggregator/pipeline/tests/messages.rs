//! Floor messages through a partition writer (`events.md`, "Floor
//! messages"): kept in the durable snapshot, bounded, never counted.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aggregator::freshness::FreshnessConfig;
use aggregator::messages::MAX_ACTIVE_MESSAGES;
use aggregator::Params;
use tokio::sync::watch;
use wallboard_events::DeadLetterCode;
use wallboard_pipeline::snapshot::SnapshotStore;
use wallboard_pipeline::writer::{self, unix_ms, WriterConfig, WriterHooks};
use wallboard_pipeline::{Inbox, PartitionStatus, PartitionView, Record};

fn config(snapshots: Option<SnapshotStore>) -> WriterConfig {
    WriterConfig {
        partition: 0,
        params: Params::default().into(),
        allowed_lateness_ms: 3_600_000,
        max_future_ms: Some(300_000),
        freshness: FreshnessConfig::default(),
        publish_interval: Duration::from_millis(10),
        snapshot_interval: Duration::from_secs(3600),
        snapshots,
    }
}

struct Recorded(Arc<Mutex<Vec<(i64, String, String)>>>);

impl WriterHooks for Recorded {
    fn dead_letter(&mut self, record: Record<'_>, code: DeadLetterCode, reason: &str) {
        let mut d = self.0.lock().unwrap();
        d.push((record.offset, code.as_str().to_owned(), reason.to_owned()));
    }
}

fn post(offset: i64, id: &str, ts: i64, ttl_ms: i64) -> (i64, String) {
    let json = format!(
        r#"{{"v":1,"id":"msg-{id}-post","ts":{ts},"tenant":"acme","kind":"floor_message","message":"{id}","action":"post","text":"<i>{id}</i> 午餐","severity":"critical","expires_ms":{}}}"#,
        ts + ttl_ms
    );
    (offset, json)
}

/// Runs a writer over `records` and stops it: its last view and the dead
/// letters.
fn run(
    snapshots: Option<SnapshotStore>,
    records: Vec<(i64, String)>,
) -> (Arc<PartitionView>, Vec<(i64, String, String)>) {
    let dead = Arc::new(Mutex::new(Vec::new()));
    let (changed, _rx) = watch::channel(0);
    let w = writer::spawn(config(snapshots), Box::new(Recorded(dead.clone())), changed);
    if !records.is_empty() {
        let records = records.into_iter().collect();
        w.handle.inbox.send(Inbox::Records(records)).unwrap();
    }
    w.handle.inbox.send(Inbox::Stop).unwrap();
    w.thread.join().unwrap();
    let view = w.handle.view.borrow().clone();
    let dead = dead.lock().unwrap().clone();
    (view, dead)
}

fn ids(view: &PartitionView) -> Vec<String> {
    view.messages
        .get("acme")
        .map(|m| m.iter().map(|m| m.id.clone()).collect())
        .unwrap_or_default()
}

#[test]
fn messages_survive_a_restart_from_the_snapshot() {
    let dir = std::env::temp_dir().join(format!("wb-messages-{}", std::process::id()));
    let store = SnapshotStore::new(&dir, "t");
    let now = unix_ms();
    let (view, dead) = run(
        Some(store.clone()),
        vec![
            post(0, "m1", now, 3_600_000),
            post(1, "m2", now + 1, 3_600_000),
        ],
    );
    assert!(dead.is_empty(), "{dead:?}");
    assert_eq!(ids(&view), ["m2", "m1"]);
    assert_eq!(view.status.floor_messages, 2);
    // A message never creates a tenant's live view or counts as an event.
    assert!(view.tenants.is_empty());
    assert_eq!(view.status.applied, 0);

    let (restored, _) = run(Some(store), vec![]);
    assert_eq!(ids(&restored), ["m2", "m1"], "kept by the snapshot");
    assert_eq!(restored.messages["acme"][0].text, "<i>m2</i> 午餐");
    assert_eq!(restored.status.floor_messages, 2);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn an_expired_message_is_not_in_the_view() {
    let now = unix_ms();
    // Posted an hour ago for a minute: applied, but gone at the publish.
    let (view, dead) = run(None, vec![post(0, "old", now - 3_600_000, 60_000)]);
    assert!(dead.is_empty(), "{dead:?}");
    assert!(ids(&view).is_empty());
}

#[test]
fn a_full_board_dead_letters_the_next_new_message() {
    let now = unix_ms();
    let n = i64::try_from(MAX_ACTIVE_MESSAGES).unwrap();
    let records = (0..=n)
        .map(|i| post(i, &format!("m{i}"), now, 3_600_000))
        .collect();
    let (view, dead) = run(None, records);
    assert_eq!(ids(&view).len(), MAX_ACTIVE_MESSAGES);
    assert_eq!(dead.len(), 1, "{dead:?}");
    let (offset, code, reason) = &dead[0];
    assert_eq!(
        (*offset, code.as_str()),
        (n, DeadLetterCode::MessagesFull.as_str())
    );
    assert!(
        reason.contains("\"acme\"") && reason.contains(&format!("\"m{n}\"")),
        "{reason}"
    );
    let status: &PartitionStatus = &view.status;
    assert_eq!(
        status
            .rejected_by_reason
            .get(DeadLetterCode::MessagesFull.as_str()),
        Some(&1)
    );
}
