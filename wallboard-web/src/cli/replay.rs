//! `wallboard replay`: reads a trace, prints its interval report on stdout
//! and a summary of what was read on stderr.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use aggregator::{interval_report, Engine, MetricsConfig, Range};
use ingest::event::DEFAULT_TENANT;

use wallboard_web::replay::{replay, replay_queue_log, ReplaySummary};

use super::MetricFlags;

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// JSON Lines file of canonical events, or `-` for stdin.
    pub input: PathBuf,
    #[command(flatten)]
    pub metrics: MetricFlags,
    /// "Now" for the report (Unix ms): later events are skipped and open agent
    /// states accrue up to here. Default: the largest `ts` applied.
    #[arg(long, value_name = "MS")]
    pub until: Option<i64>,
    /// Report this tenant (default: the first tenant in the input; for a
    /// queue_log, the tenant its events get, default `default`).
    #[arg(long, value_name = "T")]
    pub tenant: Option<String>,
    /// What the input is.
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    pub format: Format,
}

/// Input formats of `replay`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Canonical events, one JSON object per line.
    Jsonl,
    /// An Asterisk queue_log, translated as adapters.md says.
    QueueLog,
}

/// Longer than any trace: a year.
const REPLAY_DEDUP_WINDOW_MINUTES: u32 = 366 * 24 * 60;

pub fn run(args: ReplayArgs) -> Result<()> {
    let mut config = args.metrics.apply(MetricsConfig::default());
    // A file is finite and has no lateness limit: remember every id in it.
    config.dedup_window_minutes = REPLAY_DEDUP_WINDOW_MINUTES;
    config.history_days = REPLAY_DEDUP_WINDOW_MINUTES / (24 * 60);
    let params = config.validate().context("invalid metric settings")?;
    let input: Box<dyn Read> = if args.input.as_os_str() == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(
            File::open(&args.input)
                .with_context(|| format!("cannot open {}", args.input.display()))?,
        )
    };
    let mut engine = Engine::new(params);
    let summary = match args.format {
        Format::Jsonl => replay(input, &mut engine, args.tenant.as_deref(), args.until),
        Format::QueueLog => {
            replay_queue_log(input, &mut engine, args.tenant.as_deref(), args.until)
        }
    }
    .with_context(|| format!("cannot read {}", args.input.display()))?;

    let tenant = args
        .tenant
        .clone()
        .or_else(|| summary.tenants_seen.first().cloned())
        .unwrap_or_else(|| DEFAULT_TENANT.to_owned());
    let report = match engine.tenant(&tenant) {
        Some(t) => {
            let now = args.until.or(t.max_ts()).unwrap_or(0);
            interval_report(t, now, Range::default())
        }
        None => {
            let empty = aggregator::TenantEngine::new(&tenant, engine_params(&engine));
            interval_report(&empty, 0, Range::default())
        }
    };
    // The report can be tens of MB: write it in large blocks, not per line.
    let mut out = io::BufWriter::with_capacity(1 << 20, io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, &report)?;
    writeln!(out)?;
    out.flush()?;
    print_summary(&summary, &tenant);
    Ok(())
}

fn engine_params(engine: &Engine) -> std::sync::Arc<aggregator::Params> {
    std::sync::Arc::new(engine.params().clone())
}

fn print_summary(s: &ReplaySummary, tenant: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(
        err,
        "replay: {} lines read for tenant {tenant:?}: {} applied, {} duplicates dropped, {} rejected",
        s.lines, s.applied, s.duplicates, s.rejected
    );
    let notes = [
        (
            s.out_of_order_states,
            "out-of-order agent states ignored for time",
        ),
        (
            s.ignored_outcomes,
            "outcomes for already-ended queue segments ignored",
        ),
        (s.heartbeats, "heartbeats read (counted in no metric)"),
        (s.other_tenants, "events of other tenants skipped"),
        (s.after_until, "events after --until skipped"),
        (
            s.ignored_lines,
            "queue_log lines with no canonical event (RINGNOANSWER, …)",
        ),
    ];
    for (n, what) in notes {
        if n > 0 {
            let _ = writeln!(err, "replay: {n} {what}");
        }
    }
    if s.tenants_seen.len() > 1 {
        let _ = writeln!(
            err,
            "replay: the input has {} tenants ({}); use --tenant to choose",
            s.tenants_seen.len(),
            s.tenants_seen.join(", ")
        );
    }
    for r in &s.first_rejections {
        let _ = writeln!(err, "replay: rejected {r}");
    }
    if s.rejected > s.first_rejections.len() as u64 {
        let _ = writeln!(
            err,
            "replay: … and {} more rejected lines",
            s.rejected - s.first_rejections.len() as u64
        );
    }
}
