use super::*;

crate::check_under_test!();
use crate::evidence::{EnvFileEvidence, Evidence, InlinePolicy, S3Object};
use crate::testkit::found;
use crate::testkit::image::{failed_to_start, healthy, role_mut, td_mut};
use crate::testkit::net::Fx;
use serde_json::json;

const ARN: &str = "arn:aws:s3:::app-config/prod/web.env";
/// A real Fargate text (OneClickTag/OneClickTag, ENV_FILES_FIX.md): the
/// bucket was empty, and the execution role had no s3:ListBucket.
const FORBIDDEN: &str = "ResourceInitializationError: failed to download env files: service call has been retried 1 time(s): operation error S3: HeadObject, https response error StatusCode: 403, api error Forbidden: Forbidden.";
/// aws/aws-cli#6470: the download timed out.
const TIMED_OUT: &str = "ResourceInitializationError: failed to download env files: file download command: non empty error stream: RequestCanceled: request context canceled caused by: context deadline exceeded";
/// aws/aws-cdk#12720 (a comment): S3 refused the download.
const ACCESS_DENIED: &str = "ResourceInitializationError: failed to download env files: file download command: non-empty error stream: failed to download file 1.env: failed to write to a temporary file: AccessDenied: Access Denied";

fn allow_s3(ev: &mut Evidence, resource: &str) {
    role_mut(ev).inline_policies = Fact::gathered(vec![InlinePolicy {
        name: "env-files".into(),
        document: Fact::gathered(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource},
            {"Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": "arn:aws:s3:::app-config"}]})),
    }]);
}

fn file(object: Fact<S3Object>, region: Fact<String>) -> EnvFileEvidence {
    EnvFileEvidence {
        container: "web".into(),
        arn: ARN.into(),
        object,
        bucket_region: region,
        bucket_policy: Fact::absent("bucket app-config has no policy"),
    }
}

fn there() -> Fact<S3Object> {
    Fact::gathered(S3Object { key: "prod/web.env".into(), size: Some(120) })
}

/// Task `web`'s container reads `ARN`, its role allows it, S3 said `files`.
fn with_file(mut ev: Evidence, files: Vec<EnvFileEvidence>) -> Evidence {
    td_mut(&mut ev).containers[0].environment_files = vec![ARN.into()];
    allow_s3(&mut ev, ARN);
    ev.env_files = files;
    ev
}

fn home() -> Fact<String> {
    Fact::gathered("us-east-1".into())
}

#[test]
fn a_missing_object_behind_a_403_is_the_missing_object() {
    let missing = Fact::absent("no object has key prod/web.env in bucket app-config");
    let f = found(check(&with_file(failed_to_start(FORBIDDEN), vec![file(missing, home())])));
    assert_eq!(f.strength, Strength::Direct);
    assert!(f.title.contains("bucket `app-config` has no object `prod/web.env`"), "{}", f.title);
    assert!(f.evidence[0].contains("StatusCode: 403"), "{:?}", f.evidence);
    assert!(f.evidence.iter().any(|e| e.contains("ruled out: bucket app-config is in the task's Region")), "{:?}", f.evidence);
    assert!(f.fix[0].contains("aws s3 cp web.env s3://app-config/prod/web.env"), "{:?}", f.fix);
    assert!(f.against.is_empty(), "{:?}", f.against);
}

#[test]
fn a_missing_bucket_is_named_and_its_key_not_judged() {
    let gone = "NoSuchBucket: The specified bucket does not exist";
    let f = found(check(&with_file(failed_to_start(FORBIDDEN), vec![file(Fact::absent(gone), Fact::absent(gone))])));
    assert!(f.title.contains("bucket `app-config`") && f.title.contains("does not exist"), "{}", f.title);
    assert_eq!(f.fix.len(), 1, "{:?}", f.fix);
    assert!(!f.evidence.iter().any(|e| e.contains("has no object")), "{:?}", f.evidence);
}

#[test]
fn a_value_that_is_no_object_arn_is_named() {
    let mut ev = failed_to_start(FORBIDDEN);
    td_mut(&mut ev).containers[0].environment_files = vec!["arn:aws:s3:::app-config".into()];
    let f = found(check(&ev));
    assert!(f.title.contains("is not an S3 object ARN"), "{}", f.title);
}

#[test]
fn files_that_exist_pass_a_task_that_failed_for_another_reason() {
    let reason = "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v3: 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v3: not found";
    match check(&with_file(failed_to_start(reason), vec![file(there(), home())])) {
        Verdict::Pass(d) => assert!(d.contains("object s3://app-config/prod/web.env exists (120 bytes)"), "{d}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_refused_listing_is_a_gap_never_a_missing_object() {
    let refused = Fact::Denied { action: "s3:ListBucket".into(), error: "AccessDenied: Access Denied".into() };
    match check(&with_file(failed_to_start(FORBIDDEN), vec![file(refused, home())])) {
        Verdict::Inconclusive(d) => {
            assert!(d.contains("s3:ListBucket was denied"), "{d}");
            assert!(d.contains("S3 answers 403 both"), "{d}");
        }
        other => panic!("{other:?}"),
    }
    // Another failure named does not close the gap: still undecided, never a
    // pass (as kms-key-policy-denied); with every fact read, a pass.
    let refused = Fact::Denied { action: "s3:ListBucket".into(), error: "AccessDenied".into() };
    match check(&with_file(failed_to_start(PULL), vec![file(refused, home())])) {
        Verdict::Inconclusive(d) => assert!(d.contains("s3:ListBucket was denied"), "{d}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(check(&with_file(failed_to_start(PULL), vec![file(there(), home())])), Verdict::Pass(_)));
}

/// A real pull failure (awsdocs/amazon-ecs-developer-guide, task_cannot_pull_image.md).
const PULL: &str = "CannotPullContainerError: API error (404): repository 111122223333.dkr.ecr.us-east-1.amazonaws.com/<repo>/<image> not found";

#[test]
fn a_timeout_with_the_buckets_region_unread_is_undecided() {
    let unread = Fact::Denied { action: "s3:GetBucketLocation".into(), error: "AccessDenied".into() };
    match check(&with_file(failed_to_start(TIMED_OUT), vec![file(there(), unread)])) {
        Verdict::Inconclusive(d) => {
            assert!(d.contains("network checks judge"), "{d}");
            assert!(d.contains("not checked: the Region of bucket app-config: s3:GetBucketLocation was denied"), "{d}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_role_that_may_not_locate_the_bucket_is_left_to_execution_role_permissions() {
    let mut ev = with_file(failed_to_start(ACCESS_DENIED), vec![file(there(), home())]);
    role_mut(&mut ev).inline_policies = Fact::gathered(vec![InlinePolicy {
        name: "env-files".into(),
        document: Fact::gathered(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": ARN}]})),
    }]);
    match check(&ev) {
        Verdict::Pass(d) => {
            assert!(d.contains("refuse s3:GetBucketLocation on arn:aws:s3:::app-config"), "{d}");
            assert!(d.contains("execution-role-permissions"), "{d}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_missing_bucket_is_the_absent_region_not_words_of_a_detail() {
    // An absent object whose detail happens to name NoSuchBucket is a missing object.
    let f = found(check(&with_file(failed_to_start(FORBIDDEN), vec![file(Fact::absent("NoSuchBucket"), home())])));
    assert!(f.title.contains("has no object `prod/web.env`"), "{}", f.title);
    let gone = Fact::absent("the specified bucket does not exist");
    let f = found(check(&with_file(failed_to_start(FORBIDDEN), vec![file(Fact::not_applicable("no bucket"), gone)])));
    assert!(f.title.contains("The bucket `app-config`") && f.title.contains("does not exist"), "{}", f.title);
}

#[test]
fn a_refusal_of_the_role_itself_is_left_to_execution_role_permissions() {
    let mut ev = with_file(failed_to_start(ACCESS_DENIED), vec![file(there(), home())]);
    allow_s3(&mut ev, "arn:aws:s3:::other-bucket/*");
    match check(&ev) {
        Verdict::Pass(d) => assert!(d.contains("execution-role-permissions"), "{d}"),
        other => panic!("{other:?}"),
    }
    // The object is missing too: named, but below the role's refusal.
    let missing = Fact::absent("no object has key prod/web.env in bucket app-config");
    let mut ev = with_file(failed_to_start(ACCESS_DENIED), vec![file(missing, home())]);
    allow_s3(&mut ev, "arn:aws:s3:::other-bucket/*");
    let f = found(check(&ev));
    assert_eq!(f.strength, Strength::Corroborating);
    assert!(f.against.iter().any(|a| a.contains("execution-role-permissions")), "{:?}", f.against);
}

#[test]
fn a_refusal_the_role_allows_names_what_remains() {
    let f = found(check(&with_file(failed_to_start(ACCESS_DENIED), vec![file(there(), home())])));
    assert_eq!(f.strength, Strength::Corroborating);
    assert!(f.title.contains("whose own policies allow it"), "{}", f.title);
    assert!(f.evidence.iter().any(|e| e.starts_with("ruled out: bucket app-config has no bucket policy")), "{:?}", f.evidence);
    assert!(f.evidence.iter().any(|e| e.contains("not read: a VPC endpoint policy on the path")), "{:?}", f.evidence);
    assert!(!f.fix[0].contains("\"*\""), "{:?}", f.fix);
}

#[test]
fn a_bucket_policy_that_denies_the_role_is_named() {
    let mut e = file(there(), home());
    e.bucket_policy = Fact::gathered(json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "OnlyDeployers", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::app-config/*",
         "Principal": {"AWS": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"}}]}));
    let f = found(check(&with_file(failed_to_start(ACCESS_DENIED), vec![e.clone()])));
    assert_eq!(f.strength, Strength::Direct);
    assert!(f.title.contains("The policy of bucket `app-config` denies execution role `ecsTaskExecutionRole`"), "{}", f.title);
    assert!(f.evidence.iter().any(|x| x.contains("OnlyDeployers")), "{:?}", f.evidence);
    // A deny that hangs on a condition ecs-doctor cannot know decides nothing.
    e.bucket_policy = Fact::gathered(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::app-config/*", "Principal": "*",
         "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}}}]}));
    let f = found(check(&with_file(failed_to_start(ACCESS_DENIED), vec![e.clone()])));
    assert_eq!(f.strength, Strength::Corroborating);
    assert!(f.evidence.iter().any(|x| x.starts_with("not checked: the policy of bucket app-config")), "{:?}", f.evidence);
    assert!(f.fix[0].contains("get-bucket-policy --bucket app-config"), "{:?}", f.fix);
    // A policy that allows the role (or says nothing of it) is ruled out.
    e.bucket_policy = Fact::gathered(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::app-config/*",
         "Principal": {"AWS": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"}}]}));
    let f = found(check(&with_file(failed_to_start(ACCESS_DENIED), vec![e])));
    assert!(f.evidence.iter().any(|x| x.contains("does not deny the role s3:GetObject")), "{:?}", f.evidence);
    // Only a deny is ruled out: another account's bucket must also allow.
    assert!(f.evidence.iter().any(|x| x.contains("its policy must also allow the role")), "{:?}", f.evidence);
    assert!(f.evidence.iter().any(|x| x.contains("s3:GetObject and s3:GetBucketLocation allowed for")), "{:?}", f.evidence);
}

#[test]
fn a_timeout_is_the_network_path() {
    match check(&with_file(failed_to_start(TIMED_OUT), vec![file(there(), home())])) {
        Verdict::Pass(d) => assert!(d.contains("network"), "{d}"),
        other => panic!("{other:?}"),
    }
    let missing = Fact::absent("no object has key prod/web.env in bucket app-config");
    let f = found(check(&with_file(failed_to_start(TIMED_OUT), vec![file(missing, home())])));
    assert_ne!(f.strength, Strength::Direct);
    assert!(f.against.iter().any(|a| a.contains("network checks")), "{:?}", f.against);
}

#[test]
fn a_running_task_passes_and_a_file_deleted_since_is_circumstantial() {
    assert!(matches!(check(&with_file(healthy(), vec![file(there(), home())])), Verdict::Pass(_)));
    let missing = Fact::absent("no object has key prod/web.env in bucket app-config");
    let f = found(check(&with_file(healthy(), vec![file(missing, home())])));
    assert_eq!(f.strength, Strength::Circumstantial);
}

#[test]
fn a_bucket_in_another_region_behind_a_gateway_endpoint_is_unreachable() {
    let fx = Fx::endpoints_only();
    let mut ev = fx.ev();
    ev.task.stop_code = Some("TaskFailedToStart".into());
    ev.task.stopped_reason = Some(TIMED_OUT.into());
    ev.task.timestamps.started_at = None;
    match &mut ev.task_definition {
        Fact::Gathered { value } => value.containers[0].environment_files = vec![ARN.into()],
        _ => unreachable!(),
    }
    ev.env_files = vec![file(there(), Fact::gathered("eu-west-1".into()))];
    let f = found(check(&ev));
    // The timeout is the network checks' to convict: the Region corroborates.
    assert_eq!(f.strength, Strength::Corroborating, "{f:?}");
    assert!(f.title.contains("is in eu-west-1"), "{}", f.title);
    assert!(f.evidence.iter().any(|e| e.contains("the network checks judge the path to S3")), "{:?}", f.evidence);
    assert!(f.against.is_empty(), "{:?}", f.against);
    // The same bucket in the task's Region: the gateway endpoint serves it.
    ev.env_files = vec![file(there(), home())];
    match check(&ev) {
        Verdict::Pass(d) => assert!(d.contains("in the task's Region"), "{d}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn no_environment_files_skips_and_a_text_without_them_is_undecided() {
    assert!(matches!(check(&healthy()), Verdict::Skipped(_)));
    assert!(matches!(check(&failed_to_start(FORBIDDEN)), Verdict::Inconclusive(_)));
}
