//! `wallboard serve`: the aggregator and the web server, fed from Kafka.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use tokio::sync::watch;

use std::sync::Arc;
use wallboard_pipeline::changelog;
use wallboard_pipeline::kafka::{self, ChangelogConfig, SourceConfig};
use wallboard_pipeline::snapshot::SnapshotStore;
use wallboard_pipeline::topic_check::{self, TopicWarning};
use wallboard_pipeline::views::{RemoteViews, ViewProducer, ViewReader};
use wallboard_pipeline::writer::WriterConfig;
use wallboard_pipeline::Hub;

use ingest::kafka::{ensure_topic, KafkaSettings, Publisher};
use wallboard::cluster::{self, Cluster};
use wallboard::config::AppConfig;
use wallboard::shutdown::{bounded_stop, STOP_DEADLINE};
use wallboard::web::{self, AppState, IngestSink};

use super::MetricFlags;

#[derive(Args, Debug, Clone)]
pub(super) struct ServeArgs {
    /// Configuration file (TOML); see deploy/wallboard.example.toml.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Kafka bootstrap servers (overrides the config).
    #[arg(long, value_name = "HOST:PORT")]
    pub kafka: Option<String>,
    /// Topic of canonical events to consume (default: `[kafka] topic`, `cti.events`).
    #[arg(long, value_name = "T")]
    pub topic: Option<String>,
    /// Dead-letter topic (default with --topic: `<topic>.dlq`).
    #[arg(long, value_name = "T")]
    pub dlq_topic: Option<String>,
    /// Kafka consumer group (default: `[kafka] group`).
    #[arg(long, value_name = "G")]
    pub group: Option<String>,
    /// Address to serve the wallboard on, e.g. `0.0.0.0:8080` or `localhost:8080` (default: `[server] listen`).
    #[arg(long, value_name = "ADDR", value_parser = super::listen_addr)]
    pub listen: Option<std::net::SocketAddr>,
    /// Directory of the durable state snapshots.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// librdkafka property (repeat), e.g. `-X security.protocol=SASL_SSL`;
    /// overrides `[kafka.properties]`.
    #[arg(short = 'X', value_name = "KEY=VALUE", value_parser = super::kafka_property)]
    pub property: Vec<(String, String)>,
    #[command(flatten)]
    pub metrics: MetricFlags,
    /// A forecast file (CSV or JSON, events.md "Forecast files") published
    /// to the events topic at start, for `--forecast-tenant`.
    #[arg(long, value_name = "FILE")]
    pub forecast: Option<PathBuf>,
    /// The tenant `--forecast` is for.
    #[arg(long, value_name = "T", default_value = wallboard_events::event::DEFAULT_TENANT)]
    pub forecast_tenant: String,
}

pub(super) fn run(args: ServeArgs) -> Result<()> {
    let reload_args = args.clone();
    let forecast = (args.forecast.clone()).map(|path| (path, args.forecast_tenant.clone()));
    let config = configure(args)?;
    // Every connection is a descriptor: the soft limit goes up to the hard one.
    wallboard::fd_limit::raise_for(
        config.server.max_connections as u64,
        "server.max_connections",
    )?;
    let params = config.tenant_params().context("invalid metric settings")?;
    // Read (and checked) before anything starts: a bad file stops `serve`.
    let forecasts = match &forecast {
        Some((path, tenant)) => {
            let ts = wallboard_pipeline::writer::unix_ms();
            super::forecast::read(path, tenant, params.of(tenant), ts)?
        }
        None => Vec::new(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let settings = KafkaSettings {
            brokers: config.kafka.brokers.clone(),
            properties: config.kafka.properties.clone(),
        };
        for topic in [&config.kafka.topic, &config.kafka.dlq_topic] {
            ensure_topic(&settings, topic, config.kafka.partitions)
                .await
                .with_context(|| format!("cannot create topic {topic} on {}", settings.brokers))?;
        }
        let changelog_topic = prepare_changelog(&settings, &config.kafka).await?;
        let views = prepare_views(&settings, &config.kafka).await?;
        let topic_warnings =
            check_topics(&settings, &config.kafka, &changelog_topic, views.topic()).await?;
        check_session_timeout(&settings, &config.kafka).await?;
        let reader = ViewReader::start(&settings, views.clone())
            .with_context(|| format!("cannot read the views topic {}", views.topic()))?;
        let producer = ViewProducer::new(&settings, views.topic())?;
        let (changed_tx, changed_rx) = watch::channel(0u64);
        let hub = Hub::new(Vec::new(), either_changes(changed_rx, views.changes()));
        let publisher = Arc::new(Publisher::new(&settings)?);
        for e in &forecasts {
            publisher
                .send(&config.kafka.topic, &e.tenant, e.to_json().as_bytes(), &[])
                .with_context(|| {
                    format!("cannot publish the forecast to {}", config.kafka.topic)
                })?;
        }
        let source_config = source_config(&config, settings, changelog_topic, params)?;
        let source = kafka::start(source_config, hub.clone(), changed_tx)
            .context("cannot start the Kafka consumer")?;
        let state = AppState::new(hub, config.clone())
            .with_ingest(IngestSink::Kafka {
                publisher,
                topic: config.kafka.topic.clone(),
            })
            .with_cluster(
                Cluster::new(views, advertise_url(&config))
                    .with_topic_warnings(topic_warnings)
                    .with_consumer_errors(source.errors()),
            );
        let publishing = cluster::spawn_publisher(state.clone(), producer);
        // SIGHUP: the file again, with the same flags on top (README, "Reloading").
        wallboard::reload::reload_on_sighup(state.shown.clone(), move || {
            configure(reload_args.clone()).map_err(|e| format!("{e:#}"))
        });
        let listener = tokio::net::TcpListener::bind(config.server.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.server.listen))?;
        // Not `println!`: a closed stdout must not stop the server.
        let _ = writeln!(
            std::io::stdout(),
            "wallboard serve: http://{}/ · consuming {} from {} as group {}",
            listener.local_addr()?,
            config.kafka.topic,
            config.kafka.brokers,
            config.kafka.group
        );
        let served = serve_until_stopped(listener, state, source).await;
        publishing.abort();
        drop(reader);
        served
    })
}

/// The configuration file (or defaults) with the command line's flags on top.
fn configure(args: ServeArgs) -> Result<AppConfig> {
    let mut config = AppConfig::load(args.config.as_deref())?;
    config.metrics = args.metrics.apply(config.metrics);
    if let Some(k) = args.kafka {
        config.kafka.brokers = k;
    }
    if let Some(t) = args.topic {
        config.kafka.dlq_topic = format!("{t}.dlq");
        config.kafka.topic = t;
    }
    if let Some(t) = args.dlq_topic {
        config.kafka.dlq_topic = t;
    }
    if let Some(g) = args.group {
        config.kafka.group = g;
    }
    if let Some(l) = args.listen {
        config.server.listen = l;
    }
    if let Some(d) = args.state_dir {
        config.pipeline.snapshot_dir = d;
    }
    config.kafka.properties.extend(args.property);
    Ok(config)
}

/// What the Kafka source and its partition writers run with.
fn source_config(
    config: &AppConfig,
    kafka: KafkaSettings,
    changelog_topic: String,
    params: aggregator::TenantParams,
) -> Result<SourceConfig> {
    Ok(SourceConfig {
        kafka,
        topic: config.kafka.topic.clone(),
        dlq_topic: config.kafka.dlq_topic.clone(),
        group: config.kafka.group.clone(),
        changelog: Some(ChangelogConfig {
            topic: changelog_topic,
            chunk_bytes: config.kafka.changelog_chunk_bytes,
        }),
        session_timeout_ms: config.kafka.session_timeout_ms,
        heartbeat_interval_ms: config.kafka.heartbeat_interval_ms,
        writer: WriterConfig {
            partition: 0,
            params,
            allowed_lateness_ms: i64::try_from(config.pipeline.allowed_lateness_s)? * 1000,
            max_future_ms: Some(config.pipeline.max_future_ms()),
            publish_interval: Duration::from_millis(config.server.publish_interval_ms),
            snapshot_interval: Duration::from_secs(config.pipeline.snapshot_interval_s.max(1)),
            snapshots: Some(SnapshotStore::new(
                &config.pipeline.snapshot_dir,
                &config.kafka.topic,
            )),
            freshness: config.freshness,
        },
        parse_stage: true,
    })
}

/// Serves until a signal (or the web server fails), then stops within
/// [`STOP_DEADLINE`]: final snapshots, open requests, offset commits.
async fn serve_until_stopped(
    listener: tokio::net::TcpListener,
    state: AppState,
    source: kafka::Source,
) -> Result<()> {
    let (stop_web, web_stopping) = tokio::sync::oneshot::channel::<()>();
    let mut server = tokio::spawn(web::serve(listener, state, async {
        let _ = web_stopping.await;
    }));
    let mut failed = None;
    tokio::select! {
        () = super::shutdown_signal() => {}
        r = &mut server => failed = Some(r),
    }
    tracing::info!(
        "stopping: writing final snapshots (at most {} s; a second signal exits at once)",
        STOP_DEADLINE.as_secs()
    );
    // The deadline covers the web server's graceful shutdown (open
    // requests) as well as the consumer's.
    let _ = stop_web.send(());
    let stop = async move {
        if failed.is_none() {
            failed = Some(server.await);
        }
        let stopped = tokio::task::spawn_blocking(move || source.stop()).await;
        if let Ok(Err(e)) = stopped {
            tracing::warn!("consumer stopped with an error: {e}");
        }
        failed
    };
    let mut web_result = None;
    let stopped = bounded_stop(
        async { web_result = stop.await },
        STOP_DEADLINE,
        super::shutdown_signal(),
    )
    .await;
    if let Some(code) = stopped.exit_code() {
        // What is still stopping is abandoned: snapshots already written
        // are what recovery uses; a later restart reads on from them.
        tracing::error!("stop not finished ({stopped:?}): exiting now");
        std::process::exit(code);
    }
    if let Some(r) = web_result {
        r.context("web server task failed")??;
    }
    Ok(())
}

/// Creates the changelog topic (as many partitions as the source topic).
async fn prepare_changelog(
    settings: &KafkaSettings,
    kafka: &wallboard::config::KafkaConfig,
) -> Result<String> {
    let topic = kafka.changelog();
    let partitions = changelog::settled_partition_count(settings, &kafka.topic, 1)
        .await
        .with_context(|| format!("cannot read the partitions of {}", kafka.topic))?;
    anyhow::ensure!(partitions > 0, "topic {} shows no partitions", kafka.topic);
    changelog::ensure_topic(settings, &topic, partitions)
        .await
        .context("kafka.changelog_topic")?;
    Ok(topic)
}

/// Checks the topics' broker settings (`docs/architecture.md`, "Topic
/// settings checked at start"): refuses a changelog chunk that does not fit
/// in one record of the changelog topic, and gives (and logs) a warning per
/// topic that is not compacted or keeps too little.
async fn check_topics(
    settings: &KafkaSettings,
    kafka: &wallboard::config::KafkaConfig,
    changelog_topic: &str,
    views_topic: &str,
) -> Result<Vec<TopicWarning>> {
    match topic_check::message_limit(settings, changelog_topic).await {
        Ok(Some((limit, what))) => {
            let what = format!("{what} {changelog_topic}");
            if let Some(why) =
                topic_check::chunk_too_large(kafka.changelog_chunk_bytes, limit, &what)
            {
                anyhow::bail!("kafka.changelog_chunk_bytes: {why}");
            }
        }
        Ok(None) => tracing::warn!("the record size limit of {changelog_topic} is unknown"),
        Err(e) => tracing::warn!("the record size limit of {changelog_topic} is unknown: {e}"),
    }
    let mut warnings = Vec::new();
    for (topic, key) in [
        (changelog_topic, "kafka.changelog_topic"),
        (views_topic, "kafka.views_topic"),
    ] {
        match topic_check::compaction_warning(settings, topic, key).await {
            Ok(w) => warnings.extend(w),
            Err(e) => tracing::warn!("cleanup.policy of {topic} unknown: {e}"),
        }
    }
    warnings.extend(retention_warning(settings, &kafka.topic).await);
    for w in &warnings {
        tracing::warn!(
            "topic {}: {}={:?}: {}",
            w.topic,
            w.setting,
            w.value,
            w.detail
        );
    }
    Ok(warnings)
}

/// Refuses a `kafka.session_timeout_ms` the broker would refuse at every
/// join (its `group.min.session.timeout.ms` is 6000 by default); a broker
/// that does not say is only logged.
async fn check_session_timeout(
    settings: &KafkaSettings,
    kafka: &wallboard::config::KafkaConfig,
) -> Result<()> {
    match topic_check::session_timeout_bounds(settings).await {
        Ok(Some((min, max))) => {
            let ms = u64::from(kafka.session_timeout_ms);
            if let Some(why) = topic_check::session_timeout_refused(ms, min, max) {
                anyhow::bail!("kafka.session_timeout_ms: {why}");
            }
        }
        Ok(None) => tracing::warn!("the broker's session timeout bounds are unknown"),
        Err(e) => tracing::warn!("the broker's session timeout bounds are unknown: {e}"),
    }
    Ok(())
}

/// A warning when the source topic's retention is shorter than recovery needs.
async fn retention_warning(settings: &KafkaSettings, topic: &str) -> Option<TopicWarning> {
    match changelog::retention_ms(settings, topic).await {
        Ok(Some(ms)) if !changelog::retention_is_enough(ms) => Some(TopicWarning {
            topic: topic.to_owned(),
            setting: "retention.ms".into(),
            value: ms.to_string(),
            detail: format!(
                "less than the {} ms recovery needs (docs/architecture.md, \"Retention\"): a \
                 partition rebuilt after a longer outage is marked incomplete",
                changelog::MIN_RETENTION_MS
            ),
        }),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!("retention.ms of {topic} unknown: {e}");
            None
        }
    }
}

/// Creates the views topic (compacted, as many partitions as the source
/// topic) and the store its reader fills.
async fn prepare_views(
    settings: &KafkaSettings,
    kafka: &wallboard::config::KafkaConfig,
) -> Result<Arc<RemoteViews>> {
    let topic = kafka.views();
    let partitions = changelog::settled_partition_count(settings, &kafka.topic, 1)
        .await
        .with_context(|| format!("cannot read the partitions of {}", kafka.topic))?;
    changelog::ensure_topic(settings, &topic, partitions.max(1))
        .await
        .context("kafka.views_topic")?;
    Ok(Arc::new(RemoteViews::new(&topic)))
}

/// Where the other instances reach this one; warns when that is an address
/// they cannot use.
fn advertise_url(config: &AppConfig) -> String {
    let server = &config.server;
    if server.advertise_url.is_empty() && server.listen.ip().is_unspecified() {
        tracing::warn!(
            "server.listen is {} and server.advertise_url is not set: other instances \
             cannot forward reports to this one (docs/architecture.md, \"Every node serves \
             every tenant\")",
            server.listen
        );
    }
    server.advertise()
}

/// A receiver bumped whenever either `a` or `b` changes: the readers wake
/// for this instance's partitions and for views from the other instances.
fn either_changes(
    mut a: watch::Receiver<u64>,
    mut b: watch::Receiver<u64>,
) -> watch::Receiver<u64> {
    let (tx, rx) = watch::channel(0u64);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                r = a.changed() => if r.is_err() { return },
                r = b.changed() => if r.is_err() { return },
            }
            tx.send_modify(|n| *n = n.wrapping_add(1));
        }
    });
    rx
}
