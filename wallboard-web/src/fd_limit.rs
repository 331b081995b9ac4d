//! Open files: every connection is a file descriptor, so a server that
//! takes `server.max_connections` WebSocket connections needs at least that many, and
//! the usual soft limit (1,024) is below what 10,000 clients take. The
//! soft limit may be raised up to the hard one without privileges.

/// Descriptors beyond the connections: listeners, Kafka's sockets, state
/// files, the runtime's own.
pub const SPARE: u64 = 256;

/// The hard limit on open files is below what is needed.
#[derive(Debug, thiserror::Error)]
pub enum FdLimitError {
    /// `need` descriptors do not fit under the hard limit.
    #[error(
        "{need} file descriptors are needed ({what} + {SPARE} spare) but the hard limit is {hard} \
         (soft {soft}): raise it (ulimit -Hn, LimitNOFILE= in systemd) or lower {what}"
    )]
    TooLow {
        /// Descriptors needed.
        need: u64,
        /// What needs them (a setting or a flag).
        what: String,
        /// The soft limit.
        soft: u64,
        /// The hard limit.
        hard: u64,
    },
    /// The limit could not be read or set.
    #[error("RLIMIT_NOFILE: {0}")]
    Os(#[from] std::io::Error),
}

/// Whether `connections` (named `what` in the error) fit under `hard`.
pub fn check(connections: u64, what: &str, soft: u64, hard: u64) -> Result<(), FdLimitError> {
    let need = connections.saturating_add(SPARE);
    if need > hard {
        return Err(FdLimitError::TooLow {
            need,
            what: what.to_owned(),
            soft,
            hard,
        });
    }
    Ok(())
}

/// Raises this process's soft limit on open files to the hard one, then
/// checks that `connections` fit; returns the limit now in force.
pub fn raise_for(connections: u64, what: &str) -> Result<u64, FdLimitError> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit for the call's duration.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut lim) } != 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: `raised` is a valid rlimit within the hard limit.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raw const raised) } != 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        lim = raised;
    }
    check(connections, what, lim.rlim_cur, lim.rlim_max)?;
    Ok(lim.rlim_cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_many_connections_for_the_hard_limit_name_the_setting() {
        assert!(check(10_000, "server.max_connections", 1024, 20_000).is_ok());
        let e = check(10_000, "server.max_connections", 1024, 4096).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("10256 file descriptors"), "{m}");
        assert!(m.contains("hard limit is 4096"), "{m}");
        assert!(m.contains("lower server.max_connections"), "{m}");
    }

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let now = raise_for(0, "nothing").unwrap();
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: as above.
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut lim) },
            0
        );
        assert_eq!(now, lim.rlim_max);
        assert_eq!(lim.rlim_cur, lim.rlim_max);
    }
}
