//! Callers, surveys and quality evaluations of the simulated centre
//! (`SimConfig::kpis`): a caller population in which about one handled
//! caller in eight calls again the same day, post-call surveys for a share
//! of handled calls and QA evaluations for a few. Drawn from their own
//! random stream, so the rest of the simulation is the same with or
//! without them.

use std::collections::{HashMap, VecDeque};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use wallboard_events::TimestampMs;

/// Chance that an arriving caller is one handled earlier (within a day).
const P_REPEAT: f64 = 0.13;
/// Chance that a handled call gets a survey answer.
const P_SURVEY: f64 = 0.3;
/// Chance that a handled call is evaluated.
const P_EVALUATION: f64 = 0.06;
/// Chance that an evaluation finds a fatal error.
const P_FATAL: f64 = 0.03;
/// Weights of the answers 1..=5 (top two boxes about 80 %).
const SURVEY_WEIGHTS: [f64; 5] = [0.04, 0.05, 0.11, 0.28, 0.52];
/// Handled callers remembered for repeats: a day of them, at most this many.
const RECENT_MAX: usize = 5000;
const DAY_MS: TimestampMs = 86_400_000;

/// What a completed call brings about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct AfterCall {
    /// A survey answer on the 1–5 scale.
    pub survey: Option<u32>,
    /// A QA score and whether it is fatal.
    pub evaluation: Option<(u32, bool)>,
}

/// The state of the simulated callers.
pub(super) struct KpiSim {
    rng: ChaCha8Rng,
    /// Caller key of each call in the centre.
    callers: HashMap<String, String>,
    /// Callers handled within the last day, oldest first.
    recent: VecDeque<(TimestampMs, String)>,
}

impl KpiSim {
    pub(super) fn new(seed: u64) -> Self {
        KpiSim {
            // Another stream than the simulation's own.
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x6b70_6973_5f63_7372),
            callers: HashMap::new(),
            recent: VecDeque::new(),
        }
    }

    /// The caller key of `call` (a call re-queued keeps its caller).
    pub(super) fn caller_of(&mut self, call: &str) -> String {
        if let Some(k) = self.callers.get(call) {
            return k.clone();
        }
        let key = if !self.recent.is_empty() && self.rng.gen_bool(P_REPEAT) {
            let i = self.rng.gen_range(0..self.recent.len());
            self.recent[i].1.clone()
        } else {
            format!("{:032x}", self.rng.gen::<u128>())
        };
        self.callers.insert(call.to_owned(), key.clone());
        key
    }

    /// `call` was completed at `now`: its caller may call again; maybe a
    /// survey and an evaluation follow.
    pub(super) fn completed(&mut self, call: &str, now: TimestampMs) -> AfterCall {
        if let Some(k) = self.callers.remove(call) {
            self.recent.push_back((now, k));
        }
        while self
            .recent
            .front()
            .is_some_and(|(t, _)| *t < now - DAY_MS || self.recent.len() > RECENT_MAX)
        {
            self.recent.pop_front();
        }
        let survey = self.rng.gen_bool(P_SURVEY).then(|| self.answer());
        let evaluation = self.rng.gen_bool(P_EVALUATION).then(|| {
            let score = self.rng.gen_range(62..=100);
            (score, self.rng.gen_bool(P_FATAL))
        });
        AfterCall { survey, evaluation }
    }

    /// A call that left without being handled: forgotten.
    pub(super) fn forget(&mut self, call: &str) {
        self.callers.remove(call);
    }

    fn answer(&mut self) -> u32 {
        let mut x = self.rng.gen::<f64>();
        for (i, w) in SURVEY_WEIGHTS.iter().enumerate() {
            if x < *w {
                return u32::try_from(i).expect("five answers") + 1;
            }
            x -= w;
        }
        5
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use wallboard_events::{Event, EventBody};

    use crate::simulate::{SimConfig, Simulator};

    fn day(kpis: bool) -> Vec<Event<'static>> {
        Simulator::new(SimConfig {
            agents: 40,
            hours: 10.0,
            kpis,
            ..SimConfig::default()
        })
        .collect()
    }

    #[test]
    fn kpis_add_callers_surveys_and_evaluations_and_change_nothing_else() {
        let (with, without) = (day(true), day(false));
        let mut stripped: Vec<Event<'static>> = with
            .iter()
            .filter(|e| {
                !matches!(
                    e.body,
                    EventBody::SurveyResult(_) | EventBody::QualityEvaluation(_)
                )
            })
            .cloned()
            .collect();
        for e in &mut stripped {
            if let EventBody::CallQueued { caller, .. } = &mut e.body {
                assert!(caller.as_ref().is_some_and(|k| k.len() == 32));
                *caller = None;
            }
        }
        assert_eq!(stripped, without);
        // Plausible shares: repeats by caller within the day, surveys of
        // handled calls, their top-box share, evaluations.
        let mut caller_of = HashMap::new();
        let mut first_call = HashMap::new();
        let (mut handled, mut surveys, mut top, mut evaluations) = (0u32, 0u32, 0u32, 0u32);
        let mut ids = HashSet::new();
        for e in &with {
            assert!(ids.insert(e.id.clone()), "id {} twice", e.id);
            match &e.body {
                EventBody::CallQueued {
                    call,
                    caller: Some(k),
                    ..
                } => {
                    caller_of.insert(call.clone(), k.clone());
                    first_call.entry(k.clone()).or_insert_with(|| call.clone());
                }
                EventBody::CallCompleted { .. } => handled += 1,
                EventBody::SurveyResult(s) => {
                    surveys += 1;
                    top += u32::from(s.score >= 4);
                }
                EventBody::QualityEvaluation(_) => evaluations += 1,
                _ => {}
            }
        }
        let calls = caller_of.len();
        let repeat_calls = caller_of
            .iter()
            .filter(|(c, k)| first_call[*k] != **c)
            .count();
        let share = |n: usize, of: usize| n as f64 / of as f64;
        assert!(
            (0.05..0.2).contains(&share(repeat_calls, calls)),
            "{repeat_calls} of {calls}"
        );
        assert!(
            (0.2..0.4).contains(&(f64::from(surveys) / f64::from(handled))),
            "{surveys} of {handled}"
        );
        assert!(
            (0.7..0.9).contains(&(f64::from(top) / f64::from(surveys))),
            "{top} of {surveys}"
        );
        assert!(
            evaluations > 0 && evaluations < handled / 8,
            "{evaluations} of {handled}"
        );
    }
}
