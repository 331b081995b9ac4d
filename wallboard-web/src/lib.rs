//! The `wallboard` service: replaying traces, and (as it grows) the web
//! server, WebSocket fan-out and REST API over the metric engine.

pub mod alerting;
pub mod cluster;
pub mod config;
pub mod display;
pub mod fd_limit;
pub mod forecast_file;
pub mod reload;
pub mod replay;
pub mod report_format;
pub mod scorecard_format;
pub mod shutdown;
pub mod sim_forecast;
pub mod web;
