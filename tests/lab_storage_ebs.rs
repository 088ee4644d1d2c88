//! End-to-end: ECS-managed EBS volumes, through the real binary against the
//! AWS lab: an infrastructure role that does not trust ecs.amazonaws.com, a
//! KMS key that is disabled, and a sound volume on a task that failed for
//! another reason (the EBS check rules every fact out and convicts nothing).

mod common;

use common::{
    check_status, diagnose_failed, documented_without, top_code, top_evidence, top_lines, Lab,
};

#[test]
fn an_infrastructure_role_that_does_not_trust_ecs() {
    let (lab, report) = diagnose_failed(
        "ebs-infrastructure-role-untrusted",
        "ebs-volume-failed",
        "storage_ebs",
    );
    let candidate = &report["candidates"][0];
    assert!(
        candidate["title"]
            .as_str()
            .unwrap()
            .contains("does not trust ecs.amazonaws.com"),
        "{candidate:#}"
    );
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains("ECS was unable to assume the configured ECS Infrastructure Role"),
        "{evidence}"
    );
    assert!(
        evidence.contains(&format!("it trusts Service: {}", lab.get("trusted"))),
        "{evidence}"
    );
    let fix = top_lines(&report, "fix");
    assert!(
        fix.contains("update-assume-role-policy --role-name ecsInfrastructureRole")
            && fix.contains("ecs.amazonaws.com"),
        "{fix}"
    );
    assert!(!fix.contains("\"*\""), "{fix}");
}

#[test]
fn a_disabled_kms_key() {
    let (lab, report) = diagnose_failed("ebs-kms-key-disabled", "ebs-volume-failed", "storage_ebs");
    let title = report["candidates"][0]["title"].as_str().unwrap();
    assert!(
        title.contains(lab.get("key_id")) && title.contains("Disabled"),
        "{title}"
    );
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains("ECS failed to set up the EBS volume"),
        "{evidence}"
    );
    assert!(
        evidence.contains(
            "ruled out: infrastructure role ecsInfrastructureRole trusts ecs.amazonaws.com"
        ),
        "{evidence}"
    );
    let fix = top_lines(&report, "fix");
    assert!(
        fix.contains(&format!(
            "aws kms enable-key --key-id arn:aws:kms:us-east-1:123456789012:key/{}",
            lab.get("key_id")
        )),
        "{fix}"
    );
}

#[test]
fn a_sound_volume_on_a_task_that_failed_to_pull() {
    let lab = Lab::start("ebs-volume-fine-image-missing");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_code(&report), "image-not-found", "{report:#}");
    let codes: Vec<&str> = report["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(!codes.contains(&"ebs-volume-failed"), "{codes:?}");
    assert_eq!(
        check_status(&report, "ebs-volume-failed"),
        "pass",
        "{report:#}"
    );
    let detail = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "ebs-volume-failed")
        .unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.contains(&format!("snapshot {} exists", lab.get("snapshot_id")))
            && detail.contains("trusts ecs.amazonaws.com")
            && detail.contains("in the task's Availability Zone"),
        "{detail}"
    );
    common::assert_contract(&report);
}

#[test]
fn the_documented_policy_reads_the_key_the_role_and_the_snapshot() {
    for scenario in ["ebs-kms-key-disabled", "ebs-volume-fine-image-missing"] {
        let (open_report, report) = common::open_and_documented(scenario);
        assert_eq!(
            report["candidates"], open_report["candidates"],
            "{scenario}"
        );
        assert_eq!(report["checks"], open_report["checks"], "{scenario}");
    }
}

#[test]
fn without_describe_key_the_key_is_a_gap_and_the_status_reason_still_ranks() {
    let lab = Lab::start_with_policy(
        "ebs-kms-key-disabled",
        &documented_without("kms:DescribeKey"),
    );
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    let gaps: Vec<&str> = common::gaps_beyond_the_lab(&report)
        .iter()
        .filter_map(|g| g["action"].as_str())
        .collect();
    assert_eq!(gaps, ["kms:DescribeKey"], "{report:#}");
    assert_eq!(top_code(&report), "ebs-volume-failed", "{report:#}");
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains("ECS failed to set up the EBS volume")
            && evidence.contains("not checked: the KMS key: kms:DescribeKey was denied"),
        "{evidence}"
    );
    assert!(!evidence.contains("is Disabled"), "{evidence}");
}
