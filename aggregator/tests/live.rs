//! The live view agrees with the interval report: the current interval is
//! the report's row for it, "today" is the sum of today's rows, and the
//! rolling window counts the last minutes' calls.

use aggregator::report::QueueRow;
use aggregator::{interval_report, live_snapshot, Engine, MetricsConfig, Range, TenantEngine};
use wallboard_events::jsonl::{parse_line, LineReader};

fn engine_for(file: &str, config: &MetricsConfig) -> Engine {
    let path = format!("{}/../tests/golden/{file}", env!("CARGO_MANIFEST_DIR"));
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut engine = Engine::new(config.validate().unwrap());
    let mut lines = LineReader::new(&data[..]);
    while let Some(line) = lines.next_line().unwrap() {
        if let Ok(e) = parse_line(&line) {
            engine.apply(&e);
        }
    }
    engine
}

fn counts(r: &QueueRow) -> Vec<u64> {
    vec![
        r.entered,
        r.offered,
        r.answered,
        r.abandoned,
        r.short_abandoned,
        r.dequeued,
        r.wait_unknown,
        r.handled,
        r.talk_ms,
        r.acw_ms,
        r.staffed_ms,
        r.available_ms,
        r.busy_ms,
        r.not_ready_ms,
        r.scheduled_ms,
        r.adherent_ms,
        r.answered_within.values().sum(),
    ]
}

fn check_at(t: &TenantEngine, now: i64) {
    let live = live_snapshot(t, now);
    let report = interval_report(t, now, Range::default());
    for q in &live.queues {
        let rows: Vec<&QueueRow> = report
            .queues
            .iter()
            .filter(|r| r.queue == q.queue && r.start_ms >= live.day_start_ms && r.start_ms <= now)
            .collect();
        let current = rows.iter().find(|r| r.start_ms == live.interval_start_ms);
        let zero = vec![0; counts(&q.interval).len()];
        assert_eq!(
            counts(&q.interval),
            current.map_or(zero, |r| counts(r)),
            "{} current interval at {now}",
            q.queue
        );
        let mut sum = vec![0; counts(&q.today).len()];
        for r in &rows {
            for (s, c) in sum.iter_mut().zip(counts(r)) {
                *s += c;
            }
        }
        assert_eq!(counts(&q.today), sum, "{} today at {now}", q.queue);
        if let Some(r) = current {
            assert_eq!(q.interval.sl, r.sl);
            assert_eq!(q.interval.occupancy, r.occupancy);
        }
    }
}

#[test]
fn live_equals_the_report_for_the_same_moment() {
    let engine = engine_for(
        "day-small.jsonl",
        &MetricsConfig {
            tz: "Asia/Shanghai".into(),
            interval_minutes: 15,
            ..Default::default()
        },
    );
    let t = engine.tenant("acme").unwrap();
    let now = t.max_ts().unwrap();
    check_at(t, now);
    // Later than the last event: open states keep accruing.
    check_at(t, now + 600_000);
}

#[test]
fn edge_trace_live_values() {
    let engine = engine_for(
        "edge-basic.jsonl",
        &MetricsConfig {
            interval_minutes: 15,
            ..Default::default()
        },
    );
    let t = engine.tenant("edge").unwrap();
    let now = t.max_ts().unwrap();
    check_at(t, now);
    let live = live_snapshot(t, now);
    // Both agents logged out at the end; nobody is waiting.
    let all = &live.queues[0];
    assert_eq!(all.queue, "*");
    assert_eq!(all.agents.logged_out, 2);
    assert_eq!(all.waiting, 0);
    let ann = live.agents.iter().find(|a| a.agent == "ann").unwrap();
    assert_eq!(ann.state, "logged_out");
    // Scheduled to work until 10:30, logged out at 10:20: out of adherence.
    assert_eq!(ann.adherent, Some(false));
    assert_eq!(ann.out_of_adherence_since_ms, Some(now));
}

#[test]
fn waiting_and_rolling_window_follow_the_calls() {
    let engine = engine_for(
        "edge-basic.jsonl",
        &MetricsConfig {
            interval_minutes: 15,
            rolling_window_minutes: 15,
            ..Default::default()
        },
    );
    let t = engine.tenant("edge").unwrap();
    // 09:02:10: c1, c2 answered; c3 (queued 09:02:00) is waiting in q1.
    let mut partial = Engine::new(
        MetricsConfig {
            interval_minutes: 15,
            ..Default::default()
        }
        .validate()
        .unwrap(),
    );
    let path = format!(
        "{}/../tests/golden/edge-basic.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let data = std::fs::read(path).unwrap();
    let mut lines = LineReader::new(&data[..]);
    while let Some(line) = lines.next_line().unwrap() {
        if let Ok(e) = parse_line(&line) {
            if e.ts <= 1_795_424_530_000 {
                partial.apply(&e);
            }
        }
    }
    let p = partial.tenant("edge").unwrap();
    let live = live_snapshot(p, 1_795_424_530_000);
    let q1 = live.queues.iter().find(|q| q.queue == "q1").unwrap();
    assert_eq!(q1.waiting, 1);
    assert_eq!(q1.oldest_wait_ms, Some(10_000));
    assert_eq!(q1.rolling.answered, 1);
    assert_eq!(q1.agents.on_call + q1.agents.ringing, 2);
    // Fifteen minutes after the last call event, the rolling window is empty.
    let later = live_snapshot(t, t.max_ts().unwrap() + 15 * 60_000);
    assert!(later.queues.iter().all(|q| q.rolling.offered == 0));
}
