//! Every node serves every tenant (`docs/architecture.md`, "Every node
//! serves every tenant"): three `wallboard serve` instances in one group on
//! a 6-partition topic with 12 tenants in different time zones and
//! intervals (`[[tenants]]`). Each instance answers every tenant's
//! live view, report and WebSocket; after `kill -9` of one, its tenants go
//! stale on the survivors and come back, and the alert rule fires once per
//! tenant throughout.
//!
//! Run by `scripts/test.sh`, which starts the broker and sets
//! `WALLBOARD_TEST_KAFKA`.

// An end-to-end scenario reads best as one story, start to finish.
#![allow(clippy::too_many_lines)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use serde_json::Value;

use tests::{
    block_on, free_port, get_json, kafka, simulated_day_in_zones, spawn, unique, wait_for,
    wallboard, Proc,
};

const WAIT: Duration = Duration::from_secs(120);

/// Session timeout + the documented failover time + a push interval and
/// the views topic's latency.
const BACK_WITHIN: Duration = Duration::from_secs(6 + 10 + 4);

const TENANTS: usize = 12;

/// The tenants' centres: id, IANA zone, interval minutes (`None`: not
/// listed in `[[tenants]]`, so `[metrics]`: UTC, 30 minutes), and the
/// zone's UTC offset on the simulated day (2026-11-23).
const CENTRES: [(&str, &str, Option<u32>, &str); TENANTS] = [
    ("t01", "Asia/Shanghai", Some(30), "+08:00"),
    ("t02", "America/New_York", Some(15), "-05:00"),
    ("t03", "Europe/Berlin", Some(60), "+01:00"),
    // UTC+5:30 and, in November, UTC+10:30 (daylight saving time): their
    // local hours start at half past in UTC.
    ("t04", "Asia/Kolkata", Some(60), "+05:30"),
    ("t05", "Australia/Adelaide", Some(60), "+10:30"),
    ("t06", "America/Sao_Paulo", Some(30), "-03:00"),
    ("t07", "UTC", None, "+00:00"),
    ("t08", "Asia/Kolkata", Some(15), "+05:30"),
    ("t09", "Australia/Adelaide", Some(30), "+10:30"),
    ("t10", "America/New_York", Some(60), "-05:00"),
    ("t11", "Asia/Shanghai", Some(15), "+08:00"),
    ("t12", "Europe/Berlin", Some(30), "+01:00"),
];

/// The `[[tenants]]` of `CENTRES`, as every instance and the replay read
/// them; `t01` also labels its `sales` queue (`OWN_LABEL`).
fn tenants_toml() -> String {
    let own_queue = format!("[[tenants.queues]]\nname = \"sales\"\nlabel = \"{OWN_LABEL}\"\n");
    CENTRES
        .iter()
        .filter_map(|(id, tz, interval, _)| {
            let queues = if *id == "t01" { own_queue.as_str() } else { "" };
            Some(format!(
                "[[tenants]]\nid = \"{id}\"\ntz = \"{tz}\"\ninterval_minutes = {}\n{queues}\n",
                (*interval)?
            ))
        })
        .collect()
}

/// The label `t01` gives its `sales` queue in its own `[[tenants.queues]]`.
const OWN_LABEL: &str = "Shanghai sales";

/// The label `node` shows for `tenant`'s `sales` queue (`GET …/queues`).
fn sales_label(node: &Instance, tenant: &str) -> Value {
    let doc = node
        .json(&format!("/api/v1/tenants/{tenant}/queues"))
        .unwrap_or_else(|| panic!("{tenant}'s queues on {}", node.port));
    let rows = doc["queues"].as_array().cloned().unwrap_or_default();
    let sales = rows
        .into_iter()
        .find(|r| r["queue"] == "sales")
        .unwrap_or_else(|| panic!("{tenant} has no sales queue: {doc}"));
    sales["target"]["label"].clone()
}

/// The first row of `report` starts on the tenant's own grid: its zone's
/// offset, a local minute on its interval, and for an hour in a zone half
/// an hour off UTC, half past in UTC.
fn assert_in_own_zone(tenant: &str, report: &str) {
    let (_, tz, interval, offset) = CENTRES.iter().find(|c| c.0 == tenant).unwrap();
    let interval = interval.unwrap_or(30);
    let r: Value = serde_json::from_str(report).unwrap();
    assert_eq!(r["tz"], *tz, "{tenant}");
    assert_eq!(r["interval_minutes"], interval, "{tenant}");
    let first = &r["queues"][0];
    let start = first["start"].as_str().expect("a first row");
    assert!(start.ends_with(offset), "{tenant}: {start} is not in {tz}");
    // `YYYY-MM-DDTHH:MM:SS+hh:mm`: the local minute.
    let minute: u32 = start[14..16].parse().unwrap();
    assert_eq!(minute % interval, 0, "{tenant}: {start}");
    let utc_minute = first["start_ms"].as_i64().unwrap() / 60_000 % 60;
    if interval == 60 && offset.ends_with(":30") {
        assert_eq!(utc_minute, 30, "{tenant}: {start} is :30 past in UTC");
    }
}

/// Firing notifications received at the webhook: (rule, tenant, subject).
type Firings = Arc<Mutex<Vec<(String, String, String)>>>;

/// A local webhook receiver that records the firing notifications.
fn receiver() -> (u16, Firings) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got: Firings = Arc::default();
    let sink = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut r = BufReader::new(stream);
            let mut len = 0usize;
            let mut line = String::new();
            while r.read_line(&mut line).is_ok_and(|n| n > 0) {
                let l = line.trim_end().to_owned();
                line.clear();
                if l.is_empty() {
                    break;
                }
                if let Some((k, v)) = l.split_once(':') {
                    if k.eq_ignore_ascii_case("content-length") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0; len];
            if r.read_exact(&mut body).is_ok() {
                let v: Value = serde_json::from_slice(&body).unwrap_or_default();
                if v["status"] == "firing" {
                    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
                    sink.lock()
                        .unwrap()
                        .push((s("rule"), s("tenant"), s("subject")));
                }
            }
            let _ = r
                .get_mut()
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        }
    });
    (port, got)
}

/// One `wallboard serve` of the cluster.
struct Instance {
    port: u16,
    proc: Option<Proc>,
}

impl Instance {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn json(&self, path: &str) -> Option<Value> {
        get_json(&self.url(path))
    }

    fn live(&self, tenant: &str) -> Option<Value> {
        self.json(&format!("/api/v1/tenants/{tenant}/live"))
    }

    fn report(&self, tenant: &str, csv: bool) -> reqwest::blocking::Response {
        let q = if csv { "?format=csv" } else { "" };
        reqwest::blocking::get(self.url(&format!("/api/v1/tenants/{tenant}/report{q}")))
            .expect("the instance answers")
    }

    fn tenants(&self) -> Vec<String> {
        self.json("/api/v1/tenants")
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default()
    }

    /// The tenants whose state this instance holds (their live view has
    /// no `origin`).
    fn owned(&self) -> Vec<String> {
        self.tenants()
            .into_iter()
            .filter(|t| self.live(t).is_some_and(|l| l.get("origin").is_none()))
            .collect()
    }

    fn kill(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.0.kill().expect("SIGKILL");
            p.0.wait().unwrap();
        }
    }
}

fn start(topic: &str, group: &str, config: &Path) -> Instance {
    let port = free_port();
    let (broker, listen) = (kafka(), format!("127.0.0.1:{port}"));
    let state = std::env::temp_dir().join(unique("views-state"));
    let args = [
        "serve",
        "--config",
        config.to_str().unwrap(),
        "--kafka",
        &broker,
        "--topic",
        topic,
        "--group",
        group,
        "--listen",
        &listen,
        "--state-dir",
        state.to_str().unwrap(),
        "--interval",
        "30",
        "--tz",
        "UTC",
    ];
    let envs = [
        ("WALLBOARD_PIPELINE__SNAPSHOT_INTERVAL_S", "1"),
        ("WALLBOARD_KAFKA__SESSION_TIMEOUT_MS", "6000"),
        ("WALLBOARD_KAFKA__HEARTBEAT_INTERVAL_MS", "1000"),
    ];
    Instance {
        port,
        proc: Some(spawn(&args, &envs)),
    }
}

/// A record no instance can read as a view (not JSON).
fn produce_bad_view(topic: &str) {
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    let p: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", kafka())
        .create()
        .unwrap();
    p.send(
        BaseRecord::to(topic)
            .key("no-such-tenant")
            .payload("{not a view"),
    )
    .map_err(|(e, _)| e)
    .unwrap();
    p.flush(Duration::from_secs(10)).unwrap();
}

fn create_topic(topic: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", kafka())
        .create()
        .unwrap();
    let t = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    let r = block_on(admin.create_topics([&t], &AdminOptions::new())).expect("create topic");
    assert!(r.iter().all(Result::is_ok), "{r:?}");
}

/// A few hours of each tenant, one simulated centre each in its own zone,
/// in one file.
fn trace() -> PathBuf {
    let zoned: Vec<(&str, &str)> = CENTRES.iter().map(|c| (c.0, c.1)).collect();
    simulated_day_in_zones(&zoned, 6, 3, 11)
}

/// The reference report: `wallboard replay` with the instances' config.
fn replay(file: &Path, config: &Path, tenant: &str, csv: bool) -> String {
    let mut args = vec![
        "replay",
        file.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--tenant",
        tenant,
        "--interval",
        "30",
        "--tz",
        "UTC",
    ];
    if csv {
        args.extend(["--output", "csv"]);
    }
    String::from_utf8(wallboard(&args).stdout).unwrap()
}

/// A WebSocket client of `tenant` on `port`, recording when each push
/// arrived and where its view came from (`origin.owner_url`, `None` for the
/// instance's own).
type Pushes = Arc<Mutex<Vec<(Instant, Option<String>)>>>;

fn watch_ws(port: u16, tenant: &str) -> Pushes {
    let (mut ws, _) = tungstenite::connect(format!("ws://127.0.0.1:{port}/ws?tenant={tenant}"))
        .expect("WebSocket");
    let got: Pushes = Arc::default();
    let sink = got.clone();
    std::thread::spawn(move || {
        while let Ok(msg) = ws.read() {
            let Ok(text) = msg.to_text() else { continue };
            let v: Value = serde_json::from_str(text).unwrap_or_default();
            if v["type"] == "snapshot" && v["snapshot"].is_object() {
                let owner = v["origin"]["owner_url"].as_str().map(str::to_owned);
                sink.lock().unwrap().push((Instant::now(), owner));
            }
        }
    });
    got
}

#[test]
#[ignore = "needs a Kafka broker: run through scripts/test.sh"]
fn every_instance_serves_every_tenant_and_a_dead_owner_s_tenants_come_back() {
    let tenants: Vec<String> = CENTRES.iter().map(|c| c.0.to_owned()).collect();
    let (topic, group) = (unique("views-events"), unique("views-group"));
    create_topic(&topic, 6);
    let file = trace();
    let dlq = format!("{topic}.dlq");
    let broker = kafka();
    wallboard(&[
        "ingest",
        "jsonl",
        file.to_str().unwrap(),
        "--kafka",
        &broker,
        "--topic",
        &topic,
        "--dlq-topic",
        &dlq,
    ]);

    // One rule that holds for every tenant once its trace is in: it must
    // be delivered once per tenant, not once per instance.
    let (hook_port, firings) = receiver();
    let dir = std::env::temp_dir().join(unique("views-config"));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("wallboard.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[[alerts]]
name = "staffed"
metric = "agents_available"
queue = "*"
op = ">="
threshold = 0
for_s = 2
cooldown_s = 3600
channels = ["hook"]

[[channels]]
name = "hook"
kind = "webhook"
url = "http://127.0.0.1:{hook_port}/hook"

{}"#,
            tenants_toml()
        ),
    )
    .unwrap();
    let mut nodes: Vec<Instance> = (0..3).map(|_| start(&topic, &group, &config)).collect();

    // Every instance lists every tenant, and together they own them all.
    wait_for("every tenant on every instance", WAIT, || {
        let all = nodes.iter().all(|n| n.tenants().len() == TENANTS);
        let mut owned: Vec<String> = nodes.iter().flat_map(Instance::owned).collect();
        owned.sort();
        (all && owned == tenants).then_some(())
    });
    let replays: BTreeMap<&str, String> = tenants
        .iter()
        .map(|t| (t.as_str(), replay(&file, &config, t, false)))
        .collect();
    for (t, r) in &replays {
        assert_in_own_zone(t, r);
    }
    for n in &nodes {
        for t in &tenants {
            let live = n
                .live(t)
                .unwrap_or_else(|| panic!("{t} live on {}", n.port));
            assert_eq!(live["tenant"], t.as_str());
            if let Some(origin) = live.get("origin") {
                assert_ne!(origin["owner_url"], n.base().as_str(), "{origin}");
                assert!(origin["age_ms"].as_i64().is_some(), "{origin}");
            }
            // Eventually equal: the owner may still be catching up.
            wait_for(&format!("{t}'s report on {}", n.port), WAIT, || {
                let r = n.report(t, false);
                (r.status() == 200)
                    .then(|| r.text().unwrap())
                    .filter(|r| r == &replays[t.as_str()])
            });
        }
    }
    // Every instance shows a tenant's own queue settings, owner or not.
    for n in &nodes {
        assert_eq!(sales_label(n, "t01"), OWN_LABEL, "on {}", n.port);
        assert_ne!(sales_label(n, "t02"), OWN_LABEL, "on {}", n.port);
    }
    // Every instance pushes a tenant it does not own over the WebSocket.
    for n in &nodes {
        let owned = n.owned();
        let t = tenants
            .iter()
            .find(|t| !owned.contains(t))
            .expect("a remote tenant");
        let pushes = watch_ws(n.port, t);
        wait_for(&format!("{t} pushed by {}", n.port), WAIT, || {
            pushes
                .lock()
                .unwrap()
                .iter()
                .any(|(_, o)| o.is_some())
                .then_some(())
        });
    }
    // A forwarded request is never forwarded again.
    let (n, t) = nodes
        .iter()
        .find_map(|n| Some((n, tenants.iter().find(|t| !n.owned().contains(t))?)))
        .unwrap();
    let looped = reqwest::blocking::Client::new()
        .get(n.url(&format!("/api/v1/tenants/{t}/report")))
        .header("X-Wallboard-Forwarded", "1")
        .send()
        .unwrap();
    assert_eq!(looped.status(), 503);
    assert_eq!(looped.headers()["retry-after"], "2");
    // A bad record on the views topic is counted and skipped.
    produce_bad_view(&format!("{topic}-views"));
    for n in &nodes {
        wait_for("the bad view counted", WAIT, || {
            let m = tests::get_text(&n.url("/metrics"))?;
            m.contains("wallboard_views_rejected_total 1").then_some(())
        });
    }
    // The CSV is forwarded too, as it is.
    let remote = nodes
        .iter()
        .find_map(|n| {
            let t = tenants.iter().find(|t| !n.owned().contains(t))?;
            Some((n, t.clone()))
        })
        .expect("a tenant some instance does not own");
    let csv = remote.0.report(&remote.1, true);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert_eq!(csv.text().unwrap(), replay(&file, &config, &remote.1, true));
    // The agent scorecard is the owner's too, forwarded like the report.
    let path = format!("/api/v1/tenants/{}/agents/scorecard?period=week", remote.1);
    let owner = nodes
        .iter()
        .find(|n| n.owned().contains(&remote.1))
        .expect("the tenant's owner");
    let card = remote.0.json(&path).expect("a forwarded scorecard");
    assert_eq!(card["tenant"], remote.1.as_str());
    assert_eq!(Some(card), owner.json(&path));

    // Alerts: fired once per tenant, and shown by every instance.
    wait_for("the rule firing for every tenant everywhere", WAIT, || {
        nodes
            .iter()
            .all(|n| {
                tenants.iter().all(|t| {
                    n.json(&format!("/api/v1/tenants/{t}/alerts"))
                        .is_some_and(|a| a["alerts"].as_array().is_some_and(|l| l.len() == 1))
                })
            })
            .then_some(())
    });
    let once: Vec<String> = {
        let mut f: Vec<String> = firings
            .lock()
            .unwrap()
            .iter()
            .map(|f| f.1.clone())
            .collect();
        f.sort();
        f
    };
    assert_eq!(once, tenants, "one firing per tenant");
    let since = |n: &Instance, t: &str| {
        n.json(&format!("/api/v1/tenants/{t}/alerts"))
            .and_then(|a| a["alerts"][0]["since_ms"].as_i64())
    };
    // An acknowledgement on a non-owner reaches the owner's alert engine,
    // and its view brings it back to every instance.
    let acked = reqwest::blocking::Client::new()
        .post(n.url(&format!("/api/v1/tenants/{t}/alerts/acknowledge")))
        .json(&serde_json::json!({"rule": "staffed", "subject": "*"}))
        .send()
        .unwrap();
    assert_eq!(acked.status(), 200);
    assert_eq!(acked.json::<Value>().unwrap()["acknowledged"], true);
    for m in &nodes {
        wait_for("the acknowledgement everywhere", WAIT, || {
            let a = m.json(&format!("/api/v1/tenants/{t}/alerts"))?;
            (a["alerts"][0]["acknowledged"] == true).then_some(())
        });
    }

    // The victim owns tenants; a survivor watches one of them.
    nodes.sort_by_key(|n| std::cmp::Reverse(n.owned().len()));
    let moved = nodes[0].owned();
    assert!(!moved.is_empty());
    let watched = moved[0].clone();
    let victim_url = nodes[0].base();
    let fired_at: BTreeMap<String, i64> = moved
        .iter()
        .map(|t| (t.clone(), since(&nodes[0], t).expect("firing")))
        .collect();
    let pushes = watch_ws(nodes[1].port, &watched);
    wait_for("pushes from the owner's views", WAIT, || {
        let p = pushes.lock().unwrap();
        (p.len() >= 2
            && p.iter()
                .all(|(_, o)| o.as_deref() == Some(victim_url.as_str())))
        .then_some(())
    });
    nodes[0].kill();
    let died = Instant::now();
    // Until its partitions are reassigned, the dead owner cannot answer:
    // 503 with Retry-After, not a hang or a 404.
    let r = nodes[1].report(&moved[moved.len() - 1], false);
    if !nodes[1].owned().contains(&moved[moved.len() - 1]) {
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["retry-after"], "2");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }

    // Stale: no push for longer than the board's 5 s, then fresh from the
    // new owner within the documented time.
    wait_for(
        "the dead owner's tenant back on the survivor",
        BACK_WITHIN,
        || {
            let p = pushes.lock().unwrap();
            p.iter()
                .any(|(_, o)| o.as_deref() != Some(victim_url.as_str()))
                .then_some(())
        },
    );
    let back = died.elapsed();
    {
        let p = pushes.lock().unwrap();
        let last_old = p
            .iter()
            .filter(|(_, o)| o.as_deref() == Some(victim_url.as_str()))
            .map(|(at, _)| *at)
            .max()
            .unwrap();
        let first_new = p.iter().find(|(at, _)| *at > last_old).unwrap().0;
        assert!(
            first_new - last_old > Duration::from_secs(5),
            "the board went stale: {:?} without a push",
            first_new - last_old
        );
    }
    eprintln!("views: {watched} back on the survivor {back:?} after kill -9");
    let survivors = &nodes[1..];
    for t in &moved {
        wait_for(&format!("{t} served by a survivor"), BACK_WITHIN, || {
            survivors
                .iter()
                .all(|n| {
                    n.live(t).is_some_and(|l| {
                        l["origin"]["owner_url"] != victim_url.as_str()
                            && l["origin"]["age_ms"].as_i64().unwrap_or(0) < 3000
                    })
                })
                .then_some(())
        });
    }
    for n in survivors {
        for t in &tenants {
            wait_for(
                &format!("{t}'s report on {} after the kill", n.port),
                WAIT,
                || {
                    let r = n.report(t, false);
                    (r.status() == 200)
                        .then(|| r.text().unwrap())
                        .filter(|r| r == &replays[t.as_str()])
                },
            );
        }
    }
    // The new owners took the firing alerts over: evaluated by them (a
    // value again), firing since the first owner fired them (a new firing
    // would start now and be announced again).
    wait_for(
        "the moved tenants' alerts evaluated by their new owners",
        WAIT,
        || {
            moved
                .iter()
                .all(|t| {
                    survivors.iter().any(|n| {
                        n.owned().contains(t)
                            && n.json(&format!("/api/v1/tenants/{t}/alerts"))
                                .is_some_and(|a| a["alerts"][0]["value"].is_number())
                    })
                })
                .then_some(())
        },
    );
    for t in &moved {
        for n in survivors {
            assert_eq!(since(n, t), Some(fired_at[t]), "{t}: the same firing");
        }
    }
    let mut after: Vec<String> = firings
        .lock()
        .unwrap()
        .iter()
        .map(|f| f.1.clone())
        .collect();
    after.sort();
    assert_eq!(
        after, tenants,
        "still one firing per tenant after the failover"
    );
}
