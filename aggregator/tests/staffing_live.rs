//! Live staffing and intraday attainment (`metrics.md`, "Live staffing",
//! "Intraday attainment") on a scripted trace, `tests/golden/attainment.jsonl`:
//! three closed intervals and the current one of two queues, at 10:40 UTC.

use aggregator::goals::{QueueGoal, SlVariant};
use aggregator::live::QueueLive;
use aggregator::staffing::Demand;
use aggregator::{live_snapshot, Engine, LiveSnapshot, MetricsConfig};
use wallboard_events::jsonl::{parse_line, LineReader};

const NOW: i64 = 1_795_430_400_000; // 10:40:00 UTC, the trace's last event

fn live(goals: bool) -> LiveSnapshot {
    let path = format!(
        "{}/../tests/golden/attainment.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut params = MetricsConfig {
        sl_thresholds_s: vec![20, 30],
        ..Default::default()
    }
    .validate()
    .unwrap();
    if goals {
        params.goals.by_queue.insert(
            "support".into(),
            QueueGoal {
                variant: SlVariant::Sl4,
                threshold_s: 30,
                target: 0.5,
            },
        );
    }
    let mut engine = Engine::new(params);
    let mut lines = LineReader::new(&data[..]);
    while let Some(line) = lines.next_line().unwrap() {
        let e = parse_line(&line).expect("the trace is valid");
        engine.apply(&e);
    }
    live_snapshot(engine.tenant("att").unwrap(), NOW)
}

fn queue<'a>(l: &'a LiveSnapshot, name: &str) -> &'a QueueLive {
    l.queues.iter().find(|q| q.queue == name).unwrap()
}

#[test]
fn staffing_is_erlang_c_on_the_rolling_arrivals_and_todays_aht() {
    let l = live(true);
    let s = &queue(&l, "sales").staffing;
    // s6 (10:31) and s7 (10:35) arrived in the last 15 minutes; s1, s2 and
    // s4 were handled in 240 s each.
    assert_eq!(
        (s.arrivals, s.calls_per_hour, s.aht_s),
        (2, 8.0, Some(240.0))
    );
    // a1 on a break, a2 on a call, a3 available.
    assert_eq!((s.staffed, s.available, s.serving), (3, 1, 2));
    let demand = Demand {
        calls: 2.0,
        interval_s: 900.0,
        aht_s: 240.0,
        threshold_s: 20.0,
        target: 0.8,
    };
    assert_eq!(s.traffic_erlangs, Some(demand.traffic()));
    let required = demand.required_agents();
    assert_eq!(required, 2, "0.53 Erlangs need 2 agents for 80 % in 20 s");
    assert_eq!(s.required_agents, Some(required));
    assert_eq!(s.gap, Some(0));
    assert_eq!(s.projected_sl, Some(demand.with_agents(2).service_level));
    assert_eq!(s.projected_asa_s, demand.with_agents(2).asa_s);

    // Support: no arrival in the window: nobody needed, nothing projected.
    let p = &queue(&l, "support").staffing;
    assert_eq!((p.threshold_s, p.target), (30, 0.5));
    assert_eq!((p.arrivals, p.aht_s), (0, Some(270.0)));
    assert_eq!(
        (p.required_agents, p.serving, p.gap),
        (Some(0), 1, Some(-1))
    );
    assert_eq!((p.projected_sl, p.projected_asa_s), (None, None));

    // The tenant: every agent once, all arrivals, the tenant's AHT.
    let all = &queue(&l, "*").staffing;
    assert_eq!((all.arrivals, all.aht_s, all.serving), (2, Some(252.0), 2));
}

#[test]
fn no_handled_call_means_no_staffing_numbers() {
    let l = live(false);
    // Nothing was handled before 09:05: at 09:02:30 the AHT is unknown.
    let path = format!(
        "{}/../tests/golden/attainment.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let data = std::fs::read(path).unwrap();
    let mut engine = Engine::new(MetricsConfig::default().validate().unwrap());
    let early = 1_795_424_550_000; // 09:02:30
    let mut lines = LineReader::new(&data[..]);
    while let Some(line) = lines.next_line().unwrap() {
        let e = parse_line(&line).unwrap();
        if e.ts <= early {
            engine.apply(&e);
        }
    }
    let at = live_snapshot(engine.tenant("att").unwrap(), early);
    let s = &queue(&at, "sales").staffing;
    assert_eq!(s.arrivals, 2);
    assert_eq!(s.aht_s, None);
    assert_eq!(
        (s.traffic_erlangs, s.required_agents, s.gap),
        (None, None, None)
    );
    assert_eq!((s.projected_sl, s.projected_asa_s), (None, None));
    // Without its own goal, support is judged by the default.
    let p = &queue(&l, "support").attainment;
    assert_eq!(
        (p.variant, p.threshold_s, p.target),
        (SlVariant::Sl3, 20, 0.8)
    );
}

#[test]
fn attainment_counts_todays_closed_intervals_that_met_the_goal() {
    let l = live(true);
    let s = &queue(&l, "sales").attainment;
    // 09:00 met (SL3 1.0), 09:30 missed (0.5), 10:00 only a dequeued call
    // (no service level: left out); 10:30 is still open.
    assert_eq!((s.intervals, s.met, s.share), (2, 1, Some(0.5)));
    // Today: 4 answered within 20 s of 4 answered + 1 abandoned.
    assert_eq!(s.sl, Some(0.8));
    assert_eq!(s.vs_target, Some(0.0));
    // Support by its own goal, SL4 at 30 s ≥ 50 %: 09:00 missed (40 s),
    // 09:30 had no calls, 10:00 met.
    let p = &queue(&l, "support").attainment;
    assert_eq!((p.variant, p.threshold_s), (SlVariant::Sl4, 30));
    assert_eq!((p.intervals, p.met, p.sl), (2, 1, Some(0.5)));
    // The tenant: 09:00 (2 of 3 within 20 s) and 09:30 missed, 10:00 met.
    let all = &queue(&l, "*").attainment;
    assert_eq!((all.intervals, all.met), (3, 1));
    assert_eq!(all.sl, Some(5.0 / 7.0));
}
