//! What a placement failure was short of, by its fragments: [`SHORTAGES`],
//! most specific first. Read for a stop text of the placement kind (by
//! `classify`) and for the scheduler's events (by the events catalogue).
//!
//! Texts: the service event messages
//! (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-event-messages-list.html>),
//! the API failure reasons
//! (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/api_failures_messages.html>),
//! and the real texts in the corpus.

use crate::placement::Shortage;

/// One row: the shortage and the fragments that state it.
pub struct ShortageRow {
    pub shortage: Shortage,
    pub any: &'static [&'static str],
}

/// Most specific first: the first row that matches is what was short.
pub const SHORTAGES: &[ShortageRow] = &[
    ShortageRow {
        shortage: Shortage::Quota,
        any: &["reached the limit on the number of", "is above your limit"],
    },
    ShortageRow {
        shortage: Shortage::FargateCapacity,
        any: &["capacity is unavailable", "resource:fargate"],
    },
    ShortageRow {
        shortage: Shortage::Eni,
        any: &["resource:eni"],
    },
    ShortageRow {
        shortage: Shortage::Ports,
        any: &["already using a port required", "resource:ports"],
    },
    ShortageRow {
        shortage: Shortage::Gpu,
        any: &["insufficient gpu", "resource:gpu"],
    },
    ShortageRow {
        shortage: Shortage::Cpu,
        any: &["insufficient cpu", "resource:cpu"],
    },
    ShortageRow {
        shortage: Shortage::Memory,
        any: &["insufficient memory", "resource:memory"],
    },
    ShortageRow {
        shortage: Shortage::NoInstances,
        any: &[
            "no container instances were found",
            "no active instances",
            "empty capacity provider",
        ],
    },
    ShortageRow {
        shortage: Shortage::Agent,
        any: &[
            "have the agent connected",
            "encountered error \"agent\"",
            "taskfailedtostart: agent",
        ],
    },
    ShortageRow {
        shortage: Shortage::Attribute,
        any: &[
            "missing an attribute required",
            "taskfailedtostart: attribute",
        ],
    },
    ShortageRow {
        shortage: Shortage::Constraint,
        any: &["placement constraint"],
    },
    ShortageRow {
        shortage: Shortage::Compatibility,
        any: &["not compatible with the selected compute"],
    },
];

/// RunTask's failure reasons that are one word, read whole.
const WHOLE: &[(&str, Shortage)] = &[
    ("agent", Shortage::Agent),
    ("attribute", Shortage::Attribute),
    ("location", Shortage::Location),
];

/// What a normalised (lower-case) placement text says was short.
pub fn shortage(normalized: &str) -> Option<Shortage> {
    if let Some((_, s)) = WHOLE.iter().find(|(w, _)| *w == normalized) {
        return Some(*s);
    }
    SHORTAGES
        .iter()
        .find(|row| row.any.iter().any(|f| normalized.contains(f)))
        .map(|row| row.shortage)
}
