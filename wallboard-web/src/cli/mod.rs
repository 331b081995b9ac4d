//! Command-line interface: parses arguments and dispatches to a subcommand.

mod bench;
mod bench_kafka;
mod bench_ws;
mod demo;
mod erlang;
mod ingest;
mod replay;
mod serve;
mod simulate;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use aggregator::MetricsConfig;

#[derive(Parser)]
#[command(
    name = "wallboard",
    version,
    about = "Real-time contact-centre wallboard"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run everything in one process: simulator, in-process bus, aggregator,
    /// web wallboard. Needs nothing installed.
    Demo(demo::DemoArgs),
    /// Run the aggregator and the web server, fed from Kafka.
    Serve(serve::ServeArgs),
    /// Run a CTI adapter: turn a telephony source into canonical events
    /// and publish them (Kafka, or JSON Lines).
    Ingest(ingest::IngestArgs),
    /// Staffing calculator: agents needed for a service-level goal, and the
    /// service level, ASA and occupancy a number of agents gives (Erlang C).
    Erlang(erlang::ErlangArgs),
    /// Compute the interval report of a JSON Lines trace of canonical events.
    Replay(replay::ReplayArgs),
    /// Measure memory (see BENCHMARKS.md).
    Bench(bench::BenchArgs),
    /// Simulate a contact centre and write canonical events as JSON Lines.
    Simulate(simulate::SimulateArgs),
}

/// The metric flags shared by `replay` and `serve`; they override the config.
#[derive(Args, Debug, Clone)]
pub struct MetricFlags {
    /// Interval length in minutes (5, 10, 15, 20, 30 or 60).
    #[arg(long = "interval", value_name = "MINUTES")]
    pub interval: Option<u32>,
    /// IANA time zone of the centre, e.g. Asia/Shanghai.
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Service-level threshold in seconds (repeat for several).
    #[arg(long = "sl", value_name = "SECONDS")]
    pub sl: Vec<u32>,
    /// Abandons with a shorter wait are short abandons (0: off).
    #[arg(long, value_name = "SECONDS")]
    pub short_abandon: Option<u32>,
}

impl MetricFlags {
    /// Applies the flags given on top of `base`.
    pub fn apply(&self, mut base: MetricsConfig) -> MetricsConfig {
        if let Some(i) = self.interval {
            base.interval_minutes = i;
        }
        if let Some(tz) = &self.tz {
            base.tz = tz.clone();
        }
        if !self.sl.is_empty() {
            base.sl_thresholds_s = self.sl.clone();
        }
        if let Some(s) = self.short_abandon {
            base.short_abandon_s = s;
        }
        base
    }
}

/// Parses a `-X KEY=VALUE` librdkafka property.
pub fn kafka_property(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{s:?} is not KEY=VALUE"))
}

/// Resolves on Ctrl-C or SIGTERM (what a service manager sends to stop).
pub async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Ingest(args) => ingest::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Erlang(args) => erlang::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wallboard: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
