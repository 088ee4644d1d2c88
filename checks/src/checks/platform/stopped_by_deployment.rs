//! ## What it detects
//! The service scheduler stopped the task on purpose: a deployment replaced
//! it or the service scaled in («Scaling activity initiated by (deployment
//! ecs-svc/…)», `stopCode = ServiceSchedulerInitiated`). It tells the two
//! apart by comparing the named deployment with the service's current
//! primary deployment.
//!
//! ## Why it matters
//! These stops are normal and are not a failure of the task. Knowing that a
//! stop was a deployment saves an on-call engineer from chasing a crash that
//! never happened. If the new deployment is failing, or containers were
//! killed (137) instead of exiting on SIGTERM, the report says so.
//!
//! ## Example
//! ```text
//! stopCode      = ServiceSchedulerInitiated
//! stoppedReason = Scaling activity initiated by (deployment ecs-svc/1234567890123456789)
//! container web: exitCode = 0
//! service web: primary deployment ecs-svc/9876543210987654321 runs web:8
//! ```
//!
//! ## How to fix
//! Nothing to fix. If tasks are replaced more often than you deploy, check the
//! service's auto scaling policies and its recent events
//! (`aws ecs describe-services --query 'services[0].events[:10]'`).
//! If containers exit 137 during these stops, they do not handle SIGTERM
//! (see `app-sigterm-timeout`).
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-errors.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-event-messages.html

use crate::context::Ctx;
use crate::stops::StopCode;
use crate::codes::Cause;
use crate::report::{Finding, Strength, Verdict};
use crate::stops::StopKind;

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    if !ctx.stops.task_is(StopKind::Deployment) {
        return Verdict::Skipped("the stop reason is not a scheduler scaling activity".into());
    }
    let stop = StopCode::of(ev);
    let strength = if stop == StopCode::ServiceSchedulerInitiated { Strength::Direct } else { Strength::Corroborating };
    let reason = ev.task.stopped_reason.clone().unwrap_or_default();
    let named = ctx
        .stops
        .task()
        .and_then(|t| t.deployment())
        .or_else(|| ev.task.started_by.clone().filter(|s| s.starts_with("ecs-svc/")));
    let service = ev.service.value();
    let primary = service.and_then(|s| s.deployments.iter().find(|d| d.status.as_deref() == Some("PRIMARY")));
    let scale_in = matches!((&named, primary), (Some(n), Some(p)) if &p.id == n);
    let title = if scale_in {
        "The service scaled in and stopped this task: not a failure"
    } else {
        "The service scheduler replaced this task during a deployment: not a failure"
    };
    let mut f = Finding::new(Cause::StoppedByDeployment, strength, title).evidence(format!(
        "stopCode = {}; stoppedReason = \"{reason}\"",
        ev.task.stop_code.as_deref().unwrap_or("unset")
    ));
    if let Some(d) = &named {
        f = f.evidence(format!("initiated by deployment {d}"));
    }
    for c in &ev.task.containers {
        match c.exit_code {
            Some(code @ (0 | 143)) => {
                f = f.evidence(format!("container `{}` exitCode = {code} (clean shutdown)", c.name));
            }
            Some(137) => {
                f = f.against(format!(
                    "container `{}` exitCode = 137: it was killed after stopTimeout, not a clean shutdown (app-sigterm-timeout)",
                    c.name
                ));
            }
            Some(code) => {
                f = f.against(format!("container `{}` exitCode = {code}: not a clean shutdown", c.name));
            }
            None => {}
        }
    }
    if let (Some(s), Some(p)) = (service, primary) {
        if scale_in {
            f = f.evidence(format!(
                "deployment {} is still the service's primary deployment: the service scaled in (desiredCount now {})",
                p.id, s.desired_count
            ));
        } else {
            if let Some(td) = &p.task_definition {
                if td != &ev.task.task_definition_arn {
                    f = f.evidence(format!("the service's primary deployment {} now runs {td}", p.id));
                } else {
                    f = f.evidence(format!("the service's primary deployment {} runs the same task definition", p.id));
                }
            }
            if p.rollout_state.as_deref() == Some("FAILED") {
                f = f.evidence(format!(
                    "but that deployment failed (rolloutState = FAILED: {}): look at its stopped tasks, not this one",
                    p.rollout_state_reason.as_deref().unwrap_or("no reason given")
                ));
            }
        }
    }
    f.fix("Nothing to fix: the scheduler stopped this task on purpose.")
        .fix("If tasks are replaced unexpectedly, review the service's recent events (`aws ecs describe-services --query 'services[0].events[:10]'`) and its auto scaling activity.")
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-event-messages.html")
        .into_verdict()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::evidence::Evidence;
    crate::check_under_test!();
    use crate::evidence::Deployment;
    use crate::testkit::{running, stopped, EvidenceExt};

    fn scaled(reason: &str) -> Evidence {
        stopped("ServiceSchedulerInitiated", reason).exit("web", Some(0), None)
    }

    #[test]
    fn a_deployment_replacement_is_benign_and_direct() {
        let ev = scaled("Scaling activity initiated by (deployment ecs-svc/1111)").svc(|s| {
            s.deployments.push(Deployment {
                id: "ecs-svc/2222".into(),
                status: Some("PRIMARY".into()),
                task_definition: Some("arn:aws:ecs:us-east-1:123456789012:task-definition/web:8".into()),
                ..Default::default()
            })
        });
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(f.code.is_benign());
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.title.contains("deployment"));
        assert!(f.evidence.iter().any(|e| e.contains("now runs arn:aws:ecs:us-east-1:123456789012:task-definition/web:8")));
        assert!(f.against.is_empty());
    }

    #[test]
    fn a_scale_in_of_the_current_deployment_is_told_apart() {
        let ev = scaled("Scaling activity initiated by (deployment ecs-svc/1111)").svc(|s| {
            s.deployments.push(Deployment { id: "ecs-svc/1111".into(), status: Some("PRIMARY".into()), ..Default::default() })
        });
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(f.title.contains("scaled in"), "{}", f.title);
    }

    #[test]
    fn truncated_and_recased_reasons_match() {
        assert!(matches!(check(&scaled("SCALING ACTIVITY initiated b")), Verdict::Found(_)));
    }

    #[test]
    fn a_kill_during_the_stop_speaks_against() {
        let ev = stopped("ServiceSchedulerInitiated", "Scaling activity initiated by (deployment ecs-svc/1)").exit("web", Some(137), None);
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert_eq!(f.against.len(), 1);
        assert!(f.against[0].contains("app-sigterm-timeout"));
    }

    #[test]
    fn other_stops_are_skipped() {
        assert!(matches!(check(&running()), Verdict::Skipped(_)));
        let crash = stopped("EssentialContainerExited", "Essential container in task exited");
        assert!(matches!(check(&crash), Verdict::Skipped(_)));
    }
}
