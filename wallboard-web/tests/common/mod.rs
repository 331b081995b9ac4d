//! Helpers shared by the integration tests of this crate.

/// A child process killed when the test ends, passing or not.
#[allow(dead_code)]
pub(crate) struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The service in one process, as the in-process tests run it.
// Each test binary includes this module and uses a part of it.
#[allow(dead_code)]
pub(crate) struct Served {
    pub addr: std::net::SocketAddr,
    pub hub: wallboard_pipeline::Hub,
    pub state: wallboard::web::AppState,
}

/// The writer settings of the in-process tests: one partition, every
/// lateness accepted, no clock bound, no snapshots, and `config`'s metric
/// and freshness settings as `serve` derives them.
#[allow(dead_code)]
pub(crate) fn writer_config(
    config: &wallboard::config::AppConfig,
) -> wallboard_pipeline::writer::WriterConfig {
    wallboard_pipeline::writer::WriterConfig {
        partition: 0,
        params: config.tenant_params().expect("valid metric settings"),
        allowed_lateness_ms: i64::MAX / 4,
        max_future_ms: None,
        freshness: config.freshness,
        publish_interval: std::time::Duration::from_millis(50),
        snapshot_interval: std::time::Duration::from_secs(3600),
        snapshots: None,
    }
}

/// Writer + web with `config`: every valid event of `trace` goes through
/// the in-process bus; returns once the writer has taken them all and
/// published a view.
#[allow(dead_code)]
pub(crate) async fn serve_trace(config: wallboard::config::AppConfig, trace: &[u8]) -> Served {
    use wallboard::web::{self, AppState, IngestSink};
    use wallboard_pipeline::bus::{feed, Bus, Pacing};
    use wallboard_pipeline::writer::{self, LogDeadLetters};

    let (changed_tx, changed_rx) = tokio::sync::watch::channel(0);
    let w = writer::spawn(writer_config(&config), Box::new(LogDeadLetters), changed_tx);
    let mut events = vec![];
    let mut lines = wallboard_events::jsonl::LineReader::new(trace);
    while let Some(line) = lines.next_line().unwrap() {
        if let Ok(e) = wallboard_events::jsonl::parse_line(&line) {
            events.push(e.into_owned());
        }
    }
    let n = i64::try_from(events.len()).unwrap();
    let bus = Bus::new(w.handle.inbox.clone());
    let pacing = Pacing {
        live_from: i64::MAX,
        speed: 1.0,
    };
    feed(events.into_iter(), bus.clone(), pacing);
    let hub = wallboard_pipeline::Hub::new(vec![w.handle.clone()], changed_rx);
    let mut changes = hub.changes();
    while hub.status()[0].next_offset < n || (n > 0 && hub.tenants().is_empty()) {
        changes.changed().await.unwrap();
    }
    let state = AppState::new(hub.clone(), config).with_ingest(IngestSink::Bus(bus));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(web::serve(listener, state.clone(), std::future::pending()));
    Served { addr, hub, state }
}

/// A file of the repository's golden data, `tests/golden/NAME`.
#[allow(dead_code)]
pub(crate) fn golden(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/golden")
        .join(name)
}

/// Runs the real `wallboard replay INPUT ARGS`; panics with its stderr if it
/// fails.
#[allow(dead_code)]
pub(crate) fn replay(input: &std::path::Path, args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wallboard"))
        .arg("replay")
        .arg(input)
        .args(args)
        .output()
        .expect("run wallboard");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A client's WebSocket as the tests read it.
#[allow(dead_code)]
pub(crate) trait WsStream:
    futures_util::Stream<
        Item = Result<
            tokio_tungstenite::tungstenite::Message,
            tokio_tungstenite::tungstenite::Error,
        >,
    > + Unpin
{
}

impl<S> WsStream for S where
    S: futures_util::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin
{
}

/// The next text message of `ws` as JSON; panics unless one comes within
/// 10 s.
#[allow(dead_code)]
pub(crate) async fn next_ws_json(ws: &mut impl WsStream) -> serde_json::Value {
    use futures_util::StreamExt;
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s")
            .expect("open")
            .expect("no error");
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            return serde_json::from_str(&t).expect("a JSON message");
        }
    }
}

/// The next `snapshot` push of `ws`, past the display configuration that
/// comes first on every connection.
#[allow(dead_code)]
pub(crate) async fn next_ws_snapshot(ws: &mut impl WsStream) -> serde_json::Value {
    loop {
        let v = next_ws_json(ws).await;
        if v["type"] == "snapshot" {
            return v;
        }
    }
}

/// The settings most tests read the edge-basic day with: 15-minute
/// intervals in UTC, one SL threshold of 20 s.
#[allow(dead_code)]
pub(crate) fn edge_config() -> wallboard::config::AppConfig {
    wallboard::config::AppConfig {
        metrics: aggregator::MetricsConfig {
            interval_minutes: 15,
            tz: "UTC".into(),
            sl_thresholds_s: vec![20],
            ..Default::default()
        },
        ..Default::default()
    }
}

/// GETs `url` with the bearer token `token` and reads the body as JSON.
#[allow(dead_code)]
pub(crate) async fn get_json_as(
    client: &reqwest::Client,
    url: &str,
    token: &str,
) -> serde_json::Value {
    client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("a response")
        .json()
        .await
        .expect("a JSON body")
}

/// A configuration file in a directory of its own, removed when dropped.
#[allow(dead_code)]
pub(crate) struct ConfigFile {
    dir: std::path::PathBuf,
    /// The file, `<dir>/w.toml`.
    pub path: std::path::PathBuf,
}

#[allow(dead_code)]
impl ConfigFile {
    /// `text` written to a new `w.toml` under a directory named after
    /// `prefix`, this process and a counter.
    pub(crate) fn new(prefix: &str, text: &str) -> Self {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("{prefix}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let file = ConfigFile {
            path: dir.join("w.toml"),
            dir,
        };
        file.write(text);
        file
    }

    /// Replaces the file's text.
    pub(crate) fn write(&self, text: &str) {
        std::fs::write(&self.path, text).expect("the configuration written");
    }

    /// The directory of the file, for other files of the test.
    pub(crate) fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

impl Drop for ConfigFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running `wallboard demo --config <config> --trace <trace>` on a free
/// port, killed when dropped.
#[allow(dead_code)]
pub(crate) struct Demo {
    pub child: KillOnDrop,
    /// `http://127.0.0.1:<port>`, from its banner.
    pub base: String,
}

/// Starts the demo on `config` and the golden `trace` and reads where it
/// serves from the first line it prints.
#[allow(dead_code)]
pub(crate) fn spawn_demo(config: &std::path::Path, trace: &str) -> Demo {
    use std::io::BufRead;
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_wallboard"))
        .args(["demo", "--listen", "127.0.0.1:0", "--config"])
        .arg(config)
        .arg("--trace")
        .arg(golden(trace))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn wallboard demo");
    let mut child = KillOnDrop(child);
    let mut banner = String::new();
    std::io::BufReader::new(child.0.stdout.take().expect("a stdout pipe"))
        .read_line(&mut banner)
        .expect("the banner");
    let base = banner
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {banner:?}"))
        .trim_end_matches('/')
        .to_owned();
    Demo { child, base }
}

/// Polls `probe` until it returns `Some`, for at most 20 s.
#[allow(dead_code)]
pub(crate) async fn until<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Serves `trace` with the default settings (`serve_trace`) and scrapes
/// `/metrics` once the writer has taken it all.
#[allow(dead_code)]
pub(crate) async fn scrape_trace(trace: &[u8]) -> (Served, String) {
    let s = serve_trace(wallboard::config::AppConfig::default(), trace).await;
    let metrics = reqwest::get(format!("http://{}/metrics", s.addr))
        .await
        .expect("a response")
        .text()
        .await
        .expect("a text body");
    (s, metrics)
}

/// The value of the first series `name` of a `/metrics` text whose labels
/// contain every one of `labels` (`key="value"` each).
#[allow(dead_code)]
pub(crate) fn series(metrics: &str, name: &str, labels: &[&str]) -> Option<f64> {
    let head = format!("{name}{{");
    metrics
        .lines()
        .filter(|l| l.starts_with(&head))
        .find(|l| labels.iter().all(|x| l.contains(x)))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
}

/// Asserts that `got` is byte for byte the golden file `tests/golden/NAME`
/// (a CSV keeps its BOM and CRLF). With `WALLBOARD_BLESS=1` the file is
/// written instead, to be checked by hand before it is committed.
#[allow(dead_code)]
pub(crate) fn assert_golden_bytes(got: &[u8], name: &str) {
    let path = golden(name);
    if std::env::var_os("WALLBOARD_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, got).expect("write the golden file");
        return;
    }
    let want = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        String::from_utf8_lossy(got),
        String::from_utf8_lossy(&want),
        "{name}"
    );
    assert_eq!(got, want, "{name}: the same text, other bytes");
}

/// `replay INPUT --interval 30 --sl 20 --output table`: the golden tables
/// of `tests/golden/extra`.
#[allow(dead_code)]
pub(crate) fn replay_table(input: &std::path::Path) -> String {
    let args = ["--interval", "30", "--sl", "20", "--output", "table"];
    String::from_utf8(replay(input, &args).stdout).expect("a UTF-8 table")
}
