//! Tenants with their own time zone and interval (`metrics.md`,
//! "Parameters"): the same events land in different intervals and days.

use aggregator::{interval_report, live_snapshot, Engine, MetricsConfig, Range, TenantParams};
use wallboard_events::parse::parse_event;

/// 2026-12-01 14:00 UTC: 22:00 in Shanghai, 09:00 in New York.
const FIRST: i64 = 1_796_133_600_000;
/// 2026-12-02 03:20 UTC: 11:20 on the 2nd in Shanghai, 22:20 on the 1st in New York.
const SECOND: i64 = 1_796_181_600_000;

fn params(tz: &str, interval_minutes: u32) -> aggregator::Params {
    MetricsConfig {
        tz: tz.into(),
        interval_minutes,
        ..Default::default()
    }
    .validate()
    .unwrap()
}

/// One answered call at each of `FIRST` and `SECOND` for `sh`, `ny` and `other`.
fn engine() -> Engine {
    let per_tenant = TenantParams::new(params("UTC", 30))
        .with_tenant("sh", params("Asia/Shanghai", 15))
        .with_tenant("ny", params("America/New_York", 60));
    let mut engine = Engine::new(per_tenant);
    for tenant in ["sh", "ny", "other"] {
        for (n, ts) in [FIRST, SECOND].into_iter().enumerate() {
            for (kind, at) in [("call_queued", ts - 5000), ("call_answered", ts)] {
                let line = format!(
                    r#"{{"v":1,"id":"{tenant}-{n}-{kind}","ts":{at},"tenant":"{tenant}","kind":"{kind}","call":"c{n}","queue":"q","agent":"a"}}"#
                );
                engine.apply(&parse_event(line.as_bytes()).unwrap());
            }
        }
    }
    engine
}

#[test]
fn each_tenant_has_its_own_day_and_intervals() {
    let engine = engine();
    let live = |t: &str| live_snapshot(engine.tenant(t).unwrap(), SECOND);
    let (sh, ny, other) = (live("sh"), live("ny"), live("other"));
    // Local midnight: 2026-12-01 16:00 UTC in Shanghai, 05:00 UTC in New York.
    assert_eq!(sh.day_start_ms, 1_796_140_800_000);
    assert_eq!(ny.day_start_ms, 1_796_101_200_000);
    assert_eq!(other.day_start_ms, 1_796_169_600_000);
    // 15-minute intervals in Shanghai, 60 in New York, the default 30 else.
    assert_eq!(sh.interval_start_ms, 1_796_181_300_000);
    assert_eq!(ny.interval_start_ms, 1_796_180_400_000);
    assert_eq!(other.interval_start_ms, 1_796_180_400_000);
    assert_eq!(
        (sh.tz.as_str(), ny.tz.as_str()),
        ("Asia/Shanghai", "America/New_York")
    );
    // Shanghai's today began after the first call; New York's before it.
    assert_eq!(sh.queues[0].today.answered, 1);
    assert_eq!(ny.queues[0].today.answered, 2);
    assert_eq!(other.queues[0].today.answered, 1);
}

#[test]
fn each_tenants_report_uses_its_zone_and_interval() {
    let engine = engine();
    let report = |t: &str| interval_report(engine.tenant(t).unwrap(), SECOND, Range::default());
    let (sh, ny) = (report("sh"), report("ny"));
    assert_eq!((sh.tz.as_str(), sh.interval_minutes), ("Asia/Shanghai", 15));
    assert_eq!(
        (ny.tz.as_str(), ny.interval_minutes),
        ("America/New_York", 60)
    );
    let starts = |r: &aggregator::IntervalReport| -> Vec<String> {
        let mut s: Vec<String> = r
            .queues
            .iter()
            .filter(|q| q.answered > 0)
            .map(|q| q.start.clone())
            .collect();
        s.dedup();
        s
    };
    assert_eq!(
        starts(&sh),
        ["2026-12-01T22:00:00+08:00", "2026-12-02T11:15:00+08:00"]
    );
    assert_eq!(
        starts(&ny),
        ["2026-12-01T09:00:00-05:00", "2026-12-01T22:00:00-05:00"]
    );
}

#[test]
fn a_snapshot_restores_each_tenant_under_its_own_parameters() {
    let engine = engine();
    let per_tenant = TenantParams::new(params("UTC", 30))
        .with_tenant("sh", params("Asia/Shanghai", 15))
        .with_tenant("ny", params("America/New_York", 60));
    let restored = Engine::from_bytes(&engine.to_bytes(), per_tenant).unwrap();
    assert_eq!(restored.params_of("ny").tz.name(), "America/New_York");
    let day = |e: &Engine| live_snapshot(e.tenant("ny").unwrap(), SECOND).day_start_ms;
    assert_eq!(day(&restored), day(&engine));
    // A tenant whose zone changed since the snapshot is refused, by name.
    let moved = TenantParams::new(params("UTC", 30))
        .with_tenant("sh", params("Asia/Tokyo", 15))
        .with_tenant("ny", params("America/New_York", 60));
    let err = Engine::from_bytes(&engine.to_bytes(), moved).unwrap_err();
    assert!(err.to_string().contains("\"sh\""), "{err}");
}
