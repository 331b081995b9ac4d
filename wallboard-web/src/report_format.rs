//! The interval report for people (`metrics.md`, "Report as CSV"): CSV that
//! Excel and WPS open as UTF-8, and an aligned table for a terminal. The JSON
//! report stays the contract; both are views of its queue rows, one row per
//! (queue, interval), in the report's order.

use std::borrow::Cow;
use std::collections::BTreeMap;

use aggregator::forecast_view::RowForecast;
use aggregator::quality_report::KpiFields;
use aggregator::report::{QueueRow, SlVariants};
use aggregator::IntervalReport;
use serde::Deserialize;
use unicode_width::UnicodeWidthStr;
use wallboard_events::{BlockedReason, DequeueReason};

/// The language of the column headers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
pub enum Lang {
    /// English.
    #[default]
    #[serde(rename = "en")]
    En,
    /// Simplified Chinese.
    #[serde(rename = "zh-CN")]
    #[value(name = "zh-CN")]
    ZhCn,
}

/// One cell of a row, typed so each output can format it its own way.
enum Cell<'r> {
    Text(Cow<'r, str>),
    Count(u64),
    /// A count where the report has `null` (no call to take it from).
    MaybeCount(Option<u64>),
    /// A ratio or an average; `None` is the report's `null`.
    Number(Option<f64>),
}

type Getter = Box<dyn Fn(&QueueRow) -> Cell<'_>>;

/// A column: its headers in English and Chinese and how to get its value.
struct Column {
    en: String,
    zh: String,
    get: Getter,
}

impl Column {
    fn new(en: impl Into<String>, zh: impl Into<String>, get: Getter) -> Self {
        Column {
            en: en.into(),
            zh: zh.into(),
            get,
        }
    }

    fn header(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::ZhCn => &self.zh,
        }
    }
}

fn reason_zh(r: DequeueReason) -> &'static str {
    match r {
        DequeueReason::Timeout => "超时",
        DequeueReason::ExitKey => "按键退出",
        DequeueReason::Empty => "无座席",
        DequeueReason::Overflow => "溢出",
        DequeueReason::Transfer => "转移",
        DequeueReason::Other => "其他",
    }
}

fn blocked_zh(r: BlockedReason) -> &'static str {
    match r {
        BlockedReason::Full => "队列已满",
        BlockedReason::NoAgents => "无座席",
        BlockedReason::NoAvailableAgents => "无空闲座席",
        BlockedReason::Closed => "已关闭",
        BlockedReason::Other => "其他",
    }
}

/// `blocked` and one column per reason (`metrics.md`, "Report as CSV"):
/// only in the CSV of a report that has blocked calls.
fn blocked_columns() -> Vec<Column> {
    let mut cols = vec![Column::new(
        "blocked",
        "拒绝进队量",
        Box::new(|r: &QueueRow| Cell::Count(r.blocked.as_ref().map_or(0, |b| b.blocked))),
    )];
    for &reason in BlockedReason::ALL {
        cols.push(Column::new(
            format!("blocked_{}", reason.as_str()),
            format!("拒绝进队量({})", blocked_zh(reason)),
            Box::new(move |r: &QueueRow| {
                let by = r.blocked.as_ref().map(|b| &b.blocked_by_reason);
                Cell::Count(
                    by.and_then(|m| m.get(reason.as_str()))
                        .copied()
                        .unwrap_or(0),
                )
            }),
        ));
    }
    cols
}

/// The optional column groups (`metrics.md`, "Report as CSV"): a group's
/// columns are written only when some row of the report has the group, so
/// the outputs of a report without the feature keep exactly their columns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Groups {
    /// `blocked`, `blocked_by_reason`.
    blocked: bool,
    /// Repeat contacts, CSAT and QA.
    kpi: bool,
    /// Forecast vs actual.
    forecast: bool,
}

impl Groups {
    fn of(report: &IntervalReport) -> Self {
        let rows = &report.queues;
        Groups {
            blocked: rows.iter().any(|r| r.blocked.is_some()),
            kpi: rows.iter().any(|r| r.kpi != KpiFields::default()),
            forecast: rows.iter().any(|r| r.forecast.is_some()),
        }
    }
}

/// One field of a row's forecast.
type PickForecast = fn(&RowForecast) -> Option<f64>;

/// The forecast fields of a row, in the report's order: (en, zh-CN, field).
const FORECAST_FIELDS: [(&str, &str, PickForecast); 7] = [
    ("forecast_calls", "预测来电量", |f| {
        Some(f.forecast_calls)
    }),
    ("forecast_aht_s", "预测平均处理时长(秒)", |f| {
        f.forecast_aht_s
    }),
    ("forecast_agents", "计划座席数", |f| f.forecast_agents),
    ("volume_variance_pct", "来电量偏差(%)", |f| {
        f.volume_variance_pct
    }),
    ("aht_variance_pct", "平均处理时长偏差(%)", |f| {
        f.aht_variance_pct
    }),
    ("staffed_agents", "平均在线座席数", |f| {
        f.staffed_agents
    }),
    ("staffing_vs_plan", "在线对计划座席差", |f| {
        f.staffing_vs_plan
    }),
];

/// A column of one forecast field: empty (`None`) on a row without a plan.
fn forecast_column(en: &str, zh: &str, pick: PickForecast) -> Column {
    Column::new(
        en,
        zh,
        Box::new(move |r: &QueueRow| Cell::Number(r.forecast.as_ref().and_then(pick))),
    )
}

/// The seven forecast columns of the CSV, last (`metrics.md`, "Report as
/// CSV").
fn forecast_columns() -> Vec<Column> {
    FORECAST_FIELDS
        .iter()
        .map(|&(en, zh, pick)| forecast_column(en, zh, pick))
        .collect()
}

/// A column that shows one field of the row as it is.
macro_rules! col {
    ($en:literal, $zh:literal, $cell:ident, $field:ident) => {
        Column::new($en, $zh, Box::new(|r: &QueueRow| Cell::$cell(r.$field)))
    };
}

/// The queue's name, first in both outputs.
fn queue_column() -> Column {
    Column::new(
        "queue",
        "队列",
        Box::new(|r: &QueueRow| Cell::Text(r.queue.as_str().into())),
    )
}

/// The CSV columns, in order: every field of a queue row, with the
/// per-threshold maps and `dequeued_by_reason` spread into one column each
/// (and each of `groups` the report has).
fn csv_columns(thresholds_s: &[u32], groups: Groups) -> Vec<Column> {
    let mut cols = csv_count_columns();
    cols.extend(dequeued_columns());
    cols.push(col!("wait_unknown", "等待时长未知", Count, wait_unknown));
    if groups.blocked {
        cols.extend(blocked_columns());
    }
    for &t in thresholds_s {
        cols.extend(threshold_columns(t));
    }
    cols.extend(csv_derived_columns());
    if groups.kpi {
        cols.extend(kpi_columns());
    }
    if groups.forecast {
        cols.extend(forecast_columns());
    }
    cols
}

/// The interval and its call counts, up to `dequeued`.
fn csv_count_columns() -> Vec<Column> {
    vec![
        queue_column(),
        Column::new(
            "start",
            "时段开始",
            Box::new(|r: &QueueRow| Cell::Text(r.start.as_str().into())),
        ),
        Column::new(
            "start_ms",
            "开始时间戳(毫秒)",
            // Event times are validated to lie after 1970 (events.md).
            Box::new(|r: &QueueRow| Cell::Count(u64::try_from(r.start_ms).unwrap_or(0))),
        ),
        Column::new(
            "end_ms",
            "结束时间戳(毫秒)",
            Box::new(|r: &QueueRow| Cell::Count(u64::try_from(r.end_ms).unwrap_or(0))),
        ),
        col!("entered", "进队量", Count, entered),
        col!("offered", "来电量", Count, offered),
        col!("answered", "接通量", Count, answered),
        col!("abandoned", "放弃量", Count, abandoned),
        col!("short_abandoned", "短时放弃量", Count, short_abandoned),
        col!("dequeued", "离队量", Count, dequeued),
    ]
}

/// One column per dequeue reason (`dequeued_by_reason` spread out).
fn dequeued_columns() -> Vec<Column> {
    DequeueReason::ALL
        .iter()
        .map(|&reason| {
            Column::new(
                format!("dequeued_{}", reason.as_str()),
                format!("离队量({})", reason_zh(reason)),
                Box::new(move |r: &QueueRow| {
                    Cell::Count(
                        r.dequeued_by_reason
                            .get(reason.as_str())
                            .copied()
                            .unwrap_or(0),
                    )
                }),
            )
        })
        .collect()
}

/// The averages, rates and agent times after the threshold columns.
fn csv_derived_columns() -> [Column; 20] {
    [
        col!("asa_ms", "平均应答速度(毫秒)", Number, asa_ms),
        col!(
            "avg_abandon_ms",
            "平均放弃等待(毫秒)",
            Number,
            avg_abandon_ms
        ),
        col!("max_wait_ms", "最长等待(毫秒)", MaybeCount, max_wait_ms),
        col!("answer_rate", "接通率", Number, answer_rate),
        col!("abandon_rate", "放弃率", Number, abandon_rate),
        col!("handled", "处理量", Count, handled),
        col!("talk_ms", "通话时长(毫秒)", Count, talk_ms),
        col!("hold_ms", "保持时长(毫秒)", Count, hold_ms),
        col!("acw_ms", "话后处理时长(毫秒)", Count, acw_ms),
        col!("aht_ms", "平均处理时长(毫秒)", Number, aht_ms),
        col!("transferred", "转接量", Count, transferred),
        col!("staffed_ms", "在线时长(毫秒)", Count, staffed_ms),
        col!("available_ms", "示闲时长(毫秒)", Count, available_ms),
        col!("busy_ms", "忙碌时长(毫秒)", Count, busy_ms),
        col!("not_ready_ms", "示忙时长(毫秒)", Count, not_ready_ms),
        col!("occupancy", "占用率", Number, occupancy),
        col!("utilization", "工时利用率", Number, utilization),
        col!("scheduled_ms", "排班时长(毫秒)", Count, scheduled_ms),
        col!("adherent_ms", "遵守排班时长(毫秒)", Count, adherent_ms),
        col!("adherence", "排班遵守率", Number, adherence),
    ]
}

/// The repeat-contact, CSAT and QA columns (`metrics.md`, "Report as
/// CSV"): only in the CSV of a report that has some.
fn kpi_columns() -> Vec<Column> {
    type Pick = fn(&KpiFields) -> Cell<'static>;
    let cols: [(&str, &str, Pick); 12] = [
        ("repeat_eligible", "有来电标识的处理量", |k| {
            Cell::Count(k.repeat.map_or(0, |r| r.repeat_eligible))
        }),
        ("repeat_contacts", "重复来电量", |k| {
            Cell::Count(k.repeat.map_or(0, |r| r.repeat_contacts))
        }),
        ("repeat_pending", "待定量", |k| {
            Cell::Count(k.repeat.map_or(0, |r| r.repeat_pending))
        }),
        ("repeat_rate", "重复来电率", |k| {
            Cell::Number(k.repeat.and_then(|r| r.repeat_rate))
        }),
        ("fcr", "首次解决率", |k| {
            Cell::Number(k.repeat.and_then(|r| r.fcr))
        }),
        ("surveys", "满意度调查数", |k| {
            Cell::Count(k.csat.map_or(0, |c| c.surveys))
        }),
        ("csat_top_box", "满意数", |k| {
            Cell::Count(k.csat.map_or(0, |c| c.csat_top_box))
        }),
        ("csat", "满意度", |k| {
            Cell::Number(k.csat.and_then(|c| c.csat))
        }),
        ("csat_mean", "满意度均分", |k| {
            Cell::Number(k.csat.and_then(|c| c.csat_mean))
        }),
        ("qa_evaluations", "质检次数", |k| {
            Cell::Count(k.qa.map_or(0, |q| q.qa_evaluations))
        }),
        ("qa_fatal", "致命错误数", |k| {
            Cell::Count(k.qa.map_or(0, |q| q.qa_fatal))
        }),
        ("qa_score", "质检得分", |k| {
            Cell::Number(k.qa.and_then(|q| q.qa_score))
        }),
    ];
    cols.into_iter()
        .map(|(en, zh, pick)| Column::new(en, zh, Box::new(move |r: &QueueRow| pick(&r.kpi))))
        .collect()
}

/// One SL variant out of the four.
type PickSl = fn(&SlVariants) -> Option<f64>;

/// `answered_within`, `abandoned_within` and the four SL variants at `t` s.
fn threshold_columns(t: u32) -> Vec<Column> {
    let key = t.to_string();
    let within = |en: &str, zh: &str, pick: fn(&QueueRow) -> &BTreeMap<String, u64>| {
        let key = key.clone();
        let get: Getter =
            Box::new(move |r: &QueueRow| Cell::Count(pick(r).get(&key).copied().unwrap_or(0)));
        Column::new(format!("{en}_{t}s"), format!("{t}秒内{zh}"), get)
    };
    let mut cols = vec![
        within("answered_within", "接通量", |r| &r.answered_within),
        within("abandoned_within", "放弃量", |r| &r.abandoned_within),
    ];
    let variants: [(&str, &str, PickSl); 4] = [
        ("sl1", "一", |v| v.sl1),
        ("sl2", "二", |v| v.sl2),
        ("sl3", "三", |v| v.sl3),
        ("sl4", "四", |v| v.sl4),
    ];
    for (en, zh, pick) in variants {
        let key = key.clone();
        cols.push(Column::new(
            format!("{en}_{t}s"),
            format!("服务水平算法{zh}({t}秒)"),
            Box::new(move |r: &QueueRow| Cell::Number(r.sl.get(&key).and_then(pick))),
        ));
    }
    cols
}

/// Spreadsheets run a cell that starts with one of these as a formula; a
/// queue name must stay text (OWASP "CSV injection").
fn defuse(text: &str) -> Cow<'_, str> {
    match text.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

fn csv_cell(c: Cell<'_>) -> String {
    match c {
        Cell::Text(t) => defuse(&t).into_owned(),
        Cell::Count(n) | Cell::MaybeCount(Some(n)) => n.to_string(),
        Cell::Number(Some(x)) => x.to_string(),
        Cell::MaybeCount(None) | Cell::Number(None) => String::new(),
    }
}

/// The report's queue rows as CSV: a UTF-8 byte-order mark (so Excel and
/// WPS do not guess a legacy code page), a header row, CRLF line ends and
/// RFC 4180 quoting.
#[must_use]
pub fn to_csv(report: &IntervalReport, lang: Lang) -> Vec<u8> {
    let cols = csv_columns(&report.sl_thresholds_s, Groups::of(report));
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        // Writing to a Vec cannot fail.
        w.write_record(cols.iter().map(|c| c.header(lang)))
            .expect("write to memory");
        for row in &report.queues {
            w.write_record(cols.iter().map(|c| csv_cell((c.get)(row))))
                .expect("write to memory");
        }
        w.flush().expect("write to memory");
    }
    out
}

/// The columns of the terminal table: what a supervisor reads first, then
/// those of each of `groups` the report has.
fn table_columns(thresholds_s: &[u32], groups: Groups) -> Vec<Column> {
    let mut cols = table_main_columns(thresholds_s);
    if groups.blocked {
        cols.push(Column::new(
            "blocked",
            "拒绝进队量",
            Box::new(|r: &QueueRow| Cell::Count(r.blocked.as_ref().map_or(0, |b| b.blocked))),
        ));
    }
    if groups.kpi {
        cols.extend(table_kpi_columns());
    }
    if groups.forecast {
        cols.extend(table_forecast_columns());
    }
    cols
}

/// FCR and CSAT in percent, the QA score as it is.
fn table_kpi_columns() -> [Column; 3] {
    [
        Column::new(
            "FCR %",
            "首次解决率%",
            percent(Box::new(|r: &QueueRow| {
                Cell::Number(r.kpi.repeat.and_then(|k| k.fcr))
            })),
        ),
        Column::new(
            "CSAT %",
            "满意度%",
            percent(Box::new(|r: &QueueRow| {
                Cell::Number(r.kpi.csat.and_then(|k| k.csat))
            })),
        ),
        Column::new(
            "QA",
            "质检得分",
            Box::new(|r: &QueueRow| Cell::Number(r.kpi.qa.and_then(|k| k.qa_score))),
        ),
    ]
}

/// The plan's calls and the three variances from it.
fn table_forecast_columns() -> [Column; 4] {
    let [calls, _, _, volume, aht, _, staffing] = FORECAST_FIELDS;
    [
        forecast_column("plan calls", calls.1, calls.2),
        forecast_column("vs plan %", "来电量偏差%", volume.2),
        forecast_column("AHT vs plan %", "处理时长偏差%", aht.2),
        forecast_column("staff vs plan", staffing.1, staffing.2),
    ]
}

/// The columns every table has.
fn table_main_columns(thresholds_s: &[u32]) -> Vec<Column> {
    let mut cols = vec![
        queue_column(),
        Column::new(
            "start",
            "时段开始",
            Box::new(|r: &QueueRow| Cell::Text(local_minute(&r.start).into())),
        ),
        col!("offered", "来电量", Count, offered),
        col!("answered", "接通量", Count, answered),
        col!("abandoned", "放弃量", Count, abandoned),
    ];
    for &t in thresholds_s {
        for c in threshold_columns(t).into_iter().skip(2) {
            // "sl3_20s" → "SL3@20s": the label the wallboard uses.
            let en = format!("{}@{t}s", c.en[..3].to_uppercase());
            let zh = format!("{}@{t}秒", c.en[..3].to_uppercase());
            cols.push(Column::new(en, zh, percent(c.get)));
        }
    }
    cols.extend([
        Column::new(
            "ASA s",
            "平均应答速度(秒)",
            Box::new(|r: &QueueRow| Cell::Number(r.asa_ms.map(|ms| ms / 1000.0))),
        ),
        Column::new(
            "AHT s",
            "平均处理时长(秒)",
            Box::new(|r: &QueueRow| Cell::Number(r.aht_ms.map(|ms| ms / 1000.0))),
        ),
        Column::new(
            "abandon %",
            "放弃率%",
            percent(Box::new(|r: &QueueRow| Cell::Number(r.abandon_rate))),
        ),
        Column::new(
            "occupancy %",
            "占用率%",
            percent(Box::new(|r: &QueueRow| Cell::Number(r.occupancy))),
        ),
    ]);
    cols
}

/// A ratio column shown in percent.
fn percent(get: Getter) -> Getter {
    Box::new(move |r: &QueueRow| match get(r) {
        Cell::Number(x) => Cell::Number(x.map(|x| x * 100.0)),
        other => other,
    })
}

/// `2026-11-23T09:00:00+08:00` → `2026-11-23 09:00` (the offset is the
/// report's zone, the same on every row).
fn local_minute(start: &str) -> String {
    start.get(..16).unwrap_or(start).replacen('T', " ", 1)
}

fn table_cell(c: Cell<'_>) -> (String, bool) {
    match c {
        Cell::Text(t) => (t.into_owned(), false),
        Cell::Count(n) | Cell::MaybeCount(Some(n)) => (n.to_string(), true),
        Cell::Number(Some(x)) => (format!("{x:.1}"), true),
        Cell::MaybeCount(None) | Cell::Number(None) => ("-".to_owned(), true),
    }
}

/// The report's queue rows as a table aligned for a terminal (numbers to
/// the right, rounded to one decimal; `-` where the report has `null`).
#[must_use]
pub fn to_table(report: &IntervalReport, lang: Lang) -> String {
    let cols = table_columns(&report.sl_thresholds_s, Groups::of(report));
    let header: Vec<(String, bool)> = cols
        .iter()
        .map(|c| (c.header(lang).to_owned(), false))
        .collect();
    let rows: Vec<Vec<(String, bool)>> = report
        .queues
        .iter()
        .map(|row| cols.iter().map(|c| table_cell((c.get)(row))).collect())
        .collect();
    let widths: Vec<usize> = (0..cols.len())
        .map(|i| {
            std::iter::once(&header)
                .chain(&rows)
                .map(|r| r[i].0.width())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|((text, right), &w)| {
                let pad = " ".repeat(w - text.width());
                if *right {
                    format!("{pad}{text}")
                } else {
                    format!("{text}{pad}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// `?format=` and `?lang=` of `GET /api/v1/tenants/{t}/report`.
#[derive(Debug, Default, Deserialize)]
pub struct FormatQuery {
    /// Body format; `None`: JSON.
    #[serde(default)]
    pub format: Option<RestFormat>,
    /// Language of the CSV column headers.
    #[serde(default)]
    pub lang: Lang,
}

/// The body formats of the REST report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RestFormat {
    /// The interval report as JSON.
    Json,
    /// The interval report as CSV (`metrics.md` "Report as CSV").
    Csv,
}

impl FormatQuery {
    /// CSV when `?format=csv`, or with no `format` when `Accept` prefers
    /// `text/csv` to JSON; JSON otherwise (the default).
    pub fn wants_csv(&self, headers: &axum::http::HeaderMap) -> bool {
        match self.format {
            Some(f) => f == RestFormat::Csv,
            None => headers
                .get_all(axum::http::header::ACCEPT)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .any(accept_prefers_csv),
        }
    }
}

/// Whether an `Accept` value ranks `text/csv` above `application/json`
/// (by `q`, ties by order); `*/*` and `application/*` count as JSON.
fn accept_prefers_csv(accept: &str) -> bool {
    // (q, position) of the first mention of each.
    let mut csv: Option<(f32, usize)> = None;
    let mut json: Option<(f32, usize)> = None;
    for (pos, range) in accept.split(',').enumerate() {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let slot = match media.as_str() {
            "text/csv" => &mut csv,
            "application/json" | "application/*" | "*/*" => &mut json,
            _ => continue,
        };
        slot.get_or_insert((q, pos));
    }
    match (csv, json) {
        (Some((c, _)), _) if c <= 0.0 => false,
        (Some(_), None) => true,
        // Equal scores are exactly equal: they count the same characters.
        #[allow(clippy::float_cmp)]
        (Some((c, cp)), Some((j, jp))) => c > j || (c == j && cp < jp),
        (None, _) => false,
    }
}

/// The CSV report as an HTTP response: a download named after the tenant.
#[must_use]
pub fn csv_response(report: &IntervalReport, lang: Lang) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    use axum::response::IntoResponse;
    let name = format!(
        "attachment; filename=\"wallboard-report-{}.csv\"",
        report.tenant
    );
    let disposition = HeaderValue::from_str(&name).unwrap_or_else(|_| {
        HeaderValue::from_static("attachment; filename=\"wallboard-report.csv\"")
    });
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8; header=present"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::VARY, HeaderValue::from_static("Accept")),
        ],
        to_csv(report, lang),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::{accept_prefers_csv, csv_columns, defuse, table_columns, to_csv, to_table};
    use super::{Groups, Lang, FORECAST_FIELDS};
    use aggregator::{interval_report, Engine, IntervalReport, MetricsConfig, Range};

    /// 2026-11-23 07:00 UTC.
    const T0: i64 = 1_795_417_200_000;

    /// The report of tenant `t` after `lines` (`{ts}`: T0 + n × 1000).
    fn report(lines: &[&str]) -> IntervalReport {
        let mut engine = Engine::new(MetricsConfig::default().validate().unwrap());
        for (n, line) in (0..).zip(lines) {
            let line = line.replace("{ts}", &(T0 + n * 1000).to_string());
            let e = wallboard_events::parse_event_str(&line).unwrap();
            engine.apply(&e);
        }
        interval_report(engine.tenant("t").unwrap(), T0 + 60_000, Range::default())
    }

    /// A call answered in `sales` and, when `planned`, a plan for
    /// `support` in the same interval.
    fn trace(planned: bool) -> IntervalReport {
        let mut lines = vec![
            r#"{"v":1,"id":"q","ts":{ts},"tenant":"t","kind":"call_queued","call":"c","queue":"sales"}"#,
            r#"{"v":1,"id":"a","ts":{ts},"tenant":"t","kind":"call_answered","call":"c","queue":"sales","agent":"a","wait_ms":1000}"#,
        ];
        if planned {
            lines.push(r#"{"v":1,"id":"f","ts":{ts},"tenant":"t","kind":"forecast","queue":"support","start_ms":1795417200000,"interval_minutes":30,"calls":4,"aht_s":180}"#);
        }
        report(&lines)
    }

    fn headers(cols: &[super::Column], lang: Lang) -> Vec<&str> {
        cols.iter().map(|c| c.header(lang)).collect()
    }

    #[test]
    fn each_group_adds_its_columns_at_its_place_and_only_then() {
        let plain = csv_columns(&[20], Groups::default());
        let plain = headers(&plain, Lang::En);
        let all = Groups {
            blocked: true,
            kpi: true,
            forecast: true,
        };
        let with_all = csv_columns(&[20], all);
        let en = headers(&with_all, Lang::En);
        assert_eq!(en.len(), plain.len() + 6 + 12 + 7);
        assert_eq!(en[en.len() - 7..], FORECAST_FIELDS.map(|(en, ..)| en));
        assert_eq!(en[en.len() - 7], "forecast_calls");
        assert_eq!(en[en.len() - 8], "qa_score");
        let zh = headers(&with_all, Lang::ZhCn);
        assert_eq!(zh[zh.len() - 7], "预测来电量");
        assert_eq!(zh[zh.len() - 4], "来电量偏差(%)");
        // Without the groups the columns are exactly the version 1 ones.
        let forecast_only = Groups {
            forecast: true,
            ..Groups::default()
        };
        let cols = csv_columns(&[20], forecast_only);
        assert_eq!(headers(&cols, Lang::En)[..plain.len()], plain[..]);

        let table = table_columns(&[20], Groups::default());
        let base = headers(&table, Lang::En).len();
        let table = table_columns(&[20], all);
        let en = headers(&table, Lang::En);
        assert_eq!(
            en[base..],
            [
                "blocked",
                "FCR %",
                "CSAT %",
                "QA",
                "plan calls",
                "vs plan %",
                "AHT vs plan %",
                "staff vs plan"
            ]
        );
        let zh = headers(&table, Lang::ZhCn);
        assert_eq!(zh[base + 4..base + 6], ["预测来电量", "来电量偏差%"]);
    }

    #[test]
    fn a_report_without_a_forecast_has_no_forecast_column() {
        let r = trace(false);
        let csv = String::from_utf8(to_csv(&r, Lang::En)).unwrap();
        assert!(!csv.contains("forecast_calls"), "{csv}");
        assert!(!to_table(&r, Lang::En).contains("plan"));
    }

    #[test]
    fn a_row_without_a_plan_has_empty_forecast_cells() {
        let r = trace(true);
        let csv = String::from_utf8(to_csv(&r, Lang::En)).unwrap();
        let mut lines = csv.trim_start_matches('\u{feff}').lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        assert_eq!(header[header.len() - 7], "forecast_calls");
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        let of = |q: &str| rows.iter().find(|r| r[0] == q).unwrap().clone();
        let tail = |q: &str| of(q)[header.len() - 7..].to_vec();
        // `sales` answered a call but had no plan; `support` only a plan.
        assert_eq!(tail("sales"), ["", "", "", "", "", "", ""]);
        assert_eq!(tail("support")[..2], ["4", "180"]);
        assert_eq!(tail("*")[..2], ["4", "180"]);
        let table = to_table(&r, Lang::En);
        let sales = table.lines().find(|l| l.starts_with("sales")).unwrap();
        let last: Vec<&str> = sales.split_whitespace().rev().take(4).collect();
        assert_eq!(last, ["-"; 4], "{table}");
    }

    #[test]
    fn text_that_a_spreadsheet_would_run_stays_text() {
        assert_eq!(defuse("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        for s in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(defuse(s), format!("'{s}"));
        }
        assert_eq!(defuse("sales"), "sales");
        assert_eq!(defuse("*"), "*");
        assert_eq!(defuse(""), "");
    }

    #[test]
    fn accept_negotiation() {
        assert!(accept_prefers_csv("text/csv"));
        assert!(accept_prefers_csv("text/csv, application/json;q=0.5"));
        assert!(accept_prefers_csv("text/csv, */*"));
        assert!(!accept_prefers_csv("application/json, text/csv"));
        assert!(!accept_prefers_csv("*/*"));
        assert!(!accept_prefers_csv("text/csv;q=0"));
        assert!(!accept_prefers_csv("text/csv;q=0.2, application/json"));
        assert!(!accept_prefers_csv("text/html"));
    }
}
