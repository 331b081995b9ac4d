//! The totals of an adapter's run.

/// What a network adapter's run did (the AMI and ESL clients).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages received (framed or not).
    pub messages: u64,
    /// Canonical events produced.
    pub events: u64,
    /// Source events that map to nothing.
    pub ignored: u64,
    /// Messages skipped (each one reported with its reason).
    pub skipped: u64,
    /// Sessions established after the first one.
    pub reconnects: u64,
}
