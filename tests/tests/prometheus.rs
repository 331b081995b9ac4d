//! A real Prometheus (Debian's) scrapes the wallboard and loads its rules:
//! the counters it stores equal the REST report, and every rule is healthy.
//! Run by `scripts/test.sh`, which installs Prometheus.

// An end-to-end scenario reads best as one story, start to finish.
#![allow(clippy::too_many_lines)]

use std::process::{Command, Stdio};
use std::time::Duration;

use tests::{data, free_port, get_json, root, spawn, unique, wait_for, Proc, ServeArgs};

#[test]
#[ignore = "needs Debian's prometheus: run through scripts/test.sh"]
fn prometheus_scrapes_the_counters_and_loads_the_rules() {
    let port = free_port();
    let trace = data("edge-basic.jsonl");
    let _demo = spawn(
        &[
            "demo",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--interval",
            "15",
            "--trace",
            trace.to_str().unwrap(),
        ],
        &[],
    );
    let base = format!("http://127.0.0.1:{port}");
    let report = wait_for("the demo's report", Duration::from_secs(30), || {
        get_json(&format!("{base}/api/v1/tenants/edge/report"))
    });
    let answered: u64 = report["queues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["queue"] == "q1")
        .map(|r| r["answered"].as_u64().unwrap())
        .sum();

    let (_prometheus, api) = prometheus(port);
    let query = format!("{api}/query?query=wallboard_calls_answered_total%7Btenant%3D%22edge%22%2Cqueue%3D%22q1%22%7D");
    let stored = wait_for(
        "Prometheus to scrape the wallboard",
        Duration::from_secs(60),
        || {
            let v = get_json(&query)?;
            let value = v["data"]["result"].as_array()?.first()?["value"][1]
                .as_str()?
                .to_owned();
            value.parse::<u64>().ok()
        },
    );
    assert_eq!(stored, answered, "the stored counter is the report's sum");

    let rules = wait_for("the rules to be evaluated", Duration::from_secs(60), || {
        let v = get_json(&format!("{api}/rules"))?;
        let groups = v["data"]["groups"].as_array()?.clone();
        let evaluated = groups
            .iter()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
            .all(|r| {
                r["lastEvaluation"]
                    .as_str()
                    .is_some_and(|t| !t.starts_with("0001"))
            });
        (groups.len() == 2 && evaluated).then_some(groups)
    });
    for g in &rules {
        for r in g["rules"].as_array().unwrap() {
            assert_eq!(
                r["health"], "ok",
                "rule {} is {}: {}",
                r["name"], r["health"], r["lastError"]
            );
        }
    }
    let names: Vec<&str> = rules
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(
        names.contains(&"wallboard:service_level_sl3:rate15m"),
        "{names:?}"
    );
    assert!(names.contains(&"WallboardServiceLevelLow"), "{names:?}");
}

/// Starts Prometheus scraping 127.0.0.1:`target` every second with the
/// project's rules; returns it and its API base URL.
fn prometheus(target: u16) -> (Proc, String) {
    let dir = std::env::temp_dir().join(unique("prometheus"));
    std::fs::create_dir_all(&dir).unwrap();
    let rules = root().join("deploy/prometheus");
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\n  - {}\nscrape_configs:\n  - job_name: wallboard\n    static_configs:\n      - targets: [\"127.0.0.1:{target}\"]\n",
        rules.join("recording.rules.yml").display(),
        rules.join("alerts.rules.yml").display()
    );
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    let port = free_port();
    let proc = Proc(
        Command::new("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus"),
    );
    (proc, format!("http://127.0.0.1:{port}/api/v1"))
}

/// The single value of an instant `PromQL` query, if there is one.
fn instant(api: &str, promql: &str) -> Option<f64> {
    let url = format!("{api}/query?query={}", urlencode(promql));
    let v = get_json(&url)?;
    v["data"]["result"].as_array()?.first()?["value"][1]
        .as_str()?
        .parse()
        .ok()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
#[ignore = "needs Debian's prometheus and a Kafka broker: run through scripts/test.sh"]
fn promql_over_the_recording_rules_equals_the_rest_value_for_the_interval() {
    let broker = tests::kafka();
    let topic = unique("promql");
    let port = free_port();
    let state = std::env::temp_dir().join(unique("state"));
    let _serve = ServeArgs::new(&topic, &unique("g"), port, &state)
        .with(&["--interval", "15", "--tz", "UTC", "--sl", "20"])
        .spawn(&[
            ("WALLBOARD_PIPELINE__ALLOWED_LATENESS_S", "86400"),
            ("WALLBOARD_METRICS__DEDUP_WINDOW_MINUTES", "1440"),
        ]);
    let (_prom, api) = prometheus(port);
    let lines: Vec<String> = std::fs::read_to_string(data("edge-basic.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let publish = |name: &str, lines: &[String]| {
        let file = std::env::temp_dir().join(unique(name));
        std::fs::write(&file, lines.join("\n")).unwrap();
        tests::wallboard(&[
            "ingest",
            "jsonl",
            file.to_str().unwrap(),
            "--kafka",
            &broker,
            "--topic",
            &topic,
        ]);
    };
    // First only the memberships: queues q1 and q2 exist, every counter at 0.
    publish("prime", &lines[..2]);
    let q1 = r#"tenant="edge",queue="q1""#;
    wait_for(
        "two scrapes of the zero counters",
        Duration::from_secs(60),
        || {
            let n = instant(
                &api,
                &format!("count_over_time(wallboard_calls_answered_total{{{q1}}}[5m])"),
            )?;
            (n >= 2.0).then_some(())
        },
    );
    // Then the calls up to the end of the 09:00–09:15 interval.
    let end = 1_795_425_300_000_i64;
    let calls: Vec<String> = lines
        .iter()
        .filter(|l| l.contains(r#""kind":"call_"#))
        .filter(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v["ts"].as_i64())
                .is_some_and(|ts| ts < end)
        })
        .cloned()
        .collect();
    publish("calls", &calls);
    let rest = wait_for(
        "the interval in the REST report",
        Duration::from_secs(60),
        || {
            let r = get_json(&format!(
                "http://127.0.0.1:{port}/api/v1/tenants/edge/report"
            ))?;
            let row = r["queues"]
                .as_array()?
                .iter()
                .find(|r| r["queue"] == "q1" && r["start_ms"] == 1_795_424_400_000_i64)?
                .clone();
            (row["answered"].as_u64()? + row["abandoned"].as_u64()? == 3).then_some(row)
        },
    );
    let want = rest["sl"]["20"]["sl3"].as_f64().unwrap();
    let got = wait_for(
        "the recording rule to see the calls",
        Duration::from_secs(60),
        || {
            instant(
                &api,
                &format!(r#"wallboard:service_level_sl3:rate15m{{{q1},threshold="20"}}"#),
            )
            .filter(|v| v.is_finite() && *v > 0.0)
        },
    );
    assert!((got - want).abs() < 1e-9, "PromQL {got} vs REST {want}");
    let sl1 = rest["sl"]["20"]["sl1"].as_f64().unwrap();
    let got1 = instant(
        &api,
        &format!(r#"wallboard:service_level_sl1:rate15m{{{q1},threshold="20"}}"#),
    )
    .unwrap();
    assert!(
        (got1 - sl1).abs() < 1e-9,
        "sl1: PromQL {got1} vs REST {sl1}"
    );
}
