//! Several instances as one wallboard (`architecture.md`, "Every node
//! serves every tenant"): this instance publishes the views of the tenants
//! it owns to the views topic, and takes over the alerts the previous owner
//! of a tenant had firing.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use aggregator::alerts::{ActiveAlert, AdoptedAlert};
use aggregator::LiveSnapshot;
use wallboard_pipeline::consumer_errors::ConsumerErrors;
use wallboard_pipeline::views::{RemoteViews, ViewProducer, ViewRecord, VERSION};
use wallboard_pipeline::writer::unix_ms;
use wallboard_pipeline::PartitionView;

use crate::web::AppState;

/// This instance's part in a cluster of instances.
pub struct Cluster {
    /// The newest view of every tenant, read from the views topic.
    pub views: Arc<RemoteViews>,
    /// Where the other instances reach this one (`server.advertise_url`).
    pub advertise_url: String,
    /// Forwards reports and alert changes to a tenant's owner.
    pub client: reqwest::Client,
    /// Topic settings found wrong at start (`/api/v1/status`
    /// `topic_warnings`; `architecture.md`, "Topic settings checked at start").
    pub topic_warnings: Vec<wallboard_pipeline::topic_check::TopicWarning>,
    /// The Kafka consumer's errors (`/api/v1/status` `consumer`).
    pub consumer_errors: Option<Arc<ConsumerErrors>>,
}

impl Cluster {
    /// A member reading `views`, reachable at `advertise_url`.
    #[must_use]
    pub fn new(views: Arc<RemoteViews>, advertise_url: String) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("HTTP client");
        Cluster {
            views,
            advertise_url,
            client,
            topic_warnings: Vec::new(),
            consumer_errors: None,
        }
    }

    /// The same, showing `warnings` about the topics' settings.
    #[must_use]
    pub fn with_topic_warnings(
        mut self,
        warnings: Vec<wallboard_pipeline::topic_check::TopicWarning>,
    ) -> Self {
        self.topic_warnings = warnings;
        self
    }

    /// The same, showing the consumer's `errors`.
    #[must_use]
    pub fn with_consumer_errors(mut self, errors: Arc<ConsumerErrors>) -> Self {
        self.consumer_errors = Some(errors);
        self
    }
}

/// What was last published of one tenant.
struct Published {
    live: Arc<LiveSnapshot>,
    alerts: Vec<ActiveAlert>,
}

/// Publishes, every `server.ws_min_push_interval_ms`, each owned tenant
/// whose live view or alerts changed since its last publish.
#[must_use]
pub fn spawn_publisher(state: AppState, producer: ViewProducer) -> tokio::task::JoinHandle<()> {
    let every = Duration::from_millis(state.config.server.ws_min_push_interval_ms.max(1));
    tokio::spawn(async move {
        let Some(cluster) = state.cluster.clone() else {
            return;
        };
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut publisher = Publisher {
            producer,
            published: HashMap::new(),
            owned: HashSet::new(),
            failing: HashSet::new(),
        };
        loop {
            tick.tick().await;
            publisher.publish_changed(&state, &cluster);
        }
    })
}

/// What the publisher remembers from one round to the next.
struct Publisher {
    producer: ViewProducer,
    published: HashMap<String, Published>,
    /// The tenants owned at the last round.
    owned: HashSet<String>,
    /// Tenants whose last publish failed (warned about once).
    failing: HashSet<String>,
}

impl Publisher {
    /// One round: every owned tenant whose view or alerts changed.
    fn publish_changed(&mut self, state: &AppState, cluster: &Cluster) {
        let active = state.alerts.active.borrow().clone();
        let mut now_owned = HashSet::new();
        for view in state.hub.partition_views() {
            for (tenant, live) in &view.tenants {
                now_owned.insert(tenant.clone());
                if !self.owned.contains(tenant) {
                    adopt(state, cluster, tenant);
                }
                let alerts: Vec<ActiveAlert> = active
                    .iter()
                    .filter(|a| &a.tenant == tenant)
                    .cloned()
                    .collect();
                let unchanged = self
                    .published
                    .get(tenant)
                    .is_some_and(|p| Arc::ptr_eq(&p.live, live) && p.alerts == alerts);
                if unchanged {
                    continue;
                }
                self.publish_one(cluster, &view, tenant, live, alerts);
            }
        }
        // A tenant that moved away is published afresh if it comes back.
        self.published.retain(|t, _| now_owned.contains(t));
        self.owned = now_owned;
    }

    fn publish_one(
        &mut self,
        cluster: &Cluster,
        view: &PartitionView,
        tenant: &str,
        live: &Arc<LiveSnapshot>,
        alerts: Vec<ActiveAlert>,
    ) {
        match self
            .producer
            .publish(&record(cluster, view, tenant, live, &alerts))
        {
            Ok(()) => {
                let n = &cluster.views.counters.published;
                n.fetch_add(1, Ordering::Relaxed);
                if self.failing.remove(tenant) {
                    tracing::info!(tenant, "views topic: publishing again");
                }
                let live = live.clone();
                self.published
                    .insert(tenant.to_owned(), Published { live, alerts });
            }
            // Warned once per tenant until it works again; retried every
            // round meanwhile.
            Err(e) if self.failing.insert(tenant.to_owned()) => tracing::warn!(
                tenant,
                "views topic: view not published (the other instances age its last one): {e}"
            ),
            Err(_) => {}
        }
    }
}

fn record(
    cluster: &Cluster,
    view: &PartitionView,
    tenant: &str,
    live: &LiveSnapshot,
    alerts: &[ActiveAlert],
) -> ViewRecord {
    ViewRecord {
        v: VERSION,
        tenant: tenant.to_owned(),
        partition: view.status.partition,
        next_offset: view.status.next_offset,
        // The publisher's clock, not the writer's: a change of alerts alone
        // must make a newer record.
        published_ms: unix_ms(),
        owner_url: cluster.advertise_url.clone(),
        live: serde_json::to_value(live).unwrap_or_default(),
        alerts: serde_json::to_value(alerts).unwrap_or_default(),
    }
}

/// A tenant this instance just took over: the alerts its last view listed
/// as firing fire here too, without a second notification.
fn adopt(state: &AppState, cluster: &Cluster, tenant: &str) {
    let Some(held) = cluster.views.get(tenant) else {
        return;
    };
    let alerts: Vec<AdoptedAlert> =
        serde_json::from_value(held.record.alerts.clone()).unwrap_or_default();
    if alerts.is_empty() {
        return;
    }
    let now = unix_ms();
    let mut engine = state
        .alerts
        .engine
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let taken = alerts.iter().filter(|a| engine.adopt(a, now)).count();
    drop(engine);
    if taken > 0 {
        tracing::info!(
            tenant,
            from = held.record.owner_url,
            "took over {taken} firing alert(s) of the previous owner"
        );
    }
}
