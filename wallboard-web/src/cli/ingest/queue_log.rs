//! `wallboard ingest queue-log`: follows (or imports) an Asterisk `queue_log`
//! and publishes its canonical events, checkpointing the position after each
//! flush so a restart resumes exactly where the published lines end.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;

use ingest::queue_log::SOURCE as QUEUE_LOG_SOURCE;
use ingest::queue_log::{Checkpoint, FileFollower, FollowedLine, QueueLogTranslator, Switch};
use wallboard_events::event::DEFAULT_TENANT;
use wallboard_events::Upstream;

use super::heartbeat::{HeartbeatArgs, Heartbeats};
use super::{OutputArgs, Sink, Skip};

#[derive(Args, Debug)]
pub(crate) struct QueueLogArgs {
    /// The queue_log file, e.g. /var/log/asterisk/queue_log.
    pub file: PathBuf,
    /// Read the file to its end and stop (an import) instead of following it.
    #[arg(long)]
    pub once: bool,
    /// Where the position is saved (required when following): a restart
    /// resumes after the last published line, also across a rotation.
    #[arg(long, value_name = "FILE", required_unless_present = "once")]
    pub checkpoint: Option<PathBuf>,
    /// Tenant of the events.
    #[arg(long, default_value = DEFAULT_TENANT)]
    pub tenant: String,
    /// How often the file is checked for new lines, rotation and truncation.
    #[arg(long, default_value_t = 250, value_name = "MS")]
    pub poll_ms: u64,
    /// After a rotation, how long the old file must stay unchanged before
    /// reading moves to the new one (Asterisk writes to the old file until
    /// logrotate's `postrotate` makes it reopen its log).
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    pub rotation_grace_ms: u64,
    #[command(flatten)]
    pub heartbeat: HeartbeatArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub(super) fn run(args: QueueLogArgs) -> Result<()> {
    super::check_tenant(&args.tenant)?;
    if !args.file.exists() {
        // An import needs the file; a follower waits for Asterisk to create it.
        anyhow::ensure!(
            !args.once,
            "cannot open {}: no such file",
            args.file.display()
        );
        eprintln!("ingest: waiting for {} to appear", args.file.display());
    }
    let checkpoint = match &args.checkpoint {
        Some(p) => Checkpoint::load(p)?,
        None => None,
    };
    let mut translator = QueueLogTranslator::new(&args.tenant, "");
    let mut follower =
        FileFollower::open(&args.file, checkpoint.as_ref().map(|c| c.position.clone()))?
            .with_rotation_grace(Duration::from_millis(args.rotation_grace_ms));
    if let Some(c) = checkpoint {
        eprintln!(
            "ingest: {} was read up to line {} before",
            args.file.display(),
            c.position.line
        );
        translator.restore(c.translator);
    }
    let mut sink = args.output.open()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut lines = 0u64;
    rt.block_on(follow(
        &args,
        &mut follower,
        &mut translator,
        &mut sink,
        &mut lines,
    ))?;
    save(&args, &follower, &translator, &mut sink)?;
    eprintln!(
        "ingest: {} lines of {} read, {} events published to {}, {} lines with no event, {} lines skipped",
        lines,
        args.file.display(),
        sink.sent,
        sink.describe(),
        translator.ignored,
        sink.skipped
    );
    Ok(())
}

async fn follow(
    args: &QueueLogArgs,
    follower: &mut FileFollower,
    translator: &mut QueueLogTranslator,
    sink: &mut Sink,
    lines: &mut u64,
) -> Result<()> {
    let mut stop = std::pin::pin!(crate::cli::shutdown_signal());
    let poll = Duration::from_millis(args.poll_ms.max(1));
    let name = args.file.display().to_string();
    let mut events = Vec::new();
    let mut last_save = Instant::now();
    let mut unsaved = 0u64;
    // An import sends none: it ends when the file does.
    let mut heartbeats =
        (!args.once).then(|| Heartbeats::new(&args.heartbeat, &args.tenant, QUEUE_LOG_SOURCE));
    loop {
        if let Some(h) = &mut heartbeats {
            // Upstream is Asterisk's log: down while the file is missing.
            let upstream = if args.file.exists() {
                Upstream::Up
            } else {
                Upstream::Down
            };
            h.tick(sink, upstream)?;
        }
        let mut failed: Option<anyhow::Error> = None;
        let progressed = follower.poll(args.once, &mut |found| {
            if failed.is_some() {
                return;
            }
            let r = handle(found, &name, translator, sink, &mut events);
            *lines += u64::from(matches!(r, Ok(true)));
            if let Err(e) = r {
                failed = Some(e);
            }
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        if progressed {
            unsaved += 1;
            // Checkpoint at least every second while lines keep coming.
            if last_save.elapsed() >= Duration::from_secs(1) {
                save(args, follower, translator, sink)?;
                (last_save, unsaved) = (Instant::now(), 0);
            }
            continue;
        }
        if args.once {
            return Ok(());
        }
        if unsaved > 0 {
            save(args, follower, translator, sink)?;
            (last_save, unsaved) = (Instant::now(), 0);
        }
        tokio::select! {
            () = tokio::time::sleep(poll) => {}
            () = &mut stop => return Ok(()),
        }
    }
}

/// Translates and publishes one thing the follower found; `Ok(true)` for a
/// line read.
fn handle(
    found: FollowedLine<'_>,
    name: &str,
    translator: &mut QueueLogTranslator,
    sink: &mut Sink,
    events: &mut Vec<wallboard_events::Event<'static>>,
) -> Result<bool> {
    match found {
        FollowedLine::File { identity, why } => {
            translator.set_source(identity);
            let what = match why {
                Switch::Opened => "reading",
                Switch::Resumed => "resumed",
                Switch::Rotated => "rotated; reading the new file",
                Switch::Truncated => "truncated; reading it again from the start",
            };
            eprintln!("ingest: {name} {what} (event ids {identity}:LINE:N)");
            Ok(false)
        }
        FollowedLine::TooLong { line, size } => {
            sink.skipped(Skip {
                raw: &[],
                code: "too_long",
                reason: &format!("{size} bytes, too long for a queue_log line"),
                origin: &format!("{name}:{line}"),
            })?;
            Ok(true)
        }
        FollowedLine::Line { line, text } => {
            let Ok(s) = std::str::from_utf8(text) else {
                sink.skipped(Skip {
                    raw: text,
                    code: "not_utf8",
                    reason: "not valid UTF-8",
                    origin: &format!("{name}:{line}"),
                })?;
                return Ok(true);
            };
            events.clear();
            match translator.translate(line, s, events) {
                Ok(()) => {
                    for e in events.iter() {
                        sink.event(e)?;
                    }
                }
                Err(e) => sink.skipped(Skip {
                    raw: text,
                    code: "queue_log",
                    reason: &e.reason,
                    origin: &format!("{name}:{line}"),
                })?,
            }
            Ok(true)
        }
    }
}

/// Makes what was published durable, then records the position.
fn save(
    args: &QueueLogArgs,
    follower: &FileFollower,
    translator: &QueueLogTranslator,
    sink: &mut Sink,
) -> Result<()> {
    sink.flush()?;
    if let Some(path) = &args.checkpoint {
        Checkpoint {
            position: follower.position().clone(),
            translator: translator.state().clone(),
        }
        .save(path)
        .with_context(|| format!("cannot save the checkpoint {}", path.display()))?;
    }
    Ok(())
}
