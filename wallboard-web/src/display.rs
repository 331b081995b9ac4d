//! What the TV wall shows besides the numbers: colour bands, paging, named
//! boards, agent names and reason labels. The configuration is sent once to
//! each WebSocket client when it connects (`{"type": "display", …}`); the
//! page colours, orders and pages from it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::config::{AppConfig, QueueTarget};

/// A "higher is worse" colour band: amber at or above `amber`, red at or
/// above `red`, green below `amber`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    /// Value from which the colour is amber, in the metric's unit.
    pub amber: f64,
    /// Value from which the colour is red, in the metric's unit.
    pub red: f64,
}

impl Band {
    const fn new(amber: f64, red: f64) -> Self {
        Band { amber, red }
    }
}

/// Where the "All queues" tile goes on a board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AllQueues {
    /// Before the queue tiles.
    #[default]
    First,
    /// After the queue tiles.
    Last,
    /// Not shown.
    Hidden,
}

/// What a board shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// Tiles, the intraday chart and the agents.
    Full,
    /// Queue tiles only.
    Tiles,
    /// Agent cards only.
    Agents,
    /// The intraday service-level chart only.
    Chart,
}

/// Limits of time in state (seconds) for the agent cards.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StateLimits {
    /// Seconds ringing before the card turns amber / red.
    pub ringing: Band,
    /// Seconds on a call before the card turns amber / red.
    pub on_call: Band,
    /// Seconds in after-call work before the card turns amber / red.
    pub acw: Band,
    /// Seconds not ready before the card turns amber / red.
    pub not_ready: Band,
}

impl Default for StateLimits {
    fn default() -> Self {
        StateLimits {
            ringing: Band::new(10.0, 20.0),
            on_call: Band::new(600.0, 1200.0),
            acw: Band::new(60.0, 180.0),
            not_ready: Band::new(300.0, 900.0),
        }
    }
}

/// `[display]`: defaults of every board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DisplayConfig {
    /// Seconds each page shows when a board has more than fits legibly.
    pub page_s: u32,
    /// Where the "All queues" tile goes.
    pub all_queues: AllQueues,
    /// Colour limits of time in state on agent cards, seconds.
    pub state_limits_s: StateLimits,
    /// Chime on a new critical alert or floor message (boards may also ask
    /// with `sound=1`).
    pub sound: bool,
}

impl Default for DisplayConfig {
    fn default() -> Self {
        DisplayConfig {
            page_s: 15,
            all_queues: AllQueues::First,
            state_limits_s: StateLimits::default(),
            sound: false,
        }
    }
}

/// `[[boards]]`: a named board, opened by `/?board=NAME`. Unset options
/// fall back to the URL, then to `[display]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Board {
    /// Board name, as in `/?board=NAME`.
    pub name: String,
    /// Queues in the order shown; empty: every queue.
    #[serde(default)]
    pub queues: Vec<String>,
    /// What the board shows.
    pub layout: Option<Layout>,
    /// Seconds per page.
    pub page_s: Option<u32>,
    /// Where the "All queues" tile goes.
    pub all_queues: Option<AllQueues>,
    /// Chime on a new critical alert.
    pub sound: Option<bool>,
    /// Small agent cards (300+ agents on one 4K screen).
    pub compact: Option<bool>,
    /// Only agents of these teams; empty: all.
    #[serde(default)]
    pub teams: Vec<String>,
}

/// `[[agents]]`: how an agent id is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentInfo {
    /// Agent id as in the events.
    pub id: String,
    /// Name shown instead of the id.
    pub name: Option<String>,
    /// Team, for boards that show only some teams.
    pub team: Option<String>,
}

/// `[[reasons]]`: a not-ready reason code's label per language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonLabel {
    /// Reason code as in `agent_state` events.
    pub code: String,
    /// Label per UI language (`en`, `zh-CN`).
    pub labels: BTreeMap<String, String>,
}

/// Configuration of the display that makes no sense.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DisplayError {
    /// A band whose `amber` is above its `red`.
    #[error("{key}: amber ({amber}) must not be above red ({red})")]
    Band {
        /// The setting's key.
        key: String,
        /// Its `amber` value.
        amber: f64,
        /// Its `red` value.
        red: f64,
    },
    /// A page time under 3 seconds.
    #[error("{key}: a page must show for at least 3 s (got {got})")]
    PageTooShort {
        /// The setting's key.
        key: String,
        /// The page time given, seconds.
        got: u32,
    },
    /// Two boards with the same name, or one without a name.
    #[error("boards: {name:?} is defined twice, or has no name")]
    BoardName {
        /// The repeated (or empty) name.
        name: String,
    },
    /// A queue's `sl_amber` outside 0..=1.
    #[error("queues: {name}.sl_amber ({got}) must be within 0..=1")]
    SlAmber {
        /// The queue's name.
        name: String,
        /// The value given.
        got: f64,
    },
}

/// Refuses bands, pages and boards that make no sense, naming the key.
pub fn validate(config: &AppConfig) -> Result<(), DisplayError> {
    let band = |key: String, b: &Band| {
        if b.amber > b.red || !b.amber.is_finite() || !b.red.is_finite() {
            return Err(DisplayError::Band {
                key,
                amber: b.amber,
                red: b.red,
            });
        }
        Ok(())
    };
    for q in &config.queues {
        let bands = [
            ("waiting", &q.waiting),
            ("longest_wait_s", &q.longest_wait_s),
            ("asa_s", &q.asa_s),
            ("abandon_rate", &q.abandon_rate),
        ];
        for (key, b) in bands {
            if let Some(b) = b {
                band(format!("queues: {}.{key}", q.name), b)?;
            }
        }
        if !(0.0..=1.0).contains(&q.sl_amber) {
            return Err(DisplayError::SlAmber {
                name: q.name.clone(),
                got: q.sl_amber,
            });
        }
    }
    let l = &config.display.state_limits_s;
    for (key, b) in [
        ("ringing", &l.ringing),
        ("on_call", &l.on_call),
        ("acw", &l.acw),
        ("not_ready", &l.not_ready),
    ] {
        band(format!("display.state_limits_s.{key}"), b)?;
    }
    page("display.page_s".into(), Some(config.display.page_s))?;
    let mut names = BTreeSet::new();
    for b in &config.boards {
        if b.name.is_empty() || !names.insert(b.name.as_str()) {
            return Err(DisplayError::BoardName {
                name: b.name.clone(),
            });
        }
        page(format!("boards: {}.page_s", b.name), b.page_s)?;
    }
    Ok(())
}

fn page(key: String, page_s: Option<u32>) -> Result<(), DisplayError> {
    match page_s {
        Some(got) if got < 3 => Err(DisplayError::PageTooShort { key, got }),
        _ => Ok(()),
    }
}

/// The first WebSocket message: everything the page needs to lay out.
#[derive(Serialize)]
pub struct DisplayPush<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    display: &'a DisplayConfig,
    boards: &'a [Board],
    /// Configured queues, in `[[queues]]` order (the page sorts by `order`).
    queues: &'a [QueueTarget],
    agents: &'a [AgentInfo],
    reasons: &'a [ReasonLabel],
}

impl<'a> DisplayPush<'a> {
    /// The display push of `config`'s display settings.
    #[must_use]
    pub fn new(config: &'a AppConfig) -> Self {
        DisplayPush {
            kind: "display",
            display: &config.display,
            boards: &config.boards,
            queues: &config.queues,
            agents: &config.agents,
            reasons: &config.reasons,
        }
    }

    /// The display push for a client of `tenant`: its own queues, boards
    /// and agent names where it has them (`[[tenants]]`), so a tenant's
    /// board never carries another centre's names.
    #[must_use]
    pub fn of_tenant(config: &'a AppConfig, tenant: Option<&str>) -> Self {
        let view = config.tenant(tenant.unwrap_or_default());
        DisplayPush {
            boards: view.boards(),
            queues: view.queues(),
            agents: view.agents(),
            ..DisplayPush::new(config)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_pages_and_boards_that_make_no_sense_are_refused() {
        let mut c = AppConfig::default();
        assert_eq!(validate(&c), Ok(()));
        c.queues.push(QueueTarget {
            name: "sales".into(),
            waiting: Some(Band::new(5.0, 3.0)),
            ..Default::default()
        });
        let e = validate(&c).unwrap_err().to_string();
        assert!(e.contains("queues: sales.waiting"), "{e}");
        c.queues.clear();
        c.display.state_limits_s.acw = Band::new(200.0, 100.0);
        let e = validate(&c).unwrap_err().to_string();
        assert!(e.contains("display.state_limits_s.acw"), "{e}");
        c.display.state_limits_s = StateLimits::default();
        let board = |name: &str, page_s| Board {
            name: name.into(),
            queues: vec![],
            layout: None,
            page_s,
            all_queues: None,
            sound: None,
            compact: None,
            teams: vec![],
        };
        c.boards = vec![board("floor2", Some(1))];
        let e = validate(&c).unwrap_err().to_string();
        assert!(e.contains("boards: floor2.page_s"), "{e}");
        c.boards = vec![board("floor2", None), board("floor2", None)];
        assert!(matches!(validate(&c), Err(DisplayError::BoardName { .. })));
    }
}
