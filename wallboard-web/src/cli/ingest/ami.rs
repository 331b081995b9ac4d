//! `wallboard ingest ami`: follows an Asterisk Manager Interface and
//! publishes the canonical events of its queues and members (mapping in
//! `ingest::ami`) through the ingest [`Sink`](super::Sink): Kafka, or JSON
//! Lines. Skipped AMI input goes to the dead letters with its reason and
//! origin `ami:HOST:PORT#MESSAGE`. Runs until Ctrl-C or SIGTERM (or, with
//! `--once`, until the server closes the connection), flushing every second
//! and on the way out.

use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use ingest::ami::{self, AgentKey, ClientConfig, Secret, SystemClock, Timing};
use wallboard_events::event::DEFAULT_TENANT;

use super::feed::{summary, Feed, Wording};
use super::heartbeat::{HeartbeatArgs, Heartbeats};
use super::OutputArgs;

#[derive(Args, Debug)]
pub(crate) struct AmiArgs {
    /// Asterisk's address (manager.conf `bindaddr`).
    #[arg(long)]
    pub host: String,
    /// Manager Interface TCP port (manager.conf `port`).
    #[arg(long, default_value_t = 5038)]
    pub port: u16,
    /// The manager.conf user; it needs `read = agent,call,dialplan` (or
    /// `all`): queue events, hang-ups, and `QUEUESTATUS` to tell timeouts
    /// from abandons.
    #[arg(long)]
    pub username: String,
    /// Its secret. Prefer the environment variable: a command line is
    /// visible to every user of the machine.
    #[arg(long, env = "WALLBOARD_AMI_SECRET", hide_env_values = true)]
    pub secret: Secret,
    /// Tenant of the events this PBX produces.
    #[arg(long, default_value = DEFAULT_TENANT)]
    pub tenant: String,
    /// `Events:` of the login: `on`, or classes like `agent,call,dialplan`.
    #[arg(long, default_value = "on")]
    pub events: String,
    /// Which member header names agents: `interface` (`PJSIP/1001`), or
    /// `member-name` (what `queue_log` writes when members have names).
    #[arg(long, value_enum, default_value_t = AgentId::Interface)]
    pub agent_id: AgentId,
    /// Seconds between keep-alive pings.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub ping_interval_s: u64,
    /// Seconds to wait for a ping's answer before reconnecting.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub ping_timeout_s: u64,
    /// How long a call that left its queue waits for the event saying how
    /// (answer, timeout, hang-up) before it counts as abandoned or dequeued.
    #[arg(long, default_value_t = 2000)]
    pub settle_ms: u32,
    /// Stop when the server closes the connection instead of reconnecting.
    #[arg(long)]
    pub once: bool,
    #[command(flatten)]
    pub heartbeat: HeartbeatArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub(crate) enum AgentId {
    Interface,
    MemberName,
}

pub(super) fn run(args: AmiArgs) -> Result<()> {
    // Opened before our runtime: the Kafka sink runs its own to create topics.
    let mut sink = args.output.open()?;
    let mut cfg = ClientConfig::new(&args.host, args.port, &args.username, args.secret);
    cfg.events = args.events;
    cfg.reconnect = !args.once;
    cfg.translator.tenant = args.tenant;
    cfg.translator.agent_key = match args.agent_id {
        AgentId::Interface => AgentKey::Interface,
        AgentId::MemberName => AgentKey::MemberName,
    };
    cfg.translator.settle_ms = i64::from(args.settle_ms);
    cfg.translator.caller_keys = super::caller_keys()?;
    cfg.timing = Timing {
        ping_interval: Duration::from_secs(args.ping_interval_s),
        ping_timeout: Duration::from_secs(args.ping_timeout_s),
        ..Timing::default()
    };
    let origin = format!("ami:{}", cfg.addr());
    let heartbeats = Heartbeats::new(&args.heartbeat, &cfg.translator.tenant, ami::SOURCE);
    let rt = tokio::runtime::Builder::new_multi_thread()
        // Publishing may block (Kafka flushes, up to a minute): the client
        // keeps its own worker. Once the channel is full it waits for us;
        // that wait does not count against the server's answer to its
        // pings, so a long flush delays events but forces no reconnect.
        .worker_threads(2)
        .enable_all()
        .build()?;
    let stats = rt.block_on(follow(cfg, Feed::new(&mut sink, origin, Some(heartbeats))));
    // Whatever happened, what was published is made durable.
    sink.flush()?;
    let stats = stats?;
    let wording = Wording {
        ignored: "AMI events ignored",
        skipped: "skipped",
        reconnects: "reconnects",
    };
    summary(&sink, &stats, &wording);
    Ok(())
}

async fn follow(cfg: ClientConfig, mut feed: Feed<'_>) -> Result<ami::Stats> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(4096);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let client = tokio::spawn(ami::run(cfg, SystemClock, tx, async {
        let _ = stopped.await;
    }));
    let mut stop = Some(stop);
    // Heartbeats go on while the client backs off: they say it is down.
    let mut tick = tokio::time::interval(feed.tick_every());
    let signal = crate::cli::shutdown_signal();
    tokio::pin!(signal);
    // Until the client ends (and drops its sender): on a signal it settles
    // what is open, sends it and returns.
    loop {
        tokio::select! {
            o = rx.recv() => match o {
                Some(o) => feed.output(o)?,
                None => break,
            },
            _ = tick.tick() => feed.tick()?,
            () = &mut signal, if stop.is_some() => {
                eprintln!("ingest: stopping");
                if let Some(s) = stop.take() {
                    let _ = s.send(());
                }
            }
        }
    }
    let stats = client.await.context("the AMI client failed")??;
    Ok(stats)
}
