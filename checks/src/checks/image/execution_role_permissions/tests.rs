use super::*;

use crate::evidence::Evidence;
use crate::testkit::found;

crate::check_under_test!();
use crate::evidence::{Fact, InlinePolicy};
use crate::testkit::image::*;
use serde_json::json;

const SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf";

fn secret_denied_text() -> String {
    format!(
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/{TASK_ID} is not authorized to perform: secretsmanager:GetSecretValue on resource: {SECRET} because no identity-based policy allows the secretsmanager:GetSecretValue action"
    )
}

fn secret_task() -> Evidence {
    let mut ev = failed_to_start(&secret_denied_text());
    add_secret(&mut ev, "DB_PASSWORD", &format!("{SECRET}:password::"), secret_metadata(SECRET, None));
    ev
}


/// The (action, resource) pairs a finding reports as missing.
fn missing(f: &Finding) -> Vec<String> {
    f.evidence
        .iter()
        .filter(|e| e.contains(": not allowed") || e.contains(": explicitly denied"))
        .map(|e| e[..e.find(": ").unwrap()].to_string())
        .collect()
}

#[test]
fn healthy_task_passes_with_the_method_named() {
    match check(&healthy()) {
        Verdict::Pass(d) => {
            assert!(d.contains("all 6 action/resource pairs"), "{d}");
            assert!(d.contains("ecs-doctor's own evaluation"), "{d}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_policy_listing_that_failed_is_undecided_not_no_policies() {
    for denied in [true, false] {
        let mut ev = failed_to_start("CannotPullContainerError: pull image manifest has been retried 5 time(s): i/o timeout");
        let refused = if denied {
            Fact::Denied { action: "iam:ListAttachedRolePolicies".into(), error: "AccessDenied".into() }
        } else {
            Fact::Failed { action: "iam:ListAttachedRolePolicies".into(), error: "Throttling: Rate exceeded".into() }
        };
        role_mut(&mut ev).attached_policies = refused;
        match check(&ev) {
            Verdict::Inconclusive(d) => assert!(d.contains("the role's managed policies"), "{d}"),
            other => panic!("a role whose policies could not be listed was judged: {other:?}"),
        }
    }
}

/// AWS refused the secret at start, and the managed policy that allows it
/// today was changed after the task stopped: the refusal still ranks,
/// with what changed, instead of blaming a policy nobody can see.
#[test]
fn a_policy_changed_after_the_stop_does_not_hide_the_refusal() {
    let mut ev = secret_task();
    let role = role_mut(&mut ev);
    if let Fact::Gathered { value } = &mut role.attached_policies {
        value[0].document = Fact::gathered(serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}
        ]}));
        value[0].updated_at = Some("2026-01-01T12:13:00Z".into());
    }
    let f = found(check(&ev));
    assert_eq!(f.strength, Strength::Direct);
    let all = f.evidence.join("\n");
    assert!(all.contains("policy AmazonECSTaskExecutionRolePolicy was changed 12 minutes after this task stopped"), "{all}");
    assert!(f.against.iter().all(|a| !a.contains("service control policy")), "{:?}", f.against);
    // Changed before the stop: the documents read today were in force
    // then, so something they do not show refused (the caveat stays).
    if let Fact::Gathered { value } = &mut role_mut(&mut ev).attached_policies {
        value[0].updated_at = Some("2025-12-01T00:00:00Z".into());
    }
    let f = found(check(&ev));
    assert!(f.against.iter().any(|a| a.contains("service control policy")), "{:?}", f.against);
}

#[test]
fn missing_secret_permission_from_policy_evaluation() {
    let f = found(check(&secret_task()));
    assert_eq!(f.strength, Strength::Direct);
    let all = f.evidence.join("\n");
    assert!(all.contains(&format!("secretsmanager:GetSecretValue on {SECRET}: not allowed")), "{all}");
    assert!(all.contains("the stop reason names this refusal"), "{all}");
    assert!(all.contains(&format!("assumed-role/ecsTaskExecutionRole/{TASK_ID} (this task's id)")), "{all}");
    assert!(all.contains("ecs-doctor's own evaluation"), "{all}");
    assert!(all.contains("neither method sees"), "{all}");
    assert!(f.fix[0].contains("secretsmanager:GetSecretValue") && f.fix[0].contains(SECRET), "{:?}", f.fix);
    assert!(f.against.is_empty(), "{:?}", f.against);
}

/// The same fixture reaches the same verdict when the simulator answers
/// (recorded responses) and when it is unavailable (policy evaluation).
#[test]
fn simulator_and_policy_evaluation_agree() {
    let evaluated = secret_task();
    let mut simulated_ev = secret_task();
    simulated_ev.simulation = Fact::gathered(vec![
        simulated("ecr:GetAuthorizationToken", "*", "allowed"),
        simulated("ecr:BatchCheckLayerAvailability", REPO_ARN, "allowed"),
        simulated("ecr:GetDownloadUrlForLayer", REPO_ARN, "allowed"),
        simulated("ecr:BatchGetImage", REPO_ARN, "allowed"),
        simulated("logs:CreateLogStream", LOG_GROUP_ARN, "allowed"),
        simulated("logs:PutLogEvents", LOG_GROUP_ARN, "allowed"),
        simulated("secretsmanager:GetSecretValue", SECRET, "implicitDeny"),
    ]);
    let a = found(check(&evaluated));
    let b = found(check(&simulated_ev));
    assert_eq!(a.code, b.code);
    assert_eq!(a.strength, b.strength);
    assert_eq!(a.title, b.title);
    assert_eq!(missing(&a), missing(&b));
    assert!(!missing(&a).is_empty());
    assert!(b.evidence.iter().any(|e| e.contains("decided by iam:SimulatePrincipalPolicy (7")), "{:?}", b.evidence);
    assert!(a.evidence.iter().any(|e| e.contains("the simulator did not answer: iam:SimulatePrincipalPolicy failed")), "{:?}", a.evidence);
    // And the healthy task passes both ways.
    let mut healthy_sim = healthy();
    healthy_sim.simulation = Fact::gathered(
        simulated_ev.simulation.value().unwrap()[..6].to_vec(),
    );
    assert!(matches!(check(&healthy_sim), Verdict::Pass(_)));
    assert!(matches!(check(&healthy()), Verdict::Pass(_)));
}

#[test]
fn create_group_needs_create_log_group_which_the_managed_policy_lacks() {
    let mut ev = failed_to_start("ResourceInitializationError: failed to validate logger args: create log group: AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/0123456789abcdef0123456789abcdef is not authorized to perform: logs:CreateLogGroup on resource: arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:log-stream: : exit status 1");
    set_log_option(&mut ev, "awslogs-create-group", "true");
    let f = found(check(&ev));
    assert!(f.title.contains("logs:CreateLogGroup"), "{}", f.title);
    assert!(f.evidence.iter().any(|e| e.contains("the stop reason names this refusal")), "{:?}", f.evidence);
}

#[test]
fn explicit_deny_overrides_and_is_named() {
    let mut ev = failed_to_start("CannotPullContainerError: The task can’t pull the image. Check that the role has the permissions to pull images from the registry.");
    role_mut(&mut ev).inline_policies.value_mut().expect("listed").push(InlinePolicy {
        name: "guardrail".into(),
        document: Fact::gathered(json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "NoProdPulls", "Effect": "Deny", "Action": "ecr:BatchGetImage", "Resource": REPO_ARN}]})),
    });
    let f = found(check(&ev));
    assert_eq!(f.strength, Strength::Direct);
    assert!(f.evidence.iter().any(|e| e.contains("explicitly denied") && e.contains("NoProdPulls")), "{:?}", f.evidence);
    assert!(f.fix.iter().any(|x| x.contains("Remove or narrow the Deny")), "{:?}", f.fix);
}

#[test]
fn resource_scoped_policy_that_misses_the_repository() {
    let mut ev = failed_to_start("CannotPullContainerError: The task can’t pull the image. Check that the role has the permissions to pull images from the registry.");
    let r = role_mut(&mut ev);
    r.attached_policies = Fact::gathered(Vec::new());
    r.inline_policies.value_mut().expect("listed").push(InlinePolicy {
        name: "pull-api".into(),
        document: Fact::gathered(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"},
            {"Effect": "Allow", "Action": "ecr:*", "Resource": "arn:aws:ecr:us-east-1:123456789012:repository/api"}]})),
    });
    let f = found(check(&ev));
    assert!(f.title.contains("(and 2 more)"), "{}", f.title);
    let all = f.evidence.join("\n");
    for action in ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"] {
        assert!(all.contains(&format!("{action} on {REPO_ARN}: not allowed")), "{all}");
    }
}

#[test]
fn a_repository_policy_refusing_what_the_role_allows_is_not_this() {
    // The role's own policies allow the pull: ecr-repository-policy-denied explains it.
    let mut ev = failed_to_start("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 210987654321.dkr.ecr.us-east-1.amazonaws.com/shared/base:1: denied: User: arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/0123456789abcdef0123456789abcdef is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:210987654321:repository/shared/base because no resource-based policy allows the ecr:BatchGetImage action");
    let image = "210987654321.dkr.ecr.us-east-1.amazonaws.com/shared/base:1";
    td_mut(&mut ev).containers[0].image = image.into();
    let e = ecr_mut(&mut ev);
    e.registry_id = "210987654321".into();
    e.repository = "shared/base".into();
    e.repository_arn = Some("arn:aws:ecr:us-east-1:210987654321:repository/shared/base".into());
    e.repository_policy = Fact::absent("no policy");
    ev.images[0].image = image.into();
    match check(&ev) {
        Verdict::Pass(d) => assert!(d.contains("refused by the ECR repository policy instead"), "{d}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn customer_kms_key_needs_decrypt() {
    let mut ev = failed_to_start("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): AccessDeniedException: Access to KMS is not allowed");
    add_secret(&mut ev, "DB", SECRET, secret_metadata(SECRET, Some("arn:aws:kms:us-east-1:123456789012:key/1234abcd")));
    role_mut(&mut ev).inline_policies.value_mut().expect("listed").push(InlinePolicy {
        name: "secrets".into(),
        document: Fact::gathered(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": SECRET}]})),
    });
    let f = found(check(&ev));
    assert!(f.title.contains("kms:Decrypt"), "{}", f.title);
    assert_eq!(f.strength, Strength::Direct);
}

#[test]
fn kms_refusing_a_role_its_policies_allow_is_the_key_policys() {
    let key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd";
    let mut ev = failed_to_start("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): AccessDeniedException: Access to KMS is not allowed");
    add_secret(&mut ev, "DB", SECRET, secret_metadata(SECRET, Some(key)));
    role_mut(&mut ev).inline_policies.value_mut().expect("listed").push(InlinePolicy {
        name: "secrets".into(),
        document: Fact::gathered(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "kms:Decrypt"], "Resource": "*"}]})),
    });
    // The key is known and the role's own policies allow it: not this check's refusal.
    assert!(matches!(check(&ev), Verdict::Pass(_)), "{:?}", check(&ev));
}

#[test]
fn text_refusal_the_policies_allow_points_beyond_identity_policies() {
    let ev = failed_to_start(&format!("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/{TASK_ID} is not authorized to perform: ecr:GetAuthorizationToken on resource: * with an explicit deny in a service control policy"));
    let f = found(check(&ev));
    assert_eq!(f.strength, Strength::Direct);
    assert_eq!(f.against.len(), 1, "{:?}", f.against);
    assert!(f.against[0].contains("the error blames a service control policy"), "{:?}", f.against);
}

#[test]
fn unreadable_policies_and_no_simulator_is_inconclusive() {
    let mut ev = failed_to_start("CannotPullContainerError: pull access denied");
    ev.execution_role = Fact::Denied { action: "iam:GetRole".into(), error: "AccessDenied".into() };
    match check(&ev) {
        Verdict::Inconclusive(d) => assert!(d.contains("iam:GetRole was denied"), "{d}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn skips_when_no_role_or_role_missing() {
    let mut ev = healthy();
    td_mut(&mut ev).execution_role_arn = None;
    assert!(matches!(check(&ev), Verdict::Skipped(_)));
    let mut ev = healthy();
    ev.execution_role = Fact::absent("role ecsTaskExecutionRole does not exist");
    assert!(matches!(check(&ev), Verdict::Skipped(_)));
}

#[test]
fn another_accounts_secret_under_an_aws_managed_key_is_named() {
    // The real "Access to KMS is not allowed" text; the secret is shared by another account.
    let shared = "arn:aws:secretsmanager:us-east-1:210987654321:secret:shared-db-AbCdEf";
    let mut ev = failed_to_start("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): AccessDeniedException: Access to KMS is not allowed");
    add_secret(&mut ev, "DB", shared, secret_metadata(shared, None));
    role_mut(&mut ev).inline_policies.value_mut().expect("listed").push(InlinePolicy {
        name: "secrets".into(),
        document: Fact::gathered(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": shared}]})),
    });
    let f = found(check(&ev));
    // The role's own policies refuse nothing: not more than corroborating.
    assert_eq!(f.strength, Strength::Corroborating);
    assert!(f.evidence.iter().any(|e| e.contains("secrets of another account: DB")), "{:?}", f.evidence);
    assert!(f.fix[0].contains("customer managed key"), "{:?}", f.fix);
}
