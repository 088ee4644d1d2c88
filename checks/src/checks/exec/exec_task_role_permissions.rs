//! ## What it detects
//! A task role that does not let the ECS Exec agent do its work, decided
//! from the role's attached and inline policies: the four Session Manager
//! channel actions (`ssmmessages:CreateControlChannel`,
//! `CreateDataChannel`, `OpenControlChannel`, `OpenDataChannel`);
//! `kms:Decrypt` on the key when the cluster's
//! `executeCommandConfiguration` sets `kmsKeyId`; and, when its logging is
//! `OVERRIDE`, writing the session log where it sends it
//! (`logs:DescribeLogGroups`, `CreateLogStream`, `DescribeLogStreams`,
//! `PutLogEvents` on the log group; `s3:PutObject` and
//! `s3:GetEncryptionConfiguration` on the bucket). A task with no task role, or one whose role does not exist, is
//! found too.
//!
//! ## Why it matters
//! The agent runs with the **task** role, not the execution role. Without
//! these permissions it cannot open the channel and `execute-command` ends
//! with `TargetNotConnectedException`, however the caller is set up; with
//! a missing log or KMS permission the session fails as it opens.
//!
//! ## Example
//! ```text
//! task role web-task: no statement of web-task-policy allows ssmmessages:CreateControlChannel on *
//! cluster prod: executeCommandConfiguration.kmsKeyId = arn:aws:kms:…:key/1234…
//! ```
//!
//! ## How to fix
//! Attach a statement to the task role allowing the four `ssmmessages`
//! actions on `*` (plus `kms:Decrypt` on the cluster's key and the log
//! permissions when configured). Running tasks pick it up within minutes;
//! no redeployment is needed for a changed policy.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html#ecs-exec-required-iam-permissions
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html

use crate::codes::Cause;
use crate::context::Ctx;
use crate::evidence::Fact;
use crate::exec::cluster_config;
use crate::iam::access::{arn_account, decide, Permission};
use crate::iam::permissions::{exec_task_role, SSM_MESSAGES};
use crate::report::{Finding, Strength, Verdict};
use crate::task::unknown_task_definition;

const DOC: &str = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html#ecs-exec-required-iam-permissions";

/// The policy statement that grants what was refused, as a fix.
fn statement(actions: &[&str], resource: &str) -> String {
    let list = actions.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ");
    format!("{{\"Effect\": \"Allow\", \"Action\": [{list}], \"Resource\": \"{resource}\"}}")
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let Some(td) = ev.task_def() else {
        return unknown_task_definition(ev);
    };
    let Some(role_arn) = td.task_role_arn.clone() else {
        return Finding::new(
            Cause::ExecTaskRolePermissions,
            Strength::Direct,
            format!("Task definition {} has no task role, and the ECS Exec agent runs with it", td.label()),
        )
        .evidence("taskRoleArn is not set: the agent has no identity to open the Session Manager channels with")
        .fix(format!(
            "Create a task role trusted by ecs-tasks.amazonaws.com with {}, set taskRoleArn, register the revision and deploy it.",
            statement(SSM_MESSAGES, "*")
        ))
        .doc(DOC)
        .into_verdict();
    };
    let role_name = role_arn.rsplit('/').next().unwrap_or(&role_arn).to_string();
    if let Fact::Absent { detail } = &ev.task_role {
        return Finding::new(
            Cause::ExecTaskRolePermissions,
            Strength::Direct,
            format!("The task role {role_name} does not exist"),
        )
        .evidence(format!("iam:GetRole {role_name}: {detail}"))
        .fix(format!("Create role {role_name} (trusted by ecs-tasks.amazonaws.com) with {}, or point taskRoleArn at one that exists.", statement(SSM_MESSAGES, "*")))
        .doc(DOC)
        .into_verdict();
    }
    let account = ev
        .account
        .clone()
        .or_else(|| arn_account(&role_arn).map(str::to_string))
        .unwrap_or_default();
    let config = cluster_config(ev);
    let reqs = match &config {
        Ok(c) => exec_task_role(c, &ev.region, &account),
        Err(_) => exec_task_role(&Default::default(), &ev.region, &account)
            .into_iter()
            .filter(|r| r.action.starts_with("ssmmessages:"))
            .collect(),
    };
    let assessment = decide(
        &role_arn,
        &ev.task_role,
        &Fact::not_applicable("the task role is judged from its policies"),
        reqs,
        &ev.region,
    );
    let denied: Vec<_> = assessment.denied().collect();
    if !denied.is_empty() {
        let actions: Vec<&str> = denied.iter().map(|a| a.requirement.action.as_str()).collect();
        let mut f = Finding::new(
            Cause::ExecTaskRolePermissions,
            Strength::Corroborating,
            format!("Task role {role_name} does not allow {} (needed by ECS Exec)", actions.join(", ")),
        );
        for a in &denied {
            f = f.evidence(format!(
                "{} on {}: {} — to {}",
                a.requirement.action, a.requirement.resource, a.detail, a.requirement.why
            ));
        }
        f = f.evidence(format!(
            "decided by ecs-doctor's evaluation of the role's {} policy document(s); not seen: {}",
            assessment.policies_evaluated,
            assessment.unseen.join("; ")
        ));
        let mut by_resource: Vec<(String, Vec<&str>)> = Vec::new();
        for a in &denied {
            match by_resource.iter_mut().find(|(r, _)| *r == a.requirement.resource) {
                Some((_, list)) => list.push(&a.requirement.action),
                None => by_resource.push((a.requirement.resource.clone(), vec![&a.requirement.action])),
            }
        }
        let statements: Vec<String> = by_resource.iter().map(|(r, list)| statement(list, r)).collect();
        return f
            .fix(format!(
                "aws iam put-role-policy --role-name {role_name} --policy-name ecs-exec --policy-document '{{\"Version\": \"2012-10-17\", \"Statement\": [{}]}}'",
                statements.join(", ")
            ))
            .fix("A changed policy reaches the running task within minutes: no new deployment is needed.")
            .doc(DOC)
            .into_verdict();
    }
    if let Some(a) = assessment.unknown().next() {
        let why = match &a.outcome {
            Permission::Unknown(w) => w.clone(),
            _ => String::new(),
        };
        return Verdict::Inconclusive(format!("{} for the task role: {why}", a.requirement.action));
    }
    if let Err(why) = config {
        return Verdict::Inconclusive(format!(
            "the task role allows the ssmmessages actions, but whether the session also needs KMS or log permissions is unknown: {why}"
        ));
    }
    Verdict::Pass(format!(
        "task role {role_name} allows all {} action/resource pairs ECS Exec needs",
        assessment.accesses.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::exec::*;
    use crate::testkit::found;
    crate::check_under_test!();

    #[test]
    fn a_role_with_the_channels_passes() {
        match check(&ready()) {
            Verdict::Pass(d) => assert!(d.contains("allows all 4"), "{d}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_role_without_the_channels_is_found_with_the_statement_to_add() {
        let mut ev = ready();
        set_task_role_policy(&mut ev, serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}));
        let f = found(check(&ev));
        assert!(f.title.contains("ssmmessages:CreateControlChannel"), "{}", f.title);
        assert!(f.fix[0].contains("put-role-policy --role-name web-task"), "{:?}", f.fix);
        assert!(f.fix[0].contains("\"ssmmessages:OpenDataChannel\""), "{:?}", f.fix);
    }

    #[test]
    fn a_cluster_key_needs_decrypt_on_it() {
        let mut ev = ready();
        set_cluster_key(&mut ev, "1234abcd-12ab-34cd-56ef-1234567890ab");
        let f = found(check(&ev));
        assert!(f.title.contains("kms:Decrypt"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.contains("arn:aws:kms:us-east-1:123456789012:key/1234abcd")), "{:?}", f.evidence);
    }

    #[test]
    fn only_override_logging_makes_the_session_log_a_requirement() {
        let mut ev = ready();
        let config = ev.exec.value_mut().unwrap().cluster.value_mut().unwrap();
        config.logging = Some("DEFAULT".into());
        assert!(matches!(check(&ev), Verdict::Pass(_)));
        let config = ev.exec.value_mut().unwrap().cluster.value_mut().unwrap();
        config.logging = Some("OVERRIDE".into());
        config.log_group = Some("/ecs/exec-audit".into());
        config.s3_bucket = Some("exec-audit".into());
        let f = found(check(&ev));
        assert!(f.title.contains("logs:PutLogEvents") && f.title.contains("s3:PutObject"), "{}", f.title);
        assert!(f.fix[0].contains("arn:aws:logs:us-east-1:123456789012:log-group:/ecs/exec-audit:*"), "{:?}", f.fix);
    }

    #[test]
    fn no_task_role_is_direct() {
        let mut ev = ready();
        ev.task_definition.value_mut().unwrap().task_role_arn = None;
        assert_eq!(found(check(&ev)).strength, Strength::Direct);
    }

    #[test]
    fn unreadable_policies_or_cluster_are_inconclusive_not_a_pass() {
        let mut ev = ready();
        ev.task_role = Fact::Denied { action: "iam:GetRole".into(), error: "AccessDenied".into() };
        assert!(matches!(check(&ev), Verdict::Inconclusive(_)));
        let mut ev = ready();
        ev.exec.value_mut().unwrap().cluster = Fact::Denied { action: "ecs:DescribeClusters".into(), error: "AccessDeniedException".into() };
        match check(&ev) {
            Verdict::Inconclusive(d) => assert!(d.contains("ecs:DescribeClusters"), "{d}"),
            other => panic!("{other:?}"),
        }
    }
}
