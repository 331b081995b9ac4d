//! The agent scorecard (`metrics.md`, "Agent scorecard"): hand-checked
//! values and flags, and properties on generated traces.

use proptest::prelude::*;

use aggregator::scorecard::{median, scorecard, Flag, Period, ScorecardError};
use aggregator::{interval_report, Engine, MetricsConfig, Range};
use wallboard_events::parse_event_str;

/// 2026-11-23 00:00 UTC, a Monday.
const T0: i64 = 1_795_392_000_000;
const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

struct Trace {
    lines: Vec<String>,
}

impl Trace {
    fn new() -> Self {
        Trace { lines: Vec::new() }
    }

    fn push(&mut self, ts: i64, body: &str) {
        let id = self.lines.len();
        self.lines
            .push(format!(r#"{{"v":1,"id":"e{id}","ts":{ts},{body}}}"#));
    }

    fn state(&mut self, ts: i64, agent: &str, state: &str) {
        self.push(
            ts,
            &format!(r#""kind":"agent_state","agent":"{agent}","state":"{state}""#),
        );
    }

    /// A call `call` completed at `ts` by `agent` in `sales`.
    fn done(&mut self, ts: i64, agent: &str, call: &str, (talk, hold, acw): (u64, u64, u64)) {
        let transferred = call.ends_with('t');
        self.push(
            ts,
            &format!(
                r#""kind":"call_completed","call":"{call}","queue":"sales","agent":"{agent}","talk_ms":{talk},"hold_ms":{hold},"acw_ms":{acw},"transferred":{transferred}"#
            ),
        );
    }

    fn survey(&mut self, ts: i64, agent: &str, score: u32) {
        self.push(
            ts,
            &format!(
                r#""kind":"survey_result","call":"s{ts}","queue":"sales","agent":"{agent}","score":{score},"scale_min":1,"scale_max":5"#
            ),
        );
    }

    fn engine(&self, config: &MetricsConfig) -> Engine {
        let mut e = Engine::new(config.validate().unwrap());
        let mut lines = self.lines.clone();
        lines.sort_by_key(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["ts"].as_i64().unwrap()
        });
        for l in &lines {
            e.apply(&parse_event_str(l).unwrap());
        }
        e
    }
}

/// Three agents on today: `a1` and `a2` alike, `a3` with twice the talk,
/// transfers and poor surveys; `a4` staffed only.
fn team() -> Trace {
    let mut t = Trace::new();
    let day = T0 + 8 * HOUR;
    for a in ["a1", "a2", "a3", "a4"] {
        t.state(day, a, "available");
    }
    for i in 0..5 {
        let at = day + (i + 1) * 10 * MIN;
        t.done(at, "a1", &format!("x{i}"), (100_000, 10_000, 20_000));
        t.done(at, "a2", &format!("y{i}"), (100_000, 10_000, 20_000));
        let call = if i < 2 {
            format!("z{i}t")
        } else {
            format!("z{i}")
        };
        t.done(at, "a3", &call, (200_000, 40_000, 20_000));
        t.survey(at + 1000, "a1", 5);
        t.survey(at + 1000, "a2", 4);
        t.survey(at + 1000, "a3", 2);
    }
    // The day before: only in the week.
    t.state(T0 - 2 * HOUR, "a1", "available");
    t.done(T0 - HOUR, "a1", "old", (50_000, 0, 0));
    t.state(day + 2 * HOUR, "a1", "logged_out");
    t
}

#[test]
fn a_team_gives_its_hand_checked_scorecard() {
    let engine = team().engine(&MetricsConfig::default());
    let tenant = engine.tenant("default").unwrap();
    let now = tenant.max_ts().unwrap();
    let s = scorecard(tenant, now, Period::Today, None).unwrap();
    assert_eq!((s.start_ms, s.end_ms, s.truncated), (T0, now, false));
    let names: Vec<&str> = s.agents.iter().map(|a| a.agent.as_str()).collect();
    assert_eq!(names, ["a1", "a2", "a3", "a4"]);
    let a1 = &s.agents[0].metrics;
    assert_eq!(a1.handled, 5, "yesterday's call is not today's");
    assert_eq!(a1.ratios.aht_ms, Some(120_000.0));
    assert_eq!(a1.ratios.avg_talk_ms, Some(90_000.0));
    assert_eq!(a1.ratios.avg_hold_ms, Some(10_000.0));
    assert_eq!(a1.ratios.avg_acw_ms, Some(20_000.0));
    let a3 = &s.agents[2];
    assert_eq!(a3.metrics.transferred, 2);
    assert_eq!(a3.metrics.ratios.transfer_rate, Some(0.4));
    assert_eq!(a3.metrics.ratios.aht_ms, Some(220_000.0));
    // Medians: AHT of a1, a2, a3 (a4 has no call): 120 s; handled of all
    // four: (5 + 5) / 2; CSAT mean of 100, 75, 25: 75.
    assert_eq!(s.team_median.ratios.aht_ms, Some(120_000.0));
    assert_eq!(s.team_median.handled, Some(5.0));
    assert_eq!(s.team_median.ratios.csat_mean, Some(75.0));
    assert_eq!(s.team_median.ratios.transfer_rate, Some(0.0));
    let flags = &a3.flags;
    assert_eq!(flags.get("aht_ms"), Some(&Flag::High));
    assert_eq!(flags.get("avg_hold_ms"), Some(&Flag::High));
    assert_eq!(flags.get("transfer_rate"), Some(&Flag::High));
    assert_eq!(flags.get("csat"), Some(&Flag::Low));
    assert_eq!(flags.get("csat_mean"), Some(&Flag::Low));
    assert!(!flags.contains_key("avg_acw_ms"), "same ACW: {flags:?}");
    assert!(s.agents[0].flags.is_empty() && s.agents[1].flags.is_empty());
    // The week has yesterday's call too.
    let week = scorecard(tenant, now, Period::Week, None).unwrap();
    assert_eq!(week.start_ms, T0 - 6 * DAY);
    assert_eq!(week.agents[0].metrics.handled, 6);
}

#[test]
fn the_week_is_cut_to_the_history_kept_and_says_so() {
    let config = MetricsConfig {
        history_days: 3,
        ..MetricsConfig::default()
    };
    let mut t = team();
    t.done(T0 - 4 * DAY, "a1", "gone", (1000, 0, 0));
    let e = t.engine(&config);
    let t = e.tenant("default").unwrap();
    let now = t.max_ts().unwrap();
    let w = scorecard(t, now, Period::Week, None).unwrap();
    assert!(w.truncated);
    assert_eq!(w.start_ms, T0 - 6 * DAY);
    // The first whole interval after now − 3 days.
    assert!(w.covered_from_ms >= now - 3 * DAY && w.covered_from_ms < now - 3 * DAY + 30 * MIN);
    assert_eq!(
        w.agents[0].metrics.handled, 6,
        "the call 4 days back is gone"
    );
    let d = scorecard(t, now, Period::Today, None).unwrap();
    assert!(!d.truncated && d.covered_from_ms == d.start_ms);
}

#[test]
fn a_queue_lists_its_members_and_an_unknown_one_is_refused() {
    let mut t = team();
    t.push(
        T0 + 8 * HOUR,
        r#""kind":"agent_queues","agent":"a2","queues":["sales"]"#,
    );
    let e = t.engine(&MetricsConfig::default());
    let t = e.tenant("default").unwrap();
    let now = t.max_ts().unwrap();
    let s = scorecard(t, now, Period::Today, Some("sales")).unwrap();
    let names: Vec<&str> = s.agents.iter().map(|a| a.agent.as_str()).collect();
    assert_eq!(names, ["a2"]);
    assert_eq!(s.team_median.ratios.aht_ms, Some(120_000.0));
    assert_eq!(
        scorecard(t, now, Period::Today, Some("nope")).unwrap_err(),
        ScorecardError::UnknownQueue("nope".into())
    );
}

#[test]
fn medians_of_even_and_odd_counts() {
    assert_eq!(median(vec![]), None);
    assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
    assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
}

#[test]
fn live_agent_rows_carry_today_only_with_surveys() {
    let e = team().engine(&MetricsConfig::default());
    let t = e.tenant("default").unwrap();
    let live = aggregator::live_snapshot(t, t.max_ts().unwrap());
    let v = serde_json::to_value(&live.agents).unwrap();
    assert_eq!(v[0]["today"]["surveys"], 5);
    assert_eq!(v[0]["today"]["csat"], 1.0);
    assert_eq!(v[2]["today"]["csat_mean"], 25.0);
    assert!(v[3].get("today").is_none(), "a4 has none: {}", v[3]);
}

/// A generated call: minute after 08:00, talk, hold, ACW, transferred.
type CallSpec = (i64, u64, u64, u64, bool);

/// One agent's generated day.
fn calls() -> impl Strategy<Value = Vec<CallSpec>> {
    proptest::collection::vec(
        (
            0i64..600,
            1u64..600_000,
            0u64..60_000,
            0u64..120_000,
            any::<bool>(),
        ),
        0..12,
    )
}

fn trace_of(agents: &[Vec<CallSpec>]) -> Trace {
    let mut t = Trace::new();
    for (i, calls) in agents.iter().enumerate() {
        let a = format!("a{i}");
        t.state(T0 + 8 * HOUR, &a, "available");
        for (j, &(m, talk, hold, acw, tr)) in calls.iter().enumerate() {
            let call = format!("c{i}-{j}{}", if tr { "t" } else { "" });
            t.done(T0 + 8 * HOUR + m * MIN, &a, &call, (talk + hold, hold, acw));
            t.survey(
                T0 + 8 * HOUR + m * MIN + 1,
                &a,
                1 + u32::try_from(j % 5).unwrap(),
            );
        }
    }
    t
}

proptest! {
    #[test]
    fn the_median_does_not_depend_on_order(mut v in proptest::collection::vec(-1e6f64..1e6, 0..20), seed in any::<u64>()) {
        let m = median(v.clone());
        // A deterministic shuffle.
        let n = v.len();
        for i in (1..n).rev() {
            let j = usize::try_from((seed.wrapping_mul(i as u64 + 7)) % (i as u64 + 1)).unwrap();
            v.swap(i, j);
        }
        prop_assert_eq!(median(v), m);
    }

    #[test]
    fn a_team_of_identical_agents_has_no_flags(day in calls(), n in 1usize..5) {
        let e = trace_of(&vec![day; n]).engine(&MetricsConfig::default());
        if let Some(t) = e.tenant("default") {
            let s = scorecard(t, t.max_ts().unwrap(), Period::Today, None).unwrap();
            for a in &s.agents {
                prop_assert!(a.flags.is_empty(), "{:?}", a);
            }
        }
    }

    #[test]
    fn scorecard_sums_equal_the_report_agent_rows(days in proptest::collection::vec(calls(), 1..4)) {
        let e = trace_of(&days).engine(&MetricsConfig::default());
        let t = e.tenant("default").unwrap();
        let now = t.max_ts().unwrap();
        let s = scorecard(t, now, Period::Today, None).unwrap();
        let r = interval_report(t, now, Range { from: Some(s.covered_from_ms), to: None });
        for a in &s.agents {
            let rows: Vec<_> = r.agents.iter().filter(|row| row.agent == a.agent).collect();
            let m = &a.metrics;
            prop_assert_eq!(m.handled, rows.iter().map(|r| r.handled).sum::<u64>());
            prop_assert_eq!(m.busy_ms, rows.iter().map(|r| r.busy_ms).sum::<u64>());
            prop_assert_eq!(m.available_ms, rows.iter().map(|r| r.available_ms).sum::<u64>());
            let surveys: u64 = rows.iter().filter_map(|r| r.kpi.csat.map(|c| c.surveys)).sum();
            prop_assert_eq!(m.surveys, surveys);
            if let (Some(aht), Some(t), Some(h), Some(w)) = (m.ratios.aht_ms, m.ratios.avg_talk_ms, m.ratios.avg_hold_ms, m.ratios.avg_acw_ms) {
                prop_assert!((t + h + w - aht).abs() < 1e-6 * aht.max(1.0));
            }
        }
    }
}
