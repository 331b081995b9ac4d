//! Which queues a row, an alert rule or a metric label is about: one queue,
//! or all of a tenant's queues together.
//!
//! The whole tenant is written `"*"` wherever a queue name may stand: the
//! `queue` field of live and report rows, an alert rule's `queue` key, the
//! `queue` label of `/metrics`, the `attainment` keys of a report
//! (`metrics.md`). [`QueueScope`] is that choice as a type: it reads and
//! writes exactly those strings, so the wire and configuration formats are
//! the strings they always were, and code matches on
//! [`QueueScope::All`] instead of comparing with `"*"`.
//!
//! A queue named `"*"` in an event is read as the tenant, as the string
//! always was: [`QueueScope::from`] is the one place that decides.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One queue, or the whole tenant (`"*"` on the wire).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum QueueScope {
    /// Every queue of the tenant: the tenant row, written `"*"`.
    #[default]
    All,
    /// The queue of this name.
    Queue(String),
}

impl QueueScope {
    /// How [`QueueScope::All`] is written.
    pub const ALL: &'static str = "*";

    /// The wire text: the queue's name, or `"*"`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            QueueScope::All => Self::ALL,
            QueueScope::Queue(name) => name,
        }
    }

    /// Whether `name`, read as a scope, is the whole tenant (without
    /// building the scope).
    #[must_use]
    pub fn is_all_name(name: &str) -> bool {
        name == Self::ALL
    }

    /// Whether this is the whole tenant.
    #[must_use]
    pub fn is_all(&self) -> bool {
        matches!(self, QueueScope::All)
    }
}

impl From<&str> for QueueScope {
    fn from(name: &str) -> Self {
        if Self::is_all_name(name) {
            QueueScope::All
        } else {
            QueueScope::Queue(name.to_owned())
        }
    }
}

impl From<String> for QueueScope {
    fn from(name: String) -> Self {
        if Self::is_all_name(&name) {
            QueueScope::All
        } else {
            QueueScope::Queue(name)
        }
    }
}

impl fmt::Display for QueueScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for QueueScope {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// Compares the wire text, so `scope == "*"` and `scope == "sales"` read
/// as they did when the field was a string.
impl PartialEq<str> for QueueScope {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for QueueScope {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for QueueScope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for QueueScope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(QueueScope::from)
    }
}

#[cfg(test)]
mod tests {
    use super::QueueScope;

    #[test]
    fn the_tenant_reads_and_writes_as_a_star() {
        let all: QueueScope = serde_json::from_str("\"*\"").unwrap();
        assert_eq!(all, QueueScope::All);
        assert_eq!(serde_json::to_string(&all).unwrap(), "\"*\"");
        let q: QueueScope = serde_json::from_str("\"sales\"").unwrap();
        assert_eq!(q, QueueScope::Queue("sales".into()));
        assert_eq!(serde_json::to_string(&q).unwrap(), "\"sales\"");
        assert_eq!(QueueScope::from("*"), QueueScope::All);
        assert!(QueueScope::default().is_all());
    }
}
