//! End-to-end: environment files in S3, through the real binary against the
//! AWS lab: an object missing behind S3's 403, a bucket that does not exist,
//! a file in place on a task that failed for another reason (the check rules
//! the file in place and convicts nothing), and a caller refused
//! `s3:ListBucket` (a gap: the report does not guess).

mod common;

use common::{
    check_detail, check_status, diagnose_failed, documented_without, top_code, top_evidence,
    top_lines, Lab,
};

fn codes(report: &serde_json::Value) -> Vec<&str> {
    report["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect()
}

#[test]
fn an_object_missing_behind_a_403() {
    let (lab, report) = diagnose_failed("envfile-object-missing", "env-file-failed", "envfiles");
    let candidate = &report["candidates"][0];
    let title = candidate["title"].as_str().unwrap();
    assert!(
        title.contains(&format!(
            "bucket `{}` has no object `{}`",
            lab.get("bucket"),
            lab.get("key")
        )),
        "{title}"
    );
    assert!(
        candidate["confidence"].as_f64().unwrap() > 0.8,
        "{candidate:#}"
    );
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains("StatusCode: 403, api error Forbidden"),
        "{evidence}"
    );
    assert!(
        evidence.contains("s3:ListBucket: no object has key prod/web.env"),
        "{evidence}"
    );
    let fix = top_lines(&report, "fix");
    assert!(
        fix.contains("aws s3 cp web.env s3://app-config/prod/web.env"),
        "{fix}"
    );
    // The role's own policies allow the file: not its refusal, and it says so.
    assert!(
        !codes(&report).contains(&"execution-role-permissions"),
        "{report:#}"
    );
    assert_eq!(
        check_status(&report, "execution-role-permissions"),
        "pass",
        "{report:#}"
    );
    common::assert_contract(&report);
}

#[test]
fn a_bucket_that_does_not_exist() {
    let lab = Lab::start("envfile-bucket-missing");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_code(&report), "env-file-failed", "{report:#}");
    let title = report["candidates"][0]["title"].as_str().unwrap();
    assert!(
        title.contains(&format!("bucket `{}`", lab.get("missing_bucket")))
            && title.contains("does not exist"),
        "{title}"
    );
    let evidence = top_evidence(&report);
    assert!(evidence.contains("NoSuchBucket"), "{evidence}");
    assert!(!evidence.contains("has no object"), "{evidence}");
    common::assert_contract(&report);
}

#[test]
fn a_file_in_place_on_a_task_that_failed_to_pull() {
    let lab = Lab::start("envfile-fine-image-missing");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_code(&report), "image-not-found", "{report:#}");
    assert!(!codes(&report).contains(&"env-file-failed"), "{report:#}");
    assert_eq!(
        check_status(&report, "env-file-failed"),
        "pass",
        "{report:#}"
    );
    let detail = check_detail(&report, "env-file-failed");
    assert!(
        detail.contains("object s3://app-config/prod/web.env exists")
            && detail.contains("bucket app-config is in the task's Region us-east-1"),
        "{detail}"
    );
    common::assert_contract(&report);
}

#[test]
fn the_documented_policy_reads_the_bucket_and_its_region() {
    for scenario in [
        "envfile-object-missing",
        "envfile-fine-image-missing",
        "envfile-bucket-policy-denies",
    ] {
        let (open_report, report) = common::open_and_documented(scenario);
        assert_eq!(
            report["candidates"], open_report["candidates"],
            "{scenario}"
        );
        assert_eq!(report["checks"], open_report["checks"], "{scenario}");
    }
}

#[test]
fn without_list_bucket_a_missing_object_is_a_gap_not_a_guess() {
    let lab = Lab::start_with_policy(
        "envfile-object-missing",
        &documented_without("s3:ListBucket"),
    );
    let (code, report) = lab.diagnose_json(&[]);
    let gaps: Vec<&str> = common::gaps_beyond_the_lab(&report)
        .iter()
        .filter_map(|g| g["action"].as_str())
        .collect();
    assert_eq!(gaps, ["s3:ListBucket"], "{report:#}");
    assert!(!codes(&report).contains(&"env-file-failed"), "{report:#}");
    assert_eq!(
        check_status(&report, "env-file-failed"),
        "inconclusive",
        "{report:#}"
    );
    let detail = check_detail(&report, "env-file-failed");
    assert!(detail.contains("s3:ListBucket was denied"), "{detail}");
    // A failed task never reads as healthy: unknown names what could not be decided.
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_code(&report), "unknown", "{report:#}");
}

#[test]
fn a_bucket_in_a_region_the_task_cannot_reach() {
    let lab = Lab::start("envfile-bucket-other-region");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    // One timeout, one direct finding: the network check's. The bucket's
    // Region corroborates it, below it.
    let ranked = codes(&report);
    assert_eq!(ranked.first(), Some(&"no-egress-route"), "{report:#}");
    let at = ranked
        .iter()
        .position(|c| *c == "env-file-failed")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert!(at > 0, "{report:#}");
    let env = &report["candidates"][at];
    assert!(
        env["confidence"].as_f64() < report["candidates"][0]["confidence"].as_f64(),
        "{report:#}"
    );
    let title = env["title"].as_str().unwrap();
    assert!(
        title.contains("is in eu-west-1") && title.contains("no path to S3 there"),
        "{title}"
    );
    let evidence = env["evidence"].to_string();
    assert!(
        evidence.contains("s3:GetBucketLocation: bucket app-config-eu is in eu-west-1"),
        "{evidence}"
    );
    assert!(
        evidence.contains("the network checks judge the path to S3"),
        "{evidence}"
    );
    // The network check names the same path and advises no endpoint in
    // another Region, which a VPC cannot have.
    let network_fix = top_lines(&report, "fix");
    assert!(
        network_fix.contains("s3.eu-west-1.amazonaws.com is in eu-west-1"),
        "{network_fix}"
    );
    assert!(
        !network_fix.contains("com.amazonaws.eu-west-1.s3"),
        "{network_fix}"
    );
    common::assert_contract(&report);
}

#[test]
fn a_bucket_policy_that_denies_the_execution_role() {
    let lab = Lab::start("envfile-bucket-policy-denies");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_code(&report), "env-file-failed", "{report:#}");
    let title = report["candidates"][0]["title"].as_str().unwrap();
    assert!(
        title.contains(
            "The policy of bucket `app-config` denies execution role `ecsTaskExecutionRole`"
        ),
        "{title}"
    );
    let evidence = top_evidence(&report);
    assert!(evidence.contains(lab.get("statement")), "{evidence}");
    assert!(
        evidence.contains("AccessDenied: Access Denied"),
        "{evidence}"
    );
    // The role's own policies allow the file: the two reports agree.
    assert!(
        !codes(&report).contains(&"execution-role-permissions"),
        "{report:#}"
    );
    assert_eq!(
        check_status(&report, "execution-role-permissions"),
        "pass",
        "{report:#}"
    );
    let fix = top_lines(&report, "fix");
    assert!(
        fix.contains("aws s3api get-bucket-policy --bucket app-config"),
        "{fix}"
    );
    common::assert_contract(&report);
}
