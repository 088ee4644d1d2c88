//! End-to-end: resource policies that refuse a task, through the real binary
//! against the AWS lab: a VPC endpoint's policy on the task's path (the S3
//! gateway endpoint without ECR's layer bucket, a Secrets Manager endpoint
//! without the execution role), and an ECR repository policy in another
//! account (readable and restrictive; unreadable, ranked on the stop text).

mod common;

use common::{snapshot_settings, top_code, top_evidence, Lab};
use serde_json::Value;

fn fixes(report: &Value) -> String {
    report["candidates"][0]["fix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn snapshot(name: &str, lab: &Lab) {
    snapshot_settings().bind(|| insta::assert_snapshot!(name, lab.diagnose_markdown()));
}

#[test]
fn s3_gateway_endpoint_policy_without_the_layer_bucket() {
    let lab = Lab::start("vpc-endpoint-policy-denied-s3");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(
        top_code(&report),
        "vpc-endpoint-policy-denied",
        "{report:#}"
    );
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains(lab.get("endpoint_id")) && evidence.contains("OnlyOurBuckets"),
        "{evidence}"
    );
    let fix = fixes(&report);
    assert!(
        fix.contains("arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*"),
        "{fix}"
    );
    assert!(!fix.contains("\"Resource\":\"*\""), "{fix}");
    common::assert_contract(&report);
    snapshot("policies_vpc_endpoint_policy_denied_s3", &lab);
}

#[test]
fn secrets_manager_endpoint_policy_without_the_role() {
    let lab = Lab::start("vpc-endpoint-policy-denied-secrets");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(
        top_code(&report),
        "vpc-endpoint-policy-denied",
        "{report:#}"
    );
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains(lab.get("endpoint_id")) && evidence.contains("OnlyDeployRole"),
        "{evidence}"
    );
    let fix = fixes(&report);
    assert!(
        fix.contains("role/ecsTaskExecutionRole") && fix.contains(lab.get("secret_arn")),
        "{fix}"
    );
    let codes: Vec<&str> = report["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(
        !codes.contains(&"execution-role-permissions"),
        "the role's own policies allow it: {codes:?}"
    );
    common::assert_contract(&report);
    snapshot("policies_vpc_endpoint_policy_denied_secrets", &lab);
}

#[test]
fn cross_account_repository_policy_without_batch_get_image() {
    let lab = Lab::start("ecr-repository-policy-denied");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(
        top_code(&report),
        "ecr-repository-policy-denied",
        "{report:#}"
    );
    let title = report["candidates"][0]["title"].as_str().unwrap();
    assert!(
        title.contains("ecr:BatchGetImage refused") && title.contains("210987654321"),
        "{title}"
    );
    let fix = fixes(&report);
    assert!(
        fix.contains(lab.get("role_arn")) && fix.contains("\"Action\":[\"ecr:BatchGetImage\"]"),
        "{fix}"
    );
    let codes: Vec<&str> = report["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(
        !codes.contains(&"image-not-found") && !codes.contains(&"execution-role-permissions"),
        "{codes:?}"
    );
    common::assert_contract(&report);
    snapshot("policies_ecr_repository_policy_denied", &lab);
}

#[test]
fn cross_account_repository_policy_that_cannot_be_read() {
    let lab = Lab::start("ecr-repository-policy-unreadable");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(
        top_code(&report),
        "ecr-repository-policy-denied",
        "{report:#}"
    );
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains("could not be read") && evidence.contains("AccessDeniedException"),
        "{evidence}"
    );
    let gaps = report["gaps"].to_string();
    assert!(
        gaps.contains("ecr:DescribeImages") || gaps.contains("ecr:GetRepositoryPolicy"),
        "{gaps}"
    );
    let codes: Vec<&str> = report["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(
        !codes.contains(&"image-not-found"),
        "a refusal is never a missing image: {codes:?}"
    );
    assert!(fixes(&report).contains(lab.get("role_arn")), "{report:#}");
    common::assert_contract(&report);
    snapshot("policies_ecr_repository_policy_unreadable", &lab);
}
