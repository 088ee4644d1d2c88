//! End-to-end: KMS keys, through the real binary against the AWS lab: a
//! secret's customer managed key whose key policy does not let the execution
//! role decrypt (kms-key-policy-denied), the same with a key policy that
//! delegates to the account (no conviction), the cluster's Fargate ephemeral
//! storage key disabled (ephemeral-storage-key-failed), and a caller refused
//! kms:GetKeyPolicy (a gap, never a pass).

mod common;

use common::{
    check_detail, check_status, diagnose_failed, documented_without, top_code, top_evidence,
    top_lines, Lab,
};

#[test]
fn a_key_policy_that_names_another_principal_refuses_the_role() {
    let (lab, report) = diagnose_failed("kms-key-policy-denied", "kms-key-policy-denied", "kms");
    let candidate = &report["candidates"][0];
    assert_eq!(candidate["family"], "image", "{candidate:#}");
    let title = candidate["title"].as_str().unwrap();
    assert!(
        title.contains(lab.get("key_arn"))
            && title.contains("does not let `ecsTaskExecutionRole` decrypt"),
        "{title}"
    );
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains("Access to KMS is not allowed"),
        "{evidence}"
    );
    assert!(
        evidence.contains("the role's own policies allow it, but no statement of the key policy"),
        "{evidence}"
    );
    let fix = top_lines(&report, "fix");
    assert!(
        fix.contains(lab.get("role_arn"))
            && fix.contains("\"Action\":\"kms:Decrypt\"")
            && fix.contains("secretsmanager.us-east-1.amazonaws.com")
            && fix.contains(&format!(
                "aws kms put-key-policy --key-id {}",
                lab.get("key_arn")
            )),
        "{fix}"
    );
    assert!(
        !fix.contains("kms:*") && !fix.contains("\"Principal\":\"*\""),
        "{fix}"
    );
    // The role's own check does not claim the same refusal.
    let codes: Vec<&str> = report["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(!codes.contains(&"execution-role-permissions"), "{codes:?}");
    assert_eq!(
        check_status(&report, "execution-role-permissions"),
        "pass",
        "{report:#}"
    );
    common::assert_contract(&report);
}

#[test]
fn a_key_policy_delegating_to_the_account_convicts_nothing() {
    let lab = Lab::start("kms-key-policy-delegated-image-missing");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_code(&report), "image-not-found", "{report:#}");
    assert_eq!(
        check_status(&report, "kms-key-policy-denied"),
        "pass",
        "{report:#}"
    );
    let detail = check_detail(&report, "kms-key-policy-denied");
    assert!(
        detail.contains(lab.get("key_arn")) && detail.contains("delegates to the account"),
        "{detail}"
    );
    common::assert_contract(&report);
}

#[test]
fn a_disabled_fargate_ephemeral_storage_key() {
    let (lab, report) = diagnose_failed(
        "ephemeral-storage-key-disabled",
        "ephemeral-storage-key-failed",
        "kms",
    );
    let candidate = &report["candidates"][0];
    assert_eq!(candidate["family"], "storage", "{candidate:#}");
    let title = candidate["title"].as_str().unwrap();
    assert!(
        title.contains(lab.get("key_arn")) && title.contains("is Disabled"),
        "{title}"
    );
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains("fargateEphemeralStorageKmsKeyId")
            && evidence.contains("no published stop reason names this failure"),
        "{evidence}"
    );
    let fix = top_lines(&report, "fix");
    assert!(
        fix.contains(&format!(
            "aws kms enable-key --key-id {}",
            lab.get("key_arn")
        )),
        "{fix}"
    );
    common::assert_contract(&report);
}

#[test]
fn the_documented_policy_reads_the_keys_and_their_policies() {
    for scenario in ["kms-key-policy-denied", "ephemeral-storage-key-disabled"] {
        let (open_report, report) = common::open_and_documented(scenario);
        assert_eq!(top_code(&report), top_code(&open_report), "{report:#}");
    }
}

#[test]
fn without_get_key_policy_the_gap_is_named_and_nothing_is_acquitted() {
    // The refusal in the stop reason still convicts, and says the policy was not read.
    let lab = Lab::start_with_policy(
        "kms-key-policy-denied",
        &documented_without("kms:GetKeyPolicy"),
    );
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_code(&report), "kms-key-policy-denied", "{report:#}");
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains(&format!(
            "the key policy of {} could not be read: kms:GetKeyPolicy was denied",
            lab.get("key_arn")
        )),
        "{evidence}"
    );
    let gaps = common::gaps_beyond_the_lab(&report);
    assert!(
        gaps.iter().any(|g| g["action"] == "kms:GetKeyPolicy"),
        "{gaps:#?}"
    );

    // Without a refusal in the stop reason, the key check stays undecided: never a pass.
    let lab = Lab::start_with_policy(
        "kms-key-policy-delegated-image-missing",
        &documented_without("kms:GetKeyPolicy"),
    );
    let (_, report) = lab.diagnose_json(&[]);
    assert_eq!(top_code(&report), "image-not-found", "{report:#}");
    assert_eq!(
        check_status(&report, "kms-key-policy-denied"),
        "inconclusive",
        "{report:#}"
    );
    assert!(
        check_detail(&report, "kms-key-policy-denied").contains("kms:GetKeyPolicy was denied"),
        "{report:#}"
    );

    // The Fargate storage key: its policy unread is a gap beside its state.
    let lab = Lab::start_with_policy(
        "ephemeral-storage-key-disabled",
        &documented_without("kms:GetKeyPolicy"),
    );
    let (_, report) = lab.diagnose_json(&[]);
    assert_eq!(
        top_code(&report),
        "ephemeral-storage-key-failed",
        "{report:#}"
    );
    assert!(
        top_evidence(&report).contains("not read: the key policy: kms:GetKeyPolicy was denied"),
        "{report:#}"
    );
}

#[test]
fn a_service_sweep_groups_the_tasks_the_disabled_storage_key_stopped() {
    let lab = Lab::start("ephemeral-storage-key-disabled-service");
    let args = lab.question();
    let (code, report) = lab.json_run(&args);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["kind"], "service");
    let groups: Vec<(String, u64)> = report["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| {
            (
                g["cause"].as_str().unwrap_or_default().to_string(),
                g["count"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        groups,
        [("ephemeral-storage-key-failed".to_string(), 2)],
        "{report:#}"
    );
    let headline = report["headline"].as_str().unwrap();
    assert!(
        headline.contains("ephemeral-storage-key-failed"),
        "{headline}"
    );
    assert!(headline.contains(lab.get("key_arn")), "{headline}");
}
