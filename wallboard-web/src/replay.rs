//! Replaying a JSON Lines trace into an engine: every line read, every
//! rejection kept with its line number, only I/O errors stop it.

use std::io::{self, Read};

use aggregator::{Applied, Engine};
use ingest::queue_log::{file_identity, line_text, LineError, LineProblem, QueueLogTranslator};
use wallboard_events::event::DEFAULT_TENANT;
use wallboard_events::jsonl::{next_id_hint, parse_line, Line, LineReader};
use wallboard_events::Event;

/// How many rejection reasons the summary spells out.
const SHOWN_REJECTIONS: usize = 10;

/// What a replay read, for the summary.
#[derive(Debug, Default)]
pub struct ReplaySummary {
    /// Non-blank lines read.
    pub lines: u64,
    /// Events applied.
    pub applied: u64,
    /// Events dropped as duplicates.
    pub duplicates: u64,
    /// `agent_state` events older than the agent's latest, ignored for time.
    pub out_of_order_states: u64,
    /// Outcomes for a queue segment that had already ended, ignored.
    pub ignored_outcomes: u64,
    /// Heartbeats read: counted in no metric (`events.md`).
    pub heartbeats: u64,
    /// Floor messages read: counted in no metric (`events.md`).
    pub floor_messages: u64,
    /// Forecasts held or replaced (`events.md`, "Forecasts").
    pub forecasts: u64,
    /// Forecasts ignored for being older than the one held.
    pub forecasts_superseded: u64,
    /// Events of a tenant other than the one reported.
    pub other_tenants: u64,
    /// Events after `--until`, not applied.
    pub after_until: u64,
    /// Lines rejected (invalid, or time not accepted).
    pub rejected: u64,
    /// The first few rejected lines, each with its number and reason.
    pub first_rejections: Vec<String>,
    /// Source lines that map to no event (`queue_log` `RINGNOANSWER`, …).
    pub ignored_lines: u64,
    /// Tenants in the order first seen.
    pub tenants_seen: Vec<String>,
}

/// Feeds every line of `input` to `engine`; only I/O errors stop it.
pub fn replay(
    input: impl Read,
    engine: &mut Engine,
    tenant: Option<&str>,
    until: Option<i64>,
) -> io::Result<ReplaySummary> {
    let mut s = ReplaySummary::default();
    let mut lines = LineReader::new(input);
    // The tenant of the last event, for the look-ahead hint.
    let mut last_tenant = String::new();
    while let Some((line, ahead)) = lines.next_line_ahead()? {
        s.lines += 1;
        // The duplicate check reads a table far larger than the caches:
        // start loading the next event's entry while this one is handled.
        if let Some(id) = next_id_hint(ahead) {
            engine.prefetch(tenant.unwrap_or(&last_tenant), id);
        }
        match parse_line(&line) {
            Ok(event) => {
                if event.tenant != last_tenant.as_str() {
                    event.tenant.as_ref().clone_into(&mut last_tenant);
                }
                take(&mut s, engine, &event, tenant, until);
            }
            Err(rejected) => s.reject(&rejected),
        }
    }
    Ok(s)
}

/// Feeds an Asterisk `queue_log` to `engine` (events of `tenant`, default
/// `default`), translated as `adapters.md` says, with the event ids
/// `wallboard ingest queue-log` gives the same file.
pub fn replay_queue_log(
    input: impl Read,
    engine: &mut Engine,
    tenant: Option<&str>,
    until: Option<i64>,
) -> io::Result<ReplaySummary> {
    let mut s = ReplaySummary::default();
    let tenant = tenant.unwrap_or(DEFAULT_TENANT);
    let mut translator = QueueLogTranslator::new(tenant, "");
    let mut events = Vec::new();
    let mut lines = LineReader::new(input);
    while let Some(line) = lines.next_line()? {
        s.lines += 1;
        // Ids as the follower gives them: the first line names the file.
        if let Line::Text(_, first) = &line {
            if translator.source().is_empty() {
                translator.set_source(&file_identity(first));
            }
        }
        let read = match line {
            Line::Text(n, bytes) => line_text(n, bytes).map(|text| (n, text)),
            Line::TooLong(line, size) => Err(LineError {
                line,
                problem: LineProblem::TooLong { size },
            }),
        };
        events.clear();
        let translated =
            read.and_then(|(n, text)| Ok(translator.translate(n, text, &mut events)?));
        if let Err(e) = translated {
            s.reject(&e);
            continue;
        }
        for e in &events {
            take(&mut s, engine, e, Some(tenant), until);
        }
    }
    s.ignored_lines = translator.ignored;
    Ok(s)
}

impl ReplaySummary {
    fn reject(&mut self, why: &dyn std::fmt::Display) {
        self.rejected += 1;
        if self.first_rejections.len() < SHOWN_REJECTIONS {
            self.first_rejections.push(why.to_string());
        }
    }
}

/// Applies one event unless it belongs to another tenant or comes after `until`.
fn take(
    s: &mut ReplaySummary,
    engine: &mut Engine,
    event: &Event<'_>,
    tenant: Option<&str>,
    until: Option<i64>,
) {
    if !s.tenants_seen.iter().any(|t| *t == event.tenant) {
        s.tenants_seen.push(event.tenant.to_string());
    }
    let wanted = tenant.unwrap_or(&s.tenants_seen[0]);
    if event.tenant != wanted {
        s.other_tenants += 1;
        return;
    }
    if until.is_some_and(|u| event.ts > u) {
        s.after_until += 1;
        return;
    }
    match engine.apply(event) {
        Applied::Counted => s.applied += 1,
        Applied::Duplicate => s.duplicates += 1,
        Applied::OutOfOrderState => s.out_of_order_states += 1,
        Applied::SegmentAlreadyEnded => s.ignored_outcomes += 1,
        Applied::TimeRejected(why) => s.reject(&format!("event {:?}: {why}", event.id)),
        Applied::Heartbeat => s.heartbeats += 1,
        Applied::FloorMessage(aggregator::messages::MessageOutcome::Full) => s.reject(&format!(
            "event {:?}: more than {} active floor messages",
            event.id,
            aggregator::messages::MAX_ACTIVE_MESSAGES
        )),
        Applied::FloorMessage(_) => s.floor_messages += 1,
        Applied::Forecast(outcome) => forecast_taken(s, event, outcome),
    }
}

/// Counts a forecast, or rejects it naming its queue and interval.
fn forecast_taken(
    s: &mut ReplaySummary,
    event: &Event<'_>,
    outcome: aggregator::forecast::ForecastOutcome,
) {
    use aggregator::forecast::ForecastOutcome;
    if let Some(code) = outcome.dead_letter() {
        if let wallboard_events::EventBody::Forecast(f) = &event.body {
            return s.reject(&format!(
                "event {:?}: forecast of queue {:?} for {}: {code} (docs/events.md \"Forecasts\")",
                event.id, &*f.queue, f.start_ms
            ));
        }
    }
    match outcome {
        ForecastOutcome::Superseded => s.forecasts_superseded += 1,
        _ => s.forecasts += 1,
    }
}

/// Applies the events of a forecast file (`events.md`, "Forecast files")
/// to `engine`, counted in `s` like the trace's own.
pub fn apply_forecasts(s: &mut ReplaySummary, engine: &mut Engine, events: &[Event<'_>]) {
    for e in events {
        let outcome = engine.apply(e);
        if let Applied::Forecast(o) = outcome {
            forecast_taken(s, e, o);
        }
    }
}
