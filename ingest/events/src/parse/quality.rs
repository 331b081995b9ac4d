//! Parsing of `survey_result` and `quality_evaluation` bodies and of the
//! optional caller key (`events.md`, "Surveys and quality evaluations").

use std::borrow::Cow;

use super::{ident, int, wrong_type, EventError, Loose, RawEvent, Res, F, MAX_ID};
use crate::quality::{QualityEvaluation, SurveyResult, MAX_QA_SCORE, MAX_SURVEY_SCALE};

impl<'a> RawEvent<'a> {
    /// An optional identifier field.
    pub(super) fn opt_id(&mut self, f: F) -> Res<Option<Cow<'a, str>>> {
        self.optional(f)
            .map(|v| ident(v, f.name(), MAX_ID))
            .transpose()
    }

    /// A required integer field within `0..=max`.
    fn bounded(&mut self, f: F, max: u32) -> Res<u32> {
        let n = int(self.required(f)?, f.name())?;
        u32::try_from(n)
            .ok()
            .filter(|&n| n <= max)
            .ok_or_else(|| EventError::field_err(f.name(), format!("{n} is not in 0..={max}")))
    }

    /// A `survey_result` body: the score lies on the declared scale.
    pub(super) fn survey_result(&mut self) -> Res<SurveyResult<'a>> {
        let call = self.id_field(F::Call)?;
        let agent = self.id_field(F::Agent)?;
        let queue = self.id_field(F::Queue)?;
        let scale_min = self.bounded(F::ScaleMin, MAX_SURVEY_SCALE)?;
        let scale_max = self.bounded(F::ScaleMax, MAX_SURVEY_SCALE)?;
        if scale_max <= scale_min {
            return Err(EventError::field_err(
                "scale_max",
                format!("{scale_max} is not above scale_min {scale_min}"),
            ));
        }
        let score = self.bounded(F::Score, MAX_SURVEY_SCALE)?;
        if !(scale_min..=scale_max).contains(&score) {
            return Err(EventError::field_err(
                "score",
                format!("{score} is outside the scale {scale_min}..={scale_max}"),
            ));
        }
        Ok(SurveyResult {
            call,
            agent,
            queue,
            score,
            scale_min,
            scale_max,
            comment: self.opt_id(F::Comment)?,
        })
    }

    /// A `quality_evaluation` body.
    pub(super) fn quality_evaluation(&mut self) -> Res<QualityEvaluation<'a>> {
        let call = self.id_field(F::Call)?;
        let agent = self.id_field(F::Agent)?;
        let queue = self.id_field(F::Queue)?;
        let evaluator = self.id_field(F::Evaluator)?;
        let score = self.bounded(F::Score, MAX_QA_SCORE)?;
        let fatal = match self.optional(F::Fatal) {
            None => false,
            Some(Loose::Bool(b)) => b,
            Some(other) => return Err(wrong_type("fatal", "a boolean", &other)),
        };
        Ok(QualityEvaluation {
            call,
            agent,
            queue,
            evaluator,
            score,
            fatal,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{parse_event_str, EventBody, EventError};

    fn field_of(line: &str) -> (&'static str, String) {
        match parse_event_str(line) {
            Err(EventError::Field { field, reason }) => (field, reason),
            other => panic!("{line}: {other:?}"),
        }
    }

    const SURVEY: &str =
        r#"{"v":1,"id":"s","ts":1,"kind":"survey_result","call":"c","agent":"a","queue":"q","#;

    #[test]
    fn a_survey_round_trips_and_its_scale_is_checked() {
        let line = format!(r#"{SURVEY}"score":4,"scale_min":1,"scale_max":5,"comment":"solved"}}"#);
        let e = parse_event_str(&line).unwrap();
        let EventBody::SurveyResult(s) = &e.body else {
            panic!("{e:?}")
        };
        assert_eq!((s.score, s.scale_min, s.scale_max), (4, 1, 5));
        assert_eq!(parse_event_str(&e.to_json()).unwrap(), e);
        let bad = |rest: &str| field_of(&format!("{SURVEY}{rest}}}"));
        assert_eq!(bad(r#""score":6,"scale_min":1,"scale_max":5"#).0, "score");
        assert_eq!(bad(r#""score":0,"scale_min":1,"scale_max":5"#).0, "score");
        assert_eq!(
            bad(r#""score":3,"scale_min":5,"scale_max":5"#).0,
            "scale_max"
        );
        assert_eq!(
            bad(r#""score":3,"scale_min":-1,"scale_max":5"#).0,
            "scale_min"
        );
        assert_eq!(
            bad(r#""score":3,"scale_min":1,"scale_max":101"#).0,
            "scale_max"
        );
        assert_eq!(bad(r#""scale_min":1,"scale_max":5"#).0, "score");
        assert_eq!(
            bad(r#""score":3,"scale_min":1,"scale_max":5,"comment":"""#).0,
            "comment"
        );
    }

    #[test]
    fn an_evaluation_round_trips_and_fatal_counts_zero() {
        let line = r#"{"v":1,"id":"e","ts":1,"kind":"quality_evaluation","call":"c","agent":"a","queue":"q","evaluator":"x","score":90,"fatal":true}"#;
        let e = parse_event_str(line).unwrap();
        let EventBody::QualityEvaluation(q) = &e.body else {
            panic!("{e:?}")
        };
        assert_eq!((q.score, q.effective_score()), (90, 0));
        assert_eq!(parse_event_str(&e.to_json()).unwrap(), e);
        let over = line.replace("90", "101");
        assert_eq!(field_of(&over).0, "score");
        let no_evaluator = line.replace(r#""evaluator":"x","#, "");
        assert_eq!(field_of(&no_evaluator).0, "evaluator");
        let fatal_text = line.replace("true", r#""yes""#);
        assert_eq!(field_of(&fatal_text).0, "fatal");
    }

    #[test]
    fn the_caller_key_is_an_optional_identifier() {
        let q = r#"{"v":1,"id":"q","ts":1,"kind":"call_queued","call":"c","queue":"q""#;
        let with = format!(r#"{q},"caller":"k1"}}"#);
        let e = parse_event_str(&with).unwrap();
        let EventBody::CallQueued { caller, .. } = &e.body else {
            panic!()
        };
        assert_eq!(caller.as_deref(), Some("k1"));
        assert!(e.to_json().contains(r#""caller":"k1""#));
        let without = format!("{q}}}");
        let none = parse_event_str(&without).unwrap();
        assert!(!none.to_json().contains("caller"));
        assert_eq!(field_of(&format!(r#"{q},"caller":""}}"#)).0, "caller");
    }
}
