//! Stopping `serve` within a deadline. The local snapshots come first (each
//! writer writes its own on stop); offset commits and the consumer's goodbye
//! to the group are best-effort: with the broker gone they can block for
//! minutes, and a stop that never ends is worse than one that skips them
//! (the snapshot, not the commit, is what recovery uses).

use std::future::Future;
use std::time::Duration;

/// How long `serve` may take to stop after SIGTERM or Ctrl-C. systemd's
/// `TimeoutStopSec` in `deploy/systemd/wallboard.service` is longer.
pub const STOP_DEADLINE: Duration = Duration::from_secs(30);

/// Exit status after a second signal (as a shell reports SIGINT).
pub const EXIT_SECOND_SIGNAL: i32 = 130;

/// Exit status when the deadline passed before the stop was done.
pub const EXIT_DEADLINE: i32 = 1;

/// How a bounded stop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// Everything stopped in time.
    Clean,
    /// The deadline passed first; whatever was still stopping is abandoned.
    DeadlinePassed,
    /// Another signal arrived: stop at once.
    SecondSignal,
}

impl Stopped {
    /// The process's exit status for an unfinished stop (`None`: clean).
    #[must_use]
    pub fn exit_code(self) -> Option<i32> {
        match self {
            Stopped::Clean => None,
            Stopped::DeadlinePassed => Some(EXIT_DEADLINE),
            Stopped::SecondSignal => Some(EXIT_SECOND_SIGNAL),
        }
    }
}

/// Runs `stop` until it is done, `deadline` passes or `second` (the next
/// signal) resolves, whichever comes first. A blocking stop abandoned in
/// `spawn_blocking` keeps its thread: the caller must exit the process
/// rather than wait for the runtime to shut down.
pub async fn bounded_stop(
    stop: impl Future<Output = ()>,
    deadline: Duration,
    second: impl Future<Output = ()>,
) -> Stopped {
    tokio::select! {
        () = stop => Stopped::Clean,
        () = tokio::time::sleep(deadline) => Stopped::DeadlinePassed,
        () = second => Stopped::SecondSignal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::pending;
    use std::sync::mpsc;

    /// A blocking stop that hangs until the returned sender is dropped (a
    /// consumer closing against a broker that has gone away).
    fn hanging() -> (impl Future<Output = ()>, mpsc::Sender<()>) {
        let (tx, rx) = mpsc::channel::<()>();
        let stop = async move {
            let _ = tokio::task::spawn_blocking(move || while rx.recv().is_ok() {}).await;
        };
        (stop, tx)
    }

    #[tokio::test]
    async fn a_hanging_stop_ends_at_the_deadline() {
        let (stop, release) = hanging();
        let got = bounded_stop(stop, Duration::from_millis(50), pending()).await;
        assert_eq!(got, Stopped::DeadlinePassed);
        assert_eq!(got.exit_code(), Some(EXIT_DEADLINE));
        drop(release);
    }

    #[tokio::test]
    async fn a_second_signal_ends_it_at_once() {
        let (stop, release) = hanging();
        let got = bounded_stop(stop, Duration::from_secs(3600), async {}).await;
        assert_eq!(got, Stopped::SecondSignal);
        assert_eq!(got.exit_code(), Some(EXIT_SECOND_SIGNAL));
        drop(release);
    }

    #[tokio::test]
    async fn a_stop_that_finishes_is_clean() {
        let got = bounded_stop(async {}, Duration::from_secs(3600), pending()).await;
        assert_eq!(got, Stopped::Clean);
        assert_eq!(got.exit_code(), None);
    }
}
