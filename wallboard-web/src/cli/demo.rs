//! `wallboard demo`: the embedded default. The simulator, an in-process bus
//! in place of Kafka, the aggregator and the web server in one process.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use tokio::sync::watch;

use std::sync::Arc;

use ingest::simulate::{SimConfig, Simulator, SOURCE as SIMULATOR_SOURCE};
use wallboard::config::AppConfig;
use wallboard::web::{self, AppState, IngestSink};
use wallboard_events::{Event, Upstream};
use wallboard_pipeline::bus::{feed, feed_lines, Bus, Pacing};
use wallboard_pipeline::writer::{self, unix_ms, LogDeadLetters, WriterConfig};
use wallboard_pipeline::Hub;

#[derive(Args, Debug)]
pub(super) struct DemoArgs {
    /// Address to serve the wallboard on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR", value_parser = super::listen_addr)]
    pub listen: SocketAddr,
    /// Configuration file (TOML); the demo needs none.
    #[arg(long)]
    pub config: Option<std::path::PathBuf>,
    /// Agents on shift in the simulated centre.
    #[arg(long, default_value_t = 40)]
    pub agents: usize,
    /// Queues of the simulated centre (sales, support, billing, vip, queue5, …).
    #[arg(long, default_value_t = 4)]
    pub queues: usize,
    /// Multiplier on call arrivals.
    #[arg(long, default_value_t = 1.0)]
    pub load: f64,
    /// Simulated time runs this many times faster than real time.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Seed of the simulator: the same seed gives the same day.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Show this JSON Lines trace instead of the simulator (all at once).
    #[arg(long, value_name = "FILE")]
    pub trace: Option<std::path::PathBuf>,
    /// Seconds between the simulator's heartbeats (`events.md`; none with
    /// `--trace`, which is history, not a feed).
    #[arg(long, default_value_t = 15, value_name = "S", value_parser = clap::value_parser!(u64).range(1..))]
    pub heartbeat_s: u64,
    /// Metric settings for the trace (as for `replay`).
    #[command(flatten)]
    pub metrics: super::MetricFlags,
    /// A forecast file (CSV or JSON, events.md "Forecast files") sent
    /// through the bus at start, for `--forecast-tenant`.
    #[arg(long, value_name = "FILE")]
    pub forecast: Option<std::path::PathBuf>,
    /// The tenant `--forecast` is for (the simulator's is `acme`).
    #[arg(long, value_name = "T", default_value = "acme")]
    pub forecast_tenant: String,
}

pub(super) fn run(args: DemoArgs) -> Result<()> {
    let mut config = AppConfig::load(args.config.as_deref())?;
    config.metrics = args.metrics.apply(config.metrics);
    config.server.listen = args.listen;
    let params = config.tenant_params()?;
    let w_params = params.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let (changed_tx, changed_rx) = watch::channel(0u64);
        let w = writer::spawn(
            WriterConfig {
                partition: 0,
                params,
                allowed_lateness_ms: i64::try_from(config.pipeline.allowed_lateness_s)? * 1000,
                // A simulator faster than real time runs ahead of the clock.
                max_future_ms: (args.speed <= 1.0).then(|| config.pipeline.max_future_ms()),
                publish_interval: Duration::from_millis(config.server.publish_interval_ms),
                snapshot_interval: Duration::from_secs(3600),
                snapshots: None,
                freshness: config.freshness,
            },
            Box::new(LogDeadLetters),
            changed_tx,
        );
        let bus = Bus::new(w.handle.inbox.clone());
        if let Some(path) = &args.forecast {
            let tenant = &args.forecast_tenant;
            let events = super::forecast::read(path, tenant, w_params.of(tenant), unix_ms())?;
            bus.send(super::forecast::payloads(&events))
                .map_err(anyhow::Error::msg)?;
        }
        if let Some(path) = &args.trace {
            let data =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let lines = data
                .split(|&b| b == b'\n')
                .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
                .map(<[u8]>::to_vec)
                .collect();
            let b = bus.clone();
            tokio::task::spawn_blocking(move || feed_lines(lines, &b))
                .await?
                .map_err(anyhow::Error::msg)?;
        } else {
            if args.forecast.is_none() {
                send_sim_forecast(&args, w_params.of("acme"), &bus)?;
            }
            start_simulator(&args, bus.clone());
            start_heartbeats(Duration::from_secs(args.heartbeat_s), bus.clone());
        }
        let state = AppState::new(Hub::new(vec![w.handle.clone()], changed_rx), config.clone())
            .with_ingest(IngestSink::Bus(bus));
        let (file, flags, listen) = (args.config.clone(), args.metrics.clone(), args.listen);
        // SIGHUP: the file again, with the same flags on top (README, "Reloading").
        wallboard::reload::reload_on_sighup(state.shown.clone(), move || {
            let mut c = AppConfig::load(file.as_deref()).map_err(|e| e.to_string())?;
            c.metrics = flags.apply(c.metrics);
            c.server.listen = listen;
            Ok(c)
        });
        let listener = tokio::net::TcpListener::bind(config.server.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.server.listen))?;
        let addr = listener.local_addr()?;
        print_banner(addr);
        web::serve(listener, state, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
        Ok(())
    })
}

/// Prints where the demo is served. A closed stdout (`wallboard demo |
/// head -1`) must not stop a server that is running for its browser
/// clients: unlike `println!`, a failed write is logged, never a panic.
fn print_banner(addr: SocketAddr) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let written = writeln!(
        out,
        "wallboard demo: open http://{addr}/  (kiosk: http://{addr}/?kiosk=1&lang=zh-CN)"
    )
    .and_then(|()| {
        writeln!(
            out,
            "agent scorecard (team leads): http://{addr}/scorecard.html"
        )
    })
    .and_then(|()| {
        writeln!(
            out,
            "REST: http://{addr}/api/v1/tenants/acme/live · Ctrl-C to stop"
        )
    })
    .and_then(|()| out.flush());
    if let Err(e) = written {
        tracing::debug!("stdout is closed ({e}); serving on http://{addr}/ anyway");
    }
}

/// Sends the simulator's heartbeat every `every` (`events.md`,
/// "Heartbeats"), so the demo's board shows real freshness states.
fn start_heartbeats(every: Duration, bus: Arc<Bus>) {
    std::thread::Builder::new()
        .name("demo-heartbeats".into())
        .spawn(move || loop {
            let hb = Event::heartbeat("acme", SIMULATOR_SOURCE, unix_ms(), Upstream::Up);
            if bus.send(vec![hb.to_json().into_bytes()]).is_err() {
                return; // the writer has stopped
            }
            std::thread::sleep(every);
        })
        .expect("spawn heartbeat thread");
}

/// The simulator's forecast of its first day (`sim_forecast`), sent
/// before its events so the board compares the day with a plan.
fn send_sim_forecast(args: &DemoArgs, params: &aggregator::Params, bus: &Bus) -> Result<()> {
    use wallboard::sim_forecast::{plan, Goal};
    let now = unix_ms();
    let start = now - 3 * 3_600_000;
    let sim = Simulator::new(SimConfig {
        seed: args.seed,
        tenant: "acme".into(),
        agents: args.agents,
        queues: args.queues,
        start_ms: start,
        hours: 8.0,
        load: args.load,
        kpis: false,
    });
    let clock = aggregator::time::IntervalClock::new(params.tz, params.interval_minutes);
    let goal = Goal {
        threshold_s: params.thresholds_s.first().copied().unwrap_or(20),
        target: 0.8,
    };
    let forecasts = plan(
        &sim,
        &clock,
        (start, start + 8 * 3_600_000),
        goal,
        args.seed,
    );
    let events = wallboard::forecast_file::to_events("acme", forecasts, now);
    bus.send(super::forecast::payloads(&events))
        .map_err(anyhow::Error::msg)
}

/// Runs the simulator: its day started three hours ago, so that history is
/// sent at once and the rest arrives live.
fn start_simulator(args: &DemoArgs, bus: Arc<Bus>) {
    // Simulated 8-hour days back to back, so the demo never runs dry; event
    // ids carry the day so they stay unique.
    const DAY_MS: i64 = 8 * 3_600_000;
    let now = unix_ms();
    let (seed, agents, queues, load) = (args.seed, args.agents, args.queues, args.load);
    let sim = (0u64..).flat_map(move |day| {
        Simulator::new(SimConfig {
            seed: seed.wrapping_add(day),
            tenant: "acme".into(),
            agents,
            queues,
            start_ms: now - 3 * 3_600_000
                + i64::try_from(day).unwrap_or(i64::MAX / DAY_MS) * DAY_MS,
            hours: 8.0,
            load,
            kpis: true,
        })
        .map(move |mut e| {
            e.id = format!("d{day}-{}", e.id).into();
            e
        })
    });
    feed(
        sim,
        bus,
        Pacing {
            live_from: now,
            speed: args.speed,
        },
    );
}
