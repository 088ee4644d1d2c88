//! ## What it detects
//! The execution role's trust policy does not let `ecs-tasks.amazonaws.com`
//! call `sts:AssumeRole`: no statement names that service (a common slip is
//! `ecs.amazonaws.com` or `ec2.amazonaws.com`), a `Deny` matches it, or the
//! only matching `Allow` has a condition ECS cannot satisfy
//! (`aws:SourceAccount` of another account, an `aws:SourceArn` in another
//! Region, account or narrower than ECS presents, an `sts:ExternalId` ECS
//! never sends). Conditions on keys ecs-doctor does not know are reported as
//! not evaluated.
//!
//! ## Why it matters
//! When ECS cannot assume the execution role the task never gets
//! credentials to pull its image, fetch its secrets or create its log
//! stream, and stops before any container starts. Services report «IAM
//! trust relationship has been misconfigured or changed».
//!
//! ## Example
//! ```text
//! stoppedReason = ECS was unable to assume the role 'arn:aws:iam::123456789012:role/web-exec'
//!                 that was provided for this task. Please verify that the role being passed
//!                 has the proper trust relationship …
//! trust policy: no statement allows ecs-tasks.amazonaws.com to call sts:AssumeRole;
//!               it trusts Service: ecs.amazonaws.com
//! ```
//!
//! ## How to fix
//! Replace the trust policy with one that allows `ecs-tasks.amazonaws.com`
//! to call `sts:AssumeRole` (the report prints the command). To guard
//! against the confused deputy, condition it on `aws:SourceAccount` equal to
//! the task's account and `aws:SourceArn` like `arn:aws:ecs:<region>:<account>:*`.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
//! - https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
//! - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html

use crate::context::Ctx;
use crate::stops::Detail;
use crate::iam::access::arn_account;

use crate::codes::Cause;
use crate::evidence::Fact;
use crate::iam::policy::{self, TrustContext};
use crate::report::{Finding, Strength, Verdict};

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let role = match &ev.execution_role {
        Fact::Gathered { value } => value,
        Fact::NotApplicable { reason } => return Verdict::Skipped(reason.clone()),
        Fact::Absent { .. } => return Verdict::Skipped("the execution role does not exist".into()),
        other => {
            return Verdict::Inconclusive(format!(
                "the execution role's trust policy is unknown: {}",
                other.gap_reason().unwrap_or_default()
            ))
        }
    };
    if role.trust_policy.is_null() {
        return Verdict::Inconclusive(format!(
            "iam:GetRole returned no readable trust policy for {}",
            role.name
        ));
    }
    let account = ev
        .account
        .clone()
        .or_else(|| arn_account(&ev.task.arn).map(str::to_string))
        .or_else(|| arn_account(&role.arn).map(str::to_string))
        .unwrap_or_default();
    let trust_ctx = TrustContext {
        account: account.clone(),
        task_arn: ev.task.arn.clone(),
    };
    let trust = match policy::trust(&role.trust_policy, &trust_ctx) {
        Ok(t) => t,
        Err(e) => return Verdict::Inconclusive(format!("the trust policy of {} could not be evaluated: {e}", role.name)),
    };
    if trust.trusted {
        let mut detail = format!(
            "the trust policy of {} lets ecs-tasks.amazonaws.com assume it ({})",
            role.name,
            trust.deciding.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
        );
        if !trust.not_evaluated.is_empty() {
            detail.push_str(&format!("; not evaluated: {}", trust.not_evaluated.join("; ")));
        }
        return Verdict::Pass(detail);
    }
    let text = ctx.stops.stating(Detail::AssumeRoleFailed).map(|t| t.text.clone());
    let strength = if text.is_some() {
        Strength::Direct
    } else {
        Strength::Corroborating
    };
    let mut finding = Finding::new(
        Cause::ExecutionRoleUntrusted,
        strength,
        format!(
            "Execution role `{}` does not trust ecs-tasks.amazonaws.com: {}",
            role.name,
            trust.reasons.first().cloned().unwrap_or_default()
        ),
    );
    if let Some(t) = &text {
        finding = finding.evidence(format!("stop reason: \"{t}\""));
    }
    for r in &trust.reasons {
        finding = finding.evidence(format!("trust policy: {r}"));
    }
    finding = finding.evidence(format!(
        "evaluated for principal ecs-tasks.amazonaws.com, action sts:AssumeRole, aws:SourceAccount = {account}, aws:SourceArn = {}",
        ev.task.arn
    ));
    for n in &trust.not_evaluated {
        finding = finding.evidence(format!("not evaluated: {n}"));
    }
    if ev.task.timestamps.started_at.is_some() {
        finding = finding.against("the task's containers started, so ECS did assume a role when it launched");
    }
    let region = ev.region.clone();
    let document = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": format!("arn:{}:ecs:{region}:{account}:*", crate::iam::permissions::partition(&region))}
            }
        }]
    });
    finding
        .fix(format!(
            "aws iam update-assume-role-policy --role-name {} --policy-document '{document}'",
            role.name
        ))
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html")
        .into_verdict()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::evidence::Evidence;
    crate::check_under_test!();
    use crate::testkit::image::*;
    use serde_json::json;

    const ASSUME: &str = "ECS was unable to assume the role 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole' that was provided for this task. Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role.";

    fn with_trust(doc: serde_json::Value) -> Evidence {
        let mut ev = failed_to_start(ASSUME);
        role_mut(&mut ev).trust_policy = doc;
        ev
    }

    #[test]
    fn healthy_task_passes() {
        assert!(matches!(check(&healthy()), Verdict::Pass(_)));
    }

    #[test]
    fn trusts_the_wrong_service() {
        let ev = with_trust(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}]}));
        match check(&ev) {
            Verdict::Found(f) => {
                assert_eq!(f.strength, Strength::Direct);
                assert!(f.title.contains("it trusts Service: ecs.amazonaws.com"), "{}", f.title);
                assert!(f.fix[0].contains("update-assume-role-policy --role-name ecsTaskExecutionRole"));
                assert!(f.fix[0].contains("arn:aws:ecs:us-east-1:123456789012:*"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn source_account_condition_for_another_account() {
        let ev = with_trust(json!({"Version": "2012-10-17", "Statement": [{"Sid": "Guarded", "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": "999999999999"}}}]}));
        match check(&ev) {
            Verdict::Found(f) => {
                let all = f.evidence.join("\n");
                assert!(all.contains("Guarded") && all.contains("999999999999") && all.contains("123456789012"), "{all}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn correct_conditions_pass() {
        let mut ev = healthy();
        role_mut(&mut ev).trust_policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT},
                          "ArnLike": {"aws:SourceArn": "arn:aws:ecs:us-east-1:123456789012:*"}}}]});
        assert!(matches!(check(&ev), Verdict::Pass(_)), "{:?}", check(&ev));
    }

    #[test]
    fn unknown_trust_policy_is_inconclusive() {
        let mut ev = healthy();
        ev.execution_role = Fact::Failed { action: "iam:GetRole".into(), error: "timed out".into() };
        assert!(matches!(check(&ev), Verdict::Inconclusive(_)));
    }
}
