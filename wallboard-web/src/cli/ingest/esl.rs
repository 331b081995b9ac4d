//! `wallboard ingest esl`: follows `FreeSWITCH`'s `mod_callcenter` events over
//! the event socket and publishes their canonical events (the mapping is
//! documented in `ingest::esl`). Reconnects when the connection drops
//! (unless `--once`); a refused password or ACL ends the run with the
//! reason. Skipped messages go to the dead-letter topic (or stderr) with
//! their origin `esl:HOST:PORT#N`, N counting the messages received.

use std::time::Duration;

use anyhow::{anyhow, Result};
use clap::Args;

use ingest::esl::{self, ClientConfig, ClientError};
use wallboard_events::event::DEFAULT_TENANT;

use super::feed::{summary, Feed, Wording};
use super::heartbeat::{HeartbeatArgs, Heartbeats};
use super::OutputArgs;

#[derive(Args, Debug)]
pub(crate) struct EslArgs {
    /// `FreeSWITCH`'s host (`mod_event_socket`'s listen-ip).
    #[arg(long)]
    pub host: String,
    /// The event socket's port.
    #[arg(long, default_value_t = 8021)]
    pub port: u16,
    /// The event socket's password (`event_socket.conf.xml`).
    #[arg(
        long,
        env = "WALLBOARD_ESL_PASSWORD",
        default_value = "ClueCon",
        hide_env_values = true
    )]
    pub password: String,
    /// Tenant of the events.
    #[arg(long, default_value = DEFAULT_TENANT)]
    pub tenant: String,
    /// Seconds between keep-alives (`api status`); a reply slower than that
    /// means the connection is dead and is made again.
    #[arg(long, default_value_t = 15, value_name = "S")]
    pub keepalive_s: u64,
    /// Stop when `FreeSWITCH` closes the connection instead of reconnecting.
    #[arg(long)]
    pub once: bool,
    /// Do not read the agents and their queues back after connecting
    /// (`callcenter_config agent list`, `tier list`).
    #[arg(long)]
    pub no_resync: bool,
    #[command(flatten)]
    pub heartbeat: HeartbeatArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub(super) fn run(args: &EslArgs) -> Result<()> {
    anyhow::ensure!(args.keepalive_s > 0, "--keepalive-s must be at least 1");
    super::check_tenant(&args.tenant)?;
    let keepalive = Duration::from_secs(args.keepalive_s);
    let mut config = ClientConfig::new(&args.host, args.port, &args.password);
    config.tenant.clone_from(&args.tenant);
    config.caller_keys = super::caller_keys()?;
    config.keepalive = keepalive;
    config.keepalive_timeout = keepalive;
    config.reconnect = !args.once;
    config.resync = !args.no_resync;

    let mut sink = args.output.open()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let origin = format!("esl:{}:{}", args.host, args.port);
    let heartbeats = Heartbeats::new(&args.heartbeat, &args.tenant, esl::SOURCE);
    let mut feed = Feed::new(&mut sink, origin, Some(heartbeats));
    // The feed runs on the client's thread: a slow flush (Kafka
    // back-pressure) stops the socket being read, and the client does not
    // count that time against the keep-alive's reply. Heartbeats ride on
    // the client's ticks, which come while it is connected; while it backs
    // off none come, so the board shows the feed as lost once
    // `feed_lost_after_s` passes.
    let result = rt.block_on(esl::run(
        config,
        |o| feed.output(o),
        crate::cli::shutdown_signal(),
    ));
    // What was published is made durable whatever ended the run.
    let flushed = sink.flush();
    let stats = match result {
        Ok(stats) => stats,
        Err(ClientError::Handler(e)) => return Err(e),
        Err(e) => return Err(anyhow!("{e}")),
    };
    flushed?;
    let wording = Wording {
        ignored: "FreeSWITCH events with no canonical event",
        skipped: "messages skipped",
        reconnects: "reconnections",
    };
    summary(&sink, &stats, &wording);
    Ok(())
}
