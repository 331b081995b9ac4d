//! What a WebSocket push of a tenant this instance owns looks like: the
//! full `snapshot` and the `delta` from the version before
//! (docs/architecture.md, "WebSocket fan-out", defines both). Both are
//! restricted to the subscribed queues; when they are made is
//! `push_cache.rs`'s business.

use std::collections::HashMap;
use std::hash::Hasher;
use std::sync::Arc;

use aggregator::alerts::ActiveAlert;
use aggregator::live::{AgentLiveRow, AgentsByState, IntradayPoint, QueueLive};
use aggregator::{LiveSnapshot, QueueScope};
use serde::Serialize;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use super::push_cache::{Base, Inputs, MakePush};
use crate::config::{AppConfig, QueueTarget};
use wallboard_pipeline::writer::unix_ms;

/// A push: a full `snapshot` or a `delta`, the same but for its rows.
#[derive(Serialize)]
struct Push<'a, S> {
    /// `server_ms` second: the bench reads it without parsing the rest.
    #[serde(rename = "type")]
    kind: &'static str,
    server_ms: i64,
    tenant: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    base: Option<u64>,
    snapshot: Option<S>,
    targets: Vec<QueueTarget>,
    /// Alerts firing now, for the banner.
    alerts: Vec<&'a ActiveAlert>,
}

/// A snapshot restricted to the subscribed queues; `Q` and `A` are its
/// rows (whole rows in a snapshot, changes in a delta).
#[derive(Serialize)]
struct Filtered<'a, Q, A> {
    tz: &'a str,
    now_ms: i64,
    interval_start_ms: i64,
    interval_end_ms: i64,
    day_start_ms: i64,
    rolling_window_minutes: u32,
    sl_thresholds_s: &'a [u32],
    queues: Vec<Q>,
    agents: Vec<A>,
    freshness: Option<&'a aggregator::freshness::Freshness>,
    /// Every active floor message of the tenant, whatever the queues.
    messages: &'a [aggregator::messages::ActiveMessage],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    incomplete: &'a [aggregator::IncompleteInterval],
}

/// The queue and agent rows of `snap` that a subscription to `queues`
/// shows (an empty list: all of them).
fn rows<'a>(
    snap: &'a LiveSnapshot,
    queues: &[String],
) -> (Vec<&'a QueueLive>, Vec<&'a AgentLiveRow>) {
    let named = |q: &str| queues.iter().any(|w| w == q);
    let wanted = |q: &QueueScope| queues.is_empty() || q.is_all() || named(q.as_str());
    // An agent's memberships are names, read the way a row's queue is.
    let member = |q: &str| QueueScope::is_all_name(q) || named(q);
    let queue_rows = snap.queues.iter().filter(|q| wanted(&q.queue)).collect();
    let agent_rows = snap
        .agents
        .iter()
        .filter(|a| queues.is_empty() || a.queues.iter().any(|q| member(q)))
        .collect();
    (queue_rows, agent_rows)
}

fn filtered<Q, A>(snap: &LiveSnapshot, queues: Vec<Q>, agents: Vec<A>) -> Filtered<'_, Q, A> {
    Filtered {
        tz: &snap.tz,
        now_ms: snap.now_ms,
        interval_start_ms: snap.interval_start_ms,
        interval_end_ms: snap.interval_end_ms,
        day_start_ms: snap.day_start_ms,
        rolling_window_minutes: snap.rolling_window_minutes,
        sl_thresholds_s: &snap.sl_thresholds_s,
        queues,
        agents,
        freshness: snap.freshness.as_ref(),
        messages: &snap.messages,
        incomplete: &snap.incomplete,
    }
}

/// A row of a delta: the name of one equal to the base's, or the row.
#[derive(Serialize)]
#[serde(untagged)]
enum Row<'a, T> {
    Same(&'a str),
    Changed(T),
}

/// A queue row whose intraday points before `intraday_from` are the
/// base's. Its fields are `QueueLive`'s, taken by an exhaustive
/// destructuring, so a field added there does not compile here until it is
/// added (a test checks that a delta applied gives the snapshot).
#[derive(Serialize)]
struct QueueTail<'a> {
    queue: &'a QueueScope,
    waiting: u64,
    oldest_wait_ms: Option<u64>,
    agents: &'a AgentsByState,
    interval: &'a aggregator::report::QueueRow,
    rolling: &'a aggregator::report::QueueRow,
    today: &'a aggregator::report::QueueRow,
    #[serde(skip_serializing_if = "Option::is_none")]
    intraday_from: Option<usize>,
    intraday: &'a [IntradayPoint],
    staffing: &'a aggregator::staffing_live::QueueStaffing,
    attainment: &'a aggregator::attainment::Attainment,
    #[serde(skip_serializing_if = "Option::is_none")]
    fcr_known: Option<&'a aggregator::quality_report::RepeatFields>,
    #[serde(skip_serializing_if = "Option::is_none")]
    forecast: Option<&'a aggregator::forecast_view::LiveForecast>,
}

impl<'a> QueueTail<'a> {
    /// `row` with its intraday points from `from` on.
    fn of(row: &'a QueueLive, from: usize) -> Self {
        let QueueLive {
            queue,
            waiting,
            oldest_wait_ms,
            agents,
            interval,
            rolling,
            today,
            intraday,
            staffing,
            attainment,
            fcr_known,
            forecast,
        } = row;
        QueueTail {
            queue,
            waiting: *waiting,
            oldest_wait_ms: *oldest_wait_ms,
            agents,
            interval,
            rolling,
            today,
            intraday_from: (from > 0).then_some(from),
            intraday: &intraday[from..],
            staffing,
            attainment,
            fcr_known: fcr_known.as_ref(),
            forecast: forecast.as_ref(),
        }
    }
}

/// What a delta compares rows by: a 64-bit hash of each row's JSON, by
/// name (a queue row's without its intraday points, and each point). A
/// version keeps these, a few KiB, where the rows themselves (their
/// `BTreeMap`s) take hundreds.
#[derive(Default)]
pub struct Prints {
    queues: HashMap<String, (u64, Vec<u64>)>,
    agents: HashMap<String, u64>,
}

/// Streams serialized JSON into a hash, without keeping it.
struct HashWriter(std::collections::hash_map::DefaultHasher);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The hash of `v`'s JSON (`DefaultHasher::new()` has fixed keys: the same
/// JSON hashes the same in every version).
fn print(v: &impl Serialize) -> u64 {
    let mut h = HashWriter(std::collections::hash_map::DefaultHasher::new());
    serde_json::to_writer(&mut h, v).expect("a row serializes");
    h.0.finish()
}

/// A queue row's own hash (without the points) and its points' hashes.
fn queue_print(q: &QueueLive) -> (u64, Vec<u64>) {
    let own = print(&QueueTail::of(q, q.intraday.len()));
    (own, q.intraday.iter().map(print).collect())
}

/// The row of `new` (its prints `printed`) in a delta from a base whose
/// row of that queue had `old` for prints.
fn queue_change<'a>(
    old: Option<&(u64, Vec<u64>)>,
    printed: &(u64, Vec<u64>),
    new: &'a QueueLive,
) -> Row<'a, QueueTail<'a>> {
    let Some((old_own, old_points)) = old else {
        return Row::Changed(QueueTail::of(new, 0));
    };
    let (own, points) = printed;
    if own == old_own && points == old_points {
        return Row::Same(new.queue.as_str());
    }
    let same = old_points
        .iter()
        .zip(points)
        .take_while(|(a, b)| a == b)
        .count();
    Row::Changed(QueueTail::of(new, same))
}

/// The pushes of one subscription: a tenant and its queue list.
pub(super) struct Board<'a> {
    pub tenant: &'a str,
    pub queues: &'a [String],
}

impl Board<'_> {
    /// Every queue's target under `shown` (all queues, like the snapshot's
    /// own order; the board picks the ones it shows).
    fn targets(&self, snap: &LiveSnapshot, shown: &AppConfig) -> Vec<QueueTarget> {
        let tenant = shown.tenant(self.tenant);
        snap.queues
            .iter()
            .map(|q| tenant.target_for(q.queue.as_str()))
            .collect()
    }

    fn alerts<'a>(&self, alerts: &'a [ActiveAlert]) -> Vec<&'a ActiveAlert> {
        alerts.iter().filter(|a| a.tenant == self.tenant).collect()
    }

    /// The push of a tenant with no live view (`snapshot: null`).
    pub(super) fn without_snapshot(&self, alerts: &[ActiveAlert]) -> Utf8Bytes {
        let push: Push<'_, Filtered<'_, (), ()>> = Push {
            kind: "snapshot",
            server_ms: unix_ms(),
            tenant: self.tenant,
            version: None,
            base: None,
            snapshot: None,
            targets: Vec::new(),
            alerts: self.alerts(alerts),
        };
        text(&push)
    }
}

fn text(push: &impl Serialize) -> Utf8Bytes {
    Utf8Bytes::from(serde_json::to_string(push).expect("a push serializes"))
}

impl MakePush for Board<'_> {
    fn prints(&self, of: &Inputs) -> Prints {
        let (queues, agents) = rows(&of.snapshot, self.queues);
        Prints {
            queues: queues
                .into_iter()
                .map(|q| (q.queue.as_str().to_owned(), queue_print(q)))
                .collect(),
            agents: agents
                .into_iter()
                .map(|a| (a.agent.clone(), print(a)))
                .collect(),
        }
    }

    fn full(&self, of: &Inputs, version: u64) -> Utf8Bytes {
        let snap = &*of.snapshot;
        let (queues, agents) = rows(snap, self.queues);
        text(&Push {
            kind: "snapshot",
            server_ms: unix_ms(),
            tenant: self.tenant,
            version: Some(version),
            base: None,
            snapshot: Some(filtered(snap, queues, agents)),
            targets: self.targets(snap, &of.shown),
            alerts: self.alerts(&of.alerts),
        })
    }

    fn delta(&self, base: &Base, to: &Base, of: &Inputs) -> Option<Utf8Bytes> {
        // Targets, labels and boards come with the configuration: after a
        // reload the board is laid out again from a full snapshot.
        if !Arc::ptr_eq(&base.shown, &of.shown) {
            return None;
        }
        let snap = &*of.snapshot;
        let (queues, agents) = rows(snap, self.queues);
        // `to`'s prints are of these same rows (`prints` above, made from
        // the same inputs); a row missing there is hashed here.
        let queues = queues
            .into_iter()
            .map(|q| {
                let name = q.queue.as_str();
                let old = base.prints.queues.get(name);
                match to.prints.queues.get(name) {
                    Some(printed) => queue_change(old, printed, q),
                    None => queue_change(old, &queue_print(q), q),
                }
            })
            .collect();
        let agents = agents
            .into_iter()
            .map(|a| {
                let name = a.agent.as_str();
                let printed = to.prints.agents.get(name).copied();
                match base.prints.agents.get(name) {
                    Some(h) if *h == printed.unwrap_or_else(|| print(a)) => Row::Same(name),
                    _ => Row::Changed(a),
                }
            })
            .collect();
        Some(text(&Push {
            kind: "delta",
            server_ms: unix_ms(),
            tenant: self.tenant,
            version: Some(to.version),
            base: Some(base.version),
            snapshot: Some(filtered(snap, queues, agents)),
            targets: self.targets(snap, &of.shown),
            alerts: self.alerts(&of.alerts),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    use aggregator::{Engine, MetricsConfig};
    use ingest::simulate::{SimConfig, Simulator};

    const START_MS: i64 = 1_795_392_000_000;

    /// The live views of a simulated tenant at the given minutes of its day.
    fn views_at(minutes: &[i64]) -> Vec<Arc<LiveSnapshot>> {
        let params = MetricsConfig::default()
            .validate()
            .expect("default metrics");
        let mut engine = Engine::new(params);
        let mut events = Simulator::new(SimConfig {
            agents: 30,
            queues: 4,
            hours: 3.0,
            tenant: "acme".into(),
            start_ms: START_MS,
            ..Default::default()
        })
        .peekable();
        minutes
            .iter()
            .map(|m| {
                let at = START_MS + m * 60_000;
                while let Some(e) = events.next_if(|e| e.ts <= at) {
                    engine.apply(&e);
                }
                let tenant = engine.tenant("acme").expect("the tenant has events");
                Arc::new(aggregator::live_snapshot(tenant, at))
            })
            .collect()
    }

    fn inputs(snapshot: Arc<LiveSnapshot>, shown: &Arc<AppConfig>) -> Inputs {
        Inputs {
            snapshot,
            alerts: Arc::default(),
            shown: shown.clone(),
        }
    }

    /// The browser's rule (docs/architecture.md, "Deltas"; `ui/app.js`
    /// applies it the same way): the snapshot a delta stands for.
    fn apply(base: &Value, delta: &Value) -> Value {
        assert_eq!(delta["type"], "delta");
        assert_eq!(
            delta["base"], base["version"],
            "a delta of the held version"
        );
        let by = |key: &str, name: &str| -> HashMap<String, Value> {
            base["snapshot"][key]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| (r[name].as_str().unwrap().to_owned(), r.clone()))
                .collect()
        };
        let (queues, agents) = (by("queues", "queue"), by("agents", "agent"));
        let mut out = delta.clone();
        out["type"] = json!("snapshot");
        out.as_object_mut().unwrap().remove("base");
        let snap = &mut out["snapshot"];
        for q in snap["queues"].as_array_mut().unwrap() {
            if let Some(name) = q.as_str().map(str::to_owned) {
                *q = queues[&name].clone();
            } else if let Some(k) = q.as_object_mut().unwrap().remove("intraday_from") {
                let old = &queues[q["queue"].as_str().unwrap()]["intraday"];
                let k = usize::try_from(k.as_u64().unwrap()).unwrap();
                let mut points = old.as_array().unwrap()[..k].to_vec();
                points.extend(q["intraday"].as_array().unwrap().iter().cloned());
                q["intraday"] = Value::Array(points);
            }
        }
        for a in snap["agents"].as_array_mut().unwrap() {
            if let Some(name) = a.as_str().map(str::to_owned) {
                *a = agents[&name].clone();
            }
        }
        out
    }

    /// What a client holding `of` as `version` is the base of.
    fn held_as(board: &Board<'_>, of: &Inputs, version: u64) -> Base {
        Base::new(version, Arc::new(board.prints(of)), of.shown.clone())
    }

    fn json(t: &Utf8Bytes) -> Value {
        serde_json::from_str(t).unwrap()
    }

    /// A push without its stamp, to compare what it says.
    fn unstamped(mut v: Value) -> Value {
        v.as_object_mut().unwrap().remove("server_ms");
        v
    }

    #[test]
    fn a_delta_applied_to_its_base_is_the_full_snapshot() {
        let shown = Arc::new(AppConfig::default());
        let views = views_at(&[40, 41, 75]);
        for queues in [
            vec![],
            vec!["sales".to_owned()],
            vec!["support".into(), "vip".into()],
        ] {
            let board = Board {
                tenant: "acme",
                queues: &queues,
            };
            for pair in views.windows(2) {
                let (base, new) = (
                    inputs(pair[0].clone(), &shown),
                    inputs(pair[1].clone(), &shown),
                );
                let delta = json(
                    &board
                        .delta(&held_as(&board, &base, 7), &held_as(&board, &new, 8), &new)
                        .expect("same configuration"),
                );
                let full = json(&board.full(&new, 8));
                let got = apply(&json(&board.full(&base, 7)), &delta);
                assert_eq!(unstamped(got), unstamped(full), "queues {queues:?}");
            }
        }
    }

    #[test]
    fn a_delta_leaves_out_what_did_not_change() {
        let shown = Arc::new(AppConfig::default());
        let views = views_at(&[170, 171]);
        let board = Board {
            tenant: "acme",
            queues: &[],
        };
        let (base, new) = (
            inputs(views[0].clone(), &shown),
            inputs(views[1].clone(), &shown),
        );
        let delta = json(
            &board
                .delta(&held_as(&board, &base, 1), &held_as(&board, &new, 2), &new)
                .unwrap(),
        );
        let full = json(&board.full(&new, 2));
        let agents = delta["snapshot"]["agents"].as_array().unwrap();
        assert!(
            agents.iter().any(Value::is_string),
            "some agents kept their state"
        );
        let tails: Vec<_> = delta["snapshot"]["queues"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|q| q["intraday_from"].as_u64())
            .collect();
        assert!(!tails.is_empty(), "past intervals are not sent again");
        let len = |v: &Value| v.to_string().len();
        assert!(
            len(&delta) < len(&full),
            "{} of {} bytes",
            len(&delta),
            len(&full)
        );
    }

    #[test]
    fn a_reload_has_no_delta_and_an_unchanged_view_names_every_row() {
        let views = views_at(&[30]);
        let board = Board {
            tenant: "acme",
            queues: &[],
        };
        let one = Arc::new(AppConfig::default());
        let (base, same) = (
            inputs(views[0].clone(), &one),
            inputs(views[0].clone(), &one),
        );
        let delta = json(
            &board
                .delta(
                    &held_as(&board, &base, 1),
                    &held_as(&board, &same, 2),
                    &same,
                )
                .unwrap(),
        );
        let snap = &delta["snapshot"];
        assert!(snap["queues"]
            .as_array()
            .unwrap()
            .iter()
            .all(Value::is_string));
        assert!(snap["agents"]
            .as_array()
            .unwrap()
            .iter()
            .all(Value::is_string));
        let reloaded = inputs(views[0].clone(), &Arc::new(AppConfig::default()));
        assert!(board
            .delta(
                &held_as(&board, &base, 1),
                &held_as(&board, &reloaded, 2),
                &reloaded
            )
            .is_none());
    }
}
