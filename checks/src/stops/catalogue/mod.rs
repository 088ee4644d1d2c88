//! The stop-text catalogue: every fragment of a `stoppedReason` or a
//! container `reason` that ecs-doctor knows, in two tables.
//!
//! [`KINDS`] says what a text is about, most specific first: the first row
//! that matches is the text's kind, and each kind belongs to one family.
//! [`DETAILS`] lists the specific facts a text may state (an image that does
//! not exist, a registry that refused the credentials, a connection that
//! timed out); a text has every detail whose fragments it contains, so the
//! check that judges that fact reads it from here and keeps no list of its own.
//!
//! Every fragment is lower case and matched after
//! [`normalize`](crate::text::normalize) (straight apostrophes, collapsed
//! white space), so re-worded, re-cased and truncated messages still land.

mod details;
mod kinds;
mod placement;

pub use details::DETAILS;
pub use kinds::KINDS;
pub use placement::{shortage, ShortageRow, SHORTAGES};

use super::chain::{Domain, Outcome, Reading};
use super::{Detail, StopKind};

/// One row of [`KINDS`]: the kind and the fragments that identify it.
pub struct Pattern {
    pub kind: StopKind,
    /// Lower-case fragments; any one of them identifies the kind.
    pub any: &'static [&'static str],
    /// Lower-case fragments of which one must also be present (empty: none needed).
    pub with: &'static [&'static str],
}

/// One row of [`DETAILS`].
pub struct DetailPattern {
    pub detail: Detail,
    /// Lower-case fragments; any one of them states the detail.
    pub any: &'static [&'static str],
    /// Fragments of which one must also be present (empty: none needed).
    pub with: &'static [&'static str],
    /// Fragments none of which may be present (empty: none excluded).
    pub without: &'static [&'static str],
    /// What the text's structure must say (see [`super::chain`]).
    pub gate: Gate,
}

/// What a text's structure must say for a row to hold: its innermost
/// outcome, the area of the failing step, an outcome it must not end on.
/// Empty lists constrain nothing; a row with no fragments is read from the
/// structure alone.
pub struct Gate {
    pub outcomes: &'static [Outcome],
    pub domains: &'static [Domain],
    pub not_outcomes: &'static [Outcome],
}

impl Gate {
    /// No constraint: the fragments decide.
    pub const ANY: Gate = Gate {
        outcomes: &[],
        domains: &[],
        not_outcomes: &[],
    };

    pub const fn ends(outcomes: &'static [Outcome], domains: &'static [Domain]) -> Gate {
        Gate {
            outcomes,
            domains,
            not_outcomes: &[],
        }
    }

    pub const fn about(domains: &'static [Domain]) -> Gate {
        Gate {
            outcomes: &[],
            domains,
            not_outcomes: &[],
        }
    }

    /// With outcomes, the domains constrain the innermost link's area (the
    /// thing that was not found or refused); without, any area the text names.
    pub fn holds(&self, r: &Reading) -> bool {
        let within = |list: &[Outcome]| r.outcome.is_some_and(|o| list.contains(&o));
        let area = if self.outcomes.is_empty() {
            r.areas.iter().any(|d| self.domains.contains(d))
        } else {
            r.domain.is_some_and(|d| self.domains.contains(&d))
        };
        (self.outcomes.is_empty() || within(self.outcomes))
            && (self.domains.is_empty() || area)
            && !within(self.not_outcomes)
    }
}

/// RunTask's documented failure reasons that are whole words: a text that
/// is exactly one of them is a placement failure (`RESOURCE:*` and `AGENT`
/// are matched as fragments above).
pub const RUNTASK_REASONS: &[&str] = &["location", "attribute"];
