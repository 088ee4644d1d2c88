//! What every check reads: the evidence, and the facts derived from it once
//! per diagnosis (in the manner of cargo-deny's `CheckCtx`).
//!
//! Deriving a fact is the context's job, judging it is the checks': the
//! network paths are evaluated once, the execution role's access is decided
//! once, and every stop text is classified once, here, whatever number of
//! checks then read them.

use crate::evidence::Evidence;
use crate::iam::access::{self, Assessment};
use crate::reach::{self, NetworkPaths};
use crate::stops::StopTexts;

/// The evidence of one task and what was derived from it.
pub struct Ctx<'a> {
    pub ev: &'a Evidence,
    /// Every stop text of the task, each classified against the catalogue.
    pub stops: StopTexts,
    /// Every network path of the task, evaluated hop by hop.
    pub network: NetworkPaths,
    /// The execution role's access to what the task needs, or why it cannot be decided.
    pub role_access: Result<Assessment, String>,
}

impl<'a> Ctx<'a> {
    pub fn new(ev: &'a Evidence) -> Ctx<'a> {
        let stops = StopTexts::of(ev);
        Ctx {
            ev,
            network: reach::evaluate(ev, &stops),
            role_access: access::assess(ev),
            stops,
        }
    }
}
