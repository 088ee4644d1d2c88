//! ## What it detects
//! The task definition's `executionRoleArn` names a role that does not exist
//! (`iam:GetRole` answers `NoSuchEntity`), or exists under a different path
//! than the ARN says, so the ARN matches no role.
//!
//! ## Why it matters
//! ECS cannot assume a role that is not there, so nothing that needs the
//! execution role can happen: no ECR pull, no secrets, no log stream. This
//! happens after a role is deleted or renamed by hand or by a stack
//! teardown while task definitions still point at it, or when a task
//! definition is copied from another account.
//!
//! ## Example
//! ```text
//! stopCode      = TaskFailedToStart
//! stoppedReason = ECS was unable to assume the role 'arn:aws:iam::123456789012:role/web-exec'
//!                 that was provided for this task. Please verify that the role being passed
//!                 has the proper trust relationship and permissions …
//! iam:GetRole web-exec → NoSuchEntity
//! ```
//!
//! ## How to fix
//! Recreate the role with that exact name and path (trusting
//! `ecs-tasks.amazonaws.com`, with the execution-role permissions), or
//! register a task definition revision whose `executionRoleArn` names a
//! role that exists, and redeploy.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
//! - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns

use crate::context::Ctx;
use crate::task::unknown_task_definition;
use crate::stops::Detail;
use crate::iam::access::arn_account;

use crate::codes::Cause;
use crate::evidence::Fact;
use crate::report::{Finding, Strength, Verdict};

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let Some(td) = ev.task_def() else {
        return unknown_task_definition(ev);
    };
    let Some(arn) = td.execution_role_arn.as_deref() else {
        return Verdict::Skipped("the task definition has no execution role".into());
    };
    let name = arn.rsplit('/').next().unwrap_or(arn);
    let text = ctx.stops.stating(Detail::AssumeRoleFailed).map(|t| t.text.clone());
    let strength = if text.is_some() {
        Strength::Direct
    } else {
        Strength::Corroborating
    };
    let finding = match &ev.execution_role {
        Fact::Gathered { value } if value.arn == arn || value.arn.is_empty() => {
            return Verdict::Pass(format!("the execution role {arn} exists"));
        }
        Fact::Gathered { value } => Finding::new(
            Cause::ExecutionRoleNotFound,
            strength,
            format!("Execution role ARN `{arn}` matches no role: role `{name}` exists as `{}`", value.arn),
        )
        .evidence(format!(
            "iam:GetRole {name} returned {}, whose path differs from the task definition's {arn}",
            value.arn
        ))
        .fix(format!(
            "Register a task definition revision with \"executionRoleArn\": \"{}\" and redeploy.",
            value.arn
        )),
        Fact::Absent { detail } => {
            let mut f = Finding::new(
                Cause::ExecutionRoleNotFound,
                strength,
                format!("Execution role `{name}` does not exist"),
            )
            .evidence(format!("iam:GetRole {name}: {detail}"))
            .evidence(format!("the task definition {} names executionRoleArn {arn}", td.arn));
            let task_account = ev.account.clone().or_else(|| arn_account(&ev.task.arn).map(str::to_string));
            if let (Some(role_acct), Some(task_acct)) = (arn_account(arn), task_account) {
                if role_acct != task_acct {
                    f = f.evidence(format!(
                        "the role ARN is in account {role_acct}, the task runs in account {task_acct}: an execution role must be in the task's account"
                    ));
                }
            }
            f.fix(format!(
                "Recreate it: aws iam create-role --role-name {name}{} --assume-role-policy-document '{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Principal\":{{\"Service\":\"ecs-tasks.amazonaws.com\"}},\"Action\":\"sts:AssumeRole\"}}]}}' && aws iam attach-role-policy --role-name {name} --policy-arn arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
                role_path(arn).map(|p| format!(" --path {p}")).unwrap_or_default()
            ))
            .fix("Or register a task definition revision whose executionRoleArn names an existing role, and redeploy.")
        }
        other => {
            return crate::task::startup_undecided(
                ev,
                format!(
                    "whether execution role {name} exists is unknown: {}",
                    other.gap_reason().unwrap_or_default()
                ),
            )
        }
    };
    let finding = match text {
        Some(t) => finding.evidence(format!("stop reason: \"{t}\"")),
        None => finding,
    };
    finding
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html")
        .into_verdict()
}

/// The path of a role ARN (`/service-role/`), when it is not `/`.
fn role_path(arn: &str) -> Option<String> {
    let resource = arn.split(':').nth(5)?;
    let rest = resource.strip_prefix("role")?;
    let last = rest.rfind('/')?;
    let path = &rest[..=last];
    (path != "/").then(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::check_under_test!();
    use crate::testkit::image::*;

    const ASSUME: &str = "ECS was unable to assume the role 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole' that was provided for this task. Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role.";

    #[test]
    fn healthy_task_passes() {
        assert!(matches!(check(&healthy()), Verdict::Pass(_)));
    }

    #[test]
    fn deleted_role() {
        let mut ev = failed_to_start(ASSUME);
        ev.execution_role = Fact::absent("role ecsTaskExecutionRole does not exist");
        match check(&ev) {
            Verdict::Found(f) => {
                assert_eq!(f.strength, Strength::Direct);
                assert_eq!(f.title, "Execution role `ecsTaskExecutionRole` does not exist");
                assert!(f.evidence.iter().any(|e| e.contains("NoSuchEntity") || e.contains("does not exist")));
                assert!(f.fix[0].contains("create-role --role-name ecsTaskExecutionRole "), "{:?}", f.fix);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn path_mismatch_is_not_found() {
        let mut ev = failed_to_start(ASSUME);
        td_mut(&mut ev).execution_role_arn =
            Some("arn:aws:iam::123456789012:role/service-role/ecsTaskExecutionRole".into());
        match check(&ev) {
            Verdict::Found(f) => assert!(f.title.contains("exists as `arn:aws:iam::123456789012:role/ecsTaskExecutionRole`"), "{}", f.title),
            other => panic!("{other:?}"),
        }
        assert_eq!(role_path("arn:aws:iam::1:role/service-role/x").as_deref(), Some("/service-role/"));
        assert_eq!(role_path("arn:aws:iam::1:role/x"), None);
    }

    #[test]
    fn get_role_denied_is_inconclusive_until_the_task_started() {
        let mut ev = failed_to_start("ECS was unable to assume the role");
        ev.execution_role = Fact::Denied { action: "iam:GetRole".into(), error: "AccessDenied".into() };
        assert!(matches!(check(&ev), Verdict::Inconclusive(d) if d.contains("iam:GetRole")));
        let mut ev = healthy();
        ev.execution_role = Fact::Denied { action: "iam:GetRole".into(), error: "AccessDenied".into() };
        assert!(matches!(check(&ev), Verdict::Pass(d) if d.contains("start-up") && d.contains("iam:GetRole")));
    }
}
