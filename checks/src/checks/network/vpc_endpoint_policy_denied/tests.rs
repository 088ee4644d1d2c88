use super::*;
use crate::report::Strength;
use crate::testkit::found;
use crate::testkit::net::*;
use serde_json::json;

crate::check_under_test!();

/// The layer download's refusal, as a real stop text says it (corpus).
const LAYER_403: &str = "CannotPullContainerError: failed to copy: httpReadSeeker: failed open: unexpected status code 403 Forbidden";

fn role() -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole")
}

fn secret() -> String {
    format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db-url-AbCdEf")
}

fn sm_refused() -> String {
    format!(
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): AccessDeniedException: User: arn:aws:sts::{ACCOUNT}:assumed-role/ecsTaskExecutionRole/{} is not authorized to perform: secretsmanager:GetSecretValue on resource: {} because no VPC endpoint policy allows the secretsmanager:GetSecretValue action",
        crate::testkit::TASK_ID,
        secret()
    )
}

fn with_role(mut fx: Fx) -> Fx {
    fx.td.execution_role_arn = Some(role());
    fx
}

fn policy_of(fx: &mut Fx, id: &str, policy: serde_json::Value) {
    fx.endpoints.iter_mut().find(|e| e.id == id).unwrap().policy = Some(policy);
}

fn only_our_buckets() -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "OnlyOurBuckets", "Effect": "Allow", "Principal": "*",
        "Action": "s3:*", "Resource": ["arn:aws:s3:::acme-assets", "arn:aws:s3:::acme-assets/*"]
    }]})
}

#[test]
fn an_s3_gateway_policy_without_the_layer_bucket_refuses_the_layers() {
    let mut fx = with_role(Fx::endpoints_only()).stopped("TaskFailedToStart", LAYER_403);
    policy_of(&mut fx, "vpce-s3", only_our_buckets());
    let f = found(check(&fx.ev()));
    assert_eq!(f.strength, Strength::Direct);
    assert!(f.title.contains("S3 gateway endpoint vpce-s3"), "{}", f.title);
    let all = f.evidence.join("\n");
    assert!(all.contains("s3:GetObject on arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*"), "{all}");
    assert!(all.contains("no statement allows it (statements: OnlyOurBuckets)"), "{all}");
    assert!(f.fix[0].contains("\"Resource\":\"arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*\""), "{:?}", f.fix);
    assert!(f.fix[0].contains("modify-vpc-endpoint --vpc-endpoint-id vpce-s3"), "{:?}", f.fix);
    assert!(!f.fix[0].contains("\"Resource\":\"*\""), "{:?}", f.fix);
}

#[test]
fn a_secrets_manager_endpoint_that_does_not_allow_the_role() {
    let mut fx = with_role(Fx::endpoints_only()).stopped("TaskFailedToStart", &sm_refused());
    policy_of(&mut fx, "vpce-sm", json!({"Statement": [{
        "Sid": "OnlyDeployRole", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/deploy")},
        "Action": "secretsmanager:*", "Resource": "*"
    }]}));
    let f = found(check(&fx.ev()));
    assert_eq!(f.strength, Strength::Direct);
    assert!(f.title.contains("vpce-sm") && f.title.contains("secretsmanager:GetSecretValue"), "{}", f.title);
    assert!(f.evidence[0].contains("because no VPC endpoint policy allows"), "{:?}", f.evidence);
    let fix = f.fix.join("\n");
    assert!(fix.contains(&role()) && fix.contains(&secret()), "{fix}");
    assert!(fix.contains("modify-vpc-endpoint --vpc-endpoint-id vpce-sm"), "{fix}");
}

#[test]
fn an_explicit_deny_is_named_and_narrowed() {
    let mut fx = with_role(Fx::endpoints_only()).stopped("TaskFailedToStart", &sm_refused());
    policy_of(&mut fx, "vpce-sm", json!({"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
        {"Sid": "NoSecretsOutsideProd", "Effect": "Deny", "Principal": "*",
         "Action": "secretsmanager:GetSecretValue", "Resource": secret()}
    ]}));
    let f = found(check(&fx.ev()));
    assert!(f.evidence.join("\n").contains("explicitly denied by statement NoSecretsOutsideProd"), "{:?}", f.evidence);
    assert!(f.fix[0].starts_with("Narrow statement NoSecretsOutsideProd of the policy of vpce-sm"), "{:?}", f.fix);
}

#[test]
fn the_default_full_access_policy_and_no_policy_allow_everything() {
    let mut fx = with_role(Fx::endpoints_only()).stopped("TaskFailedToStart", LAYER_403);
    for id in ["vpce-s3", "vpce-sm", "vpce-api", "vpce-dkr", "vpce-logs"] {
        policy_of(&mut fx, id, json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}));
    }
    assert!(matches!(check(&fx.ev()), Verdict::Pass(_)), "{:?}", check(&fx.ev()));
    let fx = with_role(Fx::endpoints_only());
    match check(&fx.ev()) {
        Verdict::Pass(d) => assert!(d.contains("has no endpoint policy: full access"), "{d}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_policy_that_cannot_be_read_is_a_gap() {
    let mut fx = with_role(Fx::endpoints_only());
    policy_of(&mut fx, "vpce-logs", json!({"Version": "2012-10-17"}));
    match check(&fx.ev()) {
        Verdict::Inconclusive(d) => assert!(d.contains("the policy of vpce-logs could not be read"), "{d}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn endpoints_off_the_path_do_not_count() {
    // A NAT gateway serves every destination: the endpoints' policies are not on the path.
    let mut fx = with_role(Fx::private_nat()).stopped("TaskFailedToStart", LAYER_403);
    let mut ep = s3_gateway("vpce-elsewhere", &["rtb-other"]);
    ep.policy = Some(only_our_buckets());
    fx.endpoints.push(ep);
    assert!(matches!(check(&fx.ev()), Verdict::Skipped(_)), "{:?}", check(&fx.ev()));
}

#[test]
fn endpoints_that_could_not_be_read_leave_only_the_text() {
    let fx = with_role(Fx::endpoints_only()).stopped("TaskFailedToStart", &sm_refused());
    let mut ev = fx.ev();
    ev.network.vpc_endpoints = Fact::Denied {
        action: "ec2:DescribeVpcEndpoints".into(),
        error: "UnauthorizedOperation".into(),
    };
    let f = found(check(&ev));
    assert_eq!(f.strength, Strength::Direct);
    assert!(f.evidence.iter().any(|e| e.contains("ec2:DescribeVpcEndpoints")), "{:?}", f.evidence);
    assert!(f.fix[0].contains(&role()), "{:?}", f.fix);
    // Without AWS's words, nothing is known.
    let mut ev = with_role(Fx::endpoints_only()).ev();
    ev.network.vpc_endpoints = Fact::Denied {
        action: "ec2:DescribeVpcEndpoints".into(),
        error: "UnauthorizedOperation".into(),
    };
    assert!(matches!(check(&ev), Verdict::Inconclusive(_) | Verdict::Skipped(_)), "{:?}", check(&ev));
}
