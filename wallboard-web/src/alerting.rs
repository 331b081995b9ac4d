//! Alerting at run time: evaluates the rules against the live views once a
//! second, keeps the list of active alerts for the banner and the API, and
//! hands notifications to one delivery task per channel. A channel that is
//! down only fills (then overflows) its own bounded queue: evaluation and the
//! other channels never wait for it; failures are counted and logged.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokio::sync::{mpsc, watch};

use aggregator::alerts::{ActiveAlert, AlertEngine, AlertStatus, Notification};
use wallboard_pipeline::writer::unix_ms;
use wallboard_pipeline::Hub;

/// A place notifications go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// Channel name, as alert rules' `channels` list it.
    pub name: String,
    /// How the channel is delivered to.
    pub kind: ChannelKind,
    /// Webhook URL, robot URL, Alertmanager base URL, or for `email` the
    /// SMTP server: `smtp://host:25` (plain), `smtp://user:pass@host:587?tls=required`,
    /// `smtps://user:pass@host:465`.
    pub url: String,
    /// For `webhook`: HMAC-SHA256 key; the body's signature goes in
    /// `X-Wallboard-Signature: sha256=<hex>`.
    #[serde(default)]
    pub secret: Option<String>,
    /// For `email`: sender and recipients.
    #[serde(default)]
    pub from: Option<String>,
    /// For `email`: the recipients.
    #[serde(default)]
    pub to: Vec<String>,
}

/// Where a channel delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// Generic JSON webhook (the notification as it is), signed if `secret`.
    Webhook,
    /// Prometheus Alertmanager, API v2 (`POST {url}/api/v2/alerts`).
    Alertmanager,
    /// Slack incoming webhook.
    Slack,
    /// `WeCom` (企业微信) group robot.
    Wecom,
    /// `DingTalk` (钉钉) group robot.
    Dingtalk,
    /// E-mail through SMTP.
    Email,
}

/// Deliveries by channel and result, for `/metrics`.
#[derive(Debug, Default)]
pub struct DeliveryStats {
    /// Deliveries per (channel name, result).
    pub counts: Mutex<BTreeMap<(String, &'static str), u64>>,
}

impl DeliveryStats {
    fn count(&self, channel: &str, result: &'static str) {
        *self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry((channel.to_owned(), result))
            .or_default() += 1;
    }
}

/// Readers' handle on alerting.
#[derive(Clone)]
pub struct Alerts {
    /// The alert engine; readers take the lock to acknowledge and silence.
    pub engine: Arc<Mutex<AlertEngine>>,
    /// The alerts firing now, republished after every evaluation.
    pub active: watch::Receiver<Arc<Vec<ActiveAlert>>>,
    /// Delivery counters.
    pub stats: Arc<DeliveryStats>,
}

/// Most notifications a channel may have waiting.
const QUEUE: usize = 256;
/// Attempts per notification, with doubling backoff from one second.
const ATTEMPTS: u32 = 4;

/// Starts evaluation and delivery.
#[must_use]
pub fn start(engine: AlertEngine, channels: Vec<ChannelConfig>, hub: Hub) -> Alerts {
    let engine = Arc::new(Mutex::new(engine));
    let stats = Arc::new(DeliveryStats::default());
    let (active_tx, active) = watch::channel(Arc::new(Vec::new()));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("HTTP client");
    let mut senders = BTreeMap::new();
    for ch in channels {
        let (tx, rx) = mpsc::channel(QUEUE);
        senders.insert(ch.name.clone(), tx);
        tokio::spawn(deliver(ch, rx, client.clone(), stats.clone()));
    }
    let dropped = Arc::new(AtomicU64::new(0));
    let eng = engine.clone();
    let st = stats.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            let snaps: Vec<_> = hub.tenants().iter().filter_map(|t| hub.live(t)).collect();
            let refs: Vec<_> = snaps.iter().map(|s| &**s).collect();
            let (notes, now_active) = {
                let mut e = eng
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                (e.evaluate(unix_ms(), &refs), e.active())
            };
            active_tx.send_replace(Arc::new(now_active));
            for n in notes {
                tracing::info!(rule = n.rule, tenant = n.tenant, subject = n.subject, status = ?n.status, "{}", n.summary);
                for ch in &n.channels {
                    if let Some(tx) = senders.get(ch) {
                        if tx.try_send(n.clone()).is_err() {
                            dropped.fetch_add(1, Ordering::Relaxed);
                            st.count(ch, "dropped");
                            tracing::warn!(
                                channel = ch,
                                "channel queue full: notification dropped"
                            );
                        }
                    } else {
                        tracing::warn!(channel = ch, "rule names an unknown channel");
                    }
                }
            }
        }
    });
    Alerts {
        engine,
        active,
        stats,
    }
}

async fn deliver(
    ch: ChannelConfig,
    mut rx: mpsc::Receiver<Notification>,
    client: reqwest::Client,
    stats: Arc<DeliveryStats>,
) {
    let mailer = match ch.kind {
        ChannelKind::Email => match AsyncSmtpTransport::<Tokio1Executor>::from_url(&ch.url) {
            Ok(b) => Some(b.timeout(Some(Duration::from_secs(10))).build()),
            Err(e) => {
                tracing::error!(channel = ch.name, "bad SMTP URL {:?}: {e}", ch.url);
                None
            }
        },
        _ => None,
    };
    while let Some(n) = rx.recv().await {
        let mut delay = Duration::from_secs(1);
        for attempt in 1..=ATTEMPTS {
            match send_once(&ch, &n, &client, mailer.as_ref()).await {
                Ok(()) => {
                    stats.count(&ch.name, "ok");
                    break;
                }
                Err(why) => {
                    stats.count(&ch.name, "failed");
                    tracing::warn!(channel = ch.name, attempt, "delivery failed: {why}");
                    if attempt < ATTEMPTS {
                        tokio::time::sleep(delay).await;
                        delay *= 2;
                    }
                }
            }
        }
    }
}

/// One attempt at delivering `n` through `ch`.
async fn send_once(
    ch: &ChannelConfig,
    n: &Notification,
    client: &reqwest::Client,
    mailer: Option<&AsyncSmtpTransport<Tokio1Executor>>,
) -> Result<(), DeliveryError> {
    if ch.kind == ChannelKind::Email {
        let mailer = mailer.ok_or(DeliveryError::NoSmtp)?;
        let mail = email(ch, n)?;
        return mailer
            .send(mail)
            .await
            .map(|_| ())
            .map_err(DeliveryError::from);
    }
    let (url, body) = payload(ch, n);
    let mut req = client
        .post(&url)
        .header("content-type", "application/json")
        .body(body.clone());
    if let (ChannelKind::Webhook, Some(secret)) = (ch.kind, &ch.secret) {
        req = req.header("X-Wallboard-Signature", signature(secret, body.as_bytes()));
    }
    match req.send().await {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(DeliveryError::Status(r.status())),
        Err(e) => Err(e.into()),
    }
}

/// Why one delivery attempt failed.
#[derive(Debug, thiserror::Error)]
enum DeliveryError {
    #[error("no SMTP transport")]
    NoSmtp,
    #[error(transparent)]
    Email(#[from] EmailError),
    #[error(transparent)]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("HTTP {0}")]
    Status(reqwest::StatusCode),
    #[error(transparent)]
    Http(#[from] reqwest::Error),
}

/// Why a notification could not be written as an e-mail.
#[derive(Debug, thiserror::Error)]
enum EmailError {
    #[error("from {address:?}: {source}")]
    From {
        address: String,
        source: lettre::address::AddressError,
    },
    #[error("to {address:?}: {source}")]
    To {
        address: String,
        source: lettre::address::AddressError,
    },
    #[error(transparent)]
    Message(#[from] lettre::error::Error),
}

/// The e-mail for a notification.
fn email(ch: &ChannelConfig, n: &Notification) -> Result<Message, EmailError> {
    let from = ch.from.as_deref().unwrap_or("wallboard@localhost");
    let mut m = Message::builder()
        .from(from.parse().map_err(|source| EmailError::From {
            address: from.to_owned(),
            source,
        })?)
        .subject(format!("[{}] {}", status_word(n.status), n.summary));
    for to in &ch.to {
        m = m.to(to.parse().map_err(|source| EmailError::To {
            address: to.clone(),
            source,
        })?);
    }
    let body = format!(
        "{}\n\nstatus: {}\nseverity: {}\ntenant: {}\nsubject: {}\nvalue: {}\nthreshold: {}\nsince: {}\n",
        n.summary,
        status_word(n.status),
        n.severity,
        n.tenant,
        n.subject,
        n.value.map_or("no data".to_owned(), |v| v.to_string()),
        n.threshold,
        rfc3339(n.starts_ms),
    );
    Ok(m.header(ContentType::TEXT_PLAIN).body(body)?)
}

fn status_word(s: AlertStatus) -> &'static str {
    match s {
        AlertStatus::Firing => "FIRING",
        AlertStatus::Resolved => "RESOLVED",
    }
}

/// `sha256=<hex of HMAC-SHA256(secret, body)>`.
#[must_use]
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// The URL and JSON body for a channel.
fn payload(ch: &ChannelConfig, n: &Notification) -> (String, String) {
    let state = status_word(n.status);
    let text = format!("[{state}] [{}] {} ({})", n.severity, n.summary, n.tenant);
    let body = match ch.kind {
        ChannelKind::Webhook | ChannelKind::Email => serde_json::to_value(n).expect("serializes"),
        ChannelKind::Slack => serde_json::json!({ "text": text }),
        ChannelKind::Wecom => serde_json::json!({ "msgtype": "text", "text": { "content": text } }),
        ChannelKind::Dingtalk => {
            serde_json::json!({ "msgtype": "text", "text": { "content": text } })
        }
        ChannelKind::Alertmanager => {
            let mut alert = serde_json::json!({
                "labels": {
                    "alertname": n.rule, "tenant": n.tenant, "subject": n.subject,
                    "severity": n.severity, "source": "wallboard",
                },
                "annotations": { "summary": n.summary },
                "startsAt": rfc3339(n.starts_ms),
            });
            if let Some(end) = n.ends_ms {
                alert["endsAt"] = serde_json::json!(rfc3339(end));
            }
            serde_json::json!([alert])
        }
    };
    let url = match ch.kind {
        ChannelKind::Alertmanager => format!("{}/api/v2/alerts", ch.url.trim_end_matches('/')),
        _ => ch.url.clone(),
    };
    (url, body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn presets_shape_the_body_for_each_service() {
        let n = Notification {
            status: AlertStatus::Resolved,
            rule: "sl".into(),
            tenant: "acme".into(),
            subject: "sales".into(),
            severity: "warning".into(),
            value: Some(0.9),
            threshold: 0.8,
            starts_ms: 0,
            ends_ms: Some(60_000),
            channels: vec![],
            summary: "sl: sales".into(),
        };
        let ch = |kind| ChannelConfig {
            name: "c".into(),
            kind,
            url: "http://h/".into(),
            secret: None,
            from: None,
            to: vec![],
        };
        let (url, body) = payload(&ch(ChannelKind::Alertmanager), &n);
        assert_eq!(url, "http://h/api/v2/alerts");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v[0]["labels"]["alertname"], "sl");
        assert_eq!(v[0]["endsAt"], "1970-01-01T00:01:00.000Z");
        let (_, body) = payload(&ch(ChannelKind::Wecom), &n);
        assert!(body.contains("\"msgtype\":\"text\"") && body.contains("[RESOLVED]"));
        let (_, body) = payload(&ch(ChannelKind::Slack), &n);
        assert!(body.starts_with("{\"text\":\"[RESOLVED] [warning]"));
    }
}
