//! The bodies of `survey_result` and `quality_evaluation` (`events.md`,
//! "Surveys and quality evaluations").

use std::borrow::Cow;

use serde::Serialize;

use crate::event::{is_default, owned};

/// The widest survey scale: `0 ≤ scale_min < scale_max ≤ MAX_SURVEY_SCALE`.
pub const MAX_SURVEY_SCALE: u32 = 100;

/// The highest quality evaluation score.
pub const MAX_QA_SCORE: u32 = 100;

/// A customer's answer to a post-call survey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SurveyResult<'a> {
    /// The call the survey is about.
    pub call: Cow<'a, str>,
    /// The agent who handled it.
    pub agent: Cow<'a, str>,
    /// The queue it was handled for.
    pub queue: Cow<'a, str>,
    /// The answer, `scale_min..=scale_max`.
    pub score: u32,
    /// The lowest answer of the survey's scale.
    pub scale_min: u32,
    /// The highest answer of the survey's scale (above `scale_min`, at most
    /// [`MAX_SURVEY_SCALE`]).
    pub scale_max: u32,
    /// Code of the comment category, if the customer left one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<Cow<'a, str>>,
}

/// A quality evaluator's score of how an agent handled a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QualityEvaluation<'a> {
    /// The call evaluated.
    pub call: Cow<'a, str>,
    /// The agent evaluated.
    pub agent: Cow<'a, str>,
    /// The queue the call was handled for.
    pub queue: Cow<'a, str>,
    /// Who evaluated.
    pub evaluator: Cow<'a, str>,
    /// The score, `0..=100` ([`MAX_QA_SCORE`]).
    pub score: u32,
    /// A fatal error was found: the evaluation counts as 0.
    #[serde(skip_serializing_if = "is_default")]
    pub fatal: bool,
}

impl SurveyResult<'_> {
    pub(crate) fn into_owned(self) -> SurveyResult<'static> {
        SurveyResult {
            call: owned(self.call),
            agent: owned(self.agent),
            queue: owned(self.queue),
            score: self.score,
            scale_min: self.scale_min,
            scale_max: self.scale_max,
            comment: self.comment.map(owned),
        }
    }
}

impl QualityEvaluation<'_> {
    pub(crate) fn into_owned(self) -> QualityEvaluation<'static> {
        QualityEvaluation {
            call: owned(self.call),
            agent: owned(self.agent),
            queue: owned(self.queue),
            evaluator: owned(self.evaluator),
            score: self.score,
            fatal: self.fatal,
        }
    }

    /// The score the evaluation counts with: 0 when fatal.
    #[must_use]
    pub fn effective_score(&self) -> u32 {
        if self.fatal {
            0
        } else {
            self.score
        }
    }
}
