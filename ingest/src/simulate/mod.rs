//! The contact-centre simulator: a seeded, deterministic discrete-event model
//! of callers, queues and agents on shift schedules, streamed as canonical
//! events in time order while holding only the agents and the calls in
//! progress.
//!
//! How a simulated period is built (the numbers are the constants of the
//! submodules, each named after what it models):
//!
//! - The period `[start_ms, start_ms + hours)` is laid over a virtual business
//!   day centred on 12:30: an 8 h run covers 08:30–16:30, a 24 h run a whole
//!   day with a quiet night. Call demand over that day rises in the morning,
//!   dips over lunch and peaks again in the afternoon (`DEMAND_CURVE`).
//! - Each agent works one shift (at most 8.5 h, lunch included) starting on a
//!   quarter hour drawn from the demand curve, with a 15 min break, a 30–60 min
//!   lunch and a second break. Agents log in a little early or late, take
//!   breaks late or early, never leave in the middle of a call, and sometimes
//!   log out over lunch.
//! - Calls arrive as a Poisson process whose rate follows the planned staffing,
//!   tilted towards the demand curve, sized so agents are about 80 % occupied
//!   at `load` 1; peaks above that build queues, abandons and overflows,
//!   and a caller finding `MAX_WAITING` callers already waiting is refused
//!   (`call_blocked`, reason `full`).
//! - Routing: a waiting call goes to the member agent idle the longest; a
//!   freed agent takes the call of its most urgent queue (lowest `priority`
//!   number, as in the reference trace) that has waited longest.
//!
//! One module per part of the model: `config` (the parameters), `period`
//! (the day and its demand), `shifts` (the schedules), `agents` (their phases
//! and how they move between them), `queues` (their profiles), `arrivals`
//! (the arrival process), `calls` (a call's life, routing and handling),
//! `agenda` (the actions to come), `sample` (random draws) and `simulator`
//! (the driver that runs the agenda and emits the events).

mod agenda;
mod agents;
mod arrivals;
mod calls;
mod config;
mod kpi;
mod period;
mod queues;
mod sample;
mod shifts;
mod simulator;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

pub use config::SimConfig;
pub use simulator::Simulator;

const SECOND: i64 = 1_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;

/// The `source` of the simulator's events (and the demo's heartbeats).
pub const SOURCE: &str = "simulator";

fn owned(s: &str) -> Cow<'static, str> {
    Cow::Owned(s.to_owned())
}
