//! ## What it detects
//! Whether the identity running ecs-doctor (the one that would run
//! `aws ecs execute-command`) may call `ecs:ExecuteCommand` on the task.
//! The identity comes from `sts:GetCallerIdentity`; an assumed-role
//! session is judged by its role. IAM's policy simulator
//! (`iam:SimulatePrincipalPolicy`) decides when AWS answers it; otherwise
//! ecs-doctor evaluates the role's or the user's own policies (a user's
//! groups included), and says what it could not see.
//!
//! ## Why it matters
//! A refused caller gets `AccessDeniedException: … is not authorized to
//! perform: ecs:ExecuteCommand on resource: …` however well the task is
//! set up. Policies often scope the action to a cluster or to container
//! names (`ecs:container-name`), so the same person can exec into one
//! service and not another.
//!
//! ## Example
//! ```text
//! sts:GetCallerIdentity: arn:aws:sts::123456789012:assumed-role/oncall/alice
//! ecs:ExecuteCommand on arn:aws:ecs:us-east-1:123456789012:task/prod/0123…: no statement of oncall-read allows it
//! ```
//!
//! ## How to fix
//! Allow `ecs:ExecuteCommand` on the cluster's tasks for the role or user
//! (for example `arn:aws:ecs:<region>:<account>:task/<cluster>/*`), or run
//! the command as an identity that has it. Only the identity's own
//! permission is checked here: the Session Manager plugin must be installed
//! where the command runs.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html#ecs-exec-best-practices-limit-access-execute-command
//! - https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html

use crate::codes::Cause;
use crate::context::Ctx;
use crate::evidence::Fact;
use crate::iam::access::{decide, Method, Permission};
use crate::iam::permissions::exec_caller;
use crate::report::{Finding, Strength, Verdict};
use crate::task::cluster_name;

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let caller = match &ev.exec {
        Fact::Gathered { value } => &value.caller,
        other => return Verdict::Inconclusive(other.gap_reason().unwrap_or_default()),
    };
    let caller = match caller {
        Fact::Gathered { value } => value,
        other => {
            return Verdict::Inconclusive(format!(
                "the caller's identity: {}",
                other.gap_reason().unwrap_or_default()
            ))
        }
    };
    let Some(principal) = caller.principal_arn.as_deref() else {
        if caller.arn.ends_with(":root") {
            return Verdict::Pass(format!(
                "{} is the account's root user, allowed every action unless a service control policy denies it",
                caller.arn
            ));
        }
        return Verdict::Inconclusive(format!(
            "{} is not an IAM role or user whose policies ecs-doctor can read",
            caller.arn
        ));
    };
    let assessment = decide(
        principal,
        &caller.policies,
        &caller.simulation,
        exec_caller(&ev.task.arn),
        &ev.region,
    );
    let Some(access) = assessment.accesses.first() else {
        return Verdict::Skipped("nothing to decide".into());
    };
    let method = match access.method {
        Method::Simulator => "decided by iam:SimulatePrincipalPolicy".to_string(),
        Method::PolicyEvaluation => format!(
            "decided by ecs-doctor's evaluation of {} policy document(s); the simulator did not answer: {}",
            assessment.policies_evaluated,
            assessment.simulator_unavailable.clone().unwrap_or_default()
        ),
    };
    match &access.outcome {
        Permission::Allowed => {
            let mut detail = format!("{} may call ecs:ExecuteCommand on the task ({}; {method})", caller.arn, access.detail);
            if !access.caveats.is_empty() {
                detail.push_str(&format!("; not evaluated: {}", access.caveats.join("; ")));
            }
            Verdict::Pass(detail)
        }
        Permission::Unknown(why) => Verdict::Inconclusive(format!("ecs:ExecuteCommand for {}: {why}", caller.arn)),
        Permission::ExplicitDeny | Permission::ImplicitDeny => {
            let who = principal.rsplit('/').next().unwrap_or(principal);
            let kind = if principal.contains(":user/") { "user" } else { "role" };
            let part = crate::iam::permissions::partition(&ev.region);
            let account = crate::iam::access::arn_account(&ev.task.arn).unwrap_or_default();
            let tasks = format!("arn:{part}:ecs:{}:{account}:task/{}/*", ev.region, cluster_name(ev));
            let put = if kind == "user" { "put-user-policy --user-name" } else { "put-role-policy --role-name" };
            let mut f = Finding::new(
                Cause::ExecCallerNotAllowed,
                Strength::Corroborating,
                format!("The caller ({kind} {who}) is not allowed ecs:ExecuteCommand on task {}", ev.task.id),
            )
            .evidence(format!("sts:GetCallerIdentity: {}", caller.arn))
            .evidence(format!("ecs:ExecuteCommand on {}: {} ({method})", ev.task.arn, access.detail));
            if !assessment.unseen.is_empty() {
                f = f.evidence(format!("not seen: {}", assessment.unseen.join("; ")));
            }
            f.fix(format!(
                "aws iam {put} {who} --policy-name ecs-exec --policy-document '{{\"Version\": \"2012-10-17\", \"Statement\": [{{\"Effect\": \"Allow\", \"Action\": \"ecs:ExecuteCommand\", \"Resource\": \"{tasks}\"}}]}}'"
            ))
            .fix("Or run execute-command as an identity that is allowed it.")
            .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html#ecs-exec-best-practices-limit-access-execute-command")
            .into_verdict()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::SimulationResult;
    use crate::testkit::exec::*;
    use crate::testkit::found;
    crate::check_under_test!();

    #[test]
    fn a_caller_allowed_by_its_policies_passes() {
        match check(&ready()) {
            Verdict::Pass(d) => assert!(d.contains("may call ecs:ExecuteCommand"), "{d}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_caller_without_the_action_is_found_with_the_statement() {
        let mut ev = ready();
        set_caller_policy(&mut ev, serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["ecs:Describe*", "ecs:List*"], "Resource": "*"}]}));
        let f = found(check(&ev));
        assert!(f.title.contains("role oncall"), "{}", f.title);
        assert!(f.fix[0].contains("put-role-policy --role-name oncall"), "{:?}", f.fix);
        assert!(f.fix[0].contains("task/prod/*"), "{:?}", f.fix);
    }

    #[test]
    fn the_simulator_decides_when_it_answers() {
        let mut ev = ready();
        let caller = ev.exec.value_mut().unwrap().caller.value_mut().unwrap();
        caller.simulation = Fact::gathered(vec![SimulationResult {
            action: "ecs:ExecuteCommand".into(),
            resource: TASK_ARN.into(),
            decision: "explicitDeny".into(),
            ..Default::default()
        }]);
        let f = found(check(&ev));
        assert!(f.evidence.iter().any(|e| e.contains("iam:SimulatePrincipalPolicy")), "{:?}", f.evidence);
    }

    #[test]
    fn unreadable_policies_without_a_simulator_are_inconclusive() {
        let mut ev = ready();
        let caller = ev.exec.value_mut().unwrap().caller.value_mut().unwrap();
        caller.policies = Fact::Denied { action: "iam:GetRole".into(), error: "AccessDenied".into() };
        assert!(matches!(check(&ev), Verdict::Inconclusive(_)));
    }
}
