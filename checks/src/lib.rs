//! ecs-doctor's judgement: the evidence model, one check per cause, the cause
//! catalogue and the ranking. No AWS SDK and no async here: checks are pure
//! functions over evidence, so they are tested with small fixtures.

pub mod access;
pub mod applog;
pub mod checks;
pub mod classify;
pub mod codes;
pub mod evidence;
#[cfg(test)]
mod image_fixtures;
pub mod image_ref;
pub mod logs;
#[cfg(test)]
mod netfixtures;
pub mod netpath;
pub mod permissions;
pub mod policy;
pub mod rank;
pub mod reach;
pub mod redact;
pub mod report;
pub mod stopclass;

#[cfg(test)]
pub(crate) mod fixtures;

pub use codes::{Cause, Family};
pub use evidence::{Evidence, Fact, Gap};
pub use report::{Candidate, CheckRecord, CheckStatus, Finding, Report, Strength, Verdict};

use serde::{Deserialize, Serialize};

/// The JSON report's schema version.
pub const SCHEMA_VERSION: u32 = 1;

/// Run every check over the evidence and rank what they found.
pub fn diagnose(ev: &Evidence, version: &str) -> Report {
    let mut findings = Vec::new();
    let mut records = Vec::new();
    for check in checks::CHECKS {
        let (status, detail) = match (check.run)(ev) {
            Verdict::Found(f) => {
                let detail = f.title.clone();
                findings.push(f);
                (CheckStatus::Fail, detail)
            }
            Verdict::Pass(d) => (CheckStatus::Pass, d),
            Verdict::Inconclusive(d) => (CheckStatus::Inconclusive, d),
            Verdict::Skipped(d) => (CheckStatus::Skipped, d),
        };
        records.push(CheckRecord {
            id: check.code.to_string(),
            status,
            detail,
        });
    }
    let network_paths = reach::report_paths(ev);
    let mut gaps = ev.gaps.clone();
    gaps.sort();
    gaps.dedup();
    let task = &ev.task;
    Report {
        schema_version: SCHEMA_VERSION,
        ecs_doctor_version: version.to_string(),
        task: report::TaskSummary {
            arn: task.arn.clone(),
            cluster: task
                .cluster_arn
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string(),
            region: ev.region.clone(),
            last_status: task.last_status.clone(),
            stop_code: task.stop_code.clone(),
            stopped_reason: task.stopped_reason.clone(),
            task_definition: Some(task.task_definition_arn.clone()).filter(|s| !s.is_empty()),
            service: ev.service_name().map(str::to_string),
            launch_type: task.launch_type.clone(),
            stopped_at: task.timestamps.stopped_at.clone(),
        },
        candidates: rank::rank(findings),
        checks: records,
        gaps,
        network_paths,
        logs: applog::excerpts(ev),
    }
}

/// The marker that says a JSON file is an ecs-doctor evidence bundle.
pub const BUNDLE_FORMAT: &str = "ecs-doctor-evidence";

/// Saved evidence (`--save-evidence`), replayable offline (`ecs-doctor replay`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    pub format: String,
    pub format_version: u32,
    /// The ecs-doctor version that collected it.
    pub ecs_doctor_version: String,
    pub collected_at: Option<String>,
    pub evidence: Evidence,
}

impl Bundle {
    pub fn new(evidence: Evidence, version: &str, collected_at: Option<String>) -> Self {
        Bundle {
            format: BUNDLE_FORMAT.to_string(),
            format_version: 1,
            ecs_doctor_version: version.to_string(),
            collected_at,
            evidence: redact::redact_serde(&evidence),
        }
    }
}

#[cfg(test)]
mod meta_tests {
    use super::*;
    use strum::IntoEnumIterator;

    const SECTIONS: &[&str] = &[
        "## What it detects",
        "## Why it matters",
        "## Example",
        "## How to fix",
        "## References",
    ];

    #[test]
    fn every_code_has_a_documented_check() {
        let mut missing = Vec::new();
        for code in Cause::iter() {
            match checks::for_code(code) {
                None => missing.push(format!("{code}: no check")),
                Some(check) => {
                    let docs = check.docs();
                    for s in SECTIONS {
                        if !docs.contains(s) {
                            missing.push(format!("{code}: docs lack `{s}`"));
                        }
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "undocumented codes:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn each_code_is_registered_once() {
        let mut seen = std::collections::HashSet::new();
        for c in checks::CHECKS {
            assert!(seen.insert(c.code), "{} registered twice", c.code);
        }
    }

    #[test]
    fn codes_round_trip_and_are_snapshotted() {
        let listing: Vec<String> = Cause::iter()
            .map(|c| {
                assert_eq!(c.as_str().parse::<Cause>().unwrap(), c);
                format!("{} [{}]: {}", c, c.family(), c.description())
            })
            .collect();
        insta::assert_snapshot!("cause_codes", listing.join("\n"));
    }
}
