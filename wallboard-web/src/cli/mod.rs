//! Command-line interface: parses arguments and dispatches to a subcommand.

mod bench;
mod bench_catchup;
mod bench_kafka;
mod bench_ws;
mod demo;
mod erlang;
mod forecast;
mod ingest;
mod proc_cpu;
mod replay;
mod serve;
mod simulate;

use std::io::IsTerminal;
use std::net::{SocketAddr, ToSocketAddrs};
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
pub(crate) struct MetricFlags {
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
    pub(crate) fn apply(&self, mut base: MetricsConfig) -> MetricsConfig {
        if let Some(i) = self.interval {
            base.interval_minutes = i;
        }
        if let Some(tz) = &self.tz {
            base.tz.clone_from(tz);
        }
        if !self.sl.is_empty() {
            base.sl_thresholds_s.clone_from(&self.sl);
        }
        if let Some(s) = self.short_abandon {
            base.short_abandon_s = s;
        }
        base
    }
}

/// A command-line value that does not parse (clap prints it after the
/// option's name).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ArgError {
    /// `-X` without `=`.
    #[error("{0:?} is not KEY=VALUE")]
    NotKeyValue(String),
    /// `--listen` that does not resolve.
    #[error("{text:?} is not HOST:PORT that resolves ({source}); e.g. 127.0.0.1:8080")]
    Unresolved {
        /// The value given.
        text: String,
        /// What the resolver said.
        source: std::io::Error,
    },
    /// `--listen` that resolves to nothing.
    #[error("{0:?} resolves to no address")]
    NoAddress(String),
}

/// Parses a `-X KEY=VALUE` librdkafka property.
pub(crate) fn kafka_property(s: &str) -> Result<(String, String), ArgError> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| ArgError::NotKeyValue(s.to_owned()))
}

/// Parses `--listen`: `IP:PORT`, or `HOST:PORT` resolved as the system
/// resolves names (`localhost:8080`). A name with several addresses binds
/// the first IPv4 one (what a browser on `localhost` reaches), else the first.
pub(crate) fn listen_addr(s: &str) -> Result<SocketAddr, ArgError> {
    let addrs: Vec<SocketAddr> = s
        .to_socket_addrs()
        .map_err(|source| ArgError::Unresolved {
            text: s.to_owned(),
            source,
        })?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| ArgError::NoAddress(s.to_owned()))
}

/// Whether log lines get ANSI colours: only on a terminal, and never when
/// `NO_COLOR` is set to anything but the empty string (no-color.org).
fn log_colours(stderr_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(std::ffi::OsStr::is_empty)
}

/// Whether `e` is a write to a pipe whose reader has gone (`… | head`).
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
    })
}

/// Ends the process as Unix tools end when their reader goes away: killed
/// by `SIGPIPE`, quietly (the shell reports status 141). Rust ignores
/// `SIGPIPE` so that writes fail instead; this restores the default first.
fn die_of_sigpipe() -> ExitCode {
    // SAFETY: `signal` and `raise` with constant, valid arguments; nothing
    // else runs signal handlers in this process.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    // SIGPIPE is 13 on every Unix.
    ExitCode::from(128 + u8::try_from(libc::SIGPIPE).unwrap_or(13))
}

/// Resolves on Ctrl-C or SIGTERM (what a service manager sends to stop).
///
/// The handlers are installed when this is called, not when the future is
/// first polled: a busy loop that only waits for it between batches must
/// still stop gracefully on a signal that arrives before its first wait.
/// Must be called inside the runtime.
pub(crate) fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        let recv = |s: std::io::Result<tokio::signal::unix::Signal>| async move {
            match s {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            () = recv(int) => {}
            () = recv(term) => {}
        }
    }
}

pub(crate) fn run() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(log_colours(
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
        ))
        .init();
    let result = match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Replay(args) => replay::run(&args),
        Command::Serve(args) => serve::run(args),
        Command::Ingest(args) => ingest::run(args),
        Command::Simulate(args) => simulate::run(&args),
        Command::Erlang(args) => erlang::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => die_of_sigpipe(),
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

    /// Every argument of every subcommand, as `sub sub --flag`, that has no help text.
    fn arguments_without_help(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        let path = format!("{path} {}", cmd.get_name()).trim().to_owned();
        for arg in cmd.get_arguments() {
            let builtin = matches!(arg.get_id().as_str(), "help" | "version");
            if !builtin && arg.get_help().is_none() && arg.get_long_help().is_none() {
                let name = arg
                    .get_long()
                    .map_or_else(|| arg.get_id().to_string(), |l| format!("--{l}"));
                out.push(format!("{path} {name}"));
            }
        }
        for sub in cmd.get_subcommands() {
            if sub.get_about().is_none() && sub.get_name() != "help" {
                out.push(format!("{path} {} (no about)", sub.get_name()));
            }
            arguments_without_help(sub, &path, out);
        }
    }

    #[test]
    fn log_colours_only_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(super::log_colours(true, None));
        assert!(super::log_colours(true, Some(OsStr::new(""))));
        assert!(!super::log_colours(true, Some(OsStr::new("1"))));
        assert!(!super::log_colours(false, None));
    }

    #[test]
    fn listen_resolves_names_and_explains_what_does_not() {
        assert_eq!(
            super::listen_addr("localhost:8080").unwrap(),
            "127.0.0.1:8080".parse().unwrap()
        );
        assert_eq!(
            super::listen_addr("[::1]:80").unwrap(),
            "[::1]:80".parse().unwrap()
        );
        let e = super::listen_addr("8080").unwrap_err();
        assert!(e.to_string().contains("HOST:PORT"), "{e}");
    }

    #[test]
    fn a_closed_pipe_is_told_apart_from_other_errors() {
        let pipe = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert!(super::is_broken_pipe(
            &anyhow::Error::new(pipe).context("writing")
        ));
        let json = serde_json::Error::io(std::io::ErrorKind::BrokenPipe.into());
        assert!(super::is_broken_pipe(&json.into()));
        assert!(!super::is_broken_pipe(&anyhow::anyhow!("cannot open x")));
    }

    #[test]
    fn every_argument_of_every_subcommand_has_help() {
        let mut missing = Vec::new();
        arguments_without_help(&super::Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "no help text:\n{}", missing.join("\n"));
    }
}
