//! `GET /metrics`: Prometheus exposition. Counters per tenant and queue from
//! which `PromQL` computes every metric of `metrics.md` over any window with
//! `increase()` (all four service-level variants at each threshold, ASA, AHT,
//! occupancy, adherence…); gauges for the live values; pipeline health.
//! Queue `*` is the whole tenant (agent time counts every agent once).

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use prometheus::{CounterVec, Encoder, GaugeVec, IntCounterVec, Opts, Registry, TextEncoder};

use aggregator::sums::{AgentTime, QueueSums};
use aggregator::QueueScope;
use wallboard_events::{BlockedReason, DequeueReason};
use wallboard_pipeline::writer::{rejection_codes, unix_ms};
use wallboard_pipeline::{PartitionStatus, TenantTotals};

use super::AppState;

/// Label names of the per-queue series.
pub(super) const TQ: &[&str] = &["tenant", "queue"];
/// Labels of a per-queue family by agent state.
const TQ_STATE: &[&str] = &["tenant", "queue", "state"];

pub(super) struct Families {
    registry: Registry,
}

impl Families {
    pub(super) fn counter(&self, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
        let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
        self.registry
            .register(Box::new(c.clone()))
            .expect("unique metric");
        c
    }

    pub(super) fn gauge(&self, name: &str, help: &str, labels: &[&str]) -> GaugeVec {
        let g = GaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
        self.registry
            .register(Box::new(g.clone()))
            .expect("unique metric");
        g
    }
}

pub(super) async fn metrics(State(s): State<AppState>) -> Response {
    let totals = s.hub.totals().await;
    let f = Families {
        registry: Registry::new(),
    };
    calls(&f, &totals);
    super::metrics_quality::quality(&f, &totals);
    live(&f, &s);
    staffing(&f, &s);
    super::forecast::metrics(&f, &s);
    freshness(&f, &s);
    pipeline(&f, &s);
    writer_idle(&f, &s);
    http_limits(&f, &s);
    views(&f, &s);
    super::admin::metrics(&f, &s);
    let mut out = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&f.registry.gather(), &mut out) {
        return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
    }
    ([(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], out).into_response()
}

fn ms_to_s(ms: u64) -> u64 {
    ms / 1000
}

/// The per-queue counters that are each one sum of `QueueSums`: name,
/// help, the sum.
type QueueCounter = (&'static str, &'static str, fn(&QueueSums) -> u64);
const QUEUE_COUNTERS: &[QueueCounter] = &[
    (
        "wallboard_calls_entered_total",
        "call_queued events (arrivals)",
        |q| q.entered,
    ),
    (
        "wallboard_calls_offered_total",
        "answered + abandoned + dequeued + wait unknown (metrics.md)",
        QueueSums::offered,
    ),
    (
        "wallboard_calls_answered_total",
        "segments answered, wait known",
        |q| q.answered,
    ),
    (
        "wallboard_calls_abandoned_total",
        "segments abandoned, wait known, not short",
        |q| q.abandoned,
    ),
    (
        "wallboard_calls_short_abandoned_total",
        "abandons shorter than short_abandon_s",
        |q| q.short_abandoned,
    ),
    (
        "wallboard_calls_wait_unknown_total",
        "answered or abandoned with unknown wait",
        |q| q.wait_unknown,
    ),
    (
        "wallboard_answer_wait_milliseconds_total",
        "sum of waits of answered segments (ms)",
        |q| q.answer_wait_ms,
    ),
    (
        "wallboard_abandon_wait_milliseconds_total",
        "sum of waits of abandoned segments (ms)",
        |q| q.abandon_wait_ms,
    ),
    (
        "wallboard_calls_handled_total",
        "call_completed events",
        |q| q.handled,
    ),
    (
        "wallboard_talk_milliseconds_total",
        "sum of talk time, hold included (ms)",
        |q| q.talk_ms,
    ),
    (
        "wallboard_hold_milliseconds_total",
        "sum of hold time (ms)",
        |q| q.hold_ms,
    ),
    (
        "wallboard_acw_milliseconds_total",
        "sum of after-call work (ms)",
        |q| q.acw_ms,
    ),
    (
        "wallboard_calls_transferred_total",
        "completed calls transferred",
        |q| q.transferred,
    ),
];

fn calls(f: &Families, totals: &[TenantTotals]) {
    let sums: Vec<_> = QUEUE_COUNTERS
        .iter()
        .map(|&(name, help, get)| (f.counter(name, help, TQ), get))
        .collect();
    let by_reason = CallsByReason::register(f);
    let agent = f.counter(
        "wallboard_agent_seconds_total",
        "agent time by state (staffed, available, busy, not_ready), members of the queue",
        TQ_STATE,
    );
    let scheduled = f.counter(
        "wallboard_scheduled_seconds_total",
        "scheduled agent time",
        TQ,
    );
    let adherent = f.counter(
        "wallboard_adherent_seconds_total",
        "scheduled time in adherence",
        TQ,
    );
    for t in totals {
        let mut all = QueueSums::default();
        for (_, q, _) in &t.queues {
            all.add(q);
        }
        let rows = t.queues.iter().map(|(n, q, a)| (n.as_str(), q, a)).chain([(
            QueueScope::ALL,
            &all,
            &t.tenant_time,
        )]);
        for (queue, q, a) in rows {
            let l = [t.tenant.as_str(), queue];
            for (counter, get) in &sums {
                counter.with_label_values(&l).inc_by(get(q));
            }
            by_reason.add(t, queue, q);
            agent_time(&agent, &scheduled, &adherent, &l, a);
        }
    }
}

/// The per-queue counters with a third label: dequeue and block reasons,
/// and the service-level thresholds.
struct CallsByReason {
    dequeued: IntCounterVec,
    blocked: IntCounterVec,
    answered_within: IntCounterVec,
    abandoned_within: IntCounterVec,
}

impl CallsByReason {
    fn register(f: &Families) -> Self {
        CallsByReason {
            dequeued: f.counter(
                "wallboard_calls_dequeued_total",
                "segments dequeued, by reason",
                &["tenant", "queue", "reason"],
            ),
            blocked: f.counter(
                "wallboard_calls_blocked_total",
                "calls the queue refused (call_blocked), by reason; not in offered",
                &["tenant", "queue", "reason"],
            ),
            answered_within: f.counter(
                "wallboard_calls_answered_within_total",
                "answered with wait <= threshold",
                &["tenant", "queue", "threshold"],
            ),
            abandoned_within: f.counter(
                "wallboard_calls_abandoned_within_total",
                "abandoned with wait <= threshold",
                &["tenant", "queue", "threshold"],
            ),
        }
    }

    fn add(&self, t: &TenantTotals, queue: &str, q: &QueueSums) {
        let tenant = t.tenant.as_str();
        for r in DequeueReason::ALL {
            self.dequeued
                .with_label_values(&[tenant, queue, r.as_str()])
                .inc_by(q.dequeued_for(*r));
        }
        for r in BlockedReason::ALL {
            self.blocked
                .with_label_values(&[tenant, queue, r.as_str()])
                .inc_by(q.blocked_for(*r));
        }
        for (i, thr) in t.thresholds_s.iter().enumerate() {
            let thr = thr.to_string();
            let l3 = [tenant, queue, thr.as_str()];
            self.answered_within
                .with_label_values(&l3)
                .inc_by(q.answered_within[i]);
            self.abandoned_within
                .with_label_values(&l3)
                .inc_by(q.abandoned_within[i]);
        }
    }
}

fn agent_time(
    agent: &IntCounterVec,
    scheduled: &IntCounterVec,
    adherent: &IntCounterVec,
    l: &[&str; 2],
    a: &AgentTime,
) {
    for (state, ms) in [
        ("staffed", a.staffed_ms),
        ("available", a.available_ms),
        ("busy", a.busy_ms),
        ("not_ready", a.not_ready_ms),
    ] {
        agent
            .with_label_values(&[l[0], l[1], state])
            .inc_by(ms_to_s(ms));
    }
    scheduled
        .with_label_values(l)
        .inc_by(ms_to_s(a.scheduled_ms));
    adherent.with_label_values(l).inc_by(ms_to_s(a.adherent_ms));
}

fn live(f: &Families, s: &AppState) {
    let waiting = f.gauge("wallboard_calls_waiting", "calls waiting now", TQ);
    let oldest = f.gauge(
        "wallboard_oldest_wait_seconds",
        "wait of the oldest waiting call now",
        TQ,
    );
    let agents = f.gauge("wallboard_agents", "member agents by state now", TQ_STATE);
    let sl = f.gauge(
        "wallboard_service_level",
        "service level of the current interval, rolling window or today (absent: no data)",
        &["tenant", "queue", "variant", "threshold", "window"],
    );
    for tenant in s.hub.tenants() {
        let Some(snap) = s.hub.live(&tenant) else {
            continue;
        };
        for q in &snap.queues {
            let l = [tenant.as_str(), q.queue.as_str()];
            waiting.with_label_values(&l).set(q.waiting as f64);
            oldest
                .with_label_values(&l)
                .set(q.oldest_wait_ms.map_or(0.0, |ms| ms as f64 / 1000.0));
            let a = &q.agents;
            for (state, n) in [
                ("logged_out", a.logged_out),
                ("available", a.available),
                ("ringing", a.ringing),
                ("on_call", a.on_call),
                ("acw", a.acw),
                ("not_ready", a.not_ready),
            ] {
                agents
                    .with_label_values(&[l[0], l[1], state])
                    .set(f64::from(n));
            }
            for (window, row) in [
                ("interval", &q.interval),
                ("rolling", &q.rolling),
                ("today", &q.today),
            ] {
                for (thr, v) in &row.sl {
                    for (variant, value) in [
                        ("sl1", v.sl1),
                        ("sl2", v.sl2),
                        ("sl3", v.sl3),
                        ("sl4", v.sl4),
                    ] {
                        if let Some(x) = value {
                            sl.with_label_values(&[l[0], l[1], variant, thr, window])
                                .set(x);
                        }
                    }
                }
            }
        }
    }
}

/// Freshness (`metrics.md`, "Freshness"): a series for every tenant and
/// source the writers have heard of, from the start.
/// Live staffing per queue (`metrics.md`, "Live staffing"); a series is
/// absent while its value is `null`.
fn staffing(f: &Families, s: &AppState) {
    let required = f.gauge(
        "wallboard_staffing_required_agents",
        "agents Erlang C requires now for the queue's SL goal (rolling arrival rate, today's AHT)",
        TQ,
    );
    let serving = f.gauge(
        "wallboard_staffing_serving_agents",
        "member agents taking calls now (available, ringing, on call, ACW)",
        TQ,
    );
    let gap = f.gauge(
        "wallboard_staffing_gap",
        "required minus serving agents (positive: short)",
        TQ,
    );
    let projected = f.gauge(
        "wallboard_staffing_projected_service_level",
        "service level Erlang C projects at current staffing",
        TQ,
    );
    for tenant in s.hub.tenants() {
        let Some(snap) = s.hub.live(&tenant) else {
            continue;
        };
        for q in &snap.queues {
            let l = [tenant.as_str(), q.queue.as_str()];
            let st = &q.staffing;
            serving.with_label_values(&l).set(f64::from(st.serving));
            if let Some(r) = st.required_agents {
                required.with_label_values(&l).set(f64::from(r));
            }
            if let Some(g) = st.gap {
                gap.with_label_values(&l).set(g as f64);
            }
            if let Some(p) = st.projected_sl {
                projected.with_label_values(&l).set(p);
            }
        }
    }
}

fn freshness(f: &Families, s: &AppState) {
    let age = f.gauge(
        "wallboard_tenant_newest_event_age_seconds",
        "wall clock minus the tenant's newest event time (heartbeats excluded)",
        &["tenant"],
    );
    let silent = f.gauge(
        "wallboard_source_silent_seconds",
        "seconds since the source's last event or heartbeat (sources that send heartbeats)",
        &["tenant", "source"],
    );
    for (tenant, fr) in s.hub.freshness() {
        if let Some(a) = fr.newest_event_age_s {
            age.with_label_values(&[tenant.as_str()]).set(a as f64);
        }
        // Only these can be told silent from quiet (metrics.md).
        for src in fr.sources.iter().filter(|s| s.heartbeats) {
            silent
                .with_label_values(&[tenant.as_str(), src.source.as_str()])
                .set(src.silent_s as f64);
        }
    }
}

/// A per-partition counter: name, help, and its value in the status.
type PartitionCounter = (&'static str, &'static str, fn(&PartitionStatus) -> u64);

/// The counters every partition has.
const EVENT_COUNTERS: &[PartitionCounter] = &[
    ("wallboard_events_applied_total", "events applied", |st| {
        st.applied
    }),
    (
        "wallboard_events_duplicate_total",
        "re-sent events dropped",
        |st| st.duplicates,
    ),
    (
        "wallboard_events_late_total",
        "events older than the allowed lateness",
        |st| st.late,
    ),
];

/// The counters of partitions with durable snapshots (`serve`).
const SNAPSHOT_COUNTERS: &[PartitionCounter] = &[
    (
        "wallboard_snapshot_failures_total",
        "snapshot writes that failed",
        |st| st.snapshot_failures,
    ),
    (
        "wallboard_snapshots_rejected_total",
        "snapshots refused at start (checksum, format, settings): rebuilt from the log",
        |st| st.snapshots_rejected,
    ),
];

fn pipeline(f: &Families, s: &AppState) {
    let p = &["partition"];
    let register = |table: &[PartitionCounter]| -> Vec<_> {
        table
            .iter()
            .map(|&(name, help, get)| (f.counter(name, help, p), get))
            .collect()
    };
    let events = register(EVENT_COUNTERS);
    let snapshots = register(SNAPSHOT_COUNTERS);
    let rejected = f.counter(
        "wallboard_events_rejected_total",
        "events rejected, by reason",
        &["partition", "reason"],
    );
    let lag = f.gauge("wallboard_consumer_lag", "records behind the log's end", p);
    let age = f.gauge(
        "wallboard_snapshot_age_seconds",
        "seconds since the partition's state was last known durable (from the start, before any snapshot)",
        p,
    );
    let incomplete = f.gauge(
        "wallboard_incomplete_ranges",
        "ranges of records gone from the log when the partition's state was rebuilt (docs/architecture.md, \"Never silently partial\")",
        p,
    );
    let clients = f.gauge(
        "wallboard_websocket_clients",
        "connected WebSocket clients",
        &[],
    );
    alerts(f, s);
    let now = unix_ms();
    for st in s.hub.status() {
        let part = st.partition.to_string();
        let l = [part.as_str()];
        for (counter, get) in &events {
            counter.with_label_values(&l).inc_by(get(&st));
        }
        // Every known reason from the start, so rate() and alerts see zeros.
        for reason in rejection_codes() {
            rejected.with_label_values(&[part.as_str(), reason]);
        }
        for (reason, n) in &st.rejected_by_reason {
            rejected
                .with_label_values(&[part.as_str(), reason])
                .inc_by(*n);
        }
        // The in-process bus has no log end to lag behind: 0.
        lag.with_label_values(&l).set(st.lag.unwrap_or(0) as f64);
        incomplete
            .with_label_values(&l)
            .set(st.incomplete.len() as f64);
        // Durable snapshots exist only with Kafka (`serve`).
        if st.snapshot_interval_ms.is_some() {
            age.with_label_values(&l)
                .set((now - st.durable_ms).max(0) as f64 / 1000.0);
            for (counter, get) in &snapshots {
                counter.with_label_values(&l).inc_by(get(&st));
            }
        }
    }
    clients
        .with_label_values::<&str>(&[])
        .set(s.ws_clients.load(Ordering::Relaxed) as f64);
}

/// Seconds each partition's writer waited on an empty inbox
/// (`architecture.md`, "A partition's threads"): a writer that never waits
/// during a catch-up is the bottleneck; one that waits is fed too slowly.
fn writer_idle(f: &Families, s: &AppState) {
    let opts = Opts::new(
        "wallboard_writer_idle_seconds_total",
        "seconds the partition's writer waited on an empty inbox since it started",
    );
    let idle = CounterVec::new(opts, &["partition"]).expect("valid metric");
    f.registry
        .register(Box::new(idle.clone()))
        .expect("unique metric");
    for st in s.hub.status() {
        idle.with_label_values(&[st.partition.to_string().as_str()])
            .inc_by(st.idle_us as f64 / 1e6);
    }
}

/// Alert deliveries by channel and result, and the alerts firing now.
fn alerts(f: &Families, s: &AppState) {
    let deliveries = f.counter(
        "wallboard_alert_deliveries_total",
        "alert notifications by channel and result (ok, failed attempt, dropped)",
        &["channel", "result"],
    );
    for ch in &s.config.channels {
        for result in ["ok", "failed", "dropped"] {
            deliveries.with_label_values(&[ch.name.as_str(), result]);
        }
    }
    for ((channel, result), n) in s
        .alerts
        .stats
        .counts
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
    {
        deliveries
            .with_label_values(&[channel.as_str(), result])
            .inc_by(*n);
    }
    let firing = f.gauge(
        "wallboard_alerts_firing",
        "alerts firing now",
        &["tenant", "severity"],
    );
    for a in s.alerts.active.borrow().iter() {
        firing
            .with_label_values(&[a.tenant.as_str(), a.severity.as_str()])
            .add(1.0);
    }
}

/// What the server's limits refused or dropped (`[server]` in the README).
fn http_limits(f: &Families, s: &AppState) {
    for (name, help, n) in [
        (
            "wallboard_http_connections_refused_total",
            "connections answered 503 beyond server.max_connections",
            &s.http.refused_connections,
        ),
        (
            "wallboard_websocket_slow_consumers_dropped_total",
            "WebSocket clients dropped: a push did not reach them within server.ws_send_timeout_s",
            &s.http.ws_slow_consumers,
        ),
        (
            "wallboard_websocket_subscriptions_refused_total",
            "WebSocket subscriptions refused: more than server.ws_max_queues queues",
            &s.http.ws_refused_subscriptions,
        ),
    ] {
        f.counter(name, help, &[])
            .with_label_values::<&str>(&[])
            .inc_by(n.load(Ordering::Relaxed));
    }
}

/// The views topic on this instance (`architecture.md`, "Every node serves
/// every tenant"): per instance, not per owner.
fn views(f: &Families, s: &AppState) {
    let Some(c) = &s.cluster else {
        return;
    };
    let n = &c.views.counters;
    for (name, help, n) in [
        (
            "wallboard_views_received_total",
            "tenant views taken from the views topic (newer than the one held)",
            &n.received,
        ),
        (
            "wallboard_views_rejected_total",
            "records of the views topic ignored as bad (logged with key and reason)",
            &n.rejected,
        ),
        (
            "wallboard_views_published_total",
            "tenant views this instance published to the views topic",
            &n.published,
        ),
    ] {
        f.counter(name, help, &[])
            .with_label_values::<&str>(&[])
            .inc_by(n.load(Ordering::Relaxed));
    }
    #[allow(clippy::cast_precision_loss)] // tenants are far fewer than 2^52
    f.gauge(
        "wallboard_view_tenants",
        "tenants held from the views topic",
        &[],
    )
    .with_label_values::<&str>(&[])
    .set(c.views.tenants().len() as f64);
    if let Some(e) = &c.consumer_errors {
        f.counter(
            "wallboard_kafka_consumer_errors_total",
            "errors of the Kafka consumer and its client (the last in /api/v1/status `consumer`)",
            &[],
        )
        .with_label_values::<&str>(&[])
        .inc_by(e.count());
    }
}
