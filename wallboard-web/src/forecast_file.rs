//! Forecast files (`events.md`, "Forecast files"): a workforce plan as CSV
//! or JSON, checked row by row, turned into canonical `forecast` events.
//! One bad row refuses the whole file, naming the row and the field.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use aggregator::time::IntervalClock;
use chrono::{DateTime, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use wallboard_events::event::SCHEMA_VERSION;
use wallboard_events::{parse_event_str, Event, EventBody, Forecast, TimestampMs};

/// The most rows a forecast file may hold.
pub const MAX_ROWS: usize = 20_000;

/// The `source` of the events a file becomes.
pub const SOURCE: &str = "wallboard-forecast";

/// How a forecast file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// RFC 4180 CSV with a header row.
    Csv,
    /// An array of row objects, or `{"forecasts": [...]}`.
    Json,
}

impl FileFormat {
    /// The format a file name says (`.csv`, `.json`), if it says one.
    #[must_use]
    pub fn of_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "json" => Some(Self::Json),
            _ => None,
        }
    }

    /// JSON when the text starts with `[` or `{`, else CSV.
    #[must_use]
    pub fn sniff(bytes: &[u8]) -> Self {
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        match text.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'[' | b'{') => Self::Json,
            _ => Self::Csv,
        }
    }
}

/// Why a forecast file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForecastFileError {
    /// One row is wrong (rows count from 1, the first data row).
    #[error("row {row}, field {field}: {reason}")]
    Row {
        /// The row, from 1.
        row: usize,
        /// The field (column) at fault.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The file as a whole cannot be read.
    #[error("{0}")]
    File(String),
}

/// The tenant's settings a file is read under.
#[derive(Debug, Clone, Copy)]
pub struct Tenant {
    /// The zone local times are read in.
    pub tz: Tz,
    /// The tenant's interval length: the default and the only one allowed.
    pub interval_minutes: u32,
}

/// One row: the cells by column name (absent or empty: none).
type Cells = HashMap<String, String>;

/// The `forecast` bodies of a file, checked against `tenant`'s grid.
pub fn parse(
    bytes: &[u8],
    format: FileFormat,
    tenant: Tenant,
) -> Result<Vec<Forecast<'static>>, ForecastFileError> {
    let rows = match format {
        FileFormat::Csv => csv_rows(bytes)?,
        FileFormat::Json => json_rows(bytes)?,
    };
    if rows.len() > MAX_ROWS {
        return Err(ForecastFileError::File(format!(
            "{} rows, more than {MAX_ROWS}",
            rows.len()
        )));
    }
    if rows.is_empty() {
        return Err(ForecastFileError::File("no forecast rows".to_owned()));
    }
    let clock = IntervalClock::new(tenant.tz, tenant.interval_minutes);
    rows.iter()
        .enumerate()
        .map(|(i, cells)| row(i + 1, cells, tenant, &clock))
        .collect()
}

fn csv_rows(bytes: &[u8]) -> Result<Vec<Cells>, ForecastFileError> {
    let bad = |e: csv::Error| ForecastFileError::File(format!("not readable as CSV: {e}"));
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .map_err(bad)?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.map_err(bad)?;
            Ok(headers
                .iter()
                .zip(r.iter())
                .filter(|(_, v)| !v.trim().is_empty())
                .map(|(h, v)| (h.clone(), v.trim().to_owned()))
                .collect())
        })
        .collect()
}

fn json_rows(bytes: &[u8]) -> Result<Vec<Cells>, ForecastFileError> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let value: serde_json::Value = serde_json::from_slice(text)
        .map_err(|e| ForecastFileError::File(format!("not valid JSON: {e}")))?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(mut o) => match o.remove("forecasts") {
            Some(serde_json::Value::Array(items)) => items,
            _ => {
                return Err(ForecastFileError::File(
                    "a JSON object needs a \"forecasts\" array".to_owned(),
                ))
            }
        },
        _ => {
            return Err(ForecastFileError::File(
                "JSON must be an array of rows or {\"forecasts\": [...]}".to_owned(),
            ))
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let serde_json::Value::Object(o) = item else {
                return Err(ForecastFileError::Row {
                    row: i + 1,
                    field: "row".to_owned(),
                    reason: "is not an object".to_owned(),
                });
            };
            Ok(o.into_iter()
                .filter_map(|(k, v)| match v {
                    serde_json::Value::Null => None,
                    serde_json::Value::String(s) if s.trim().is_empty() => None,
                    serde_json::Value::String(s) => Some((k, s)),
                    other => Some((k, other.to_string())),
                })
                .collect())
        })
        .collect()
}

/// One row as a checked `forecast` body.
fn row(
    n: usize,
    cells: &Cells,
    tenant: Tenant,
    clock: &IntervalClock,
) -> Result<Forecast<'static>, ForecastFileError> {
    let err = |field: &str, reason: String| ForecastFileError::Row {
        row: n,
        field: field.to_owned(),
        reason,
    };
    let text = |f: &str| cells.get(f).map(String::as_str);
    let need = |f: &str| text(f).ok_or_else(|| err(f, "is required".to_owned()));
    let number = |f: &str| -> Result<Option<f64>, ForecastFileError> {
        text(f)
            .map(|t| {
                t.parse::<f64>()
                    .map_err(|_| err(f, format!("{t:?} is not a number")))
            })
            .transpose()
    };
    let start_ms = local_start(need("start")?, tenant.tz).map_err(|r| err("start", r))?;
    let minutes = match text("interval_minutes") {
        None => tenant.interval_minutes,
        Some(t) => t
            .parse::<u32>()
            .map_err(|_| err("interval_minutes", format!("{t:?} is not a whole number")))?,
    };
    if minutes != tenant.interval_minutes {
        return Err(err(
            "interval_minutes",
            format!(
                "{minutes} is not the tenant's interval length ({} minutes)",
                tenant.interval_minutes
            ),
        ));
    }
    if clock.interval_of(start_ms).0 != start_ms {
        return Err(err(
            "start",
            format!(
                "{} is not the start of a {minutes}-minute interval in {}",
                need("start")?,
                tenant.tz.name()
            ),
        ));
    }
    let forecast = Forecast {
        queue: Cow::Owned(need("queue")?.to_owned()),
        start_ms,
        interval_minutes: minutes,
        calls: number("calls")?.ok_or_else(|| err("calls", "is required".to_owned()))?,
        aht_s: number("aht_s")?.ok_or_else(|| err("aht_s", "is required".to_owned()))?,
        required_agents: number("required_agents")?,
        scheduled_agents: number("scheduled_agents")?,
        version: text("version").map(|v| Cow::Owned(v.to_owned())),
    };
    check(&forecast).map_err(|(field, reason)| err(field, reason))?;
    Ok(forecast)
}

/// The canonical parser's checks (ranges, identifiers), so a file accepts
/// exactly what the event would.
fn check(f: &Forecast<'_>) -> Result<(), (&'static str, String)> {
    let event = forecast_event("check", f.clone().into_owned(), "check", 0);
    match parse_event_str(&event.to_json()) {
        Ok(_) => Ok(()),
        Err(e) => {
            let field = e.field().unwrap_or("row");
            let reason = e.to_string();
            let reason = reason
                .strip_prefix(&format!("field `{field}`: "))
                .unwrap_or(&reason)
                .to_owned();
            Err((field, reason))
        }
    }
}

/// The local times `start` may be written as (no offset: the tenant's zone).
const LOCAL: [&str; 4] = [
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
];

/// `start` as Unix ms: RFC 3339 with an offset, or a local time in `tz`.
fn local_start(text: &str, tz: Tz) -> Result<TimestampMs, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_millis());
    }
    let naive = LOCAL
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .ok_or_else(|| {
            format!("{text:?} is neither RFC 3339 with an offset nor a local time YYYY-MM-DD HH:MM")
        })?;
    tz.from_local_datetime(&naive)
        .single()
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| format!("{text} does not exist or is ambiguous in {}", tz.name()))
}

/// The canonical event of one forecast of `tenant`, published at `ts`.
#[must_use]
pub fn forecast_event(
    tenant: &str,
    forecast: Forecast<'static>,
    row: &str,
    ts: TimestampMs,
) -> Event<'static> {
    Event {
        v: SCHEMA_VERSION,
        id: Cow::Owned(format!("fc-{}-{row}-{ts}", forecast.start_ms)),
        ts,
        tenant: Cow::Owned(tenant.to_owned()),
        source: Some(Cow::Borrowed(SOURCE)),
        body: EventBody::Forecast(forecast),
    }
}

/// The events of a parsed file, row `N` named in its id.
#[must_use]
pub fn to_events(
    tenant: &str,
    forecasts: Vec<Forecast<'static>>,
    ts: TimestampMs,
) -> Vec<Event<'static>> {
    forecasts
        .into_iter()
        .enumerate()
        .map(|(i, f)| forecast_event(tenant, f, &(i + 1).to_string(), ts))
        .collect()
}

#[cfg(test)]
// Exact: the numbers compared are small binary fractions.
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    const SHANGHAI: Tenant = Tenant {
        tz: chrono_tz::Asia::Shanghai,
        interval_minutes: 30,
    };

    #[test]
    fn csv_and_json_give_the_same_forecasts() {
        let csv = "\u{feff}queue,start,calls,aht_s,scheduled_agents,version\r\n\
                   sales,2026-11-23T09:00:00+08:00,42.5,240,9,v2\r\n\
                   sales,2026-11-23 09:30,38,235,,v2\r\n";
        let json = r#"[{"queue":"sales","start":"2026-11-23T01:00:00Z","calls":42.5,"aht_s":240,"scheduled_agents":9,"version":"v2"},
                       {"queue":"sales","start":"2026-11-23T09:30:00","calls":38,"aht_s":235,"version":"v2"}]"#;
        let a = parse(csv.as_bytes(), FileFormat::sniff(csv.as_bytes()), SHANGHAI).unwrap();
        let b = parse(
            json.as_bytes(),
            FileFormat::sniff(json.as_bytes()),
            SHANGHAI,
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a[0].start_ms, 1_795_395_600_000);
        assert_eq!(a[1].start_ms, 1_795_397_400_000);
        assert_eq!(
            (a[0].scheduled_agents, a[1].scheduled_agents),
            (Some(9.0), None)
        );
        let events = to_events("acme", a, 7);
        assert_eq!(events[1].id, "fc-1795397400000-2-7");
        assert!(parse_event_str(&events[1].to_json()).is_ok());
    }

    #[test]
    fn errors_name_the_row_and_field() {
        let cases = [
            ("sales,2026-11-23 09:00,-2,240", 1, "calls"),
            ("sales,2026-11-23 09:10,2,240", 1, "start"),
            ("sales,23.11.2026 09:00,2,240", 1, "start"),
            ("sales,2026-11-23 09:00,two,240", 1, "calls"),
            (",2026-11-23 09:00,2,240", 1, "queue"),
        ];
        for (line, row, field) in cases {
            let file = format!("queue,start,calls,aht_s\nsales,2026-11-23 08:30,1,1\n{line}\n");
            let got = parse(file.as_bytes(), FileFormat::Csv, SHANGHAI).unwrap_err();
            let ForecastFileError::Row {
                row: r, field: f, ..
            } = &got
            else {
                panic!("{line}: {got}")
            };
            assert_eq!((*r, f.as_str()), (row + 1, field), "{line}: {got}");
        }
        let minutes = "queue,start,interval_minutes,calls,aht_s\ns,2026-11-23 09:00,15,1,1\n";
        let got = parse(minutes.as_bytes(), FileFormat::Csv, SHANGHAI).unwrap_err();
        assert_eq!(
            got.to_string(),
            "row 1, field interval_minutes: 15 is not the tenant's interval length (30 minutes)"
        );
    }

    #[test]
    fn a_local_time_skipped_by_dst_is_refused() {
        let ny = Tenant {
            tz: chrono_tz::America::New_York,
            interval_minutes: 30,
        };
        let file = "queue,start,calls,aht_s\ns,2026-03-08 02:30,1,1\n";
        let got = parse(file.as_bytes(), FileFormat::Csv, ny).unwrap_err();
        assert!(
            got.to_string().contains("does not exist or is ambiguous"),
            "{got}"
        );
    }
}
