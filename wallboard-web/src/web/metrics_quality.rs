//! The `/metrics` series of repeat contacts, CSAT and QA (`metrics.md`,
//! "Repeat contacts and FCR", "CSAT and QA"): counters since the engine
//! started, per tenant and queue (and `*`), from 0 for every known queue.

use aggregator::quality::QualitySums;
use prometheus::IntCounterVec;
use wallboard_pipeline::TenantTotals;

use super::metrics::Families;

/// How a counter's value is read from the sums.
type Get = fn(&QualitySums) -> u64;

/// Name, help and value of each per-queue counter.
type QualityCounter = (&'static str, &'static str, Get);

const COUNTERS: &[QualityCounter] = &[
    ("wallboard_surveys_total", "survey_result events", |s| {
        s.surveys
    }),
    (
        "wallboard_csat_top_box_total",
        "top-box survey answers",
        |s| s.csat_top_box,
    ),
    (
        "wallboard_csat_score_micros_total",
        "sum of normalised survey scores (0-100 each), in millionths",
        |s| s.csat_score_micros,
    ),
    (
        "wallboard_qa_evaluations_total",
        "quality_evaluation events",
        |s| s.qa_evaluations,
    ),
    (
        "wallboard_qa_fatal_total",
        "fatal quality evaluations",
        |s| s.qa_fatal,
    ),
    (
        "wallboard_qa_score_sum_total",
        "sum of quality evaluation scores (fatal ones 0)",
        |s| s.qa_score_sum,
    ),
    (
        "wallboard_repeat_eligible_total",
        "handled calls with a caller key",
        |s| s.repeat_eligible,
    ),
    (
        "wallboard_repeat_contacts_total",
        "handled calls whose caller called again within the repeat window",
        |s| s.repeat_contacts,
    ),
];

/// Registers and fills the series.
pub(super) fn quality(f: &Families, totals: &[TenantTotals]) {
    let counters: Vec<(IntCounterVec, Get)> = COUNTERS
        .iter()
        .map(|&(name, help, get)| (f.counter(name, help, &["tenant", "queue"]), get))
        .collect();
    let untracked = f.counter(
        "wallboard_repeat_untracked_total",
        "caller contacts and handled calls not tracked for repeats (repeat_max_tracked)",
        &["tenant"],
    );
    for t in totals {
        let mut all = QualitySums::default();
        for (_, q) in &t.quality {
            all.add(q);
        }
        let rows = t.quality.iter().map(|(n, q)| (n.as_str(), q));
        for (queue, q) in rows.chain([("*", &all)]) {
            for (counter, get) in &counters {
                counter
                    .with_label_values(&[t.tenant.as_str(), queue])
                    .inc_by(get(q));
            }
        }
        untracked
            .with_label_values(&[t.tenant.as_str()])
            .inc_by(t.repeat_untracked);
    }
}
