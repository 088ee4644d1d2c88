//! ecs-doctor's judgement: the evidence model, one check per cause, the cause
//! catalogue and the ranking. No AWS SDK and no async here: checks are pure
//! functions over evidence, so they are tested with small fixtures.

pub mod arn;
pub mod checks;
pub mod codes;
pub mod context;
pub mod evidence;
pub mod exec;
#[cfg(test)]
mod fuzz;
pub mod iam;
pub mod image_ref;
pub(crate) mod lb;
pub mod logs;
pub mod placement;
pub mod question;
pub mod rank;
pub mod reach;
pub mod redact;
pub mod report;
pub mod restart;
pub mod stops;
pub mod sweep;
pub mod task;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod text;

pub use codes::{Cause, Family};
pub use context::Ctx;
pub use evidence::{Evidence, Fact, Gap};
pub use report::{
    Candidate, CheckRecord, CheckStatus, Conclusion, Finding, HealthChecks, Report, Strength,
    Verdict,
};

use serde::{Deserialize, Serialize};

/// The JSON report's schema version.
pub const SCHEMA_VERSION: u32 = 1;

/// Run every check over the evidence and rank what they found.
pub fn diagnose(ev: &Evidence, version: &str) -> Report {
    let ctx = Ctx::new(ev);
    let mut findings = Vec::new();
    let mut records = Vec::new();
    let spec = ev.purpose.spec();
    for check in checks::CHECKS.iter().filter(|c| ev.purpose.runs(c.code)) {
        let (status, detail) = match (check.run)(&ctx) {
            Verdict::Found(mut f) => {
                f.title = spec.wording.finding_title(&f.title);
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
    // A failed task never reads as healthy: what no check explained is unknown.
    let unexplained = if spec.explains_unexplained {
        checks::platform::unknown::unexplained_failure(&ctx, &findings, &records)
    } else {
        None
    };
    if let Some(f) = unexplained {
        if let Some(r) = records.iter_mut().find(|r| r.id == Cause::Unknown.as_str()) {
            r.status = CheckStatus::Fail;
            r.detail = f.title.clone();
        }
        findings.push(f);
    }
    let network_paths = reach::report_paths(&ctx.network, &ctx.stops);
    let mut gaps = ev.gaps.clone();
    gaps.sort();
    gaps.dedup();
    let summary = &ev.task;
    let candidates = rank::rank(findings);
    let verdict = Report::conclude(&candidates, &records);
    let next_step = if spec.next_step && verdict == Conclusion::NoFailure {
        crate::exec::command_line(ev)
    } else {
        None
    };
    Report {
        schema_version: SCHEMA_VERSION,
        purpose: ev.purpose,
        kind: ev.purpose,
        next_step,
        verdict,
        ecs_doctor_version: version.to_string(),
        task: report::TaskSummary {
            arn: summary.arn.clone(),
            cluster: task::cluster_name(ev).to_string(),
            region: ev.region.clone(),
            last_status: summary.last_status.clone(),
            stop_code: summary.stop_code.clone(),
            stopped_reason: summary.stopped_reason.clone(),
            task_definition: Some(summary.task_definition_arn.clone()).filter(|s| !s.is_empty()),
            service: ev.service_name().map(str::to_string),
            launch_type: summary.launch_type.clone(),
            stopped_at: summary.timestamps.stopped_at.clone(),
            source: ev.inputs.task_source.clone(),
        },
        candidates,
        checks: records,
        gaps,
        network_paths,
        logs: logs::excerpt::excerpts(ev),
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
            let docs = checks::for_code(code).docs();
            for s in SECTIONS {
                if !docs.contains(s) {
                    missing.push(format!("{code}: docs lack `{s}`"));
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

    #[test]
    fn an_exec_diagnosis_runs_the_exec_checks_only_and_a_ready_task_gets_the_command() {
        let report = diagnose(&testkit::exec::ready(), "test");
        assert!(
            report.checks.iter().all(|c| c.id.starts_with("exec-")),
            "{:?}",
            report.checks
        );
        assert_eq!(report.checks.len(), 5);
        assert_eq!(report.verdict, Conclusion::NoFailure, "{:?}", report.checks);
        let line = report.next_step.expect("the execute-command line");
        assert!(line.contains("--cluster prod --task 0123456789abcdef0123456789abcdef --container web --interactive"), "{line}");
        assert!(
            report
                .network_paths
                .iter()
                .any(|p| p.destination.contains("ssmmessages")),
            "{:?}",
            report.network_paths
        );

        let mut blocked = testkit::exec::ready();
        blocked.task.enable_execute_command = Some(false);
        let report = diagnose(&blocked, "test");
        assert_eq!(report.verdict, Conclusion::Failure);
        assert_eq!(report.next_step, None);
        assert_eq!(report.candidates[0].code, Cause::ExecNotEnabled);
    }

    #[test]
    fn a_clean_preflight_passes_and_each_breakage_will_fail_by_its_own_code() {
        use question::Question;
        let report = diagnose(&testkit::preflight::clean(), "test");
        let ids: Vec<&str> = report.checks.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), question::PREFLIGHT.len(), "{ids:?}");
        let not_passed: Vec<_> = report
            .checks
            .iter()
            .filter(|c| c.status != CheckStatus::Pass && c.status != CheckStatus::Skipped)
            .collect();
        assert!(not_passed.is_empty(), "{not_passed:#?}");
        assert_eq!(report.verdict, Conclusion::NoFailure);
        assert_eq!(report.purpose, Question::Preflight);

        type Breakage = fn(&mut Evidence);
        let breakages: Vec<(Cause, Breakage)> = vec![
            (Cause::ImageNotFound, |ev| {
                ev.images[0].ecr = Fact::gathered(testkit::image::ecr_image("v2", false))
            }),
            (Cause::LogGroupMissing, |ev| {
                ev.log_groups[0].group = Fact::absent("log group /ecs/web does not exist")
            }),
            (Cause::ExecutionRoleNotFound, |ev| {
                ev.execution_role = Fact::absent("role ecsTaskExecutionRole does not exist")
            }),
            (Cause::NoEgressRoute, |ev| {
                if let Some(tables) = ev.network.route_tables.value_mut() {
                    for t in tables.iter_mut() {
                        t.routes
                            .retain(|r| r.destination_cidr.as_deref() != Some("0.0.0.0/0"));
                    }
                }
            }),
            (Cause::TaskDefinitionInvalid, |ev| {
                if let Some(td) = ev.task_definition.value_mut() {
                    td.containers[0].memory = Some(4096);
                }
            }),
        ];
        for (cause, breakage) in breakages {
            let mut ev = testkit::preflight::clean();
            breakage(&mut ev);
            let report = diagnose(&ev, "test");
            assert_eq!(
                report.verdict,
                Conclusion::Failure,
                "{cause}: {:#?}",
                report.checks
            );
            let top = &report.candidates[0];
            assert_eq!(top.code, cause, "{:#?}", report.candidates);
            assert!(top.title.starts_with("Will fail: "), "{}", top.title);
        }
    }

    #[test]
    fn a_diagnosis_evaluates_the_network_and_the_role_once() {
        let worlds = [
            testkit::stopped("TaskFailedToStart", "CannotPullContainerError: pull image manifest has been retried 5 time(s): i/o timeout"),
            testkit::net::Fx::private_nat().ev(),
            testkit::net::Fx::public(false).running().ev(),
            testkit::image::healthy(),
            testkit::exec::ready(),
        ];
        for ev in worlds {
            let before = (reach::evaluations(), iam::access::assessments());
            let report = diagnose(&ev, "test");
            let after = (reach::evaluations(), iam::access::assessments());
            assert_eq!(
                (after.0 - before.0, after.1 - before.1),
                (1, 1),
                "network evaluations and role assessments for {:?}",
                report.task.stopped_reason
            );
        }
    }

    /// One real stop text of each kind, as AWS writes it.
    fn kind_example(kind: stops::StopKind) -> &'static str {
        use stops::StopKind::*;
        match kind {
            OutOfMemory => "OutOfMemoryError: Container killed due to memory usage",
            ImagePlatform => "CannotPullContainerError: image Manifest does not contain descriptor matching platform 'linux/arm64'",
            EfsMount => "ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: Failed to resolve \"fs-0123456789abcdef0.efs.us-east-1.amazonaws.com\" - check that your file system ID is correct, and ensure that the VPC has an EFS mount target for this file system ID.",
            DiskFull => "CannotPullContainerError: failed to register layer: write /usr/lib/x86_64-linux-gnu/libLLVM-15.so.1: no space left on device",
            EbsVolume => "ECS timed out while configuring the EBS volume attachment to your Task",
            ExecFailure => "CannotStartContainerError: OCI runtime create failed: runc create failed: unable to start container process: exec: \"gunicorn\": executable file not found in $PATH: unknown",
            MountFailure => "CannotStartContainerError: failed to create shim task: OCI runtime create failed: error mounting \"/var/lib/ecs/volumes/cfg\" to rootfs at \"/etc/app\": not a directory",
            VolumeCreate => "CannotCreateVolumeError: the agent can't create the volume",
            RuntimeTimeout => "DockerTimeoutError: Could not transition to created; timed out after waiting 4m0s",
            RuntimeError => "ContainerRuntimeError: failed to start container",
            ImagePull => "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v3: not found",
            TaskResources => "ResourceInitializationError: failed to initialize logging driver: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist.",
            Network => "Timeout waiting for network interface provisioning to complete.",
            Placement => "TaskFailedToStart: RESOURCE:MEMORY",
            ContainerHealth => "Task failed container health checks",
            ElbHealth => "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef)",
            Deployment => "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)",
            UserStop => "Task stopped by user",
            Spot => "Your Spot Task was interrupted.",
            Maintenance => "ECS is performing maintenance on the underlying infrastructure hosting the task",
            HostLifecycle => "Host EC2 (instance i-0123456789abcdef0) stopped/terminated",
            EssentialExited => "Essential container in task exited",
            FailedToStartBare => "Task failed to start",
        }
    }

    /// The stop code AWS pairs with a text of each kind.
    fn kind_stop_code(kind: stops::StopKind) -> &'static str {
        use stops::StopKind::*;
        match kind {
            Deployment | ContainerHealth | ElbHealth | Maintenance => "ServiceSchedulerInitiated",
            UserStop => "UserInitiated",
            Spot => "SpotInterruption",
            HostLifecycle => "InfrastructureHealth",
            EssentialExited | OutOfMemory => "EssentialContainerExited",
            _ => "TaskFailedToStart",
        }
    }

    #[test]
    fn every_stop_kind_is_claimed_by_exactly_the_checks_that_act_on_it() {
        use strum::IntoEnumIterator;
        let mut wrong = Vec::new();
        for kind in stops::StopKind::iter() {
            let text = kind_example(kind);
            if stops::classify(text).kind() != Some(kind) {
                wrong.push(format!(
                    "{kind:?}: its example classifies as {:?}",
                    stops::classify(text).kind()
                ));
                continue;
            }
            let claims = kind.claimed_by();
            if claims.is_empty() {
                wrong.push(format!("{kind:?}: no check claims it"));
            }
            // The task as AWS leaves it: the text, the stop code, the container outcome.
            let mut ev = testkit::stopped(kind_stop_code(kind), text);
            if kind == stops::StopKind::EssentialExited {
                ev = testkit::EvidenceExt::exit(ev, "web", Some(1), None);
            }
            if kind == stops::StopKind::OutOfMemory {
                ev = testkit::EvidenceExt::exit(ev, "web", Some(137), Some(text));
            }
            if kind == stops::StopKind::Spot {
                ev.task.capacity_provider_name = Some("FARGATE_SPOT".into());
            }
            let report = diagnose(&ev, "test");
            let status = |code: Cause| {
                report
                    .checks
                    .iter()
                    .find(|c| c.id == code.as_str())
                    .map(|c| c.status)
            };
            // A claimer acts on the text: it finds, or names what it lacks.
            if !claims.iter().any(|c| {
                matches!(
                    status(*c),
                    Some(CheckStatus::Fail | CheckStatus::Inconclusive)
                )
            }) {
                wrong.push(format!(
                    "{kind:?}: none of its claimers {claims:?} acted on {text:?}: {:?}",
                    claims.iter().map(|c| (c, status(*c))).collect::<Vec<_>>()
                ));
            }
            // No check outside the claimers convicts on the text alone.
            let others: Vec<Cause> = report
                .candidates
                .iter()
                .map(|c| c.code)
                .filter(|c| !claims.contains(c) && *c != Cause::Unknown)
                .filter(|c| {
                    !stops::classify(text)
                        .kinds
                        .iter()
                        .any(|k| k.claimed_by().contains(c))
                        && !stops::classify(text)
                            .details
                            .iter()
                            .any(|d| d.claimed_by().contains(c))
                })
                .collect();
            if !others.is_empty() {
                wrong.push(format!(
                    "{kind:?}: {others:?} found on {text:?} without claiming it"
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    /// The check files that read `Detail::<name>`, as `family/module`; the
    /// network evaluator's reads count for the checks that judge its paths.
    fn readers_of(detail: stops::Detail) -> Vec<Cause> {
        use strum::IntoEnumIterator;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let needle = format!("Detail::{detail:?}");
        let mut readers: Vec<Cause> = Cause::iter()
            .filter(|code| {
                let file = root.join("checks").join(format!(
                    "{}/{}.rs",
                    checks::for_code(*code)
                        .key()
                        .split('/')
                        .next()
                        .unwrap_or_default(),
                    code.as_str().replace('-', "_")
                ));
                std::fs::read_to_string(file).is_ok_and(|src| src.contains(&needle))
            })
            .collect();
        let evaluator = std::fs::read_to_string(root.join("reach/dest.rs")).unwrap_or_default();
        if evaluator.contains(&needle) {
            readers.extend(Cause::iter().filter(|c| {
                c.family() == Family::Network
                    && *c != Cause::SubnetIpExhausted
                    && *c != Cause::SecurityGroupIngressClosed
                    && *c != Cause::VpcEndpointPolicyDenied
            }));
        }
        readers.sort();
        readers
    }

    #[test]
    fn every_stop_detail_is_read_by_exactly_the_checks_that_claim_it() {
        use strum::IntoEnumIterator;
        let mut wrong = Vec::new();
        for detail in stops::Detail::iter() {
            let mut claims = detail.claimed_by().to_vec();
            claims.sort();
            let readers = readers_of(detail);
            if claims.is_empty() || claims != readers {
                wrong.push(format!(
                    "{detail:?}: claimed by {claims:?}, read by {readers:?}"
                ));
            }
            if !stops::catalogue::DETAILS.iter().any(|p| p.detail == detail) {
                wrong.push(format!("{detail:?}: no row of the catalogue states it"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn a_failed_task_never_reads_as_healthy() {
        use stops::StopKind::*;
        use strum::IntoEnumIterator;
        let mut wrong = Vec::new();
        for kind in stops::StopKind::iter() {
            let text = kind_example(kind);
            // No evidence that confirms or rules out the text: the bare task.
            let mut ev = testkit::stopped(kind_stop_code(kind), text);
            if kind == EssentialExited {
                ev = testkit::EvidenceExt::exit(ev, "web", Some(1), None);
            }
            let report = diagnose(&ev, "test");
            let benign = matches!(kind, Deployment | UserStop | Spot | Maintenance);
            let top = report.candidates.first().map(|c| c.code);
            let ok = if benign {
                report.verdict == Conclusion::NoFailure
            } else {
                report.verdict == Conclusion::Failure
                    && top.is_some_and(|c| c == Cause::Unknown || kind.claimed_by().contains(&c))
            };
            if !ok {
                wrong.push(format!(
                    "{kind:?} {text:?}: {:?}, top {top:?}",
                    report.verdict
                ));
            }
        }
        // An unknown stop code, an exit 1 with no reason, a failed start with no reason.
        for (code, reason, exit) in [
            ("SomethingNew", "Frobnicator overheated", Some(143)),
            ("EssentialContainerExited", "", Some(1)),
            (
                "EssentialContainerExited",
                "Essential container in task exited",
                None,
            ),
            ("TaskFailedToStart", "", None),
        ] {
            let ev = testkit::EvidenceExt::exit(testkit::stopped(code, reason), "web", exit, None);
            let report = diagnose(&ev, "test");
            if report.verdict != Conclusion::Failure {
                wrong.push(format!(
                    "{code} {reason:?} exit {exit:?}: {:?}",
                    report.verdict
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn a_clean_exit_of_a_batch_task_and_a_healthy_running_task_are_no_failure() {
        let mut batch = testkit::EvidenceExt::exit(
            testkit::stopped(
                "EssentialContainerExited",
                "Essential container in task exited",
            ),
            "web",
            Some(0),
            None,
        );
        batch.task.group = Some("family:web".into());
        batch.task.started_by = None;
        batch.service = Fact::not_applicable("not started by a service");
        let report = diagnose(&batch, "test");
        let undecided: Vec<_> = report
            .checks
            .iter()
            .filter(|c| c.status == CheckStatus::Inconclusive)
            .map(|c| format!("{}: {}", c.id, c.detail))
            .collect();
        assert_eq!(report.verdict, Conclusion::NoFailure, "{undecided:#?}");
        assert!(report.candidates.is_empty(), "{:?}", report.candidates);
    }
}
