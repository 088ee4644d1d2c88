//! ## What it detects
//! AWS retired the task to patch or replace the infrastructure under it:
//! «ECS is performing maintenance on the underlying infrastructure hosting
//! the task» (often prefixed «Service <name>: »), with `stopCode =
//! ServiceSchedulerInitiated`. On EC2, «Host EC2 (instance i-…)
//! stopped/terminated» — the container instance under the task went away —
//! is reported here too.
//!
//! ## Why it matters
//! The task did not fail. Fargate retires tasks for security patches and
//! hardware maintenance after a notice in the AWS Health Dashboard; a
//! service replaces them. Availability only suffers when the service runs a
//! single task or the app does not shut down cleanly.
//!
//! ## Example
//! ```text
//! stopCode      = ServiceSchedulerInitiated
//! stoppedReason = Service web: ECS is performing maintenance on the underlying infrastructure hosting the task
//! ```
//!
//! ## How to fix
//! Nothing to fix in the task. Run at least two tasks per service across
//! Availability Zones, handle SIGTERM, and watch AWS Health for task
//! retirement notices. The account setting `fargateTaskRetirementWaitPeriod`
//! (0, 7 or 14 days) controls how soon Fargate retires tasks after a patch.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-maintenance.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-pv.html
//! - https://docs.aws.amazon.com/health/latest/ug/getting-started-health-dashboard.html

use crate::context::Ctx;
use crate::stops::StopCode;
use crate::codes::Cause;
use crate::report::{Finding, Strength, Verdict};
use crate::stops::StopKind;

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let reason = ev.task.stopped_reason.clone().unwrap_or_default();
    let maintenance = ctx.stops.task_is(StopKind::Maintenance);
    let host = ctx.stops.task_is(StopKind::HostLifecycle);
    if !maintenance && !host {
        return Verdict::Skipped("the stop reason is not infrastructure maintenance".into());
    }
    let stop = StopCode::of(ev);
    let strength = match stop {
        StopCode::ServiceSchedulerInitiated | StopCode::InfrastructureHealth => Strength::Direct,
        _ if maintenance => Strength::Direct,
        _ => Strength::Corroborating,
    };
    let title = if maintenance {
        "AWS retired the task for maintenance of the underlying infrastructure: not a failure of the task"
    } else {
        "The EC2 container instance hosting the task was stopped or terminated: not a failure of the task"
    };
    let mut f = Finding::new(Cause::PlatformMaintenance, strength, title).evidence(format!(
        "stopCode = {}; stoppedReason = \"{reason}\"",
        ev.task.stop_code.as_deref().unwrap_or("unset")
    ));
    for c in &ev.task.containers {
        if c.exit_code == Some(137) {
            f = f.evidence(format!(
                "container `{}` exitCode = 137: it did not exit within stopTimeout (app-sigterm-timeout)",
                c.name
            ));
        }
    }
    if let Some(s) = ev.service.value() {
        if s.desired_count <= 1 {
            f = f.evidence(format!(
                "service `{}` runs desiredCount = {}: a retirement takes it down until the replacement starts",
                s.name, s.desired_count
            ));
        }
    }
    f = f.fix("Nothing to fix in the task: a service replaces retired tasks on its own.");
    f = if maintenance {
        f.fix("Watch AWS Health for \"task retirement\" notices, and choose how soon Fargate retires patched tasks: `aws ecs put-account-setting --name fargateTaskRetirementWaitPeriod --value 7` (0, 7 or 14 days).")
    } else {
        f.fix("Find out why the instance went away (Auto Scaling activity, Spot, a user) in the EC2 console or CloudTrail, and drain instances (`DRAINING`) before terminating them.")
    };
    f.fix("For availability, run at least two tasks spread over Availability Zones and handle SIGTERM.")
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-maintenance.html")
        .into_verdict()
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::check_under_test!();
    use crate::testkit::{running, stopped, EvidenceExt};

    #[test]
    fn fargate_maintenance_is_benign() {
        let ev = stopped(
            "ServiceSchedulerInitiated",
            "Service web: ECS is performing maintenance on the underlying infrastructure hosting the task",
        )
        .svc(|s| s.desired_count = 1);
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(f.code.is_benign());
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.evidence.iter().any(|e| e.contains("desiredCount = 1")));
        assert!(f.fix[1].contains("fargateTaskRetirementWaitPeriod"));
    }

    #[test]
    fn truncated_text_and_ec2_hosts_match() {
        assert!(matches!(check(&stopped("ServiceSchedulerInitiated", "ECS is performing maintenance on the underlying infrastr")), Verdict::Found(_)));
        let Verdict::Found(f) = check(&stopped("", "Host EC2 (instance i-0123456789abcdef0) stopped/terminated")) else { panic!() };
        assert!(f.title.contains("EC2 container instance"));
    }

    #[test]
    fn other_stops_are_skipped() {
        assert!(matches!(check(&running()), Verdict::Skipped(_)));
        assert!(matches!(check(&stopped("UserInitiated", "Task stopped by user")), Verdict::Skipped(_)));
    }
}
