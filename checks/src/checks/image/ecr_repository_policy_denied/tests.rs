use super::*;
use crate::evidence::{Evidence, Fact, InlinePolicy};
use crate::report::Strength;
use crate::testkit::found;
use crate::testkit::image::*;
use serde_json::json;

crate::check_under_test!();

const OTHER: &str = "210987654321";
const SHARED_IMAGE: &str = "210987654321.dkr.ecr.us-east-1.amazonaws.com/shared/base:1";
const SHARED_ARN: &str = "arn:aws:ecr:us-east-1:210987654321:repository/shared/base";

/// ECR's refusal blaming the repository's policy (the agent's own wording, corpus).
fn refused_text() -> String {
    format!("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref {SHARED_IMAGE}: denied: User: arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/0123456789abcdef0123456789abcdef is not authorized to perform: ecr:BatchGetImage on resource: {SHARED_ARN} because no resource-based policy allows the ecr:BatchGetImage action")
}

/// A 403 on the manifest (corpus: aws/aws-cdk#29876), for the shared image.
fn forbidden_text() -> String {
    format!("CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref {SHARED_IMAGE}: pulling from host 210987654321.dkr.ecr.us-east-1.amazonaws.com failed with status code [manifests 1]: 403 Forbidden")
}

fn shared(reason: &str, policy: Fact<serde_json::Value>) -> Evidence {
    let mut ev = failed_to_start(reason);
    td_mut(&mut ev).containers[0].image = SHARED_IMAGE.into();
    let e = ecr_mut(&mut ev);
    e.registry_id = OTHER.into();
    e.repository = "shared/base".into();
    e.repository_arn = Some(SHARED_ARN.into());
    e.repository_policy = policy;
    ev.images[0].image = SHARED_IMAGE.into();
    ev
}

#[test]
fn a_readable_policy_that_misses_an_action_names_it() {
    let ev = shared(&forbidden_text(), Fact::gathered(json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "ReadForProd", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": ["ecr:BatchGetImage", "ecr:BatchCheckLayerAvailability", "ecr:DescribeImages"]}]})));
    let f = found(check(&ev));
    assert_eq!(f.strength, Strength::Direct);
    assert!(f.title.contains("ecr:GetDownloadUrlForLayer refused"), "{}", f.title);
    assert!(!f.title.contains("ecr:BatchGetImage"), "{}", f.title);
    let fix = f.fix.join("\n");
    assert!(fix.contains(ROLE_ARN) && fix.contains("\"Action\":[\"ecr:GetDownloadUrlForLayer\"]") && fix.contains("account 210987654321"), "{fix}");
    assert!(!fix.contains("\"Principal\":\"*\""), "{fix}");
}

#[test]
fn another_accounts_repository_without_a_policy_refuses_every_role() {
    let f = found(check(&shared(&refused_text(), Fact::absent("no policy"))));
    assert_eq!(f.strength, Strength::Direct);
    let all = f.evidence.join("\n");
    assert!(all.contains("has no repository policy") && all.contains("AWS blames a resource-based policy"), "{all}");
}

#[test]
fn an_unreadable_policy_is_a_gap_and_the_text_decides() {
    let denied = Fact::Denied { action: "ecr:GetRepositoryPolicy".into(), error: "AccessDeniedException".into() };
    let f = found(check(&shared(&forbidden_text(), denied.clone())));
    assert_eq!(f.strength, Strength::Direct);
    let all = f.evidence.join("\n");
    assert!(all.contains("could not be read: ecr:GetRepositoryPolicy was denied"), "{all}");
    assert!(f.fix[0].contains(ROLE_ARN) && f.fix[0].contains("ecr:GetDownloadUrlForLayer"), "{:?}", f.fix);
    // The whole image read refused (DescribeImages): still a gap, never a missing image.
    let mut ev = shared(&forbidden_text(), denied.clone());
    ev.images[0].ecr = Fact::Denied { action: "ecr:DescribeImages".into(), error: "AccessDeniedException".into() };
    let f = found(check(&ev));
    assert!(f.evidence.join("\n").contains("ecr:DescribeImages"), "{:?}", f.evidence);
    // No refusal in the text: undecided, naming the gap.
    let mut ev = shared("CannotPullContainerError: pull image manifest has been retried 1 time(s): something else", denied);
    ev.task.containers[0].reason = None;
    match check(&ev) {
        Verdict::Inconclusive(d) => assert!(d.contains("could not be read"), "{d}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_role_refusing_its_own_pull_is_execution_role_permissions() {
    let mut ev = shared(&forbidden_text(), Fact::absent("no policy"));
    let r = role_mut(&mut ev);
    r.attached_policies = Fact::gathered(Vec::new());
    r.inline_policies = Fact::gathered(vec![InlinePolicy {
        name: "logs-only".into(),
        document: Fact::gathered(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]})),
    }]);
    assert!(!matches!(check(&ev), Verdict::Found(_)), "{:?}", check(&ev));
}

#[test]
fn a_policy_that_allows_the_role_and_the_same_account_pass() {
    let ev = shared("", Fact::gathered(json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": ROLE_ARN},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]}]})));
    assert!(matches!(check(&ev), Verdict::Pass(_)), "{:?}", check(&ev));
    let ev = failed_to_start("CannotPullContainerError: ref pull has been retried 1 time(s): 403 Forbidden");
    match check(&ev) {
        Verdict::Pass(d) => assert!(d.contains("the role's own policies decide"), "{d}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_deny_in_a_same_account_repository_policy_is_named() {
    let mut ev = failed_to_start("CannotPullContainerError: ref pull has been retried 1 time(s): 403 Forbidden");
    ecr_mut(&mut ev).repository_policy = Fact::gathered(json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "NoTaskPulls", "Effect": "Deny", "Principal": "*", "Action": "ecr:BatchGetImage"}]}));
    let f = found(check(&ev));
    assert!(f.evidence.join("\n").contains("NoTaskPulls"), "{:?}", f.evidence);
    assert!(f.fix.iter().any(|x| x.contains("narrow the Deny")), "{:?}", f.fix);
}
