//! `wallboard replay`: reads a trace, prints its interval report on stdout
//! and a summary of what was read on stderr.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use aggregator::{interval_report, Engine, Range};
use wallboard_events::event::DEFAULT_TENANT;

use wallboard::replay::{replay, replay_queue_log, ReplaySummary};
use wallboard::report_format::{to_csv, to_table, Lang};

use super::MetricFlags;

#[derive(Args, Debug)]
pub(super) struct ReplayArgs {
    /// JSON Lines file of canonical events, or `-` for stdin.
    pub input: PathBuf,
    #[command(flatten)]
    pub metrics: MetricFlags,
    /// Settings file (as for `serve`): its `[metrics]`, `[[queues]]`, alert
    /// thresholds and `[[tenants]]` decide how each tenant is computed; the
    /// flags above change `[metrics]` (the defaults), not a tenant's own keys.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// "Now" for the report (Unix ms): later events are skipped and open agent
    /// states accrue up to here. Default: the largest `ts` applied.
    #[arg(long, value_name = "MS")]
    pub until: Option<i64>,
    /// Report this tenant (default: the first tenant in the input; for a
    /// `queue_log`, the tenant its events get, default `default`).
    #[arg(long, value_name = "T")]
    pub tenant: Option<String>,
    /// What the input is.
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    pub format: Format,
    /// How to print the report.
    #[arg(long, value_enum, default_value_t = ReportOutput::Json)]
    pub output: ReportOutput,
    /// Language of the column headers of `--output csv` and `table`.
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,
    /// A forecast file (CSV or JSON, events.md "Forecast files") for the
    /// reported tenant: rows gain the forecast fields.
    #[arg(long, value_name = "FILE")]
    pub forecast: Option<PathBuf>,
}

/// What `replay` prints on stdout.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ReportOutput {
    /// The interval report of metrics.md (schema wallboard.interval-report.v1).
    Json,
    /// One row per queue and interval, for Excel or WPS (UTF-8 with BOM, CRLF).
    Csv,
    /// The main columns aligned for a terminal.
    Table,
}

/// Input formats of `replay`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Format {
    /// Canonical events, one JSON object per line.
    Jsonl,
    /// An Asterisk `queue_log`, translated as adapters.md says.
    QueueLog,
}

/// Longer than any trace: a year.
const REPLAY_DEDUP_WINDOW_MINUTES: u32 = 366 * 24 * 60;

pub(super) fn run(args: &ReplayArgs) -> Result<()> {
    let params = replay_params(args)?;
    let mut input: Box<dyn Read> = if args.input.as_os_str() == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(
            File::open(&args.input)
                .with_context(|| format!("cannot open {}", args.input.display()))?,
        )
    };
    let mut head = Vec::new();
    (&mut input)
        .take(SNIFFED_BYTES)
        .read_to_end(&mut head)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    if args.format == Format::Jsonl {
        if let Some(shape) = not_json_lines(&head) {
            anyhow::bail!("{} is {shape}", args.input.display());
        }
    }
    let input = io::Cursor::new(head).chain(input);
    let mut engine = Engine::new(params);
    let mut summary = match args.format {
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
    if let Some(path) = &args.forecast {
        // `ts` 0: a forecast in the trace itself replaces the file's.
        let events = super::forecast::read(path, &tenant, engine.params_of(&tenant), 0)?;
        wallboard::replay::apply_forecasts(&mut summary, &mut engine, &events);
    }
    let report = if let Some(t) = engine.tenant(&tenant) {
        let now = args.until.or(t.max_ts()).unwrap_or(0);
        interval_report(t, now, Range::default())
    } else {
        let empty = aggregator::TenantEngine::new(&tenant, engine.params_of(&tenant).clone());
        interval_report(&empty, 0, Range::default())
    };
    // The report can be tens of MB: write it in large blocks, not per line.
    let mut out = io::BufWriter::with_capacity(1 << 20, io::stdout().lock());
    match args.output {
        ReportOutput::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        ReportOutput::Csv => out.write_all(&to_csv(&report, args.lang))?,
        ReportOutput::Table => out.write_all(to_table(&report, args.lang).as_bytes())?,
    }
    out.flush()?;
    print_summary(&summary, &tenant);
    if let Some(t) = engine.tenant(&tenant) {
        print_history_notes(t.stats());
    }
    Ok(())
}

/// How much of the input is looked at to tell what it is.
const SNIFFED_BYTES: u64 = 8 << 10;

/// What the input looks like when its first line cannot be a JSON Lines
/// event (a lone `{`, an array, a `queue_log` line): said once, instead of
/// every line rejected one by one. `None` for anything else, so a trace
/// whose first line is valid is never refused.
fn not_json_lines(head: &[u8]) -> Option<String> {
    const ONE_PER_LINE: &str = "JSON Lines (one canonical event per line) is expected";
    let text = String::from_utf8_lossy(head);
    let first = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    if first.starts_with('[') {
        return Some(format!(
            "a JSON array, not JSON Lines; {ONE_PER_LINE}, e.g. `jq -c '.[]' FILE`"
        ));
    }
    if first == "{" {
        if text.contains(&format!("\"schema\": \"{}\"", aggregator::report::SCHEMA)) {
            return Some(format!(
                "an interval report (what `wallboard replay` prints), not events; {ONE_PER_LINE}"
            ));
        }
        return Some(format!(
            "pretty-printed JSON (one object over several lines), not JSON Lines; {ONE_PER_LINE}, e.g. `jq -c . FILE`"
        ));
    }
    let (epoch, rest) = first.split_once('|')?;
    (!epoch.is_empty() && epoch.bytes().all(|b| b.is_ascii_digit()) && rest.contains('|')).then(
        || "an Asterisk queue_log, not JSON Lines; replay it with `--format queue-log`".to_owned(),
    )
}

/// The parameters of every tenant: `--config` (or the defaults), the flags
/// on `[metrics]`, and a dedup window and history as long as any trace.
fn replay_params(args: &ReplayArgs) -> Result<aggregator::TenantParams> {
    let mut config = match &args.config {
        // Not `load(None)`: without a file, `WALLBOARD_*` variables do not
        // change a replay, as before `--config` existed.
        None => wallboard::config::AppConfig::default(),
        Some(file) => wallboard::config::AppConfig::load(Some(file))?,
    };
    config.metrics = args.metrics.apply(config.metrics);
    // A file is finite and has no lateness limit: remember every id in it.
    config.metrics.dedup_window_minutes = REPLAY_DEDUP_WINDOW_MINUTES;
    config.metrics.history_days = REPLAY_DEDUP_WINDOW_MINUTES / (24 * 60);
    config.tenant_params().context("invalid metric settings")
}

/// What the history limit did: a replay never drops intervals silently.
fn print_history_notes(stats: aggregator::EngineStats) {
    let mut err = io::stderr().lock();
    let notes = [
        (
            stats.intervals_expired,
            "intervals dropped: older than the history kept before the newest event",
        ),
        (
            stats.beyond_retention,
            "call events older than the history kept: in no interval",
        ),
    ];
    for (n, what) in notes {
        if n > 0 {
            let _ = writeln!(err, "replay: {n} {what}");
        }
    }
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
        (
            s.floor_messages,
            "floor messages read (counted in no metric)",
        ),
        (s.forecasts, "forecasts held (counted in no metric)"),
        (
            s.forecasts_superseded,
            "forecasts older than the one held ignored",
        ),
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

#[cfg(test)]
mod tests {
    use super::not_json_lines;

    #[test]
    fn inputs_that_are_not_json_lines_are_named() {
        let report = "{\n  \"schema\": \"wallboard.interval-report.v1\",\n  \"tenant\": \"acme\"";
        assert!(not_json_lines(report.as_bytes())
            .unwrap()
            .contains("an interval report"));
        let pretty = "\n{\n  \"kind\": \"call_queued\",\n";
        assert!(not_json_lines(pretty.as_bytes())
            .unwrap()
            .contains("pretty-printed JSON"));
        assert!(not_json_lines(b"[{\"kind\": \"call_queued\"}]")
            .unwrap()
            .contains("JSON array"));
        let queue_log = "1763859600|1763859600.1|sales|NONE|ENTERQUEUE||1001|1\n";
        assert!(not_json_lines(queue_log.as_bytes())
            .unwrap()
            .contains("--format queue-log"));
    }

    #[test]
    fn json_lines_and_empty_input_are_left_to_the_parser() {
        assert_eq!(not_json_lines(b""), None);
        assert_eq!(not_json_lines(b"\n\n"), None);
        assert_eq!(not_json_lines(b"{\"kind\": \"x\"}\n{"), None);
        assert_eq!(not_json_lines(b"not json at all\n"), None);
    }
}
