//! The broker settings a deployment depends on, checked at start
//! (`architecture.md`, "Topic settings checked at start"): a changelog chunk
//! must fit in one record of the changelog topic, the changelog and views
//! topics must be compacted, the source topic must keep what recovery
//! needs, and the consumer's session timeout must be one the broker allows.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, ConfigSource, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use serde::Serialize;

use ingest::kafka::KafkaSettings;

/// Bytes a changelog record adds to its chunk at most, as the broker
/// counts them against `max.message.bytes`: the record batch header (61),
/// the record's own framing (at most 32: length, attributes, timestamp and
/// offset deltas, key and value lengths, header count) and its key
/// `p<partition>/s<slot>/c<index>` (at most 36), rounded up to 256.
pub const CHUNK_RECORD_OVERHEAD_BYTES: usize = 256;

/// One setting of a topic that does not suit its use, for the log and
/// `/api/v1/status` (`topic_warnings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicWarning {
    /// The topic.
    pub topic: String,
    /// The broker setting, e.g. `cleanup.policy`.
    pub setting: String,
    /// Its value as the broker reported it.
    pub value: String,
    /// What it means and what to do.
    pub detail: String,
}

/// The largest record the broker takes on `topic`: the topic's
/// `max.message.bytes` when the topic overrides it, else the broker's
/// `message.max.bytes` (falling back to the topic's reported default).
/// `None` when the broker reports neither.
pub async fn message_limit(
    kafka: &KafkaSettings,
    topic: &str,
) -> Result<Option<(usize, &'static str)>, KafkaError> {
    let admin: AdminClient<DefaultClientContext> = kafka.client_config(&[]).create()?;
    let entry = describe(
        &admin,
        &ResourceSpecifier::Topic(topic),
        "max.message.bytes",
    )
    .await?;
    let parse = |v: &Option<String>| v.as_deref().and_then(|v| v.parse().ok());
    if let Some((value, true)) = &entry {
        return Ok(parse(value).map(|n| (n, "max.message.bytes of the topic")));
    }
    if let Some(broker) = broker_id(kafka)? {
        let spec = ResourceSpecifier::Broker(broker);
        if let Some(n) = describe(&admin, &spec, "message.max.bytes")
            .await?
            .and_then(|(v, _)| parse(&v))
        {
            return Ok(Some((n, "message.max.bytes of the broker")));
        }
    }
    Ok(entry
        .and_then(|(v, _)| parse(&v))
        .map(|n| (n, "max.message.bytes of the topic")))
}

/// Why `chunk_bytes` cannot be written to a topic whose records may be at
/// most `limit` bytes (`what` names that limit); `None` when it fits.
#[must_use]
pub fn chunk_too_large(chunk_bytes: usize, limit: usize, what: &str) -> Option<String> {
    let need = chunk_bytes.saturating_add(CHUNK_RECORD_OVERHEAD_BYTES);
    (need > limit).then(|| {
        format!(
            "{chunk_bytes} bytes plus {CHUNK_RECORD_OVERHEAD_BYTES} bytes of record overhead \
             exceed the {what} ({limit}): set it to at most {} or raise that limit",
            limit.saturating_sub(CHUNK_RECORD_OVERHEAD_BYTES)
        )
    })
}

/// A warning when `topic` is not compacted (`cleanup.policy` without
/// `compact`): its records would expire with retention instead of the
/// newest per key being kept.
pub async fn compaction_warning(
    kafka: &KafkaSettings,
    topic: &str,
    key: &str,
) -> Result<Option<TopicWarning>, KafkaError> {
    let admin: AdminClient<DefaultClientContext> = kafka.client_config(&[]).create()?;
    let policy = describe(&admin, &ResourceSpecifier::Topic(topic), "cleanup.policy")
        .await?
        .and_then(|(v, _)| v)
        .unwrap_or_default();
    Ok((!is_compacted(&policy)).then(|| TopicWarning {
        topic: topic.to_owned(),
        setting: "cleanup.policy".into(),
        value: policy,
        detail: format!(
            "{key} should be compacted (cleanup.policy=compact): otherwise retention deletes \
             the newest record of a key, and what it holds is lost for a takeover or a restart"
        ),
    }))
}

/// The session timeouts the broker lets a consumer group member ask for:
/// `group.min.session.timeout.ms` and `group.max.session.timeout.ms`, ms.
/// `None` when the broker does not report both.
pub async fn session_timeout_bounds(
    kafka: &KafkaSettings,
) -> Result<Option<(u64, u64)>, KafkaError> {
    let Some(broker) = broker_id(kafka)? else {
        return Ok(None);
    };
    let admin: AdminClient<DefaultClientContext> = kafka.client_config(&[]).create()?;
    let spec = ResourceSpecifier::Broker(broker);
    let names = [
        "group.min.session.timeout.ms",
        "group.max.session.timeout.ms",
    ];
    let [min, max] = describe_all(&admin, &spec, names).await?.map(|entry| {
        entry
            .and_then(|(v, _)| v)
            .and_then(|v| v.parse::<u64>().ok())
    });
    Ok(min.zip(max))
}

/// Why the broker would refuse a member asking for `session_ms` when it
/// allows `min..=max`; `None` when it allows it. The broker answers such a
/// join with `INVALID_SESSION_TIMEOUT` for ever, so the instance would run
/// and own nothing.
#[must_use]
pub fn session_timeout_refused(session_ms: u64, min: u64, max: u64) -> Option<String> {
    (!(min..=max).contains(&session_ms)).then(|| {
        format!(
            "{session_ms} ms is outside what the broker allows (group.min.session.timeout.ms \
             {min} to group.max.session.timeout.ms {max}): it would refuse every group join; \
             set it within those or change the broker's settings"
        )
    })
}

/// Whether a `cleanup.policy` value compacts (`compact` or `compact,delete`).
#[must_use]
pub fn is_compacted(policy: &str) -> bool {
    policy.split(',').any(|p| p.trim() == "compact")
}

/// The value of `name` in `resource`'s configuration, and whether the
/// topic itself sets it (config source `DYNAMIC_TOPIC_CONFIG`).
async fn describe(
    admin: &AdminClient<DefaultClientContext>,
    resource: &ResourceSpecifier<'_>,
    name: &str,
) -> Result<Option<(Option<String>, bool)>, KafkaError> {
    let [entry] = describe_all(admin, resource, [name]).await?;
    Ok(entry)
}

/// The same for each of `names`, in one request.
async fn describe_all<const N: usize>(
    admin: &AdminClient<DefaultClientContext>,
    resource: &ResourceSpecifier<'_>,
    names: [&str; N],
) -> Result<[Option<(Option<String>, bool)>; N], KafkaError> {
    let results = admin
        .describe_configs([resource], &AdminOptions::new())
        .await?;
    let found: Vec<_> = results.into_iter().filter_map(Result::ok).collect();
    Ok(names.map(|name| {
        found.iter().find_map(|r| {
            let e = r.get(name)?;
            Some((
                e.value.clone(),
                matches!(e.source, ConfigSource::DynamicTopic),
            ))
        })
    }))
}

/// The id of a broker of the cluster, to describe its configuration.
fn broker_id(kafka: &KafkaSettings) -> Result<Option<i32>, KafkaError> {
    let consumer: BaseConsumer = kafka.client_config(&[]).create()?;
    let md = consumer.fetch_metadata(None, Duration::from_secs(10))?;
    Ok(md
        .brokers()
        .first()
        .map(rdkafka::metadata::MetadataBroker::id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_fits_with_its_overhead_or_is_refused_with_the_most_that_fits() {
        assert_eq!(chunk_too_large(1024, 1024 + 256, "limit"), None);
        let why = chunk_too_large(1025, 1024 + 256, "max.message.bytes of the topic").unwrap();
        assert!(
            why.contains("exceed the max.message.bytes of the topic (1280)"),
            "{why}"
        );
        assert!(why.contains("at most 1024"), "{why}");
    }

    #[test]
    fn a_session_timeout_outside_the_broker_s_bounds_is_refused_with_them() {
        assert_eq!(session_timeout_refused(6000, 6000, 1_800_000), None);
        assert_eq!(session_timeout_refused(1_800_000, 6000, 1_800_000), None);
        let why = session_timeout_refused(3000, 6000, 1_800_000).unwrap();
        assert!(why.starts_with("3000 ms is outside"), "{why}");
        assert!(why.contains("group.min.session.timeout.ms 6000"), "{why}");
        assert!(session_timeout_refused(1_800_001, 6000, 1_800_000).is_some());
    }

    #[test]
    fn compaction_is_read_from_the_policy_list() {
        assert!(is_compacted("compact"));
        assert!(is_compacted("delete, compact"));
        assert!(!is_compacted("delete"));
        assert!(!is_compacted(""));
    }
}
