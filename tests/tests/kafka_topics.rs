//! The topics' broker settings checked at start (`docs/architecture.md`,
//! "Topic settings checked at start"): a changelog chunk larger than the
//! changelog topic's records may be is refused naming
//! `kafka.changelog_chunk_bytes`; a changelog or views topic that is not
//! compacted starts with a warning in the log and `/api/v1/status`; a
//! session timeout the broker would refuse is refused naming
//! `kafka.session_timeout_ms`; the consumer's errors while it runs are in
//! `/api/v1/status` `consumer` and `/metrics`.
//!
//! Run by `scripts/test.sh`, which starts the broker and sets
//! `WALLBOARD_TEST_KAFKA`.

use std::process::{Command, Stdio};
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;

use tests::{binary, block_on, free_port, get_json, get_text, kafka, unique, wait_for, ServeArgs};

fn admin() -> AdminClient<DefaultClientContext> {
    ClientConfig::new()
        .set("bootstrap.servers", kafka())
        .create()
        .unwrap()
}

/// Creates `topic` with one partition and `config`.
fn create_topic(topic: &str, config: &[(&str, &str)]) {
    let admin = admin();
    let mut t = NewTopic::new(topic, 1, TopicReplication::Fixed(1));
    for (k, v) in config {
        t = t.set(k, v);
    }
    let r = block_on(admin.create_topics([&t], &AdminOptions::new())).expect("create topic");
    assert!(r.iter().all(Result::is_ok), "{r:?}");
}

/// Runs `serve` with `args` and `envs`, which must refuse to start: its
/// standard error.
fn refused(args: &ServeArgs, envs: &[(&str, &str)]) -> String {
    let out = Command::new(binary())
        .args(args.args())
        .envs(envs.iter().copied())
        .stdout(Stdio::null())
        .output()
        .expect("run wallboard serve");
    assert!(!out.status.success(), "serve started");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A new one-partition topic named after `prefix`, and the arguments of a
/// `serve` of it on a free port: topic, arguments, port.
fn new_topic_and_serve(prefix: &str) -> (String, ServeArgs, u16) {
    let topic = unique(prefix);
    create_topic(&topic, &[]);
    let state = std::env::temp_dir().join(unique("topics-state"));
    let port = free_port();
    let args = ServeArgs::new(&topic, &unique("topics-group"), port, &state);
    (topic, args, port)
}

#[test]
#[ignore = "needs a Kafka broker: run through scripts/test.sh"]
fn a_chunk_larger_than_the_changelog_s_records_is_refused_by_key() {
    let topic = unique("topics-small");
    create_topic(&topic, &[]);
    create_topic(
        &format!("{topic}-changelog"),
        &[
            ("cleanup.policy", "compact"),
            ("max.message.bytes", "100000"),
        ],
    );
    let state = std::env::temp_dir().join(unique("topics-state"));
    let port = free_port();
    let args = ServeArgs::new(&topic, &unique("topics-group"), port, &state);
    // The default chunk (524288 bytes) does not fit in 100000.
    let err = refused(&args, &[]);
    assert!(
        err.contains("kafka.changelog_chunk_bytes: 524288 bytes plus 256 bytes")
            && err.contains(&format!(
                "max.message.bytes of the topic {topic}-changelog (100000)"
            ))
            && err.contains("at most 99744"),
        "{err}"
    );
    // A chunk that fits starts.
    let _serve = args.spawn(&[("WALLBOARD_KAFKA__CHANGELOG_CHUNK_BYTES", "65536")]);
    let status = wait_for("serve", Duration::from_secs(60), || {
        get_json(&format!("http://127.0.0.1:{port}/api/v1/status"))
    });
    assert_eq!(status["topic_warnings"], serde_json::json!([]));
}

#[test]
#[ignore = "needs a Kafka broker: run through scripts/test.sh"]
fn a_views_topic_that_is_not_compacted_is_a_warning_in_status() {
    let topic = unique("topics-delete");
    create_topic(&topic, &[]);
    let views = format!("{topic}-views");
    create_topic(&views, &[("cleanup.policy", "delete")]);
    let state = std::env::temp_dir().join(unique("topics-state"));
    let port = free_port();
    let _serve = ServeArgs::new(&topic, &unique("topics-group"), port, &state).spawn(&[]);
    let status = wait_for("serve", Duration::from_secs(60), || {
        get_json(&format!("http://127.0.0.1:{port}/api/v1/status"))
    });
    let warnings = status["topic_warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = &warnings[0];
    assert_eq!(
        (
            w["topic"].as_str(),
            w["setting"].as_str(),
            w["value"].as_str()
        ),
        (Some(views.as_str()), Some("cleanup.policy"), Some("delete"))
    );
    assert!(
        w["detail"]
            .as_str()
            .unwrap()
            .contains("kafka.views_topic should be compacted"),
        "{w}"
    );
}

#[test]
#[ignore = "needs a Kafka broker: run through scripts/test.sh"]
fn a_session_timeout_the_broker_refuses_is_refused_by_key() {
    let (_, args, _) = new_topic_and_serve("topics-session");
    // The broker's group.min.session.timeout.ms is 6000 unless set.
    let err = refused(
        &args,
        &[
            ("WALLBOARD_KAFKA__SESSION_TIMEOUT_MS", "3000"),
            ("WALLBOARD_KAFKA__HEARTBEAT_INTERVAL_MS", "500"),
        ],
    );
    assert!(
        err.contains("kafka.session_timeout_ms: 3000 ms is outside what the broker allows")
            && err.contains("group.min.session.timeout.ms 6000"),
        "{err}"
    );
}

#[test]
#[ignore = "needs a Kafka broker: run through scripts/test.sh"]
fn a_topic_deleted_under_a_running_instance_shows_in_status_and_metrics() {
    let (topic, args, port) = new_topic_and_serve("topics-deleted");
    let _serve = args.spawn(&[]);
    let status = format!("http://127.0.0.1:{port}/api/v1/status");
    wait_for("the partition assigned", Duration::from_secs(60), || {
        get_json(&status).filter(|s| s["partitions"].as_array().is_some_and(|p| !p.is_empty()))
    });
    let r = block_on(admin().delete_topics(&[&topic], &AdminOptions::new())).expect("delete");
    assert!(r.iter().all(Result::is_ok), "{r:?}");
    let s = wait_for("the error in status", Duration::from_secs(90), || {
        get_json(&status).filter(|s| s["consumer"]["errors"].as_u64() > Some(0))
    });
    let last = &s["consumer"]["last"];
    assert!(last["error"].as_str().is_some_and(|e| !e.is_empty()), "{s}");
    assert!(last["at_ms"].as_i64() > Some(0), "{s}");
    let metrics = get_text(&format!("http://127.0.0.1:{port}/metrics")).expect("/metrics");
    let counted = metrics
        .lines()
        .find_map(|l| l.strip_prefix("wallboard_kafka_consumer_errors_total "))
        .and_then(|n| n.trim().parse::<u64>().ok());
    assert!(counted > Some(0), "{metrics}");
}
