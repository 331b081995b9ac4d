//! The AMI TCP client: connects, reads the banner, logs in, asks
//! `QueueStatus` to resynchronise, then feeds every event to the
//! [`Translator`] and hands canonical events (and skipped input, with its
//! reason) to the caller through a channel. It pings the server every
//! `ping_interval` and reconnects when no answer comes within
//! `ping_timeout`, or when the connection drops, with exponential back-off.
//! Time spent waiting for room in the channel (the caller's back-pressure)
//! does not count against the server's answer.
//! A refused login is fatal: retrying a wrong secret only fills Asterisk's
//! security log.

use std::fmt;
use std::future::Future;
use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{sleep, sleep_until, timeout, Instant};

use crate::adapter::Backoff;
pub use crate::adapter::{Clock, SystemClock};
pub use crate::adapter::{Output, Skipped, Stats};
use wallboard_events::event::Event;
use wallboard_events::parse::{ident_problem, IdentProblem, MAX_TENANT_IDENT};
use wallboard_events::DeadLetterCode;

use super::protocol::{has_line_break, Frame, Framer, Message, DEFAULT_MAX_MESSAGE_BYTES};
use super::translate::{parse_timestamp, Translator, TranslatorConfig};

const LOGIN_ID: &str = "wallboard-login";
const PING_ID: &str = "wallboard-ping-";
const RESYNC_ID: &str = "wallboard-resync-";

/// A password: shown as `***` by `Debug` so it never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The password in clear, for the `Login` action only.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Every delay of the client, short in tests.
#[derive(Debug, Clone)]
pub struct Timing {
    /// Longest wait for the TCP connection.
    pub connect_timeout: Duration,
    /// For the banner and the answer to `Login`.
    pub login_timeout: Duration,
    /// How often a `Ping` is sent.
    pub ping_interval: Duration,
    /// Longest wait for the answer to a `Ping` before the connection counts as lost.
    pub ping_timeout: Duration,
    /// First wait before reconnecting; doubles up to `backoff_max`.
    pub backoff_min: Duration,
    /// Longest wait between reconnects.
    pub backoff_max: Duration,
    /// How often open outcomes are settled ([`Translator::tick`]).
    pub tick_interval: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            connect_timeout: Duration::from_secs(10),
            login_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(20),
            ping_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            tick_interval: Duration::from_millis(500),
        }
    }
}

/// Where and how to reach one Asterisk manager interface.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Host name or address of the AMI.
    pub host: String,
    /// TCP port of the AMI (5038 by default in Asterisk).
    pub port: u16,
    /// `manager.conf` user.
    pub username: String,
    /// That user's secret.
    pub secret: Secret,
    /// `Events:` of the login: `on`, or event classes such as
    /// `agent,call,dialplan` (queue events are class `agent`; `Hangup` is
    /// `call`, `VarSet` is `dialplan`).
    pub events: String,
    /// How AMI events become canonical events.
    pub translator: TranslatorConfig,
    /// Timeouts and back-off.
    pub timing: Timing,
    /// Reconnect when the connection is lost; otherwise stop.
    pub reconnect: bool,
    /// Largest AMI message accepted, bytes; a longer one is skipped.
    pub max_message_bytes: usize,
}

impl ClientConfig {
    /// Settings for `username` at `host:port`, every other one its default.
    #[must_use]
    pub fn new(host: &str, port: u16, username: &str, secret: Secret) -> Self {
        ClientConfig {
            host: host.to_owned(),
            port,
            username: username.to_owned(),
            secret,
            events: "on".into(),
            translator: TranslatorConfig::default(),
            timing: Timing::default(),
            reconnect: true,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
        }
    }

    /// `host:port`, for messages and dead-letter origins.
    #[must_use]
    pub fn addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// Why an AMI client run ended early.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The AMI refused the login.
    #[error("AMI login to {addr} refused: {message} (check the manager.conf user, its secret and permit/deny)")]
    Authentication {
        /// `host:port` of the AMI.
        addr: String,
        /// The AMI's `Message:` answer.
        message: String,
    },
    /// Without `reconnect`: the connection ended before the first login.
    #[error("AMI at {addr}: {reason}")]
    Connect {
        /// `host:port` of the AMI.
        addr: String,
        /// What went wrong.
        reason: Lost,
    },
    /// The settings make no sense; the message names the setting.
    #[error("invalid AMI settings: {0}")]
    Config(#[from] ConfigError),
}

/// What makes AMI settings unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No host to connect to.
    #[error("the host is empty")]
    EmptyHost,
    /// A line break in a value of the `Login` action would inject headers.
    #[error("the {0} contains a line break")]
    LineBreak(&'static str),
    /// The tenant is not a valid tenant identifier.
    #[error("tenant {tenant:?} {problem}")]
    Tenant {
        /// The tenant as configured.
        tenant: String,
        /// What is wrong with it.
        problem: IdentProblem,
    },
}

/// Why a connection to the AMI was lost (then made again, unless
/// `reconnect` is off).
#[derive(Debug, thiserror::Error)]
pub enum Lost {
    /// The TCP connection failed.
    #[error("cannot connect: {0}")]
    Connect(io::Error),
    /// No TCP connection within `connect_timeout`.
    #[error("no connection within {0:?}")]
    ConnectTimeout(Duration),
    /// No banner within `login_timeout`.
    #[error("no banner within {0:?}")]
    NoBanner(Duration),
    /// No answer to `Login` within `login_timeout`.
    #[error("no answer to Login within {0:?}")]
    NoLoginAnswer(Duration),
    /// The server closed the connection before the login was answered.
    #[error("the server closed the connection before the login")]
    ClosedBeforeLogin,
    /// Reading failed before the login was answered.
    #[error("read error before the login: {0}")]
    ReadBeforeLogin(io::Error),
    /// Sending an action failed.
    #[error("cannot send {action}: {source}")]
    Send {
        /// The action: `Login`, `QueueStatus` or `Ping`.
        action: &'static str,
        /// The write's error.
        source: io::Error,
    },
    /// The server closed the connection.
    #[error("the server closed the connection")]
    Closed,
    /// Reading failed.
    #[error("read error: {0}")]
    Read(io::Error),
    /// No answer to a `Ping` within `ping_timeout`.
    #[error("no answer to Ping within {0:?}")]
    NoPingAnswer(Duration),
}

/// How a session ended when it was not fatal.
enum End {
    /// Connection trouble: reconnect (or stop with `reconnect: false`).
    Lost { reason: Lost, logged_in: bool },
    /// The receiver of updates is gone.
    Closed,
}

impl End {
    fn lost(reason: Lost, logged_in: bool) -> Self {
        End::Lost { reason, logged_in }
    }
}

/// What the frames read so far say about the login.
enum Login {
    /// No answer to `Login` yet.
    Pending,
    /// `Login` succeeded.
    Accepted,
    /// The session is over before the login.
    Over(Result<End, ClientError>),
}

/// Runs the client until `stop` resolves (or, without reconnection, until
/// the connection ends); returns the run's totals.
pub async fn run<C: Clock>(
    cfg: ClientConfig,
    clock: C,
    tx: mpsc::Sender<Output>,
    stop: impl Future<Output = ()>,
) -> Result<Stats, ClientError> {
    validate(&cfg)?;
    tokio::pin!(stop);
    let mut c = Client {
        translator: Translator::new(cfg.translator.clone()),
        framer: Framer::new(cfg.max_message_bytes),
        cfg,
        clock,
        tx,
        stats: Stats::default(),
        msg_no: 0,
        ping_no: 0,
        logins: 0,
        stalled: Duration::ZERO,
        resync_ping: 0,
    };
    let mut backoff = Backoff::new(c.cfg.timing.backoff_min, c.cfg.timing.backoff_max);
    loop {
        let ended = tokio::select! {
            r = c.session() => Some(r?),
            () = &mut stop => None,
        };
        let (reason, logged_in) = match ended {
            None => break,
            Some(End::Closed) => return Ok(c.totals()),
            Some(End::Lost { reason, logged_in }) => (reason, logged_in),
        };
        if let Some(Frame::Malformed(e)) = c.framer.finish() {
            if !c.skip(e.raw().to_vec(), e.code(), e.to_string()).await {
                return Ok(c.totals());
            }
        }
        if !c.cfg.reconnect {
            if !logged_in && c.logins == 0 {
                return Err(ClientError::Connect {
                    addr: c.cfg.addr(),
                    reason,
                });
            }
            tracing::info!("AMI {}: {reason}; stopping", c.cfg.addr());
            break;
        }
        if logged_in {
            backoff.reset();
        }
        let delay = backoff.next_delay();
        tracing::warn!("AMI {}: {reason}; reconnecting in {delay:?}", c.cfg.addr());
        let retry_in = Some(delay);
        let reason = reason.to_string();
        if !c.send(Output::Disconnected { reason, retry_in }).await {
            return Ok(c.totals());
        }
        tokio::select! {
            () = sleep(delay) => {}
            () = &mut stop => break,
        }
    }
    // Whatever is still open is settled now rather than lost.
    let mut out = Vec::new();
    c.translator.finish(&mut out);
    c.events(out).await;
    Ok(c.totals())
}

fn validate(cfg: &ClientConfig) -> Result<(), ConfigError> {
    if cfg.host.trim().is_empty() {
        return Err(ConfigError::EmptyHost);
    }
    for (what, v) in [
        ("username", cfg.username.as_str()),
        ("secret", cfg.secret.expose()),
        ("events", cfg.events.as_str()),
    ] {
        // A line break would inject headers into the Login action.
        if has_line_break(v) {
            return Err(ConfigError::LineBreak(what));
        }
    }
    let t = &cfg.translator.tenant;
    if let Some(problem) = ident_problem(t, MAX_TENANT_IDENT) {
        return Err(ConfigError::Tenant {
            tenant: t.clone(),
            problem,
        });
    }
    Ok(())
}

struct Client<C> {
    cfg: ClientConfig,
    clock: C,
    tx: mpsc::Sender<Output>,
    translator: Translator,
    framer: Framer,
    stats: Stats,
    msg_no: u64,
    ping_no: u64,
    logins: u64,
    /// Time spent waiting for room in the channel since last looked at.
    stalled: Duration,
    /// The last Ping sent before this session's `QueueStatus`: Asterisk
    /// answers actions in order, so the answer to a later Ping means the
    /// `QueueStatus` answer is over, complete or not.
    resync_ping: u64,
}

impl<C: Clock> Client<C> {
    fn totals(&self) -> Stats {
        Stats {
            ignored: self.translator.ignored,
            ..self.stats
        }
    }

    async fn send(&mut self, u: Output) -> bool {
        match self.tx.try_send(u) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Closed(_)) => false,
            Err(mpsc::error::TrySendError::Full(u)) => {
                // Our receiver is slow (e.g. a Kafka flush): not the server.
                let since = Instant::now();
                let sent = self.tx.send(u).await.is_ok();
                self.stalled += since.elapsed();
                sent
            }
        }
    }

    async fn events(&mut self, out: Vec<Event<'static>>) -> bool {
        for e in out {
            self.stats.events += 1;
            if !self.send(Output::Event(e)).await {
                return false;
            }
        }
        true
    }

    async fn skip(&mut self, raw: Vec<u8>, code: DeadLetterCode, reason: String) -> bool {
        self.stats.skipped += 1;
        let msg_no = self.msg_no;
        self.send(Output::Skipped(Skipped {
            msgno: msg_no,
            code,
            reason,
            raw,
        }))
        .await
    }

    /// One connection, from connect to loss. `Err` only when fatal.
    async fn session(&mut self) -> Result<End, ClientError> {
        let t = self.cfg.timing.clone();
        let stream = match self.connect().await {
            Ok(s) => s,
            Err(end) => return Ok(end),
        };
        let _ = stream.set_nodelay(true);
        let (mut rd, mut wr) = stream.into_split();
        self.framer.reset(true);
        let mut buf = vec![0u8; 16 * 1024];

        // The banner, then the answer to Login, within login_timeout.
        let deadline = Instant::now() + t.login_timeout;
        let mut banner = None;
        let mut login_sent = false;
        loop {
            match self.login_frames(&mut banner).await {
                Login::Pending => {}
                Login::Accepted => {
                    let banner = banner.unwrap_or_default();
                    return self.logged_in(rd, wr, buf, banner).await;
                }
                Login::Over(r) => return r,
            }
            if banner.is_some() && !login_sent {
                login_sent = true;
                if let Err(e) = wr.write_all(self.login_action().to_wire().as_bytes()).await {
                    return Ok(End::lost(
                        Lost::Send {
                            action: "Login",
                            source: e,
                        },
                        false,
                    ));
                }
            }
            let n = tokio::select! {
                r = rd.read(&mut buf) => match r {
                    Ok(0) => return Ok(End::lost(Lost::ClosedBeforeLogin, false)),
                    Ok(n) => n,
                    Err(e) => return Ok(End::lost(Lost::ReadBeforeLogin(e), false)),
                },
                () = sleep_until(deadline) => {
                    let lost = if banner.is_some() { Lost::NoLoginAnswer } else { Lost::NoBanner };
                    return Ok(End::lost(lost(t.login_timeout), false));
                }
            };
            self.framer.push(&buf[..n]);
        }
    }

    /// The TCP connection, within `connect_timeout`.
    async fn connect(&self) -> Result<TcpStream, End> {
        let limit = self.cfg.timing.connect_timeout;
        let connect = TcpStream::connect((self.cfg.host.as_str(), self.cfg.port));
        match timeout(limit, connect).await {
            Ok(Ok(s)) => Ok(s),
            Ok(Err(e)) => Err(End::lost(Lost::Connect(e), false)),
            Err(_) => Err(End::lost(Lost::ConnectTimeout(limit), false)),
        }
    }

    /// The `Login` action of our settings.
    fn login_action(&self) -> Message {
        Message::from_pairs([
            ("Action", "Login"),
            ("ActionID", LOGIN_ID),
            ("Username", self.cfg.username.as_str()),
            ("Secret", self.cfg.secret.expose()),
            ("Events", self.cfg.events.as_str()),
        ])
    }

    /// A `Ping` action with the next ping number.
    fn next_ping(&mut self) -> Message {
        self.ping_no += 1;
        let id = format!("{PING_ID}{}", self.ping_no);
        Message::from_pairs([("Action", "Ping"), ("ActionID", &id)])
    }

    /// Handles the frames buffered before the login is answered: notes the
    /// banner, skips what is malformed, ignores anything but the answer.
    async fn login_frames(&mut self, banner: &mut Option<String>) -> Login {
        while let Some(frame) = self.framer.next_frame() {
            match frame {
                Frame::Banner(b) => *banner = Some(b),
                Frame::Message { message, raw } => {
                    self.msg_no += 1;
                    self.stats.messages += 1;
                    if message.action_id() != Some(LOGIN_ID) || message.response().is_none() {
                        // Nothing else is expected before the login
                        // answer; Asterisk sends no events until then.
                        continue;
                    }
                    if message
                        .response()
                        .is_some_and(|r| r.eq_ignore_ascii_case("Success"))
                    {
                        return Login::Accepted;
                    }
                    let text = message
                        .get("Message")
                        .map_or_else(|| String::from_utf8_lossy(&raw).into_owned(), str::to_owned);
                    return Login::Over(Err(ClientError::Authentication {
                        addr: self.cfg.addr(),
                        message: text,
                    }));
                }
                Frame::Malformed(e) => {
                    if !self.skip(e.raw().to_vec(), e.code(), e.to_string()).await {
                        return Login::Over(Ok(End::Closed));
                    }
                }
            }
        }
        Login::Pending
    }

    /// The session after a successful login.
    async fn logged_in(
        &mut self,
        mut rd: tokio::net::tcp::OwnedReadHalf,
        mut wr: OwnedWriteHalf,
        mut buf: Vec<u8>,
        banner: String,
    ) -> Result<End, ClientError> {
        let lost = |reason: Lost| Ok(End::lost(reason, true));
        let t = self.cfg.timing.clone();
        if let Err(end) = self.start_session(&mut wr, banner).await {
            return Ok(end);
        }
        let mut next_ping = Instant::now() + t.ping_interval;
        let mut ping_deadline = Some(Instant::now() + t.ping_timeout);
        self.stalled = Duration::ZERO;
        let mut tick = tokio::time::interval(t.tick_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // Frames left by the login phase come first.
            while let Some(frame) = self.framer.next_frame() {
                if !self.frame(frame, &mut ping_deadline).await {
                    return Ok(End::Closed);
                }
            }
            // Waiting for our own receiver kept the answer unread: the
            // server gets that time back.
            let stalled = std::mem::take(&mut self.stalled);
            if let Some(d) = &mut ping_deadline {
                *d += stalled;
            }
            tokio::select! {
                r = rd.read(&mut buf) => match r {
                    Ok(0) => return lost(Lost::Closed),
                    Ok(n) => self.framer.push(&buf[..n]),
                    Err(e) => return lost(Lost::Read(e)),
                },
                () = sleep_until(next_ping) => {
                    let ping = self.next_ping();
                    if let Err(e) = wr.write_all(ping.to_wire().as_bytes()).await {
                        return lost(Lost::Send { action: "Ping", source: e });
                    }
                    next_ping = Instant::now() + t.ping_interval;
                    if ping_deadline.is_none() {
                        ping_deadline = Some(Instant::now() + t.ping_timeout);
                    }
                }
                () = sleep_until(ping_deadline.unwrap_or_else(far_future)), if ping_deadline.is_some() => {
                    // The answer may be waiting unread behind what we were
                    // busy with: whatever already arrived is read first.
                    match rd.try_read(&mut buf) {
                        Ok(0) => return lost(Lost::Closed),
                        Ok(n) => self.framer.push(&buf[..n]),
                        Err(_) => return lost(Lost::NoPingAnswer(t.ping_timeout)),
                    }
                }
                _ = tick.tick() => {
                    let mut out = Vec::new();
                    self.translator.tick(self.clock.now_ms(), &mut out);
                    if !self.events(out).await {
                        return Ok(End::Closed);
                    }
                }
            }
        }
    }

    /// Announces the session, then asks a first `Ping` and `QueueStatus`.
    async fn start_session(&mut self, wr: &mut OwnedWriteHalf, banner: String) -> Result<(), End> {
        self.logins += 1;
        if self.logins > 1 {
            self.stats.reconnects += 1;
        }
        tracing::info!("AMI {}: logged in ({banner})", self.cfg.addr());
        let connected = Output::Connected {
            session: self.logins,
            banner: Some(banner),
        };
        if !self.send(connected).await {
            return Err(End::Closed);
        }
        // A first Ping: its answer's Timestamp gives the server's clock
        // before the QueueStatus answer, whose events carry none.
        let ping = self.next_ping();
        // Whatever changed while we were away comes back with QueueStatus.
        self.translator.begin_resync();
        self.resync_ping = self.ping_no;
        let resync_id = format!("{RESYNC_ID}{}", self.logins);
        let status = Message::from_pairs([("Action", "QueueStatus"), ("ActionID", &resync_id)]);
        let actions = ping.to_wire() + &status.to_wire();
        match wr.write_all(actions.as_bytes()).await {
            Ok(()) => Ok(()),
            Err(e) => Err(End::lost(
                Lost::Send {
                    action: "QueueStatus",
                    source: e,
                },
                true,
            )),
        }
    }

    /// Handles one frame of a logged-in session; `false` when the receiver
    /// of updates is gone.
    async fn frame(&mut self, frame: Frame, ping_deadline: &mut Option<Instant>) -> bool {
        match frame {
            // A second banner would be a proxy reconnecting behind us.
            Frame::Banner(b) => {
                tracing::warn!("AMI {}: unexpected banner {b:?}", self.cfg.addr());
                true
            }
            Frame::Malformed(e) => self.skip(e.raw().to_vec(), e.code(), e.to_string()).await,
            Frame::Message { message, raw } => {
                self.msg_no += 1;
                self.stats.messages += 1;
                if let Some(resp) = message.response() {
                    let id = message.action_id().unwrap_or("");
                    if let Some(no) = id.strip_prefix(PING_ID) {
                        *ping_deadline = None;
                        if let Some(ts) = message.get("Timestamp").and_then(parse_timestamp) {
                            self.translator.observe_clock(ts, self.clock.now_ms());
                        }
                        let after_resync = no.parse::<u64>().is_ok_and(|n| n > self.resync_ping);
                        if after_resync && self.translator.resyncing() {
                            tracing::warn!(
                                "AMI {}: the QueueStatus answer ended without QueueStatusComplete; agent states may be stale until they change",
                                self.cfg.addr()
                            );
                            self.translator.abort_resync();
                        }
                    } else if id.starts_with(RESYNC_ID) && !resp.eq_ignore_ascii_case("Success") {
                        tracing::warn!(
                            "AMI {}: QueueStatus refused ({}); agent states may be stale until they change",
                            self.cfg.addr(),
                            message.get("Message").unwrap_or(resp)
                        );
                        self.translator.abort_resync();
                    }
                    return true;
                }
                if message.event().is_none() {
                    let reason = "neither an event nor a response".to_owned();
                    return self
                        .skip(raw, DeadLetterCode::AmiInvalidEvent, reason)
                        .await;
                }
                let mut out = Vec::new();
                let now = self.clock.now_ms();
                match self.translator.translate(&message, now, &mut out) {
                    Ok(()) => self.events(out).await,
                    Err(e) => self.skip(raw, e.code(), e.to_string()).await,
                }
            }
        }
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}
