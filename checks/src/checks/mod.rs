//! The checks, one per cause code, registered from the rows of the cause
//! table (`causes!` in [`crate::codes`]): each row names the check module
//! that reports its code, in its family's folder.
//!
//! Each check file documents its cause in its `//!` header in fixed
//! sections (what it detects / why it matters / example / how to fix /
//! references); the build script extracts those headers, and `ecs-doctor
//! explain <code>` prints them.

pub(crate) mod findings;

use crate::codes::Cause;
use crate::context::Ctx;
use crate::report::Verdict;

/// One registered check.
pub struct Check {
    pub code: Cause,
    pub run: fn(&Ctx) -> Verdict,
    /// `family/module`: the key of the check's docs.
    source: &'static str,
}

impl Check {
    /// `family/module`: where the check lives.
    pub fn key(&self) -> &'static str {
        self.source
    }

    /// The documentation from the check file's `//!` header.
    pub fn docs(&self) -> &'static str {
        CHECK_DOCS
            .iter()
            .find(|(key, _)| *key == self.source)
            .map(|(_, docs)| *docs)
            .unwrap_or_default()
    }
}

include!(concat!(env!("OUT_DIR"), "/check_docs.rs"));

macro_rules! define_checks {
    ($( $folder:ident / $family:ident {
        $( $code:ident => $module:ident $($benign:ident)? : $description:literal, )*
    } )*) => {
        $( pub(crate) mod $folder { $( pub(crate) mod $module; )* } )*

        /// Every check, in catalogue order.
        pub static CHECKS: &[Check] = &[
            $($( Check {
                code: Cause::$code,
                run: $folder::$module::check,
                source: concat!(stringify!($folder), "/", stringify!($module)),
            }, )*)*
        ];
    };
}

crate::codes::causes!(define_checks);

/// The check that reports `code`.
pub fn for_code(code: Cause) -> &'static Check {
    CHECKS
        .iter()
        .find(|c| c.code == code)
        .expect("every cause has a row, so every cause has a check")
}
