//! The deployment assets agree with the binary: every metric the Grafana
//! dashboard and the Prometheus rules use is served by `/metrics` or defined
//! by a recording rule.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::KillOnDrop;

fn deploy(file: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(file);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Metric names (`wallboard_…` and recorded `wallboard:…`) in a text.
fn names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text[i..].find("wallboard") {
        let start = i + at;
        let mut end = start;
        while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'_' || b[end] == b':')
        {
            end += 1;
        }
        let name = &text[start..end];
        if name.starts_with("wallboard_") || name.starts_with("wallboard:") {
            out.insert(name.trim_end_matches(':').to_owned());
        }
        i = end.max(start + 1);
    }
    out
}

fn served_metrics() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let trace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/edge-basic.jsonl");
    let _demo = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_wallboard"))
            .args([
                "demo",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--interval",
                "15",
                "--trace",
            ])
            .arg(trace)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(out) = Command::new("curl")
            .args(["-sf", &format!("http://127.0.0.1:{port}/metrics")])
            .output()
        {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            if out.status.success()
                && text.contains("wallboard_calls_offered_total")
                && text.contains("wallboard_agents{")
            {
                return text;
            }
        }
        assert!(Instant::now() < end, "no /metrics within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn every_metric_the_dashboard_and_rules_use_exists() {
    let served: BTreeSet<String> = served_metrics()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect();
    let recording = deploy("prometheus/recording.rules.yml");
    let recorded: BTreeSet<String> = recording
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- record: "))
        .map(str::to_owned)
        .collect();
    assert_eq!(recorded.len(), 10);
    let used: BTreeSet<String> = [
        deploy("grafana/dashboards/wallboard.json"),
        recording,
        deploy("prometheus/alerts.rules.yml"),
    ]
    .iter()
    .flat_map(|t| names(t))
    .filter(|n| !n.starts_with("wallboard-"))
    .collect();
    assert!(used.len() > 15, "{used:?}");
    // Durable snapshots exist only with Kafka (`serve`), not in the demo.
    // Per-source silence exists once an adapter heartbeats (metrics.md,
    // "Freshness"); the demo's trace has none. The consumer's errors are
    // counted only with Kafka (tests/tests/kafka_topics.rs reads them).
    let kafka_only = [
        "wallboard_snapshot_age_seconds",
        "wallboard_source_silent_seconds",
        "wallboard_kafka_consumer_errors_total",
    ];
    for name in &used {
        let exists =
            served.contains(name) || recorded.contains(name) || kafka_only.contains(&name.as_str());
        assert!(
            exists,
            "{name} is used but neither served by /metrics nor recorded"
        );
    }
}

/// Every systemd unit in `deploy/systemd` runs a command line this binary
/// accepts, and no unit puts a secret on its command line (visible to every
/// user of the machine): secrets come from an `EnvironmentFile`.
#[test]
fn the_systemd_units_run_valid_command_lines_without_secrets() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/systemd");
    let mut units = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "service") {
            continue;
        }
        units += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        let exec = text
            .lines()
            .find_map(|l| l.strip_prefix("ExecStart="))
            .unwrap_or_else(|| panic!("{}: no ExecStart", path.display()));
        let mut words = exec.split_whitespace();
        assert_eq!(
            words.next(),
            Some("/usr/local/bin/wallboard"),
            "{}",
            path.display()
        );
        let args: Vec<&str> = words.collect();
        for secret in ["--secret", "--password", "token"] {
            assert!(
                !args.iter().any(|a| a.contains(secret)),
                "{}: a secret on the command line",
                path.display()
            );
        }
        if text.contains("ingest ami") || text.contains("ingest esl") {
            assert!(text.contains("EnvironmentFile="), "{}", path.display());
        }
        // Clap checks every argument before it acts on --help.
        let out = Command::new(env!("CARGO_BIN_EXE_wallboard"))
            .args(&args)
            .arg("--help")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(units, 4);
}

/// systemd must not SIGKILL `serve` while it is still inside its own stop
/// deadline (final snapshots), nor wait much longer than it.
#[test]
fn the_service_stop_timeout_covers_the_stop_deadline() {
    let unit = deploy("systemd/wallboard.service");
    let timeout: u64 = unit
        .lines()
        .find_map(|l| l.strip_prefix("TimeoutStopSec="))
        .and_then(|v| v.trim().strip_suffix('s'))
        .expect("TimeoutStopSec=…s")
        .parse()
        .unwrap();
    let deadline = wallboard::shutdown::STOP_DEADLINE.as_secs();
    assert!(
        (deadline + 5..=deadline + 30).contains(&timeout),
        "TimeoutStopSec={timeout}s vs a {deadline} s stop deadline"
    );
}
