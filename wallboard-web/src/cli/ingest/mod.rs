//! `wallboard ingest ADAPTER`: reads a telephony source, turns it into
//! canonical events and publishes them (Kafka, or JSON Lines).

mod ami;
mod esl;
mod feed;
mod heartbeat;
mod queue_log;
mod sink;

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use wallboard_events::event::DEFAULT_TENANT;
use wallboard_events::jsonl::{parse_line, Line, LineReader};
use wallboard_events::parse::{identifier_problem, MAX_TENANT_IDENT};

pub(super) use sink::{OutputArgs, Sink, Skip};

#[derive(Args, Debug)]
pub(super) struct IngestArgs {
    #[command(subcommand)]
    pub source: IngestSource,
}

#[derive(Subcommand, Debug)]
pub(super) enum IngestSource {
    /// Publish a JSON Lines file (or `-` for stdin) of canonical events.
    Jsonl(JsonlArgs),
    /// Follow (or import, `--once`) an Asterisk `queue_log` file.
    QueueLog(queue_log::QueueLogArgs),
    /// Follow Asterisk's Manager Interface (AMI) queue and member events.
    Ami(ami::AmiArgs),
    /// Follow `FreeSWITCH` `mod_callcenter` events over the event socket (ESL).
    Esl(esl::EslArgs),
}

#[derive(Args, Debug)]
pub(super) struct JsonlArgs {
    /// JSON Lines file of canonical events, or `-` for stdin.
    pub input: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Publish every line as it is, valid or not (to exercise the
    /// aggregator's dead-letter path). By default invalid lines go to the
    /// dead-letter topic with their reason, never to the events topic.
    #[arg(long)]
    pub no_validate: bool,
}

/// The caller keys of the salt in `WALLBOARD_CALLER_SALT` (`events.md`,
/// "Caller key"): none when it is unset, refused when it is empty.
fn caller_keys() -> Result<Option<ingest::adapter::CallerKeys>> {
    use ingest::adapter::{CallerKeys, CALLER_SALT_ENV};
    let value = match std::env::var(CALLER_SALT_ENV) {
        Ok(v) => Some(v),
        Err(std::env::VarError::NotPresent) => None,
        Err(e) => anyhow::bail!("{CALLER_SALT_ENV}: {e}"),
    };
    Ok(CallerKeys::from_setting(value.as_deref())?)
}

/// Checks `--tenant` as events.md defines a tenant.
fn check_tenant(tenant: &str) -> Result<()> {
    match identifier_problem(tenant, MAX_TENANT_IDENT) {
        Some(problem) => anyhow::bail!("--tenant {tenant:?} {problem}"),
        None => Ok(()),
    }
}

pub(super) fn run(args: IngestArgs) -> Result<()> {
    match args.source {
        IngestSource::Jsonl(a) => jsonl(&a),
        IngestSource::QueueLog(a) => queue_log::run(&a),
        IngestSource::Ami(a) => ami::run(a),
        IngestSource::Esl(a) => esl::run(&a),
    }
}

fn jsonl(args: &JsonlArgs) -> Result<()> {
    let input: Box<dyn BufRead> = if args.input.as_os_str() == "-" {
        Box::new(BufReader::with_capacity(1 << 20, io::stdin().lock()))
    } else {
        let f = File::open(&args.input)
            .with_context(|| format!("cannot open {}", args.input.display()))?;
        Box::new(BufReader::with_capacity(1 << 20, f))
    };
    let mut sink = args.output.open()?;
    if args.no_validate {
        return publish_raw(input, &mut sink);
    }
    let name = args.input.display().to_string();
    let mut lines = LineReader::new(input);
    while let Some(line) = lines.next_line()? {
        let bytes = match &line {
            Line::Text(_, b) => *b,
            Line::TooLong(..) => &[][..],
        };
        match parse_line(&line) {
            Ok(e) => sink.raw_event(&e.tenant, bytes)?,
            Err(r) => sink.skipped(&Skip {
                raw: bytes,
                code: r.error.code(),
                reason: &r.error.to_string(),
                origin: &format!("{name}:{}", r.line),
            })?,
        }
    }
    sink.flush()?;
    eprintln!(
        "ingest: {} events published to {}, {} rejected",
        sink.sent,
        sink.describe(),
        sink.skipped
    );
    Ok(())
}

/// Publishes every non-blank line as it is, oversize ones included.
fn publish_raw(mut input: Box<dyn BufRead>, sink: &mut Sink) -> Result<()> {
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        let tenant = wallboard_events::parse_event(text)
            .map_or_else(|_| DEFAULT_TENANT.to_owned(), |e| e.tenant.into_owned());
        sink.raw_event(&tenant, text)?;
    }
    sink.flush()?;
    eprintln!(
        "ingest: {} lines published unvalidated to {}",
        sink.sent,
        sink.describe()
    );
    Ok(())
}
