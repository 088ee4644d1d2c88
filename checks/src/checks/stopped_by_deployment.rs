//! ## What it detects
//! The service scheduler stopped the task on purpose: a deployment replaced
//! it or the service scaled in («Scaling activity initiated by (deployment
//! ecs-svc/…)», `stopCode = ServiceSchedulerInitiated`).
//!
//! ## Why it matters
//! These stops are normal and are not a failure of the task. Knowing that a
//! stop was a deployment saves an on-call engineer from chasing a crash that
//! never happened. If the same service shows failed tasks too, look at those.
//!
//! ## Example
//! ```text
//! stopCode      = ServiceSchedulerInitiated
//! stoppedReason = Scaling activity initiated by (deployment ecs-svc/1234567890123456789)
//! container web: exitCode = 0
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

use crate::classify::{contains_any, StopCode};
use crate::codes::Cause;
use crate::evidence::Evidence;
use crate::report::{Finding, Strength, Verdict};

pub(crate) fn check(ev: &Evidence) -> Verdict {
    let reason = ev.task.stopped_reason.clone().unwrap_or_default();
    if !contains_any(&reason, &["scaling activity initiated by"]) {
        return Verdict::Skipped("the stop reason is not a scheduler scaling activity".into());
    }
    let stop = StopCode::of(ev);
    let strength = if stop == StopCode::ServiceSchedulerInitiated { Strength::Direct } else { Strength::Corroborating };
    let mut finding = Finding::new(
        Cause::StoppedByDeployment,
        strength,
        "The service scheduler replaced or scaled in this task: a deployment, not a failure",
    )
    .evidence(format!(
        "stopCode = {}; stoppedReason = \"{reason}\"",
        ev.task.stop_code.as_deref().unwrap_or("unset")
    ));
    if let Some(deployment) = regex::Regex::new(r"deployment (ecs-svc/\d+)")
        .expect("valid regex")
        .captures(&reason)
        .map(|c| c[1].to_string())
    {
        finding = finding.evidence(format!("initiated by deployment {deployment}"));
    }
    for c in &ev.task.containers {
        match c.exit_code {
            Some(0) | Some(143) => {
                finding = finding.evidence(format!("container `{}` exitCode = {} (clean shutdown)", c.name, c.exit_code.unwrap_or_default()));
            }
            Some(code) => {
                finding = finding.against(format!("container `{}` exitCode = {code}: not a clean shutdown", c.name));
            }
            None => {}
        }
    }
    if let Some(service) = ev.service.value() {
        if let Some(primary) = service.deployments.iter().find(|d| d.status.as_deref() == Some("PRIMARY")) {
            if let Some(td) = &primary.task_definition {
                if td != &ev.task.task_definition_arn {
                    finding = finding.evidence(format!("the service's primary deployment now runs {td}"));
                }
            }
        }
    }
    finding
        .fix("Nothing to fix: the scheduler stopped this task on purpose.")
        .fix("If tasks are replaced unexpectedly, review the service's recent events and auto scaling activity.")
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-event-messages.html")
        .into_verdict()
}
