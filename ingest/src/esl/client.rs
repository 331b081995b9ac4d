//! The inbound event-socket client: connects to `FreeSWITCH`, authenticates,
//! subscribes to `mod_callcenter`'s events and translates them; keeps the
//! connection alive and comes back after it drops.
//!
//! - A refused password (`-ERR invalid`), an ACL rejection or a refused
//!   subscription end the run with a [`ClientError`]: retrying would only
//!   hammer the server (and `FreeSWITCH` counts failed logins).
//! - A dropped connection, a `text/disconnect-notice`, or no reply to the
//!   keep-alive (`api status`, every [`ClientConfig::keepalive`]) within
//!   [`ClientConfig::keepalive_timeout`] (not counting time the handler
//!   spent blocked: the socket is not read meanwhile) is followed by a
//!   reconnection after an exponential backoff ([`ClientConfig::backoff_min`]
//!   doubling up to [`ClientConfig::backoff_max`]), reset once a session is
//!   established; unless [`ClientConfig::reconnect`] is off, then the run
//!   ends.
//! - After subscribing, the agents and their queues are read back with
//!   `callcenter_config agent list` and `tier list` ([`ClientConfig::resync`]):
//!   what changed while disconnected (or before starting) is emitted.
//!
//! Everything goes to the caller's handler as an [`Output`], in order: the
//! translated events, the skipped messages (with their bytes and reason),
//! connection changes, and a periodic [`Output::Tick`] to flush on.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::time::{interval, sleep, sleep_until, timeout, Instant, MissedTickBehavior};

use super::protocol::{
    parse_json_event, parse_plain_event, reply_text, Decoder, Frame, Item, DEFAULT_MAX_MESSAGE,
};
use super::translate::{event_ts, EslTranslator};
pub use crate::adapter::{system_clock, Output, Skipped, Stats};
use crate::adapter::{Backoff, Clock};
use wallboard_events::event::{Event, TimestampMs, DEFAULT_TENANT};
use wallboard_events::DeadLetterCode;

/// The subscription: `mod_callcenter`'s events only, as plain text.
pub const SUBSCRIBE: &str = "event plain CUSTOM callcenter::info";

/// Where and how to connect, and the timings (short ones make tests fast).
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Host name or address of the event socket.
    pub host: String,
    /// TCP port of the event socket (8021 by default).
    pub port: u16,
    /// The event socket password (`event_socket.conf.xml`).
    pub password: String,
    /// Tenant of every event.
    pub tenant: String,
    /// For the TCP connection, then again for the whole handshake.
    pub connect_timeout: Duration,
    /// How often `api status` is sent to check the connection.
    pub keepalive: Duration,
    /// How long its reply may take before the connection is deemed dead.
    pub keepalive_timeout: Duration,
    /// First wait before reconnecting; doubles up to `backoff_max`.
    pub backoff_min: Duration,
    /// Longest wait between reconnects.
    pub backoff_max: Duration,
    /// How often [`Output::Tick`] is emitted.
    pub tick: Duration,
    /// Reconnect after the connection is lost; when off, the run ends then
    /// (and a first connection that fails is an error).
    pub reconnect: bool,
    /// Read the agents and tiers back after subscribing.
    pub resync: bool,
    /// Messages over this many bytes are skipped.
    pub max_message: usize,
    /// The local clock, in epoch milliseconds ([`system_clock`]; another
    /// in tests). Resynchronisation events are timed by it, corrected by
    /// its difference from `FreeSWITCH`'s clock.
    pub clock: fn() -> TimestampMs,
    /// Caller keys for `call_queued` (`events.md`, "Caller key"); `None`:
    /// no `caller`.
    pub caller_keys: Option<crate::adapter::CallerKeys>,
}

impl ClientConfig {
    /// `FreeSWITCH`'s defaults: port 8021, keep-alive every 15 s (10 s to
    /// answer), backoff 0.5 s to 30 s.
    #[must_use]
    pub fn new(host: &str, port: u16, password: &str) -> Self {
        ClientConfig {
            host: host.to_owned(),
            port,
            password: password.to_owned(),
            tenant: DEFAULT_TENANT.to_owned(),
            connect_timeout: Duration::from_secs(10),
            keepalive: Duration::from_secs(15),
            keepalive_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            tick: Duration::from_secs(1),
            reconnect: true,
            resync: true,
            max_message: DEFAULT_MAX_MESSAGE,
            clock: system_clock,
            caller_keys: None,
        }
    }

    fn addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// Why a run ended early. `E` is the handler's error.
#[derive(Debug, thiserror::Error)]
pub enum ClientError<E> {
    /// `FreeSWITCH` refused the password.
    #[error(
        "FreeSWITCH refused the event socket password ({0}); check --password \
         (or WALLBOARD_ESL_PASSWORD) against event_socket.conf.xml"
    )]
    Auth(String),
    /// `FreeSWITCH`'s ACL refused this host (`text/rude-rejection`).
    #[error(
        "FreeSWITCH refused the connection ({0}); allow this host in \
         event_socket.conf.xml's apply-inbound-acl"
    )]
    Rejected(String),
    /// `FreeSWITCH` refused the event subscription.
    #[error("FreeSWITCH refused `{SUBSCRIBE}`: {0}")]
    Subscribe(String),
    /// Without reconnection: the connection could not be made.
    #[error("{0}")]
    Connect(String),
    /// The handler failed.
    #[error("{0}")]
    Handler(E),
}

/// Runs the client until `shutdown` resolves, a fatal error, or (without
/// reconnection) the end of the connection. `handler` gets every [`Output`];
/// an error from it ends the run.
pub async fn run<F, E, S>(
    config: ClientConfig,
    handler: F,
    shutdown: S,
) -> Result<Stats, ClientError<E>>
where
    F: FnMut(Output) -> Result<(), E>,
    S: Future<Output = ()>,
{
    if config.password.contains(['\r', '\n']) {
        return Err(ClientError::Auth(
            "the password contains a line break".into(),
        ));
    }
    let mut runner = Runner {
        translator: EslTranslator::new(&config.tenant).with_caller_keys(config.caller_keys.clone()),
        config,
        handler,
        stats: Stats::default(),
        sessions: 0,
        events: Vec::new(),
        skew_ms: None,
        handler_time: Duration::ZERO,
    };
    tokio::pin!(shutdown);
    let mut backoff = Backoff::new(runner.config.backoff_min, runner.config.backoff_max);
    loop {
        let mut established = false;
        let ended = tokio::select! {
            () = &mut shutdown => None,
            r = runner.session(&mut established) => Some(r),
        };
        let Some(ended) = ended else {
            return Ok(runner.stats());
        };
        let reason = ended?.to_string();
        if !runner.config.reconnect {
            if runner.sessions == 0 {
                return Err(ClientError::Connect(reason));
            }
            tracing::info!("event socket {}: {reason}", runner.config.addr());
            runner.emit(Output::Disconnected {
                reason,
                retry_in: None,
            })?;
            return Ok(runner.stats());
        }
        if established {
            backoff.reset();
        }
        let delay = backoff.next_delay();
        tracing::warn!(
            "event socket {}: {reason}; reconnecting in {delay:?}",
            runner.config.addr()
        );
        runner.emit(Output::Disconnected {
            reason,
            retry_in: Some(delay),
        })?;
        let stop = tokio::select! {
            () = &mut shutdown => true,
            () = sleep(delay) => false,
        };
        if stop {
            return Ok(runner.stats());
        }
    }
}

/// Why a connection was lost (then reconnected, unless `reconnect` is off).
#[derive(Debug, thiserror::Error)]
enum Lost {
    /// No TCP connection within `connect_timeout`.
    #[error("cannot connect to {addr}: no answer within {after:?}")]
    ConnectTimeout { addr: String, after: Duration },
    /// The TCP connection failed.
    #[error("cannot connect to {addr}: {source}")]
    Connect { addr: String, source: io::Error },
    /// `FreeSWITCH` closed the connection.
    #[error("connection closed by FreeSWITCH")]
    Closed,
    /// Reading failed.
    #[error("connection lost: {0}")]
    Read(io::Error),
    /// Sending a command failed; `command` is its first word.
    #[error("cannot send `{command}`: {source}")]
    Send { command: String, source: io::Error },
    /// No `auth/request` or no reply to `auth`/`event` within `connect_timeout`.
    #[error("no answer to the handshake within {0:?}")]
    Handshake(Duration),
    /// No reply to the keep-alive within `keepalive_timeout`.
    #[error("no reply to the keep-alive within {0:?}")]
    KeepAlive(Duration),
    /// A `text/disconnect-notice`, with its first line.
    #[error("FreeSWITCH ended the session ({0})")]
    Disconnected(String),
}

/// A command sent and waiting for its reply (replies come in order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Auth,
    Subscribe,
    AgentList,
    TierList,
    KeepAlive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for `auth/request`.
    Greeting,
    /// Authenticating and subscribing.
    Handshake,
    Running,
}

/// One connection's protocol state.
struct Conn {
    wr: OwnedWriteHalf,
    pending: VecDeque<Pending>,
    phase: Phase,
    /// When the unanswered keep-alive was sent, and the handler's
    /// [`Runner::handler_time`] then.
    keepalive_sent: Option<(Instant, Duration)>,
    next_keepalive: Instant,
}

impl Conn {
    /// Sends a command; `Err` is the reason the connection is lost.
    async fn send(&mut self, cmd: &str, expect: Pending) -> Result<(), Lost> {
        let msg = format!("{cmd}\n\n");
        self.wr
            .write_all(msg.as_bytes())
            .await
            .map_err(|source| Lost::Send {
                command: cmd.split(' ').next().unwrap_or("").to_owned(),
                source,
            })?;
        self.pending.push_back(expect);
        Ok(())
    }
}

struct Runner<F> {
    config: ClientConfig,
    handler: F,
    translator: EslTranslator,
    stats: Stats,
    sessions: u64,
    events: Vec<Event<'static>>,
    /// `FreeSWITCH`'s clock minus the local one, from the latest event's
    /// `Event-Date-Timestamp` (kept across connections: the clocks stay
    /// apart as much).
    skew_ms: Option<i64>,
    /// Time spent in the handler (publishing, flushing) since the run
    /// started: the socket is not read meanwhile, so it does not count
    /// against the keep-alive's reply.
    handler_time: Duration,
}

/// How a message's handling ends a session: `Ok(None)` goes on,
/// `Ok(Some(reason))` is a lost connection, `Err` a fatal error.
type Flow<E> = Result<Option<Lost>, ClientError<E>>;

impl<F, E> Runner<F>
where
    F: FnMut(Output) -> Result<(), E>,
{
    fn emit(&mut self, out: Output) -> Result<(), ClientError<E>> {
        let start = Instant::now();
        let r = (self.handler)(out).map_err(ClientError::Handler);
        self.handler_time += start.elapsed();
        r
    }

    /// `FreeSWITCH`'s time now, as far as known: the local clock, corrected
    /// by the skew the latest event showed.
    fn server_now(&self) -> TimestampMs {
        let local = self.config.clock.now_ms();
        local.saturating_add(self.skew_ms.unwrap_or(0))
    }

    fn stats(&self) -> Stats {
        Stats {
            ignored: self.translator.ignored(),
            ..self.stats
        }
    }

    fn skip(
        &mut self,
        msgno: u64,
        code: DeadLetterCode,
        reason: String,
        raw: &[u8],
    ) -> Result<(), ClientError<E>> {
        self.stats.skipped += 1;
        self.emit(Output::Skipped(Skipped {
            msgno,
            code,
            reason,
            raw: raw.to_vec(),
        }))
    }

    fn flush_events(&mut self) -> Result<(), ClientError<E>> {
        let events = std::mem::take(&mut self.events);
        self.stats.events += events.len() as u64;
        for e in events {
            self.emit(Output::Event(e))?;
        }
        Ok(())
    }

    /// One connection, from connecting to losing it. `Ok` is why it was
    /// lost; `established` tells whether it got as far as subscribing.
    async fn session(&mut self, established: &mut bool) -> Result<Lost, ClientError<E>> {
        let addr = self.config.addr();
        let connect = TcpStream::connect((self.config.host.as_str(), self.config.port));
        let stream = match timeout(self.config.connect_timeout, connect).await {
            Err(_) => {
                let after = self.config.connect_timeout;
                return Ok(Lost::ConnectTimeout { addr, after });
            }
            Ok(Err(source)) => return Ok(Lost::Connect { addr, source }),
            Ok(Ok(s)) => s,
        };
        // Commands are small and replies awaited: do not let Nagle delay them.
        let _ = stream.set_nodelay(true);
        let (mut rd, wr) = stream.into_split();
        let now = Instant::now();
        let mut conn = Conn {
            wr,
            pending: VecDeque::new(),
            phase: Phase::Greeting,
            keepalive_sent: None,
            next_keepalive: now,
        };
        let handshake_deadline = now + self.config.connect_timeout;
        let mut decoder = Decoder::new(self.config.max_message);
        let mut buf = vec![0u8; 64 * 1024];
        let mut tick = interval(self.config.tick);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            while let Some(item) = decoder.next_item() {
                self.stats.messages += 1;
                let msgno = self.stats.messages;
                let flow = match item {
                    Item::Problem(p) => {
                        let reason = p.reason.to_string();
                        self.skip(msgno, p.code, reason, &p.raw).map(|()| None)
                    }
                    Item::Frame(f) => self.on_frame(msgno, &f, &mut conn, established).await,
                };
                if let Some(lost) = flow? {
                    return Ok(lost);
                }
            }
            let deadline = self.deadline(&conn, handshake_deadline);
            tokio::select! {
                // In this order: a tick cannot starve reading (one per
                // period), and what was received while the handler blocked
                // is read before a deadline is judged.
                biased;
                _ = tick.tick(), if conn.phase == Phase::Running => self.emit(Output::Tick)?,
                r = rd.read(&mut buf) => match r {
                    Ok(0) => {
                        if let Some(p) = decoder.finish() {
                            self.stats.messages += 1;
                            self.skip(self.stats.messages, p.code, p.reason.to_string(), &p.raw)?;
                        }
                        return Ok(Lost::Closed);
                    }
                    Ok(n) => decoder.push(&buf[..n]),
                    Err(e) => return Ok(Lost::Read(e)),
                },
                () = sleep_until(deadline) => {
                    if let Some(lost) = self.deadline_passed(&mut conn).await {
                        return Ok(lost);
                    }
                }
            }
        }
    }

    /// When the session next needs attention if nothing arrives: the end of
    /// the handshake, the next keep-alive, or the end of its wait.
    fn deadline(&self, conn: &Conn, handshake_deadline: Instant) -> Instant {
        match (conn.phase, conn.keepalive_sent) {
            // Time the handler blocked (a slow flush) is ours, not the
            // server's.
            (Phase::Running, Some((sent, handled))) => {
                sent + self.config.keepalive_timeout
                    + self.handler_time.checked_sub(handled).unwrap()
            }
            (Phase::Running, None) => conn.next_keepalive,
            _ => handshake_deadline,
        }
    }

    /// The [`Runner::deadline`] passed: the connection is lost (the reason),
    /// or it is time for a keep-alive.
    async fn deadline_passed(&mut self, conn: &mut Conn) -> Option<Lost> {
        if conn.phase != Phase::Running {
            return Some(Lost::Handshake(self.config.connect_timeout));
        }
        if conn.keepalive_sent.is_some() {
            return Some(Lost::KeepAlive(self.config.keepalive_timeout));
        }
        if let Err(lost) = conn.send("api status", Pending::KeepAlive).await {
            return Some(lost);
        }
        conn.keepalive_sent = Some((Instant::now(), self.handler_time));
        None
    }

    async fn on_frame(
        &mut self,
        msgno: u64,
        f: &Frame,
        conn: &mut Conn,
        established: &mut bool,
    ) -> Flow<E> {
        let ct = f.content_type();
        match ct {
            "text/event-plain" | "text/event-json" => {
                let parsed = if ct == "text/event-plain" {
                    parse_plain_event(f.body())
                } else {
                    parse_json_event(f.body())
                };
                let ev = match parsed {
                    Ok(ev) => ev,
                    Err(e) => {
                        self.skip(msgno, DeadLetterCode::EslBadEvent, e.to_string(), &f.raw)?;
                        return Ok(None);
                    }
                };
                if let Ok(ts) = event_ts(&ev) {
                    self.skew_ms = Some(ts.saturating_sub(self.config.clock.now_ms()));
                }
                let mut events = std::mem::take(&mut self.events);
                let r = self.translator.translate(&ev, &mut events);
                self.events = events;
                // What was translated before an error still counts.
                self.flush_events()?;
                if let Err(e) = r {
                    self.skip(
                        msgno,
                        DeadLetterCode::EslUntranslatable,
                        e.to_string(),
                        &f.raw,
                    )?;
                }
                Ok(None)
            }
            "command/reply" | "api/response" => {
                let text = if ct == "command/reply" {
                    reply_text(f).to_owned()
                } else {
                    String::from_utf8_lossy(f.body()).into_owned()
                };
                let Some(cmd) = conn.pending.pop_front() else {
                    self.skip(
                        msgno,
                        DeadLetterCode::EslUnexpectedReply,
                        "a reply to no command".into(),
                        &f.raw,
                    )?;
                    return Ok(None);
                };
                self.on_reply(msgno, cmd, &text, conn, established).await
            }
            "auth/request" if conn.phase == Phase::Greeting => {
                conn.phase = Phase::Handshake;
                let cmd = format!("auth {}", self.config.password);
                Ok(conn.send(&cmd, Pending::Auth).await.err())
            }
            "text/disconnect-notice" => {
                let body = String::from_utf8_lossy(f.body());
                let first = body.lines().next().unwrap_or("").trim();
                Ok(Some(Lost::Disconnected(first.to_owned())))
            }
            "text/rude-rejection" => {
                let body = String::from_utf8_lossy(f.body()).trim().to_owned();
                Err(ClientError::Rejected(body))
            }
            "" => {
                self.skip(
                    msgno,
                    DeadLetterCode::EslNoType,
                    "message without Content-Type".into(),
                    &f.raw,
                )?;
                Ok(None)
            }
            other => {
                let reason = format!("unexpected Content-Type {other:?}");
                self.skip(msgno, DeadLetterCode::EslUnexpectedType, reason, &f.raw)?;
                Ok(None)
            }
        }
    }

    async fn on_reply(
        &mut self,
        msgno: u64,
        cmd: Pending,
        text: &str,
        conn: &mut Conn,
        established: &mut bool,
    ) -> Flow<E> {
        let ok = text.starts_with("+OK");
        match cmd {
            Pending::Auth if ok => Ok(conn.send(SUBSCRIBE, Pending::Subscribe).await.err()),
            Pending::Auth => Err(ClientError::Auth(text.trim().to_owned())),
            Pending::Subscribe if ok => {
                *established = true;
                conn.phase = Phase::Running;
                conn.next_keepalive = Instant::now() + self.config.keepalive;
                if self.sessions > 0 {
                    self.stats.reconnects += 1;
                }
                self.sessions += 1;
                tracing::info!(
                    "event socket {}: subscribed to mod_callcenter events",
                    self.config.addr()
                );
                self.emit(Output::Connected {
                    session: self.sessions,
                    banner: None,
                })?;
                if self.config.resync {
                    let agents = "api callcenter_config agent list";
                    if let Err(lost) = conn.send(agents, Pending::AgentList).await {
                        return Ok(Some(lost));
                    }
                    let tiers = "api callcenter_config tier list";
                    return Ok(conn.send(tiers, Pending::TierList).await.err());
                }
                Ok(None)
            }
            Pending::Subscribe => Err(ClientError::Subscribe(text.trim().to_owned())),
            Pending::KeepAlive => {
                conn.keepalive_sent = None;
                conn.next_keepalive = Instant::now() + self.config.keepalive;
                Ok(None)
            }
            Pending::AgentList | Pending::TierList => {
                // A listing has no time: FreeSWITCH's, as far as known, so
                // that live events after it do not look older.
                let now = self.server_now();
                let mut events = std::mem::take(&mut self.events);
                let r = if cmd == Pending::AgentList {
                    self.translator.resync_agents(now, text, &mut events)
                } else {
                    self.translator.resync_tiers(now, text, &mut events)
                };
                self.events = events;
                self.flush_events()?;
                match r {
                    Ok(rows) => {
                        for row in rows {
                            self.skip(
                                msgno,
                                DeadLetterCode::EslResyncRow,
                                row.reason,
                                row.row.as_bytes(),
                            )?;
                        }
                    }
                    Err(e) => self.skip(
                        msgno,
                        DeadLetterCode::EslResync,
                        e.to_string(),
                        text.as_bytes(),
                    )?,
                }
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ClientError;

    #[test]
    fn errors_say_what_to_check() {
        let auth: ClientError<std::convert::Infallible> = ClientError::Auth("-ERR invalid".into());
        assert_eq!(
            auth.to_string(),
            "FreeSWITCH refused the event socket password (-ERR invalid); check --password \
             (or WALLBOARD_ESL_PASSWORD) against event_socket.conf.xml"
        );
        let sub: ClientError<std::convert::Infallible> = ClientError::Subscribe("-ERR no".into());
        assert_eq!(
            sub.to_string(),
            "FreeSWITCH refused `event plain CUSTOM callcenter::info`: -ERR no"
        );
    }
}
