//! Replaying a JSON Lines trace into an engine: every line read, every
//! rejection kept with its line number, only I/O errors stop it.

use std::io::{self, Read};

use aggregator::{Applied, Engine};
use ingest::jsonl::{parse_line, LineReader, Rejected};

/// How many rejection reasons the summary spells out.
const SHOWN_REJECTIONS: usize = 10;

/// What a replay read, for the summary.
#[derive(Debug, Default)]
pub struct ReplaySummary {
    pub lines: u64,
    pub applied: u64,
    pub duplicates: u64,
    pub out_of_order_states: u64,
    pub ignored_outcomes: u64,
    pub other_tenants: u64,
    pub after_until: u64,
    pub rejected: u64,
    pub first_rejections: Vec<Rejected>,
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
    while let Some(line) = lines.next_line()? {
        s.lines += 1;
        let event = match parse_line(&line) {
            Ok(e) => e,
            Err(rejected) => {
                s.rejected += 1;
                if s.first_rejections.len() < SHOWN_REJECTIONS {
                    s.first_rejections.push(rejected);
                }
                continue;
            }
        };
        if !s.tenants_seen.iter().any(|t| *t == event.tenant) {
            s.tenants_seen.push(event.tenant.to_string());
        }
        let wanted = tenant.unwrap_or(&s.tenants_seen[0]);
        if event.tenant != wanted {
            s.other_tenants += 1;
            continue;
        }
        if until.is_some_and(|u| event.ts > u) {
            s.after_until += 1;
            continue;
        }
        match engine.apply(&event) {
            Applied::Counted => s.applied += 1,
            Applied::Duplicate => s.duplicates += 1,
            Applied::OutOfOrderState => s.out_of_order_states += 1,
            Applied::SegmentAlreadyEnded => s.ignored_outcomes += 1,
        }
    }
    Ok(s)
}
