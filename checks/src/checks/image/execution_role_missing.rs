//! ## What it detects
//! The task definition has no `executionRoleArn`, yet the task needs one:
//! it pulls from a private ECR repository or sends logs with `awslogs` on
//! Fargate, or (on any launch type) it references `secrets`, log
//! `secretOptions`, `repositoryCredentials` or `environmentFiles`.
//!
//! ## Why it matters
//! The execution role is the identity the ECS or Fargate agent uses for
//! everything that happens before the container starts. Without it on
//! Fargate an ECR pull is anonymous and fails (`no basic auth credentials`),
//! and secrets and private-registry credentials cannot be fetched at all. On
//! EC2 the container instance role pulls images and writes logs, but secrets
//! still need the execution role.
//!
//! ## Example
//! ```text
//! stopCode      = TaskFailedToStart
//! stoppedReason = CannotPullContainerError: … 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v2:
//!                 no basic auth credentials
//! task definition web:7: executionRoleArn not set; needed for the ECR image of container web
//! ```
//!
//! ## How to fix
//! Create (or reuse) a role that trusts `ecs-tasks.amazonaws.com` with
//! `AmazonECSTaskExecutionRolePolicy` attached, add the secret and KMS
//! permissions the task needs, set it as `executionRoleArn` in a new task
//! definition revision, and redeploy.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html

use crate::context::Ctx;
use crate::task::unknown_task_definition;
use crate::task::on_fargate;
use crate::stops::Detail;

use crate::stops::StopCode;
use crate::codes::Cause;
use crate::evidence::{Evidence, TaskDefinition};
use crate::image_ref;
use crate::report::{Finding, Strength, Verdict};

/// Why the task needs an execution role, one line per reason.
pub(crate) fn needs(ev: &Evidence, td: &TaskDefinition) -> Vec<String> {
    let fargate = on_fargate(ev) == Some(true);
    let mut out = Vec::new();
    for c in &td.containers {
        if fargate && image_ref::parse(&c.image).is_ecr_private() {
            out.push(format!("container {} pulls {} from private ECR", c.name, c.image));
        }
        if let Some(log) = &c.log_configuration {
            if fargate && log.driver == "awslogs" {
                out.push(format!("container {} sends logs with awslogs", c.name));
            }
            for s in &log.secret_options {
                out.push(format!("container {} has log secretOption {}", c.name, s.name));
            }
        }
        for s in &c.secrets {
            out.push(format!("container {} has secret {} ({})", c.name, s.name, s.value_from));
        }
        if let Some(cred) = &c.repository_credentials {
            out.push(format!("container {} has repositoryCredentials {cred}", c.name));
        }
        for f in &c.environment_files {
            out.push(format!("container {} has environment file {f}", c.name));
        }
    }
    out
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let Some(td) = ev.task_def() else {
        return unknown_task_definition(ev);
    };
    if let Some(arn) = &td.execution_role_arn {
        return Verdict::Pass(format!("the task definition names execution role {arn}"));
    }
    let reasons = needs(ev, td);
    if reasons.is_empty() {
        return Verdict::Pass(
            "the task has no execution role and needs none (no private ECR image on Fargate, no awslogs on Fargate, no secrets, no registry credentials)".into(),
        );
    }
    let text = ctx.stops.stating(Detail::NoCredentials).map(|t| t.text.clone());
    let strength = if text.is_some() && StopCode::of(ev) != StopCode::EssentialContainerExited {
        Strength::Direct
    } else {
        Strength::Corroborating
    };
    let mut finding = Finding::new(
        Cause::ExecutionRoleMissing,
        strength,
        format!(
            "Task definition {} has no execution role, but {}",
            td.label(),
            reasons[0]
        ),
    );
    if let Some(t) = &text {
        finding = finding.evidence(format!("stop reason: \"{t}\""));
    }
    finding = finding.evidence(format!(
        "executionRoleArn is not set in {}",
        if td.arn.is_empty() { &ev.task.task_definition_arn } else { &td.arn }
    ));
    for r in &reasons {
        finding = finding.evidence(format!("needs an execution role: {r}"));
    }
    let ran = ev.task.containers.iter().find(|c| c.exit_code.is_some());
    if ev.task.timestamps.started_at.is_some() || ran.is_some() {
        finding = finding.against("the task's containers started, so the agent found credentials elsewhere");
    }
    if text.is_none() && !matches!(StopCode::of(ev), StopCode::TaskFailedToStart | StopCode::None) {
        finding = finding.against(format!(
            "the task did not fail to start (stopCode = {}): the missing role is a risk, not this stop's cause",
            ev.task.stop_code.as_deref().unwrap_or("unset")
        ));
    }
    let account = ev
        .account
        .clone()
        .or_else(|| crate::iam::access::arn_account(&ev.task.arn).map(str::to_string))
        .unwrap_or_else(|| "<account>".into());
    finding
        .fix("Create the role: aws iam create-role --role-name ecsTaskExecutionRole --assume-role-policy-document '{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ecs-tasks.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}'")
        .fix("aws iam attach-role-policy --role-name ecsTaskExecutionRole --policy-arn arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy (and allow secretsmanager:GetSecretValue / ssm:GetParameters / kms:Decrypt for the referenced secrets)")
        .fix(format!(
            "Register a new revision of {} with \"executionRoleArn\": \"arn:aws:iam::{account}:role/ecsTaskExecutionRole\" and redeploy.",
            td.family
        ))
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html")
        .into_verdict()
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::check_under_test!();
    use crate::evidence::SecretRef;
    use crate::testkit::image::*;

    fn no_role(reason: &str) -> Evidence {
        let mut ev = failed_to_start(reason);
        td_mut(&mut ev).execution_role_arn = None;
        ev
    }

    #[test]
    fn healthy_task_passes() {
        assert!(matches!(check(&healthy()), Verdict::Pass(_)));
    }

    #[test]
    fn fargate_ecr_pull_without_a_role() {
        let ev = no_role("CannotPullContainerError: Error response from daemon: Head \"https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/web/manifests/v2\": no basic auth credentials");
        match check(&ev) {
            Verdict::Found(f) => {
                assert_eq!(f.strength, Strength::Direct);
                assert!(f.title.contains("pulls") && f.title.contains(IMAGE), "{}", f.title);
                assert!(f.evidence.iter().any(|e| e.contains("awslogs")), "{:?}", f.evidence);
                assert!(f.fix.iter().any(|x| x.contains("executionRoleArn")));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn on_ec2_only_secrets_need_the_role() {
        let mut ev = healthy();
        ev.task.launch_type = Some("EC2".into());
        let td = td_mut(&mut ev);
        td.execution_role_arn = None;
        td.requires_compatibilities = vec!["EC2".into()];
        assert!(matches!(check(&ev), Verdict::Pass(_)), "{:?}", check(&ev));
        td_mut(&mut ev).containers[0].secrets.push(SecretRef {
            name: "DB".into(),
            value_from: "/prod/db".into(),
        });
        match check(&ev) {
            Verdict::Found(f) => {
                assert_eq!(f.strength, Strength::Corroborating);
                assert!(f.title.contains("secret DB"), "{}", f.title);
                assert_eq!(f.against.len(), 1, "the container started");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn public_image_without_logs_needs_no_role() {
        let mut ev = healthy();
        let td = td_mut(&mut ev);
        td.execution_role_arn = None;
        td.containers[0].image = "public.ecr.aws/nginx/nginx:1.27".into();
        td.containers[0].log_configuration = None;
        assert!(matches!(check(&ev), Verdict::Pass(_)));
    }
}
