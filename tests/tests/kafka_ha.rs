//! Several `wallboard serve` instances on a real broker: state restored
//! from the changelog topic when the local files and the log's first
//! records are gone, failover after `kill -9`, and partitions rebuilt from
//! a truncated log marked incomplete (`docs/architecture.md`, "Scaling
//! out").
//!
//! Run by `scripts/test.sh`, which starts the broker and sets
//! `WALLBOARD_TEST_KAFKA`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use serde_json::Value;

use tests::{
    block_on, get_json, get_text, ingest_jsonl, kafka, simulated_day, unique, wait_for, wallboard,
    Proc, ServeArgs,
};

const WAIT: Duration = Duration::from_secs(90);

/// The session timeout the instances run with (`kafka.session_timeout_ms`).
const SESSION_TIMEOUT: Duration = Duration::from_secs(6);

/// The documented failover time after a death is noticed (BENCHMARKS.md).
const FAILOVER: Duration = Duration::from_secs(10);

/// One topic and group shared by several instances.
struct Cluster {
    topic: String,
    group: String,
}

/// One `wallboard serve` of a cluster: its own port and state directory.
struct Instance {
    port: u16,
    state: PathBuf,
    proc: Option<Proc>,
}

impl Cluster {
    fn new() -> Self {
        Cluster {
            topic: unique("ha-events"),
            group: unique("ha-group"),
        }
    }

    fn start(&self) -> Instance {
        let mut i = Instance {
            port: tests::free_port(),
            state: std::env::temp_dir().join(unique("ha-state")),
            proc: None,
        };
        self.restart(&mut i);
        i
    }

    fn restart(&self, i: &mut Instance) {
        let args = ServeArgs::new(&self.topic, &self.group, i.port, &i.state).with(&[
            "--interval",
            "30",
            "--tz",
            "UTC",
        ]);
        let envs = [
            ("WALLBOARD_PIPELINE__SNAPSHOT_INTERVAL_S", "1"),
            ("WALLBOARD_KAFKA__SESSION_TIMEOUT_MS", "6000"),
            ("WALLBOARD_KAFKA__HEARTBEAT_INTERVAL_MS", "1000"),
            // Snapshots of several chunks, as large states have.
            ("WALLBOARD_KAFKA__CHANGELOG_CHUNK_BYTES", "4096"),
        ];
        i.proc = Some(args.spawn(&envs));
    }

    fn ingest(&self, file: &Path) {
        ingest_jsonl(file, &self.topic, &[]);
    }

    /// Deletes the records of `partition` before `offset`, as retention would.
    fn delete_before(&self, partition: i32, offset: i64) {
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", kafka())
            .create()
            .unwrap();
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&self.topic, partition, Offset::Offset(offset))
            .unwrap();
        block_on(admin.delete_records(&tpl, &AdminOptions::new())).expect("delete records");
        assert_eq!(self.log_start(partition), offset);
    }

    fn log_start(&self, partition: i32) -> i64 {
        let c: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", kafka())
            .create()
            .unwrap();
        let (low, _) = c
            .fetch_watermarks(&self.topic, partition, Duration::from_secs(10))
            .unwrap();
        low
    }
}

impl Instance {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn status(&self) -> Option<Value> {
        get_json(&self.url("/api/v1/status"))
    }

    fn partitions(&self) -> Vec<Value> {
        self.status()
            .and_then(|s| s["partitions"].as_array().cloned())
            .unwrap_or_default()
    }

    fn report(&self, tenant: &str) -> Option<String> {
        get_text(&self.url(&format!("/api/v1/tenants/{tenant}/report")))
    }

    fn tenants(&self) -> Vec<String> {
        get_json(&self.url("/api/v1/tenants"))
            .and_then(|v| {
                let list = v.get("tenants").cloned().unwrap_or(v);
                serde_json::from_value::<Vec<Value>>(list).ok()
            })
            .unwrap_or_default()
            .iter()
            .filter_map(|t| t.as_str().or(t["tenant"].as_str()).map(str::to_owned))
            .collect()
    }

    /// The tenants whose state this instance holds (the others it serves
    /// from the views topic: their live view has an `origin`).
    fn owned(&self) -> Vec<String> {
        self.tenants()
            .into_iter()
            .filter(|t| {
                get_json(&self.url(&format!("/api/v1/tenants/{t}/live")))
                    .is_some_and(|l| l.get("origin").is_none())
            })
            .collect()
    }

    /// `kill -9`, and forget the state directory.
    fn kill(&mut self, forget_state: bool) {
        if let Some(mut p) = self.proc.take() {
            p.0.kill().expect("SIGKILL");
            p.0.wait().unwrap();
        }
        if forget_state {
            let _ = std::fs::remove_dir_all(&self.state);
        }
    }
}

fn n(v: &Value, key: &str) -> i64 {
    v[key].as_i64().unwrap_or_default()
}

/// Partitions whose state includes every record up to the log's end and
/// whose snapshot (file and changelog) covers it.
fn settled(parts: &[Value], ends: &[(i32, i64)]) -> bool {
    ends.iter().all(|(p, end)| {
        parts.iter().any(|st| {
            n(st, "partition") == i64::from(*p)
                && n(st, "next_offset") == *end
                && st["snapshot_offset"].as_i64() == Some(*end)
                && n(st, "changelog_failures") == 0
        })
    })
}

fn log_ends(topic: &str) -> Vec<(i32, i64)> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", kafka())
        .create()
        .unwrap();
    let md = c
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    md.topics()[0]
        .partitions()
        .iter()
        .map(|p| {
            let (_, high) = c
                .fetch_watermarks(topic, p.id(), Duration::from_secs(10))
                .unwrap();
            (p.id(), high)
        })
        .filter(|(_, high)| *high > 0)
        .collect()
}

fn replay(file: &Path, tenant: &str) -> String {
    let out = wallboard(&[
        "replay",
        file.to_str().unwrap(),
        "--tenant",
        tenant,
        "--interval",
        "30",
        "--tz",
        "UTC",
    ]);
    String::from_utf8(out.stdout).unwrap()
}

/// A day of `tenants`, one simulated centre each, in one file.
fn trace(tenants: &[&str]) -> PathBuf {
    simulated_day(tenants, 20, 6, 3)
}

/// The partition holding `tenant`'s events (the one with records, for one tenant).
fn only_partition(ends: &[(i32, i64)]) -> (i32, i64) {
    assert_eq!(ends.len(), 1, "one tenant, one partition: {ends:?}");
    ends[0]
}

#[test]
#[ignore = "needs a Kafka broker: run through scripts/test.sh"]
fn state_comes_back_from_the_changelog_without_files_or_the_log_start() {
    let c = Cluster::new();
    let file = trace(&["acme"]);
    c.ingest(&file);
    let ends = log_ends(&c.topic);
    let (partition, end) = only_partition(&ends);
    let mut a = c.start();
    wait_for("every record applied and in the changelog", WAIT, || {
        settled(&a.partitions(), &ends).then_some(())
    });
    a.kill(true);
    // Retention took the first records: replaying the log could not work.
    c.delete_before(partition, end / 2);
    let b = c.start();
    let st = wait_for("restored from the changelog", WAIT, || {
        let parts = b.partitions();
        let p = parts
            .into_iter()
            .find(|p| n(p, "partition") == i64::from(partition))?;
        (p["restored_from"] == "changelog" && n(&p, "next_offset") == end).then_some(p)
    });
    assert_eq!(st["incomplete"], Value::Array(vec![]), "nothing was lost");
    let got = b.report("acme").expect("report");
    assert_eq!(got, replay(&file, "acme"));
    assert!(!got.contains("\"incomplete\""));
}

#[test]
#[ignore = "needs a Kafka broker: run through scripts/test.sh"]
fn a_killed_instance_s_tenants_come_back_on_the_other_within_the_failover_time() {
    let tenants = ["t1", "t2", "t3", "t4", "t5", "t6"];
    let c = Cluster::new();
    let file = trace(&tenants);
    c.ingest(&file);
    let ends = log_ends(&c.topic);
    assert!(ends.len() >= 2, "tenants spread over partitions: {ends:?}");
    let (mut a, mut b) = (c.start(), c.start());
    wait_for("both instances own partitions, all settled", WAIT, || {
        let (pa, pb) = (a.partitions(), b.partitions());
        let both: Vec<Value> = pa.iter().chain(&pb).cloned().collect();
        (!pa.is_empty() && !pb.is_empty() && settled(&both, &ends)).then_some(())
    });
    // The victim is an instance that serves tenants (one may own only an
    // empty partition).
    if a.owned().is_empty() {
        std::mem::swap(&mut a, &mut b);
    }
    let moved = a.owned();
    assert!(!moved.is_empty(), "an instance serves some tenants");
    // Where the survivor's own partitions came from (never its file: its
    // state directory was empty when it started).
    let kept: Vec<(i64, Value)> = b
        .partitions()
        .iter()
        .map(|p| (n(p, "partition"), p["restored_from"].clone()))
        .collect();
    assert!(kept.iter().all(|(_, from)| from != "file"), "{kept:?}");
    assert!(
        moved
            .iter()
            .all(|t| get_json(&b.url(&format!("/api/v1/tenants/{t}/live")))
                .is_some_and(|l| l.get("origin").is_some())),
        "the survivor serves them from the views topic only"
    );
    a.kill(true);
    let died = Instant::now();
    wait_for(
        "the dead instance's tenants served by the survivor",
        SESSION_TIMEOUT + FAILOVER,
        || moved.iter().all(|t| b.report(t).is_some()).then_some(()),
    );
    eprintln!("failover: tenants back {:?} after kill -9", died.elapsed());
    // Cooperative: the survivor's own partitions were never stopped (a
    // restarted writer would have restored from its file).
    for p in b.partitions() {
        match kept.iter().find(|(k, _)| *k == n(&p, "partition")) {
            Some((_, from)) => assert_eq!(&p["restored_from"], from, "{p}"),
            None => assert_eq!(p["restored_from"], "changelog", "{p}"),
        }
    }
    for t in tenants {
        assert_eq!(
            b.report(t).as_deref(),
            Some(replay(&file, t).as_str()),
            "{t}"
        );
    }
}

#[test]
#[ignore = "needs a Kafka broker: run through scripts/test.sh"]
fn a_rebuild_from_a_truncated_log_without_changelog_is_marked_incomplete() {
    let c = Cluster::new();
    let file = trace(&["acme"]);
    c.ingest(&file);
    let (partition, end) = only_partition(&log_ends(&c.topic));
    let cut = end / 3;
    c.delete_before(partition, cut);
    let a = c.start();
    let st = wait_for("the rest of the log applied", WAIT, || {
        let p = a
            .partitions()
            .into_iter()
            .find(|p| n(p, "partition") == i64::from(partition))?;
        (n(&p, "next_offset") == end).then_some(p)
    });
    let gap = &st["incomplete"][0];
    assert_eq!((n(gap, "from_offset"), n(gap, "to_offset")), (0, cut));
    assert_eq!(gap["reason"], "log_truncated");
    let first_ts = gap["first_ts_after"]
        .as_i64()
        .expect("an event after the gap");
    let report: Value = serde_json::from_str(&a.report("acme").unwrap()).unwrap();
    let marked = &report["incomplete"][0];
    assert_eq!(marked["start_ms"], Value::Null, "no state before the gap");
    let end_ms = marked["end_ms"].as_i64().unwrap();
    assert!(
        end_ms > first_ts && end_ms - first_ts <= 30 * 60_000,
        "{marked}"
    );
    assert_eq!(marked["reason"], "log_truncated");
    // The board's feed carries it too (the note on the board).
    let live = get_json(&a.url("/api/v1/tenants/acme/live")).unwrap();
    assert_eq!(live["incomplete"], report["incomplete"]);
    let metrics = get_text(&a.url("/metrics")).unwrap();
    let line = format!("wallboard_incomplete_ranges{{partition=\"{partition}\"}} 1");
    assert!(metrics.contains(&line), "{line} in /metrics");
}
