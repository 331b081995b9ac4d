//! The machinery every telephony adapter shares (`queue_log`, AMI, ESL):
//! one way to number the events a source record maps to ([`Emitter`]),
//! one reconnection policy ([`Backoff`]), one clock ([`Clock`]), one
//! report type for clients ([`Output`]) and one set of run totals ([`Stats`]). Each adapter supplies only what is its
//! own: how to read its source and how to translate a record.

mod backoff;
mod caller;
mod clock;
mod emit;
mod output;
mod stats;

pub use backoff::Backoff;
pub use caller::{CallerKeys, EmptySalt, CALLER_KEY_CHARS, CALLER_SALT_ENV};
pub use clock::{system_clock, Clock, SystemClock};
pub use emit::Emitter;
pub use output::{Output, Skipped};
pub use stats::Stats;
