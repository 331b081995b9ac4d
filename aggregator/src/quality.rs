//! CSAT, QA and repeat-contact sums (`metrics.md`, "Repeat contacts and
//! FCR", "CSAT and QA"): per queue and agent, per interval, kept beside the
//! engine's [`crate::tenant::Bucket`]s so reports without these events keep
//! their shape and snapshots of earlier versions still load.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use wallboard_events::{QualityEvaluation, SurveyResult};

use crate::intern::{slot, AgentId, DenseId, QueueId};
use crate::repeat::RepeatTracker;
use crate::time::IntervalStart;

/// A normalised survey score of 100, in the millionths the sums keep.
const FULL_SCORE_MICROS: u64 = 100_000_000;

/// The sums of one queue or agent in one interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualitySums {
    /// `survey_result` events.
    pub surveys: u64,
    /// Of them, top-box answers.
    pub csat_top_box: u64,
    /// Σ normalised scores (0–100 each), in millionths.
    pub csat_score_micros: u64,
    /// `quality_evaluation` events.
    pub qa_evaluations: u64,
    /// Of them, fatal ones.
    pub qa_fatal: u64,
    /// Σ effective scores (a fatal evaluation counts 0).
    pub qa_score_sum: u64,
    /// Handled calls with a caller key.
    pub repeat_eligible: u64,
    /// Of them, repeat contacts found so far.
    pub repeat_contacts: u64,
}

impl QualitySums {
    /// Counts one survey answer.
    pub fn add_survey(&mut self, s: &SurveyResult<'_>) {
        self.surveys += 1;
        self.csat_top_box += u64::from(is_top_box(s.score, s.scale_min, s.scale_max));
        self.csat_score_micros += normalised_micros(s.score, s.scale_min, s.scale_max);
    }

    /// Counts one quality evaluation.
    pub fn add_evaluation(&mut self, q: &QualityEvaluation<'_>) {
        self.qa_evaluations += 1;
        self.qa_fatal += u64::from(q.fatal);
        self.qa_score_sum += u64::from(q.effective_score());
    }

    /// Adds `o` to these sums.
    pub fn add(&mut self, o: &QualitySums) {
        self.surveys += o.surveys;
        self.csat_top_box += o.csat_top_box;
        self.csat_score_micros += o.csat_score_micros;
        self.qa_evaluations += o.qa_evaluations;
        self.qa_fatal += o.qa_fatal;
        self.qa_score_sum += o.qa_score_sum;
        self.repeat_eligible += o.repeat_eligible;
        self.repeat_contacts += o.repeat_contacts;
    }

    /// Whether anything was counted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.surveys == 0 && self.qa_evaluations == 0 && self.repeat_eligible == 0
    }
}

/// Whether `score` is a top-box answer on `[min, max]`: the top score of
/// scales of up to 4 points, the top two of 5 points or more.
#[must_use]
pub fn is_top_box(score: u32, min: u32, max: u32) -> bool {
    let points = max - min + 1;
    if points >= 5 {
        score + 1 >= max
    } else {
        score == max
    }
}

/// `100 × (score − min) / (max − min)` in millionths, rounded half away
/// from zero (integer arithmetic, so every program gets the same sum).
#[must_use]
pub fn normalised_micros(score: u32, min: u32, max: u32) -> u64 {
    let (num, den) = (u64::from(score - min), u64::from(max - min));
    (2 * FULL_SCORE_MICROS * num + den) / (2 * den)
}

/// The sums of one interval, by queue and by agent.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct QualityBucket {
    /// By queue id.
    pub queues: Vec<QualitySums>,
    /// By agent id.
    pub agents: Vec<QualitySums>,
}

impl QualityBucket {
    /// Applies `f` to the sums of queue `q` and agent `a`.
    pub fn update(&mut self, q: QueueId, a: AgentId, f: impl Fn(&mut QualitySums)) {
        f(slot(&mut self.queues, q));
        f(slot(&mut self.agents, a));
    }

    /// The sums of queue `q` (zero when none).
    #[must_use]
    pub fn queue(&self, q: QueueId) -> QualitySums {
        self.queues.get(q.index()).copied().unwrap_or_default()
    }

    /// The sums of agent `a` (zero when none).
    #[must_use]
    pub fn agent(&self, a: AgentId) -> QualitySums {
        self.agents.get(a.index()).copied().unwrap_or_default()
    }

    /// The whole tenant's sums: the sum over its queues.
    #[must_use]
    pub fn tenant(&self) -> QualitySums {
        let mut t = QualitySums::default();
        for q in &self.queues {
            t.add(q);
        }
        t
    }
}

/// Everything a tenant keeps for CSAT, QA and repeat contacts: part of its
/// durable snapshot (`Engine::to_bytes`, after the engine's own state).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct QualityState {
    /// Interval sums kept for the history, by interval start.
    pub buckets: BTreeMap<IntervalStart, QualityBucket>,
    /// Since the engine started, never dropped (`/metrics`).
    pub totals: QualityBucket,
    /// Repeat detection.
    pub repeat: RepeatTracker,
}

impl QualityState {
    /// Whether nothing was ever counted or tracked (not worth storing).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty() && self.totals.queues.is_empty() && self.repeat.is_empty()
    }

    /// Drops the intervals older than `keep_from`.
    pub fn forget_before(&mut self, keep_from: IntervalStart) {
        if self
            .buckets
            .first_key_value()
            .is_some_and(|(k, _)| *k < keep_from)
        {
            self.buckets = self.buckets.split_off(&keep_from);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_box_is_the_top_score_or_the_top_two_of_five_points() {
        assert!(is_top_box(5, 1, 5) && is_top_box(4, 1, 5) && !is_top_box(3, 1, 5));
        assert!(is_top_box(10, 0, 10) && is_top_box(9, 0, 10) && !is_top_box(8, 0, 10));
        assert!(is_top_box(4, 1, 4) && !is_top_box(3, 1, 4));
        assert!(is_top_box(1, 0, 1) && !is_top_box(0, 0, 1));
    }

    #[test]
    fn scores_are_normalised_to_0_100_in_millionths() {
        assert_eq!(normalised_micros(4, 1, 5), 75_000_000);
        assert_eq!(normalised_micros(7, 0, 10), 70_000_000);
        assert_eq!(normalised_micros(1, 1, 5), 0);
        assert_eq!(normalised_micros(5, 1, 5), FULL_SCORE_MICROS);
        // 2 of 1–7: 16.666 666 6… rounds to 16.666 667.
        assert_eq!(normalised_micros(2, 1, 7), 16_666_667);
        // 1 of 0–8: 12.5 exactly.
        assert_eq!(normalised_micros(1, 0, 8), 12_500_000);
    }
}
