//! `--forecast FILE` of `replay`, `serve` and `demo`: a forecast file
//! (`events.md`, "Forecast files") read as the tenant's `forecast` events.

use std::path::Path;

use anyhow::{Context, Result};

use wallboard::forecast_file::{parse, to_events, FileFormat, Tenant};
use wallboard_events::Event;

/// The events of forecast file `path` for `tenant`, published at `ts`,
/// checked against the interval grid of `params`.
pub(super) fn read(
    path: &Path,
    tenant: &str,
    params: &aggregator::Params,
    ts: i64,
) -> Result<Vec<Event<'static>>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let format = FileFormat::of_path(path).unwrap_or_else(|| FileFormat::sniff(&bytes));
    let grid = Tenant {
        tz: params.tz,
        interval_minutes: params.interval_minutes,
    };
    let forecasts = parse(&bytes, format, grid).with_context(|| path.display().to_string())?;
    Ok(to_events(tenant, forecasts, ts))
}

/// The events as the JSON payloads the bus and the topic carry.
pub(super) fn payloads(events: &[Event<'_>]) -> Vec<Vec<u8>> {
    events.iter().map(|e| e.to_json().into_bytes()).collect()
}
