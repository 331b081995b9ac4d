//! `wallboard bench ws`: WebSocket fan-out under load on loopback. The
//! bench starts `--instances` server processes of its own binary (each the
//! simulator at a fixed event rate through the bus and the writer, behind
//! axum), spreads the clients over them round-robin from this process, and
//! reads each server's resident memory before and with the clients
//! connected: what a client costs the server, without the clients' own
//! memory.

mod clients;
mod instance;
pub(super) mod os;

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::bench::WsArgs;
use clients::Probe;

/// How long the servers run before their memory is read without clients.
const WARM_UP: Duration = Duration::from_secs(3);
/// How long every client has to connect and get its first push.
const CONNECT_WITHIN: Duration = Duration::from_secs(120);

pub(super) fn run(a: &WsArgs) -> Result<()> {
    if a.serve_only {
        return instance::serve_only(a);
    }
    if a.instances == 0 {
        bail!("--instances is 0: at least one server is needed");
    }
    wallboard::fd_limit::raise_for(a.clients as u64, "--clients")?;
    let servers = (0..a.instances)
        .map(|_| Server::start(a))
        .collect::<Result<Vec<_>>>()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(drive(a, &servers));
    for s in servers {
        s.stop();
    }
    result
}

/// One server process and what was read of its memory.
struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    _stdout: BufReader<ChildStdout>,
    url: String,
}

impl Server {
    /// Starts `wallboard bench ws --serve-only` for its share of the clients.
    fn start(a: &WsArgs) -> Result<Self> {
        let exe = std::env::current_exe().context("the bench's own executable")?;
        let share = a.clients.div_ceil(a.instances);
        let mut child = Command::new(exe)
            .args(["bench", "ws", "--serve-only"])
            .args([
                "--clients",
                &share.to_string(),
                "--rate",
                &a.rate.to_string(),
            ])
            .args([
                "--tenants",
                &a.tenants.to_string(),
                "--agents",
                &a.agents.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("starting a server")?;
        let stdin = child.stdin.take();
        // Kept open for as long as the server runs: it may still write.
        let mut stdout = BufReader::new(child.stdout.take().context("server stdout")?);
        let mut url = String::new();
        stdout.read_line(&mut url)?;
        let url = url.trim().to_owned();
        if !url.starts_with("ws://") {
            bail!("the server process printed no URL (got {url:?})");
        }
        Ok(Server {
            child,
            stdin,
            _stdout: stdout,
            url,
        })
    }

    fn rss(&self) -> (u64, u64) {
        os::rss_kib(self.child.id())
    }

    /// Closing its stdin tells the server to stop.
    fn stop(mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// Memory of one server, KiB: before the clients, with them (after the
/// first push), after the measured window, and its peak.
struct Memory {
    without: u64,
    with: u64,
    after: u64,
    peak: u64,
}

async fn drive(a: &WsArgs, servers: &[Server]) -> Result<()> {
    tokio::time::sleep(WARM_UP).await;
    let without: Vec<u64> = servers.iter().map(|s| s.rss().0).collect();
    let probe = Probe::default();
    let started = Instant::now();
    let clients: Vec<_> = (0..a.clients)
        .map(|n| tokio::spawn(probe.clone().client(n, client_url(a, servers, n))))
        .collect();
    wait_ready(a, &probe).await?;
    let connected_in = started.elapsed();
    // The first pushes are written; what stays is what a client costs.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let with: Vec<u64> = servers.iter().map(|s| s.rss().0).collect();
    let (pushes, bytes, deltas) = (
        probe.pushes.load(Ordering::Relaxed),
        probe.bytes.load(Ordering::Relaxed),
        probe.deltas.load(Ordering::Relaxed),
    );
    probe.measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(a.seconds)).await;
    probe.measuring.store(false, Ordering::Relaxed);
    let delivered = probe.pushes.load(Ordering::Relaxed) - pushes;
    let delivered_bytes = probe.bytes.load(Ordering::Relaxed) - bytes;
    let deltas = probe.deltas.load(Ordering::Relaxed) - deltas;
    let memory: Vec<Memory> = servers
        .iter()
        .zip(without.iter().zip(&with))
        .map(|(s, (&without, &with))| {
            let (after, peak) = s.rss();
            Memory {
                without,
                with,
                after,
                peak,
            }
        })
        .collect();
    for c in clients {
        c.abort();
    }
    let report = Report {
        a,
        delivered,
        delivered_bytes,
        deltas,
        connected_in,
        probe: &probe,
    };
    report.print(&memory);
    Ok(())
}

/// The simulator's queues (`SimConfig { queues: 8 }`).
const QUEUES: [&str; 8] = [
    "sales", "support", "billing", "vip", "queue5", "queue6", "queue7", "queue8",
];

/// Tenant `i` of the simulated ones.
fn tenant_name(a: &WsArgs, i: usize) -> String {
    if a.tenants <= 1 {
        "bench".to_owned()
    } else {
        format!("bench-{}", i + 1)
    }
}

/// Where client `n` connects: instances round-robin, then tenants
/// round-robin over an instance's clients, then (with `--per-queue`)
/// queues round-robin over a tenant's.
fn client_url(a: &WsArgs, servers: &[Server], n: usize) -> String {
    let url = &servers[n % servers.len()].url;
    let rest = n / servers.len();
    let tenant = tenant_name(a, rest % a.tenants.max(1));
    let delta = if a.full_pushes { "" } else { "&delta=1" };
    if a.per_queue {
        let q = QUEUES[(rest / a.tenants.max(1)) % QUEUES.len()];
        format!("{url}?tenant={tenant}&queues={q}{delta}")
    } else {
        format!("{url}?tenant={tenant}{delta}")
    }
}

/// Waits until every client has had its first push, could not connect or
/// was let go; past `CONNECT_WITHIN` the bench measures those it has.
async fn wait_ready(a: &WsArgs, probe: &Probe) -> Result<()> {
    let deadline = Instant::now() + CONNECT_WITHIN;
    loop {
        let ready = probe.ready.load(Ordering::Relaxed);
        let failed = probe.failed.load(Ordering::Relaxed);
        let lost = probe.lost.load(Ordering::Relaxed);
        if failed > 0 {
            bail!("{failed} of {} clients could not connect", a.clients);
        }
        if ready + lost >= a.clients as u64 {
            return Ok(());
        }
        if Instant::now() > deadline {
            println!(
                "after {} s only {ready} of {} clients had their first push ({lost} let go); measuring those",
                CONNECT_WITHIN.as_secs(),
                a.clients
            );
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What the bench prints.
struct Report<'a> {
    a: &'a WsArgs,
    delivered: u64,
    delivered_bytes: u64,
    /// Of the pushes delivered, deltas.
    deltas: u64,
    connected_in: Duration,
    probe: &'a Probe,
}

impl Report<'_> {
    fn print(&self, memory: &[Memory]) {
        let a = self.a;
        let h = self.probe.histogram();
        let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        println!(
            "{} clients over {} instances ({} events/s each; {} tenants of {} agents, subscribed to {}, {}), load {}; connected and first push in {:.1} s",
            a.clients,
            a.instances,
            a.rate,
            a.tenants,
            a.agents,
            if a.per_queue { "one queue each" } else { "the whole tenant" },
            if a.full_pushes { "full pushes" } else { "deltas" },
            os::load(),
            self.connected_in.as_secs_f64()
        );
        println!(
            "{} s: {} pushes ({:.2} per client per s, {:.1} KiB each, {:.0} % of them deltas), {} clients lost; push latency (server stamp to receipt) p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, p99.9 {:.0} ms, max {:.0} ms",
            a.seconds,
            self.delivered,
            self.delivered as f64 / a.clients as f64 / a.seconds as f64,
            self.delivered_bytes as f64 / self.delivered.max(1) as f64 / 1024.0,
            100.0 * self.deltas as f64 / self.delivered.max(1) as f64,
            self.probe.lost.load(Ordering::Relaxed),
            ms(0.5),
            ms(0.9),
            ms(0.99),
            ms(0.999),
            h.max() as f64 / 1000.0
        );
        for (i, m) in memory.iter().enumerate() {
            let n = (a.clients / a.instances + usize::from(i < a.clients % a.instances)).max(1);
            println!(
                "instance {}: {n} clients; RSS {:.1} MiB without clients, {:.1} MiB with them, {:.1} MiB after the window, peak {:.1} MiB: {:.1} KiB per client ({:.1} KiB after the window)",
                i + 1,
                m.without as f64 / 1024.0,
                m.with as f64 / 1024.0,
                m.after as f64 / 1024.0,
                m.peak as f64 / 1024.0,
                m.with.saturating_sub(m.without) as f64 / n as f64,
                m.after.saturating_sub(m.without) as f64 / n as f64,
            );
        }
    }
}
