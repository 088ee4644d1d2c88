//! ## What it detects
//! A stopped task whose stop matches nothing ecs-doctor knows: a `stopCode`
//! value newer than ecs-doctor (AWS adds values, e.g. `InfrastructureHealth`
//! in 2026), a stop reason that matches no pattern of any family, or only
//! the opaque console text «Task failed to start» with no container reason
//! or dependency to explain it. And a task that surely failed (it never
//! started, an essential container exited with an error, a health check
//! failed) that no other check explained — often because a fact the
//! deciding check needed could not be read.
//!
//! ## Why it matters
//! Saying "unknown" with the raw facts beats a confident wrong answer, and a
//! failed task must never read as healthy. The report quotes every stop text,
//! exit code and decisive log line verbatim so an engineer can search for
//! the error name, names the checks that could not decide and why, and
//! lists where to look next.
//!
//! ## Example
//! ```text
//! stopCode      = SomethingNew
//! stoppedReason = Task failed to start
//! container web: no exit code
//! ```
//!
//! ## How to fix
//! Search the AWS documentation for the error name (the text before the
//! first colon), read the service's recent events (`aws ecs
//! describe-services --query 'services[0].events[:10]'`) and the AWS Health
//! Dashboard, and run the task again to see whether it repeats. Newer
//! ecs-doctor releases may know the pattern.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/resolve-stopped-errors.html

use crate::context::Ctx;
use crate::stops::StopCode;
use crate::codes::Cause;
use crate::evidence::{Evidence, Gap};
use crate::report::{CheckRecord, CheckStatus, Finding, Strength, Verdict};
use crate::stops::{self, Detail, StopKind};
use crate::task::dependency_failure;

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    if !ev.is_stopped() {
        return Verdict::Skipped("the task is not stopped".into());
    }
    let stop = StopCode::of(ev);
    let texts = ctx.stops.all();
    if let StopCode::Other(code) = &stop {
        let f = Finding::new(
            Cause::Unknown,
            Strength::Circumstantial,
            format!("ECS reported stop code `{code}`, which this version of ecs-doctor does not know"),
        )
        .evidence(format!("stopCode = {code}"));
        return facts(ev, f, texts).into_verdict();
    }
    if dependency_failure(ev).is_some() {
        return Verdict::Pass("a dependsOn condition that was not met explains the stop".into());
    }
    // A kind only `unknown` claims (the bare "failed to start")
    // is recognised but explained by no other check: it stays unknown.
    let known: Vec<&'static str> = texts
        .iter()
        .filter_map(|t| t.class.kind())
        .filter(|k| k.claimed_by() != [Cause::Unknown])
        .map(StopKind::label)
        .collect();
    if let Some(label) = known.first() {
        return Verdict::Pass(format!("the stop reason matches a known pattern ({label})"));
    }
    let bare = texts.iter().any(|t| t.class.kind() == Some(StopKind::FailedToStartBare));
    if texts.is_empty() {
        return match stop {
            StopCode::None => Verdict::Inconclusive("the task has neither a stop code nor a stopped reason".into()),
            _ => Verdict::Pass(format!(
                "stopCode {} explains the stop",
                ev.task.stop_code.as_deref().unwrap_or_default()
            )),
        };
    }
    if !bare {
        match stop {
            StopCode::UserInitiated => return Verdict::Pass("a user's StopTask with a custom reason (stopped-by-user)".into()),
            StopCode::SpotInterruption | StopCode::TerminationNotice => {
                return Verdict::Pass("a Spot interruption (spot-interruption)".into())
            }
            StopCode::InfrastructureHealth => return Verdict::Pass("an infrastructure health stop (platform-error)".into()),
            StopCode::EssentialContainerExited if ev.task.containers.iter().any(|c| c.exit_code.is_some()) => {
                return Verdict::Pass("an essential container exited: the exit codes explain the stop".into())
            }
            _ => {}
        }
    }
    let title = if bare {
        "ECS gave only the opaque \"Task failed to start\", and no container reason or dependency explains it"
    } else {
        "The stop reason matches no known pattern"
    };
    let f = Finding::new(Cause::Unknown, Strength::Circumstantial, title).evidence(format!(
        "stopCode = {}",
        ev.task.stop_code.as_deref().unwrap_or("unset")
    ));
    facts(ev, f, texts).into_verdict()
}

/// Why the task surely failed, when it did: it never started, an essential
/// container exited with an error (or with none recorded), or a stop text
/// names a failure (not a deployment, a user, Spot or maintenance).
pub(crate) fn surely_failed(ctx: &Ctx) -> Option<String> {
    let ev = ctx.ev;
    if !ev.is_stopped() {
        return None;
    }
    let failing_text = ctx.stops.all().iter().find(|t| {
        t.class.kinds.iter().any(|k| {
            !matches!(
                k,
                StopKind::Deployment
                    | StopKind::UserStop
                    | StopKind::Spot
                    | StopKind::Maintenance
                    | StopKind::HostLifecycle
                    | StopKind::EssentialExited
            )
        })
    });
    match StopCode::of(ev) {
        StopCode::TaskFailedToStart => {
            return Some("stopCode = TaskFailedToStart: the task never started".into())
        }
        StopCode::EssentialContainerExited => {
            let failed = ev.task.containers.iter().find(|c| {
                crate::task::is_essential(ev, c) && c.exit_code != Some(0)
            });
            if let Some(c) = failed {
                return Some(match c.exit_code {
                    Some(code) => format!("essential container `{}` exited with code {code}", c.name),
                    None => format!("essential container `{}` stopped with no exit code", c.name),
                });
            }
        }
        _ => {}
    }
    failing_text.map(|t| format!("{} names a failure", t.quote()))
}

/// A task that surely failed and that no check explained: `unknown`, with
/// the stop texts, exit codes, decisive log lines and the checks that could
/// not decide as its evidence. None when a finding (failure or benign)
/// already explains the stop.
pub(crate) fn unexplained_failure(
    ctx: &Ctx,
    findings: &[Finding],
    records: &[CheckRecord],
) -> Option<Finding> {
    if !findings.is_empty() {
        return None;
    }
    let why = surely_failed(ctx)?;
    let ev = ctx.ev;
    let undecided: Vec<String> = records
        .iter()
        .filter(|r| r.status == CheckStatus::Inconclusive)
        .map(|r| format!("{}: {}", r.id, r.detail))
        .collect();
    let title = if undecided.is_empty() {
        "The task failed, and no check recognised why".to_string()
    } else {
        format!(
            "The task failed, and no check could tell why: {} could not decide for lack of a fact",
            match undecided.len() {
                1 => "1 check".to_string(),
                n => format!("{n} checks"),
            }
        )
    };
    let specific = specific_reading(ctx);
    let title = specific.as_ref().map_or(title, |s| s.title.to_string());
    let mut f = Finding::new(Cause::Unknown, Strength::Circumstantial, title).evidence(why);
    for line in undecided.iter().take(6) {
        f = f.evidence(format!("could not decide: {line}"));
    }
    if undecided.len() > 6 {
        f = f.evidence(format!("… and {} more (see the checks)", undecided.len() - 6));
    }
    for c in &ev.task.containers {
        if let Some(line) = crate::logs::excerpt::decisive(ev, &c.name) {
            f = f.evidence(format!("container `{}` log: \"{}\"", c.name, line.message.trim()));
        }
    }
    let mut f = facts(ev, f, ctx.stops.all());
    if let Some(s) = specific {
        for fix in s.fixes {
            f = f.fix(*fix);
        }
        f = f.doc(s.doc);
    }
    if ev.gaps.iter().any(Gap::needs_a_grant) {
        f = f.fix(
            "Grant the read permissions the gaps name (docs/iam-policy.json is the least-privilege policy) and run ecs-doctor again for a full verdict.",
        );
    }
    Some(f)
}

/// What a stop text states precisely that no cause code covers: said as
/// the text says it, with what to do, while the cause stays `unknown`.
struct Specific {
    title: &'static str,
    fixes: &'static [&'static str],
    doc: &'static str,
}

fn specific_reading(ctx: &Ctx) -> Option<Specific> {
    if ctx.stops.stating(Detail::LayerRefused).is_some() {
        return Some(Specific {
            title: "The image pull failed: the storage bucket behind the registry refused a layer download (HTTP 403), which is not the registry refusing your credentials",
            fixes: &[
                "If the task reaches Amazon S3 through a gateway VPC endpoint, its policy must allow s3:GetObject on arn:aws:s3:::prod-<region>-starport-layer-bucket/* (ECR stores image layers there).",
                "If traffic leaves through a proxy or firewall, allow the bucket's host prod-<region>-starport-layer-bucket.s3.<region>.amazonaws.com.",
            ],
            doc: "https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html",
        });
    }
    if ctx.stops.stating(Detail::UnsupportedManifest).is_some() {
        return Some(Specific {
            title: "The image pull failed: the container runtime cannot pull a media type the image's manifest lists (an attestation manifest, for example)",
            fixes: &[
                "Rebuild and push the image without attestation manifests (docker buildx build --provenance=false --sbom=false), or with a runtime that knows them (Fargate platform version 1.4.0, a current ECS-optimized AMI), and redeploy.",
            ],
            doc: "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html",
        });
    }
    None
}

/// Quote every stop text, exit code and the service's latest events; add the next steps.
fn facts(ev: &Evidence, mut f: Finding, texts: &[stops::StopText]) -> Finding {
    for t in texts {
        f = f.evidence(t.quote());
    }
    for c in &ev.task.containers {
        f = f.evidence(match c.exit_code {
            Some(code) => format!("container `{}` exitCode = {code}", c.name),
            None => format!("container `{}`: no exit code (it never ran, or ECS did not record one)", c.name),
        });
    }
    if let Some(s) = ev.service.value() {
        for e in s.events.iter().take(3) {
            f = f.evidence(format!("service event: \"{}\"", e.message));
        }
    }
    let name = texts
        .iter()
        .find_map(|t| t.head())
        .map(|n| format!(" (search for `{n}`)"))
        .unwrap_or_default();
    let mut f = f.fix(format!(
        "Look the reason up in the ECS stopped-task error reference{name}: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html"
    ));
    if let (Some(svc), Some(cluster)) = (ev.service_name(), Some(crate::task::cluster_name(ev))) {
        f = f.fix(format!(
            "Read the service's events: `aws ecs describe-services --cluster {cluster} --services {svc} --query 'services[0].events[:10]'`."
        ));
    }
    f.fix("Check the AWS Health Dashboard for events in the Region, and run the task again to see whether it repeats.")
        .fix("If the task used `dependsOn`, check each dependency's exit code and health status; a dependency that never reached its condition stops the task with no other reason.")
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html")
}

#[cfg(test)]
mod tests {
    use super::*;

    
    use crate::testkit::found;

    crate::check_under_test!();
    use crate::evidence::ContainerDependency;
    use crate::testkit::{running, stopped, EvidenceExt};


    #[test]
    fn a_future_stop_code_is_reported_gracefully() {
        let f = found(check(&stopped("QuantumFluctuation", "Something new happened")));
        assert_eq!(f.strength, Strength::Circumstantial);
        assert!(f.title.contains("`QuantumFluctuation`"));
        assert!(f.evidence.iter().any(|e| e == "stoppedReason = \"Something new happened\""));
        assert!(!f.code.is_benign());
    }

    #[test]
    fn an_unmatched_reason_is_unknown() {
        let f = found(check(&stopped("ServiceSchedulerInitiated", "Frobnicator overheated")));
        assert_eq!(f.title, "The stop reason matches no known pattern");
    }

    #[test]
    fn the_bare_console_text_is_unknown_unless_a_dependency_explains_it() {
        let ev = stopped("TaskFailedToStart", "Task failed to start");
        assert!(found(check(&ev)).title.contains("opaque"));
        let dep = ev
            .sidecar("migrate", false)
            .exit("migrate", Some(1), None)
            .def("web", |d| d.depends_on.push(ContainerDependency { container_name: "migrate".into(), condition: "SUCCESS".into() }));
        assert!(matches!(check(&dep), Verdict::Pass(_)));
    }

    #[test]
    fn known_patterns_of_every_family_pass() {
        for (code, reason) in [
            ("EssentialContainerExited", "Essential container in task exited"),
            ("TaskFailedToStart", "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref"),
            ("TaskFailedToStart", "ResourceInitializationError: unable to pull secrets or registry auth"),
            ("TaskFailedToStart", "Timeout waiting for network interface provisioning to complete."),
            ("ServiceSchedulerInitiated", "Scaling activity initiated by (deployment ecs-svc/1)"),
            ("UserInitiated", "nightly cleanup"),
            ("SpotInterruption", "Your Spot Task was interrupted."),
            ("InfrastructureHealth", "agent disconnected"),
        ] {
            assert!(matches!(check(&stopped(code, reason)), Verdict::Pass(_)), "{code}: {reason}");
        }
        assert!(matches!(check(&running()), Verdict::Skipped(_)));
        assert!(matches!(check(&stopped("", "")), Verdict::Inconclusive(_)));
    }
}
