//! A real Prometheus (Debian's) scrapes the wallboard and loads its rules:
//! the counters it stores equal the REST report, and every rule is healthy.
//! Run by `scripts/test.sh`, which installs Prometheus.

use std::process::{Command, Stdio};
use std::time::Duration;

use tests::{data, free_port, get_json, root, spawn, unique, wait_for, Proc};

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

    let dir = std::env::temp_dir().join(unique("prometheus"));
    std::fs::create_dir_all(&dir).unwrap();
    let rules = root().join("deploy/prometheus");
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\n  - {}\nscrape_configs:\n  - job_name: wallboard\n    static_configs:\n      - targets: [\"127.0.0.1:{port}\"]\n",
        rules.join("recording.rules.yml").display(),
        rules.join("alerts.rules.yml").display()
    );
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    let prom_port = free_port();
    let _prometheus = Proc(
        Command::new("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus"),
    );
    let api = format!("http://127.0.0.1:{prom_port}/api/v1");
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
