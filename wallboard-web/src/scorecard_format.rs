//! The agent scorecard as CSV (`metrics.md`, "Agent scorecard"): the same
//! conventions as the report's CSV (BOM, CRLF, RFC 4180, defused text), the
//! team median first, then one row per agent.

use aggregator::scorecard::{AgentScore, Flag, Metric, Ratios, Scorecard, TeamMedian};

use crate::report_format::Lang;

/// Headers in English and Chinese, in column order.
const HEADERS: [(&str, &str); 21] = [
    ("row", "行"),
    ("agent", "座席"),
    ("handled", "处理量"),
    ("aht_ms", "平均处理时长(毫秒)"),
    ("avg_talk_ms", "平均通话(不含保持)(毫秒)"),
    ("avg_hold_ms", "平均保持(毫秒)"),
    ("avg_acw_ms", "平均话后处理(毫秒)"),
    ("transferred", "转接量"),
    ("transfer_rate", "转接率"),
    ("occupancy", "占用率"),
    ("adherence", "排班遵守率"),
    ("surveys", "调查数"),
    ("csat", "满意度"),
    ("csat_mean", "满意度均分"),
    ("qa_evaluations", "质检数"),
    ("qa_score", "质检得分"),
    ("repeat_eligible", "可判重复来电"),
    ("repeat_contacts", "重复来电"),
    ("repeat_pending", "待定"),
    ("repeat_rate", "重复来电率"),
    ("flags", "标记"),
];

fn number(x: Option<f64>) -> String {
    x.map(|x| x.to_string()).unwrap_or_default()
}

/// Spreadsheets run a cell that starts with one of these as a formula.
fn defuse(text: &str) -> String {
    match text.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

/// The cells of `r` from `aht_ms` to `adherence`, with the counts between
/// given by `counts` (`None`: the median row, whose counts are empty).
fn ratio_cells(r: &Ratios, counts: Option<[u64; 6]>) -> Vec<String> {
    let c = |i: usize| counts.map(|c| c[i].to_string()).unwrap_or_default();
    vec![
        number(r.aht_ms),
        number(r.avg_talk_ms),
        number(r.avg_hold_ms),
        number(r.avg_acw_ms),
        c(0),
        number(r.transfer_rate),
        number(r.occupancy),
        number(r.adherence),
        c(1),
        number(r.csat),
        number(r.csat_mean),
        c(2),
        number(r.qa_score),
        c(3),
        c(4),
        c(5),
        number(r.repeat_rate),
    ]
}

fn median_row(m: &TeamMedian) -> Vec<String> {
    let mut row = vec!["median".to_owned(), String::new(), number(m.handled)];
    row.extend(ratio_cells(&m.ratios, None));
    row.push(String::new());
    row
}

fn agent_row(a: &AgentScore) -> Vec<String> {
    let m = &a.metrics;
    let counts = [
        m.transferred,
        m.surveys,
        m.qa_evaluations,
        m.repeat_eligible,
        m.repeat_contacts,
        m.repeat_pending,
    ];
    let mut row = vec!["agent".to_owned(), defuse(&a.agent), m.handled.to_string()];
    row.extend(ratio_cells(&m.ratios, Some(counts)));
    let flags: Vec<String> = Metric::ALL
        .iter()
        .filter_map(|metric| {
            a.flags.get(metric.name()).map(|f| {
                let side = match f {
                    Flag::High => "high",
                    Flag::Low => "low",
                };
                format!("{}:{side}", metric.name())
            })
        })
        .collect();
    row.push(flags.join(";"));
    row
}

/// The scorecard as CSV bytes.
#[must_use]
pub fn to_csv(card: &Scorecard, lang: Lang) -> Vec<u8> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        let headers = HEADERS.iter().map(|(en, zh)| match lang {
            Lang::En => *en,
            Lang::ZhCn => *zh,
        });
        // Writing to a Vec cannot fail.
        w.write_record(headers).expect("write to memory");
        w.write_record(median_row(&card.team_median))
            .expect("write to memory");
        for a in &card.agents {
            w.write_record(agent_row(a)).expect("write to memory");
        }
        w.flush().expect("write to memory");
    }
    out
}

/// The CSV scorecard as an HTTP response: a download named after the
/// tenant and period.
#[must_use]
pub fn csv_response(card: &Scorecard, lang: Lang) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    use axum::response::IntoResponse;
    let name = format!(
        "attachment; filename=\"wallboard-scorecard-{}-{}.csv\"",
        card.tenant,
        card.period.as_str()
    );
    let disposition = HeaderValue::from_str(&name).unwrap_or_else(|_| {
        HeaderValue::from_static("attachment; filename=\"wallboard-scorecard.csv\"")
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
        to_csv(card, lang),
    )
        .into_response()
}
