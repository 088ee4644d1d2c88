//! The cause catalogue: every root cause ecs-doctor can name.
//!
//! The codes themselves are rows of the table in [`crate::checks`]; this
//! module holds what is said about them as a whole.

use serde::{Deserialize, Serialize};
use strum::Display;

pub use crate::checks::Cause;

/// The failure family a cause belongs to (and the folder its check lives in).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Display, Serialize, Deserialize,
)]
#[strum(serialize_all = "kebab-case")]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    App,
    Image,
    Network,
    Storage,
    Platform,
    /// ECS Exec readiness (`ecs-doctor exec`), not why a task stopped.
    Exec,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}
