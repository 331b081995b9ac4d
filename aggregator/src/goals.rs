//! Each queue's service-level goal (`metrics.md`, "Live staffing"): the
//! variant and threshold it is judged by and the target to reach. It
//! decides what the live view and the report say about the sums, never the
//! sums themselves, so it is not part of the parameters' fingerprint.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::report::SlVariants;

/// The service-level variant a queue shows and alerts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SlVariant {
    /// Variant 1: abandons within the threshold count as met.
    Sl1,
    /// Variant 2: abandons ignored.
    Sl2,
    /// Variant 3: every abandon counts as missed (the default).
    #[default]
    Sl3,
    /// Variant 4: abandons within the threshold are left out.
    Sl4,
}

impl SlVariant {
    /// This variant's value among the four.
    #[must_use]
    pub fn pick(self, v: &SlVariants) -> Option<f64> {
        match self {
            SlVariant::Sl1 => v.sl1,
            SlVariant::Sl2 => v.sl2,
            SlVariant::Sl3 => v.sl3,
            SlVariant::Sl4 => v.sl4,
        }
    }
}

/// What a queue's service level is judged by.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QueueGoal {
    /// The service-level variant shown and alerted on.
    pub variant: SlVariant,
    /// The service-level threshold in seconds.
    pub threshold_s: u32,
    /// The target service level (0..1).
    pub target: f64,
}

impl QueueGoal {
    /// The goal's service level in a row's `sl` map (keyed by threshold).
    #[must_use]
    pub fn sl_of(&self, sl: &BTreeMap<String, SlVariants>) -> Option<f64> {
        self.variant.pick(sl.get(&self.threshold_s.to_string())?)
    }
}

/// The goals of a tenant's queues.
#[derive(Debug, Clone, PartialEq)]
pub struct Goals {
    /// For queues without their own, and for the whole tenant (`*`).
    pub default: QueueGoal,
    /// Queues with their own goal (`[[queues]]`), by name.
    pub by_queue: BTreeMap<String, QueueGoal>,
}

impl Goals {
    /// The default goal at `threshold_s`: 80 % in `sl3`.
    #[must_use]
    pub fn with_threshold(threshold_s: u32) -> Self {
        Goals {
            default: QueueGoal {
                variant: SlVariant::Sl3,
                threshold_s,
                target: 0.8,
            },
            by_queue: BTreeMap::new(),
        }
    }

    /// The goal of `queue` (`*`: the tenant's, the default).
    #[must_use]
    pub fn of(&self, queue: &str) -> &QueueGoal {
        self.by_queue.get(queue).unwrap_or(&self.default)
    }
}
