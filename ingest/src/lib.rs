//! The sources of canonical events (`wallboard-events`): JSON Lines input, the
//! simulator, the telephony adapters (Asterisk `queue_log` and AMI, `FreeSWITCH`
//! event socket) and the Kafka publisher they share.

pub mod adapter;
pub mod ami;
pub mod esl;
pub mod kafka;
pub mod queue_log;
pub mod simulate;
