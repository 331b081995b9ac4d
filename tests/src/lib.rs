//! Helpers for end-to-end tests that start real processes: the `wallboard`
//! binary and a real Kafka broker (started by `deploy/kafka/start.sh`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The repository root.
#[must_use]
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `wallboard` binary: `WALLBOARD_BIN`, else `target/debug/wallboard`.
pub fn binary() -> PathBuf {
    let p = std::env::var_os("WALLBOARD_BIN")
        .map_or_else(|| root().join("target/debug/wallboard"), PathBuf::from);
    assert!(
        p.exists(),
        "{} not built: run cargo build --bin wallboard",
        p.display()
    );
    p
}

/// The golden data directory (`WALLBOARD_GOLDEN_DIR`, else `tests/golden`).
pub fn data(file: &str) -> PathBuf {
    std::env::var_os("WALLBOARD_GOLDEN_DIR")
        .map_or_else(|| root().join("tests/golden"), PathBuf::from)
        .join(file)
}

/// The broker under test: `WALLBOARD_TEST_KAFKA` (set by scripts/test.sh
/// after `deploy/kafka/start.sh`).
#[must_use]
pub fn kafka() -> String {
    std::env::var("WALLBOARD_TEST_KAFKA").expect(
        "WALLBOARD_TEST_KAFKA is not set: start a broker with deploy/kafka/start.sh \
         and run these tests through scripts/test.sh",
    )
}

/// A name unique to this test run.
#[must_use]
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// A free TCP port on loopback.
#[must_use]
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `wallboard ARGS` to completion; panics with its stderr on failure.
// Callers run it for its effect; some also read what it printed.
#[allow(clippy::must_use_candidate)]
pub fn wallboard(args: &[&str]) -> std::process::Output {
    let out = Command::new(binary())
        .args(args)
        .output()
        .expect("run wallboard");
    assert!(
        out.status.success(),
        "wallboard {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A child process killed when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `wallboard ARGS` in the background.
#[must_use]
pub fn spawn(args: &[&str], envs: &[(&str, &str)]) -> Proc {
    let log = std::fs::File::create(std::env::temp_dir().join(format!("{}.log", unique("wb"))))
        .expect("log file");
    let child = Command::new(binary())
        .args(args)
        .envs(envs.iter().copied())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn wallboard");
    Proc(child)
}

/// Polls `check` until it gives a value or `timeout` passes.
pub fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            Instant::now() < end,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `GET url` as JSON, if it answers 200.
#[must_use]
pub fn get_json(url: &str) -> Option<serde_json::Value> {
    let r = reqwest::blocking::get(url).ok()?;
    if !r.status().is_success() {
        return None;
    }
    r.json().ok()
}

/// `GET url` as text, if it answers 200.
#[must_use]
pub fn get_text(url: &str) -> Option<String> {
    let r = reqwest::blocking::get(url).ok()?;
    if !r.status().is_success() {
        return None;
    }
    r.text().ok()
}

/// Runs a future to completion on this thread (the admin calls of
/// rdkafka are plain futures; no runtime is needed to wait for them).
pub fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let std::task::Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// The arguments of `wallboard serve` against the test broker: one topic,
/// group, listen port and state directory, then whatever a test adds.
#[derive(Debug, Clone)]
pub struct ServeArgs {
    args: Vec<String>,
}

impl ServeArgs {
    /// `serve --kafka <broker> --topic --group --listen 127.0.0.1:<port>
    /// --state-dir <state>`.
    #[must_use]
    pub fn new(topic: &str, group: &str, port: u16, state: &Path) -> Self {
        let args = [
            "serve",
            "--kafka",
            &kafka(),
            "--topic",
            topic,
            "--group",
            group,
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--state-dir",
            state.to_str().expect("a UTF-8 state directory"),
        ];
        ServeArgs {
            args: args.iter().map(|&a| a.to_owned()).collect(),
        }
    }

    /// Adds `more` after the arguments so far.
    #[must_use]
    pub fn with(mut self, more: &[&str]) -> Self {
        self.args.extend(more.iter().map(|&a| a.to_owned()));
        self
    }

    /// The arguments, for a `Command` of a test's own.
    #[must_use]
    pub fn args(&self) -> &[String] {
        &self.args
    }

    /// Starts `wallboard serve` with these arguments and `envs`.
    #[must_use]
    pub fn spawn(&self, envs: &[(&str, &str)]) -> Proc {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        spawn(&args, envs)
    }
}

/// `wallboard ingest jsonl <file>` into `topic` (dead letters to
/// `<topic>.dlq`) on the test broker, then `extra`.
pub fn ingest_jsonl(file: &Path, topic: &str, extra: &[&str]) {
    let (broker, dlq) = (kafka(), format!("{topic}.dlq"));
    let mut args = vec![
        "ingest",
        "jsonl",
        file.to_str().expect("a UTF-8 path"),
        "--kafka",
        &broker,
        "--topic",
        topic,
        "--dlq-topic",
        &dlq,
    ];
    args.extend_from_slice(extra);
    wallboard(&args);
}

/// Reads `<topic>.dlq` from the start until `want` dead letters were seen;
/// gives what `each` took from each of them.
pub fn read_dead_letters<T>(
    topic: &str,
    want: usize,
    timeout: Duration,
    mut each: impl FnMut(&rdkafka::message::BorrowedMessage<'_>) -> T,
) -> Vec<T> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = rdkafka::config::ClientConfig::new()
        .set("bootstrap.servers", kafka())
        .set("group.id", unique("dlq-reader"))
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("a DLQ consumer");
    consumer
        .subscribe(&[&format!("{topic}.dlq")])
        .expect("subscribe to the DLQ");
    let mut seen = Vec::new();
    wait_for(&format!("{want} dead letters"), timeout, || {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            seen.push(each(&m));
        }
        (seen.len() >= want).then_some(())
    });
    seen
}

/// The value of header `key` of a dead letter; panics when it has none.
#[must_use]
pub fn dead_letter_header(m: &rdkafka::message::BorrowedMessage<'_>, key: &str) -> String {
    use rdkafka::message::{Headers, Message};
    let headers = m.headers().expect("dead letters carry headers");
    headers
        .iter()
        .find(|h| h.key == key)
        .and_then(|h| h.value)
        .map_or_else(
            || panic!("a {key} header"),
            |v| String::from_utf8_lossy(v).into_owned(),
        )
}

/// One simulated centre per tenant (`agents` agents, `hours` hours, seeds
/// from `first_seed` on), all in one JSON Lines file.
pub fn simulated_day<T: AsRef<str>>(
    tenants: &[T],
    agents: u32,
    hours: u32,
    first_seed: usize,
) -> PathBuf {
    let zoned: Vec<(&str, &str)> = tenants.iter().map(|t| (t.as_ref(), "UTC")).collect();
    simulated_day_in_zones(&zoned, agents, hours, first_seed)
}

/// As [`simulated_day`], each `(tenant, zone)` centre's day simulated in
/// its own IANA zone (`simulate --tz`: centred on 12:30 local time).
#[must_use]
pub fn simulated_day_in_zones(
    tenants: &[(&str, &str)],
    agents: u32,
    hours: u32,
    first_seed: usize,
) -> PathBuf {
    let dir = std::env::temp_dir().join(unique("trace"));
    std::fs::create_dir_all(&dir).unwrap();
    let (agents, hours) = (agents.to_string(), hours.to_string());
    let mut all = Vec::new();
    for (i, (tenant, tz)) in tenants.iter().enumerate() {
        let seed = (first_seed + i).to_string();
        let out = wallboard(&[
            "simulate", "--agents", &agents, "--hours", &hours, "--seed", &seed, "--tenant",
            tenant, "--tz", tz,
        ]);
        all.extend_from_slice(&out.stdout);
    }
    let file = dir.join("day.jsonl");
    std::fs::write(&file, all).unwrap();
    file
}
