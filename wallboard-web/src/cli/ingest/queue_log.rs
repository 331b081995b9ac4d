//! `wallboard ingest queue-log`: follows (or imports) an Asterisk `queue_log`
//! and publishes its canonical events, checkpointing the position after each
//! flush so a restart resumes exactly where the published lines end.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;

use ingest::queue_log::SOURCE as QUEUE_LOG_SOURCE;
use ingest::queue_log::{
    line_text, Checkpoint, FileFollower, FollowedLine, LineError, LineProblem, QueueLogTranslator,
    Switch,
};
use wallboard_events::event::DEFAULT_TENANT;
use wallboard_events::Upstream;

use super::feed::Feed;
use super::heartbeat::{HeartbeatArgs, Heartbeats};
use super::{OutputArgs, Sink};

#[derive(Args, Debug)]
pub(crate) struct QueueLogArgs {
    /// The `queue_log` file, e.g. /`var/log/asterisk/queue_log`.
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

pub(super) fn run(args: &QueueLogArgs) -> Result<()> {
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
    let mut translator =
        QueueLogTranslator::new(&args.tenant, "").with_caller_keys(super::caller_keys()?);
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
    // An import sends no heartbeats: it ends when the file does.
    let heartbeats =
        (!args.once).then(|| Heartbeats::new(&args.heartbeat, &args.tenant, QUEUE_LOG_SOURCE));
    let name = args.file.display().to_string();
    let mut feed = Feed::new(&mut sink, name, heartbeats);
    rt.block_on(follow(
        args,
        &mut follower,
        &mut translator,
        &mut feed,
        &mut lines,
    ))?;
    save(args, &follower, &translator, &mut sink)?;
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
    feed: &mut Feed<'_>,
    lines: &mut u64,
) -> Result<()> {
    let mut stop = std::pin::pin!(crate::cli::shutdown_signal());
    let poll = Duration::from_millis(args.poll_ms.max(1));
    let name = args.file.display().to_string();
    let mut events = Vec::new();
    let mut last_save = Instant::now();
    let mut unsaved = 0u64;
    loop {
        // Upstream is Asterisk's log: down while the file is missing.
        feed.upstream(if args.file.exists() {
            Upstream::Up
        } else {
            Upstream::Down
        })?;
        feed.beat()?;
        let mut failed: Option<anyhow::Error> = None;
        let progressed = follower.poll(args.once, &mut |found| {
            if failed.is_some() {
                return;
            }
            let r = handle(&found, &name, translator, feed, &mut events);
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
                save(args, follower, translator, feed.sink)?;
                (last_save, unsaved) = (Instant::now(), 0);
            }
            continue;
        }
        if args.once {
            return Ok(());
        }
        if unsaved > 0 {
            save(args, follower, translator, feed.sink)?;
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
    found: &FollowedLine<'_>,
    name: &str,
    translator: &mut QueueLogTranslator,
    feed: &mut Feed<'_>,
    events: &mut Vec<wallboard_events::Event<'static>>,
) -> Result<bool> {
    match *found {
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
            let problem = LineProblem::TooLong { size };
            feed.skipped_line(&[], &LineError { line, problem })?;
            Ok(true)
        }
        FollowedLine::Line { line, text } => {
            events.clear();
            let translated =
                line_text(line, text).and_then(|s| Ok(translator.translate(line, s, events)?));
            match translated {
                Ok(()) => events.iter().try_for_each(|e| feed.event(e))?,
                Err(e) => feed.skipped_line(text, &e)?,
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
